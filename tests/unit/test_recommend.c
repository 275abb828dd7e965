/* SPDX-License-Identifier: MIT */
/* test_recommend: rec_block against a brute-force reference (score every item in double,
 * sort, filter) on random models with exact ties, every filter, explicit biases and the
 * cosine of --similar; rec_popular's order; fold-in against training's own user solve. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "als.h"
#include "csr.h"
#include "diag.h"
#include "model.h"
#include "recommend.h"

#include "t.h"
#include "scratch.h"

/*
 * The order the library promises, and the reference sorts by: higher score first, then
 * the lower item index. rec_block scores in float (one GEMM), the reference in double, so
 * two items whose double scores differ by less than TOL_ORDER may come in either order
 * (float noise). Items with identical factor rows (and item biases) tie exactly: they
 * must get equal scores and come lower index first, which the strict runs check (see
 * rec_block_identical_item_rows_tie_to_the_lower_index); the other runs let them pass
 * as a near tie so that everything else is still checked. TOL_VAL: a returned score
 * against the double score of the same item (|scores| stay below ~10 here).
 */
#define TOL_ORDER 1e-5
#define TOL_VAL 1e-4
/* Fold-in against the training half-step: the same system and solver, so the same bits
 * are expected; relative 1e-6 is the most that is allowed. */
#define TOL_FOLDIN 1e-6

static double
rnd_unit(uint64_t *s) /* [0, 1) */
{
    return (double)(rnd(s) >> 11) * (1.0 / 9007199254740992.0);
}

static float
rnd_sym(uint64_t *s) /* [-1, 1) */
{
    return (float)(2.0 * rnd_unit(s) - 1.0);
}

/* ---- fixture: a random model whose first items repeat a few base rows exactly ---- */

/*
 * Two sizes: SMALL items fit one tile of rec_block's item loop; BIG items (over 2 x 2048)
 * span three, with twins in each, so ties and the running top-k cross tile borders.
 */
enum { NU = 70, NBASE = 40, SMALL = 301, BIG = 4500 };

/* The current fixture: NI items, items [0, NDUP) copies. */
static uint32_t NI, NDUP;
/* twin[i]: the lowest item with the same factor row (and item bias) as i; i if none. */
static uint32_t *twin;

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

/* Items [0, NDUP) copy the rows of items NDUP + (i % NBASE), so every such item has
 * exact twins among the others (lower and higher indices); items >= NDUP are random.
 * The last item is all zeros (an item without factors). NDUP is 2/3 of the items. */
static struct model *
fx_model_n(uint32_t ni, uint32_t k, int implicit, int biases, uint64_t seed)
{
    struct model *m;
    struct diag d = { 0 };
    uint64_t s = seed;
    NI = ni;
    NDUP = ni / 3 * 2;
    free(twin);
    twin = xcalloc(NI, sizeof *twin);
    if (model_new(&m, NU, NI, k, implicit, biases, &d) < 0) {
        printf("# model_new: %s\n", d.msg);
        abort();
    }
    for (uint64_t t = 0; t < (uint64_t)NU * k; t++)
        m->U[t] = rnd_sym(&s);
    for (uint64_t i = NDUP; i < NI - 1; i++)
        for (uint32_t j = 0; j < k; j++)
            m->V[i * k + j] = rnd_sym(&s);
    for (uint64_t i = 0; i < NDUP; i++)
        memcpy(m->V + i * k, m->V + (NDUP + i % NBASE) * k, k * sizeof *m->V);
    if (biases) {
        m->mu = 3.25;
        for (uint64_t u = 0; u < NU; u++)
            m->ub[u] = 0.5f * rnd_sym(&s);
        for (uint64_t i = NDUP; i < NI; i++)
            m->ib[i] = 0.5f * rnd_sym(&s);
        for (uint64_t i = 0; i < NDUP; i++)
            m->ib[i] = m->ib[NDUP + i % NBASE];
    }
    /* the first copy of base NDUP + b is item b */
    for (uint32_t i = 0; i < NI; i++)
        twin[i] = i < NDUP ? i % NBASE : i < NDUP + NBASE ? i - NDUP : i;
    return m;
}

static struct model *
fx_model(uint32_t k, int implicit, int biases, uint64_t seed)
{
    return fx_model_n(SMALL, k, implicit, biases, seed);
}

__attribute__((destructor)) static void
fx_cleanup(void)
{
    free(twin);
}

/* ---- the reference ---- */

static const double *ref_s;

