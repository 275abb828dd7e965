/* SPDX-License-Identifier: MIT */
/* model: the factor file (user and item factors, biases, training parameters). */
#ifndef ALS_MODEL_H
#define ALS_MODEL_H

#include <stdint.h>

#include "afile.h"
#include "diag.h"

#define MODEL_KIND "FAC1"
#define MODEL_MAJOR 1

enum { MODEL_SOLVER_CHOLESKY = 0, MODEL_SOLVER_CG = 1 };
enum { MODEL_CONF_LINEAR = 0, MODEL_CONF_LOG = 1 }; /* the values of ALS_CONF_* */

/* What the --init model of a warm start was trained on, as far as the split goes: none
 * (no warm start), the training side of this run's split (or of a stable split of the same
 * family) with a history as clean, or anything else (it may have seen test entries). */
enum { MODEL_INIT_NONE = 0, MODEL_INIT_SAME = 1, MODEL_INIT_OTHER = 2 };

/* Longest file name a model records (the tail is kept: it names the file). */
#define MODEL_PATH_MAX 200

/*
 * How a model was trained, as its META section records it ("key=value" lines, a format
 * only model.c knows). has says which were in the file: a model written by an older
 * version may lack some. The factor count, mode and biases come from the file itself.
 */
struct model_params {
    uint32_t iterations, cg_steps;
    double alpha, lambda;
    int solver;     /* MODEL_SOLVER_* */
    int confidence; /* MODEL_CONF_*: implicit; a model from before the key is linear */
    uint64_t seed;
    char train[MODEL_PATH_MAX + 8]; /* the training CSR, or "" */
    uint64_t train_nnz;
    uint32_t data_checksum; /* afile_checksum of the training CSR */
    char init[MODEL_PATH_MAX + 8]; /* the --init model, or "none" */
    /* MODEL_HAS_LINEAGE: csr_content_id of the training matrix, and the split it is a side
     * of (csr_split_info: split_id 0 and side 0 when none) */
    uint64_t data_id, split_id;
    int split_side;
    uint64_t split_family; /* a stable split's (seed, fraction) identity, or 0 */
    int init_split;        /* MODEL_INIT_*: what a warm start continued */
    double rating_min, rating_max; /* MODEL_HAS_RANGE: the training values (explicit) */
    unsigned has; /* MODEL_HAS_* bits */
};

enum {
    MODEL_HAS_ITERATIONS = 1u << 0,
    MODEL_HAS_CG_STEPS = 1u << 1,
    MODEL_HAS_ALPHA = 1u << 2,
    MODEL_HAS_LAMBDA = 1u << 3,
    MODEL_HAS_SOLVER = 1u << 4,
    MODEL_HAS_SEED = 1u << 5,
    MODEL_HAS_TRAIN = 1u << 6, /* train, train_nnz and data_checksum */
    MODEL_HAS_INIT = 1u << 7,
    MODEL_HAS_LINEAGE = 1u << 8, /* data_id, split_id, split_side, split_family, init_split */
    MODEL_HAS_RANGE = 1u << 9,   /* rating_min and rating_max */
    MODEL_HAS_CONFIDENCE = 1u << 10
};

/*
 * U is users x k and V items x k, row-major float32. Explicit models with biases also
 * carry the global mean and one bias per user and per item: a prediction is
 * mu + ub[u] + ib[i] + U[u] . V[i]. A model from model_new owns its arrays; one from
 * model_open sees the file through a private copy-on-write mapping, so changing its
 * factors never reaches the file.
 */
struct model {
    uint64_t users, items;
    uint32_t k;
    int implicit, biases;
    float *U, *V;
    float *ub, *ib; /* NULL without biases */
    double mu;
    struct model_params params;
    int owned;
    struct afile file;
};

/* Allocate an owned model of the given shape (factors zeroed, 64-byte aligned). */
int model_new(struct model **out, uint64_t users, uint64_t items, uint32_t k, int implicit,
              int biases, struct diag *d) ALS_MUSTCHECK;

/* Write atomically (sections USRF ITMF [UBIA IBIA] META). */
int model_save(const struct model *m, const char *path, struct diag *d) ALS_MUSTCHECK;

/* Map and validate a model file (copy-on-write: see struct model). META is parsed into
 * m->params; a malformed value is ALS_EFORMAT naming the key. */
int model_open(struct model **out, const char *path, unsigned flags, struct diag *d)
    ALS_MUSTCHECK;

/* Record the training data and warm start in m->params (paths cut to their last
 * MODEL_PATH_MAX bytes, line breaks replaced); init_path NULL for none. */
void model_set_source(struct model *m, const char *train_path, uint64_t train_nnz,
                      uint32_t data_checksum, const char *init_path);

/* Call fn for each key and value the model records, in file order (mu first): what
 * --info prints. */
void model_describe(const struct model *m,
                    void (*fn)(const char *key, const char *value, void *ctx), void *ctx);

/* A new owned model of the shape users x items (at least old's) with old's rows and
 * biases copied, the rows beyond them zero, and old's mu and params: yesterday's model
 * grown to today's vocabulary. */
int model_grow(struct model **out, const struct model *old, uint64_t users, uint64_t items,
               struct diag *d) ALS_MUSTCHECK;

/* 1 when user (side 0) or item (side 1) row has factors: inside the model and not all
 * zero (a row trained on no entries, or one the vocabulary gained after training). */
int model_has_factors(const struct model *m, int side, uint64_t row);

void model_free(struct model *m);

#endif
