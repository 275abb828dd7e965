/* SPDX-License-Identifier: MIT */
/* serve: recommendation queries by raw ID, resolved, filtered, scored and written in order. */
#include "serve.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "als.h"
#include "csr.h"
#include "csv.h"
#include "emit.h"
#include "mapper.h"
#include "model.h"
#include "names.h"
#include "num.h"
#include "progress.h"
#include "recommend.h"
#include "vocabdir.h"
#include "xmem.h"
#include "zio.h"

enum { SRC_MODEL, SRC_FOLDIN, SRC_POPULAR, SRC_NONE };
static const char *const src_name[] = { "model", "foldin", "popular", "none" };

/* Queries resolved before a chunk is scored and written: the memory bound. */
#define CHUNK 4096

/* Everything a chunk of queries needs, read-only while threads work on it. */
struct serve {
    struct serve_opts o;
    struct model *m;
    struct vocabdir vd;
    struct csr *hist;    /* csr, or NULL */
    struct csr *fresh;   /* history: rows = users incl. new ones, or NULL */
    unsigned char *mask; /* items excluded by exclude/only, or NULL */
    uint32_t *popular;   /* item order for SERVE_COLD_POPULAR */
    struct rec rec;
    struct als_foldin fold;
    struct names names; /* item_names, or empty */
};

/* One query: a raw ID, what it resolved to, and its answer. */
struct job {
    char *raw;
    size_t len;
    uint64_t idx;
    int src;
    float *x; /* factors: the model's row, or this job's fold-in */
    float bias;
    uint32_t *seen; /* sorted items to exclude (merged csr and history rows) */
    size_t nseen;
    int own_x, own_seen;
    int swapped; /* unknown, but an ID of the other vocabulary */
    uint32_t *idx_out;
    float *val_out;
    size_t cnt;
};

/* ---- output ---- */

/* A score as shown: an explicit model's predicted rating clipped to the training range, as
 * als-eval clips it (popularity counts and cosines are shown as they are). */
static double
shown(const struct serve *s, const struct job *j, float v)
{
    const struct model_params *p = &s->m->params;
    double x = (double)v;
    if (s->m->implicit || s->o.similar || !(p->has & MODEL_HAS_RANGE) ||
        j->src > SRC_FOLDIN)
        return x;
    return x < p->rating_min ? p->rating_min : x > p->rating_max ? p->rating_max : x;
}

static void
format_job(const struct serve *s, const struct job *j, struct emit_buf *b)
{
    const struct vocab *iv = &s->vd.items;
    if (s->o.format == SERVE_JSON) {
        emit_str(b, s->o.similar ? "{\"item\":" : "{\"user\":");
        emit_json_string(b, j->raw, j->len);
        if (s->o.explain) {
            emit_str(b, ",\"source\":\"");
            emit_str(b, src_name[j->src]);
            emit_char(b, '"');
        }
        emit_str(b, ",\"items\":[");
        for (size_t r = 0; r < j->cnt; r++) {
            size_t len;
            const char *id = vocab_get(iv, j->idx_out[r], &len);
            emit_str(b, r ? ",{\"item\":" : "{\"item\":");
            emit_json_string(b, id ? id : "", id ? len : 0);
            if (s->o.item_names) {
                size_t nl;
                const char *nm = names_get(&s->names, j->idx_out[r], &nl);
                emit_str(b, ",\"name\":");
                emit_json_string(b, nm, nl);
            }
            emit_str(b, ",\"score\":");
            emit_json_number(b, shown(s, j, j->val_out[r]));
            emit_str(b, ",\"rank\":");
            emit_u64(b, r + 1);
            emit_char(b, '}');
        }
        emit_str(b, "]}\n");
        return;
    }
    for (size_t r = 0; r < j->cnt; r++) {
        size_t len;
        const char *id = vocab_get(iv, j->idx_out[r], &len);
        emit_tsv_field(b, j->raw, j->len);
        emit_char(b, '\t');
        emit_tsv_field(b, id ? id : "", id ? len : 0);
        emit_char(b, '\t');
        emit_tsv_number(b, shown(s, j, j->val_out[r]));
        emit_char(b, '\t');
        emit_u64(b, r + 1);
        if (s->o.explain) {
            emit_char(b, '\t');
            emit_str(b, src_name[j->src]);
        }
        if (s->o.item_names) {
            size_t nl;
            const char *nm = names_get(&s->names, j->idx_out[r], &nl);
            emit_char(b, '\t');
            emit_tsv_field(b, nm, nl);
        }
        emit_char(b, '\n');
    }
}

