/* SPDX-License-Identifier: MIT */
/* test_evaluate: metrics_evaluate (every ranking metric at several cutoffs, MRR, AUC, the
 * popularity baseline) and metrics_rating's fallback, on cases computed by hand; ties ranked
 * as rec_block ranks them, against a naive sort; evaluate_run on files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csr.h"
#include "diag.h"
#include "evaluate.h"
#include "metrics.h"
#include "model.h"
#include "recommend.h"

#include "t.h"
#include "scratch.h"
#include "fixtures.h"

#define EPS 1e-12


/* L(j) = 1 / log2(j + 1), the discount of rank j (1-based):
 * L1 = 1, L2 = 0.63093, L3 = 0.5, L4 = 0.43068, L5 = 0.38685, L6 = 0.35621. */
static double
L(int j)
{
    return 1.0 / log2((double)j + 1.0);
}

/* Every field of cutoff c of r against the expected numbers. */
#define T_AT(r, c, K, P, R, MAP, NDCG, HIT, COV)                                        \
    do {                                                                                \
        T_EQ_U64((r).at[c].k, (K));                                                     \
        T_NEAR((r).at[c].precision, (P), EPS);                                          \
        T_NEAR((r).at[c].recall, (R), EPS);                                             \
        T_NEAR((r).at[c].map, (MAP), EPS);                                              \
        T_NEAR((r).at[c].ndcg, (NDCG), EPS);                                            \
        T_NEAR((r).at[c].hit, (HIT), EPS);                                              \
        T_NEAR((r).at[c].coverage, (COV), EPS);                                         \
    } while (0)

/* ---- every metric by hand ---- */

/*
 * 5 users x 5 items, rank 1: V = [5, 4, 3, 2, 1], U = [1, -1, 1, 1, 1]: users 0, 2, 3, 4
 * rank the items 0 1 2 3 4, user 1 ranks them 4 3 2 1 0.
 *   u0: train {0}, test {2, 4}: candidates 1 2 3 4, relevant 2 (rank 2) and 4 (rank 4)
 *   u1: train {4}, test {3: 2, 1: -1}: candidates 3 2 1 0, relevant {3} (rank 1); item 1
 *       is a dislike, so it is a non-relevant candidate
 *   u2: train {1}, no test: not counted
 *   u3: train {}, test {0, 2, 4}: candidates 0 1 2 3 4, relevant at ranks 1, 3, 5
 *   u4: train {}, test {2: -1}: nothing relevant, not counted
 * (u2 and u4 would only add items 0, 2, 3 to the top lists, already covered by the
 * counted users, so coverage does not depend on whether they are looked at.)
 *
 * k = 1:
 *   u0: top [1]: no hit: P 0, R 0, map 0, ndcg 0, hit 0
 *   u1: top [3]: hit at 1: P 1, R 1, map 1/min(1,1) * 1/1 = 1, ndcg L1/L1 = 1, hit 1
 *   u3: top [0]: hit at 1: P 1, R 1/3, map 1/min(1,3) * 1/1 = 1, ndcg 1, hit 1
 *   means over 3: P 2/3, R (0 + 1 + 1/3)/3 = 4/9, map 2/3, ndcg 2/3, hit 2/3
 *   coverage: {1} + {3} + {0} = 3 of 5 = 3/5
 * k = 2:
 *   u0: top [1 2]: hit at 2: P 1/2, R 1/2, map 1/min(2,2) * 1/2 = 1/4,
 *       ndcg L2/(L1+L2), hit 1
 *   u1: top [3 2]: hit at 1: P 1/2, R 1, map 1/min(2,1) * 1/1 = 1, ndcg 1, hit 1
 *   u3: top [0 1]: hit at 1: P 1/2, R 1/3, map 1/2 * 1/1 = 1/2, ndcg L1/(L1+L2), hit 1
 *   means: P 1/2, R (1/2 + 1 + 1/3)/3 = 11/18, map (1/4 + 1 + 1/2)/3 = 7/12,
 *          ndcg (L2/(L1+L2) + 1 + L1/(L1+L2))/3 = 2/3, hit 1
 *   coverage: {1 2} + {3 2} + {0 1} = {0 1 2 3} = 4/5
 * k = 3:
 *   u0: top [1 2 3]: hit at 2: P 1/3, R 1/2, map 1/2 * 1/2 = 1/4, ndcg L2/(L1+L2), hit 1
 *   u1: top [3 2 1]: hit at 1: P 1/3, R 1, map 1, ndcg 1, hit 1
 *   u3: top [0 1 2]: hits at 1, 3: P 2/3, R 2/3, map 1/3 * (1/1 + 2/3) = 5/9,
 *       ndcg (L1+L3)/(L1+L2+L3), hit 1
 *   means: P (1/3 + 1/3 + 2/3)/3 = 4/9, R (1/2 + 1 + 2/3)/3 = 13/18,
 *          map (1/4 + 1 + 5/9)/3 = (9 + 36 + 20)/36/3 = 65/108,
 *          ndcg (L2/(L1+L2) + 1 + (L1+L3)/(L1+L2+L3))/3, hit 1
 *   coverage: {1 2 3} + {3 2 1} + {0 1 2} = {0 1 2 3} = 4/5
 * MRR (best relevant candidate): u0 rank 2, u1 rank 1, u3 rank 1: (1/2 + 1 + 1)/3 = 5/6
 * AUC (relevant x non-relevant candidates, by score):
 *   u0: rel {2: 3, 4: 1} x non {1: 4, 3: 2}: (2,1) no, (2,3) yes, (4,1) no, (4,3) no: 1/4
 *   u1: rel {3: -2} x non {2: -3, 1: -4, 0: -5}: all three right: 1
 *   u3: rel {0: 5, 2: 3, 4: 1} x non {1: 4, 3: 2}: (0,1) (0,3) (2,3) right, (2,1) (4,1)
 *       (4,3) wrong: 3/6 = 1/2
 *   mean: (1/4 + 1 + 1/2)/3 = 7/12
 */
static const float AU[] = { 1, -1, 1, 1, 1 }, AV[] = { 5, 4, 3, 2, 1 };
static const struct ent atrain[] = { { 0, 0, 1 }, { 1, 4, 1 }, { 2, 1, 1 } };
static const struct ent atest[] = { { 0, 2, 1 }, { 0, 4, 1 },  { 1, 3, 2 }, { 1, 1, -1 },
                                    { 3, 0, 1 }, { 3, 2, 0.5f }, { 3, 4, 7 }, { 4, 2, -1 } };

TEST(evaluate_every_metric_by_hand_at_1_2_3)
{
    struct model *m = model_of(5, 5, 1, 0, AU, AV);
    struct csr *tr = csr_of(atrain, 3, 5, 5), *te = csr_of(atest, 8, 5, 5);
    const unsigned cuts[] = { 1, 2, 3 };
    struct metrics_report r;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m, tr, te, cuts, 3, 0, 1, &r, &d));
    T_EQ_U64(r.users, 3);
    T_EQ_U64(r.ncut, 3);
    T_AT(r, 0, 1, 2.0 / 3, 4.0 / 9, 2.0 / 3, 2.0 / 3, 2.0 / 3, 3.0 / 5);
    T_AT(r, 1, 2, 1.0 / 2, 11.0 / 18, 7.0 / 12, 2.0 / 3, 1.0, 4.0 / 5);
    T_AT(r, 2, 3, 4.0 / 9, 13.0 / 18, 65.0 / 108,
         (L(2) / (L(1) + L(2)) + 1 + (L(1) + L(3)) / (L(1) + L(2) + L(3))) / 3, 1.0, 4.0 / 5);
    T_NEAR(r.mrr, 5.0 / 6, EPS);
    T_NEAR(r.auc, 7.0 / 12, EPS);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/*
 * The same case at cutoffs 3 and 10 (10 is more than any user's candidates: the list
 * ends early, precision still divides by 10):
 *   u0: 1 2 3 4, hits at 2, 4: P 2/10, R 1, map 1/min(10,2) * (1/2 + 2/4) = 1/2,
 *       ndcg (L2+L4)/(L1+L2)
 *   u1: 3 2 1 0, hit at 1: P 1/10, R 1, map 1, ndcg 1
 *   u3: 0 1 2 3 4, hits at 1, 3, 5: P 3/10, R 1, map 1/3 * (1 + 2/3 + 3/5) = 34/45,
 *       ndcg (L1+L3+L5)/(L1+L2+L3)
 *   means: P 6/30 = 1/5, R 1, map (1/2 + 1 + 34/45)/3 = (45 + 90 + 68)/90/3 = 203/270,
 *          hit 1; coverage: every item is in someone's list: 1
 * The k = 3 numbers, mrr and auc are those of the first call, bit for bit.
 */
