/* SPDX-License-Identifier: MIT */
/* metrics: how good a model is on held-out data: rating errors and ranking quality. */
#ifndef ALS_METRICS_H
#define ALS_METRICS_H

#include <stdint.h>

#include "csr.h"
#include "diag.h"
#include "model.h"
#include "progress.h"

struct metrics_rating {
    double rmse, mae;
    uint64_t n;
    uint64_t fallback; /* entries whose user or item has no factors */
};

/* Errors of mu + b_u + b_i + x_u.y_i over the entries of test, each prediction clipped
 * to [lo, hi] when lo <= hi (the training range: a rating never leaves it). A user or
 * item without factors (beyond the model, or an all-zero row) is predicted by the
 * fallback: mu plus the biases that are known (a model without biases: the mean given
 * to metrics_rating_fallback); such entries are counted. metrics_rating_mean: the
 * baseline of the global mean mu0 for every entry. */
void metrics_rating(const struct model *m, const struct csr *test, float lo, float hi,
                    struct metrics_rating *out);
/* The same, with the mean a model without biases falls back on (its own mu is 0). */
void metrics_rating_fallback(const struct model *m, const struct csr *test, float lo, float hi,
                             double mean, struct metrics_rating *out);
void metrics_rating_mean(double mu0, const struct csr *test, struct metrics_rating *out);

struct metrics_rank {
    double precision, recall, ndcg, hit;
    uint64_t users; /* users with a relevant test item: the averages are over them */
};

/*
 * Ranking quality at cutoff k, averaged over the users with relevant test items (test
 * entries with a positive value; a negative one is a dislike): each user's items are
 * scored with the model, those in train are excluded (unless include_seen), and the top
 * k compared with the relevant test items (binary relevance).
 *   precision = hits / k; recall = hits / |relevant|; hit = [hits > 0];
 *   ndcg = sum over hits at rank j (1-based) of 1/log2(j+1), divided by the same sum over
 *   ranks 1..min(k, |relevant|).
 * The top k is als-recommend's (metrics_evaluate's scorer), on threads threads.
 */
int metrics_ranking(const struct model *m, const struct csr *train, const struct csr *test,
                    unsigned k, int include_seen, unsigned threads, struct metrics_rank *out,
                    struct diag *d) ALS_MUSTCHECK;

/* The full evaluation of als-eval: every ranking metric at several cutoffs, for a model
 * or for the popularity baseline (m NULL: items ranked by their count in train). */
#define METRICS_MAX_CUTS 16

struct metrics_at {
    unsigned k;
    double precision, recall, map, ndcg, hit, coverage;
};

struct metrics_report {
    unsigned ncut;
    struct metrics_at at[METRICS_MAX_CUTS];
    double mrr, auc;
    uint64_t users; /* users with a relevant test item */
};

/*
 * At each cutoff k in cuts (ascending, at most METRICS_MAX_CUTS), averaged over the users
 * with relevant test items (positive test values), items in train excluded unless
 * include_seen (binary relevance, as the Python library implicit defines them):
 *   precision = hits / k; recall = hits / |rel|; hit = [hits > 0];
 *   map = (1 / min(k, |rel|)) sum over hits at rank j of (hits in ranks 1..j) / j;
 *   ndcg = sum over hits at rank j of 1/log2(j+1), over the same sum for ranks
 *          1..min(k, |rel|);
 *   coverage = distinct items in anyone's top k / items (not averaged: one number).
 * Over the full ranking of each user's candidates (items not in train):
 *   mrr = 1 / rank of the best-ranked relevant item;
 *   auc = share of (relevant, non-relevant candidate) pairs ordered correctly, ties 1/2.
 * One scorer with als-recommend: a model's top lists are rec_block's (lib/recommend.h:
 * scores are predictions, mu + b_u + b_i + x.y for an explicit model, computed exactly
 * per pair, ties to the lower index), and MRR and AUC rank every candidate against the
 * relevant ones by the same exact scores (rec_block_rows). m NULL is the popularity baseline (train needed): the
 * lists are rec_popular_top's of rec_popular's order (the order of als-recommend's --cold
 * popular), MRR and AUC rank by the counts (rec_popular_scores), ties to the lower index.
 * Per-user numbers are summed in user order: the same for any thread count.
 * Returns 0, ALS_EUSAGE (cutoffs not increasing or out of range, shapes that disagree, no
 * model and no train) or ALS_ENOMEM.
 */
int metrics_evaluate(const struct model *m, const struct csr *train, const struct csr *test,
                     const unsigned *cuts, unsigned ncut, int include_seen, unsigned threads,
                     struct metrics_report *out, struct diag *d) ALS_MUSTCHECK;

/* metrics_evaluate with reports to pr (may be NULL; lib/progress.h): one phase of the
 * out->users users evaluated, counted in unit (such as "users"), per block of users. */
int metrics_evaluate_progress(const struct model *m, const struct csr *train,
                              const struct csr *test, const unsigned *cuts, unsigned ncut,
                              int include_seen, unsigned threads, struct metrics_report *out,
                              struct progress *pr, const char *unit, struct diag *d)
    ALS_MUSTCHECK;

#endif