/* ---- resolving queries ---- */

/* Merge two sorted lists (either may be empty) into a new sorted, distinct one, or NULL
 * when out of memory. */
static uint32_t *
merge_sorted(const uint32_t *a, uint64_t na, const uint32_t *b, uint64_t nb, size_t *n)
{
    uint32_t *o = xmem_alloc_array((size_t)(na + nb) + 1, sizeof *o);
    if (!o)
        return NULL;
    uint64_t i = 0, j = 0;
    size_t w = 0;
    while (i < na || j < nb) {
        uint32_t v = j >= nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
        if (i < na && a[i] == v)
            i++;
        if (j < nb && b[j] == v)
            j++;
        o[w++] = v;
    }
    *n = w;
    return o;
}

/* Decide where the answer for j comes from, and gather what it needs. */
static int
resolve(const struct serve *s, struct job *j, int by_index, struct diag *d)
{
    const struct serve_opts *o = &s->o;
    uint32_t k = s->m->k;
    j->src = SRC_NONE;
    uint32_t idx = (uint32_t)j->idx;
    const struct vocab *v = o->similar ? &s->vd.items : &s->vd.users;
    int found = by_index ? 1 : vocab_find(v, j->raw, j->len, &idx); /* all knows it */
    if (found < 0)
        return diag_set(d, ALS_EFORMAT, "'%s': damaged vocabulary index", o->vocab);
    if (!found) {
        /* An item ID where a user ID belongs (or the reverse for similar) is a column
         * mix-up, worth a hint rather than a plain "unknown". */
        const struct vocab *other = o->similar ? &s->vd.users : &s->vd.items;
        uint32_t oi;
        j->swapped = vocab_find(other, j->raw, j->len, &oi) > 0;
    }
    if (o->similar) {
        if (found && model_has_factors(s->m, 1, idx)) {
            j->idx = idx;
            j->src = SRC_MODEL;
            j->x = s->m->V + (size_t)idx * k;
            j->seen = malloc(sizeof *j->seen);
            if (!j->seen)
                return diag_set(d, ALS_ENOMEM, "out of memory");
            j->seen[0] = idx;
            j->nseen = 1;
            j->own_seen = 1;
        }
        return 0;
    }
    if (!found)
        return 0;
    j->idx = idx;
    const uint32_t *hi = NULL, *fi = NULL;
    const float *hv, *fv;
    uint64_t hn = 0, fn = 0;
    if (s->hist && csr_row(&s->hist->r, idx, &hi, &hv, &hn) < 0)
        return diag_set(d, ALS_EFORMAT, "'%s': damaged row %" PRIu32,
                        o->csr ? o->csr : "csr", idx);
    if (s->fresh && csr_row(&s->fresh->r, idx, &fi, &fv, &fn) < 0)
        return diag_set(d, ALS_EFORMAT, "--history: internal error at row %" PRIu32, idx);
    if (!o->include_seen) {
        j->seen = merge_sorted(hi, hn, fi, fn, &j->nseen);
        if (!j->seen)
            return diag_set(d, ALS_ENOMEM, "out of memory");
        j->own_seen = 1;
    }
    if (fn > 0) {
        /* The history has this user: fresh factors from that history. */
        j->x = calloc(k + 1, sizeof *j->x);
        if (!j->x)
            return diag_set(d, ALS_ENOMEM, "out of memory");
        j->own_x = 1;
        if (als_foldin_user(&s->fold, fi, fv, fn, j->x, &j->bias) == 0)
            j->src = SRC_FOLDIN;
        return 0;
    }
    if (model_has_factors(s->m, 0, idx)) {
        j->x = s->m->U + (size_t)idx * k;
        j->bias = s->m->biases ? s->m->ub[idx] : 0.0f;
        j->src = SRC_MODEL;
    }
    return 0;
}

