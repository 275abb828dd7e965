/* SPDX-License-Identifier: MIT */
/* topk: the k best-scoring items of a row of scores, with exclusions, without sorting all. */
#include "topk.h"

#include "diag.h"

#include <math.h>
#include <string.h>

/* a ranks before b: higher score, then lower index; NaN below every number */
static int
better(float sa, uint32_t ia, float sb, uint32_t ib)
{
    int na = isnan(sa), nb = isnan(sb);
    if (na || nb)
        return na != nb ? nb : ia < ib;
    return sa > sb || (sa == sb && ia < ib);
}

/* Min-heap on "better": the root is the worst of the current best k. */
static void
sift_down(uint32_t *idx, float *val, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(val[w], idx[w], val[l], idx[l]))
            w = l;
        if (r < n && better(val[w], idx[w], val[r], idx[r]))
            w = r;
        if (w == i)
            return;
        float tv = val[i];
        uint32_t ti = idx[i];
        val[i] = val[w];
        idx[i] = idx[w];
        val[w] = tv;
        idx[w] = ti;
        i = w;
    }
}

static void
sift_up(uint32_t *idx, float *val, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!better(val[p], idx[p], val[i], idx[i]))
            return;
        float tv = val[i];
        uint32_t ti = idx[i];
        val[i] = val[p];
        idx[i] = idx[p];
        val[p] = tv;
        idx[p] = ti;
        i = p;
    }
}

size_t
topk_select(const float *scores, uint32_t n, size_t k, const uint32_t *excl, size_t nexcl,
            uint32_t *idx, float *val)
{
    return topk_select_masked(scores, n, k, excl, nexcl, NULL, idx, val);
}

/* Candidate i: skip it if excluded, else offer it to the heap. */
static inline __attribute__((always_inline)) void
offer(float s, uint32_t i, size_t k, const uint32_t *excl, size_t nexcl, size_t *e,
      const unsigned char *mask, uint32_t *idx, float *val, size_t *h)
{
    while (*e < nexcl && excl[*e] < i)
        (*e)++;
    if ((*e < nexcl && excl[*e] == i) || (mask && mask[i]))
        return;
    if (*h < k) {
        idx[*h] = i;
        val[*h] = s;
        sift_up(idx, val, (*h)++);
    } else if (better(s, i, val[0], idx[0])) {
        idx[0] = i;
        val[0] = s;
        sift_down(idx, val, *h, 0);
    }
}

#define SCAN 16

/* Is any of p[0..16) above t? Vector extensions with an explicit OR tree: GCC turns an
 * omp-simd OR reduction into a scalar loop over the lanes, which cost more than the
 * compare itself. NaN compares false, as it must. */
typedef float vf16 __attribute__((vector_size(64)));
typedef int vi16 __attribute__((vector_size(64)));
typedef int vi8 __attribute__((vector_size(32)));
typedef int vi4 __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) int
any_above16(const float *p, float t)
{
    vf16 x;
    memcpy(&x, p, sizeof x);
    vi16 m = x > t;
    vi8 a, b;
    memcpy(&a, &m, sizeof a);
    memcpy(&b, (const char *)&m + sizeof a, sizeof b);
    a |= b;
    vi4 c, e;
    memcpy(&c, &a, sizeof c);
    memcpy(&e, (const char *)&a + sizeof c, sizeof e);
    c |= e;
    return (c[0] | c[1] | c[2] | c[3]) != 0;
}

size_t
topk_select_masked(const float *scores, uint32_t n, size_t k, const uint32_t *excl,
                   size_t nexcl, const unsigned char *mask, uint32_t *idx, float *val)
{
    struct topk_state t;
    topk_begin(&t, k, excl, nexcl, mask, idx, val);
    topk_feed(&t, scores, 0, n);
    return topk_end(&t);
}

void
topk_begin(struct topk_state *t, size_t k, const uint32_t *excl, size_t nexcl,
           const unsigned char *mask, uint32_t *idx, float *val)
{
    t->idx = idx;
    t->val = val;
    t->k = k;
    t->h = 0;
    t->e = 0;
    t->excl = excl;
    t->nexcl = nexcl;
    t->mask = mask;
}

/* scores[0..n) are the scores of indices first..first+n. */
ALS_HOT_CLONES void
topk_feed(struct topk_state *t, const float *scores, uint32_t first, uint32_t n)
{
    size_t k = t->k;
    if (k == 0)
        return;
    uint32_t *idx = t->idx;
    float *val = t->val;
    uint32_t i = first, end = first + n;
#define SCORE(i) scores[(i) - first]
    /* Once the heap is full, a candidate must beat its root; indices only grow, so a tie
     * with the root never wins. Blocks of SCAN scores with none above the root are
     * skipped with one vector compare, before any exclusion or mask lookup (the common
     * case: most items are below the k-th best). A NaN root takes the exact path. */
    while (i < end) {
        if (t->h == k && !isnan(val[0]) && i + SCAN <= end) {
            if (!any_above16(&SCORE(i), val[0])) {
                i += SCAN;
                continue;
            }
            for (uint32_t j = 0; j < SCAN; j++, i++)
                if (SCORE(i) > val[0] || isnan(val[0]))
                    offer(SCORE(i), i, k, t->excl, t->nexcl, &t->e, t->mask, idx, val, &t->h);
            continue;
        }
        offer(SCORE(i), i, k, t->excl, t->nexcl, &t->e, t->mask, idx, val, &t->h);
        i++;
    }
#undef SCORE
}

size_t
topk_end(struct topk_state *t)
{
    uint32_t *idx = t->idx;
    float *val = t->val;
    size_t h = t->h;
    /* Heap sort in place: repeatedly move the worst to the end. */
    for (size_t m = h; m > 1; m--) {
        float tv = val[0];
        uint32_t ti = idx[0];
        val[0] = val[m - 1];
        idx[0] = idx[m - 1];
        val[m - 1] = tv;
        idx[m - 1] = ti;
        sift_down(idx, val, m - 1, 0);
    }
    return h;
}
