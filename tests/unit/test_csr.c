/* SPDX-License-Identifier: MIT */
/* test_csr: build against a dense reference, transpose, split properties, files, forgeries. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "csr.h"
#include "diag.h"

#include "t.h"
#include "scratch.h"

/* ---- random numbers from the fixed-seed rnd() of scratch.h ---- */

static uint32_t
rnd_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rnd(s) % n);
}

/* ---- random coordinates and the dense reference ---- */

enum { RROWS = 50, RCOLS = 40, RN = 2000 };
/* Rows and columns that no record touches: one inside, one at the end. */
enum { EMPTY_ROW = 7, EMPTY_COL = 5 };

/* Values exactly representable, zero among them, so sums are exact in any order. */
static const float vals[] = { -2.0f, -1.0f, -0.5f, 0.0f, 0.25f, 1.0f, 2.0f, 3.0f };

static void
gen_coo(struct csr_coo *c, uint64_t seed, int with_time)
{
    uint64_t s = seed;
    memset(c, 0, sizeof *c);
    for (int k = 0; k < RN; k++) {
        uint32_t u, i;
        do
            u = rnd_below(&s, RROWS - 1); /* never the last row */
        while (u == EMPTY_ROW);
        do
            i = rnd_below(&s, RCOLS - 1); /* never the last column */
        while (i == EMPTY_COL);
        /* A hot corner makes long runs of duplicates. */
        if (k % 4 == 0) {
            u %= 3;
            i %= 3;
        }
        float v = vals[rnd_below(&s, sizeof vals / sizeof vals[0])];
        int64_t t = (int64_t)rnd_below(&s, 100000);
        if (csr_coo_push(c, u, i, v, with_time ? &t : NULL) < 0) {
            fprintf(stderr, "test_csr: out of memory\n");
            exit(1);
        }
    }
}

struct cell {
    int n;
    double sum, max, min, first, last;
    int64_t t;
};

static struct cell ref[RROWS][RCOLS];

static void
ref_fill(const struct csr_coo *c)
{
    memset(ref, 0, sizeof ref);
    for (uint64_t k = 0; k < c->n; k++) {
        struct cell *e = &ref[c->u[k]][c->i[k]];
        double v = (double)c->v[k];
        int64_t t = c->time ? c->time[k] : 0;
        if (e->n == 0) {
            e->sum = e->max = e->min = e->first = e->last = v;
            e->t = t;
        } else {
            e->sum += v;
            e->max = v > e->max ? v : e->max;
            e->min = v < e->min ? v : e->min;
            e->last = v;
            e->t = t > e->t ? t : e->t;
        }
        e->n++;
    }
}

static float
ref_value(const struct cell *e, int policy)
{
    switch (policy) {
    case CSR_DUP_SUM: return (float)e->sum;
    case CSR_DUP_MAX: return (float)e->max;
    case CSR_DUP_MIN: return (float)e->min;
    case CSR_DUP_MEAN: return (float)(e->sum / e->n);
    case CSR_DUP_FIRST: return (float)e->first;
    case CSR_DUP_LAST: return (float)e->last;
    }
    return NAN;
}

static int
ref_present(const struct cell *e, int policy, int drop_zeros)
{
    return e->n > 0 && !(drop_zeros && ref_value(e, policy) == 0.0f);
}

/* 0 if m (R, or R^T when transposed) holds exactly the reference cells, in order. */
static int
check_mat_ref(const struct csr_mat *m, int transposed, int policy, int drop_zeros,
              const int64_t *times)
{
    uint64_t rows = transposed ? RCOLS : RROWS, cols = transposed ? RROWS : RCOLS;
    if (m->rows != rows || m->cols != cols || m->ptr[0] != 0)
        return 1;
    uint64_t k = 0;
    for (uint64_t r = 0; r < rows; r++) {
        if (m->ptr[r + 1] < m->ptr[r])
            return 2;
        uint64_t end = m->ptr[r + 1];
        for (uint64_t c = 0; c < cols; c++) {
            const struct cell *e = transposed ? &ref[c][r] : &ref[r][c];
            if (!ref_present(e, policy, drop_zeros))
                continue;
            if (k >= end || m->idx[k] != c)
                return 3; /* missing, extra or out of order */
            float want = ref_value(e, policy);
            if (memcmp(&m->val[k], &want, sizeof want) != 0)
                return 4;
            if (times && times[k] != e->t)
                return 5;
            k++;
        }
        if (k != end)
            return 6;
        for (uint64_t q = m->ptr[r] + 1; q < end; q++)
            if (m->idx[q] <= m->idx[q - 1])
                return 7;
    }
    return k == m->nnz ? 0 : 8;
}

/* A struct csr owning copies of two matrices, for csr_equal against a built one. */
static struct csr *
csr_of(struct csr_mat r, struct csr_mat t)
{
    struct csr *c = calloc(1, sizeof *c);
    if (!c)
        exit(1);
    c->owned = 1;
    c->r = r;
    c->t = t;
    return c;
}

static struct csr *
build(uint64_t seed, int with_time, int policy, int drop_zeros, int64_t **times)
{
    struct csr_coo coo;
    struct csr *c = NULL;
    struct diag d = { 0 };
    gen_coo(&coo, seed, with_time);
    ref_fill(&coo);
    int rc = csr_build(&coo, RROWS, RCOLS, policy, drop_zeros, &c, times, &d);
    csr_coo_release(&coo);
    if (rc < 0) {
        printf("# csr_build: %s\n", d.msg);
        return NULL;
    }
    return c;
}