/* The popularity list walks items out of index order: seen items are looked up, not
 * merged. */
static void
answer_popular(const struct serve *s, struct job *j)
{
    size_t w = 0;
    for (uint64_t r = 0; r < s->m->items && w < s->o.k; r++) {
        uint32_t i = s->popular[r];
        if (num_sorted_has(j->seen, j->nseen, i) || (s->mask && s->mask[i]))
            continue;
        j->idx_out[w] = i;
        j->val_out[w++] = (float)(s->hist->t.ptr[i + 1] - s->hist->t.ptr[i]);
    }
    j->cnt = w;
    j->src = SRC_POPULAR;
}

/* Free what j holds and zero it: releasing a released job does nothing. */
static void
job_release(struct job *j)
{
    if (j->own_x)
        free(j->x);
    if (j->own_seen)
        free(j->seen);
    free(j->raw);
    free(j->idx_out);
    free(j->val_out);
    memset(j, 0, sizeof *j);
}

/* Score the model and fold-in jobs through rec_block in groups of REC_BLOCK, the groups
 * in parallel: each job's answer depends on its own row only. */
static int
score_jobs(const struct serve *s, struct job *jobs, const size_t *scored, size_t ns,
           struct diag *d)
{
    size_t nblocks = (ns + REC_BLOCK - 1) / REC_BLOCK;
    unsigned nthreads = s->o.threads ? s->o.threads : 1;
    int oom = 0;
#pragma omp parallel num_threads(nthreads)
    {
        float *scratch = xmem_alloc_aligned(rec_scratch_size(&s->rec) * sizeof *scratch);
        size_t kk = s->o.k;
        uint32_t *bi = xmem_alloc_array(REC_BLOCK * kk + 1, sizeof *bi);
        float *bv = xmem_alloc_array(REC_BLOCK * kk + 1, sizeof *bv);
        if (!scratch || !bi || !bv) {
#pragma omp atomic write
            oom = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nblocks; b++) {
            if (oom)
                continue;
            struct rec_query q[REC_BLOCK];
            size_t cnt[REC_BLOCK], first = b * REC_BLOCK;
            size_t m = ns - first < REC_BLOCK ? ns - first : REC_BLOCK;
            for (size_t t = 0; t < m; t++) {
                const struct job *j = &jobs[scored[first + t]];
                q[t].x = j->x;
                q[t].bias = j->bias;
                q[t].excl = j->seen;
                q[t].nexcl = j->nseen;
            }
            rec_block(&s->rec, q, m, scratch, bi, bv, cnt);
            for (size_t t = 0; t < m; t++) {
                struct job *j = &jobs[scored[first + t]];
                memcpy(j->idx_out, bi + t * kk, cnt[t] * sizeof *bi);
                memcpy(j->val_out, bv + t * kk, cnt[t] * sizeof *bv);
                j->cnt = cnt[t];
            }
        }
        free(scratch);
        free(bi);
        free(bv);
    }
    return oom ? diag_set(d, ALS_ENOMEM, "out of memory") : 0;
}

/* Answer a chunk of jobs (resolved, in input order), write them out in that order and
 * release them all, also on failure. */