static int
ref_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    if (ref_s[a] != ref_s[b])
        return ref_s[a] > ref_s[b] ? -1 : 1;
    return (a > b) - (a < b);
}

/* The double score of every item for query x: the prediction, or the cosine (0 against
 * a zero vector) when similar. */
static void
ref_scores(const struct model *m, const float *x, float bias, int similar, double *out)
{
    uint32_t k = m->k;
    double nx = 0;
    for (uint32_t j = 0; j < k; j++)
        nx += (double)x[j] * (double)x[j];
    for (uint64_t i = 0; i < m->items; i++) {
        const float *y = m->V + i * k;
        double dt = 0, ny = 0;
        for (uint32_t j = 0; j < k; j++) {
            dt += (double)x[j] * (double)y[j];
            ny += (double)y[j] * (double)y[j];
        }
        if (similar)
            out[i] = nx > 0 && ny > 0 ? dt / (sqrt(nx) * sqrt(ny)) : 0.0;
        else if (m->biases)
            out[i] = m->mu + (double)bias + (double)m->ib[i] + dt;
        else
            out[i] = dt;
    }
}

/* Score, drop excl and mask, sort by (score desc, index asc), keep k: into want. */
static size_t
ref_topk(const struct model *m, const struct rec_query *q, const unsigned char *mask,
         unsigned k, int similar, double *sc, uint32_t *want)
{
    uint32_t *all = malloc((m->items + 1) * sizeof *all);
    unsigned char *ex = xcalloc(m->items, 1);
    size_t n = 0;
    ref_scores(m, q->x, q->bias, similar, sc);
    for (size_t e = 0; e < q->nexcl; e++)
        ex[q->excl[e]] = 1;
    for (uint32_t i = 0; i < m->items; i++)
        if (!ex[i] && !(mask && mask[i]))
            all[n++] = i;
    free(ex);
    ref_s = sc;
    qsort(all, n, sizeof *all, ref_cmp);
    size_t got = n < k ? n : k;
    memcpy(want, all, got * sizeof *want);
    free(all);
    return got;
}

/* Compare one query's answer with the reference; returns 0 when they agree, printing
 * the first difference otherwise. strict: items with identical rows (exact ties) must
 * come lower index first with equal scores; otherwise they are let pass like any two
 * scores closer than TOL_ORDER, so that the other checks still run. */
static int
check_answer(const struct model *m, const struct rec_query *q, const unsigned char *mask,
             unsigned k, int similar, int strict, const uint32_t *idx, const float *val,
             size_t cnt, const char *what, size_t qn)
{
    double *sc = malloc((m->items + 1) * sizeof *sc);
    uint32_t *want = malloc((k + 1) * sizeof *want);
    size_t exp = ref_topk(m, q, mask, k, similar, sc, want);
    int bad = 0;
    if (cnt != exp) {
        printf("#   %s query %zu: %zu items, expected %zu\n", what, qn, cnt, exp);
        bad = 1;
    }
    for (size_t r = 0; !bad && r < cnt; r++) {
        uint32_t g = idx[r], w = want[r];
        int ex = g >= m->items || (mask && mask[g]);
        for (size_t e = 0; e < q->nexcl; e++)
            ex |= q->excl[e] == g;
        for (size_t t = 0; t < r; t++)
            ex |= idx[t] == g;
        if (ex) {
            printf("#   %s query %zu rank %zu: item %u is excluded, masked or repeated\n", what,
                   qn, r + 1, g);
            bad = 1;
            break;
        }
        if (fabs((double)val[r] - sc[g]) > TOL_VAL * (1 + fabs(sc[g]))) {
            printf("#   %s query %zu rank %zu: item %u score %.9g, reference %.9g\n", what, qn,
                   r + 1, g, (double)val[r], sc[g]);
            bad = 1;
        }
        if (r > 0 && !(val[r] <= val[r - 1])) {
            printf("#   %s query %zu rank %zu: score %.9g above rank %zu's %.9g\n", what, qn,
                   r + 1, (double)val[r], r, (double)val[r - 1]);
            bad = 1;
        }
        if (g != w) {
            int exact_tie = strict && twin[g] == twin[w] && g != NI - 1 && w != NI - 1;
            if (exact_tie || fabs(sc[g] - sc[w]) >= TOL_ORDER) {
                printf("#   %s query %zu rank %zu: item %u (%.9g), reference item %u "
                       "(%.9g)%s\n", what, qn, r + 1, g, sc[g], w, sc[w],
                       exact_tie ? ": identical rows, the lower index goes first" : "");
                bad = 1;
            }
        }
        /* Two returned items with identical rows: the same float score, lower index first. */
        for (size_t t = 0; strict && t < r; t++)
            if (g < NI - 1 && twin[idx[t]] == twin[g] &&
                (idx[t] > g || val[t] != val[r])) {
                printf("#   %s query %zu: twins %u (rank %zu, %.9g) and %u (rank %zu, %.9g)\n",
                       what, qn, idx[t], t + 1, (double)val[t], g, r + 1, (double)val[r]);
                bad = 1;
            }
    }
    free(sc);
    free(want);
    return bad;
}

