/* SPDX-License-Identifier: MIT */
/* metrics: how good a model is on held-out data: rating errors and ranking quality. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "topk.h"
#include "xmem.h"

void
metrics_rating(const struct model *m, const struct csr *test, float lo, float hi,
               struct metrics_rating *out)
{
    double se = 0, ae = 0;
    uint32_t k = m->k;
    for (uint64_t u = 0; u < test->r.rows; u++)
        for (uint64_t t = test->r.ptr[u]; t < test->r.ptr[u + 1]; t++) {
            uint32_t i = test->r.idx[t];
            double pred = 0;
            for (uint32_t j = 0; j < k; j++)
                pred += (double)m->U[u * k + j] * (double)m->V[(uint64_t)i * k + j];
            if (m->biases)
                pred += m->mu + (double)m->ub[u] + (double)m->ib[i];
            if (lo <= hi)
                pred = pred < (double)lo ? (double)lo : pred > (double)hi ? (double)hi : pred;
            double e = (double)test->r.val[t] - pred;
            se += e * e;
            ae += fabs(e);
        }
    out->n = test->r.nnz;
    out->rmse = out->n ? sqrt(se / (double)out->n) : 0.0;
    out->mae = out->n ? ae / (double)out->n : 0.0;
}

#define BLOCK 64

struct user_score {
    double precision, recall, ndcg, hit;
};

/* The position of the first of the sorted items that is not below i. */
static uint64_t
lower_bound(const uint32_t *items, uint64_t n, uint32_t i)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (items[mid] < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
metrics_ranking(const struct model *m, const struct csr *train, const struct csr *test,
                unsigned k, int include_seen, unsigned threads, struct metrics_rank *out,
                struct diag *d)
{
    memset(out, 0, sizeof *out);
    uint64_t nu = test->r.rows, ni = m->items;
    uint32_t dim = m->k;
    if (nu != m->users || ni != test->r.cols || (train && (train->r.rows != nu ||
                                                             train->r.cols != ni)))
        return diag_set(d, ALS_EUSAGE, "model and matrices disagree in shape");
    /* The users to score, in order. */
    uint64_t *users = xmem_alloc_array((size_t)nu + 1, sizeof *users);
    struct user_score *us = calloc((size_t)nu + 1, sizeof *us);
    if (!users || !us) {
        free(users);
        free(us);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    uint64_t n = 0;
    /* Relevant: a test entry with a positive value (a negative one is a dislike). */
    for (uint64_t u = 0; u < nu; u++)
        for (uint64_t t = test->r.ptr[u]; t < test->r.ptr[u + 1]; t++)
            if (test->r.val[t] > 0) {
                users[n++] = u;
                break;
            }
    double *disc = xmem_alloc_array(k + 1, sizeof *disc);
    int oom = disc == NULL;
    for (unsigned j = 0; disc && j < k; j++)
        disc[j] = 1.0 / log2((double)j + 2.0);
    uint64_t nblocks = (n + BLOCK - 1) / BLOCK;
#pragma omp parallel num_threads(threads ? threads : 1)
    {
        float *X = xmem_alloc_aligned((size_t)BLOCK * dim * sizeof *X);
        float *S = xmem_alloc_aligned((size_t)BLOCK * (ni ? ni : 1) * sizeof *S);
        uint32_t *idx = xmem_alloc_array(k + 1, sizeof *idx);
        float *val = xmem_alloc_array(k + 1, sizeof *val);
        if (!X || !S || !idx || !val || oom) {
#pragma omp atomic write
            oom = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (uint64_t b = 0; b < nblocks; b++) {
            if (oom)
                continue;
            uint64_t first = b * BLOCK, cnt = n - first < BLOCK ? n - first : BLOCK;
            for (uint64_t j = 0; j < cnt; j++)
                memcpy(X + j * dim, m->U + users[first + j] * dim, dim * sizeof *X);
            la_gemm_nt(cnt, ni, dim, X, m->V, S);
            for (uint64_t j = 0; j < cnt; j++) {
                uint64_t u = users[first + j];
                const uint32_t *excl = NULL;
                size_t nexcl = 0;
                if (train && !include_seen) {
                    excl = train->r.idx + train->r.ptr[u];
                    nexcl = (size_t)(train->r.ptr[u + 1] - train->r.ptr[u]);
                }
                size_t got = topk_select(S + j * ni, (uint32_t)ni, k, excl, nexcl, idx, val);
                const uint32_t *ti = test->r.idx + test->r.ptr[u];
                const float *tv = test->r.val + test->r.ptr[u];
                uint64_t nt = test->r.ptr[u + 1] - test->r.ptr[u], nrel = 0;
                for (uint64_t t = 0; t < nt; t++)
                    nrel += tv[t] > 0;
                double hits = 0, dcg = 0, idcg = 0;
                for (size_t r = 0; r < got; r++) {
                    uint64_t pos = lower_bound(ti, nt, idx[r]);
                    if (pos < nt && ti[pos] == idx[r] && tv[pos] > 0) {
                        hits += 1;
                        dcg += disc[r];
                    }
                }
                for (uint64_t r = 0; r < k && r < nrel; r++)
                    idcg += disc[r];
                us[u].precision = hits / k;
                us[u].recall = hits / (double)nrel;
                us[u].hit = hits > 0;
                us[u].ndcg = idcg > 0 ? dcg / idcg : 0;
            }
        }
        free(X);
        free(S);
        free(idx);
        free(val);
    }
    free(disc);
    if (oom) {
        free(users);
        free(us);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    /* Summed in user order: the same numbers for any thread count. */
    for (uint64_t j = 0; j < n; j++) {
        const struct user_score *s = &us[users[j]];
        out->precision += s->precision;
        out->recall += s->recall;
        out->ndcg += s->ndcg;
        out->hit += s->hit;
    }
    if (n) {
        out->precision /= (double)n;
        out->recall /= (double)n;
        out->ndcg /= (double)n;
        out->hit /= (double)n;
    }
    out->users = n;
    free(users);
    free(us);
    return 0;
}
