/* SPDX-License-Identifier: MIT */
/* metrics: how good a model is on held-out data: rating errors and ranking quality. */
#ifndef ALS_METRICS_H
#define ALS_METRICS_H

#include <stdint.h>

#include "csr.h"
#include "diag.h"
#include "model.h"

struct metrics_rating {
    double rmse, mae;
    uint64_t n;
};

/* Errors of mu + b_u + b_i + x_u.y_i over the entries of test, each prediction clipped
 * to [lo, hi] when lo <= hi (the training range: a rating never leaves it). */
void metrics_rating(const struct model *m, const struct csr *test, float lo, float hi,
                    struct metrics_rating *out);

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
 * Scores are computed in blocks of users with one GEMM each, on threads threads.
 */
int metrics_ranking(const struct model *m, const struct csr *train, const struct csr *test,
                    unsigned k, int include_seen, unsigned threads, struct metrics_rank *out,
                    struct diag *d) ALS_MUSTCHECK;

#endif