/* Random sorted distinct exclusions: each item with probability p. */
static size_t
rnd_excl(uint64_t *s, double p, uint32_t *out)
{
    size_t n = 0;
    for (uint32_t i = 0; i < NI; i++)
        if (rnd_unit(s) < p)
            out[n++] = i;
    return n;
}

/* Run nq queries (users [u0, u0 + nq) of m, or items when similar) through rec_block in
 * blocks of up to REC_BLOCK and compare each with the reference. excl_p: the chance of
 * each item to be in a query's exclusion list (the query item itself is always excluded
 * when similar). */
static int
run_queries(const struct model *m, const unsigned char *mask, unsigned k, int similar,
            int strict, size_t nq, double excl_p, uint64_t seed, const char *what)
{
    struct rec r;
    struct diag d = { 0 };
    if (rec_init(&r, m, mask, k, similar, &d) < 0) {
        printf("# rec_init: %s\n", d.msg);
        return 1;
    }
    uint64_t s = seed;
    float *scratch = malloc(rec_scratch_size(&r) * sizeof *scratch);
    uint32_t *idx = malloc((size_t)REC_BLOCK * k * sizeof *idx);
    float *val = malloc((size_t)REC_BLOCK * k * sizeof *val);
    uint32_t *ex = malloc((size_t)REC_BLOCK * (NI + 1) * sizeof *ex);
    struct rec_query q[REC_BLOCK];
    size_t cnt[REC_BLOCK];
    int bad = 0;
    for (size_t first = 0; first < nq; first += REC_BLOCK) {
        size_t n = nq - first < REC_BLOCK ? nq - first : REC_BLOCK;
        for (size_t t = 0; t < n; t++) {
            size_t qi = first + t;
            uint32_t *e = ex + t * (NI + 1);
            if (similar) {
                uint32_t item = (uint32_t)(qi % (NI - 1));
                q[t].x = m->V + (size_t)item * m->k;
                size_t ne = rnd_excl(&s, excl_p, e), w = 0;
                /* insert the item itself, keeping the list sorted and distinct */
                uint32_t *tmp = xcalloc(NI + 1, sizeof *tmp);
                int put = 0;
                for (size_t a = 0; a < ne; a++) {
                    if (!put && e[a] >= item) {
                        tmp[w++] = item;
                        put = 1;
                    }
                    if (e[a] != item)
                        tmp[w++] = e[a];
                }
                if (!put)
                    tmp[w++] = item;
                memcpy(e, tmp, w * sizeof *e);
                free(tmp);
                q[t].nexcl = w;
                q[t].bias = 0;
            } else {
                uint32_t u = (uint32_t)(qi % NU);
                q[t].x = m->U + (size_t)u * m->k;
                q[t].bias = m->biases ? m->ub[u] : 0.0f;
                q[t].nexcl = rnd_excl(&s, excl_p, e);
            }
            q[t].excl = e;
        }
        memset(cnt, 0xff, sizeof cnt);
        rec_block(&r, q, n, scratch, idx, val, cnt);
        for (size_t t = 0; t < n && !bad; t++)
            bad |= check_answer(m, &q[t], mask, k, similar, strict, idx + t * k, val + t * k,
                                cnt[t], what, first + t);
    }
    free(scratch);
    free(idx);
    free(val);
    free(ex);
    rec_release(&r);
    return bad;
}

/* ---- rec_block: user queries ---- */

TEST(rec_block_equals_brute_force_implicit)
{
    for (uint32_t k = 1; k <= 17; k += 8) {
        struct model *m = fx_model(k, 1, 0, 11 + k);
        /* one full block and a partial one, no filters */
        T_OK(run_queries(m, NULL, 10, 0, 0, REC_BLOCK + 7, 0.0, 1, "implicit"));
        /* exclusion lists */
        T_OK(run_queries(m, NULL, 25, 0, 0, REC_BLOCK, 0.3, 2, "implicit excl"));
        model_free(m);
    }
}

