/* SPDX-License-Identifier: MIT */
/* recommend: batched scoring of users (or items) against a model, with filtered top-k. */
#include "recommend.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "num.h"
#include "topk.h"
#include "xmem.h"

int
rec_init(struct rec *r, const struct model *m, const unsigned char *mask, unsigned k,
         int similar, struct diag *d)
{
    memset(r, 0, sizeof *r);
    r->m = m;
    r->mask = mask;
    r->k = k;
    r->similar = similar;
    r->ymax = similar ? 1.0 : 0.0;
    for (uint64_t i = 0; !similar && i < m->items; i++) {
        double s = 0;
        for (uint32_t j = 0; j < m->k; j++)
            s += (double)m->V[i * m->k + j] * (double)m->V[i * m->k + j];
        r->ymax = s > r->ymax * r->ymax ? sqrt(s) : r->ymax;
    }
    if (similar) {
        size_t n;
        if (xmem_mul((size_t)m->items, m->k, &n) < 0 || !(r->unit = xmem_alloc_aligned(n * 4)))
            return diag_set(d, ALS_ENOMEM, "out of memory");
        for (uint64_t i = 0; i < m->items; i++) {
            const float *y = m->V + i * m->k;
            double s = 0;
            for (uint32_t j = 0; j < m->k; j++)
                s += (double)y[j] * (double)y[j];
            /* An all-zero item has no direction: it scores 0 against everything. */
            float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
            for (uint32_t j = 0; j < m->k; j++)
                r->unit[i * m->k + j] = y[j] * inv;
        }
    }
    return 0;
}

void
rec_release(struct rec *r)
{
    free(r->unit);
    memset(r, 0, sizeof *r);
}

/* Items scored per GEMM call: a block's tile of scores (REC_BLOCK x TILE floats, 1 MiB)
 * stays in the L2 cache while the selection reads it back. */
#define TILE 1024

size_t
rec_scratch_size(const struct rec *r)
{
    return (size_t)REC_BLOCK * ((size_t)r->m->k + TILE);
}

/* Candidates re-scored per query: the top k by GEMM scores plus this margin. */
#define RESCORE_MARGIN 8

/* The score of one (query, item) pair in a fixed order, in double: unlike GEMM, whose
 * rounding depends on the item's position and on the other queries of the block, it
 * depends on the two rows only, so items with identical factors tie exactly. */
static float
exact_score(const struct rec *r, const struct rec_query *q, const float *xn, uint32_t i)
{
    const struct model *m = r->m;
    const float *y = (r->similar ? r->unit : m->V) + (size_t)i * m->k;
    const float *x = r->similar ? xn : q->x;
    double s = 0;
    for (uint32_t j = 0; j < m->k; j++)
        s += (double)x[j] * (double)y[j];
    if (m->biases && !r->similar)
        s += m->mu + (double)q->bias + (double)m->ib[i];
    return (float)s;
}

void
rec_score_pairs(const struct rec *r, const struct rec_query *q, const uint32_t *items,
                size_t n, float *out)
{
    assert(!r->similar);
    for (size_t t = 0; t < n; t++)
        out[t] = exact_score(r, &q[t], NULL, items[t]);
}

/* How far GEMM's score for a query of squared norm xn and items of norm at most ynorm may
 * lie from exact_score, for scores of magnitude about |a| and |b|: the float dot
 * product's rounding, bounded by the norms, and that of adding the biases and of the
 * result. */
static double
gemm_slack(const struct rec *r, double xn, double ynorm, double a, double b)
{
    return 4e-7 * (r->m->k + 4) * sqrt(xn) * ynorm + 2e-7 * (fabs(a) + fabs(b) + 1.0);
}

