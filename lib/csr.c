/* SPDX-License-Identifier: MIT */
/* csr: the ratings matrix R (users x items) and its transpose, built, split, stored. */
#include "csr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "progress.h"
#include "xmem.h"
#include "zio.h"

const char *const csr_dup_names[] = { "sum", "max", "min", "mean", "first", "last", NULL };

int
csr_parse_dup(const char *name, int *policy)
{
    for (int k = 0; k < 6; k++)
        if (strcmp(name, csr_dup_names[k]) == 0) {
            *policy = k;
            return 0;
        }
    return ALS_EUSAGE;
}

const char *
csr_dup_name(int policy)
{
    return policy >= 0 && policy < 6 ? csr_dup_names[policy] : "?";
}

void
csr_coo_release(struct csr_coo *c)
{
    free(c->u);
    free(c->i);
    free(c->v);
    free(c->time);
    memset(c, 0, sizeof *c);
}

int
csr_coo_push(struct csr_coo *c, uint32_t u, uint32_t i, float v, const int64_t *time)
{
    if (c->n == c->cap) {
        size_t cap = (size_t)c->cap, c2 = cap, c3 = cap, c4 = cap;
        if (xmem_grow((void **)&c->u, &cap, (size_t)c->n + 1, sizeof *c->u) < 0 ||
            xmem_grow((void **)&c->i, &c2, (size_t)c->n + 1, sizeof *c->i) < 0 ||
            xmem_grow((void **)&c->v, &c3, (size_t)c->n + 1, sizeof *c->v) < 0 ||
            (time && xmem_grow((void **)&c->time, &c4, (size_t)c->n + 1, sizeof *c->time) < 0))
            return ALS_ENOMEM;
        c->cap = cap;
    }
    c->u[c->n] = u;
    c->i[c->n] = i;
    c->v[c->n] = v;
    if (time)
        c->time[c->n] = *time;
    c->n++;
    return 0;
}

static void
mat_release(struct csr_mat *m)
{
    free(m->ptr);
    free(m->idx);
    free(m->val);
    memset(m, 0, sizeof *m);
}

void
csr_free(struct csr *c)
{
    if (!c)
        return;
    if (c->owned) {
        mat_release(&c->r);
        mat_release(&c->t);
    }
    afile_close(&c->file);
    free(c);
}

static int
mat_alloc(struct csr_mat *m, uint64_t rows, uint64_t cols, uint64_t nnz)
{
    m->rows = rows;
    m->cols = cols;
    m->nnz = nnz;
    m->ptr = xmem_alloc_array((size_t)rows + 1, sizeof *m->ptr);
    m->idx = xmem_alloc_array((size_t)nnz, sizeof *m->idx);
    m->val = xmem_alloc_array((size_t)nnz, sizeof *m->val);
    if (!m->ptr || !m->idx || !m->val || rows >= SIZE_MAX / 8 || nnz >= SIZE_MAX / 8) {
        mat_release(m);
        return ALS_ENOMEM;
    }
    return 0;
}