TEST(rec_block_with_a_mask_and_exclusions)
{
    struct model *m = fx_model(8, 1, 0, 5);
    unsigned char *mask = xcalloc(NI, 1);
    uint64_t s = 77;
    for (uint32_t i = 0; i < NI; i++)
        mask[i] = rnd_unit(&s) < 0.25;
    T_OK(run_queries(m, mask, 12, 0, 0, 2 * REC_BLOCK, 0.2, 3, "mask"));
    /* an allow-list of 3 items as --only makes it: k larger than the candidates */
    for (uint32_t i = 0; i < NI; i++)
        mask[i] = !(i == 4 || i == 44 || i == 250);
    T_OK(run_queries(m, mask, 10, 0, 0, REC_BLOCK, 0.0, 4, "only 3"));
    free(mask);
    model_free(m);
}

TEST(rec_block_across_item_tiles)
{
    /* more items than two of rec_block's item tiles: twins in every tile, filters */
    for (uint32_t k = 5; k <= 21; k += 16) {
        struct model *m = fx_model_n(BIG, k, 1, 0, 15 + k);
        unsigned char *mask = xcalloc(NI, 1);
        uint64_t s = 78;
        T_OK(run_queries(m, NULL, 30, 0, 0, REC_BLOCK + 9, 0.0, 21, "big"));
        T_OK(run_queries(m, NULL, 50, 0, 0, REC_BLOCK, 0.2, 22, "big excl"));
        for (uint32_t i = 0; i < NI; i++)
            mask[i] = rnd_unit(&s) < 0.3;
        T_OK(run_queries(m, mask, 20, 0, 0, REC_BLOCK, 0.1, 23, "big mask"));
        /* an allow-list with one item in each tile and one past the last full tile */
        for (uint32_t i = 0; i < NI; i++)
            mask[i] = !(i == 7 || i == 2047 || i == 2048 || i == 4096 || i == NI - 2);
        T_OK(run_queries(m, mask, 10, 0, 0, REC_BLOCK, 0.0, 24, "big only 5"));
        T_OK(run_queries(m, NULL, NI + 3, 0, 0, 3, 0.0, 25, "big k > items"));
        free(mask);
        model_free(m);
        m = fx_model_n(BIG, k, 0, 1, 35 + k);
        T_OK(run_queries(m, NULL, 40, 0, 0, REC_BLOCK + 1, 0.1, 26, "big biases"));
        model_free(m);
        m = fx_model_n(BIG, k, 1, 0, 45 + k);
        T_OK(run_queries(m, NULL, 15, 1, 0, REC_BLOCK + 2, 0.05, 27, "big similar"));
        model_free(m);
    }
}

TEST(rec_block_k_larger_than_the_candidates)
{
    struct model *m = fx_model(6, 1, 0, 8);
    /* k above the item count: every item, in order */
    T_OK(run_queries(m, NULL, NI + 50, 0, 0, 9, 0.0, 5, "k > items"));
    /* most items excluded per query: fewer candidates than k */
    T_OK(run_queries(m, NULL, 40, 0, 0, REC_BLOCK, 0.9, 6, "k > candidates"));
    model_free(m);
}

TEST(rec_block_every_item_excluded_gives_nothing)
{
    struct model *m = fx_model_n(BIG, 4, 1, 0, 9);
    struct rec r;
    struct diag d = { 0 };
    unsigned char *mask = xcalloc(NI, 1);
    uint32_t *all = xcalloc(NI, sizeof *all), *half = xcalloc(NI, sizeof *half);
    size_t nh = 0;
    for (uint32_t i = 0; i < NI; i++) {
        all[i] = i;
        mask[i] = i % 2 == 0;
        if (i % 2)
            half[nh++] = i;
    }
    T_OK(rec_init(&r, m, mask, 5, 0, &d));
    float *scratch = malloc(rec_scratch_size(&r) * sizeof *scratch);
    uint32_t idx[3 * 5];
    float val[3 * 5];
    size_t cnt[3] = { 99, 99, 99 };
    struct rec_query q[3] = {
        { m->U, 0, all, NI },          /* the user has seen every item */
        { m->U + 4, 0, half, nh },     /* the odd ones seen, the even ones masked */
        { m->U + 8, 0, NULL, 0 },      /* nothing seen: only the mask */
    };
    rec_block(&r, q, 3, scratch, idx, val, cnt);
    T_EQ_U64(cnt[0], 0);
    T_EQ_U64(cnt[1], 0);
    T_EQ_U64(cnt[2], 5);
    for (size_t t = 0; t < cnt[2]; t++)
        T_TRUE(idx[10 + t] % 2 == 1);
    rec_release(&r);
    free(scratch);
    free(mask);
    free(all);
    free(half);
    model_free(m);
}

