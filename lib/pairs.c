/* SPDX-License-Identifier: MIT */
/* pairs: given (user, item) pairs by raw ID, scored one by one or ranked per user's list. */
#include "pairs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "emit.h"
#include "num.h"
#include "xmem.h"
#include "zio.h"

/* Pairs read before a chunk is scored and written (candidates: at the first list
 * boundary after it): the memory bound. */
#define CHUNK 16384

enum { P_OK, P_NOUSER, P_NOITEM };

struct pair {
    size_t uoff, ioff; /* the unescaped IDs, in the chunk's arena */
    size_t ulen, ilen;
    uint32_t item;
    int status;
};

/* One user's list: pairs first .. first + n of the chunk. */
struct group {
    size_t first, n;
    const float *x;
    float bias;
    const uint32_t *seen; /* sorted */
    uint64_t nseen;
    size_t cnt;      /* answers, in the result slots of its pairs */
    size_t filtered; /* known items left out: seen, masked or repeated */
    int ok;          /* the user has factors */
};

struct chunk {
    char *arena;
    size_t used, cap;
    struct pair *p;
    size_t n, capn;
    struct group *g;
    size_t ng, capg;
    uint32_t *ridx; /* results, one slot per pair */
    float *rval;
};

static void
chunk_release(struct chunk *ch)
{
    free(ch->arena);
    free(ch->p);
    free(ch->g);
    free(ch->ridx);
    free(ch->rval);
    memset(ch, 0, sizeof *ch);
}

/* Room for one more pair (and group) and need more arena bytes. */
static int
chunk_reserve(struct chunk *ch, size_t need)
{
    if (ch->used + need > ch->cap) {
        size_t c = ch->cap ? ch->cap : 1 << 16;
        while (c < ch->used + need)
            c *= 2;
        char *a = realloc(ch->arena, c);
        if (!a)
            return ALS_ENOMEM;
        ch->arena = a;
        ch->cap = c;
    }
    if (ch->n == ch->capn) {
        size_t c = ch->capn ? ch->capn * 2 : CHUNK;
        struct pair *p = xmem_alloc_array(c, sizeof *p);
        uint32_t *ri = xmem_alloc_array(c, sizeof *ri);
        float *rv = xmem_alloc_array(c, sizeof *rv);
        if (!p || !ri || !rv) {
            free(p);
            free(ri);
            free(rv);
            return ALS_ENOMEM;
        }
        if (ch->n)
            memcpy(p, ch->p, ch->n * sizeof *p);
        free(ch->p);
        free(ch->ridx);
        free(ch->rval);
        ch->p = p;
        ch->ridx = ri;
        ch->rval = rv;
        ch->capn = c;
    }
    if (ch->ng == ch->capg) {
        size_t c = ch->capg ? ch->capg * 2 : 1024;
        struct group *g = realloc(ch->g, c * sizeof *g);
        if (!g)
            return ALS_ENOMEM;
        ch->g = g;
        ch->capg = c;
    }
    return 0;
}

static double
shown(const struct pairs_ctx *c, float v)
{
    double x = (double)v;
    if (!c->clip)
        return x;
    return x < c->lo ? c->lo : x > c->hi ? c->hi : x;
}

static void
emit_item(const struct pairs_ctx *c, struct emit_buf *b, uint32_t item, const char *raw,
          size_t len)
{
    if (c->json) {
        emit_str(b, "\"item\":");
        emit_json_string(b, raw, len);
        if (c->names) {
            size_t nl;
            const char *nm = names_get(c->names, item, &nl);
            emit_str(b, ",\"name\":");
            emit_json_string(b, nm, nl);
        }
        return;
    }
    emit_tsv_field(b, raw, len);
}

