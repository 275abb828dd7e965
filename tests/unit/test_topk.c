/* SPDX-License-Identifier: MIT */
/* test_topk: topk_select against a brute-force sort, ties, exclusions, NaN. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topk.h"

#include "t.h"
#include "scratch.h"

/* ---- the reference: sort every candidate ---- */

static const float *ref_scores;

/* Higher score first, NaN after every number (-inf included), then the lower index. */
static int
ref_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    float sa = ref_scores[a], sb = ref_scores[b];
    int na = isnan(sa), nb = isnan(sb);
    if (na != nb)
        return na - nb;
    if (!na && sa != sb)
        return sa > sb ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* All of 0..n-1 not in excl, sorted; returns how many (at most k kept). */
static size_t
ref_select(const float *scores, uint32_t n, size_t k, const uint32_t *excl, size_t nexcl,
           uint32_t *out)
{
    uint32_t *all = malloc(((size_t)n + 1) * sizeof *all);
    size_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        int ex = 0;
        for (size_t e = 0; e < nexcl; e++)
            ex |= excl[e] == i;
        if (!ex)
            all[m++] = i;
    }
    ref_scores = scores;
    qsort(all, m, sizeof *all, ref_cmp);
    size_t got = m < k ? m : k;
    memcpy(out, all, got * sizeof *out);
    free(all);
    return got;
}

/* Compare the library with the reference; val must carry the score of each index. */
static int
check_one(const float *scores, uint32_t n, size_t k, const uint32_t *excl, size_t nexcl)
{
    uint32_t *idx = malloc((k + 1) * sizeof *idx), *want = malloc((k + 1) * sizeof *want);
    float *val = malloc((k + 1) * sizeof *val);
    size_t got = topk_select(scores, n, k, excl, nexcl, idx, val);
    size_t exp = ref_select(scores, n, k, excl, nexcl, want);
    int ok = got == exp;
    for (size_t j = 0; ok && j < got; j++) {
        ok &= idx[j] == want[j];
        float s = scores[idx[j]];
        /* A NaN score may come back as NaN or as -inf (its rank), nothing else. */
        ok &= isnan(s) ? (isnan(val[j]) || val[j] == -INFINITY) : val[j] == s;
    }
    if (!ok) {
        printf("#   n %u k %zu nexcl %zu: got %zu, expected %zu\n#   got:     ", n, k, nexcl,
               got, exp);
        for (size_t j = 0; j < got; j++)
            printf(" %u(%g)", idx[j], (double)val[j]);
        printf("\n#   expected:");
        for (size_t j = 0; j < exp; j++)
            printf(" %u(%g)", want[j], (double)scores[want[j]]);
        printf("\n");
    }
    free(idx);
    free(want);
    free(val);
    return ok;
}

/* Scores from a small set, so that ties are everywhere. */
static const float pool[] = { -2.0f, -1.0f, 0.0f, 0.0f, 0.5f, 1.0f, 1.0f, 3.0f };

TEST(random_rows_with_ties_match_brute_force)
{
    uint64_t s = 1;
    int bad = 0, runs = 0;
    for (int trial = 0; trial < 400; trial++) {
        uint32_t n = (uint32_t)(rnd(&s) % 200);
        size_t k = (size_t)(rnd(&s) % 30);
        float *sc = malloc(((size_t)n + 1) * sizeof *sc);
        uint32_t *ex = malloc(((size_t)n + 1) * sizeof *ex);
        size_t nex = 0;
        for (uint32_t i = 0; i < n; i++) {
            sc[i] = pool[rnd(&s) % (sizeof pool / sizeof pool[0])];
            if (trial % 3 == 0)
                sc[i] += (float)(rnd(&s) % 1000) * 1e-3f; /* some without ties */
            if (rnd(&s) % 4 == 0)
                ex[nex++] = i; /* ascending */
        }
        bad += !check_one(sc, n, k, ex, nex);
        bad += !check_one(sc, n, k, NULL, 0);
        runs += 2;
        free(sc);
        free(ex);
    }
    printf("# %d random selections, %d wrong\n", runs, bad);
    T_EQ_INT(bad, 0);
}

TEST(all_equal_scores_go_by_index)
{
    float sc[50];
    uint32_t idx[10];
    float val[10];
    for (int i = 0; i < 50; i++)
        sc[i] = 0.25f;
    T_EQ_U64(topk_select(sc, 50, 10, NULL, 0, idx, val), 10);
    for (uint32_t j = 0; j < 10; j++)
        T_EQ_U64(idx[j], j);
    T_TRUE(check_one(sc, 50, 10, NULL, 0));
}