TEST(rec_block_all_equal_scores_go_by_index)
{
    /* A zero user scores 0 against every item: the top k are the lowest candidate
     * indices, in index order. */
    struct model *m = fx_model(8, 1, 0, 10);
    struct rec r;
    struct diag d = { 0 };
    float zero[8] = { 0 };
    uint32_t excl[] = { 0, 2, 3, 7 };
    struct rec_query q = { zero, 0, excl, 4 };
    uint32_t idx[6];
    float val[6];
    size_t cnt = 0;
    T_OK(rec_init(&r, m, NULL, 6, 0, &d));
    float *scratch = malloc(rec_scratch_size(&r) * sizeof *scratch);
    rec_block(&r, &q, 1, scratch, idx, val, &cnt);
    T_EQ_U64(cnt, 6);
    static const uint32_t want[] = { 1, 4, 5, 6, 8, 9 };
    for (size_t t = 0; t < 6; t++) {
        T_EQ_U64(idx[t], want[t]);
        T_TRUE(val[t] == 0.0f);
    }
    rec_release(&r);
    free(scratch);
    model_free(m);
}

TEST(rec_block_explicit_with_biases_predicts_mu_plus_biases_plus_dot)
{
    for (uint32_t k = 3; k <= 19; k += 16) {
        struct model *m = fx_model(k, 0, 1, 21 + k);
        T_OK(run_queries(m, NULL, 10, 0, 0, REC_BLOCK + 3, 0.1, 7, "biases"));
        unsigned char *mask = xcalloc(NI, 1);
        for (uint32_t i = 0; i < NI; i++)
            mask[i] = i % 3 == 0;
        T_OK(run_queries(m, mask, 30, 0, 0, REC_BLOCK, 0.1, 8, "biases mask"));
        /* one value checked by hand: user 5, item 250 with everything else filtered */
        struct rec r;
        struct diag d = { 0 };
        for (uint32_t i = 0; i < NI; i++)
            mask[i] = i != 250;
        T_OK(rec_init(&r, m, mask, 3, 0, &d));
        float *scratch = malloc(rec_scratch_size(&r) * sizeof *scratch);
        struct rec_query q = { m->U + 5 * k, m->ub[5], NULL, 0 };
        uint32_t idx[3];
        float val[3];
        size_t cnt = 0;
        rec_block(&r, &q, 1, scratch, idx, val, &cnt);
        double want = m->mu + (double)m->ub[5] + (double)m->ib[250];
        for (uint32_t j = 0; j < k; j++)
            want += (double)m->U[5 * k + j] * (double)m->V[250 * k + j];
        T_EQ_U64(cnt, 1);
        T_EQ_U64(idx[0], 250);
        T_NEAR((double)val[0], want, TOL_VAL * (1 + fabs(want)));
        rec_release(&r);
        free(scratch);
        free(mask);
        model_free(m);
    }
}

/* ---- rec_block: similar items ---- */

TEST(rec_block_similar_is_cosine_without_the_query_item)
{
    for (uint32_t k = 2; k <= 18; k += 16) {
        struct model *m = fx_model(k, 1, 0, 31 + k);
        /* scale some rows (none of them copied): the cosine must not care */
        for (uint64_t t = (uint64_t)(NDUP + NBASE) * k; t < (uint64_t)(NDUP + NBASE + 10) * k;
             t++)
            m->V[t] *= 7.0f;
        T_OK(run_queries(m, NULL, 10, 1, 0, NI - 1, 0.0, 9, "similar"));
        unsigned char *mask = xcalloc(NI, 1);
        for (uint32_t i = 0; i < NI; i++)
            mask[i] = i % 5 == 1;
        T_OK(run_queries(m, mask, 15, 1, 0, REC_BLOCK, 0.1, 10, "similar mask"));
        free(mask);
        /* every cosine is at most 1 (float slack), the query item never comes back, and
         * an item's exact twins come first with cosine 1 */
        struct rec r;
        struct diag d = { 0 };
        T_OK(rec_init(&r, m, NULL, 8, 1, &d));
        float *scratch = malloc(rec_scratch_size(&r) * sizeof *scratch);
        uint32_t item = 3, ex[1] = { 3 }, idx[8];
        float val[8];
        size_t cnt = 0;
        struct rec_query q = { m->V + item * k, 0, ex, 1 };
        rec_block(&r, &q, 1, scratch, idx, val, &cnt);
        T_EQ_U64(cnt, 8);
        /* item 3 copies base NDUP + 3 (203): its twins are 43, 83, 123, 163 and 203 */
        T_EQ_U64(NDUP, 200);
        static const uint32_t tw[] = { 43, 83, 123, 163, 203 };
        for (size_t t = 0; t < 8; t++) {
            T_TRUE(idx[t] != item);
            T_TRUE(val[t] <= 1.0f + 1e-6f);
        }
        for (size_t t = 0; t < 5; t++) {
            T_EQ_U64(idx[t], tw[t]);
            T_NEAR((double)val[t], 1.0, 1e-6);
        }
        rec_release(&r);
        free(scratch);
        model_free(m);
    }
}