/* ---- build ---- */

TEST(build_matches_dense_reference_every_policy)
{
    static const char *const names[] = { "sum", "max", "min", "mean", "first", "last" };
    for (int policy = 0; policy < 6; policy++)
        for (int dz = 0; dz < 2; dz++) {
            struct csr *c = build(42, 0, policy, dz, NULL);
            T_TRUE(c != NULL);
            if (!c)
                continue;
            int e1 = check_mat_ref(&c->r, 0, policy, dz, NULL);
            int e2 = check_mat_ref(&c->t, 1, policy, dz, NULL);
            if (e1 || e2)
                T_FAIL("policy %s drop_zeros %d: R check %d, R^T check %d", names[policy], dz,
                       e1, e2);
            char meta[64];
            snprintf(meta, sizeof meta, "dup=%s\nzeros=%s\n", names[policy],
                     dz ? "dropped" : "kept");
            T_EQ_STR(c->meta, meta);
            csr_free(c);
        }
}

TEST(reference_covers_the_interesting_cases)
{
    /* The random input has what the reference comparison is meant to exercise. */
    struct csr_coo coo;
    gen_coo(&coo, 42, 0);
    ref_fill(&coo);
    csr_coo_release(&coo);
    int dups = 0, zero_sum_dups = 0, explicit_zero = 0, long_run = 0, first_ne_last = 0;
    for (int r = 0; r < RROWS; r++)
        for (int c = 0; c < RCOLS; c++) {
            const struct cell *e = &ref[r][c];
            dups += e->n > 1;
            zero_sum_dups += e->n > 1 && e->sum == 0 && e->max != 0;
            explicit_zero += e->n == 1 && e->sum == 0;
            long_run += e->n > 20;
            first_ne_last += e->n > 1 && e->first != e->last;
            if (r == EMPTY_ROW || c == EMPTY_COL || r == RROWS - 1 || c == RCOLS - 1)
                T_EQ_INT(e->n, 0);
        }
    T_TRUE(dups > 100);
    T_TRUE(zero_sum_dups > 0);
    T_TRUE(explicit_zero > 10);
    T_TRUE(long_run > 0);
    T_TRUE(first_ne_last > 50);
    /* and the comparison can fail: a max-built matrix is not the sum reference */
    struct csr *c = build(42, 0, CSR_DUP_MAX, 0, NULL);
    T_TRUE(c != NULL);
    if (c) {
        T_TRUE(check_mat_ref(&c->r, 0, CSR_DUP_SUM, 0, NULL) != 0);
        T_TRUE(check_mat_ref(&c->r, 0, CSR_DUP_MAX, 1, NULL) != 0);
        T_TRUE(check_mat_ref(&c->t, 1, CSR_DUP_MAX, 0, NULL) == 0);
    }
    csr_free(c);
}

TEST(build_combines_times_to_the_latest)
{
    for (int policy = 0; policy < 6; policy++) {
        int64_t *times = NULL;
        struct csr *c = build(7, 1, policy, policy % 2, &times);
        T_TRUE(c && times);
        if (c && times)
            T_EQ_INT(check_mat_ref(&c->r, 0, policy, policy % 2, times), 0);
        free(times);
        csr_free(c);
    }
    /* without times in the coo, *times stays NULL */
    int64_t *times = (int64_t *)1;
    struct csr *c = build(7, 0, CSR_DUP_SUM, 0, &times);
    T_TRUE(c != NULL);
    T_TRUE(times == NULL);
    csr_free(c);
}

TEST(build_first_last_follow_input_order)
{
    struct csr_coo coo = { 0 };
    const float v[] = { 5, 1, 9, 3 };
    for (int k = 0; k < 4; k++)
        T_OK(csr_coo_push(&coo, 1, 2, v[k], NULL));
    T_OK(csr_coo_push(&coo, 0, 2, 4, NULL));
    T_OK(csr_coo_push(&coo, 1, 0, 0, NULL));
    static const float want[6] = { 18, 9, 1, 4.5f, 5, 3 };
    for (int p = 0; p < 6; p++) {
        struct csr_coo cp = { 0 };
        for (uint64_t k = 0; k < coo.n; k++)
            T_OK(csr_coo_push(&cp, coo.u[k], coo.i[k], coo.v[k], NULL));
        struct csr *c = NULL;
        T_OK(csr_build(&cp, 2, 3, p, 0, &c, NULL, NULL));
        csr_coo_release(&cp);
        if (!c)
            continue;
        T_EQ_U64(c->r.nnz, 3);
        T_EQ_U64(c->r.ptr[1], 1);
        T_EQ_U64(c->r.idx[1], 0);
        T_TRUE(c->r.val[1] == 0.0f);        /* the explicit zero is kept */
        T_EQ_U64(c->r.idx[2], 2);
        T_NEAR((double)c->r.val[2], (double)want[p], 0);
        csr_free(c);
    }
    csr_coo_release(&coo);
}