static void
emit_name_column(const struct pairs_ctx *c, struct emit_buf *b, uint32_t item)
{
    if (!c->names || c->json)
        return;
    size_t nl;
    const char *nm = names_get(c->names, item, &nl);
    emit_char(b, '\t');
    emit_tsv_field(b, nm, nl);
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

struct ranked {
    float v;
    uint32_t i;
};

/* Score desc, index asc: rec_block's order (NaN last). */
static int
cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    int xn = x->v != x->v, yn = y->v != y->v;
    if (xn != yn)
        return xn - yn;
    if (!xn && x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Rank one list into the result slots of its pairs; 0 or ALS_ENOMEM. */
static int
rank_group(const struct pairs_ctx *c, struct chunk *ch, struct group *g)
{
    size_t n = 0, known = 0;
    uint32_t *it = xmem_alloc_array(g->n + 1, sizeof *it);
    struct rec_query *q = xmem_alloc_array(g->n + 1, sizeof *q);
    float *v = xmem_alloc_array(g->n + 1, sizeof *v);
    struct ranked *r = xmem_alloc_array(g->n + 1, sizeof *r);
    int rc = ALS_ENOMEM;
    if (!it || !q || !v || !r)
        goto out;
    for (size_t t = 0; t < g->n; t++) {
        const struct pair *p = &ch->p[g->first + t];
        if (p->status != P_OK)
            continue;
        known++;
        if ((c->mask && c->mask[p->item]) || num_sorted_has(g->seen, g->nseen, p->item))
            continue;
        it[n++] = p->item;
    }
    qsort(it, n, sizeof *it, cmp_u32);
    size_t w = 0;
    for (size_t t = 0; t < n; t++)
        if (!w || it[w - 1] != it[t])
            it[w++] = it[t];
    n = w;
    for (size_t t = 0; t < n; t++)
        q[t] = (struct rec_query){ .x = g->x, .bias = g->bias };
    rec_score_pairs(c->rec, q, it, n, v);
    for (size_t t = 0; t < n; t++)
        r[t] = (struct ranked){ v[t], it[t] };
    qsort(r, n, sizeof *r, cmp_ranked);
    g->cnt = n < c->k ? n : c->k;
    g->filtered = known - n;
    for (size_t t = 0; t < g->cnt; t++) {
        ch->ridx[g->first + t] = r[t].i;
        ch->rval[g->first + t] = r[t].v;
    }
    rc = 0;
out:
    free(it);
    free(q);
    free(v);
    free(r);
    return rc;
}

/* Score (or rank) the chunk in parallel, write it in input order, and empty it. */
static int
flush_chunk(const struct pairs_ctx *c, struct chunk *ch, struct zio_out *o,
            struct pairs_stats *st, struct diag *d)
{
    int oom = 0;
    unsigned nthreads = c->threads ? c->threads : 1;
    if (c->mode == PAIRS_SCORE) {
        /* Blocks of pairs, each one rec_score_pairs call over its known pairs. */
        enum { B = 512 };
        size_t nb = (ch->n + B - 1) / B;
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 4)
        for (size_t b = 0; b < nb; b++) {
            struct rec_query q[B];
            uint32_t it[B];
            float v[B];
            size_t pos[B], m = 0, end = (b + 1) * B < ch->n ? (b + 1) * B : ch->n;
            for (size_t t = b * B; t < end; t++) {
                const struct pair *p = &ch->p[t];
                if (p->status != P_OK)
                    continue;
                const struct group *g = &ch->g[ch->ridx[t]];
                q[m] = (struct rec_query){ .x = g->x, .bias = g->bias };
                it[m] = p->item;
                pos[m++] = t;
            }
            rec_score_pairs(c->rec, q, it, m, v);
            for (size_t t = 0; t < m; t++)
                ch->rval[pos[t]] = v[t];
        }
    } else {
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1)
        for (size_t g = 0; g < ch->ng; g++)
            if (ch->g[g].ok && rank_group(c, ch, &ch->g[g]) < 0) {
#pragma omp atomic write
                oom = 1;
            }
    }
    if (oom)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    struct emit_buf b;
    emit_init(&b);
    int rc = 0;
    for (size_t gi = 0; gi < ch->ng; gi++) {
        const struct group *g = &ch->g[gi];
        for (size_t t = 0; t < g->n; t++) {
            const struct pair *p = &ch->p[g->first + t];
            st->unknown_user += p->status == P_NOUSER;
            st->unknown_item += p->status == P_NOITEM;
        }
        if (c->mode == PAIRS_SCORE) {
            for (size_t t = 0; t < g->n; t++) {
                const struct pair *p = &ch->p[g->first + t];
                if (p->status != P_OK)
                    continue;
                st->written++;
                const char *u = ch->arena + p->uoff, *i = ch->arena + p->ioff;
                if (c->json) {
                    emit_str(&b, "{\"user\":");
                    emit_json_string(&b, u, p->ulen);
                    emit_char(&b, ',');
                    emit_item(c, &b, p->item, i, p->ilen);
                    emit_str(&b, ",\"score\":");
                    emit_json_number(&b, shown(c, ch->rval[g->first + t]));
                    emit_str(&b, "}\n");
                } else {
                    emit_tsv_field(&b, u, p->ulen);
                    emit_char(&b, '\t');
                    emit_item(c, &b, p->item, i, p->ilen);
                    emit_char(&b, '\t');
                    emit_tsv_number(&b, shown(c, ch->rval[g->first + t]));
                    emit_name_column(c, &b, p->item);
                    emit_char(&b, '\n');
                }
            }
        } else if (g->ok) {
            const struct pair *p0 = &ch->p[g->first];
            const char *u = ch->arena + p0->uoff;
            st->written++;
            st->filtered += g->filtered;
            if (c->json) {
                emit_str(&b, "{\"user\":");
                emit_json_string(&b, u, p0->ulen);
                emit_str(&b, ",\"items\":[");
            }
            for (size_t r = 0; r < g->cnt; r++) {
                uint32_t item = ch->ridx[g->first + r];
                size_t len;
                const char *id = vocab_get(c->items, item, &len);
                if (!id) {
                    rc = diag_set(d, ALS_EFORMAT, "'%s': damaged vocabulary at item %" PRIu32,
                                  c->vocab_path, item);
                    goto out;
                }
                if (c->json) {
                    emit_str(&b, r ? ",{" : "{");
                    emit_item(c, &b, item, id, len);
                    emit_str(&b, ",\"score\":");
                    emit_json_number(&b, shown(c, ch->rval[g->first + r]));
                    emit_str(&b, ",\"rank\":");
                    emit_u64(&b, r + 1);
                    emit_char(&b, '}');
                    continue;
                }
                emit_tsv_field(&b, u, p0->ulen);
                emit_char(&b, '\t');
                emit_tsv_field(&b, id, len);
                emit_char(&b, '\t');
                emit_tsv_number(&b, shown(c, ch->rval[g->first + r]));
                emit_char(&b, '\t');
                emit_u64(&b, r + 1);
                emit_name_column(c, &b, item);
                emit_char(&b, '\n');
            }
            if (c->json)
                emit_str(&b, "]}\n");
        }
    }
    rc = emit_flush(&b, o, d);
out:
    emit_release(&b);
    ch->n = ch->ng = ch->used = 0;
    return rc;
}

