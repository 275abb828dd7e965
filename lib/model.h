/* SPDX-License-Identifier: MIT */
/* model: the factor file (user and item factors, biases, training parameters). */
#ifndef ALS_MODEL_H
#define ALS_MODEL_H

#include <stdint.h>

#include "afile.h"
#include "diag.h"

#define MODEL_KIND "FAC1"
#define MODEL_MAJOR 1

/*
 * U is users x k and V items x k, row-major float32. Explicit models with biases also
 * carry the global mean and one bias per user and per item: a prediction is
 * mu + ub[u] + ib[i] + U[u] . V[i]. The training parameters travel in META as
 * "key=value" lines so that --info, --init and als-eval can read them back.
 */
struct model {
    uint64_t users, items;
    uint32_t k;
    int implicit, biases;
    float *U, *V;
    float *ub, *ib; /* NULL without biases */
    double mu;
    char meta[2048];
    int owned;
    struct afile file;
};

/* Allocate an owned model of the given shape (factors zeroed, 64-byte aligned). */
int model_new(struct model **out, uint64_t users, uint64_t items, uint32_t k, int implicit,
              int biases, struct diag *d) ALS_MUSTCHECK;

/* Write atomically (sections USRF ITMF [UBIA IBIA] META). */
int model_save(const struct model *m, const char *path, struct diag *d) ALS_MUSTCHECK;

/* Map and validate a model file; the factors point into the mapping. */
int model_open(struct model **out, const char *path, unsigned flags, struct diag *d)
    ALS_MUSTCHECK;

/* The value of key in meta ("key=value" lines) into buf; 0, or -1 when absent. */
int model_meta_get(const struct model *m, const char *key, char *buf, size_t size);

/* 1 when user (side 0) or item (side 1) row has factors: inside the model and not all
 * zero (a row trained on no entries, or one the vocabulary gained after training). */
int model_has_factors(const struct model *m, int side, uint64_t row);

void model_free(struct model *m);

#endif