TEST(build_index_out_of_range_names_the_record)
{
    struct csr_coo coo = { 0 };
    T_OK(csr_coo_push(&coo, 0, 0, 1, NULL));
    T_OK(csr_coo_push(&coo, 1, 1, 1, NULL));
    T_OK(csr_coo_push(&coo, 2, 1, 1, NULL));
    struct csr *c = (struct csr *)1;
    struct diag d = { 0 };
    T_EQ_INT(csr_build(&coo, 2, 2, CSR_DUP_SUM, 0, &c, NULL, &d), ALS_ERANGE);
    T_TRUE(c == NULL);
    T_TRUE(strstr(d.msg, "record 3") != NULL);
    T_TRUE(strstr(d.msg, "(2, 1)") != NULL);
    csr_coo_release(&coo);

    T_OK(csr_coo_push(&coo, 0, 5, 1, NULL));
    T_EQ_INT(csr_build(&coo, 2, 5, CSR_DUP_SUM, 0, &c, NULL, &d), ALS_ERANGE);
    T_TRUE(strstr(d.msg, "record 1") != NULL);
    csr_coo_release(&coo);
}

TEST(build_overflowing_combination_is_numeric_error)
{
    struct csr_coo coo = { 0 };
    T_OK(csr_coo_push(&coo, 0, 0, 3e38f, NULL));
    T_OK(csr_coo_push(&coo, 0, 0, 3e38f, NULL));
    struct csr *c = NULL;
    struct diag d = { 0 };
    T_EQ_INT(csr_build(&coo, 1, 1, CSR_DUP_SUM, 0, &c, NULL, &d), ALS_ENUMERIC);
    T_TRUE(c == NULL);
    csr_coo_release(&coo);
    /* mean of the same two is fine: the sum is kept in double */
    T_OK(csr_coo_push(&coo, 0, 0, 3e38f, NULL));
    T_OK(csr_coo_push(&coo, 0, 0, 3e38f, NULL));
    T_OK(csr_build(&coo, 1, 1, CSR_DUP_MEAN, 0, &c, NULL, &d));
    if (c)
        T_TRUE(c->r.val[0] == 3e38f);
    csr_free(c);
    csr_coo_release(&coo);
}

TEST(build_empty_input_keeps_the_shape)
{
    struct csr_coo coo = { 0 };
    struct csr *c = NULL;
    T_OK(csr_build(&coo, 3, 2, CSR_DUP_SUM, 0, &c, NULL, NULL));
    if (c) {
        T_EQ_U64(c->r.rows, 3);
        T_EQ_U64(c->r.cols, 2);
        T_EQ_U64(c->r.nnz, 0);
        T_EQ_U64(c->t.rows, 2);
        T_EQ_U64(c->t.cols, 3);
        for (int r = 0; r <= 3; r++)
            T_EQ_U64(c->r.ptr[r], 0);
        for (int r = 0; r <= 2; r++)
            T_EQ_U64(c->t.ptr[r], 0);
    }
    csr_free(c);
    c = NULL;
    T_OK(csr_build(&coo, 0, 0, CSR_DUP_SUM, 0, &c, NULL, NULL));
    if (c)
        T_EQ_U64(c->r.ptr[0], 0);
    csr_free(c);
    /* every record dropped as zero */
    T_OK(csr_coo_push(&coo, 1, 1, 0, NULL));
    T_OK(csr_build(&coo, 2, 2, CSR_DUP_SUM, 1, &c, NULL, NULL));
    if (c) {
        T_EQ_U64(c->r.nnz, 0);
        T_EQ_U64(c->r.ptr[2], 0);
        T_EQ_U64(c->t.ptr[2], 0);
    }
    csr_free(c);
    csr_coo_release(&coo);
    csr_free(NULL);
}

TEST(value_range_of_entries_and_of_nothing)
{
    struct csr_coo coo = { 0 };
    struct csr *c = NULL;
    float lo, hi;
    T_OK(csr_coo_push(&coo, 0, 1, 2.5f, NULL));
    T_OK(csr_coo_push(&coo, 1, 0, -0.5f, NULL));
    T_OK(csr_coo_push(&coo, 1, 1, 4.0f, NULL));
    T_OK(csr_build(&coo, 2, 2, CSR_DUP_SUM, 0, &c, NULL, NULL));
    if (c) {
        csr_value_range(&c->r, &lo, &hi);
        T_TRUE(lo == -0.5f && hi == 4.0f);
        csr_value_range(&c->t, &lo, &hi);
        T_TRUE(lo == -0.5f && hi == 4.0f);
    }
    csr_free(c);
    csr_coo_release(&coo);
    struct csr_coo none = { 0 };
    c = NULL;
    T_OK(csr_build(&none, 2, 2, CSR_DUP_SUM, 0, &c, NULL, NULL));
    if (c) {
        csr_value_range(&c->r, &lo, &hi);
        T_TRUE(lo > hi && isinf(lo) && isinf(hi));
    }
    csr_free(c);
}

/* ---- transpose ---- */

