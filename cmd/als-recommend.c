/* SPDX-License-Identifier: MIT */
/* als-recommend: top-k items for users (or similar items) by raw ID, filtered, streaming. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "als.h"
#include "cli.h"
#include "csr.h"
#include "csv.h"
#include "linalg.h"
#include "mapper.h"
#include "model.h"
#include "recommend.h"
#include "vocabdir.h"
#include "xmem.h"
#include "zio.h"

static const char usage[] =
    "usage: als-recommend -m MODEL -V DIR [-c CSR] [-k N] [--include-seen]\n"
    "                     [--exclude FILE] [--only FILE] [--cold skip|popular|fail]\n"
    "                     [--history FILE] [--explain-source] [--format tsv|json]\n"
    "                     [-o FILE] [--verify] [-j N] [-q] [-v]\n"
    "                     (--all | USER ... | < USERS)\n"
    "       als-recommend --similar -m MODEL -V DIR [-k N] [--exclude FILE]\n"
    "                     [--only FILE] [--format tsv|json] [-o FILE] (ITEM ... | < ITEMS)";

static const char help[] =
    "Recommend items to users given by raw ID (arguments, or one per line on stdin, or\n"
    "--all), with the model of als-train and the vocabulary directory of als-map.\n"
    "\n"
    "  -m, --model MODEL      the model file\n"
    "  -V, --vocab DIR        the vocabulary directory the model was trained with\n"
    "  -c, --csr CSR          the interaction history (als-csr): seen items are not\n"
    "                         recommended, and it gives the popularity list\n"
    "  -k, --count N          items per user (default 10)\n"
    "      --all              every user with factors, in index order (the nightly batch)\n"
    "      --include-seen     recommend items the user already interacted with too\n"
    "      --exclude FILE     raw item IDs never to recommend, one per line\n"
    "      --only FILE        recommend only these raw item IDs, one per line\n"
    "      --cold POLICY      a user unknown or without factors: skip (default, counted\n"
    "                         on stderr), popular (the most popular items), fail\n"
    "      --history FILE     a raw log (read as DIR remembers): the users in it get\n"
    "                         factors folded in from it, new users included\n"
    "      --explain-source   a last column: model, foldin or popular\n"
    "      --similar          inputs are raw item IDs: the N most similar items by cosine\n"
    "                         of the item factors, the item itself excluded\n"
    "      --format F         tsv: 'user<TAB>item<TAB>score<TAB>rank' lines (default);\n"
    "                         json: one object per user per line\n"
    "  -o, --output FILE      write to FILE atomically (default stdout)\n"
    "      --verify           check every checksum of the model and CSR (slower start)\n"
    "  -j, --threads N        threads (default: all cores)\n"
    "  -q, --quiet            no summary, only errors\n"
    "  -v, --verbose          more detail\n"
    "  -h, --help             this help\n"
    "      --version          version and library versions\n"
    "\n"
    "Exit status: 0 success, 1 runtime or data error, 2 usage error. See als-recommend(1).\n";

enum {
    OPT_ALL = CLI_OPT_FIRST_PROGRAM,
    OPT_INCLUDE_SEEN,
    OPT_EXCLUDE,
    OPT_ONLY,
    OPT_COLD,
    OPT_HISTORY,
    OPT_EXPLAIN,
    OPT_SIMILAR,
    OPT_FORMAT,
    OPT_VERIFY
};

static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    { "model", required_argument, NULL, 'm' },
    { "vocab", required_argument, NULL, 'V' },
    { "csr", required_argument, NULL, 'c' },
    { "count", required_argument, NULL, 'k' },
    { "output", required_argument, NULL, 'o' },
    { "all", no_argument, NULL, OPT_ALL },
    { "include-seen", no_argument, NULL, OPT_INCLUDE_SEEN },
    { "exclude", required_argument, NULL, OPT_EXCLUDE },
    { "only", required_argument, NULL, OPT_ONLY },
    { "cold", required_argument, NULL, OPT_COLD },
    { "history", required_argument, NULL, OPT_HISTORY },
    { "explain-source", no_argument, NULL, OPT_EXPLAIN },
    { "similar", no_argument, NULL, OPT_SIMILAR },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "verify", no_argument, NULL, OPT_VERIFY },
    { NULL, 0, NULL, 0 }
};

static struct cli cli = { .prog = "als-recommend", .usage = usage, .help = help };

enum { COLD_SKIP, COLD_POPULAR, COLD_FAIL };
enum { SRC_MODEL, SRC_FOLDIN, SRC_POPULAR, SRC_NONE };
static const char *const src_name[] = { "model", "foldin", "popular", "none" };

struct opts {
    const char *model, *vocab, *csr, *exclude, *only, *history, *output;
    unsigned k;
    int all, include_seen, cold, cold_given, explain, similar, json, verify;
};

/* Everything a chunk of queries needs, read-only while threads work on it. */
struct ctx {
    const struct opts *o;
    struct model *m;
    struct vocabdir vd;
    struct csr *hist;    /* -c, or NULL */
    struct csr *fresh;   /* --history, rows = users incl. new ones, or NULL */
    unsigned char *mask; /* items excluded by --exclude/--only, or NULL */
    uint32_t *popular;   /* item order for --cold popular */
    struct rec rec;
    struct als_foldin fold;
    int have_fold;
    unsigned threads;
    uint64_t skipped, answered, popular_n, foldin_n;
};