void
rec_block(const struct rec *r, const struct rec_query *q, size_t n, float *scratch,
          uint32_t *idx, float *val, size_t *cnt)
{
    const struct model *m = r->m;
    uint32_t dim = m->k;
    size_t ni = (size_t)m->items;
    size_t kw = r->k + RESCORE_MARGIN; /* the window re-scored exactly */
    float *X = scratch, *S = scratch + (size_t)REC_BLOCK * dim;
    struct topk_state st[REC_BLOCK];
    uint32_t *widx = malloc(n * kw * sizeof *widx);
    float *wval = malloc(n * kw * sizeof *wval);
    if (!widx || !wval) { /* no window: GEMM order, as good as it gets without memory */
        free(widx);
        free(wval);
        widx = idx;
        wval = val;
        kw = r->k;
    }
    for (size_t j = 0; j < n; j++) {
        topk_begin(&st[j], kw, q[j].excl, q[j].nexcl, r->mask, widx + j * kw, wval + j * kw);
        if (!r->similar) {
            memcpy(X + j * dim, q[j].x, dim * sizeof *X);
            continue;
        }
        double s = 0;
        for (uint32_t t = 0; t < dim; t++)
            s += (double)q[j].x[t] * (double)q[j].x[t];
        float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
        for (uint32_t t = 0; t < dim; t++)
            X[j * dim + t] = q[j].x[t] * inv;
    }
    const float *Y = r->similar ? r->unit : m->V;
    for (size_t t0 = 0; t0 < ni; t0 += TILE) {
        size_t tn = ni - t0 < TILE ? ni - t0 : TILE;
        la_gemm_nt(n, tn, dim, X, Y + t0 * dim, S);
        for (size_t j = 0; j < n; j++) {
            float *row = S + j * tn;
            if (m->biases && !r->similar) {
                /* The item bias changes the order; mu and the user's bias only the
                 * values. */
                float off = (float)m->mu + q[j].bias;
                for (size_t i = 0; i < tn; i++)
                    row[i] += m->ib[t0 + i] + off;
            }
            topk_feed(&st[j], row, (uint32_t)t0, (uint32_t)tn);
        }
    }
    for (size_t j = 0; j < n; j++) {
        size_t got = topk_end(&st[j]);
        if (widx == idx) {
            cnt[j] = got;
            continue;
        }
        uint32_t *wi = widx + j * kw;
        float *wv = wval + j * kw;
        float gemm_min = got ? wv[got - 1] : 0.0f;
        /* Exact scores for the window, then insertion sort by (score desc, index asc). */
        for (size_t a = 0; a < got; a++) {
            float sc = exact_score(r, &q[j], X + j * dim, wi[a]);
            uint32_t it = wi[a];
            size_t b = a;
            while (b > 0 && (wv[b - 1] < sc || isnan(wv[b - 1]) ||
                             (wv[b - 1] == sc && wi[b - 1] > it))) {
                wv[b] = wv[b - 1];
                wi[b] = wi[b - 1];
                b--;
            }
            wv[b] = sc;
            wi[b] = it;
        }
        cnt[j] = got < r->k ? got : r->k;
        /* Could an item outside the window reach the k-th exact score? Not when the
         * window's lowest GEMM score is below it by more than twice GEMM's rounding
         * error. Otherwise (a tie group wider than the margin) score every item exactly:
         * rare, and O(items k) for this query only. */
        if (got == kw && got > r->k) {
            const float *xq = r->similar ? X + j * dim : q[j].x;
            double xn = 0;
            for (uint32_t t = 0; t < dim; t++)
                xn += (double)xq[t] * (double)xq[t];
            double tau = (double)wv[r->k - 1];
            double eps = gemm_slack(r, xn, r->ymax, tau, (double)gemm_min);
            if (!((double)gemm_min + eps < tau - eps)) {
                float *all = malloc(ni * sizeof *all);
                if (all) {
                    for (size_t i = 0; i < ni; i++)
                        all[i] = exact_score(r, &q[j], X + j * dim, (uint32_t)i);
                    cnt[j] = topk_select_masked(all, (uint32_t)ni, r->k, q[j].excl,
                                                q[j].nexcl, r->mask, idx + j * r->k,
                                                val + j * r->k);
                    free(all);
                    continue;
                }
            }
        }
        memcpy(idx + j * r->k, wi, cnt[j] * sizeof *idx);
        memcpy(val + j * r->k, wv, cnt[j] * sizeof *val);
    }
    if (widx != idx) {
        free(widx);
        free(wval);
    }
}

struct pop {
    uint64_t deg;
    uint32_t item;
};

static int
cmp_popular(const void *a, const void *b)
{
    const struct pop *x = a, *y = b;
    if (x->deg != y->deg)
        return x->deg > y->deg ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

int
rec_popular(const uint64_t *col_ptr, uint64_t items, uint32_t **order, struct diag *d)
{
    uint32_t *o = xmem_alloc_array((size_t)items + 1, sizeof *o);
    struct pop *p = xmem_alloc_array((size_t)items + 1, sizeof *p);
    if (!o || !p) {
        free(o);
        free(p);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    for (uint64_t i = 0; i < items; i++) {
        p[i].deg = col_ptr[i + 1] - col_ptr[i];
        p[i].item = (uint32_t)i;
    }
    qsort(p, (size_t)items, sizeof *p, cmp_popular);
    for (uint64_t i = 0; i < items; i++)
        o[i] = p[i].item;
    free(p);
    *order = o;
    return 0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Whether some s[0..n) (sorted ascending) lies in [lo, hi]. */
static int
any_within(const double *s, size_t n, double lo, double hi)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (s[mid] < lo)
            a = mid + 1;
        else
            b = mid;
    }
    return a < n && s[a] <= hi;
}

/* Flag the scores in [lo, hi] (a vector loop over the row). */
ALS_HOT_CLONES static void
flag_within(const float *row, size_t n, double lo, double hi, unsigned char *flag)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        flag[i] |= ((double)row[i] >= lo) & ((double)row[i] <= hi);
}