TEST(transpose_twice_is_identity)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct csr *a = build(seed, 0, CSR_DUP_LAST, 0, NULL);
        T_TRUE(a != NULL);
        if (!a)
            continue;
        struct csr_mat r2, t2;
        T_OK(csr_transpose(&a->t, &r2, NULL));   /* (R^T)^T = R */
        T_OK(csr_transpose(&r2, &t2, NULL));     /* R^T again */
        struct csr *b = csr_of(r2, t2);
        T_TRUE(csr_equal(a, b));
        T_TRUE(csr_equal(b, a));
        /* and csr_equal does see a difference */
        if (b->r.nnz) {
            b->r.val[b->r.nnz / 2] += 1.0f;
            T_TRUE(!csr_equal(a, b));
        }
        csr_free(b);
        csr_free(a);
    }
}

TEST(transpose_matches_dense_reference)
{
    struct csr *a = build(11, 0, CSR_DUP_MIN, 1, NULL);
    T_TRUE(a != NULL);
    if (!a)
        return;
    struct csr_mat t;
    T_OK(csr_transpose(&a->r, &t, NULL));
    T_EQ_INT(check_mat_ref(&t, 1, CSR_DUP_MIN, 1, NULL), 0);
    free(t.ptr);
    free(t.idx);
    free(t.val);
    csr_free(a);
}

/* ---- splits ---- */

enum { SROWS = 60, SCOLS = 70 };

/* Rows 0..4 have 0..4 entries (row 5 and up about 30), integer values, random times:
 * sum and latest-time combining make the result independent of the record order. */
static void
gen_split_coo(struct csr_coo *c, uint64_t seed)
{
    uint64_t s = seed;
    memset(c, 0, sizeof *c);
    for (uint32_t u = 0; u < 5; u++)
        for (uint32_t k = 0; k < u; k++) {
            int64_t t = (int64_t)rnd_below(&s, 1000000);
            if (csr_coo_push(c, u, 3 + 5 * k, (float)(1 + k), &t) < 0)
                exit(1);
        }
    for (int k = 0; k < 2200; k++) {
        uint32_t u = 5 + rnd_below(&s, SROWS - 5), i = rnd_below(&s, SCOLS);
        int64_t t = (int64_t)rnd_below(&s, 1000000);
        if (csr_coo_push(c, u, i, (float)(1 + rnd_below(&s, 5)), &t) < 0)
            exit(1);
    }
}

static void
shuffle_coo(struct csr_coo *c, uint64_t seed)
{
    uint64_t s = seed;
    for (uint64_t k = c->n; k > 1; k--) {
        uint64_t j = rnd(&s) % k, a = k - 1;
        uint32_t tu = c->u[a], ti = c->i[a];
        float tv = c->v[a];
        int64_t tt = c->time[a];
        c->u[a] = c->u[j], c->i[a] = c->i[j], c->v[a] = c->v[j], c->time[a] = c->time[j];
        c->u[j] = tu, c->i[j] = ti, c->v[j] = tv, c->time[j] = tt;
    }
}

static struct csr *
build_split_input(uint64_t seed, uint64_t shuffle_seed, int64_t **times)
{
    struct csr_coo coo;
    struct csr *c = NULL;
    gen_split_coo(&coo, seed);
    if (shuffle_seed)
        shuffle_coo(&coo, shuffle_seed);
    if (csr_build(&coo, SROWS, SCOLS, CSR_DUP_SUM, 0, &c, times, NULL) < 0)
        c = NULL;
    csr_coo_release(&coo);
    return c;
}

static uint64_t
held_count(const struct csr_split_opts *o, uint64_t n)
{
    if (n < 2)
        return 0;
    uint64_t k = o->mode == CSR_SPLIT_FRACTION ? (uint64_t)llround(o->fraction * (double)n)
                                               : o->count;
    return k > n - 1 ? n - 1 : k;
}

/* 1 if m's R^T is the transpose of its R. */
static int
t_consistent(const struct csr *m)
{
    struct csr_mat t;
    if (csr_transpose(&m->r, &t, NULL) < 0)
        return 0;
    int ok = t.rows == m->t.rows && t.nnz == m->t.nnz &&
             memcmp(t.ptr, m->t.ptr, ((size_t)t.rows + 1) * 8) == 0 &&
             (t.nnz == 0 || (memcmp(t.idx, m->t.idx, (size_t)t.nnz * 4) == 0 &&
                             memcmp(t.val, m->t.val, (size_t)t.nnz * 4) == 0));
    free(t.ptr);
    free(t.idx);
    free(t.val);
    return ok;
}

/* Check every split property; returns a nonzero code naming the first that fails. */
static int
check_split(const struct csr *a, const int64_t *times, const struct csr_split_opts *o,
            const struct csr *train, const struct csr *test)
{
    const struct csr_mat *A = &a->r, *R = &train->r, *S = &test->r;
    if (R->rows != A->rows || R->cols != A->cols || S->rows != A->rows || S->cols != A->cols ||
        train->t.rows != A->cols || test->t.rows != A->cols)
        return 1;
    if (R->nnz + S->nnz != A->nnz)
        return 2;
    for (uint64_t r = 0; r < A->rows; r++) {
        uint64_t p = R->ptr[r], pe = R->ptr[r + 1], q = S->ptr[r], qe = S->ptr[r + 1];
        uint64_t n = A->ptr[r + 1] - A->ptr[r];
        int64_t kept_max = INT64_MIN, held_min = INT64_MAX;
        if (qe - q != held_count(o, n))
            return 3;
        for (uint64_t k = A->ptr[r]; k < A->ptr[r + 1]; k++) {
            /* each entry of a is in exactly one of train, test: merge both rows */
            int in_r = p < pe && R->idx[p] == A->idx[k];
            int in_s = q < qe && S->idx[q] == A->idx[k];
            if (in_r == in_s)
                return 4;
            const struct csr_mat *m = in_r ? R : S;
            uint64_t at = in_r ? p++ : q++;
            if (memcmp(&m->val[at], &A->val[k], 4) != 0)
                return 5;
            if (times) {
                if (in_r && times[k] > kept_max)
                    kept_max = times[k];
                if (in_s && times[k] < held_min)
                    held_min = times[k];
            }
        }
        if (p != pe || q != qe)
            return 6;
        if (o->by_time && qe > S->ptr[r] && held_min < kept_max)
            return 7;
    }
    if (!t_consistent(train) || !t_consistent(test))
        return 8;
    return 0;
}

