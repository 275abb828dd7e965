/* SPDX-License-Identifier: MIT */
/* fixtures: tiny hand-made matrices and models for the tests of metrics and evaluation. */
#ifndef ALS_TEST_FIXTURES_H
#define ALS_TEST_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csr.h"
#include "model.h"

/* One (user, item, value) entry of a hand-written matrix. */
struct ent {
    uint32_t u, i;
    float v;
};

/* The rows x cols CSR of entries e[0..n) (duplicates summed); aborts on failure. */
static __attribute__((unused)) struct csr *
csr_of(const struct ent *e, size_t n, uint64_t rows, uint64_t cols)
{
    struct csr_coo coo;
    struct csr *c = NULL;
    struct diag d = { 0 };
    memset(&coo, 0, sizeof coo);
    for (size_t t = 0; t < n; t++)
        if (csr_coo_push(&coo, e[t].u, e[t].i, e[t].v, NULL) < 0)
            abort();
    if (csr_build(&coo, rows, cols, CSR_DUP_SUM, 0, &c, NULL, &d) < 0) {
        printf("# csr_build: %s\n", d.msg);
        abort();
    }
    return c;
}

/* An implicit model (no biases) or an explicit one with biases, factors copied in. */
static __attribute__((unused)) struct model *
model_of(uint64_t users, uint64_t items, uint32_t k, int biases, const float *U, const float *V)
{
    struct model *m;
    struct diag d = { 0 };
    if (model_new(&m, users, items, k, !biases, biases, &d) < 0)
        abort();
    memcpy(m->U, U, users * k * sizeof *U);
    memcpy(m->V, V, items * k * sizeof *V);
    return m;
}

#endif
