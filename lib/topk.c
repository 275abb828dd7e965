/* SPDX-License-Identifier: MIT */
/* topk: the k best-scoring items of a row of scores, with exclusions, without sorting all. */
#include "topk.h"

#include <math.h>

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

size_t
topk_select_masked(const float *scores, uint32_t n, size_t k, const uint32_t *excl,
                   size_t nexcl, const unsigned char *mask, uint32_t *idx, float *val)
{
    size_t h = 0, e = 0;
    if (k == 0)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        while (e < nexcl && excl[e] < i)
            e++;
        if ((e < nexcl && excl[e] == i) || (mask && mask[i]))
            continue;
        float s = scores[i];
        if (h < k) {
            idx[h] = i;
            val[h] = s;
            sift_up(idx, val, h++);
        } else if (!(s <= val[0]) && better(s, i, val[0], idx[0])) {
            /* !(s <= root) skips most candidates with one compare; it is false for NaN on
             * either side, which better() then orders. Indices only grow, so a tie with
             * the root never wins. */
            idx[0] = i;
            val[0] = s;
            sift_down(idx, val, h, 0);
        }
    }
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
