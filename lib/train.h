/* SPDX-License-Identifier: MIT */
/* train: the training driver: a CSR file in, iterations of ALS, a model file out. */
#ifndef ALS_TRAIN_H
#define ALS_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "als.h"
#include "csr.h"
#include "diag.h"
#include "model.h"

/* Which validation numbers a struct train_progress carries. */
enum {
    TRAIN_HAS_RATING = 1u << 0, /* rmse and mae: an explicit run with a validation set */
    TRAIN_HAS_RANKING = 1u << 1 /* precision and ndcg at 10: an implicit one */
};

/* What the progress callback is told after each iteration. */
struct train_progress {
    unsigned iteration;     /* 1, 2, ... iterations */
    unsigned iterations;    /* the job's p.iters */
    double seconds;         /* the two half-steps of this iteration */
    double loss;            /* als_loss, or NaN when the job did not ask for it */
    unsigned has;           /* TRAIN_HAS_* */
    double rmse, mae;       /* TRAIN_HAS_RATING: predictions clipped to the training range */
    double precision, ndcg; /* TRAIN_HAS_RANKING: at 10, training items excluded */
};

/* What a run did, for the summary lines. new_users and new_items are set as soon as the
 * warm start is done (warm_started 1), before the first iteration: the progress callback
 * may read them through its context. */
struct train_info {
    uint64_t users, items;
    int warm_started;
    uint64_t new_users, new_items; /* rows the --init model lacked, folded in */
    double seconds; /* from the first iteration to the model written */
    struct als_params params; /* as trained: the job's, with p.fit resolved (als_params_fit,
                               * or from the --init model) */
    struct train_progress last; /* what the last iteration's callback was given */
};

/*
 * One training run. Borrowed strings; a zeroed job plus p (als_params_default, then the
 * options), train_path and output is a plain run.
 *
 * half_step solves rows [from, to) of side (0 users, 1 items) of m with params p, the
 * other side fixed: on return every row of [from, to) must hold its solution, on every
 * caller that shares the model. NULL is als_half_step. train_run calls it for side 0
 * over [0, users) then side 1 over [0, items) in each iteration, and for the rows a warm
 * start adds (with p.solver Cholesky) before them. A distributed driver solves its own
 * block of [from, to) and exchanges the rows. It returns 0 or an ALS_E* code with d set.
 */
struct train_job {
    struct als_params p;
    const char *train_path; /* TRAIN.CSR */
    const char *output;     /* the model file ("-" stdout); NULL: not written */
    const char *init;       /* warm start from this model, or NULL */
    const char *validate;   /* a CSR of the same shape to validate on, or NULL */
    int loss;               /* compute the training objective after each iteration */
    int (*half_step)(void *ctx, const struct als_params *p, const struct csr *c,
                     struct model *m, int side, uint64_t from, uint64_t to, struct diag *d);
    void *half_step_ctx;
    /* The training objective for --loss, given half_step_ctx; NULL is als_loss. A
     * distributed driver sums its ranks' per-user terms (als_loss_rows) in user order. */
    double (*loss_of)(void *ctx, const struct als_params *p, const struct csr *c,
                      const struct model *m);
    /* When not NULL, the trained model is handed back here (model_free releases it)
     * instead of being freed; it is saved too when output is set. */
    struct model **keep;
    /* Called after each iteration, when not NULL. */
    void (*progress)(const struct train_progress *pr, void *ctx);
    void *progress_ctx;
};

/*
 * Open job->train_path (and job->validate: same rows and columns), create the model,
 * initialise it from job->p.seed (als_init_rows) or warm start it from job->init (its
 * rows copied, the rows it lacks solved exactly: new users against the old items, then
 * new items against all users), run job->p.iters iterations, record the parameters and
 * the source in the model and write it to job->output. info (may be NULL) is filled as
 * the run goes. Returns 0 or:
 *   the csr_open and model_open codes and messages of the three files;
 *   ALS_EFORMAT: a validation set of another shape, an --init model of another rank,
 *     mode or biases;
 *   ALS_ERANGE: more factors than users or items, an --init model larger than the data;
 *   ALS_ENUMERIC: a row's system failed (the message names the row: raise --lambda);
 *   ALS_ENOMEM, and model_save's codes.
 * The messages are the CLI's, without the program name.
 */
/* One iteration's line, without a line break, into buf: text ("iteration 3/15: 0.120 s,
 * loss 12.5, test precision@10 0.2 ndcg@10 0.3") or a JSON object. */
void train_format_progress(const struct train_progress *pr, int json, char *buf, size_t size);

int train_run(const struct train_job *job, struct train_info *info, struct diag *d)
    ALS_MUSTCHECK;

/* Print a model's file name, format, shape and model_describe's keys to out as
 * "key\tvalue" lines (what als-train --info shows). The caller checks out for write
 * errors. Returns model_open's codes. */
int train_print_info(FILE *out, const char *model_path, struct diag *d) ALS_MUSTCHECK;

/* Open the model at model_path and npy_export_model it to dir. */
int train_export_npy(const char *model_path, const char *dir, struct diag *d) ALS_MUSTCHECK;

#endif
