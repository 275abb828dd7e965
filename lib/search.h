/* SPDX-License-Identifier: MIT */
/* search: the best training parameters on a validation set, over a grid or a sample of it. */
#ifndef ALS_SEARCH_H
#define ALS_SEARCH_H

#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "train.h"

enum { SEARCH_K, SEARCH_ALPHA, SEARCH_LAMBDA, SEARCH_ITERATIONS, SEARCH_CG_STEPS, SEARCH_NKEYS };
#define SEARCH_MAX_VALUES 32

/* One parameter and its values; is_auto[i]: value i is the data's default (alpha, lambda)
 * times v[i]. */
struct search_axis {
    int key; /* SEARCH_* */
    unsigned n;
    double v[SEARCH_MAX_VALUES];
    unsigned char is_auto[SEARCH_MAX_VALUES];
};

struct search_spec {
    unsigned naxes;
    struct search_axis axis[SEARCH_NKEYS];
    uint64_t max_points; /* points=N: a seeded random sample of N points; 0: all of them */
    double max_seconds;  /* seconds=S: no point starts after S seconds (one always runs) */
};

/*
 * Parse "k=32,64 alpha=0.5,1,auto lambda=10,30,auto iterations=15": space- or
 * semicolon-separated KEY=LIST, keys k (or factors), alpha, lambda, iterations (or n),
 * cg-steps, each at most once; whole numbers for k, iterations and cg-steps; auto (alpha,
 * lambda) is the default als-train fits to the data, auto*X that times X. The budget: points=N (a sample of the
 * grid) and seconds=S. ALS_EUSAGE with a message naming the
 * part that is wrong.
 */
int search_parse(const char *text, struct search_spec *out, struct diag *d) ALS_MUSTCHECK;

/* The number of grid points (product of the axes' counts, saturating at UINT64_MAX). */
uint64_t search_points(const struct search_spec *s);

struct search_point {
    uint64_t index;         /* in evaluation order, from 0 */
    struct als_params p;    /* as trained (alpha and lambda resolved) */
    struct train_progress score; /* the validation numbers after the last iteration */
    double seconds;
    int best; /* the best so far, this one included */
};

struct search_job {
    struct train_job base; /* base.validate is required; base.output gets the best model */
    const struct search_spec *spec;
    uint64_t seed; /* of the sample order */
    FILE *table; /* when not NULL: search_print_point for each point as it ends */
    void (*on_point)(const struct search_point *pt, void *ctx); /* may be NULL */
    void *ctx;
};

/*
 * Train one model per point (each exactly as als-train with those options would: the
 * same bytes), score it on base.validate (implicit: ndcg@10, higher is better; explicit:
 * RMSE, lower is better; ties keep the earlier point) and write the best model to
 * base.output atomically. Grid order is the spec's, the last key changing fastest; a
 * sample visits max_points of them in an order set by seed alone. Deterministic for any
 * thread count. *best (may be NULL) is the winner, *evaluated (may be NULL) how many
 * points were trained.
 */
int search_run(const struct search_job *j, struct search_point *best, uint64_t *evaluated,
               struct diag *d) ALS_MUSTCHECK;

/* One point as a TSV line on f (with the header line first when header): point, k,
 * iterations, alpha, lambda, the validation numbers (ndcg@10 precision@10, or rmse mae),
 * seconds, and "best" when it is the best so far. */
void search_print_point(FILE *f, const struct search_point *pt, int header);

#endif
