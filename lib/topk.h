/* SPDX-License-Identifier: MIT */
/* topk: the k best-scoring items of a row of scores, with exclusions, without sorting all. */
#ifndef ALS_TOPK_H
#define ALS_TOPK_H

#include <stddef.h>
#include <stdint.h>

/*
 * Select the k highest of scores[0..n), skipping the indices in excl[0..nexcl) (sorted
 * ascending), into idx/val ordered best first. Ties go to the lower index, so the result
 * is deterministic; NaN ranks below every number. Returns how many were selected
 * (fewer than k when fewer candidates remain). O(n log k).
 */
size_t topk_select(const float *scores, uint32_t n, size_t k, const uint32_t *excl,
                   size_t nexcl, uint32_t *idx, float *val);

/* The same, also skipping every i with mask[i] != 0 (mask may be NULL): the filters of a
 * whole run (excluded items, an allow-list) applied during the selection. */
size_t topk_select_masked(const float *scores, uint32_t n, size_t k, const uint32_t *excl,
                          size_t nexcl, const unsigned char *mask, uint32_t *idx, float *val);

/*
 * The same selection fed in tiles (consecutive index ranges, in order), so that scores can
 * be computed a cache-sized tile at a time: topk_begin, topk_feed for each tile with the
 * index of its first score, topk_end (sorts, returns the count). The state holds idx and
 * val (k entries each, owned by the caller) and the position in the exclusion list.
 */
struct topk_state {
    uint32_t *idx;
    float *val;
    size_t k, h, e;
    const uint32_t *excl;
    size_t nexcl;
    const unsigned char *mask;
};

void topk_begin(struct topk_state *t, size_t k, const uint32_t *excl, size_t nexcl,
                const unsigned char *mask, uint32_t *idx, float *val);
void topk_feed(struct topk_state *t, const float *scores, uint32_t first, uint32_t n);
size_t topk_end(struct topk_state *t);

#endif