static const struct csr_split_opts split_cases[] = {
    { CSR_SPLIT_FRACTION, 0.2, 0, 0, 1, 0 },  { CSR_SPLIT_FRACTION, 0.5, 0, 0, 2, 0 },
    { CSR_SPLIT_FRACTION, 0.6, 0, 1, 3, 0 },  { CSR_SPLIT_FRACTION, 1.0, 0, 0, 4, 0 },
    { CSR_SPLIT_FRACTION, 0.0, 0, 0, 5, 0 },  { CSR_SPLIT_FRACTION, 0.25, 0, 1, 6, 0 },
    { CSR_SPLIT_LEAVE_OUT, 0, 1, 0, 7, 0 },   { CSR_SPLIT_LEAVE_OUT, 0, 3, 1, 8, 0 },
    { CSR_SPLIT_LEAVE_OUT, 0, 1000, 0, 9, 0 }, { CSR_SPLIT_LEAVE_OUT, 0, 2, 1, 10, 0 },
};
#define NCASES (sizeof split_cases / sizeof split_cases[0])

TEST(split_properties)
{
    int64_t *times = NULL;
    struct csr *a = build_split_input(99, 0, &times);
    T_TRUE(a && times);
    if (!a || !times)
        return;
    for (size_t c = 0; c < NCASES; c++) {
        const struct csr_split_opts *o = &split_cases[c];
        struct csr *tr = NULL, *te = NULL;
        struct diag d = { 0 };
        T_OK(csr_split(a, times, o, &tr, &te, &d));
        if (!tr || !te)
            continue;
        int e = check_split(a, o->by_time ? times : NULL, o, tr, te);
        if (e)
            T_FAIL("split case %zu: property %d fails", c, e);
        /* the checker itself notices a swap of the halves (when they differ in size) */
        if (tr->r.nnz != te->r.nnz)
            T_TRUE(check_split(a, o->by_time ? times : NULL, o, te, tr) != 0);
        T_TRUE(strstr(tr->meta, "split=train") != NULL);
        T_TRUE(strstr(te->meta, "split=test") != NULL);
        T_TRUE(strncmp(tr->meta, a->meta, strlen(a->meta)) == 0);
        csr_free(tr);
        csr_free(te);
    }
    free(times);
    csr_free(a);
}

TEST(split_same_seed_same_result_other_seed_other)
{
    int64_t *times = NULL;
    struct csr *a = build_split_input(5, 0, &times);
    T_TRUE(a != NULL);
    if (!a)
        return;
    for (size_t c = 0; c < NCASES; c++) {
        struct csr_split_opts o = split_cases[c];
        struct csr *tr1, *te1, *tr2, *te2, *tr3, *te3;
        T_OK(csr_split(a, times, &o, &tr1, &te1, NULL));
        T_OK(csr_split(a, times, &o, &tr2, &te2, NULL));
        o.seed += 1000;
        T_OK(csr_split(a, times, &o, &tr3, &te3, NULL));
        if (tr1 && tr2 && tr3) {
            T_TRUE(csr_equal(tr1, tr2));
            T_TRUE(csr_equal(te1, te2));
            T_EQ_STR(tr1->meta, tr2->meta);
            /* a random choice changes with the seed (unless nothing is held out); a
             * choice by distinct times does not */
            if (o.by_time)
                T_TRUE(csr_equal(te1, te3));
            else if (te1->r.nnz > 0)
                T_TRUE(!csr_equal(te1, te3));
        }
        csr_free(tr1), csr_free(te1), csr_free(tr2), csr_free(te2);
        csr_free(tr3), csr_free(te3);
    }
    free(times);
    csr_free(a);
}

TEST(split_is_random_not_positional)
{
    /* Over many rows a 0.2 random split holds out a row's smallest column about 20% of
     * the time, never always or never. */
    int64_t *times = NULL;
    struct csr *a = build_split_input(8, 0, &times);
    T_TRUE(a != NULL);
    if (!a)
        return;
    struct csr_split_opts o = { CSR_SPLIT_FRACTION, 0.2, 0, 0, 17, 0 };
    int firsts = 0, lasts = 0, rows = 0;
    for (uint64_t seed = 0; seed < 10; seed++) {
        struct csr *tr, *te;
        o.seed = seed;
        T_OK(csr_split(a, times, &o, &tr, &te, NULL));
        if (!tr)
            continue;
        for (uint64_t r = 5; r < SROWS; r++) {
            uint64_t b = a->r.ptr[r], e = a->r.ptr[r + 1];
            if (e - b < 10)
                continue;
            rows++;
            firsts += te->r.ptr[r + 1] > te->r.ptr[r] && te->r.idx[te->r.ptr[r]] == a->r.idx[b];
            lasts += te->r.ptr[r + 1] > te->r.ptr[r] &&
                     te->r.idx[te->r.ptr[r + 1] - 1] == a->r.idx[e - 1];
        }
        csr_free(tr);
        csr_free(te);
    }
    T_TRUE(rows > 100);
    T_TRUE(firsts > rows / 20 && firsts < rows / 2);
    T_TRUE(lasts > rows / 20 && lasts < rows / 2);
    free(times);
    csr_free(a);
}