int
csr_transpose(const struct csr_mat *m, struct csr_mat *t, struct diag *d)
{
    if (mat_alloc(t, m->cols, m->rows, m->nnz) < 0)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    /* Counting sort by column; scanning rows in order leaves each column's rows sorted. */
    memset(t->ptr, 0, ((size_t)t->rows + 1) * sizeof *t->ptr);
    for (uint64_t k = 0; k < m->nnz; k++)
        t->ptr[m->idx[k] + 1]++;
    for (uint64_t c = 0; c < t->rows; c++)
        t->ptr[c + 1] += t->ptr[c];
    uint64_t *next = xmem_alloc_array((size_t)t->rows + 1, sizeof *next);
    if (!next) {
        mat_release(t);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    memcpy(next, t->ptr, ((size_t)t->rows + 1) * sizeof *next);
    for (uint64_t r = 0; r < m->rows; r++)
        for (uint64_t k = m->ptr[r]; k < m->ptr[r + 1]; k++) {
            uint64_t p = next[m->idx[k]]++;
            t->idx[p] = (uint32_t)r;
            t->val[p] = m->val[k];
        }
    free(next);
    return 0;
}

static struct csr *
csr_alloc(void)
{
    struct csr *c = calloc(1, sizeof *c);
    if (c)
        c->owned = 1;
    return c;
}

int
csr_build(struct csr_coo *coo, uint64_t rows, uint64_t cols, int policy, int drop_zeros,
          struct csr **out, int64_t **times, struct diag *d)
{
    return csr_build_progress(coo, rows, cols, policy, drop_zeros, out, times, NULL, d);
}

/* Progress: a mask test per record or row, a tick (a clock read) per TICK_MASK + 1. */
#define TICK_MASK 0xffffu

/* The build is 7 passes over the n records (the range check, two counts, two scatters,
 * the combining, the transpose), reported as one count of n "records sorted", each pass
 * weighed by its share of the time: the scatter into R's rows, which gathers each record
 * at random, takes most of it. */
static const unsigned build_weight[8] = { 0, 1, 2, 3, 4, 12, 13, 14 }; /* cumulative */

static void
build_tick(struct progress *pr, unsigned pass, uint64_t k, uint64_t n)
{
    double w = build_weight[pass] +
               (build_weight[pass + 1] - build_weight[pass]) * ((double)k / (double)(n ? n : 1));
    progress_tick(pr, (uint64_t)((double)n * w / build_weight[7]), n, "records sorted");
}

int
csr_build_progress(struct csr_coo *coo, uint64_t rows, uint64_t cols, int policy,
                   int drop_zeros, struct csr **out, int64_t **times, struct progress *pr,
                   struct diag *d)
{
    *out = NULL;
    if (times)
        *times = NULL;
    uint64_t n = coo->n;
    int rc = 0;
    uint64_t *count = NULL, *perm = NULL;
    int64_t *tm = NULL;
    struct csr *c = NULL;
    if (rows > UINT32_MAX + 1ull || cols > UINT32_MAX + 1ull) {
        rc = diag_set(d, ALS_ERANGE, "dimensions %llu x %llu exceed 32-bit indices",
                      (unsigned long long)rows, (unsigned long long)cols);
        goto out;
    }
    progress_report(pr, 0, n, "records sorted");
    for (uint64_t k = 0; k < n; k++) {
        if (pr && !(k & TICK_MASK))
            build_tick(pr, 0, k, n);
        if (coo->u[k] >= rows || coo->i[k] >= cols) {
            rc = diag_set(d, ALS_ERANGE, "record %llu: (%u, %u) is outside the %llu x %llu "
                          "matrix", (unsigned long long)k + 1, coo->u[k], coo->i[k],
                          (unsigned long long)rows, (unsigned long long)cols);
            goto out;
        }
    }
    c = csr_alloc();
    size_t cmax = (size_t)(rows > cols ? rows : cols) + 1;
    count = xmem_alloc_array(cmax, sizeof *count);
    perm = xmem_alloc_array((size_t)n, sizeof *perm);
    if (!c || !count || !perm || mat_alloc(&c->r, rows, cols, n) < 0 ||
        (coo->time && !(tm = xmem_alloc_array((size_t)n, sizeof *tm)))) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    /* Pass 1: stable counting sort of record numbers by column. */
    memset(count, 0, cmax * sizeof *count);
    for (uint64_t k = 0; k < n; k++) {
        if (pr && !(k & TICK_MASK))
            build_tick(pr, 1, k, n);
        count[coo->i[k] + 1]++;
    }
    for (uint64_t j = 0; j < cols; j++)
        count[j + 1] += count[j];
    for (uint64_t k = 0; k < n; k++) {
        if (pr && !(k & TICK_MASK))
            build_tick(pr, 2, k, n);
        perm[count[coo->i[k]]++] = k;
    }
    /* Pass 2: stable counting sort by row, in pass 1's order, straight into R's arrays:
     * each row comes out sorted by column, equal columns in input order. */
    uint64_t *ptr = c->r.ptr;
    memset(ptr, 0, ((size_t)rows + 1) * sizeof *ptr);
    for (uint64_t k = 0; k < n; k++) {
        if (pr && !(k & TICK_MASK))
            build_tick(pr, 3, k, n);
        ptr[coo->u[k] + 1]++;
    }
    for (uint64_t r = 0; r < rows; r++)
        ptr[r + 1] += ptr[r];
    memcpy(count, ptr, ((size_t)rows + 1) * sizeof *count);
    for (uint64_t q = 0; q < n; q++) {
        if (pr && !(q & TICK_MASK))
            build_tick(pr, 4, q, n);
        uint64_t k = perm[q], p = count[coo->u[k]]++;
        c->r.idx[p] = coo->i[k];
        c->r.val[p] = coo->v[k];
        if (tm)
            tm[p] = coo->time[k];
    }
    free(perm);
    perm = NULL;
    csr_coo_release(coo);
    /* Combine duplicates (adjacent now) and drop zeros, compacting in place. */
    uint64_t w = 0, start = 0;
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t end = ptr[r + 1];
        if (pr && !(r & TICK_MASK))
            build_tick(pr, 5, start, n);
        for (uint64_t k = start; k < end;) {
            uint64_t e = k + 1;
            double acc = (double)c->r.val[k];
            int64_t t = tm ? tm[k] : 0;
            while (e < end && c->r.idx[e] == c->r.idx[k]) {
                double v = (double)c->r.val[e];
                switch (policy) {
                case CSR_DUP_SUM:
                case CSR_DUP_MEAN: acc += v; break;
                case CSR_DUP_MAX: acc = v > acc ? v : acc; break;
                case CSR_DUP_MIN: acc = v < acc ? v : acc; break;
                case CSR_DUP_FIRST: break;
                case CSR_DUP_LAST: acc = v; break;
                }
                if (tm && tm[e] > t)
                    t = tm[e];
                e++;
            }
            if (policy == CSR_DUP_MEAN)
                acc /= (double)(e - k);
            float f = (float)acc;
            if (!isfinite(f)) {
                rc = diag_set(d, ALS_ENUMERIC, "combining the %llu records of (%llu, %u) "
                              "overflows a 32-bit float", (unsigned long long)(e - k),
                              (unsigned long long)r, c->r.idx[k]);
                goto out;
            }
            if (!(drop_zeros && f == 0.0f)) {
                c->r.idx[w] = c->r.idx[k];
                c->r.val[w] = f;
                if (tm)
                    tm[w] = t;
                w++;
            }
            k = e;
        }
        start = end;
        ptr[r + 1] = w;
    }
    c->r.nnz = w;
    if (w < n && w > 0) { /* give the slack back; failure to shrink is harmless */
        void *p1 = realloc(c->r.idx, (size_t)w * sizeof *c->r.idx);
        void *p2 = realloc(c->r.val, (size_t)w * sizeof *c->r.val);
        if (p1)
            c->r.idx = p1;
        if (p2)
            c->r.val = p2;
    }
    build_tick(pr, 6, 0, n);
    if ((rc = csr_transpose(&c->r, &c->t, d)) < 0)
        goto out;
    progress_report(pr, n, n, "records sorted");
    snprintf(c->meta, sizeof c->meta, "dup=%s\nzeros=%s\n", csr_dup_name(policy),
             drop_zeros ? "dropped" : "kept");
    *out = c;
    c = NULL;
    if (times) {
        *times = tm;
        tm = NULL;
    }
out:
    free(count);
    free(perm);
    free(tm);
    csr_free(c);
    return rc;
}

