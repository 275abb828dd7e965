/* SPDX-License-Identifier: MIT */
/* metrics: how good a model is on held-out data: rating errors and ranking quality. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "recommend.h"
#include "xmem.h"

void
metrics_rating(const struct model *m, const struct csr *test, float lo, float hi,
               struct metrics_rating *out)
{
    metrics_rating_fallback(m, test, lo, hi, m->mu, out);
}

void
metrics_rating_fallback(const struct model *m, const struct csr *test, float lo, float hi,
                        double mean, struct metrics_rating *out)
{
    double se = 0, ae = 0;
    uint32_t k = m->k;
    memset(out, 0, sizeof *out);
    for (uint64_t u = 0; u < test->r.rows; u++) {
        int uk = model_has_factors(m, 0, u);
        for (uint64_t t = test->r.ptr[u]; t < test->r.ptr[u + 1]; t++) {
            uint32_t i = test->r.idx[t];
            int ik = model_has_factors(m, 1, i);
            double pred = m->biases ? m->mu : 0.0;
            if (m->biases && u < m->users)
                pred += (double)m->ub[u];
            if (m->biases && i < m->items)
                pred += (double)m->ib[i];
            if (uk && ik) {
                for (uint32_t j = 0; j < k; j++)
                    pred += (double)m->U[u * k + j] * (double)m->V[(uint64_t)i * k + j];
            } else {
                out->fallback++;
                if (!m->biases) /* nothing known about the pair: the mean rating */
                    pred = mean;
            }
            if (lo <= hi)
                pred = pred < (double)lo ? (double)lo : pred > (double)hi ? (double)hi : pred;
            double e = (double)test->r.val[t] - pred;
            se += e * e;
            ae += fabs(e);
        }
    }
    out->n = test->r.nnz;
    out->rmse = out->n ? sqrt(se / (double)out->n) : 0.0;
    out->mae = out->n ? ae / (double)out->n : 0.0;
}

void
metrics_rating_mean(double mu0, const struct csr *test, struct metrics_rating *out)
{
    double se = 0, ae = 0;
    memset(out, 0, sizeof *out);
    for (uint64_t t = 0; t < test->r.nnz; t++) {
        double e = (double)test->r.val[t] - mu0;
        se += e * e;
        ae += fabs(e);
    }
    out->n = test->r.nnz;
    out->rmse = out->n ? sqrt(se / (double)out->n) : 0.0;
    out->mae = out->n ? ae / (double)out->n : 0.0;
}

/* Users per block: REC_BLOCK, fewer when their top lists would take more than 1 Mi entries
 * or their rows of scores more than 4 Mi. */
#define LIST_ENTRIES ((size_t)1 << 20)
#define ROW_ENTRIES ((size_t)1 << 22)

/* Position of the first of the sorted items that is not below i. */
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

struct user_eval {
    double at[METRICS_MAX_CUTS][5]; /* precision, recall, map, ndcg, hit */
    double mrr, auc;
};

/* Metrics of one user from its top list idx[0..got) (rec_block's or the popularity
 * list) and the scores of every item that list was selected by (for MRR and AUC). */