TEST(evaluate_cutoff_beyond_the_candidates)
{
    struct model *m = model_of(5, 5, 1, 0, AU, AV);
    struct csr *tr = csr_of(atrain, 3, 5, 5), *te = csr_of(atest, 8, 5, 5);
    const unsigned cuts[] = { 1, 2, 3 }, cuts2[] = { 3, 10 };
    struct metrics_report r, r2;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m, tr, te, cuts, 3, 0, 1, &r, &d));
    T_OK(metrics_evaluate(m, tr, te, cuts2, 2, 0, 1, &r2, &d));
    T_EQ_U64(r2.users, 3);
    T_EQ_U64(r2.ncut, 2);
    T_TRUE(memcmp(&r.at[2], &r2.at[0], sizeof r.at[2]) == 0);
    T_AT(r2, 1, 10, 1.0 / 5, 1.0, 203.0 / 270,
         ((L(2) + L(4)) / (L(1) + L(2)) + 1 + (L(1) + L(3) + L(5)) / (L(1) + L(2) + L(3))) / 3,
         1.0, 1.0);
    T_TRUE(r.mrr == r2.mrr && r.auc == r2.auc);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/*
 * include_seen: user 0 of the case above ranks all five items 0 1 2 3 4 (item 0 from
 * train comes back); relevant {2, 4} at ranks 3 and 5, non-relevant {0, 1, 3}.
 *   k = 1: top [0]: all 0;  k = 3: top [0 1 2]: hit at 3: P 1/3, R 1/2,
 *          map 1/min(3,2) * 1/3 = 1/6, ndcg L3/(L1+L2)
 *   mrr 1/3; auc: 2 (3) beats 3 (2) only: 1 of 6 pairs: 1/6
 * Only user 0 has test items here.
 */
TEST(evaluate_include_seen_ranks_training_items)
{
    struct model *m = model_of(5, 5, 1, 0, AU, AV);
    struct csr *tr = csr_of(atrain, 3, 5, 5), *te = csr_of(atest, 2, 5, 5);
    const unsigned cuts[] = { 1, 3 };
    struct metrics_report r, r0;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m, tr, te, cuts, 2, 1, 1, &r, &d));
    T_EQ_U64(r.users, 1);
    T_AT(r, 0, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0 / 5);
    T_AT(r, 1, 3, 1.0 / 3, 1.0 / 2, 1.0 / 6, L(3) / (L(1) + L(2)), 1.0, 3.0 / 5);
    T_NEAR(r.mrr, 1.0 / 3, EPS);
    T_NEAR(r.auc, 1.0 / 6, EPS);
    /* No train matrix: nothing to exclude, the same report. */
    T_OK(metrics_evaluate(m, NULL, te, cuts, 2, 0, 1, &r0, &d));
    T_TRUE(memcmp(&r, &r0, sizeof r) == 0);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/*
 * A relevant test item that is also in train is not a candidate (training items
 * excluded): it cannot be a hit, and it is not in the ranking MRR and AUC look at.
 * 1 user x 3 items, V = [3, 2, 1], U = [1]; train {0}, test {0, 2}.
 *   candidates 1 2 (item 0 excluded); relevant candidate {2} at rank 2
 *   k = 1: top [1]: P 0, R 0, hit 0;  k = 2: top [1 2]: P 1/2, R 1/2 (|rel| = 2),
 *          map 1/min(2,2) * 1/2 = 1/4, ndcg L2/(L1+L2)
 *   mrr: the best-ranked relevant candidate is at rank 2: 1/2
 *   auc: the one pair (2 vs 1) is wrong: 0
 * With include_seen item 0 is a candidate again: ranks 0 1 2, relevant at 1 and 3:
 *   mrr 1; auc: (0,1) right, (2,1) wrong: 1/2
 */
TEST(evaluate_mrr_auc_skip_relevant_training_items)
{
    float U[] = { 1 }, V[] = { 3, 2, 1 };
    struct ent train[] = { { 0, 0, 1 } }, test[] = { { 0, 0, 1 }, { 0, 2, 1 } };
    struct model *m = model_of(1, 3, 1, 0, U, V);
    struct csr *tr = csr_of(train, 1, 1, 3), *te = csr_of(test, 2, 1, 3);
    const unsigned cuts[] = { 1, 2 };
    struct metrics_report r;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m, tr, te, cuts, 2, 0, 1, &r, &d));
    T_EQ_U64(r.users, 1);
    T_AT(r, 0, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0 / 3);
    T_AT(r, 1, 2, 1.0 / 2, 1.0 / 2, 1.0 / 4, L(2) / (L(1) + L(2)), 1.0, 2.0 / 3);
    T_NEAR(r.mrr, 1.0 / 2, EPS);
    T_NEAR(r.auc, 0.0, EPS);
    T_OK(metrics_evaluate(m, tr, te, cuts, 2, 1, 1, &r, &d));
    T_NEAR(r.mrr, 1.0, EPS);
    T_NEAR(r.auc, 1.0 / 2, EPS);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/*
 * A NaN score (a diverged model) ranks below every number, as in topk_select, and counts
 * as -infinity in MRR and AUC. 2 users x 3 items, U = [1, 1], V = [1, NaN, 2]: both rank
 * 2 0 1. No train.
 *   u0: test {1}: relevant at 3: k = 1 nothing; k = 3: P 1/3, R 1, map 1/1 * 1/3 = 1/3,
 *       ndcg L3/L1 = 1/2; mrr 1/3; auc: below 2 and 0: 0
 *   u1: test {0}: relevant at 2: k = 3: P 1/3, R 1, map 1/2, ndcg L2; mrr 1/2;
 *       auc: below 2, above 1 (NaN): 1/2
 *   means: k = 1: all 0, coverage {2} = 1/3; k = 3: P 1/3, R 1, map (1/3 + 1/2)/2 = 5/12,
 *          ndcg (1/2 + L2)/2, hit 1, coverage 1; mrr (1/3 + 1/2)/2 = 5/12; auc 1/4
 */
TEST(evaluate_nan_scores_rank_last)
{
    float U[] = { 1, 1 }, V[] = { 1, NAN, 2 };
    struct ent test[] = { { 0, 1, 1 }, { 1, 0, 1 } };
    struct model *m = model_of(2, 3, 1, 0, U, V);
    struct csr *te = csr_of(test, 2, 2, 3);
    const unsigned cuts[] = { 1, 3 };
    struct metrics_report r;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m, NULL, te, cuts, 2, 0, 1, &r, &d));
    T_EQ_U64(r.users, 2);
    T_AT(r, 0, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0 / 3);
    T_AT(r, 1, 3, 1.0 / 3, 1.0, 5.0 / 12, (0.5 + L(2)) / 2, 1.0, 1.0);
    T_NEAR(r.mrr, 5.0 / 12, EPS);
    T_NEAR(r.auc, 1.0 / 4, EPS);
    model_free(m);
    csr_free(te);
}

/*
 * An explicit model ranks by x_u.y_i + b_i, as als-recommend does: the item biases count,
 * mu and the user's bias (the same for all of a user's items) do not. 1 user x 3 items,
 * k = 1, U = [1], V = [3, 2, 1], ib = [0, 0, 5], mu = 100, ub = [-50]: scores 3, 2, 6, so
 * the ranking is 2 0 1. Test {2}:
 *   k = 1: [2]: P 1, R 1, map 1, ndcg 1, hit 1, coverage 1/3; mrr 1, auc 1
 * The implicit model with the same factors ranks 0 1 2: item 2 last: k = 1 all 0 (coverage
 * {0}: 1/3), mrr 1/3, auc 0.
 */
TEST(evaluate_explicit_model_ranks_with_item_biases)
{
    float U[] = { 1 }, V[] = { 3, 2, 1 };
    struct ent test[] = { { 0, 2, 4 } };
    struct model *e = model_of(1, 3, 1, 1, U, V), *m = model_of(1, 3, 1, 0, U, V);
    struct csr *te = csr_of(test, 1, 1, 3);
    const unsigned cuts[] = { 1 };
    struct metrics_report r;
    struct diag d = { 0 };
    e->mu = 100;
    e->ub[0] = -50;
    e->ib[0] = 0;
    e->ib[1] = 0;
    e->ib[2] = 5;
    T_OK(metrics_evaluate(e, NULL, te, cuts, 1, 0, 1, &r, &d));
    T_EQ_U64(r.users, 1);
    T_AT(r, 0, 1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0 / 3);
    T_NEAR(r.mrr, 1.0, EPS);
    T_NEAR(r.auc, 1.0, EPS);
    T_OK(metrics_evaluate(m, NULL, te, cuts, 1, 0, 1, &r, &d));
    T_AT(r, 0, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0 / 3);
    T_NEAR(r.mrr, 1.0 / 3, EPS);
    T_NEAR(r.auc, 0.0, EPS);
    model_free(e);
    model_free(m);
    csr_free(te);
}

/* ---- perfect and reversed models ---- */