static int
answer_chunk(const struct serve *s, struct job *jobs, size_t n, struct zio_out *out,
             struct serve_stats *st, struct diag *d)
{
    struct emit_buf b;
    emit_init(&b);
    int rc = 0;
    size_t ns = 0;
    size_t *scored = xmem_alloc_array(n + 1, sizeof *scored);
    if (!scored) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t t = 0; t < n; t++) {
        struct job *j = &jobs[t];
        j->idx_out = xmem_alloc_array(s->o.k + 1, sizeof *j->idx_out);
        j->val_out = xmem_alloc_array(s->o.k + 1, sizeof *j->val_out);
        if (!j->idx_out || !j->val_out) {
            rc = diag_set(d, ALS_ENOMEM, "out of memory");
            goto out;
        }
        if (j->src == SRC_MODEL || j->src == SRC_FOLDIN)
            scored[ns++] = t;
    }
    if ((rc = score_jobs(s, jobs, scored, ns, d)) < 0)
        goto out;
    for (size_t t = 0; t < n; t++) {
        struct job *j = &jobs[t];
        if (j->src == SRC_NONE) {
            const char *side = s->o.similar ? "item" : "user";
            if (s->o.cold == SERVE_COLD_FAIL) {
                char esc[4 * 80 + 1];
                size_t el = csv_escape_tsv(j->raw, j->len > 80 ? 80 : j->len, esc);
                if (j->swapped)
                    rc = diag_set(d, ALS_ERANGE,
                                  "%s '%.*s' is unknown (--cold fail): '%.*s' is %s ID, not "
                                  "%s ID: swapped columns?",
                                  side, (int)el, esc, (int)el, esc,
                                  s->o.similar ? "a user" : "an item",
                                  s->o.similar ? "an item" : "a user");
                else
                    rc = diag_set(d, ALS_ERANGE,
                                  "%s '%.*s' is unknown or has no factors (--cold fail)", side,
                                  (int)el, esc);
                goto out;
            }
            if (j->swapped && st->swapped++ == 0) {
                size_t el = csv_escape_tsv(j->raw, j->len > 64 ? 64 : j->len, st->swapped_id);
                st->swapped_id[el] = '\0';
            }
            if (s->o.cold == SERVE_COLD_POPULAR && !s->o.similar)
                answer_popular(s, j);
            else {
                st->skipped++;
                job_release(j);
                continue;
            }
        }
        st->answered++;
        st->popular += j->src == SRC_POPULAR;
        st->foldin += j->src == SRC_FOLDIN;
        format_job(s, j, &b);
        job_release(j);
        if (b.len > (1u << 20) && (rc = emit_flush(&b, out, d)) < 0)
            goto out;
    }
    rc = emit_flush(&b, out, d);
out:
    for (size_t t = 0; t < n; t++)
        job_release(&jobs[t]);
    free(scored);
    emit_release(&b);
    return rc;
}

/* Queue the query raw[0..len) (idx: its user index when by_index), resolve it, and
 * answer the chunk when it is full. */
static int
add_job(const struct serve *s, struct job *jobs, size_t *n, const char *raw, size_t len,
        uint64_t idx, int by_index, struct zio_out *out, struct serve_stats *st,
        struct diag *d)
{
    struct job *j = &jobs[(*n)++];
    memset(j, 0, sizeof *j);
    j->raw = malloc(len + 1);
    if (!j->raw)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    memcpy(j->raw, raw, len);
    j->raw[len] = '\0';
    j->len = len;
    j->idx = idx;
    int rc = resolve(s, j, by_index, d);
    if (rc < 0 || *n < CHUNK)
        return rc;
    rc = answer_chunk(s, jobs, *n, out, st, d);
    *n = 0;
    return rc;
}

/* The TSV header line: the columns in the order format_job and pairs_run write them. */
static int
write_header(const struct serve *s, struct zio_out *o, struct diag *d)
{
    const struct serve_opts *p = &s->o;
    char line[96];
    snprintf(line, sizeof line, "%s\t%s\tscore%s%s%s\n", p->similar ? "item" : "user",
             p->similar ? "similar" : "item", p->pairs == SERVE_SCORE ? "" : "\trank",
             p->explain ? "\tsource" : "", p->item_names ? "\tname" : "");
    return zio_out_write(o, line, strlen(line), d);
}

