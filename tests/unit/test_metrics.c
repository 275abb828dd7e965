/* SPDX-License-Identifier: MIT */
/* test_metrics: rating errors and ranking metrics on hand-computed cases, threads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csr.h"
#include "diag.h"
#include "metrics.h"
#include "model.h"

#include "t.h"
#include "scratch.h"
#include "fixtures.h"

#define EPS 1e-12


/* ---- rating errors ---- */

/*
 * k = 2, mu = 3, U = [[1, 0], [0.5, 2]], V = [[2, 1], [1, -1], [0, 3]],
 * ub = [0.5, -0.5], ib = [0.25, 0, -1]. Test entries and predictions:
 *   (0,0) r 5: 3 + 0.5 + 0.25 + 2        = 5.75
 *   (0,1) r 3: 3 + 0.5 + 0    + 1        = 4.5
 *   (1,1) r 2: 3 - 0.5 + 0    + (0.5-2)  = 1.0
 *   (1,2) r 4: 3 - 0.5 - 1    + 6        = 7.5
 * Clipped to [1.5, 5]: 5, 4.5, 1.5, 5 -> errors 0, -1.5, 0.5, -1
 *   se = 0 + 2.25 + 0.25 + 1 = 3.5, rmse = sqrt(3.5 / 4) = sqrt(0.875); mae = 3 / 4 = 0.75
 * Not clipped (lo > hi): errors -0.75, -1.5, 1, -3.5
 *   se = 0.5625 + 2.25 + 1 + 12.25 = 16.0625, rmse = sqrt(4.015625); mae = 6.75 / 4 = 1.6875
 * Without biases (mu ignored): predictions 2, 1, -1.5, 6 -> errors 3, 2, 3.5, -2
 *   se = 9 + 4 + 12.25 + 4 = 29.25, rmse = sqrt(7.3125); mae = 10.5 / 4 = 2.625
 */
static const float RU[] = { 1, 0, 0.5f, 2 }, RV[] = { 2, 1, 1, -1, 0, 3 };
static const struct ent rtest[] = { { 0, 0, 5 }, { 0, 1, 3 }, { 1, 1, 2 }, { 1, 2, 4 } };

TEST(rating_errors_by_hand_with_biases_and_clipping)
{
    struct model *m = model_of(2, 3, 2, 1, RU, RV);
    struct csr *t = csr_of(rtest, 4, 2, 3);
    struct metrics_rating r;
    m->mu = 3.0;
    m->ub[0] = 0.5f;
    m->ub[1] = -0.5f;
    m->ib[0] = 0.25f;
    m->ib[1] = 0.0f;
    m->ib[2] = -1.0f;
    metrics_rating(m, t, 1.5f, 5.0f, &r);
    T_EQ_U64(r.n, 4);
    T_NEAR(r.rmse, sqrt(0.875), EPS);
    T_NEAR(r.mae, 0.75, EPS);
    metrics_rating(m, t, 1.0f, 0.0f, &r); /* lo > hi: no clipping */
    T_EQ_U64(r.n, 4);
    T_NEAR(r.rmse, sqrt(4.015625), EPS);
    T_NEAR(r.mae, 1.6875, EPS);
    model_free(m);
    csr_free(t);
}

TEST(rating_errors_by_hand_without_biases)
{
    struct model *m = model_of(2, 3, 2, 0, RU, RV);
    struct csr *t = csr_of(rtest, 4, 2, 3);
    struct metrics_rating r;
    metrics_rating(m, t, INFINITY, -INFINITY, &r);
    T_EQ_U64(r.n, 4);
    T_NEAR(r.rmse, sqrt(7.3125), EPS);
    T_NEAR(r.mae, 2.625, EPS);
    model_free(m);
    csr_free(t);
}

TEST(rating_errors_of_an_empty_test_are_zero)
{
    struct model *m = model_of(2, 3, 2, 0, RU, RV);
    struct csr_coo coo;
    struct csr *t = NULL;
    struct diag d = { 0 };
    struct metrics_rating r;
    memset(&coo, 0, sizeof coo);
    T_OK(csr_build(&coo, 2, 3, CSR_DUP_SUM, 0, &t, NULL, &d));
    metrics_rating(m, t, 1, 5, &r);
    T_EQ_U64(r.n, 0);
    T_TRUE(r.rmse == 0.0 && r.mae == 0.0);
    model_free(m);
    csr_free(t);
}

/* ---- ranking ---- */