TEST(k_larger_than_the_candidates)
{
    float sc[] = { 1, 5, 3, 5, 2 };
    uint32_t ex[] = { 2 };
    uint32_t idx[20];
    float val[20];
    T_EQ_U64(topk_select(sc, 5, 20, NULL, 0, idx, val), 5);
    /* 5 (1), 5 (3), 3 (2), 2 (4), 1 (0) */
    T_EQ_U64(idx[0], 1);
    T_EQ_U64(idx[1], 3);
    T_EQ_U64(idx[2], 2);
    T_EQ_U64(idx[3], 4);
    T_EQ_U64(idx[4], 0);
    T_EQ_U64(topk_select(sc, 5, 20, ex, 1, idx, val), 4);
    T_EQ_U64(idx[2], 4);
    T_TRUE(check_one(sc, 5, 5, ex, 1));
    T_TRUE(check_one(sc, 5, 4, ex, 1));
}

TEST(all_excluded_or_nothing_asked)
{
    float sc[] = { 1, 2, 3 };
    uint32_t ex[] = { 0, 1, 2, 7 }; /* an exclusion past n is harmless */
    uint32_t idx[4];
    float val[4];
    T_EQ_U64(topk_select(sc, 3, 3, ex, 4, idx, val), 0);
    T_EQ_U64(topk_select(sc, 3, 0, NULL, 0, idx, val), 0);
    T_EQ_U64(topk_select(sc, 0, 3, NULL, 0, idx, val), 0);
    T_EQ_U64(topk_select(sc, 3, 1, ex + 1, 3, idx, val), 1);
    T_EQ_U64(idx[0], 0);
}

TEST(infinities_rank_as_numbers)
{
    float sc[] = { 1.0f, INFINITY, -INFINITY, -1e30f, 0.0f };
    T_TRUE(check_one(sc, 5, 5, NULL, 0));
    T_TRUE(check_one(sc, 5, 2, NULL, 0));
}

TEST(nan_scores_rank_last)
{
    float sc[] = { NAN, 1.0f, NAN, -5.0f, 2.0f, NAN };
    uint32_t idx[6];
    float val[6];
    T_EQ_U64(topk_select(sc, 6, 6, NULL, 0, idx, val), 6);
    /* 2 (4), 1 (1), -5 (3), then the NaNs by index */
    T_EQ_U64(idx[0], 4);
    T_EQ_U64(idx[1], 1);
    T_EQ_U64(idx[2], 3);
    T_EQ_U64(idx[3], 0);
    T_EQ_U64(idx[4], 2);
    T_EQ_U64(idx[5], 5);
    T_EQ_U64(topk_select(sc, 6, 2, NULL, 0, idx, val), 2);
    T_EQ_U64(idx[0], 4);
    T_EQ_U64(idx[1], 1);
    /* Every score NaN: by index. */
    float all[] = { NAN, NAN, NAN };
    T_EQ_U64(topk_select(all, 3, 2, NULL, 0, idx, val), 2);
    T_EQ_U64(idx[0], 0);
    T_EQ_U64(idx[1], 1);
    T_TRUE(check_one(sc, 6, 4, NULL, 0));
}

/* "NaN ranks below every number": -inf is a number, so a NaN goes after it too.
 * (Known bug: topk_select maps NaN to -inf, so a NaN ties with -inf and wins on a lower
 * index.) */
TEST(nan_ranks_below_minus_infinity)
{
    float sc[] = { NAN, -INFINITY, 0.0f };
    uint32_t idx[3];
    float val[3];
    T_EQ_U64(topk_select(sc, 3, 3, NULL, 0, idx, val), 3);
    T_EQ_U64(idx[0], 2);
    T_EQ_U64(idx[1], 1);
    T_EQ_U64(idx[2], 0);
    T_EQ_U64(topk_select(sc, 3, 2, NULL, 0, idx, val), 2);
    T_EQ_U64(idx[1], 1);
}

TEST(random_rows_with_nan_and_infinities_match_brute_force)
{
    /* -inf stays out: its order against NaN is the one case above (a known bug). */
    static const float odd[] = { NAN, INFINITY, -1e38f, 0.0f, -0.0f, 1.0f, 1.0f, -1.0f };
    uint64_t s = 7;
    int bad = 0;
    for (int trial = 0; trial < 200; trial++) {
        uint32_t n = (uint32_t)(rnd(&s) % 40);
        size_t k = (size_t)(rnd(&s) % 12);
        float sc[40];
        uint32_t ex[40];
        size_t nex = 0;
        for (uint32_t i = 0; i < n; i++) {
            sc[i] = odd[rnd(&s) % (sizeof odd / sizeof odd[0])];
            if (rnd(&s) % 5 == 0)
                ex[nex++] = i;
        }
        bad += !check_one(sc, n, k, ex, nex);
    }
    printf("# 200 selections with NaN/inf, %d wrong\n", bad);
    T_EQ_INT(bad, 0);
}