TEST(split_independent_of_input_order)
{
    int64_t *t1 = NULL, *t2 = NULL;
    struct csr *a = build_split_input(21, 0, &t1), *b = build_split_input(21, 12345, &t2);
    T_TRUE(a && b);
    if (!a || !b)
        return;
    T_TRUE(csr_equal(a, b));
    T_TRUE(memcmp(t1, t2, (size_t)a->r.nnz * sizeof *t1) == 0);
    for (size_t c = 0; c < NCASES; c++) {
        struct csr *tra, *tea, *trb, *teb;
        T_OK(csr_split(a, t1, &split_cases[c], &tra, &tea, NULL));
        T_OK(csr_split(b, t2, &split_cases[c], &trb, &teb, NULL));
        if (tra && trb) {
            T_TRUE(csr_equal(tra, trb));
            T_TRUE(csr_equal(tea, teb));
        }
        csr_free(tra), csr_free(tea), csr_free(trb), csr_free(teb);
    }
    free(t1);
    free(t2);
    csr_free(a);
    csr_free(b);
}

TEST(split_by_time_picks_the_latest_by_hand)
{
    /* one user, times 50 10 40 30 20 on items 0..4: the two latest are items 0 and 2 */
    struct csr_coo coo = { 0 };
    const int64_t t[5] = { 50, 10, 40, 30, 20 };
    for (uint32_t i = 0; i < 5; i++)
        T_OK(csr_coo_push(&coo, 0, 4 - i, (float)(4 - i), &t[4 - i]));
    /* and a user with one interaction */
    T_OK(csr_coo_push(&coo, 1, 0, 7, &t[0]));
    struct csr *a = NULL, *tr = NULL, *te = NULL;
    int64_t *times = NULL;
    T_OK(csr_build(&coo, 2, 5, CSR_DUP_SUM, 0, &a, &times, NULL));
    csr_coo_release(&coo);
    if (!a)
        return;
    struct csr_split_opts o = { CSR_SPLIT_LEAVE_OUT, 0, 2, 1, 0, 0 };
    T_OK(csr_split(a, times, &o, &tr, &te, NULL));
    if (tr && te) {
        T_EQ_U64(te->r.nnz, 2);
        T_EQ_U64(te->r.idx[0], 0);
        T_EQ_U64(te->r.idx[1], 2);
        T_EQ_U64(te->r.ptr[2], 2); /* user 1 holds nothing out */
        T_EQ_U64(tr->r.nnz, 4);
        T_EQ_U64(tr->r.ptr[1], 3);
        T_EQ_U64(tr->r.idx[3], 0);
    }
    csr_free(tr);
    csr_free(te);
    /* by time without times is a usage error */
    struct diag d = { 0 };
    T_EQ_INT(csr_split(a, NULL, &o, &tr, &te, &d), ALS_EUSAGE);
    T_TRUE(tr == NULL && te == NULL);
    free(times);
    csr_free(a);
}

/* ---- files ---- */

TEST(save_open_round_trip)
{
    int64_t *times = NULL;
    struct csr *a = build(3, 1, CSR_DUP_MEAN, 1, &times);
    T_TRUE(a != NULL);
    if (!a)
        return;
    const char *p = tpath("a.csr"), *p2 = tpath("a2.csr");
    T_OK(csr_save(a, p, NULL));
    T_OK(csr_save(a, p2, NULL));
    size_t n1, n2;
    unsigned char *b1 = slurp(p, &n1), *b2 = slurp(p2, &n2);
    T_TRUE(b1 && b2);
    if (b1 && b2)
        T_EQ_MEM(b1, n1, b2, n2); /* deterministic bytes */
    free(b1);
    free(b2);
    for (unsigned flags = 0; flags <= AFILE_VERIFY; flags += AFILE_VERIFY) {
        struct csr *b = NULL;
        struct diag d = { 0 };
        T_OK(csr_open(&b, p, flags, &d));
        if (!b)
            continue;
        T_TRUE(csr_equal(a, b));
        T_EQ_STR(b->meta, a->meta);
        T_EQ_STR(b->meta, "dup=mean\nzeros=dropped\n");
        T_EQ_INT(check_mat_ref(&b->r, 0, CSR_DUP_MEAN, 1, NULL), 0);
        csr_free(b);
    }
    /* the split halves too, meta and all */
    struct csr_split_opts o = { CSR_SPLIT_FRACTION, 0.3, 0, 1, 9, 0 };
    struct csr *tr = NULL, *te = NULL, *b = NULL;
    T_OK(csr_split(a, times, &o, &tr, &te, NULL));
    if (tr && te) {
        const char *pt = tpath("te.csr");
        T_OK(csr_save(te, pt, NULL));
        T_OK(csr_open(&b, pt, AFILE_VERIFY, NULL));
        if (b) {
            T_TRUE(csr_equal(te, b));
            T_EQ_STR(b->meta, te->meta);
            T_TRUE(strstr(b->meta, "split=test, fraction 0.3, latest by time, seed 9") != NULL);
        }
        csr_free(b);
    }
    csr_free(tr);
    csr_free(te);
    /* an empty matrix */
    struct csr_coo coo = { 0 };
    struct csr *e = NULL;
    T_OK(csr_build(&coo, 4, 0, CSR_DUP_SUM, 0, &e, NULL, NULL));
    if (e) {
        const char *pe = tpath("empty.csr");
        T_OK(csr_save(e, pe, NULL));
        b = NULL;
        T_OK(csr_open(&b, pe, AFILE_VERIFY, NULL));
        if (b) {
            T_TRUE(csr_equal(e, b));
            T_EQ_U64(b->r.rows, 4);
            T_EQ_U64(b->r.cols, 0);
        }
        csr_free(b);
    }
    csr_free(e);
    free(times);
    csr_free(a);
}