TEST(rec_block_similar_zero_item_scores_zero)
{
    struct model *m = fx_model(5, 1, 0, 41);
    struct rec r;
    struct diag d = { 0 };
    T_OK(rec_init(&r, m, NULL, NI, 1, &d));
    float *scratch = malloc(rec_scratch_size(&r) * sizeof *scratch);
    uint32_t *idx = malloc(NI * sizeof *idx), ex[1] = { 7 };
    float *val = malloc(NI * sizeof *val);
    size_t cnt = 0;
    struct rec_query q = { m->V + 7 * 5, 0, ex, 1 };
    rec_block(&r, &q, 1, scratch, idx, val, &cnt);
    T_EQ_U64(cnt, NI - 1);
    for (size_t t = 0; t < cnt; t++) {
        T_TRUE(isfinite(val[t]));
        if (idx[t] == NI - 1)
            T_TRUE(val[t] == 0.0f);
    }
    /* a zero query: no direction, every cosine 0, so index order */
    float zero[5] = { 0 };
    struct rec_query z = { zero, 0, NULL, 0 };
    rec_block(&r, &z, 1, scratch, idx, val, &cnt);
    T_EQ_U64(cnt, NI);
    for (size_t t = 0; t < cnt; t++) {
        T_EQ_U64(idx[t], t);
        T_TRUE(val[t] == 0.0f);
    }
    rec_release(&r);
    free(scratch);
    free(idx);
    free(val);
    model_free(m);
}

/* ---- exact ties: identical item rows ---- */

/*
 * Items with identical factor rows (and item biases) tie exactly: the documented order
 * is then the lower item index first, whatever else is in the block. Every query runs
 * in a full block of REC_BLOCK, as als-recommend batches them, for k below and above
 * the 8 where a blocked GEMM starts to sum the rows of B in different orders.
 */
TEST(rec_block_identical_item_rows_tie_to_the_lower_index)
{
    for (uint32_t k = 4; k <= 20; k += 8) {
        char what[64];
        struct model *m = fx_model(k, 1, 0, 101 + k);
        snprintf(what, sizeof what, "ties implicit k=%u", k);
        T_OK(run_queries(m, NULL, 20, 0, 1, 2 * REC_BLOCK, 0.1, 11, what));
        model_free(m);
        m = fx_model(k, 0, 1, 201 + k);
        snprintf(what, sizeof what, "ties biases k=%u", k);
        T_OK(run_queries(m, NULL, 20, 0, 1, 2 * REC_BLOCK, 0.1, 12, what));
        model_free(m);
        m = fx_model(k, 1, 0, 301 + k);
        snprintf(what, sizeof what, "ties similar k=%u", k);
        T_OK(run_queries(m, NULL, 20, 1, 1, 2 * REC_BLOCK, 0.0, 13, what));
        model_free(m);
        /* twins in different tiles of the item loop */
        m = fx_model_n(BIG, k, 1, 0, 501 + k);
        snprintf(what, sizeof what, "ties across tiles k=%u", k);
        T_OK(run_queries(m, NULL, 30, 0, 1, REC_BLOCK, 0.1, 14, what));
        model_free(m);
    }
}

/* ---- rec_popular ---- */