/* One input: a raw ID, what it resolved to, and its answer. */
struct job {
    char *raw;
    size_t len;
    uint64_t idx;
    int src;
    float *x; /* factors: the model's row, or this job's fold-in */
    float bias;
    uint32_t *seen; /* sorted items to exclude (merged -c and --history rows) */
    size_t nseen;
    int own_x, own_seen;
    uint32_t *idx_out;
    float *val_out;
    size_t cnt;
};

/* ---- output ---- */

struct out {
    char *buf;
    size_t len, cap;
};

static void
out_put(struct out *b, const char *p, size_t n)
{
    if (xmem_grow((void **)&b->buf, &b->cap, b->len + n + 1, 1) < 0)
        cli_die(&cli, "out of memory");
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void
out_tsv_id(struct out *b, const char *id, size_t n)
{
    if (xmem_grow((void **)&b->buf, &b->cap, b->len + 4 * n + 1, 1) < 0)
        cli_die(&cli, "out of memory");
    b->len += csv_escape_tsv(id, n, b->buf + b->len);
}

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || len > n)
        return 0;
    for (size_t t = 1; t < len; t++)
        if ((s[t] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) ||
        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
        return 0;
    return len;
}

/* A JSON string: quotes, backslashes and control bytes escaped; a byte that is not part
 * of valid UTF-8 becomes \u00XX (its Latin-1 reading), so the line is always valid JSON. */
static void
out_json_id(struct out *b, const char *id, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[8];
    out_put(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)id[i];
        size_t len = utf8_len((const unsigned char *)id + i, n - i);
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            out_put(b, tmp, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f || !len) {
            memcpy(tmp, "\\u00", 4);
            tmp[4] = hex[c >> 4];
            tmp[5] = hex[c & 15];
            out_put(b, tmp, 6);
            i++;
        } else {
            out_put(b, id + i, len);
            i += len;
        }
    }
    out_put(b, "\"", 1);
}

/* A score as text: integers (popularity counts) plainly, others %.6g; JSON has no NaN or
 * infinity, so a damaged model's non-finite score is null there. */
