/* SPDX-License-Identifier: MIT */
/* evaluate: als-eval's job: a model, the popularity baseline and a previous model on a split. */
#ifndef ALS_EVALUATE_H
#define ALS_EVALUATE_H

#include <stdint.h>

#include "diag.h"
#include "metrics.h"

struct evaluate_opts {
    const char *model, *train, *test; /* the model and the two parts of an als-csr split */
    const char *previous;             /* a previous model to compare with, or NULL */
    const unsigned *cuts;             /* ascending, without repeats */
    unsigned ncut;                    /* 1 .. METRICS_MAX_CUTS */
    int include_seen;                 /* rank training items too */
    int allow_leakage;                /* skip guard_check (lib/guard.h) */
    unsigned threads;
    /* Optional (lib/progress.h): the test users evaluated, one phase per ranking: the
     * model's ("users"), the popularity baseline's ("baseline users") and the previous
     * model's ("previous-model users"). */
    void (*progress)(uint64_t done, uint64_t total, const char *unit, void *ctx);
    void *progress_ctx;
};

struct evaluate_result {
    struct metrics_report model, popularity, previous; /* previous: with has_previous */
    int has_previous;
    /* Explicit models (rated): rating errors of the model, of the training mean and of
     * the previous model; fallback counts the model's test entries whose user or item
     * has no factors (predicted by the training mean, plus known biases with biases). */
    int rated, biases;
    struct metrics_rating rating, rating_mean, rating_previous;
    double mean; /* the training mean */
};

/*
 * Open the model, TRAIN.CSR, TEST.CSR and the previous model (in that order, each checked
 * whole), check that they fit (the two CSRs of one shape, the models of that shape; a
 * previous model from before the vocabulary grew is grown to it with model_grow), and
 * evaluate with metrics_evaluate: the model, the popularity baseline and the previous
 * model, each on the same test users; for an explicit model also the rating errors
 * (predictions clipped to the training range). Every file is closed on return.
 * Returns 0, the code of the open that failed, ALS_EFORMAT with a message naming both
 * files when the shapes disagree or naming TEST.CSR when it holds no entries, or
 * ALS_ENOMEM.
 */
int evaluate_run(const struct evaluate_opts *o, struct evaluate_result *res, struct diag *d)
    ALS_MUSTCHECK;

#endif
