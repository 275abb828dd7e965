/* SPDX-License-Identifier: MIT */
/* als: alternating least squares solvers, explicit (weighted-λ, biases) and implicit (HKV). */
#ifndef ALS_ALS_H
#define ALS_ALS_H

#include <stdint.h>

#include "csr.h"
#include "diag.h"
#include "model.h"

enum { ALS_SOLVER_CHOLESKY = 0, ALS_SOLVER_CG = 1 };

struct als_params {
    uint32_t k, iters, cg_steps;
    double alpha, lambda;
    int implicit, biases, solver;
    uint64_t seed;
    unsigned threads;
};

/* Defaults: Intel oneDAL's implicit ALS (k 10, 5 iterations, alpha 40, lambda 0.01), CG
 * with 3 steps for implicit, Cholesky for explicit. */
void als_params_default(struct als_params *p, int implicit);

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