ALS_HOT_CLONES static void
eval_user(const float *row, uint64_t ni, const uint32_t *excl, size_t nexcl,
          const uint32_t *ti, const float *tv, uint64_t nt, const unsigned *cuts,
          unsigned ncut, const double *disc, const uint32_t *idx, size_t got, float *relsc,
          unsigned char *covered, struct user_eval *ue)
{
    /* coverage: the top-k list of each cutoff is a prefix of the top-kmax one */
    for (unsigned c = 0; c < ncut; c++)
        for (size_t r = 0; r < got && r < cuts[c]; r++)
            covered[(size_t)c * ni + idx[r]] = 1;
    uint64_t nrel = 0;
    for (uint64_t t = 0; t < nt; t++)
        nrel += tv[t] > 0;
    double hits = 0, dcg = 0, ap = 0;
    unsigned c = 0;
    memset(ue, 0, sizeof *ue);
    for (size_t r = 0; r <= got && c < ncut; r++) {
        /* close every cutoff that ends here */
        while (c < ncut && (r == cuts[c] || r == got)) {
            double idcg = 0;
            for (uint64_t j = 0; j < cuts[c] && j < nrel; j++)
                idcg += disc[j];
            double denom = (double)(cuts[c] < nrel ? cuts[c] : nrel);
            ue->at[c][0] = hits / cuts[c];
            ue->at[c][1] = hits / (double)nrel;
            ue->at[c][2] = ap / denom;
            ue->at[c][3] = idcg > 0 ? dcg / idcg : 0;
            ue->at[c][4] = hits > 0;
            c++;
        }
        if (r == got)
            break;
        uint64_t pos = lower_bound(ti, nt, idx[r]);
        if (pos < nt && ti[pos] == idx[r] && tv[pos] > 0) {
            hits += 1;
            dcg += disc[r];
            ap += hits / (double)(r + 1);
        }
    }
    /* Full ranking, by counting: for each relevant candidate, how many items score below
     * it and how many equal (vector loops over all items); then the items that are not
     * candidates (training items) or not negatives (the relevant ones) are taken back
     * out. O(items |rel|) in vector lanes, no sort. NaN counts as -infinity. */
    size_t nr = 0;
    float best = -INFINITY;
    uint32_t best_i = UINT32_MAX;
    for (uint64_t t = 0; t < nt; t++) {
        if (!(tv[t] > 0))
            continue;
        uint64_t p = lower_bound(excl, nexcl, ti[t]);
        if (p < nexcl && excl[p] == ti[t])
            continue; /* a training item is no candidate, relevant or not */
        float sc = row[ti[t]] == row[ti[t]] ? row[ti[t]] : -INFINITY;
        relsc[nr++] = sc;
        if (sc > best || (sc == best && ti[t] < best_i)) {
            best = sc;
            best_i = ti[t];
        }
    }
    double nneg = (double)(ni - nexcl) - (double)nr;
    double correct = 0;
    for (size_t r = 0; r < nr; r++) {
        float sr = relsc[r];
        int64_t lt = 0, eq = 0;
#pragma omp simd reduction(+ : lt, eq)
        for (uint64_t i = 0; i < ni; i++) {
            float sc = row[i] == row[i] ? row[i] : -INFINITY;
            lt += sc < sr;
            eq += sc == sr;
        }
        for (size_t e = 0; e < nexcl; e++) {
            float sc = row[excl[e]] == row[excl[e]] ? row[excl[e]] : -INFINITY;
            lt -= sc < sr;
            eq -= sc == sr;
        }
        for (size_t o = 0; o < nr; o++) {
            lt -= relsc[o] < sr;
            eq -= relsc[o] == sr;
        }
        correct += (double)lt + 0.5 * (double)eq;
    }
    /* no relevant candidate (all in train): no information, the neutral 1/2 */
    ue->auc = nr == 0 ? 0.5 : nneg > 0 ? correct / (nneg * (double)nr) : 1.0;
    /* MRR: the candidates ranked above the best relevant one (none of them relevant) */
    int64_t above = 0;
    if (nr > 0) {
#pragma omp simd reduction(+ : above)
        for (uint64_t i = 0; i < ni; i++) {
            float sc = row[i] == row[i] ? row[i] : -INFINITY;
            above += sc > best || (sc == best && i < best_i);
        }
        for (size_t e = 0; e < nexcl; e++) {
            uint32_t i = excl[e];
            float sc = row[i] == row[i] ? row[i] : -INFINITY;
            above -= sc > best || (sc == best && i < best_i);
        }
    }
    ue->mrr = nr > 0 ? 1.0 / (1.0 + (double)above) : 0.0;
}

/* 1 on the thread that called metrics_evaluate: the only one that reports progress. */
static int
calling_thread(void)
{
#ifdef _OPENMP
    return omp_get_thread_num() == 0;
#else
    return 1;
#endif
}

int
metrics_evaluate(const struct model *m, const struct csr *train, const struct csr *test,
                 const unsigned *cuts, unsigned ncut, int include_seen, unsigned threads,
                 struct metrics_report *out, struct diag *d)
{
    return metrics_evaluate_progress(m, train, test, cuts, ncut, include_seen, threads, out,
                                     NULL, NULL, d);
}

