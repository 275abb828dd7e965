/* SPDX-License-Identifier: MIT */
/* recommend: batched scoring of users (or items) against a model, with filtered top-k. */
#ifndef ALS_RECOMMEND_H
#define ALS_RECOMMEND_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"

/* Users scored per GEMM: BLAS packs the item factors once per call, so a larger block
 * packs them less often; scores are computed a tile of items at a time (recommend.c). */
#define REC_BLOCK 256

struct rec {
    const struct model *m;
    const unsigned char *mask; /* items never to return (exclusions, allow-list), or NULL */
    unsigned k;
    int similar; /* score items against items by cosine instead of users against items */
    float *unit; /* similar: the item factors scaled to unit length */
    double ymax; /* the largest item factor norm (1 for similar): bounds GEMM's error */
};

/* Prepare r for m (with similar, computes the unit-length item factors). */
int rec_init(struct rec *r, const struct model *m, const unsigned char *mask, unsigned k,
             int similar, struct diag *d) ALS_MUSTCHECK;
void rec_release(struct rec *r);

/* One query: a factor row (k floats; with biases, the user bias in *bias), the sorted
 * item indices it must not get back (seen items, the query item itself for similar). */
struct rec_query {
    const float *x;
    float bias;
    const uint32_t *excl;
    size_t nexcl;
};

/* Score n <= REC_BLOCK queries with one GEMM and select each one's top k, best first,
 * into idx/val (n x k; cnt[j] how many). scratch: REC_BLOCK x (k + items) floats from
 * rec_scratch_size. Scores are predictions: x.y (implicit), mu + b_u + b_i + x.y
 * (explicit with biases), cosine for similar. Ties go to the lower item index. */
void rec_block(const struct rec *r, const struct rec_query *q, size_t n, float *scratch,
               uint32_t *idx, float *val, size_t *cnt);

size_t rec_scratch_size(const struct rec *r);

/* Score n given (query, item) pairs, q[t] against items[t] (an item with factors), into
 * out[t]: the exact score rec_block ranks by (the same double-precision sum in a fixed
 * order), so a pair scores as it would rank among all items. Not with similar. */
void rec_score_pairs(const struct rec *r, const struct rec_query *q, const uint32_t *items,
                     size_t n, float *out);

/*
 * Score n <= REC_BLOCK queries against every item into rows (n x items floats), for
 * callers that rank whole rows against a few items (als-eval's MRR and AUC): the items in
 * want[j][0..nwant[j]) (any order) get the exact score rec_block ranks by, and so does
 * every item whose score is near enough to one of theirs to tie with it or to be ordered
 * differently; the others keep GEMM's score, which lies on the same side of each of those
 * exact scores as their own exact score. So comparing any entry of row j with a want
 * item's entry gives the exact scores' answer, ties included, and ranking by (score desc,
 * index asc) puts the want items where rec_block would. Exclusions and the mask are not
 * applied. scratch as for rec_block. GEMM plus O(items log nwant) per query.
 */
void rec_block_rows(const struct rec *r, const struct rec_query *q, size_t n,
                    const uint32_t *const *want, const size_t *nwant, float *scratch,
                    float *rows);

/* Items by training count (degree in the history's transpose), highest first, ties to
 * the lower index: the popularity baseline and the cold-start list. */
int rec_popular(const uint64_t *col_ptr, uint64_t items, uint32_t **order, struct diag *d)
    ALS_MUSTCHECK;

/* The score rec_popular orders by, for every item: its training count (as a float, exact
 * up to 2^24), into score[0..items). */
void rec_popular_scores(const uint64_t *col_ptr, uint64_t items, float *score);

/* One query's popularity list: the first k items of order (from rec_popular) that are
 * neither in excl[0..nexcl) (sorted ascending) nor masked (mask may be NULL), best first,
 * into idx. Returns how many (fewer than k when fewer items remain). */
size_t rec_popular_top(const uint32_t *order, uint64_t items, const uint32_t *excl,
                       size_t nexcl, const unsigned char *mask, size_t k, uint32_t *idx);

#endif