static int
run_pairs(struct serve *s, const char *path, struct zio_out *o, struct serve_stats *st,
          struct diag *d)
{
    const struct model_params *mp = &s->m->params;
    struct pairs_ctx c = {
        .mode = s->o.pairs == SERVE_SCORE ? PAIRS_SCORE : PAIRS_CANDIDATES,
        .m = s->m,
        .rec = &s->rec,
        .users = &s->vd.users,
        .items = &s->vd.items,
        .vocab_path = s->o.vocab,
        .seen = s->hist && !s->o.include_seen ? &s->hist->r : NULL,
        .mask = s->mask,
        .k = s->o.k,
        .names = s->o.item_names ? &s->names : NULL,
        .json = s->o.format == SERVE_JSON,
        .clip = !s->m->implicit && (mp->has & MODEL_HAS_RANGE),
        .lo = mp->rating_min,
        .hi = mp->rating_max,
        .threads = s->o.threads,
    };
    return pairs_run(&c, path, o, &st->pairs, d);
}

int
serve_run(struct serve *s, const struct serve_queries *q, struct zio_out *o,
          struct serve_stats *st, struct diag *d)
{
    struct zio_in *in = NULL;
    size_t n = 0;
    int rc = 0;
    if (s->o.header && s->o.format == SERVE_TSV && (rc = write_header(s, o, d)) < 0)
        return rc;
    if (s->o.pairs != SERVE_USERS)
        return run_pairs(s, q->path, o, st, d);
    struct job *jobs = xmem_alloc_array(CHUNK, sizeof *jobs);
    if (!jobs)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    /* add_job answers a chunk when it is full, leaving n 0: then progress is reported. */
    struct progress pr;
    progress_init(&pr, s->o.progress, s->o.progress_ctx);
    const char *unit = s->o.similar ? "items" : "users";
    uint64_t total = q->all ? s->m->users : q->n, done = 0;
    progress_report(&pr, 0, total, unit);
    if (q->all) {
        for (uint64_t u = 0; u < s->m->users; u++) {
            size_t len;
            const char *id = vocab_get(&s->vd.users, u, &len);
            if (!id) {
                rc = diag_set(d, ALS_EFORMAT, "'%s': damaged vocabulary at user %" PRIu64,
                              s->o.vocab, u);
                goto out;
            }
            if ((rc = add_job(s, jobs, &n, id, len, u, 1, o, st, d)) < 0)
                goto out;
            done++;
            if (n == 0)
                progress_tick(&pr, done, total, unit);
        }
    } else if (q->n) {
        for (size_t a = 0; a < q->n; a++) {
            if ((rc = add_job(s, jobs, &n, q->ids[a], strlen(q->ids[a]), 0, 0, o, st, d)) < 0)
                goto out;
            done++;
            if (n == 0)
                progress_tick(&pr, done, total, unit);
        }
    } else {
        if ((rc = zio_in_open(&in, q->path, d)) < 0)
            goto out;
        const char *line;
        size_t len;
        while ((rc = zio_in_getline(in, &line, &len, d)) > 0) {
            if (len && line[len - 1] == '\r')
                len--;
            if (!len)
                continue;
            if ((rc = add_job(s, jobs, &n, line, len, 0, 0, o, st, d)) < 0)
                goto out;
            done++;
            if (n == 0)
                progress_tick(&pr, done, total, unit);
        }
        if (rc < 0)
            goto out;
    }
    if (n) {
        rc = answer_chunk(s, jobs, n, o, st, d);
        n = 0;
    }
    if (rc >= 0)
        progress_report(&pr, done, total, unit);
out:
    for (size_t t = 0; t < n; t++)
        job_release(&jobs[t]);
    free(jobs);
    zio_in_close(in);
    return rc;
}