int
metrics_evaluate_progress(const struct model *m, const struct csr *train,
                          const struct csr *test, const unsigned *cuts, unsigned ncut,
                          int include_seen, unsigned threads, struct metrics_report *out,
                          struct progress *pr, const char *unit, struct diag *d)
{
    memset(out, 0, sizeof *out);
    if (ncut == 0 || ncut > METRICS_MAX_CUTS)
        return diag_set(d, ALS_EUSAGE, "between 1 and %d cutoffs", METRICS_MAX_CUTS);
    for (unsigned c = 0; c < ncut; c++)
        if (cuts[c] == 0 || (c && cuts[c] <= cuts[c - 1]))
            return diag_set(d, ALS_EUSAGE, "cutoffs must be positive and increasing");
    uint64_t nu = test->r.rows, ni = test->r.cols;
    if ((m && (m->users != nu || m->items != ni)) ||
        (train && (train->r.rows != nu || train->r.cols != ni)) || (!m && !train))
        return diag_set(d, ALS_EUSAGE, "model and matrices disagree in shape");
    unsigned kmax = cuts[ncut - 1];
    size_t block = LIST_ENTRIES / kmax;
    if (m && ni && ROW_ENTRIES / ni < block)
        block = ROW_ENTRIES / ni;
    block = block < 1 ? 1 : block > REC_BLOCK ? REC_BLOCK : block;
    struct rec rec;
    memset(&rec, 0, sizeof rec);
    /* One scorer for als-recommend and als-eval: a model's top lists come from rec_block
     * and its MRR and AUC from rows that order every item against the relevant ones as
     * rec_block's exact scores do (rec_block_rows); the baseline's from rec_popular's
     * order and counts. */
    uint32_t *order = NULL;
    float *pop = NULL;
    int rc = m ? rec_init(&rec, m, NULL, kmax, 0, d) : rec_popular(train->t.ptr, ni, &order, d);
    if (rc < 0)
        return rc;
    uint64_t *users = xmem_alloc_array((size_t)nu + 1, sizeof *users);
    struct user_eval *ue = xmem_alloc_array((size_t)nu + 1, sizeof *ue);
    double *disc = xmem_alloc_array(kmax + 1, sizeof *disc);
    unsigned char *covered = calloc((size_t)ni * ncut + 1, 1);
    uint64_t maxrel = 0;
    int oom = !users || !ue || !disc || !covered;
    if (!m && !oom && (pop = xmem_alloc_array((size_t)ni + 1, sizeof *pop)))
        rec_popular_scores(train->t.ptr, ni, pop);
    oom |= !m && !pop;
    uint64_t n = 0;
    for (uint64_t u = 0; !oom && u < nu; u++) {
        uint64_t nrel = 0;
        for (uint64_t t = test->r.ptr[u]; t < test->r.ptr[u + 1]; t++)
            nrel += test->r.val[t] > 0;
        if (nrel)
            users[n++] = u;
        maxrel = nrel > maxrel ? nrel : maxrel;
    }
    for (unsigned j = 0; !oom && j < kmax; j++)
        disc[j] = 1.0 / log2((double)j + 2.0);
    uint64_t nblocks = (n + block - 1) / block;
    uint64_t ndone = 0; /* users evaluated, for the reports of the calling thread */
    if (!oom)
        progress_report(pr, 0, n, unit);
#pragma omp parallel num_threads(threads ? threads : 1)
    {
        float *scratch = m ? xmem_alloc_aligned(rec_scratch_size(&rec) * sizeof *scratch) : NULL;
        float *rows = m ? xmem_alloc_array(block * ni + 1, sizeof *rows) : NULL;
        struct rec_query *q = xmem_alloc_array(block, sizeof *q);
        size_t *got = xmem_alloc_array(block, sizeof *got);
        size_t *nwant = xmem_alloc_array(block, sizeof *nwant);
        const uint32_t **want = xmem_alloc_array(block, sizeof *want);
        uint32_t *idx = xmem_alloc_array(block * kmax, sizeof *idx);
        float *val = xmem_alloc_array(block * kmax, sizeof *val);
        float *relsc = xmem_alloc_array((size_t)maxrel + 1, sizeof *relsc);
        unsigned char *cov = calloc((size_t)ni * ncut + 1, 1);
        if ((m && (!scratch || !rows)) || !q || !got || !nwant || !want || !idx || !val ||
            !relsc || !cov) {
#pragma omp atomic write
            oom = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (uint64_t b = 0; b < nblocks; b++) {
            if (oom)
                continue;
            uint64_t first = b * block, cnt = n - first < block ? n - first : block;
            for (uint64_t j = 0; j < cnt; j++) {
                uint64_t u = users[first + j];
                q[j].excl = NULL;
                q[j].nexcl = 0;
                if (train && !include_seen) {
                    q[j].excl = train->r.idx + train->r.ptr[u];
                    q[j].nexcl = (size_t)(train->r.ptr[u + 1] - train->r.ptr[u]);
                }
                want[j] = test->r.idx + test->r.ptr[u]; /* every test item: a superset */
                nwant[j] = (size_t)(test->r.ptr[u + 1] - test->r.ptr[u]);
                q[j].x = m ? m->U + u * m->k : NULL;
                q[j].bias = m && m->biases ? m->ub[u] : 0.0f;
                if (!m)
                    got[j] = rec_popular_top(order, ni, q[j].excl, q[j].nexcl, NULL, kmax,
                                             idx + j * kmax);
            }
            if (m) {
                rec_block(&rec, q, (size_t)cnt, scratch, idx, val, got);
                rec_block_rows(&rec, q, (size_t)cnt, want, nwant, scratch, rows);
            }
            for (uint64_t j = 0; j < cnt; j++) {
                uint64_t u = users[first + j];
                eval_user(m ? rows + j * ni : pop, ni, q[j].excl, q[j].nexcl,
                          test->r.idx + test->r.ptr[u], test->r.val + test->r.ptr[u],
                          test->r.ptr[u + 1] - test->r.ptr[u], cuts, ncut, disc,
                          idx + j * kmax, got[j], relsc, cov, &ue[u]);
            }
            if (pr) {
#pragma omp atomic
                ndone += cnt;
                if (calling_thread()) {
                    uint64_t v;
#pragma omp atomic read
                    v = ndone;
                    progress_tick(pr, v, n, unit);
                }
            }
        }
#pragma omp critical(metrics_coverage)
        if (cov && covered)
            for (uint64_t i = 0; i < ni * ncut; i++)
                covered[i] |= cov[i];
        free(scratch);
        free(rows);
        free(q);
        free(got);
        free(nwant);
        free(want);
        free(idx);
        free(val);
        free(relsc);
        free(cov);
    }
    if (oom) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    for (uint64_t j = 0; j < n; j++) {
        const struct user_eval *e = &ue[users[j]];
        for (unsigned c = 0; c < ncut; c++) {
            out->at[c].precision += e->at[c][0];
            out->at[c].recall += e->at[c][1];
            out->at[c].map += e->at[c][2];
            out->at[c].ndcg += e->at[c][3];
            out->at[c].hit += e->at[c][4];
        }
        out->mrr += e->mrr;
        out->auc += e->auc;
    }
    progress_report(pr, n, n, unit);
    out->ncut = ncut;
    out->users = n;
    for (unsigned c = 0; c < ncut; c++) {
        uint64_t distinct = 0;
        for (uint64_t i = 0; i < ni; i++)
            distinct += covered[(size_t)c * ni + i];
        out->at[c].coverage = ni ? (double)distinct / (double)ni : 0.0;
        out->at[c].k = cuts[c];
        if (n) {
            out->at[c].precision /= (double)n;
            out->at[c].recall /= (double)n;
            out->at[c].map /= (double)n;
            out->at[c].ndcg /= (double)n;
            out->at[c].hit /= (double)n;
        }
    }
    if (n) {
        out->mrr /= (double)n;
        out->auc /= (double)n;
    }
out:
    rec_release(&rec);
    free(order);
    free(users);
    free(ue);
    free(disc);
    free(pop);
    free(covered);
    return rc;
}

int
metrics_ranking(const struct model *m, const struct csr *train, const struct csr *test,
                unsigned k, int include_seen, unsigned threads, struct metrics_rank *out,
                struct diag *d)
{
    struct metrics_report r;
    memset(out, 0, sizeof *out);
    if (!m)
        return diag_set(d, ALS_EUSAGE, "no model");
    int rc = metrics_evaluate(m, train, test, &k, 1, include_seen, threads, &r, d);
    if (rc < 0)
        return rc;
    out->precision = r.at[0].precision;
    out->recall = r.at[0].recall;
    out->ndcg = r.at[0].ndcg;
    out->hit = r.at[0].hit;
    out->users = r.users;
    return 0;
}
