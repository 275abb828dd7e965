/* SPDX-License-Identifier: MIT */
/* recommend: batched scoring of users (or items) against a model, with filtered top-k. */
#include "recommend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
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

/* Items scored per GEMM call: a block's tile of scores (REC_BLOCK x TILE floats, 512 KiB)
 * stays in the L2 cache while the selection reads it back. */
#define TILE 2048

size_t
rec_scratch_size(const struct rec *r)
{
    return (size_t)REC_BLOCK * ((size_t)r->m->k + TILE);
}

void
rec_block(const struct rec *r, const struct rec_query *q, size_t n, float *scratch,
          uint32_t *idx, float *val, size_t *cnt)
{
    const struct model *m = r->m;
    uint32_t dim = m->k;
    size_t ni = (size_t)m->items;
    float *X = scratch, *S = scratch + (size_t)REC_BLOCK * dim;
    struct topk_state st[REC_BLOCK];
    for (size_t j = 0; j < n; j++) {
        topk_begin(&st[j], r->k, q[j].excl, q[j].nexcl, r->mask, idx + j * r->k,
                   val + j * r->k);
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
    for (size_t j = 0; j < n; j++)
        cnt[j] = topk_end(&st[j]);
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