/* ---- opening ---- */

/* A file of raw item IDs, one per line, into the mask: value 1 for exclude, for only
 * every item not listed. Unknown IDs are counted in *unknown. */
static int
load_item_list(struct serve *s, const char *path, int only, uint64_t *unknown,
               struct diag *d)
{
    struct zio_in *in = NULL;
    unsigned char *listed = NULL;
    int rc;
    if ((rc = zio_in_open(&in, path, d)) < 0)
        return rc;
    uint64_t ni = s->vd.items.n > s->m->items ? s->vd.items.n : s->m->items;
    if (!s->mask && !(s->mask = calloc(ni + 1, 1))) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    if (only && !(listed = calloc(ni + 1, 1))) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    const char *line;
    size_t len;
    uint64_t nunknown = 0;
    while ((rc = zio_in_getline(in, &line, &len, d)) > 0) {
        if (len && line[len - 1] == '\r')
            len--;
        if (!len)
            continue;
        uint32_t idx;
        if (vocab_find(&s->vd.items, line, len, &idx) <= 0) {
            nunknown++;
            continue;
        }
        if (only)
            listed[idx] = 1;
        else
            s->mask[idx] = 1;
    }
    if (rc < 0)
        goto out;
    for (uint64_t i = 0; only && i < ni; i++)
        s->mask[i] |= !listed[i];
    *unknown += nunknown;
out:
    free(listed);
    zio_in_close(in);
    return rc;
}

static int
hist_triple(void *ctx, const struct triple *t, double raw, struct diag *d)
{
    (void)raw;
    struct csr_coo *coo = ctx;
    if (csr_coo_push(coo, t->user, t->item, t->value, NULL) < 0)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    return 0;
}

/* The history: map the raw log through the vocabulary (new users get indices past the
 * vocabulary, in memory only; unknown items are skipped and counted) into a CSR. */
static int
load_history(struct serve *s, struct serve_stats *st, struct diag *d)
{
    struct csr_coo all = { 0 }, keep = { 0 };
    int rc;
    if ((rc = vocab_make_writable(&s->vd.users, d)) < 0)
        return rc;
    struct mapper_opts mo = { .mode = MAPPER_FROZEN,
                              .grow_users = 1,
                              .threads = 1,
                              .sink = hist_triple,
                              .ctx = &all };
    struct mapper_stats ms;
    const char *inputs[] = { s->o.history };
    if ((rc = mapper_run(&s->vd, inputs, 1, &mo, &ms, d)) < 0)
        goto out;
    st->history_unknown += ms.unknown_items;
    uint64_t cols = s->m->items, beyond = 0;
    /* Only items with factors can enter a fold-in. */
    for (uint64_t t = 0; t < all.n; t++) {
        if (all.i[t] >= cols) {
            beyond++;
            continue;
        }
        if (csr_coo_push(&keep, all.u[t], all.i[t], all.v[t], NULL) < 0) {
            rc = diag_set(d, ALS_ENOMEM, "out of memory");
            goto out;
        }
    }
    csr_coo_release(&all);
    st->history_newer += beyond;
    /* Repeated (user, item) records: counts and durations add up (implicit), a rating
     * given again replaces the earlier one (explicit). */
    int dup = s->m->implicit ? CSR_DUP_SUM : CSR_DUP_LAST;
    rc = csr_build(&keep, s->vd.users.n, cols, dup, 0, &s->fresh, NULL, d);
out:
    csr_coo_release(&all);
    csr_coo_release(&keep);
    return rc;
}

/* Fold-in solves the training system: the model's own training parameters. */
static void
foldin_params(const struct model *m, struct als_params *p)
{
    als_params_default(p, m->implicit);
    p->k = m->k;
    p->biases = m->biases;
    if (m->params.has & MODEL_HAS_ALPHA)
        p->alpha = m->params.alpha;
    if (m->params.has & MODEL_HAS_CONFIDENCE)
        p->confidence = m->params.confidence;
    if (m->params.has & MODEL_HAS_LAMBDA)
        p->lambda = m->params.lambda;
}