/* Start a group for the user of pair p (the last one added). */
static int
open_group(const struct pairs_ctx *c, struct chunk *ch, struct diag *d)
{
    const struct pair *p = &ch->p[ch->n - 1];
    struct group *g = &ch->g[ch->ng++];
    memset(g, 0, sizeof *g);
    g->first = ch->n - 1;
    uint32_t u;
    int found = vocab_find(c->users, ch->arena + p->uoff, p->ulen, &u);
    if (found < 0)
        return diag_set(d, ALS_EFORMAT, "'%s': damaged vocabulary index", c->vocab_path);
    if (!found || !model_has_factors(c->m, 0, u))
        return 0;
    g->ok = 1;
    g->x = c->m->U + (size_t)u * c->m->k;
    g->bias = c->m->biases ? c->m->ub[u] : 0.0f;
    const float *sv;
    if (c->mode == PAIRS_CANDIDATES && c->seen &&
        csr_row(c->seen, u, &g->seen, &sv, &g->nseen) < 0)
        return diag_set(d, ALS_EFORMAT, "damaged CSR row %" PRIu32, u);
    return 0;
}

int
pairs_run(const struct pairs_ctx *c, const char *path, struct zio_out *o,
          struct pairs_stats *st, struct diag *d)
{
    struct zio_in *in = NULL;
    struct chunk ch = { 0 };
    int rc;
    if ((rc = zio_in_open(&in, path, d)) < 0)
        return rc;
    const char *line;
    size_t len;
    while ((rc = zio_in_getline(in, &line, &len, d)) > 0) {
        if (len && line[len - 1] == '\r')
            len--;
        if (!len)
            continue;
        const char *tab = memchr(line, '\t', len);
        if (!tab) {
            rc = diag_set(d, ALS_EFORMAT, "%s:%" PRIu64 ": expected 'user<TAB>item'",
                          zio_in_name(in), zio_in_lineno(in));
            goto out;
        }
        const char *is = tab + 1, *end = line + len;
        const char *tab2 = memchr(is, '\t', (size_t)(end - is));
        size_t ul = (size_t)(tab - line), il = (size_t)((tab2 ? tab2 : end) - is);
        /* A list ends where the user changes; flush only there, so lists stay whole. */
        if (ch.n >= CHUNK && (c->mode == PAIRS_SCORE || ch.n > 0)) {
            int boundary = c->mode == PAIRS_SCORE;
            if (!boundary) {
                const struct pair *last = &ch.p[ch.n - 1];
                char *tmp = malloc(ul + 1);
                size_t tl;
                if (!tmp) {
                    rc = diag_set(d, ALS_ENOMEM, "out of memory");
                    goto out;
                }
                boundary = csv_unescape_tsv(line, ul, tmp, &tl) < 0 || tl != last->ulen ||
                           memcmp(tmp, ch.arena + last->uoff, tl) != 0;
                free(tmp);
            }
            if (boundary && (rc = flush_chunk(c, &ch, o, st, d)) < 0)
                goto out;
        }
        if (chunk_reserve(&ch, ul + il) < 0) {
            rc = diag_set(d, ALS_ENOMEM, "out of memory");
            goto out;
        }
        struct pair *p = &ch.p[ch.n++];
        memset(p, 0, sizeof *p);
        p->uoff = ch.used;
        if (csv_unescape_tsv(line, ul, ch.arena + ch.used, &p->ulen) < 0 ||
            csv_unescape_tsv(is, il, ch.arena + ch.used + p->ulen, &p->ilen) < 0) {
            rc = diag_set(d, ALS_EFORMAT, "%s:%" PRIu64 ": bad escape: a backslash not "
                          "starting \\t \\n \\r \\\\ or \\xHH", zio_in_name(in),
                          zio_in_lineno(in));
            goto out;
        }
        p->ioff = ch.used + p->ulen;
        ch.used += p->ulen + p->ilen;
        st->pairs++;
        /* The score mode takes every pair as its own list: the user is looked up per pair
         * only when it differs from the previous one. */
        const struct pair *prev = ch.n > 1 ? &ch.p[ch.n - 2] : NULL;
        int same = prev && prev->ulen == p->ulen &&
                   memcmp(ch.arena + prev->uoff, ch.arena + p->uoff, p->ulen) == 0;
        if (!same && (rc = open_group(c, &ch, d)) < 0)
            goto out;
        struct group *g = &ch.g[ch.ng - 1];
        g->n++;
        /* The score mode finds a pair's group through its result slot. */
        ch.ridx[ch.n - 1] = (uint32_t)(ch.ng - 1);
        uint32_t item;
        int found = vocab_find(c->items, ch.arena + p->ioff, p->ilen, &item);
        if (found < 0) {
            rc = diag_set(d, ALS_EFORMAT, "'%s': damaged vocabulary index", c->vocab_path);
            goto out;
        }
        p->item = item;
        p->status = !g->ok ? P_NOUSER : !found || item >= c->m->items ? P_NOITEM : P_OK;
    }
    if (rc < 0)
        goto out;
    rc = ch.n ? flush_chunk(c, &ch, o, st, d) : 0;
out:
    chunk_release(&ch);
    zio_in_close(in);
    return rc;
}