TEST(rec_popular_is_degree_desc_then_index)
{
    enum { N = 500 };
    uint64_t ptr[N + 1], s = 51;
    uint32_t *order = NULL;
    struct diag d = { 0 };
    ptr[0] = 0;
    /* few distinct degrees: many ties */
    for (uint32_t i = 0; i < N; i++)
        ptr[i + 1] = ptr[i] + rnd(&s) % 6;
    T_OK(rec_popular(ptr, N, &order, &d));
    unsigned char used[N] = { 0 };
    /* the reference: repeatedly the unused item of the highest degree, lowest index */
    for (uint32_t r = 0; r < N; r++) {
        int64_t best = -1;
        for (uint32_t i = 0; i < N; i++)
            if (!used[i] && (best < 0 || ptr[i + 1] - ptr[i] > ptr[best + 1] - ptr[best]))
                best = i;
        used[best] = 1;
        if (order[r] != (uint32_t)best) {
            T_FAIL("rank %u: item %u, expected %lld", r, order[r], (long long)best);
            break;
        }
    }
    free(order);
    /* no items at all */
    uint64_t p0 = 0;
    order = NULL;
    T_OK(rec_popular(&p0, 0, &order, &d));
    free(order);
    /* a hand example */
    uint64_t ph[] = { 0, 2, 2, 7, 9, 14 }; /* degrees 2 0 5 2 5 */
    T_OK(rec_popular(ph, 5, &order, &d));
    static const uint32_t want[] = { 2, 4, 0, 3, 1 };
    for (int t = 0; t < 5; t++)
        T_EQ_U64(order[t], want[t]);
    free(order);
}

/* ---- fold-in against the training half-step ---- */

/* A random history: nnz distinct (u, i) pairs; implicit values with some negatives and
 * zeros, explicit stars 1..5. User 0 and item 0 get many entries. */
static struct csr *
fx_csr(uint64_t nu, uint64_t ni, uint64_t nnz, int implicit, uint64_t seed)
{
    struct csr_coo coo;
    struct csr *c = NULL;
    struct diag d = { 0 };
    uint64_t s = seed;
    unsigned char *seen = calloc(nu * ni, 1);
    memset(&coo, 0, sizeof coo);
    for (uint64_t n = 0; n < nnz;) {
        uint32_t u = (uint32_t)(rnd(&s) % nu), i = (uint32_t)(rnd(&s) % ni);
        if (n < ni / 2)
            u = 0;
        if (seen[u * ni + i])
            continue;
        seen[u * ni + i] = 1;
        float v;
        if (implicit) {
            double x = rnd_unit(&s);
            v = x < 0.05 ? 0.0f : (float)(0.05 + 2.95 * rnd_unit(&s));
            if (x > 0.9)
                v = -v;
        } else {
            v = (float)(1 + rnd(&s) % 5);
        }
        if (csr_coo_push(&coo, u, i, v, NULL) < 0)
            abort();
        n++;
    }
    free(seen);
    if (csr_build(&coo, nu, ni, CSR_DUP_SUM, 0, &c, NULL, &d) < 0) {
        printf("# csr_build: %s\n", d.msg);
        abort();
    }
    return c;
}

/* The largest |a - b| relative to max(|b|, 1e-3) over n values. */
static double
rel_diff(const float *a, const float *b, size_t n)
{
    double w = 0;
    for (size_t j = 0; j < n; j++) {
        double den = fabs((double)b[j]) > 1e-3 ? fabs((double)b[j]) : 1e-3;
        double e = fabs((double)a[j] - (double)b[j]) / den;
        if (!(e <= w))
            w = e;
    }
    return w;
}

/* Train (Cholesky) a few iterations, then for several users compare the fold-in of the
 * user's training row with a user half-step of just that row on the same model state. */