/*
 * 3 users x 6 items, V = I (k = 6), U[u] = +-indicator of u's two test items: the test
 * items score +1 (perfect) or -1 (reversed) and the other four 0. train: u0 {0}, u1 {1},
 * u2 {} (u0's and u1's training items are not among their test items).
 * Perfect, |rel| = 2 for everyone:
 *   k = 1: P 1, R 1/2, map 1/min(1,2) * 1 = 1, ndcg 1, hit 1
 *   k = 2: P 1, R 1, map 1/2 * (1/1 + 2/2) = 1, ndcg 1, hit 1  (|test| = k: all 1)
 *   k = 3: P 2/3, R 1, map 1/min(3,2) * (1 + 1) = 1, ndcg 1, hit 1
 *   mrr 1, auc 1 (every relevant item above every other candidate)
 *   coverage: the top 2 of each user is its test set: {1 2} {0 5} {3 4} = 6/6 at k = 2
 *   and so at k = 3; at k = 1 the lower index of each (a tie at 1): {1} {0} {3} = 3/6
 * Reversed: the non-relevant candidates tie at 0 (ties to the lower index) and come first;
 *   both relevant items come last.
 *   u0: train {0}, test {1, 2}: order 3 4 5 1 2: relevant at 4, 5 (5 candidates)
 *   u1: train {1}, test {0, 5}: order 2 3 4 0 5: relevant at 4, 5
 *   u2: no train, test {3, 4}: order 0 1 2 5 3 4: relevant at 5, 6
 *   k = 3: no hits: P = R = map = ndcg = hit = 0
 *   k = 6: P (2/6 + 2/6 + 2/6)/3 = 1/3, R 1,
 *          map: u0, u1: 1/2 * (1/4 + 2/5) = 13/40; u2: 1/2 * (1/5 + 2/6) = 4/15;
 *               mean (13/40 + 13/40 + 4/15)/3 = (39 + 39 + 32)/120/3 = 11/36
 *          ndcg: u0, u1 (L4+L5)/(L1+L2), u2 (L5+L6)/(L1+L2)
 *   mrr (1/4 + 1/4 + 1/5)/3 = 7/30, auc 0 (every pair wrong, no ties across)
 */
static const struct ent ptest[] = { { 0, 1, 1 }, { 0, 2, 1 }, { 1, 0, 1 },
                                    { 1, 5, 1 }, { 2, 3, 1 }, { 2, 4, 1 } };
static const struct ent ptrain[] = { { 0, 0, 1 }, { 1, 1, 1 } };

static struct model *
indicator_model(float sign)
{
    float U[3 * 6] = { 0 }, V[6 * 6] = { 0 };
    for (int i = 0; i < 6; i++)
        V[i * 6 + i] = 1;
    for (int t = 0; t < 6; t++)
        U[ptest[t].u * 6 + ptest[t].i] = sign;
    return model_of(3, 6, 6, 0, U, V);
}

TEST(evaluate_perfect_model_is_one)
{
    struct model *m = indicator_model(1);
    struct csr *tr = csr_of(ptrain, 2, 3, 6), *te = csr_of(ptest, 6, 3, 6);
    const unsigned cuts[] = { 1, 2, 3 };
    struct metrics_report r;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m, tr, te, cuts, 3, 0, 2, &r, &d));
    T_EQ_U64(r.users, 3);
    T_AT(r, 0, 1, 1.0, 1.0 / 2, 1.0, 1.0, 1.0, 3.0 / 6);
    T_AT(r, 1, 2, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0);
    T_AT(r, 2, 3, 2.0 / 3, 1.0, 1.0, 1.0, 1.0, 1.0);
    T_NEAR(r.mrr, 1.0, EPS);
    T_NEAR(r.auc, 1.0, EPS);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

TEST(evaluate_reversed_model)
{
    struct model *m = indicator_model(-1);
    struct csr *tr = csr_of(ptrain, 2, 3, 6), *te = csr_of(ptest, 6, 3, 6);
    const unsigned cuts[] = { 3, 6 };
    struct metrics_report r;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m, tr, te, cuts, 2, 0, 1, &r, &d));
    T_EQ_U64(r.users, 3);
    /* coverage@3: u0 {3 4 5}, u1 {2 3 4}, u2 {0 1 2}: 6/6 */
    T_AT(r, 0, 3, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0);
    T_AT(r, 1, 6, 1.0 / 3, 1.0, 11.0 / 36,
         (2 * (L(4) + L(5)) / (L(1) + L(2)) + (L(5) + L(6)) / (L(1) + L(2))) / 3, 1.0, 1.0);
    T_TRUE(r.at[1].ndcg < 0.5);
    T_NEAR(r.mrr, 7.0 / 30, EPS);
    T_NEAR(r.auc, 0.0, EPS);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/* ---- users without test items, dislikes ---- */

/*
 * Users with no test entries or only negative ones are not counted: adding such users
 * (with any training items and factors) to the case of the first test changes neither
 * users nor any average. 8 users: the first five as before; u5 with train {2} and no
 * test, u6 with test {0: -3, 1: -1}, u7 with nothing at all; all three rank 4 3 2 1 0,
 * so their top 1 (item 4) would add item 4 to coverage@1 (3/5) if they were looked at.
 */
TEST(evaluate_skips_users_without_relevant_test_items)
{
    float U[8] = { 1, -1, 1, 1, 1, -1, -1, -1 };
    struct ent train[] = { { 0, 0, 1 }, { 1, 4, 1 }, { 2, 1, 1 }, { 5, 2, 1 } };
    struct ent test[] = { { 0, 2, 1 }, { 0, 4, 1 },  { 1, 3, 2 },  { 1, 1, -1 }, { 3, 0, 1 },
                          { 3, 2, 0.5f }, { 3, 4, 7 }, { 4, 2, -1 }, { 6, 0, -3 }, { 6, 1, -1 } };
    struct model *m5 = model_of(5, 5, 1, 0, AU, AV), *m8 = model_of(8, 5, 1, 0, U, AV);
    struct csr *tr5 = csr_of(atrain, 3, 5, 5), *te5 = csr_of(atest, 8, 5, 5);
    struct csr *tr8 = csr_of(train, 4, 8, 5), *te8 = csr_of(test, 10, 8, 5);
    const unsigned cuts[] = { 1, 2, 3 };
    struct metrics_report r5, r8;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m5, tr5, te5, cuts, 3, 0, 1, &r5, &d));
    T_OK(metrics_evaluate(m8, tr8, te8, cuts, 3, 0, 2, &r8, &d));
    T_EQ_U64(r8.users, 3);
    T_TRUE(memcmp(&r5, &r8, sizeof r5) == 0);
    T_NEAR(r8.at[0].coverage, 3.0 / 5, EPS);
    model_free(m5);
    model_free(m8);
    csr_free(tr5);
    csr_free(te5);
    csr_free(tr8);
    csr_free(te8);
}