static int
format_score(char *buf, size_t size, float v, int json)
{
    if (!isfinite(v))
        return snprintf(buf, size, "%s", json ? "null" : isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    if (fabsf(v) < 1e15f && v == floorf(v))
        return snprintf(buf, size, "%.0f", (double)v);
    return snprintf(buf, size, "%.6g", (double)v);
}

static void
format_job(const struct ctx *C, const struct job *j, struct out *b)
{
    const struct vocab *iv = &C->vd.items;
    char num[64];
    if (C->o->json) {
        out_put(b, C->o->similar ? "{\"item\":" : "{\"user\":", C->o->similar ? 8 : 8);
        out_json_id(b, j->raw, j->len);
        if (C->o->explain) {
            out_put(b, ",\"source\":\"", 11);
            out_put(b, src_name[j->src], strlen(src_name[j->src]));
            out_put(b, "\"", 1);
        }
        out_put(b, ",\"items\":[", 10);
        for (size_t r = 0; r < j->cnt; r++) {
            size_t len;
            const char *id = vocab_get(iv, j->idx_out[r], &len);
            out_put(b, r ? ",{\"item\":" : "{\"item\":", r ? 9 : 8);
            out_json_id(b, id ? id : "", id ? len : 0);
            char sc[48];
            format_score(sc, sizeof sc, j->val_out[r], 1);
            int n = snprintf(num, sizeof num, ",\"score\":%s,\"rank\":%zu}", sc, r + 1);
            out_put(b, num, (size_t)n);
        }
        out_put(b, "]}\n", 3);
        return;
    }
    for (size_t r = 0; r < j->cnt; r++) {
        size_t len;
        const char *id = vocab_get(iv, j->idx_out[r], &len);
        out_tsv_id(b, j->raw, j->len);
        out_put(b, "\t", 1);
        out_tsv_id(b, id ? id : "", id ? len : 0);
        char sc[48];
        format_score(sc, sizeof sc, j->val_out[r], 0);
        int n = snprintf(num, sizeof num, "\t%s\t%zu", sc, r + 1);
        out_put(b, num, (size_t)n);
        if (C->o->explain) {
            out_put(b, "\t", 1);
            out_put(b, src_name[j->src], strlen(src_name[j->src]));
        }
        out_put(b, "\n", 1);
    }
}

/* ---- resolving inputs ---- */

/* Merge two sorted lists (either may be empty) into a new sorted, distinct one. */
static uint32_t *
merge_sorted(const uint32_t *a, uint64_t na, const uint32_t *b, uint64_t nb, size_t *n)
{
    uint32_t *o = xmem_alloc_array((size_t)(na + nb) + 1, sizeof *o);
    if (!o)
        cli_die(&cli, "out of memory");
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

static const char *
csr_name(const struct ctx *C)
{
    return C->o->csr ? C->o->csr : "csr";
}

/* Decide where the answer for j comes from, and gather what it needs. */
static void
resolve(struct ctx *C, struct job *j, int by_index)
{
    const struct opts *o = C->o;
    uint32_t k = C->m->k;
    j->src = SRC_NONE;
    uint32_t idx = (uint32_t)j->idx;
    const struct vocab *v = o->similar ? &C->vd.items : &C->vd.users;
    int found = by_index ? 1 : vocab_find(v, j->raw, j->len, &idx); /* --all knows it */
    if (found < 0)
        cli_die(&cli, "'%s': damaged vocabulary index", o->vocab);
    if (o->similar) {
        if (found && model_has_factors(C->m, 1, idx)) {
            j->idx = idx;
            j->src = SRC_MODEL;
            j->x = C->m->V + (size_t)idx * k;
            j->seen = malloc(sizeof *j->seen);
            if (!j->seen)
                cli_die(&cli, "out of memory");
            j->seen[0] = idx;
            j->nseen = 1;
            j->own_seen = 1;
        }
        return;
    }
    if (!found)
        return;
    j->idx = idx;
    const uint32_t *hi = NULL, *fi = NULL;
    const float *hv, *fv;
    uint64_t hn = 0, fn = 0;
    if (C->hist && csr_row(&C->hist->r, idx, &hi, &hv, &hn) < 0)
        cli_die(&cli, "'%s': damaged row %" PRIu32, csr_name(C), idx);
    if (C->fresh && csr_row(&C->fresh->r, idx, &fi, &fv, &fn) < 0)
        cli_die(&cli, "--history: internal error at row %" PRIu32, idx);
    if (!o->include_seen) {
        j->seen = merge_sorted(hi, hn, fi, fn, &j->nseen);
        j->own_seen = 1;
    }
    if (fn > 0) {
        /* --history has this user: fresh factors from that history. */
        j->x = calloc(k + 1, sizeof *j->x);
        if (!j->x)
            cli_die(&cli, "out of memory");
        j->own_x = 1;
        if (als_foldin_user(&C->fold, fi, fv, fn, j->x, &j->bias) == 0)
            j->src = SRC_FOLDIN;
        return;
    }
    if (model_has_factors(C->m, 0, idx)) {
        j->x = C->m->U + (size_t)idx * k;
        j->bias = C->m->biases ? C->m->ub[idx] : 0.0f;
        j->src = SRC_MODEL;
    }
}

static void
answer_popular(struct ctx *C, struct job *j)
{
    size_t w = 0, s = 0;
    for (uint64_t r = 0; r < C->m->items && w < C->o->k; r++) {
        uint32_t i = C->popular[r];
        while (s < j->nseen && j->seen[s] < i)
            s++;
        if ((s < j->nseen && j->seen[s] == i) || (C->mask && C->mask[i]))
            continue;
        j->idx_out[w] = i;
        j->val_out[w++] = (float)(C->hist->t.ptr[i + 1] - C->hist->t.ptr[i]);
    }
    j->cnt = w;
    j->src = SRC_POPULAR;
}

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

/* Answer a chunk of jobs (resolved, in input order) and write them out in that order. */
static void
answer_chunk(struct ctx *C, struct job *jobs, size_t n, struct zio_out *out)
{
    /* Model and fold-in answers go through rec_block in groups of REC_BLOCK. */
    size_t *scored = xmem_alloc_array(n + 1, sizeof *scored);
    if (!scored)
        cli_die(&cli, "out of memory");
    size_t ns = 0;
    for (size_t t = 0; t < n; t++) {
        struct job *j = &jobs[t];
        j->idx_out = xmem_alloc_array(C->o->k + 1, sizeof *j->idx_out);
        j->val_out = xmem_alloc_array(C->o->k + 1, sizeof *j->val_out);
        if (!j->idx_out || !j->val_out)
            cli_die(&cli, "out of memory");
        if (j->src == SRC_MODEL || j->src == SRC_FOLDIN)
            scored[ns++] = t;
    }
    size_t nblocks = (ns + REC_BLOCK - 1) / REC_BLOCK;
    int oom = 0;
#pragma omp parallel num_threads(C->threads)
    {
        float *scratch = xmem_alloc_aligned(rec_scratch_size(&C->rec) * sizeof *scratch);
        size_t kk = C->o->k;
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
            rec_block(&C->rec, q, m, scratch, bi, bv, cnt);
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
    free(scored);
    if (oom)
        cli_die(&cli, "out of memory");
    struct out b = { 0 };
    struct diag d = { 0 };
    for (size_t t = 0; t < n; t++) {
        struct job *j = &jobs[t];
        if (j->src == SRC_NONE) {
            if (C->o->cold == COLD_FAIL) {
                zio_out_abort(out);
                char esc[4 * 80 + 1];
                size_t el = csv_escape_tsv(j->raw, j->len > 80 ? 80 : j->len, esc);
                cli_die(&cli, "%s '%.*s' is unknown or has no factors (--cold fail)",
                        C->o->similar ? "item" : "user", (int)el, esc);
            }
            if (C->o->cold == COLD_POPULAR && !C->o->similar)
                answer_popular(C, j);
            else {
                C->skipped++;
                job_release(j);
                continue;
            }
        }
        C->answered++;
        C->popular_n += j->src == SRC_POPULAR;
        C->foldin_n += j->src == SRC_FOLDIN;
        format_job(C, j, &b);
        job_release(j);
        if (b.len > (1u << 20)) {
            if (zio_out_write(out, b.buf, b.len, &d) < 0)
                cli_die_diag(&cli, &d);
            b.len = 0;
        }
    }
    if (b.len && zio_out_write(out, b.buf, b.len, &d) < 0)
        cli_die_diag(&cli, &d);
    free(b.buf);
}

#define CHUNK 4096

static void
add_job(struct ctx *C, struct job *jobs, size_t *n, const char *raw, size_t len, uint64_t idx,
        int by_index, struct zio_out *out)
{
    struct job *j = &jobs[(*n)++];
    memset(j, 0, sizeof *j);
    j->raw = malloc(len + 1);
    if (!j->raw)
        cli_die(&cli, "out of memory");
    memcpy(j->raw, raw, len);
    j->raw[len] = '\0';
    j->len = len;
    j->idx = idx;
    resolve(C, j, by_index);
    if (*n == CHUNK) {
        answer_chunk(C, jobs, *n, out);
        *n = 0;
    }
}

/* ---- set-up ---- */

/* A file of raw item IDs, one per line, into the mask: value 1 for --exclude, for --only
 * every item not listed. Unknown IDs are counted. */
static void
load_item_list(struct ctx *C, const char *path, int only)
{
    struct diag d = { 0 };
    struct zio_in *in;
    if (zio_in_open(&in, path, &d) < 0)
        cli_die_diag(&cli, &d);
    uint64_t ni = C->vd.items.n > C->m->items ? C->vd.items.n : C->m->items;
    if (!C->mask) {
        C->mask = calloc(ni + 1, 1);
        if (!C->mask)
            cli_die(&cli, "out of memory");
    }
    unsigned char *listed = only ? calloc(ni + 1, 1) : NULL;
    if (only && !listed)
        cli_die(&cli, "out of memory");
    const char *line;
    size_t len;
    int rc;
    uint64_t unknown = 0;
    while ((rc = zio_in_getline(in, &line, &len, &d)) > 0) {
        if (len && line[len - 1] == '\r')
            len--;
        if (!len)
            continue;
        uint32_t idx;
        int f = vocab_find(&C->vd.items, line, len, &idx);
        if (f <= 0) {
            unknown++;
            continue;
        }
        if (only)
            listed[idx] = 1;
        else
            C->mask[idx] = 1;
    }
    if (rc < 0)
        cli_die_diag(&cli, &d);
    zio_in_close(in);
    if (only) {
        for (uint64_t i = 0; i < ni; i++)
            C->mask[i] |= !listed[i];
        free(listed);
    }
    if (unknown)
        cli_warn(&cli, "'%s': %" PRIu64 " item IDs not in the vocabulary, ignored", path,
                 unknown);
}

struct hist_sink {
    struct csr_coo coo;
};

static int
hist_triple(void *ctx, const struct triple *t, double raw, struct diag *d)
{
    (void)raw;
    struct hist_sink *h = ctx;
    if (csr_coo_push(&h->coo, t->user, t->item, t->value, NULL) < 0)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    return 0;
}

/* --history: map the raw log through the vocabulary (new users get indices past the
 * vocabulary, in memory only; unknown items are skipped and counted) into a CSR. */
static void
load_history(struct ctx *C)
{
    struct diag d = { 0 };
    if (vocab_make_writable(&C->vd.users, &d) < 0)
        cli_die_diag(&cli, &d);
    struct hist_sink h = { 0 };
    struct mapper_opts mo = { .mode = MAPPER_FROZEN,
                              .grow_users = 1,
                              .threads = 1,
                              .sink = hist_triple,
                              .ctx = &h };
    struct mapper_stats st;
    const char *inputs[] = { C->o->history };
    if (mapper_run(&C->vd, inputs, 1, &mo, &st, &d) < 0)
        cli_die_diag(&cli, &d);
    if (st.unknown_items)
        cli_warn(&cli, "--history: %" PRIu64 " records with items the vocabulary does not "
                 "have, ignored", st.unknown_items);
    uint64_t cols = C->m->items, beyond = 0;
    /* Only items with factors can enter a fold-in. */
    struct csr_coo keep = { 0 };
    for (uint64_t t = 0; t < h.coo.n; t++) {
        if (h.coo.i[t] >= cols) {
            beyond++;
            continue;
        }
        if (csr_coo_push(&keep, h.coo.u[t], h.coo.i[t], h.coo.v[t], NULL) < 0)
            cli_die(&cli, "out of memory");
    }
    csr_coo_release(&h.coo);
    if (beyond)
        cli_warn(&cli, "--history: %" PRIu64 " records with items newer than the model "
                 "(no factors yet), ignored", beyond);
    /* Repeated (user, item) records: counts and durations add up (implicit), a rating
     * given again replaces the earlier one (explicit). */
    int dup = C->m->implicit ? CSR_DUP_SUM : CSR_DUP_LAST;
    if (csr_build(&keep, C->vd.users.n, cols, dup, 0, &C->fresh, NULL, &d) < 0)
        cli_die_diag(&cli, &d);
}

static void
model_params(const struct model *m, struct als_params *p)
{
    als_params_default(p, m->implicit);
    p->k = m->k;
    p->biases = m->biases;
    if (m->params.has & MODEL_HAS_ALPHA)
        p->alpha = m->params.alpha;
    if (m->params.has & MODEL_HAS_LAMBDA)
        p->lambda = m->params.lambda;
}

/* Refuse files that were not made together, naming them. */
static void
check_shapes(const struct ctx *C)
{
    const struct opts *o = C->o;
    uint64_t vu = C->vd.users.n, vi = C->vd.items.n;
    if (C->m->users > vu || C->m->items > vi)
        cli_die(&cli, "model '%s' (%" PRIu64 " users, %" PRIu64 " items) does not fit the "
                "vocabulary '%s' (%" PRIu64 " users, %" PRIu64 " items): they were not "
                "made together", o->model, C->m->users, C->m->items, o->vocab, vu, vi);
    if (C->hist && (C->hist->r.rows > vu || C->hist->r.cols > vi ||
                    C->hist->r.cols < C->m->items))
        cli_die(&cli, "CSR '%s' (%" PRIu64 " x %" PRIu64 ") does not fit the vocabulary '%s' "
                "(%" PRIu64 " users, %" PRIu64 " items) and model '%s' (%" PRIu64 " items)",
                o->csr, C->hist->r.rows, C->hist->r.cols, o->vocab, vu, vi, o->model,
                C->m->items);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "m:V:c:k:o:", longopts,
                              NULL)) != -1) {
        if (cli_common(&cli, opt, optarg))
            continue;
        switch (opt) {
        case 'm': o->model = optarg; break;
        case 'V': o->vocab = optarg; break;
        case 'c': o->csr = optarg; break;
        case 'k': o->k = (unsigned)cli_opt_u64(&cli, "count", optarg, 1, 100000); break;
        case 'o': o->output = optarg; break;
        case OPT_ALL: o->all = 1; break;
        case OPT_INCLUDE_SEEN: o->include_seen = 1; break;
        case OPT_EXCLUDE: o->exclude = optarg; break;
        case OPT_ONLY: o->only = optarg; break;
        case OPT_COLD:
            o->cold_given = 1;
            if (!strcmp(optarg, "skip"))
                o->cold = COLD_SKIP;
            else if (!strcmp(optarg, "popular"))
                o->cold = COLD_POPULAR;
            else if (!strcmp(optarg, "fail"))
                o->cold = COLD_FAIL;
            else
                cli_usage_error(&cli, "--cold takes skip, popular or fail, not '%s'", optarg);
            break;
        case OPT_HISTORY: o->history = optarg; break;
        case OPT_EXPLAIN: o->explain = 1; break;
        case OPT_SIMILAR: o->similar = 1; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "tsv") && strcmp(optarg, "json"))
                cli_usage_error(&cli, "--format takes tsv or json, not '%s'", optarg);
            o->json = !strcmp(optarg, "json");
            break;
        case OPT_VERIFY: o->verify = 1; break;
        default: cli_usage_error(&cli, "unexpected option");
        }
    }
    if (!o->model || !o->vocab)
        cli_usage_error(&cli, "missing %s", !o->model ? "-m MODEL" : "-V DIR");
    if (o->all && optind < argc)
        cli_usage_error(&cli, "--all takes no IDs");
    if (o->similar && (o->all || o->history || o->csr || o->include_seen || o->explain ||
                       o->cold_given))
        cli_usage_error(&cli, "--similar takes none of --all, --history, -c, --include-seen, "
                        "--explain-source, --cold");
    if (o->history && !strcmp(o->history, "-") && !o->all && optind == argc)
        cli_usage_error(&cli, "--history - reads stdin, so give the users as arguments or "
                        "--all");
    if (o->cold == COLD_POPULAR && !o->csr)
        cli_usage_error(&cli, "--cold popular needs -c CSR (the popularity comes from it)");
}