TEST(open_flipped_byte_is_a_checksum_error_with_verify)
{
    struct csr *a = build(4, 0, CSR_DUP_SUM, 0, NULL);
    if (!a)
        return;
    const char *p = tpath("flip.csr");
    T_OK(csr_save(a, p, NULL));
    struct csr *b = NULL;
    T_OK(csr_open(&b, p, AFILE_VERIFY, NULL));
    uint64_t off = 0;
    if (b)
        for (unsigned s = 0; s < b->file.nsec; s++)
            if (memcmp(b->file.sec[s].tag, "VALS", 4) == 0)
                off = b->file.sec[s].offset;
    csr_free(b);
    T_TRUE(off > 0);
    size_t n;
    unsigned char *buf = slurp(p, &n);
    if (!buf)
        return;
    buf[off + 5] ^= 0x10;
    FILE *fp = fopen(p, "wb");
    T_TRUE(fp && fwrite(buf, 1, n, fp) == n);
    if (fp)
        fclose(fp);
    free(buf);
    struct diag d = { 0 };
    b = (struct csr *)1;
    T_EQ_INT(csr_open(&b, p, AFILE_VERIFY, &d), ALS_ECHECKSUM);
    T_TRUE(b == NULL);
    T_TRUE(strstr(d.msg, "VALS") != NULL);
    csr_free(a);
}

/* ---- forged files: right CRCs, wrong contents ---- */

/* R (3 x 4) = row 0: (0, 1) (2, 2); row 1: empty; row 2: (1, 3) (3, 4) */
struct forge {
    uint64_t rows, cols, nnz;
    uint64_t ptr[8], tptr[8];
    uint32_t idx[8], tidx[8];
    float val[8], tval[8];
    uint64_t nptr, ntptr; /* entries written for ROWP and TROP */
    uint32_t vals_dtype;
    int skip_meta;
    char kind[5];
    uint16_t major;
};

static struct forge
forge_good(void)
{
    struct forge f = {
        .rows = 3, .cols = 4, .nnz = 4,
        .ptr = { 0, 2, 2, 4 }, .idx = { 0, 2, 1, 3 }, .val = { 1, 2, 3, 4 },
        .tptr = { 0, 1, 2, 3, 4 }, .tidx = { 0, 2, 0, 2 }, .tval = { 1, 3, 2, 4 },
        .nptr = 4, .ntptr = 5, .vals_dtype = AFILE_DT_F32, .kind = "CSR1", .major = 1,
    };
    return f;
}

static int
forge_write(const struct forge *f, const char *path)
{
    struct afile_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.kind, f->kind, 4);
    h.major = f->major;
    h.rows = f->rows;
    h.cols = f->cols;
    h.nnz = f->nnz;
    h.dtype = AFILE_DT_F32;
    static const char meta[] = "dup=sum\nzeros=kept\n";
    struct afile_wsec secs[] = {
        { "ROWP", AFILE_DT_U64, f->ptr, f->nptr * 8 },
        { "COLI", AFILE_DT_U32, f->idx, 4 * 4 },
        { "VALS", f->vals_dtype, f->val, 4 * 4 },
        { "TROP", AFILE_DT_U64, f->tptr, f->ntptr * 8 },
        { "TCOL", AFILE_DT_U32, f->tidx, 4 * 4 },
        { "TVAL", AFILE_DT_F32, f->tval, 4 * 4 },
        { "META", AFILE_DT_BYTES, meta, sizeof meta - 1 },
    };
    struct diag d = { 0 };
    return afile_save(path, &h, secs, f->skip_meta ? 6 : 7, &d);
}

/* csr_open's code for the forgery, with its message in msg */
static int
forge_open(const struct forge *f, char *msg, size_t cap)
{
    const char *p = tpath("forged.csr");
    if (forge_write(f, p) < 0)
        return 99;
    struct csr *c = (struct csr *)1;
    struct diag d = { 0 };
    int rc = csr_open(&c, p, AFILE_VERIFY, &d);
    snprintf(msg, cap, "%s", d.msg);
    if (rc < 0 && c != NULL)
        return 98; /* *out must be NULL on error */
    if (rc == 0) {
        csr_free(c);
    }
    return rc;
}