/*
 * 4 users x 6 items, rank 1: V = [6, 5, 4, 3, 2, 1], U = [1, -1, 1, 1], so users 0, 2, 3
 * rank the items 0 1 2 3 4 5 and user 1 ranks them 5 4 3 2 1 0.
 *   train: u0 {0}, u1 {5}, u2 {}, u3 {1}
 *   test:  u0 {1, 4}, u1 {0, 3}, u2 {} (not counted), u3 {5}
 * Let L(j) = 1 / log2(j + 1): L1 = 1, L2 = 0.63093, L3 = 0.5, L4 = 0.43068, L5 = 0.38685.
 * k = 3, training items excluded:
 *   u0: top 1 2 3, hit 1 at rank 1: P 1/3, R 1/2, hit 1, ndcg L1 / (L1 + L2)
 *   u1: top 4 3 2, hit 3 at rank 2: P 1/3, R 1/2, hit 1, ndcg L2 / (L1 + L2)
 *   u3: top 0 2 3, no hit: all 0
 *   means over 3 users: P 2/9, R 1/3, hit 2/3, ndcg (L1 + L2) / (L1 + L2) / 3 = 1/3
 * k = 3, include_seen (or no train):
 *   u0: top 0 1 2, hit 1 at rank 2: ndcg L2 / (L1 + L2)
 *   u1: top 5 4 3, hit 3 at rank 3: ndcg L3 / (L1 + L2)
 *   u3: top 0 1 2, no hit
 *   means: P 2/9, R 1/3, hit 2/3, ndcg (L2 + L3) / (L1 + L2) / 3
 * k = 10 (more than the 5 candidates), training items excluded:
 *   u0: 1 2 3 4 5, hits at ranks 1, 4: P 2/10, R 1, ndcg (L1 + L4) / (L1 + L2)
 *   u1: 4 3 2 1 0, hits at ranks 2, 5: P 2/10, R 1, ndcg (L2 + L5) / (L1 + L2)
 *   u3: 0 2 3 4 5, hit at rank 5:     P 1/10, R 1, ndcg L5 / L1 (ideal over min(10, 1))
 *   means: P 1/6, R 1, hit 1
 */
static const float KU[] = { 1, -1, 1, 1 }, KV[] = { 6, 5, 4, 3, 2, 1 };
static const struct ent ktrain[] = { { 0, 0, 1 }, { 1, 5, 1 }, { 3, 1, 1 } };
static const struct ent ktest[] = { { 0, 1, 1 }, { 0, 4, 1 }, { 1, 0, 1 }, { 1, 3, 1 },
                                    { 3, 5, 1 } };

static double
L(int j)
{
    return 1.0 / log2((double)j + 1.0);
}