static void
foldin_case(int implicit, int biases, uint32_t k, int train_solver)
{
    enum { FU = 60, FI = 45 };
    struct csr *c = fx_csr(FU, FI, 700, implicit, implicit ? 61 : 62);
    struct model *m;
    struct diag d = { 0 };
    struct als_params p;
    struct als_failure fail;
    als_params_default(&p, implicit);
    p.k = k;
    p.biases = biases;
    p.solver = train_solver;
    p.lambda = implicit ? 0.1 : 0.05;
    p.alpha = 2.0;
    p.threads = 1;
    T_OK(model_new(&m, FU, FI, k, implicit, biases, &d));
    als_init_rows(m, 0, 0, 3);
    als_init_rows(m, 1, 0, 3);
    if (biases)
        m->mu = als_mean(c);
    for (int it = 0; it < 3; it++) {
        T_OK(als_half_step(&p, c, m, 0, 0, FU, &fail, &d));
        T_OK(als_half_step(&p, c, m, 1, 0, FI, &fail, &d));
    }
    /* the fold-in is always one exact solve: compare with the Cholesky half-step */
    struct als_params pc = p;
    pc.solver = ALS_SOLVER_CHOLESKY;
    struct als_foldin f;
    T_OK(als_foldin_init(&f, &p, m, &d));
    float x[32], keep[32], kb = 0, bias = -99.0f;
    int bitwise = 1;
    for (uint64_t u = 0; u < FU; u++) {
        const uint32_t *idx;
        const float *val;
        uint64_t n;
        T_OK(csr_row(&c->r, u, &idx, &val, &n));
        memset(x, 0xff, sizeof x);
        bias = -99.0f;
        T_OK(als_foldin_user(&f, idx, val, n, x, biases ? &bias : NULL));
        /* the training solve of the same row (the other side fixed), then restore it */
        memcpy(keep, m->U + u * k, k * sizeof *keep);
        if (biases)
            kb = m->ub[u];
        T_OK(als_half_step(&pc, c, m, 0, u, u + 1, &fail, &d));
        double e = rel_diff(x, m->U + u * k, k);
        if (e > TOL_FOLDIN)
            T_FAIL("user %llu (%llu entries): fold-in differs from the half-step by %.3g",
                   (unsigned long long)u, (unsigned long long)n, e);
        bitwise &= memcmp(x, m->U + u * k, k * sizeof *x) == 0;
        if (biases) {
            double den = fabs((double)m->ub[u]) > 1e-3 ? fabs((double)m->ub[u]) : 1e-3;
            if (!(fabs((double)bias - (double)m->ub[u]) / den <= TOL_FOLDIN))
                T_FAIL("user %llu: fold-in bias %.9g, half-step %.9g", (unsigned long long)u,
                       (double)bias, (double)m->ub[u]);
            bitwise &= bias == m->ub[u];
        }
        memcpy(m->U + u * k, keep, k * sizeof *keep);
        if (biases)
            m->ub[u] = kb;
    }
    printf("# fold-in %s%s k=%u: %s the half-step\n", implicit ? "implicit" : "explicit",
           biases ? " with biases" : "", k, bitwise ? "bit-identical to" : "close to");
    /* a new user with user 0's history gets the same factors as user 0's own solve */
    {
        const uint32_t *idx;
        const float *val;
        uint64_t n;
        float y[32], yb = 0;
        T_OK(csr_row(&c->r, 0, &idx, &val, &n));
        T_TRUE(n > 5);
        uint32_t *ci = malloc(n * sizeof *ci);
        float *cv = malloc(n * sizeof *cv);
        memcpy(ci, idx, n * sizeof *ci);
        memcpy(cv, val, n * sizeof *cv);
        T_OK(als_foldin_user(&f, ci, cv, n, x, biases ? &bias : NULL));
        T_OK(als_foldin_user(&f, idx, val, n, y, biases ? &yb : NULL));
        T_TRUE(memcmp(x, y, k * sizeof *x) == 0);
        free(ci);
        free(cv);
    }
    /* an empty history: explicit gives zeros; implicit solves to zeros too */
    memset(x, 0xff, sizeof x);
    bias = -99.0f;
    T_OK(als_foldin_user(&f, NULL, NULL, 0, x, biases ? &bias : NULL));
    for (uint32_t j = 0; j < k; j++)
        T_NEAR((double)x[j], 0.0, 1e-12);
    if (biases)
        T_NEAR((double)bias, 0.0, 1e-12);
    als_foldin_release(&f);
    model_free(m);
    csr_free(c);
}

TEST(foldin_equals_the_half_step_implicit)
{
    foldin_case(1, 0, 8, ALS_SOLVER_CHOLESKY);
    foldin_case(1, 0, 13, ALS_SOLVER_CHOLESKY);
}

TEST(foldin_equals_the_cholesky_half_step_for_a_cg_trained_model)
{
    foldin_case(1, 0, 10, ALS_SOLVER_CG);
}

TEST(foldin_equals_the_half_step_explicit_with_biases)
{
    foldin_case(0, 1, 8, ALS_SOLVER_CHOLESKY);
    foldin_case(0, 1, 5, ALS_SOLVER_CHOLESKY);
}

TEST(foldin_equals_the_half_step_explicit_without_biases)
{
    foldin_case(0, 0, 6, ALS_SOLVER_CHOLESKY);
}