/* No user with a relevant test item: users 0 and every average 0, no error. */
TEST(evaluate_without_any_relevant_test_item_is_zero)
{
    struct ent test[] = { { 0, 1, -1 }, { 3, 2, -2 } };
    struct model *m = model_of(5, 5, 1, 0, AU, AV);
    struct csr *tr = csr_of(atrain, 3, 5, 5), *te = csr_of(test, 2, 5, 5);
    const unsigned cuts[] = { 1, 5 };
    struct metrics_report r;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m, tr, te, cuts, 2, 0, 1, &r, &d));
    T_EQ_U64(r.users, 0);
    T_EQ_U64(r.ncut, 2);
    T_AT(r, 0, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    T_AT(r, 1, 5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    T_TRUE(r.mrr == 0.0 && r.auc == 0.0);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/* ---- the popularity baseline ---- */

/*
 * 4 users x 5 items, m = NULL. train: u0 {3}, u1 {3, 1}, u2 {3, 1, 0}, u3 {2}, so the
 * counts are item 0: 1, 1: 2, 2: 1, 3: 3, 4: 0 and the order is 3 1 0 2 4 (0 before 2:
 * the tie goes to the lower index).
 *   u0: test {1, 2}; candidates 1 0 2 4; relevant at ranks 1, 3
 *       k = 1: [1]: P 1, R 1/2, map 1, ndcg 1, hit 1
 *       k = 2: [1 0]: P 1/2, R 1/2, map 1/2 * 1 = 1/2, ndcg L1/(L1+L2), hit 1
 *       mrr 1; auc: rel {1: 2, 2: 1} x non {0: 1, 4: 0}: (1,0) (1,4) (2,4) right,
 *       (2,0) a tie: 1/2 -> 3.5/4 = 7/8
 *   u1: test {0}; candidates 0 2 4; relevant at 1 (0 and 2 tie, 0 first)
 *       k = 1: [0]: P 1, R 1, map 1, ndcg 1, hit 1
 *       k = 2: [0 2]: P 1/2, R 1, map 1/min(2,1) * 1 = 1, ndcg 1, hit 1
 *       mrr 1; auc: (0,2) a tie 1/2, (0,4) right: 1.5/2 = 3/4
 *   u2: test {4}; candidates 2 4; relevant at 2
 *       k = 1: [2]: all 0
 *       k = 2: [2 4]: P 1/2, R 1, map 1/min(2,1) * 1/2 = 1/2, ndcg L2/L1 = L2, hit 1
 *       mrr 1/2; auc: (4,2) wrong: 0
 *   u3: test {0}; candidates 3 1 0 4; relevant at 3
 *       k = 1: [3], k = 2: [3 1]: all 0
 *       mrr 1/3; auc: 0 (1) below 3 (3) and 1 (2), above 4 (0): 1/3
 *   means over 4: k = 1: P 1/2, R (1/2 + 1)/4 = 3/8, map 1/2, ndcg 1/2, hit 1/2
 *                 k = 2: P (1/2 + 1/2 + 1/2 + 0)/4 = 3/8, R (1/2 + 1 + 1)/4 = 5/8,
 *                        map (1/2 + 1 + 1/2)/4 = 1/2, ndcg (L1/(L1+L2) + 1 + L2)/4,
 *                        hit 3/4
 *   coverage: k = 1: {1 0 2 3} = 4/5; k = 2: {1 0} {0 2} {2 4} {3 1} = 5/5
 *   mrr (1 + 1 + 1/2 + 1/3)/4 = 17/24; auc (7/8 + 3/4 + 0 + 1/3)/4 = 47/24/4 = 47/96
 */
static const struct ent btrain[] = { { 0, 3, 1 }, { 1, 3, 1 }, { 1, 1, 1 }, { 2, 3, 1 },
                                     { 2, 1, 1 }, { 2, 0, 1 }, { 3, 2, 1 } };
static const struct ent btest[] = { { 0, 1, 1 }, { 0, 2, 1 }, { 1, 0, 1 }, { 2, 4, 1 },
                                    { 3, 0, 1 } };

TEST(evaluate_popularity_baseline_by_hand)
{
    struct csr *tr = csr_of(btrain, 7, 4, 5), *te = csr_of(btest, 5, 4, 5);
    const unsigned cuts[] = { 1, 2 };
    struct metrics_report r;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(NULL, tr, te, cuts, 2, 0, 1, &r, &d));
    T_EQ_U64(r.users, 4);
    T_AT(r, 0, 1, 1.0 / 2, 3.0 / 8, 1.0 / 2, 1.0 / 2, 1.0 / 2, 4.0 / 5);
    T_AT(r, 1, 2, 3.0 / 8, 5.0 / 8, 1.0 / 2, (L(1) / (L(1) + L(2)) + 1 + L(2)) / 4, 3.0 / 4,
         1.0);
    T_NEAR(r.mrr, 17.0 / 24, EPS);
    T_NEAR(r.auc, 47.0 / 96, EPS);
    csr_free(tr);
    csr_free(te);
}

/* The baseline is the model whose scores are the training counts: V = [1, 2, 1, 3, 0],
 * U = 1 for everyone gives the same report, bit for bit, on 1 and 2 threads. */
TEST(evaluate_popularity_equals_a_count_model)
{
    float U[] = { 1, 1, 1, 1 }, V[] = { 1, 2, 1, 3, 0 };
    struct model *m = model_of(4, 5, 1, 0, U, V);
    struct csr *tr = csr_of(btrain, 7, 4, 5), *te = csr_of(btest, 5, 4, 5);
    const unsigned cuts[] = { 1, 2, 4 };
    struct metrics_report rp, rm, rp2;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(NULL, tr, te, cuts, 3, 0, 1, &rp, &d));
    T_OK(metrics_evaluate(m, tr, te, cuts, 3, 0, 1, &rm, &d));
    T_OK(metrics_evaluate(NULL, tr, te, cuts, 3, 0, 2, &rp2, &d));
    T_TRUE(memcmp(&rp, &rm, sizeof rp) == 0);
    T_TRUE(memcmp(&rp, &rp2, sizeof rp) == 0);
    /* include_seen: nothing excluded, item 3 comes first for everybody: coverage@1 1/5 */
    T_OK(metrics_evaluate(NULL, tr, te, cuts, 3, 1, 1, &rp, &d));
    T_OK(metrics_evaluate(m, tr, te, cuts, 3, 1, 1, &rm, &d));
    T_TRUE(memcmp(&rp, &rm, sizeof rp) == 0);
    T_NEAR(rp.at[0].coverage, 1.0 / 5, EPS);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/* ---- arguments ---- */

TEST(evaluate_refuses_bad_cutoffs_and_shapes)
{
    struct model *m = model_of(5, 5, 1, 0, AU, AV);
    struct csr *tr = csr_of(atrain, 3, 5, 5), *te = csr_of(atest, 8, 5, 5);
    struct csr *te6 = csr_of(atest, 8, 6, 5), *tr6 = csr_of(atrain, 3, 5, 6);
    const unsigned ok[] = { 1, 2 }, zero[] = { 0, 2 }, down[] = { 3, 2 }, same[] = { 2, 2 };
    unsigned many[METRICS_MAX_CUTS + 1];
    struct metrics_report r;
    struct diag d = { 0 };
    for (unsigned c = 0; c <= METRICS_MAX_CUTS; c++)
        many[c] = c + 1;
    T_EQ_INT(metrics_evaluate(m, tr, te, ok, 0, 0, 1, &r, &d), ALS_EUSAGE);
    T_EQ_INT(metrics_evaluate(m, tr, te, zero, 2, 0, 1, &r, &d), ALS_EUSAGE);
    T_EQ_INT(metrics_evaluate(m, tr, te, down, 2, 0, 1, &r, &d), ALS_EUSAGE);
    T_EQ_INT(metrics_evaluate(m, tr, te, same, 2, 0, 1, &r, &d), ALS_EUSAGE);
    T_EQ_INT(metrics_evaluate(m, tr, te, many, METRICS_MAX_CUTS + 1, 0, 1, &r, &d),
             ALS_EUSAGE);
    T_OK(metrics_evaluate(m, tr, te, many, METRICS_MAX_CUTS, 0, 1, &r, &d));
    T_EQ_U64(r.ncut, METRICS_MAX_CUTS);
    T_EQ_INT(metrics_evaluate(m, tr, te6, ok, 2, 0, 1, &r, &d), ALS_EUSAGE);
    T_TRUE(d.msg[0] != '\0');
    T_EQ_INT(metrics_evaluate(m, tr6, te, ok, 2, 0, 1, &r, &d), ALS_EUSAGE);
    T_EQ_INT(metrics_evaluate(NULL, NULL, te, ok, 2, 0, 1, &r, &d), ALS_EUSAGE);
    model_free(m);
    csr_free(tr);
    csr_free(te);
    csr_free(te6);
    csr_free(tr6);
}

/* ---- threads ---- */

/* More users than one block of the GEMM (64), some without test items or with only
 * dislikes, random factors: threads 1, 2 and 3 give the same report bit for bit, for the
 * model and for the popularity baseline. */
TEST(evaluate_same_report_for_1_2_3_threads)
{
    enum { NU = 333, NI = 150, K = 5, N = 6000 };
    uint64_t s = 11;
    float *U = malloc(NU * K * sizeof *U), *V = malloc(NI * K * sizeof *V);
    struct ent *e = malloc(N * sizeof *e);
    struct diag d = { 0 };
    for (int t = 0; t < NU * K; t++)
        U[t] = (float)(rnd(&s) % 2000) / 1000.0f - 1.0f;
    for (int t = 0; t < NI * K; t++)
        V[t] = (float)(rnd(&s) % 2000) / 1000.0f - 1.0f;
    for (int t = 0; t < N; t++) {
        e[t].u = (uint32_t)(rnd(&s) % (NU - 20)); /* the last 20 users: no entries */
        e[t].i = (uint32_t)(rnd(&s) % NI);
        e[t].v = rnd(&s) % 7 == 0 ? -1.0f : (float)(1 + rnd(&s) % 3);
    }
    struct model *m = model_of(NU, NI, K, 0, U, V);
    struct csr *tr = csr_of(e, N / 2, NU, NI), *te = csr_of(e + N / 2, N / 2, NU, NI);
    const unsigned cuts[] = { 1, 5, 10, 20 };
    for (int pop = 0; pop < 2; pop++) {
        struct metrics_report r1, r2, r3;
        T_OK(metrics_evaluate(pop ? NULL : m, tr, te, cuts, 4, 0, 1, &r1, &d));
        T_OK(metrics_evaluate(pop ? NULL : m, tr, te, cuts, 4, 0, 2, &r2, &d));
        T_OK(metrics_evaluate(pop ? NULL : m, tr, te, cuts, 4, 0, 3, &r3, &d));
        printf("# %s: %llu users: ndcg@10 %.6f map@10 %.6f coverage@10 %.6f mrr %.6f "
               "auc %.6f\n", pop ? "popularity" : "model", (unsigned long long)r1.users,
               r1.at[2].ndcg, r1.at[2].map, r1.at[2].coverage, r1.mrr, r1.auc);
        T_TRUE(r1.users > 250 && r1.users <= NU - 20);
        T_TRUE(memcmp(&r1, &r2, sizeof r1) == 0);
        T_TRUE(memcmp(&r1, &r3, sizeof r1) == 0);
        for (unsigned c = 0; c < 4; c++) {
            T_TRUE(r1.at[c].precision >= 0 && r1.at[c].precision <= 1);
            T_TRUE(r1.at[c].recall >= 0 && r1.at[c].recall <= 1);
            T_TRUE(r1.at[c].map >= 0 && r1.at[c].map <= 1);
            T_TRUE(r1.at[c].ndcg >= 0 && r1.at[c].ndcg <= 1);
            T_TRUE(r1.at[c].hit >= 0 && r1.at[c].hit <= 1);
            T_TRUE(c == 0 || r1.at[c].recall >= r1.at[c - 1].recall);
            T_TRUE(c == 0 || r1.at[c].hit >= r1.at[c - 1].hit);
            T_TRUE(c == 0 || r1.at[c].coverage >= r1.at[c - 1].coverage);
        }
        T_TRUE(r1.mrr > 0 && r1.mrr <= 1 && r1.auc >= 0 && r1.auc <= 1);
    }
    model_free(m);
    csr_free(tr);
    csr_free(te);
    free(U);
    free(V);
    free(e);
}

/* ---- one scorer: ties as rec_block breaks them ---- */

/*
 * The naive reference: each (user, item) scored in double in factor order and rounded to
 * float (mu + b_u + b_i added for a model with biases), the candidates sorted by (score
 * desc, index asc) with qsort, and every metric computed from the sorted list by its
 * definition in metrics.h.
 */
struct scored {
    float s;
    uint32_t i;
};

static int
cmp_scored(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static float
naive_score(const struct model *m, uint64_t u, uint64_t i)
{
    double s = 0;
    for (uint32_t j = 0; j < m->k; j++)
        s += (double)m->U[u * m->k + j] * (double)m->V[i * m->k + j];
    if (m->biases)
        s += m->mu + (double)m->ub[u] + (double)m->ib[i];
    return (float)s;
}

static int
in_row(const struct csr *c, uint64_t u, uint32_t i, int positive)
{
    for (uint64_t t = c->r.ptr[u]; t < c->r.ptr[u + 1]; t++)
        if (c->r.idx[t] == i && (!positive || c->r.val[t] > 0))
            return 1;
    return 0;
}

/* The sorted candidates of user u (training items left out), into out; their count. */
static size_t
naive_ranking(const struct model *m, const struct csr *tr, uint64_t u, struct scored *out)
{
    size_t n = 0;
    for (uint32_t i = 0; i < m->items; i++)
        if (!in_row(tr, u, i, 0))
            out[n++] = (struct scored){ naive_score(m, u, i), i };
    qsort(out, n, sizeof *out, cmp_scored);
    return n;
}

static void
naive_report(const struct model *m, const struct csr *tr, const struct csr *te,
             const unsigned *cuts, unsigned ncut, struct metrics_report *r)
{
    struct scored *rk = malloc(m->items * sizeof *rk);
    unsigned char *cov = calloc(m->items * ncut, 1);
    memset(r, 0, sizeof *r);
    for (uint64_t u = 0; u < m->users; u++) {
        double nrel = 0;
        for (uint64_t t = te->r.ptr[u]; t < te->r.ptr[u + 1]; t++)
            nrel += te->r.val[t] > 0;
        if (nrel == 0)
            continue;
        r->users++;
        size_t n = naive_ranking(m, tr, u, rk);
        for (unsigned c = 0; c < ncut; c++) {
            double hits = 0, ap = 0, dcg = 0, idcg = 0;
            for (size_t j = 0; j < n && j < cuts[c]; j++) {
                cov[c * m->items + rk[j].i] = 1;
                if (in_row(te, u, rk[j].i, 1)) {
                    hits++;
                    ap += hits / (double)(j + 1);
                    dcg += 1 / log2((double)j + 2);
                }
            }
            for (size_t j = 0; j < cuts[c] && j < nrel; j++)
                idcg += 1 / log2((double)j + 2);
            r->at[c].precision += hits / cuts[c];
            r->at[c].recall += hits / nrel;
            r->at[c].map += ap / (cuts[c] < nrel ? cuts[c] : nrel);
            r->at[c].ndcg += dcg / idcg;
            r->at[c].hit += hits > 0;
        }
        double pos = 0, neg = 0, right = 0, mrr = 0;
        for (size_t j = 0; j < n; j++) {
            if (!in_row(te, u, rk[j].i, 1)) {
                neg++;
                continue;
            }
            pos++;
            if (mrr == 0)
                mrr = 1 / (double)(j + 1);
            for (size_t o = 0; o < n; o++)
                if (!in_row(te, u, rk[o].i, 1))
                    right += rk[o].s < rk[j].s ? 1 : rk[o].s == rk[j].s ? 0.5 : 0;
        }
        r->mrr += mrr;
        r->auc += pos == 0 ? 0.5 : neg > 0 ? right / (pos * neg) : 1.0;
    }
    r->ncut = ncut;
    for (unsigned c = 0; c < ncut; c++) {
        double distinct = 0;
        for (uint64_t i = 0; i < m->items; i++)
            distinct += cov[c * m->items + i];
        r->at[c].k = cuts[c];
        r->at[c].coverage = distinct / (double)m->items;
        r->at[c].precision /= (double)r->users;
        r->at[c].recall /= (double)r->users;
        r->at[c].map /= (double)r->users;
        r->at[c].ndcg /= (double)r->users;
        r->at[c].hit /= (double)r->users;
    }
    r->mrr /= (double)r->users;
    r->auc /= (double)r->users;
    free(rk);
    free(cov);
}

/*
 * A model full of exact ties: 1100 items (two of rec_block's 1024-item tiles) whose factor
 * rows (and item biases) are drawn from only 12 distinct ones, so most items tie exactly
 * with items elsewhere in the matrix, often across tiles, where GEMM may round them apart.
 * 60 users, one of them with a zero factor row (every item ties).
 */
enum { TNU = 60, TNI = 1100, TK = 6, TPOOL = 12 };

static struct model *
tie_model(int biases, uint64_t seed, struct csr **tr, struct csr **te)
{
    static float U[TNU * TK], V[TNI * TK], pool[TPOOL * TK], pb[TPOOL];
    static struct ent e[4000];
    uint64_t s = seed;
    for (int t = 0; t < TPOOL * TK; t++)
        pool[t] = (float)(rnd(&s) % 2000) / 1000.0f - 1.0f + 1e-4f * (float)t;
    for (int t = 0; t < TPOOL; t++)
        pb[t] = (float)(rnd(&s) % 1000) / 700.0f;
    for (int t = 0; t < TNU * TK; t++)
        U[t] = t / TK == 7 ? 0.0f : (float)(rnd(&s) % 2000) / 1300.0f - 0.77f;
    int which[TNI];
    for (int i = 0; i < TNI; i++) {
        which[i] = (int)(rnd(&s) % TPOOL);
        memcpy(V + i * TK, pool + which[i] * TK, TK * sizeof *V);
    }
    struct model *m = model_of(TNU, TNI, TK, biases, U, V);
    if (biases) {
        m->mu = 3.25;
        for (int u = 0; u < TNU; u++)
            m->ub[u] = (float)(rnd(&s) % 100) / 64.0f - 0.75f;
        for (int i = 0; i < TNI; i++)
            m->ib[i] = pb[which[i]];
    }
    for (int t = 0; t < 4000; t++) {
        e[t].u = (uint32_t)(rnd(&s) % TNU);
        e[t].i = (uint32_t)(rnd(&s) % TNI);
        e[t].v = rnd(&s) % 9 == 0 ? -1.0f : 1.0f;
    }
    *tr = csr_of(e, 2500, TNU, TNI);
    *te = csr_of(e + 2500, 1500, TNU, TNI);
    return m;
}

/* Every metric equals the naive sort's, for an implicit model and one with biases, on 1
 * and 3 threads; and each user's top list is rec_block's, item for item. */
TEST(evaluate_ties_rank_as_rec_block_does)
{
    const unsigned cuts[] = { 1, 5, 10, 50 };
    for (int biases = 0; biases < 2; biases++) {
        struct csr *tr, *te;
        struct model *m = tie_model(biases, 77 + (uint64_t)biases, &tr, &te);
        struct metrics_report r, r3, want;
        struct diag d = { 0 };
        T_OK(metrics_evaluate(m, tr, te, cuts, 4, 0, 1, &r, &d));
        T_OK(metrics_evaluate(m, tr, te, cuts, 4, 0, 3, &r3, &d));
        naive_report(m, tr, te, cuts, 4, &want);
        T_TRUE(memcmp(&r, &r3, sizeof r) == 0);
        T_EQ_U64(r.users, want.users);
        for (unsigned c = 0; c < 4; c++)
            T_AT(r, c, want.at[c].k, want.at[c].precision, want.at[c].recall,
                 want.at[c].map, want.at[c].ndcg, want.at[c].hit, want.at[c].coverage);
        T_NEAR(r.mrr, want.mrr, EPS);
        T_NEAR(r.auc, want.auc, EPS);
        printf("# biases %d: %llu users, ndcg@10 %.6f mrr %.6f auc %.6f\n", biases,
               (unsigned long long)r.users, r.at[2].ndcg, r.mrr, r.auc);
        /* the order itself: rec_block's top 50 is the naive sort's first 50 */
        struct rec rec;
        struct scored *rk = malloc(TNI * sizeof *rk);
        float *scratch, val[50];
        uint32_t idx[50];
        size_t got, differ = 0;
        T_OK(rec_init(&rec, m, NULL, 50, 0, &d));
        scratch = malloc(rec_scratch_size(&rec) * sizeof *scratch);
        for (uint64_t u = 0; u < TNU; u++) {
            struct rec_query q = { m->U + u * TK, biases ? m->ub[u] : 0.0f,
                                   tr->r.idx + tr->r.ptr[u],
                                   (size_t)(tr->r.ptr[u + 1] - tr->r.ptr[u]) };
            size_t n = naive_ranking(m, tr, u, rk);
            rec_block(&rec, &q, 1, scratch, idx, val, &got);
            T_EQ_U64(got, n < 50 ? n : 50);
            for (size_t j = 0; j < got; j++)
                differ += idx[j] != rk[j].i || val[j] != rk[j].s;
        }
        T_EQ_U64(differ, 0);
        rec_release(&rec);
        free(scratch);
        free(rk);
        model_free(m);
        csr_free(tr);
        csr_free(te);
    }
}

/*
 * A tie that only float rounding breaks. e = 2^-24; items 0 and 3 are (1, e, e), items 1
 * and 2 are (e, e, 1), the user factors (1, 1, 1): every score is 1 + 2^-23 exactly (in
 * double, then as a float), so all four items tie. A float sum in factor order gives
 * (1 + e) + e = 1 for the first layout and (e + e) + 1 = 1 + 2^-23 for the second (in
 * the other order the other way round): scored that way, one of the two users below
 * would lose its hit. As rec_block ranks, the tie goes to the lower index:
 *   u0: train {2, 3}, test {0}: candidates 0 1, item 0 first: hit
 *   u1: train {0, 1}, test {2}: candidates 2 3, item 2 first: hit
 *   k = 1: P 1, R 1, map 1, ndcg 1, hit 1, coverage {0 2} = 2/4; mrr 1; auc: the one
 *   pair of each user a tie: 1/2
 */
TEST(evaluate_a_tie_is_not_broken_by_rounding)
{
    const float e = 0x1p-24f;
    float U[] = { 1, 1, 1, 1, 1, 1 }, V[] = { 1, e, e, e, e, 1, e, e, 1, 1, e, e };
    struct ent train[] = { { 0, 2, 1 }, { 0, 3, 1 }, { 1, 0, 1 }, { 1, 1, 1 } };
    struct ent test[] = { { 0, 0, 1 }, { 1, 2, 1 } };
    struct model *m = model_of(2, 4, 3, 0, U, V);
    struct csr *tr = csr_of(train, 4, 2, 4), *te = csr_of(test, 2, 2, 4);
    const unsigned cuts[] = { 1 };
    struct metrics_report r;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m, tr, te, cuts, 1, 0, 1, &r, &d));
    T_EQ_U64(r.users, 2);
    T_AT(r, 0, 1, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0 / 4);
    T_NEAR(r.mrr, 1.0, EPS);
    T_NEAR(r.auc, 0.5, EPS);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/*
 * rec_block_rows: with every item wanted, each row holds the very scores rec_block ranks
 * by: rec_block's values (k = every item) bit for bit, and the naive exact scores
 * (implicit, with biases, similar). With only a few wanted, every item compares with each
 * wanted one as the exact scores do, ties included.
 */
TEST(rec_block_rows_order_items_against_the_wanted_ones_exactly)
{
    for (int mode = 0; mode < 3; mode++) {
        struct csr *tr, *te;
        struct model *m = tie_model(mode == 1, 5, &tr, &te);
        struct rec rec;
        struct diag d = { 0 };
        enum { NQ = 9 };
        float *scratch, *rows = malloc(NQ * TNI * sizeof *rows), *few = malloc(NQ * TNI * 4);
        float *val = malloc(TNI * sizeof *val), *exact = malloc(TNI * sizeof *exact);
        uint32_t *idx = malloc(TNI * sizeof *idx), *every = malloc(TNI * sizeof *every);
        const uint32_t *want[NQ], *want3[NQ];
        size_t nwant[NQ], nwant3[NQ], got, differ = 0, wrong = 0;
        struct rec_query q[NQ];
        for (uint32_t i = 0; i < TNI; i++)
            every[i] = i;
        const uint32_t three[] = { 1000, 17, 1050 }; /* unsorted, across the two tiles */
        T_OK(rec_init(&rec, m, NULL, TNI, mode == 2, &d));
        scratch = malloc(rec_scratch_size(&rec) * sizeof *scratch);
        for (size_t j = 0; j < NQ; j++) {
            uint64_t u = j * 7;
            const float *x = mode == 2 ? m->V + u * 13 * TK : m->U + u * TK;
            q[j] = (struct rec_query){ x, mode == 1 ? m->ub[u] : 0.0f, NULL, 0 };
            want[j] = every;
            nwant[j] = TNI;
            want3[j] = three;
            nwant3[j] = 3;
        }
        rec_block_rows(&rec, q, NQ, want, nwant, scratch, rows);
        rec_block_rows(&rec, q, NQ, want3, nwant3, scratch, few);
        for (size_t j = 0; j < NQ; j++) {
            const float *row = rows + j * TNI, *fr = few + j * TNI;
            rec_block(&rec, &q[j], 1, scratch, idx, val, &got);
            T_EQ_U64(got, TNI);
            for (size_t t = 0; t < got; t++)
                differ += memcmp(&row[idx[t]], &val[t], sizeof *val) != 0;
            for (uint32_t i = 0; i < TNI; i++) {
                exact[i] = row[i];
                if (mode != 2)
                    differ += row[i] != naive_score(m, j * 7, i);
            }
            for (int w = 0; w < 3; w++) {
                float s = exact[three[w]];
                differ += fr[three[w]] != s;
                for (uint32_t i = 0; i < TNI; i++)
                    wrong += (fr[i] < s) != (exact[i] < s) || (fr[i] == s) != (exact[i] == s);
            }
        }
        T_EQ_U64(differ, 0);
        T_EQ_U64(wrong, 0);
        rec_release(&rec);
        free(scratch);
        free(rows);
        free(few);
        free(val);
        free(exact);
        free(idx);
        free(every);
        model_free(m);
        csr_free(tr);
        csr_free(te);
    }
}

/*
 * The popularity list of one query: rec_popular's order without the query's items (sorted
 * by index, not by popularity) and the masked ones. Counts 1 2 1 3 0 (btrain): order
 * 3 1 0 2 4.
 *   excl {1, 3}: 0 2 4;  excl {0, 3}, k 2: 1 2;  mask {2}, excl {1}: 3 0 4;  all excluded: none
 */
TEST(rec_popular_top_skips_seen_and_masked_items)
{
    struct csr *tr = csr_of(btrain, 7, 4, 5);
    uint32_t *order, idx[5];
    float sc[5];
    struct diag d = { 0 };
    T_OK(rec_popular(tr->t.ptr, 5, &order, &d));
    rec_popular_scores(tr->t.ptr, 5, sc);
    T_TRUE(sc[0] == 1 && sc[1] == 2 && sc[2] == 1 && sc[3] == 3 && sc[4] == 0);
    const uint32_t e13[] = { 1, 3 }, e03[] = { 0, 3 }, e1[] = { 1 }, all[] = { 0, 1, 2, 3, 4 };
    const unsigned char mask[5] = { 0, 0, 1, 0, 0 };
    T_EQ_U64(rec_popular_top(order, 5, e13, 2, NULL, 5, idx), 3);
    T_TRUE(idx[0] == 0 && idx[1] == 2 && idx[2] == 4);
    T_EQ_U64(rec_popular_top(order, 5, e03, 2, NULL, 2, idx), 2);
    T_TRUE(idx[0] == 1 && idx[1] == 2);
    T_EQ_U64(rec_popular_top(order, 5, e1, 1, mask, 5, idx), 3);
    T_TRUE(idx[0] == 3 && idx[1] == 0 && idx[2] == 4);
    T_EQ_U64(rec_popular_top(order, 5, all, 5, NULL, 5, idx), 0);
    free(order);
    csr_free(tr);
}

/* ---- rating errors: the fallback ---- */

/*
 * An explicit model of 2 users x 3 items, k = 1, mu = 3, ub = [0.5, -1],
 * ib = [0.25, -0.5, 1], U = [[2], [0]] (user 1: a zero row), V = [[1], [0.5], [0]]
 * (item 2: a zero row). The test matrix is 3 x 4: user 2 and item 3 are beyond the model.
 *   (0,0) r 5: 3 + 0.5 + 0.25 + 2 * 1   = 5.75  err -0.75
 *   (0,1) r 4: 3 + 0.5 - 0.5  + 2 * 0.5 = 4     err  0
 *   (0,2) r 2: item without factors: 3 + 0.5 + 1 = 4.5     err -2.5   fallback
 *   (0,3) r 3: item beyond the model: 3 + 0.5 = 3.5        err -0.5   fallback
 *   (1,0) r 1: user without factors: 3 - 1 + 0.25 = 2.25   err -1.25  fallback
 *   (2,1) r 4: user beyond the model: 3 - 0.5 = 2.5        err  1.5   fallback
 * Not clipped: se = 0.5625 + 0 + 6.25 + 0.25 + 1.5625 + 2.25 = 10.875,
 *   rmse = sqrt(10.875 / 6) = sqrt(1.8125); ae = 0.75 + 2.5 + 0.5 + 1.25 + 1.5 = 6.5,
 *   mae = 6.5 / 6 = 13/12; n 6, fallback 4
 * Clipped to [1, 5]: 5.75 -> 5 (err 0), the others inside: se = 10.875 - 0.5625 = 10.3125,
 *   rmse = sqrt(10.3125 / 6) = sqrt(1.71875); mae = (6.5 - 0.75) / 6 = 23/24
 */
TEST(rating_fallback_by_hand)
{
    float U[] = { 2, 0 }, V[] = { 1, 0.5f, 0 };
    struct ent test[] = { { 0, 0, 5 }, { 0, 1, 4 }, { 0, 2, 2 },
                          { 0, 3, 3 }, { 1, 0, 1 }, { 2, 1, 4 } };
    struct model *m = model_of(2, 3, 1, 1, U, V);
    struct csr *te = csr_of(test, 6, 3, 4);
    struct metrics_rating r;
    m->mu = 3.0;
    m->ub[0] = 0.5f;
    m->ub[1] = -1.0f;
    m->ib[0] = 0.25f;
    m->ib[1] = -0.5f;
    m->ib[2] = 1.0f;
    metrics_rating(m, te, 1.0f, 0.0f, &r); /* lo > hi: no clipping */
    T_EQ_U64(r.n, 6);
    T_EQ_U64(r.fallback, 4);
    T_NEAR(r.rmse, sqrt(1.8125), EPS);
    T_NEAR(r.mae, 13.0 / 12, EPS);
    metrics_rating(m, te, 1.0f, 5.0f, &r);
    T_EQ_U64(r.n, 6);
    T_EQ_U64(r.fallback, 4);
    T_NEAR(r.rmse, sqrt(1.71875), EPS);
    T_NEAR(r.mae, 23.0 / 24, EPS);
    model_free(m);
    csr_free(te);
}

/*
 * A model without biases (its mu is 0) falls back on the mean it is given. The factors of
 * the test above, no biases, mean 3.5:
 *   (0,0) r 5: 2 * 1   = 2    err  3
 *   (0,1) r 4: 2 * 0.5 = 1    err  3
 *   (0,2) r 2: item without factors: 3.5   err -1.5  fallback
 *   (0,3) r 3: item beyond the model: 3.5  err -0.5  fallback
 *   (1,0) r 1: user without factors: 3.5   err -2.5  fallback
 *   (2,1) r 4: user beyond the model: 3.5  err  0.5  fallback
 *   se = 9 + 9 + 2.25 + 0.25 + 6.25 + 0.25 = 27, rmse = sqrt(27 / 6) = sqrt(4.5);
 *   ae = 3 + 3 + 1.5 + 0.5 + 2.5 + 0.5 = 11, mae = 11/6; fallback 4
 * A model with biases ignores the mean given: the numbers of the test above.
 */
TEST(rating_fallback_to_the_mean_without_biases)
{
    float U[] = { 2, 0 }, V[] = { 1, 0.5f, 0 };
    struct ent test[] = { { 0, 0, 5 }, { 0, 1, 4 }, { 0, 2, 2 },
                          { 0, 3, 3 }, { 1, 0, 1 }, { 2, 1, 4 } };
    struct model *m = model_of(2, 3, 1, 0, U, V), *b = model_of(2, 3, 1, 1, U, V);
    struct csr *te = csr_of(test, 6, 3, 4);
    struct metrics_rating r;
    m->implicit = 0;
    metrics_rating_fallback(m, te, 1.0f, 0.0f, 3.5, &r);
    T_EQ_U64(r.n, 6);
    T_EQ_U64(r.fallback, 4);
    T_NEAR(r.rmse, sqrt(4.5), EPS);
    T_NEAR(r.mae, 11.0 / 6, EPS);
    b->mu = 3.0;
    b->ub[0] = 0.5f;
    b->ub[1] = -1.0f;
    b->ib[0] = 0.25f;
    b->ib[1] = -0.5f;
    b->ib[2] = 1.0f;
    metrics_rating_fallback(b, te, 1.0f, 0.0f, 100.0, &r);
    T_EQ_U64(r.fallback, 4);
    T_NEAR(r.rmse, sqrt(1.8125), EPS);
    T_NEAR(r.mae, 13.0 / 12, EPS);
    model_free(m);
    model_free(b);
    csr_free(te);
}

/*
 * The training-mean baseline: mu0 = 3.5 for the six ratings 5 4 2 3 1 4 above:
 *   errors 1.5 0.5 -1.5 -0.5 -2.5 0.5; se = 2.25 + 0.25 + 2.25 + 0.25 + 6.25 + 0.25 = 11.5,
 *   rmse = sqrt(11.5 / 6); ae = 7, mae = 7/6; no fallback. An empty test: all 0.
 */
TEST(rating_mean_by_hand)
{
    struct ent test[] = { { 0, 0, 5 }, { 0, 1, 4 }, { 0, 2, 2 },
                          { 0, 3, 3 }, { 1, 0, 1 }, { 2, 1, 4 } };
    struct csr *te = csr_of(test, 6, 3, 4), *empty = csr_of(test, 0, 3, 4);
    struct metrics_rating r;
    metrics_rating_mean(3.5, te, &r);
    T_EQ_U64(r.n, 6);
    T_EQ_U64(r.fallback, 0);
    T_NEAR(r.rmse, sqrt(11.5 / 6), EPS);
    T_NEAR(r.mae, 7.0 / 6, EPS);
    metrics_rating_mean(3.5, empty, &r);
    T_EQ_U64(r.n, 0);
    T_TRUE(r.rmse == 0.0 && r.mae == 0.0);
    csr_free(te);
    csr_free(empty);
}

/* ---- evaluate_run: als-eval's job on files ---- */

static const char *
saved_model(const struct model *m, const char *name)
{
    struct diag d = { 0 };
    const char *p = tpath(name);
    if (model_save(m, p, &d) < 0) {
        printf("# model_save: %s\n", d.msg);
        abort();
    }
    return p;
}

static const char *
saved_csr(const struct csr *c, const char *name)
{
    struct diag d = { 0 };
    const char *p = tpath(name);
    if (csr_save(c, p, &d) < 0) {
        printf("# csr_save: %s\n", d.msg);
        abort();
    }
    return p;
}

/* The three reports are metrics_evaluate's on the same data, bit for bit; an implicit
 * model has no rating errors. */
TEST(evaluate_run_is_the_three_evaluations)
{
    struct model *m = model_of(5, 5, 1, 0, AU, AV);
    struct csr *tr = csr_of(atrain, 3, 5, 5), *te = csr_of(atest, 8, 5, 5);
    const unsigned cuts[] = { 1, 2, 3 };
    struct evaluate_opts o = { .model = saved_model(m, "m.als"),
                               .train = saved_csr(tr, "tr.csr"), .test = saved_csr(te, "te.csr"),
                               .previous = NULL, .cuts = cuts,
                               .ncut = 3, .include_seen = 0, .threads = 2,
                               .allow_leakage = 1 }; /* hand-made model: no lineage */
    struct evaluate_result r;
    struct metrics_report want, pop;
    struct diag d = { 0 };
    T_OK(metrics_evaluate(m, tr, te, cuts, 3, 0, 1, &want, &d));
    T_OK(metrics_evaluate(NULL, tr, te, cuts, 3, 0, 1, &pop, &d));
    T_OK(evaluate_run(&o, &r, &d));
    T_TRUE(memcmp(&r.model, &want, sizeof want) == 0);
    T_TRUE(memcmp(&r.popularity, &pop, sizeof pop) == 0);
    T_EQ_INT(r.has_previous, 0);
    T_EQ_INT(r.rated, 0);
    T_NEAR(r.model.mrr, 5.0 / 6, EPS); /* the hand-computed case at the top */
    /* the same model as the previous one: the same numbers */
    o.previous = o.model;
    T_OK(evaluate_run(&o, &r, &d));
    T_EQ_INT(r.has_previous, 1);
    T_TRUE(memcmp(&r.previous, &want, sizeof want) == 0);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/*
 * An explicit model, 2 users x 3 items, k = 1, mu = 3, ub = [0.5, -1], ib = [0.25, -0.5, 1],
 * U = [2, 0] (user 1: no factors), V = [1, 0.5, 0] (item 2: no factors). train
 * {(0,0) 4, (1,1) 2}: mean 3, range [2, 4]. test {(0,1) 5, (0,2) 1, (1,0) 3}:
 *   (0,1): 3 + 0.5 - 0.5 + 2 * 0.5 = 4 (inside [2, 4]): err 1
 *   (0,2): no factors: 3 + 0.5 + 1 = 4.5, clipped to 4: err -3       fallback
 *   (1,0): no factors: 3 - 1 + 0.25 = 2.25: err 0.75                 fallback
 *   rmse sqrt((1 + 9 + 0.5625) / 3), mae 4.75 / 3, fallback 2
 * The training mean 3: errors 2 -2 0: rmse sqrt(8 / 3), mae 4 / 3.
 */
TEST(evaluate_run_rating_errors_of_an_explicit_model)
{
    float U[] = { 2, 0 }, V[] = { 1, 0.5f, 0 };
    struct ent train[] = { { 0, 0, 4 }, { 1, 1, 2 } };
    struct ent test[] = { { 0, 1, 5 }, { 0, 2, 1 }, { 1, 0, 3 } };
    struct model *m = model_of(2, 3, 1, 1, U, V);
    struct csr *tr = csr_of(train, 2, 2, 3), *te = csr_of(test, 3, 2, 3);
    m->mu = 3.0;
    m->ub[0] = 0.5f;
    m->ub[1] = -1.0f;
    m->ib[0] = 0.25f;
    m->ib[1] = -0.5f;
    m->ib[2] = 1.0f;
    const unsigned cuts[] = { 1 };
    const char *mp = saved_model(m, "e.als");
    struct evaluate_opts o = { .model = mp, .train = saved_csr(tr, "etr.csr"),
                               .test = saved_csr(te, "ete.csr"), .previous = mp, .cuts = cuts,
                               .ncut = 1, .threads = 1,
                               .allow_leakage = 1 }; /* hand-made model: no lineage */
    struct evaluate_result r;
    struct diag d = { 0 };
    T_OK(evaluate_run(&o, &r, &d));
    T_EQ_INT(r.rated, 1);
    T_EQ_INT(r.biases, 1);
    T_NEAR(r.mean, 3.0, EPS);
    T_EQ_U64(r.rating.n, 3);
    T_EQ_U64(r.rating.fallback, 2);
    T_NEAR(r.rating.rmse, sqrt(10.5625 / 3), 1e-7);
    T_NEAR(r.rating.mae, 4.75 / 3, 1e-7);
    T_NEAR(r.rating_mean.rmse, sqrt(8.0 / 3), EPS);
    T_NEAR(r.rating_mean.mae, 4.0 / 3, EPS);
    T_TRUE(memcmp(&r.rating_previous, &r.rating, sizeof r.rating) == 0);
    model_free(m);
    csr_free(tr);
    csr_free(te);
}

/* A previous model from before the vocabulary grew (fewer users) is grown to today's
 * shape: its report is that of model_grow's model. One of another data set (more users)
 * is refused, naming both files. */
TEST(evaluate_run_grows_an_older_previous_model)
{
    struct model *m = model_of(5, 5, 1, 0, AU, AV), *old = model_of(4, 5, 1, 0, AU, AV);
    struct model *big = model_of(6, 5, 1, 0, (const float[]){ 1, 1, 1, 1, 1, 1 }, AV), *g;
    struct csr *tr = csr_of(atrain, 3, 5, 5), *te = csr_of(atest, 8, 5, 5);
    const unsigned cuts[] = { 1, 3 };
    struct evaluate_opts o = { .model = saved_model(m, "g.als"), .train = saved_csr(tr, "gtr.csr"),
                               .test = saved_csr(te, "gte.csr"),
                               .previous = saved_model(old, "old.als"), .cuts = cuts, .ncut = 2,
                               .threads = 1, .allow_leakage = 1 }; /* hand-made models */
    struct evaluate_result r;
    struct metrics_report want;
    struct diag d = { 0 };
    T_OK(model_grow(&g, old, 5, 5, &d));
    T_OK(metrics_evaluate(g, tr, te, cuts, 2, 0, 1, &want, &d));
    T_OK(evaluate_run(&o, &r, &d));
    T_EQ_INT(r.has_previous, 1);
    T_TRUE(memcmp(&r.previous, &want, sizeof want) == 0);
    /* user 4 has no factors in the grown model, and no relevant test items: only u0, u1, u3
     * count, whose rows are the same: the previous report equals the model's */
    T_TRUE(memcmp(&r.previous, &r.model, sizeof want) == 0);
    char msg[512];
    o.previous = saved_model(big, "big.als");
    T_EQ_INT(evaluate_run(&o, &r, &d), ALS_EFORMAT);
    snprintf(msg, sizeof msg, "model '%s' is 6 x 5 but '%s' is 5 x 5: they were not made "
             "from the same data", o.previous, o.train);
    T_EQ_STR(d.msg, msg);
    model_free(m);
    model_free(old);
    model_free(big);
    model_free(g);
    csr_free(tr);
    csr_free(te);
}

TEST(evaluate_run_refuses_what_does_not_fit)
{
    const float V6[] = { 6, 5, 4, 3, 2, 1 };
    struct model *m = model_of(5, 5, 1, 0, AU, AV), *m6 = model_of(5, 6, 1, 0, AU, V6);
    struct csr *tr = csr_of(atrain, 3, 5, 5), *te = csr_of(atest, 8, 5, 5);
    struct csr *te6 = csr_of(atest, 8, 6, 5), *empty = csr_of(atest, 0, 5, 5);
    const unsigned cuts[] = { 1 };
    struct evaluate_opts o = { .model = saved_model(m, "f.als"),
                               .train = saved_csr(tr, "ftr.csr"),
                               .test = saved_csr(te6, "fte6.csr"), .previous = NULL, .cuts = cuts,
                               .ncut = 1, .include_seen = 0, .threads = 1 };
    struct evaluate_result r;
    struct diag d = { 0 };
    char msg[512];
    /* the two CSRs of different shapes */
    T_EQ_INT(evaluate_run(&o, &r, &d), ALS_EFORMAT);
    snprintf(msg, sizeof msg, "'%s' is 5 x 5 but '%s' is 6 x 5: not the two parts of one "
             "split", o.train, o.test);
    T_EQ_STR(d.msg, msg);
    /* a model of another shape */
    o.test = saved_csr(te, "fte.csr");
    o.model = saved_model(m6, "f6.als");
    T_EQ_INT(evaluate_run(&o, &r, &d), ALS_EFORMAT);
    snprintf(msg, sizeof msg, "model '%s' is 5 x 6 but '%s' is 5 x 5: they were not made "
             "from the same data", o.model, o.train);
    T_EQ_STR(d.msg, msg);
    /* a test part without entries */
    o.model = tpath("f.als");
    o.test = saved_csr(empty, "fempty.csr");
    T_EQ_INT(evaluate_run(&o, &r, &d), ALS_EFORMAT);
    snprintf(msg, sizeof msg, "'%s' holds no test entries: nothing to evaluate", o.test);
    T_EQ_STR(d.msg, msg);
    /* a missing file, each in turn: the open's error naming it */
    const char *nope = tpath("nope");
    for (int t = 0; t < 4; t++) {
        struct evaluate_opts b = o;
        b.test = tpath("fte.csr");
        b.model = t == 0 ? nope : b.model;
        b.train = t == 1 ? nope : b.train;
        b.test = t == 2 ? nope : b.test;
        b.previous = t == 3 ? nope : NULL;
        T_TRUE(evaluate_run(&b, &r, &d) < 0);
        T_TRUE(strstr(d.msg, nope) != NULL);
    }
    model_free(m);
    model_free(m6);
    csr_free(tr);
    csr_free(te);
    csr_free(te6);
    csr_free(empty);
}