TEST(open_accepts_the_honest_forgery)
{
    struct forge f = forge_good();
    char msg[512];
    T_EQ_INT(forge_open(&f, msg, sizeof msg), 0);
    /* and it is what csr_build makes of the same entries */
    struct csr_coo coo = { 0 };
    T_OK(csr_coo_push(&coo, 2, 3, 4, NULL));
    T_OK(csr_coo_push(&coo, 0, 2, 2, NULL));
    T_OK(csr_coo_push(&coo, 2, 1, 3, NULL));
    T_OK(csr_coo_push(&coo, 0, 0, 1, NULL));
    struct csr *a = NULL, *b = NULL;
    T_OK(csr_build(&coo, 3, 4, CSR_DUP_SUM, 0, &a, NULL, NULL));
    csr_coo_release(&coo);
    T_OK(csr_open(&b, tpath("forged.csr"), AFILE_VERIFY, NULL));
    if (a && b)
        T_TRUE(csr_equal(a, b));
    csr_free(a);
    csr_free(b);
}

#define FORGE_REJECT(f, code, part)                                                     \
    do {                                                                                \
        char m_[512] = "";                                                              \
        int rc_ = forge_open(&(f), m_, sizeof m_);                                      \
        if (rc_ != (code) || !strstr(m_, (part)))                                       \
            T_FAIL("forgery: rc %d (expected %d), message '%s' (expected '%s')", rc_,   \
                   (code), m_, (part));                                                 \
    } while (0)

TEST(open_rejects_bad_indices_with_right_crcs)
{
    struct forge f;
    f = forge_good(), f.idx[1] = 4; /* column == cols */
    FORGE_REJECT(f, ALS_EFORMAT, "R row 0 has a bad or unsorted index");
    f = forge_good(), f.idx[3] = 0xffffffffu;
    FORGE_REJECT(f, ALS_EFORMAT, "R row 2");
    f = forge_good(), f.idx[0] = 2, f.idx[1] = 0; /* unsorted row */
    FORGE_REJECT(f, ALS_EFORMAT, "R row 0 has a bad or unsorted index");
    f = forge_good(), f.idx[0] = 2; /* repeated column */
    FORGE_REJECT(f, ALS_EFORMAT, "unsorted");
    f = forge_good(), f.tidx[3] = 3; /* row == rows, in R^T */
    FORGE_REJECT(f, ALS_EFORMAT, "R^T row 3");
    f = forge_good(), f.tptr[1] = 2, f.tidx[0] = 2, f.tidx[1] = 0; /* unsorted column */
    FORGE_REJECT(f, ALS_EFORMAT, "R^T row 0");
}

TEST(open_rejects_bad_offsets_and_sizes_with_right_crcs)
{
    struct forge f;
    f = forge_good(), f.ptr[2] = 1; /* not monotone */
    FORGE_REJECT(f, ALS_EFORMAT, "R row 1 has bad offsets");
    f = forge_good(), f.ptr[1] = 5, f.ptr[2] = 5; /* past nnz */
    FORGE_REJECT(f, ALS_EFORMAT, "bad offsets");
    f = forge_good(), f.ptr[3] = 3; /* does not end at nnz */
    FORGE_REJECT(f, ALS_EFORMAT, "do not span");
    f = forge_good(), f.ptr[0] = 1;
    FORGE_REJECT(f, ALS_EFORMAT, "do not span");
    f = forge_good(), f.tptr[4] = 5;
    FORGE_REJECT(f, ALS_EFORMAT, "R^T row offsets do not span");
    f = forge_good(), f.nptr = 3; /* ROWP one short */
    FORGE_REJECT(f, ALS_EFORMAT, "section sizes disagree");
    f = forge_good(), f.ntptr = 6;
    FORGE_REJECT(f, ALS_EFORMAT, "section sizes disagree");
    f = forge_good(), f.nnz = 3;
    FORGE_REJECT(f, ALS_EFORMAT, "section sizes disagree");
    f = forge_good(), f.rows = 1ull << 40; /* huge, with a small ROWP: no huge allocation */
    FORGE_REJECT(f, ALS_EFORMAT, "section sizes disagree");
    f = forge_good(), f.rows = UINT64_MAX, f.nptr = 0; /* rows + 1 wraps to 0 */
    FORGE_REJECT(f, ALS_EFORMAT, "");
    f = forge_good(), f.cols = UINT64_MAX, f.ntptr = 0;
    FORGE_REJECT(f, ALS_EFORMAT, "");
    f = forge_good(), f.skip_meta = 1;
    FORGE_REJECT(f, ALS_EFORMAT, "missing section META");
    f = forge_good(), f.vals_dtype = AFILE_DT_U32;
    FORGE_REJECT(f, ALS_EFORMAT, "section VALS has element type");
    f = forge_good(), memcpy(f.kind, "FAC1", 4);
    FORGE_REJECT(f, ALS_EFORMAT, "is a FAC1 file, expected CSR1");
    f = forge_good(), f.major = 2;
    FORGE_REJECT(f, ALS_EVERSION, "format version 2.0");
}