int
main(int argc, char **argv)
{
    struct opts o = { .k = 10, .cold = COLD_SKIP };
    parse_args(argc, argv, &o);
    la_single_threaded();
    zio_install_signal_cleanup();
    struct diag d = { 0 };
    struct ctx C;
    memset(&C, 0, sizeof C);
    C.o = &o;
    C.threads = cli_threads(&cli);
    vocabdir_init(&C.vd);
    unsigned vflags = o.verify ? AFILE_VERIFY : 0;
    if (model_open(&C.m, o.model, vflags, &d) < 0 ||
        vocabdir_load(&C.vd, o.vocab, vflags, &d) < 0 ||
        (o.csr && csr_open(&C.hist, o.csr, vflags | CSR_LAZY, &d) < 0))
        cli_die_diag(&cli, &d);
    check_shapes(&C);
    if (o.exclude)
        load_item_list(&C, o.exclude, 0);
    if (o.only)
        load_item_list(&C, o.only, 1);
    if (o.cold == COLD_POPULAR && rec_popular(C.hist->t.ptr, C.m->items, &C.popular, &d) < 0)
        cli_die_diag(&cli, &d);
    if (rec_init(&C.rec, C.m, C.mask, o.k, o.similar, &d) < 0)
        cli_die_diag(&cli, &d);
    if (o.history) {
        struct als_params p;
        model_params(C.m, &p);
        if (als_foldin_init(&C.fold, &p, C.m, &d) < 0)
            cli_die_diag(&cli, &d);
        C.have_fold = 1;
        load_history(&C);
    }
    const char *out_path = o.output ? o.output : "-";
    struct zio_out out;
    if (zio_out_open(&out, out_path, &d) < 0)
        cli_die_diag(&cli, &d);
    struct job *jobs = xmem_alloc_array(CHUNK, sizeof *jobs);
    if (!jobs)
        cli_die(&cli, "out of memory");
    size_t n = 0;
    if (o.all) {
        for (uint64_t u = 0; u < C.m->users; u++) {
            size_t len;
            const char *id = vocab_get(&C.vd.users, u, &len);
            if (!id)
                cli_die(&cli, "'%s': damaged vocabulary at user %" PRIu64, o.vocab, u);
            add_job(&C, jobs, &n, id, len, u, 1, &out);
        }
    } else if (optind < argc) {
        for (int a = optind; a < argc; a++)
            add_job(&C, jobs, &n, argv[a], strlen(argv[a]), 0, 0, &out);
    } else {
        struct zio_in *in;
        if (zio_in_open(&in, "-", &d) < 0)
            cli_die_diag(&cli, &d);
        const char *line;
        size_t len;
        int rc;
        while ((rc = zio_in_getline(in, &line, &len, &d)) > 0) {
            if (len && line[len - 1] == '\r')
                len--;
            if (len)
                add_job(&C, jobs, &n, line, len, 0, 0, &out);
        }
        if (rc < 0)
            cli_die_diag(&cli, &d);
        zio_in_close(in);
    }
    if (n)
        answer_chunk(&C, jobs, n, &out);
    if (zio_out_commit(&out, &d) < 0)
        cli_die_diag(&cli, &d);
    zio_out_abort(&out);
    if (!cli.quiet && (C.skipped || cli.verbose))
        fprintf(stderr, "%s: %" PRIu64 " answered (%" PRIu64 " folded in, %" PRIu64
                " popular), %" PRIu64 " skipped: unknown or without factors\n", cli.prog,
                C.answered, C.foldin_n, C.popular_n, C.skipped);
    free(jobs);
    free(C.mask);
    free(C.popular);
    rec_release(&C.rec);
    if (C.have_fold)
        als_foldin_release(&C.fold);
    csr_free(C.fresh);
    csr_free(C.hist);
    model_free(C.m);
    vocabdir_release(&C.vd);
    return CLI_EXIT_OK;
}