/* Refuse files that were not made together, naming them. */
static int
check_shapes(const struct serve *s, struct diag *d)
{
    const struct serve_opts *o = &s->o;
    const struct model *m = s->m;
    uint64_t vu = s->vd.users.n, vi = s->vd.items.n;
    if (m->users > vu || m->items > vi)
        return diag_set(d, ALS_EFORMAT, "model '%s' (%" PRIu64 " users, %" PRIu64 " items) "
                        "does not fit the vocabulary '%s' (%" PRIu64 " users, %" PRIu64
                        " items): they were not made together", o->model, m->users,
                        m->items, o->vocab, vu, vi);
    const struct csr_mat *r = s->hist ? &s->hist->r : NULL;
    if (r && (r->rows > vu || r->cols > vi || r->cols < m->items))
        return diag_set(d, ALS_EFORMAT, "CSR '%s' (%" PRIu64 " x %" PRIu64 ") does not fit "
                        "the vocabulary '%s' (%" PRIu64 " users, %" PRIu64 " items) and "
                        "model '%s' (%" PRIu64 " items)", o->csr, r->rows, r->cols, o->vocab,
                        vu, vi, o->model, m->items);
    return 0;
}

int
serve_open(struct serve **out, const struct serve_opts *o, struct serve_stats *st,
           struct diag *d)
{
    int rc;
    *out = NULL;
    if (o->cold == SERVE_COLD_POPULAR && !o->csr)
        return diag_set(d, ALS_EUSAGE, "popular answers for cold users need a CSR (the "
                        "popularity comes from it)");
    struct serve *s = calloc(1, sizeof *s);
    if (!s)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    s->o = *o;
    vocabdir_init(&s->vd);
    names_init(&s->names);
    unsigned vflags = o->verify ? AFILE_VERIFY : 0;
    if ((rc = model_open(&s->m, o->model, vflags, d)) < 0 ||
        (rc = vocabdir_load(&s->vd, o->vocab, vflags, d)) < 0 ||
        (o->csr && (rc = csr_open(&s->hist, o->csr, vflags | CSR_LAZY, d)) < 0) ||
        (rc = check_shapes(s, d)) < 0)
        goto out;
    if (o->exclude && (rc = load_item_list(s, o->exclude, 0, &st->exclude_unknown, d)) < 0)
        goto out;
    if (o->only && (rc = load_item_list(s, o->only, 1, &st->only_unknown, d)) < 0)
        goto out;
    if (o->cold == SERVE_COLD_POPULAR &&
        (rc = rec_popular(s->hist->t.ptr, s->m->items, &s->popular, d)) < 0)
        goto out;
    if ((rc = rec_init(&s->rec, s->m, s->mask, o->k, o->similar, d)) < 0)
        goto out;
    if (o->item_names) {
        if ((rc = names_load(&s->names, &s->vd.items, o->item_names,
                             o->name_column ? o->name_column : 2, d)) < 0)
            goto out;
        st->names_unknown = s->names.unknown;
    }
    if (o->history) {
        struct als_params p;
        foldin_params(s->m, &p);
        if ((rc = als_foldin_init(&s->fold, &p, s->m, d)) < 0 ||
            (rc = load_history(s, st, d)) < 0)
            goto out;
    }
    *out = s;
    s = NULL;
out:
    serve_close(s);
    return rc;
}

void
serve_close(struct serve *s)
{
    if (!s)
        return;
    free(s->mask);
    free(s->popular);
    rec_release(&s->rec);
    names_release(&s->names);
    als_foldin_release(&s->fold);
    csr_free(s->fresh);
    csr_free(s->hist);
    model_free(s->m);
    vocabdir_release(&s->vd);
    free(s);
}