TEST(ranking_by_hand_training_items_excluded)
{
    struct model *m = model_of(4, 6, 1, 0, KU, KV);
    struct csr *tr = csr_of(ktrain, 3, 4, 6), *te = csr_of(ktest, 5, 4, 6);
    struct metrics_rank r;
    struct diag d = { 0 };
    T_OK(metrics_ranking(m, tr, te, 3, 0, 1, &r, &d));
    T_EQ_U64(r.users, 3);
    T_NEAR(r.precision, 2.0 / 9.0, EPS);
    T_NEAR(r.recall, 1.0 / 3.0, EPS);
    T_NEAR(r.hit, 2.0 / 3.0, EPS);
    T_NEAR(r.ndcg, 1.0 / 3.0, EPS);
    T_OK(metrics_ranking(m, tr, te, 10, 0, 1, &r, &d));
    T_EQ_U64(r.users, 3);
    T_NEAR(r.precision, 1.0 / 6.0, EPS);
    T_NEAR(r.recall, 1.0, EPS);
    T_NEAR(r.hit, 1.0, EPS);
    T_NEAR(r.ndcg, ((L(1) + L(4)) / (L(1) + L(2)) + (L(2) + L(5)) / (L(1) + L(2)) + L(5)) / 3,
           EPS);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

TEST(ranking_by_hand_with_seen_items)
{
    struct model *m = model_of(4, 6, 1, 0, KU, KV);
    struct csr *tr = csr_of(ktrain, 3, 4, 6), *te = csr_of(ktest, 5, 4, 6);
    struct metrics_rank r, r2;
    struct diag d = { 0 };
    double ndcg = (L(2) + L(3)) / (L(1) + L(2)) / 3;
    T_OK(metrics_ranking(m, tr, te, 3, 1, 1, &r, &d));
    T_EQ_U64(r.users, 3);
    T_NEAR(r.precision, 2.0 / 9.0, EPS);
    T_NEAR(r.recall, 1.0 / 3.0, EPS);
    T_NEAR(r.hit, 2.0 / 3.0, EPS);
    T_NEAR(r.ndcg, ndcg, EPS);
    /* No train matrix at all: nothing to exclude, the same numbers. */
    T_OK(metrics_ranking(m, NULL, te, 3, 0, 1, &r2, &d));
    T_TRUE(memcmp(&r, &r2, sizeof r) == 0);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/*
 * A perfect model: V = I (6 x 6), U[u] = the indicator of u's test items, so test items
 * score 1 and every other item 0. With k = 2 and two test items per user, every metric
 * is 1; a user with three test items still gets P = 1, ndcg = 1 and R = 2/3.
 */
TEST(ranking_of_a_perfect_model_is_one)
{
    float U[3 * 6] = { 0 }, V[6 * 6] = { 0 };
    struct ent test[] = { { 0, 1, 1 }, { 0, 2, 1 }, { 1, 0, 1 }, { 1, 5, 1 }, { 2, 3, 1 },
                          { 2, 4, 1 }, { 2, 2, 1 } };
    struct ent train[] = { { 0, 0, 1 }, { 1, 1, 1 } };
    struct metrics_rank r;
    struct diag d = { 0 };
    for (int i = 0; i < 6; i++)
        V[i * 6 + i] = 1;
    for (int t = 0; t < 6; t++)
        U[test[t].u * 6 + test[t].i] = 1;
    struct model *m = model_of(3, 6, 6, 0, U, V);
    struct csr *tr = csr_of(train, 2, 3, 6), *te = csr_of(test, 6, 3, 6);
    T_OK(metrics_ranking(m, tr, te, 2, 0, 1, &r, &d));
    T_EQ_U64(r.users, 3);
    T_NEAR(r.precision, 1.0, EPS);
    T_NEAR(r.recall, 1.0, EPS);
    T_NEAR(r.ndcg, 1.0, EPS);
    T_NEAR(r.hit, 1.0, EPS);
    csr_free(te);
    te = csr_of(test, 7, 3, 6); /* user 2 now has 3 test items, all scoring 1 */
    m->U[2 * 6 + 2] = 1;
    T_OK(metrics_ranking(m, tr, te, 2, 0, 1, &r, &d));
    T_NEAR(r.precision, 1.0, EPS);
    T_NEAR(r.recall, (1.0 + 1.0 + 2.0 / 3.0) / 3.0, EPS);
    T_NEAR(r.ndcg, 1.0, EPS);
    T_NEAR(r.hit, 1.0, EPS);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/* A training item that is also a test item is excluded, so it cannot be a hit. */
TEST(ranking_excludes_training_items_even_when_in_test)
{
    float U[] = { 1 }, V[] = { 3, 2, 1 };
    struct ent train[] = { { 0, 0, 1 } }, test[] = { { 0, 0, 1 } };
    struct metrics_rank r;
    struct diag d = { 0 };
    struct model *m = model_of(1, 3, 1, 0, U, V);
    struct csr *tr = csr_of(train, 1, 1, 3), *te = csr_of(test, 1, 1, 3);
    T_OK(metrics_ranking(m, tr, te, 2, 0, 1, &r, &d));
    T_EQ_U64(r.users, 1);
    T_TRUE(r.hit == 0.0 && r.ndcg == 0.0 && r.precision == 0.0 && r.recall == 0.0);
    T_OK(metrics_ranking(m, tr, te, 2, 1, 1, &r, &d));
    T_TRUE(r.hit == 1.0 && r.ndcg == 1.0 && r.precision == 0.5 && r.recall == 1.0);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

TEST(ranking_with_no_test_users_is_zero)
{
    float U[] = { 1, 1 }, V[] = { 3, 2, 1 };
    struct ent train[] = { { 0, 0, 1 } };
    struct csr_coo coo;
    struct csr *te = NULL;
    struct metrics_rank r;
    struct diag d = { 0 };
    memset(&coo, 0, sizeof coo);
    T_OK(csr_build(&coo, 2, 3, CSR_DUP_SUM, 0, &te, NULL, &d));
    struct model *m = model_of(2, 3, 1, 0, U, V);
    struct csr *tr = csr_of(train, 1, 2, 3);
    T_OK(metrics_ranking(m, tr, te, 5, 0, 2, &r, &d));
    T_EQ_U64(r.users, 0);
    T_TRUE(r.hit == 0.0 && r.ndcg == 0.0 && r.precision == 0.0 && r.recall == 0.0);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

TEST(ranking_refuses_shapes_that_disagree)
{
    struct model *m = model_of(4, 6, 1, 0, KU, KV);
    struct csr *tr = csr_of(ktrain, 3, 4, 6), *te5 = csr_of(ktest, 5, 5, 6),
               *te7 = csr_of(ktest, 5, 4, 7), *tr7 = csr_of(ktrain, 3, 4, 7),
               *te = csr_of(ktest, 5, 4, 6);
    struct metrics_rank r;
    struct diag d = { 0 };
    T_EQ_INT(metrics_ranking(m, tr, te5, 3, 0, 1, &r, &d), ALS_EUSAGE);
    T_TRUE(d.msg[0] != '\0');
    T_EQ_INT(metrics_ranking(m, tr, te7, 3, 0, 1, &r, &d), ALS_EUSAGE);
    T_EQ_INT(metrics_ranking(m, tr7, te, 3, 0, 1, &r, &d), ALS_EUSAGE);
    model_free(m);
    csr_free(tr);
    csr_free(te5);
    csr_free(te7);
    csr_free(tr7);
    csr_free(te);
}

/*
 * Relevance is a positive test value; a negative one is a dislike. Same model as above
 * (users 0, 2, 3 rank 0 1 2 3 4 5; user 1 ranks 5 4 3 2 1 0), no train, k = 2:
 *   u0 test {0: +1, 1: -2}: relevant {0}; top 0 1: hit at rank 1: P 1/2, R 1, ndcg 1
 *   u1 test {5: -1}: nothing relevant, not counted
 *   u2 test {2: +1, 0: -1}: relevant {2}; top 0 1: no hit
 *   u3 test {1: +3}: top 0 1: hit at rank 2: P 1/2, R 1, ndcg L2 / L1
 *   means over 3 users: P 1/3, R 2/3, hit 2/3, ndcg (1 + L2) / 3
 */
TEST(ranking_counts_only_positive_test_values)
{
    struct model *m = model_of(4, 6, 1, 0, KU, KV);
    struct ent test[] = { { 0, 0, 1 }, { 0, 1, -2 }, { 1, 5, -1 }, { 2, 2, 1 }, { 2, 0, -1 },
                          { 3, 1, 3 } };
    struct csr *te = csr_of(test, 6, 4, 6);
    struct metrics_rank r;
    struct diag d = { 0 };
    T_OK(metrics_ranking(m, NULL, te, 2, 0, 1, &r, &d));
    T_EQ_U64(r.users, 3);
    T_NEAR(r.precision, 1.0 / 3.0, EPS);
    T_NEAR(r.recall, 2.0 / 3.0, EPS);
    T_NEAR(r.hit, 2.0 / 3.0, EPS);
    T_NEAR(r.ndcg, (1.0 + L(2)) / 3.0, EPS);
    model_free(m);
    csr_free(te);
}

/* ---- threads ---- */

TEST(ranking_same_numbers_for_1_2_3_threads)
{
    enum { NU = 300, NI = 120, K = 6, N = 4000 };
    uint64_t s = 5;
    float *U = malloc(NU * K * sizeof *U), *V = malloc(NI * K * sizeof *V);
    struct ent *e = malloc(N * sizeof *e);
    struct diag d = { 0 };
    for (int t = 0; t < NU * K; t++)
        U[t] = (float)(rnd(&s) % 1000) / 1000.0f - 0.5f;
    for (int t = 0; t < NI * K; t++)
        V[t] = (float)(rnd(&s) % 1000) / 1000.0f - 0.5f;
    for (int t = 0; t < N; t++) {
        e[t].u = (uint32_t)(rnd(&s) % NU);
        e[t].i = (uint32_t)(rnd(&s) % NI);
        e[t].v = 1;
    }
    struct model *m = model_of(NU, NI, K, 0, U, V);
    struct csr *tr = csr_of(e, N / 2, NU, NI), *te = csr_of(e + N / 2, N / 2, NU, NI);
    struct metrics_rank r1, r2, r3;
    T_OK(metrics_ranking(m, tr, te, 10, 0, 1, &r1, &d));
    T_OK(metrics_ranking(m, tr, te, 10, 0, 2, &r2, &d));
    T_OK(metrics_ranking(m, tr, te, 10, 0, 3, &r3, &d));
    printf("# %llu users: precision %.6f recall %.6f ndcg %.6f hit %.6f\n",
           (unsigned long long)r1.users, r1.precision, r1.recall, r1.ndcg, r1.hit);
    T_TRUE(r1.users > 250);
    T_TRUE(memcmp(&r1, &r2, sizeof r1) == 0);
    T_TRUE(memcmp(&r1, &r3, sizeof r1) == 0);
    model_free(m);
    csr_free(tr);
    csr_free(te);
    free(U);
    free(V);
    free(e);
}
