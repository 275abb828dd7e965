/* SPDX-License-Identifier: MIT */
/* als: alternating least squares solvers, explicit (weighted-λ, biases) and implicit (HKV). */
#ifndef ALS_ALS_H
#define ALS_ALS_H

#include <math.h>
#include <stdint.h>

#include "csr.h"
#include "diag.h"
#include "model.h"

enum { ALS_SOLVER_CHOLESKY = 0, ALS_SOLVER_CG = 1 };

/* How an implicit value r becomes confidence 1 + alpha f(r): f = |r|, or log(1 + |r|)
 * (Hu, Koren and Volinsky's log scaling, for heavy-tailed counts and durations). */
enum { ALS_CONF_LINEAR = 0, ALS_CONF_LOG = 1 };

/* Parameters that als_params_fit chooses from the training data (bits of fit). */
enum {
    ALS_FIT_K = 1u << 0,
    ALS_FIT_ALPHA = 1u << 1,
    ALS_FIT_LAMBDA = 1u << 2,
    /* Only a warm start resolves these, from its --init model (train_run): */
    ALS_FIT_MODE = 1u << 3, /* implicit or explicit */
    ALS_FIT_SOLVER = 1u << 4,
    ALS_FIT_BIASES = 1u << 5,
    ALS_FIT_CONFIDENCE = 1u << 6 /* from the data, or from an --init model */
};

struct als_params {
    uint32_t k, iters, cg_steps;
    double alpha, lambda;
    int implicit, biases, solver;
    int confidence; /* ALS_CONF_*: implicit only */
    uint64_t seed;
    unsigned threads;
    unsigned fit; /* ALS_FIT_*: left to the data; the solvers ignore it */
    double alpha_mul, lambda_mul; /* applied to a fitted alpha or lambda; 0 means 1 */
};

/*
 * Defaults, chosen on MovieLens 100K, Last.fm 2K and generated logs of other shapes
 * (make quality; als-train(1) has the numbers): 64 factors (fewer when the data has
 * fewer users or items), 15 iterations; implicit: CG with 3 steps, alpha and lambda from
 * the data (als_params_fit; until then alpha 1, lambda 30); explicit: Cholesky, biases,
 * lambda 0.12. oneDAL's defaults are -k 10 -n 5 -a 40 -l 0.01.
 */
void als_params_default(struct als_params *p, int implicit);

/*
 * The parameters of a run from what the options gave, on top of p (which holds the values
 * given): mode, solver and biases are -1 when not given; set has the ALS_FIT_* bits of k,
 * alpha and lambda given; warm when the run continues an --init model (what is not given
 * then comes from it). Sets p->implicit, solver, biases, lambda (its mode's default) and
 * fit. ALS_EUSAGE: --biases with an implicit model.
 */
int als_params_resolve(struct als_params *p, int mode, int solver, int biases, unsigned set,
                       int warm, struct diag *d) ALS_MUSTCHECK;

/*
 * Resolve the parameters p->fit leaves to the data c, then clear p->fit:
 *   k = min(k, users, items), at least 1;
 *   implicit confidence: log when als_values_heavy_tailed, else linear;
 *   implicit alpha = 2 / mean f(r) (a typical entry gets confidence 3, whatever the
 *   scale of the values: stars, seconds or play counts);
 *   implicit lambda = 14 users^0.3 / items^0.2 (one lambda serves both half-steps, whose
 *   Gram matrices sum over items and over users respectively; the exponents and 14 maximise
 *   the worst ratio to the best of a 7x7 alpha x lambda grid over MovieLens 100K, Last.fm
 *   2K raw and log1p and two generated shapes, and held on a third: als-train(1)).
 */
void als_params_fit(struct als_params *p, const struct csr *c);

/* f(r) of an implicit entry: its confidence is 1 + alpha f(r). */
static inline double
als_strength(const struct als_params *p, float r)
{
    double a = fabs((double)r);
    return p->confidence == ALS_CONF_LOG ? log1p(a) : a;
}

/* Whether values of this spread want log confidence: the 99th percentile of the nonzero
 * |r| above ten times their median (play counts, watch time), judged on a histogram of
 * the float bits (buckets 2^-7 wide in relative terms). */
int als_values_heavy_tailed(const struct csr *c);

/* Where a solve failed, for the message: side 0 users, 1 items. */
struct als_failure {
    int side;
    uint64_t row, degree;
};

/* Fill rows [from, n) of U (side 0) or V (side 1) with small pseudo-random values that
 * depend only on (seed, side, row): any thread count gives the same bytes. */
void als_init_rows(struct model *m, int side, uint64_t from, uint64_t seed);

/*
 * One half-step: solve rows [from, to) of side (0: users from R, 1: items from Rᵀ) with
 * the other side fixed. Cholesky solves exactly; CG takes cg_steps steps warm-started
 * from the current rows. Deterministic for any thread count. Returns ALS_ENUMERIC with
 * *fail set when a system is not positive definite or a factor is not finite.
 */
int als_half_step(const struct als_params *p, const struct csr *c, struct model *m, int side,
                  uint64_t from, uint64_t to, struct als_failure *fail, struct diag *d)
    ALS_MUSTCHECK;

/* The training objective: implicit, sum over all (u, i) of c_ui (p_ui - x_u.y_i)^2 plus
 * lambda (|X|^2 + |Y|^2); explicit, the squared error over the entries plus lambda
 * (sum n_u (|x_u|^2 + b_u^2) + sum n_i (|y_i|^2 + b_i^2)). Summed in a fixed order. */
double als_loss(const struct als_params *p, const struct csr *c, const struct model *m);

/* als_loss in two parts, for a run that splits the users: the terms of users [from, to)
 * into part[0 .. to - from) (ALS_ENOMEM), then the objective from the terms of every user
 * (part[0 .. users)), summed in user order, then the items' terms: the same sums in the
 * same order as als_loss, so the value does not depend on how the users were split. */
int als_loss_rows(const struct als_params *p, const struct csr *c, const struct model *m,
                  uint64_t from, uint64_t to, double *part) ALS_MUSTCHECK;
double als_loss_total(const struct als_params *p, const struct csr *c, const struct model *m,
                      const double *part);

/*
 * Fold-in: the factors of one user from a history, by one exact (Cholesky) solve against
 * the model's item factors, the very system a training half-step builds for a user with
 * these entries. For new users and users whose history changed since training.
 */
struct als_foldin {
    struct als_params p;
    const struct model *m;
    float *D; /* implicit: V^T V, computed once */
};

int als_foldin_init(struct als_foldin *f, const struct als_params *p, const struct model *m,
                    struct diag *d) ALS_MUSTCHECK;
/* x (k floats) and, with biases, *bias from n entries (sorted distinct item indices below
 * m->items, values). Thread-safe for one f. ALS_ENUMERIC when the system is singular. */
int als_foldin_user(const struct als_foldin *f, const uint32_t *items, const float *vals,
                    size_t n, float *x, float *bias) ALS_MUSTCHECK;
void als_foldin_release(struct als_foldin *f);

/* Global mean of the entries of c (0 when empty). */
double als_mean(const struct csr *c);

#endif