/* The largest |score| of the row, and a flag on each NaN. */
static double
row_max_flag_nan(const float *row, size_t n, unsigned char *flag)
{
    float mx = 0;
    for (size_t i = 0; i < n; i++) {
        mx = fabsf(row[i]) > mx ? fabsf(row[i]) : mx;
        flag[i] = row[i] != row[i];
    }
    return (double)mx;
}

void
rec_block_rows(const struct rec *r, const struct rec_query *q, size_t n,
               const uint32_t *const *want, const size_t *nwant, float *scratch, float *rows)
{
    const struct model *m = r->m;
    uint32_t dim = m->k;
    size_t ni = (size_t)m->items;
    float *X = scratch;
    for (size_t j = 0; j < n; j++) { /* the queries as rec_block scores them */
        double s = 0;
        for (uint32_t t = 0; t < dim; t++)
            s += (double)q[j].x[t] * (double)q[j].x[t];
        float inv = !r->similar ? 1.0f : s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
        for (uint32_t t = 0; t < dim; t++)
            X[j * dim + t] = r->similar ? q[j].x[t] * inv : q[j].x[t];
    }
    const float *Y = r->similar ? r->unit : m->V;
    if (n && ni)
        la_gemm_nt(n, ni, dim, X, Y, rows);
    /* Each item's norm, for a closer bound than the largest one; without memory, that. */
    double *yn = malloc(ni * sizeof *yn + 1);
    unsigned char *flag = malloc(ni + 1);
    for (size_t i = 0; yn && i < ni; i++) {
        double s = 0;
        for (uint32_t t = 0; t < dim; t++)
            s += (double)Y[i * dim + t] * (double)Y[i * dim + t];
        yn[i] = sqrt(s);
    }
    for (size_t j = 0; j < n; j++) {
        float *row = rows + j * ni;
        const float *xq = X + j * dim;
        if (m->biases && !r->similar) {
            float off = (float)m->mu + q[j].bias;
            for (size_t i = 0; i < ni; i++)
                row[i] += m->ib[i] + off;
        }
        /* The want items' exact scores, sorted. An item whose GEMM score g lies within
         * twice the slack of one of them (as rec_block's window check allows) is scored
         * exactly too; every other one is on the same side of each of them as its exact
         * score. First a test with one slack for the whole row (the largest norm and
         * score), then the item's own for the few it leaves. NaN: exactly. */
        size_t nw = nwant[j];
        double *sw = malloc((nw + 1) * sizeof *sw);
        double xn = 0, smax = 0;
        int all = !sw || !flag;
        for (uint32_t t = 0; t < dim; t++)
            xn += (double)xq[t] * (double)xq[t];
        for (size_t w = 0; !all && w < nw; w++) {
            sw[w] = (double)exact_score(r, &q[j], xq, want[j][w]);
            all = isnan(sw[w]);
            smax = fabs(sw[w]) > smax ? fabs(sw[w]) : smax;
        }
        if (nw == 0 || all) {
            for (size_t i = 0; nw && i < ni; i++)
                row[i] = exact_score(r, &q[j], xq, (uint32_t)i);
            free(sw);
            continue;
        }
        qsort(sw, nw, sizeof *sw, cmp_double);
        double gmax = row_max_flag_nan(row, ni, flag);
        double wide = 2 * gemm_slack(r, xn, r->ymax, gmax, smax);
        for (size_t w = 0; w < nw;) { /* the want scores' neighbourhoods, merged */
            double lo = sw[w] - wide, hi = sw[w] + wide;
            for (w++; w < nw && sw[w] - wide <= hi; w++)
                hi = sw[w] + wide;
            flag_within(row, ni, lo, hi, flag);
        }
        for (size_t i = 0; i < ni; i++) {
            if (!flag[i])
                continue;
            double g = (double)row[i];
            double tol = 2 * gemm_slack(r, xn, yn ? yn[i] : r->ymax, g, smax);
            if (isnan(g) || any_within(sw, nw, g - tol, g + tol))
                row[i] = exact_score(r, &q[j], xq, (uint32_t)i);
        }
        for (size_t w = 0; w < nw; w++)
            row[want[j][w]] = exact_score(r, &q[j], xq, want[j][w]);
        free(sw);
    }
    free(yn);
    free(flag);
}

void
rec_popular_scores(const uint64_t *col_ptr, uint64_t items, float *score)
{
    for (uint64_t i = 0; i < items; i++)
        score[i] = (float)(col_ptr[i + 1] - col_ptr[i]);
}

size_t
rec_popular_top(const uint32_t *order, uint64_t items, const uint32_t *excl, size_t nexcl,
                const unsigned char *mask, size_t k, uint32_t *idx)
{
    size_t w = 0;
    for (uint64_t r = 0; r < items && w < k; r++) {
        uint32_t i = order[r];
        if ((mask && mask[i]) || num_sorted_has(excl, nexcl, i))
            continue;
        idx[w++] = i;
    }
    return w;
}