/* c->meta = base + key + value + newline, cut to fit. */
static void
meta_add(struct csr *c, const char *base, const char *key, const char *value)
{
    size_t cap = sizeof c->meta - 1, n = 0;
    const char *parts[4] = { base, key, value, "\n" };
    for (int k = 0; k < 4; k++) {
        size_t len = strlen(parts[k]);
        if (len > cap - n)
            len = cap - n;
        memcpy(c->meta + n, parts[k], len);
        n += len;
    }
    c->meta[n] = '\0';
}

/* ---- splits ---- */


struct pick {
    int64_t time;
    uint64_t key;
    uint64_t pos;
};

static int
cmp_random(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Latest first; equal times in seeded random order. */
static int
cmp_latest(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    if (x->time != y->time)
        return x->time > y->time ? -1 : 1;
    return cmp_random(a, b);
}

/* Keep the entries of a.r whose mark equals want, as a new owned csr. */
static int
extract(const struct csr *a, const unsigned char *mark, unsigned char want, struct csr **out,
        struct diag *d)
{
    uint64_t nnz = 0;
    for (uint64_t k = 0; k < a->r.nnz; k++)
        nnz += mark[k] == want;
    struct csr *c = csr_alloc();
    if (!c || mat_alloc(&c->r, a->r.rows, a->r.cols, nnz) < 0) {
        csr_free(c);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    uint64_t w = 0;
    c->r.ptr[0] = 0;
    for (uint64_t r = 0; r < a->r.rows; r++) {
        for (uint64_t k = a->r.ptr[r]; k < a->r.ptr[r + 1]; k++)
            if (mark[k] == want) {
                c->r.idx[w] = a->r.idx[k];
                c->r.val[w++] = a->r.val[k];
            }
        c->r.ptr[r + 1] = w;
    }
    int rc = csr_transpose(&c->r, &c->t, d);
    if (rc < 0) {
        csr_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int
csr_split(const struct csr *a, const int64_t *times, const struct csr_split_opts *o,
          struct csr **train, struct csr **test, struct diag *d)
{
    return csr_split_progress(a, times, o, train, test, NULL, d);
}

/* The choice per user counts for the first half of "users split", the two extractions
 * (each with its transpose) for a quarter each. */
static void
split_tick(struct progress *pr, uint64_t r, uint64_t rows)
{
    progress_tick(pr, r / 2, rows, "users split");
}

int
csr_split_progress(const struct csr *a, const int64_t *times, const struct csr_split_opts *o,
                   struct csr **train, struct csr **test, struct progress *pr,
                   struct diag *d)
{
    *train = *test = NULL;
    if (o->by_time && !times)
        return diag_set(d, ALS_EUSAGE, "--by-time needs triples with a time column");
    unsigned char *mark = calloc(a->r.nnz ? (size_t)a->r.nnz : 1, 1);
    uint64_t maxdeg = 0;
    for (uint64_t r = 0; r < a->r.rows; r++)
        if (a->r.ptr[r + 1] - a->r.ptr[r] > maxdeg)
            maxdeg = a->r.ptr[r + 1] - a->r.ptr[r];
    struct pick *pk = xmem_alloc_array((size_t)maxdeg + 1, sizeof *pk);
    int rc = 0;
    if (!mark || !pk) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    uint64_t salt = hmap_mix64(o->seed ^ 0x5eed5eed5eed5eedull);
    int stable = o->stable && o->mode == CSR_SPLIT_FRACTION && !o->by_time;
    uint64_t rows = a->r.rows;
    progress_report(pr, 0, rows, "users split");
    /* Keys below the threshold go to test; fraction 1 takes every key. */
    double span = o->fraction * 18446744073709551616.0;
    uint64_t below = span >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)span;
    for (uint64_t r = 0; stable && r < a->r.rows; r++) {
        if (pr && !(r & TICK_MASK))
            split_tick(pr, r, rows);
        for (uint64_t t = a->r.ptr[r]; t < a->r.ptr[r + 1]; t++) {
            uint64_t key = hmap_mix64(salt ^ hmap_mix64((r << 32) ^ a->r.idx[t]));
            mark[t] = o->fraction >= 1.0 || key < below;
        }
    }
    for (uint64_t r = 0; !stable && r < a->r.rows; r++) {
        if (pr && !(r & 0x3ffu)) /* a sort per user: ticks more often */
            split_tick(pr, r, rows);
        uint64_t b = a->r.ptr[r], n = a->r.ptr[r + 1] - b;
        if (n < 2)
            continue; /* a single interaction always stays in train */
        uint64_t k = o->mode == CSR_SPLIT_FRACTION ? (uint64_t)floor(o->fraction * (double)n + 0.5)
                                                   : o->count;
        if (k > n - 1)
            k = n - 1;
        if (k == 0)
            continue;
        for (uint64_t j = 0; j < n; j++) {
            /* Keyed by (seed, user, item), not by position: the choice does not depend
             * on how the input was ordered. */
            pk[j].key = hmap_mix64(salt ^ hmap_mix64((r << 32) ^ a->r.idx[b + j]));
            pk[j].pos = b + j;
            pk[j].time = times ? times[b + j] : 0;
        }
        qsort(pk, (size_t)n, sizeof *pk, o->by_time ? cmp_latest : cmp_random);
        for (uint64_t j = 0; j < k; j++)
            mark[pk[j].pos] = 1;
    }
    split_tick(pr, rows, rows);
    if ((rc = extract(a, mark, 0, train, d)) < 0)
        goto out;
    progress_tick(pr, rows - rows / 4, rows, "users split");
    if ((rc = extract(a, mark, 1, test, d)) < 0)
        goto out;
    progress_report(pr, rows, rows, "users split");
    char how[160];
    if (o->mode == CSR_SPLIT_FRACTION)
        snprintf(how, sizeof how, "fraction %g, %s, seed %llu", o->fraction,
                 stable ? "stable" : o->by_time ? "latest by time" : "random",
                 (unsigned long long)o->seed);
    else
        snprintf(how, sizeof how, "leave-out %llu, %s, seed %llu", (unsigned long long)o->count,
                 o->by_time ? "latest by time" : "random", (unsigned long long)o->seed);
    /* The split's identity: the matrix it split and how, so that the two sides of one
     * split recognise each other, and a later split of a grown matrix differs. */
    uint64_t src = csr_content_id(a), fbits;
    memcpy(&fbits, &o->fraction, sizeof fbits);
    uint64_t id = hmap_mix64(src ^ hmap_mix64(hmap_mix64((uint64_t)o->mode * 4 +
                                                         (uint64_t)(o->by_time != 0) * 2 +
                                                         (uint64_t)stable) ^
                                              hmap_mix64(fbits ^ hmap_mix64(o->count)) ^
                                              hmap_mix64(o->seed + 0x9e3779b97f4a7c15ull)));
    char ids[128];
    int n = snprintf(ids, sizeof ids, "\nsplit_id=%016llx\nsource_id=%016llx",
                     (unsigned long long)id, (unsigned long long)src);
    if (stable) /* the same for every matrix: what a later night's split shares */
        snprintf(ids + n, sizeof ids - (size_t)n, "\nsplit_family=%016llx",
                 (unsigned long long)hmap_mix64(hmap_mix64(fbits) ^
                                                hmap_mix64(o->seed ^ 0x57ab1eull)));
    char train_how[320], test_how[320];
    snprintf(train_how, sizeof train_how, "%s%s", how, ids);
    snprintf(test_how, sizeof test_how, "%s%s", how, ids);
    meta_add(*train, a->meta, "split=train, ", train_how);
    meta_add(*test, a->meta, "split=test, ", test_how);
out:
    if (rc < 0) {
        csr_free(*train);
        csr_free(*test);
        *train = *test = NULL;
    }
    free(mark);
    free(pk);
    return rc;
}

/* ---- files ---- */

int
csr_write(const struct csr *c, struct zio_out *o, struct diag *d)
{
    struct afile_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.kind, CSR_KIND, 4);
    h.major = CSR_MAJOR;
    h.rows = c->r.rows;
    h.cols = c->r.cols;
    h.nnz = c->r.nnz;
    h.dtype = AFILE_DT_F32;
    struct afile_wsec secs[] = {
        { "ROWP", AFILE_DT_U64, c->r.ptr, (c->r.rows + 1) * 8 },
        { "COLI", AFILE_DT_U32, c->r.idx, c->r.nnz * 4 },
        { "VALS", AFILE_DT_F32, c->r.val, c->r.nnz * 4 },
        { "TROP", AFILE_DT_U64, c->t.ptr, (c->t.rows + 1) * 8 },
        { "TCOL", AFILE_DT_U32, c->t.idx, c->t.nnz * 4 },
        { "TVAL", AFILE_DT_F32, c->t.val, c->t.nnz * 4 },
        { "META", AFILE_DT_BYTES, c->meta, strlen(c->meta) },
    };
    return afile_write(o, &h, secs, 7, d);
}

int
csr_save(const struct csr *c, const char *path, struct diag *d)
{
    struct zio_out o;
    int rc = zio_out_open(&o, path, d);
    if (rc < 0)
        return rc;
    if ((rc = csr_write(c, &o, d)) >= 0)
        rc = zio_out_commit(&o, d);
    zio_out_abort(&o);
    return rc;
}

/* Every offset and index checked before anyone trusts them. */
static int
check_mat(const struct csr_mat *m, const char *path, const char *which, struct diag *d)
{
    if (m->ptr[0] != 0 || m->ptr[m->rows] != m->nnz)
        return diag_set(d, ALS_EFORMAT, "'%s': %s row offsets do not span the %llu entries",
                        path, which, (unsigned long long)m->nnz);
    for (uint64_t r = 0; r < m->rows; r++) {
        uint64_t b = m->ptr[r], e = m->ptr[r + 1];
        if (e < b || e > m->nnz)
            return diag_set(d, ALS_EFORMAT, "'%s': %s row %llu has bad offsets", path, which,
                            (unsigned long long)r);
        for (uint64_t k = b; k < e; k++)
            if (m->idx[k] >= m->cols || (k > b && m->idx[k] <= m->idx[k - 1]))
                return diag_set(d, ALS_EFORMAT, "'%s': %s row %llu has a bad or unsorted "
                                "index at entry %llu", path, which, (unsigned long long)r,
                                (unsigned long long)k);
    }
    return 0;
}

int
csr_open(struct csr **out, const char *path, unsigned flags, struct diag *d)
{
    *out = NULL;
    struct csr *c = calloc(1, sizeof *c);
    if (!c)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    int rc = afile_open(&c->file, path, CSR_KIND, CSR_MAJOR, flags & ~CSR_LAZY, d);
    if (rc < 0) {
        free(c);
        return rc;
    }
    const struct afile_header *h = &c->file.h;
    const void *p[7];
    uint64_t n[7];
    static const char *const tags[7] = { "ROWP", "COLI", "VALS", "TROP", "TCOL", "TVAL", "META" };
    static const uint32_t types[7] = { AFILE_DT_U64, AFILE_DT_U32, AFILE_DT_F32, AFILE_DT_U64,
                                       AFILE_DT_U32, AFILE_DT_F32, AFILE_DT_BYTES };
    for (int k = 0; k < 7; k++)
        if ((rc = afile_section(&c->file, tags[k], types[k], &p[k], &n[k], d)) < 0)
            goto out;
    if (h->rows > UINT32_MAX + 1ull || h->cols > UINT32_MAX + 1ull || n[0] != h->rows + 1 ||
        n[3] != h->cols + 1 || n[1] != h->nnz || n[2] != h->nnz || n[4] != h->nnz ||
        n[5] != h->nnz) {
        rc = diag_set(d, ALS_EFORMAT, "'%s': section sizes disagree with the %llu x %llu "
                      "matrix of %llu entries", path, (unsigned long long)h->rows,
                      (unsigned long long)h->cols, (unsigned long long)h->nnz);
        goto out;
    }
    c->r = (struct csr_mat){ h->rows, h->cols, h->nnz, (uint64_t *)p[0], (uint32_t *)p[1],
                             (float *)p[2] };
    c->t = (struct csr_mat){ h->cols, h->rows, h->nnz, (uint64_t *)p[3], (uint32_t *)p[4],
                             (float *)p[5] };
    size_t ml = n[6] < sizeof c->meta - 1 ? (size_t)n[6] : sizeof c->meta - 1;
    memcpy(c->meta, p[6], ml);
    c->meta[ml] = '\0';
    if (!(flags & CSR_LAZY) &&
        ((rc = check_mat(&c->r, path, "R", d)) < 0 || (rc = check_mat(&c->t, path, "R^T", d)) < 0))
        goto out;
    *out = c;
    return 0;
out:
    csr_free(c);
    return rc;
}

int
csr_row(const struct csr_mat *m, uint64_t r, const uint32_t **idx, const float **val,
        uint64_t *n)
{
    *n = 0;
    *idx = NULL;
    *val = NULL;
    if (r >= m->rows)
        return 0;
    uint64_t b = m->ptr[r], e = m->ptr[r + 1];
    if (b > e || e > m->nnz)
        return ALS_EFORMAT;
    for (uint64_t k = b; k < e; k++)
        if (m->idx[k] >= m->cols || (k > b && m->idx[k] <= m->idx[k - 1]))
            return ALS_EFORMAT;
    *idx = m->idx + b;
    *val = m->val + b;
    *n = e - b;
    return 0;
}

int
csr_equal(const struct csr *a, const struct csr *b)
{
    const struct csr_mat *m[2][2] = { { &a->r, &b->r }, { &a->t, &b->t } };
    for (int k = 0; k < 2; k++) {
        const struct csr_mat *x = m[k][0], *y = m[k][1];
        if (x->rows != y->rows || x->cols != y->cols || x->nnz != y->nnz ||
            memcmp(x->ptr, y->ptr, ((size_t)x->rows + 1) * 8) != 0 ||
            (x->nnz && (memcmp(x->idx, y->idx, (size_t)x->nnz * 4) != 0 ||
                        memcmp(x->val, y->val, (size_t)x->nnz * 4) != 0)))
            return 0;
    }
    return 1;
}

void
csr_value_range(const struct csr_mat *m, float *lo, float *hi)
{
    float a = INFINITY, b = -INFINITY;
    for (uint64_t k = 0; k < m->nnz; k++) {
        a = m->val[k] < a ? m->val[k] : a;
        b = m->val[k] > b ? m->val[k] : b;
    }
    *lo = a;
    *hi = b;
}

uint64_t
csr_content_id(const struct csr *c)
{
    const struct csr_mat *m = &c->r;
    uint32_t crc[3];
    const void *sec;
    uint64_t n;
    /* A mapped file has the CRCs of these very bytes already (little-endian on disk). */
    if (c->file.map && afile_section(&c->file, "ROWP", AFILE_DT_U64, &sec, &n, NULL) == 0 &&
        sec == (const void *)m->ptr) {
        static const char *const tags[3] = { "ROWP", "COLI", "VALS" };
        for (unsigned t = 0; t < 3; t++)
            for (unsigned k = 0; k < c->file.nsec; k++)
                if (!memcmp(c->file.sec[k].tag, tags[t], 4))
                    crc[t] = c->file.sec[k].crc;
    } else {
        crc[0] = afile_crc(m->ptr, (m->rows + 1) * sizeof *m->ptr);
        crc[1] = afile_crc(m->idx, m->nnz * sizeof *m->idx);
        crc[2] = afile_crc(m->val, m->nnz * sizeof *m->val);
    }
    uint64_t h = hmap_mix64(m->rows ^ hmap_mix64(m->cols ^ hmap_mix64(m->nnz)));
    for (unsigned t = 0; t < 3; t++)
        h = hmap_mix64(h ^ ((uint64_t)crc[t] << 16 | t));
    return h;
}

/* The hexadecimal value of key in meta ("key=value" lines); 0 when absent or malformed. */
static uint64_t
meta_hex(const char *meta, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = meta; *p;) {
        if (!strncmp(p, key, kl) && p[kl] == '=') {
            char *end;
            unsigned long long v = strtoull(p + kl + 1, &end, 16);
            return (*end == '\n' || *end == '\0') && end != p + kl + 1 ? (uint64_t)v : 0;
        }
        const char *e = strchr(p, '\n');
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

void
csr_split_info(const struct csr *c, struct csr_split_info *out)
{
    memset(out, 0, sizeof *out);
    const char *s = strstr(c->meta, "split=");
    if (!s || (s != c->meta && s[-1] != '\n'))
        return;
    out->split_id = meta_hex(c->meta, "split_id");
    out->source_id = meta_hex(c->meta, "source_id");
    out->family = meta_hex(c->meta, "split_family");
    if (!out->split_id)
        return; /* a split written before splits had an identity */
    out->side = !strncmp(s + 6, "train,", 6) ? CSR_SIDE_TRAIN
              : !strncmp(s + 6, "test,", 5)  ? CSR_SIDE_TEST
                                             : CSR_SIDE_NONE;
}

uint64_t
csr_common_entries(const struct csr_mat *a, const struct csr_mat *b)
{
    uint64_t n = 0, rows = a->rows < b->rows ? a->rows : b->rows;
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t i = a->ptr[r], ie = a->ptr[r + 1], j = b->ptr[r], je = b->ptr[r + 1];
        while (i < ie && j < je) {
            if (a->idx[i] == b->idx[j]) {
                n++;
                i++;
                j++;
            } else if (a->idx[i] < b->idx[j]) {
                i++;
            } else {
                j++;
            }
        }
    }
    return n;
}
