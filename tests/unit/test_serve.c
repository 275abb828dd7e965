/* SPDX-License-Identifier: MIT */
/* test_serve: serve_open/serve_run on a tiny hand-made model, vocabulary and CSR against
 * brute force: top-k by dot product without seen items, include_seen, exclude/only, each
 * cold policy, fold-in against als_foldin_user, similar against cosine, --all, and the
 * output order for thousands of queries with 1 and 2 threads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "als.h"
#include "csr.h"
#include "diag.h"
#include "model.h"
#include "serve.h"
#include "vocabdir.h"
#include "zio.h"

#include "t.h"
#include "fixtures.h"
#include "scratch.h"

/*
 * The fixture: users u0..u5 and items i0..i10 in the vocabulary; the model (k 3) has
 * 6 users and 10 items: u5's row is zero (no factors), i9's row is zero, and i10 is newer
 * than the model. The CSR gives the seen items and the popularity (item counts with ties
 * to break by index). Factors come from a fixed seed: no two scores of a query are closer
 * than the float noise, so the brute force's order is the only right one.
 */
enum { NU = 6, NI = 10, NVI = 11, K = 3 };
#define TOL 1e-5

static const struct ent hist_ents[] = {
    { 0, 1, 1 }, { 0, 4, 2 }, { 0, 7, 1 },  { 1, 1, 3 }, { 1, 2, 1 }, { 2, 0, 1 },
    { 2, 1, 1 }, { 2, 8, 5 }, { 3, 3, 1 },  { 3, 1, 1 }, { 5, 2, 1 }, { 5, 6, 1 },
    { 4, 6, 1 }, { 1, 6, 1 }, { 3, 8, 1 }, { 0, 5, 1 },
};

static struct model *fx_m;  /* the implicit model, as saved */
static struct csr *fx_csr;  /* the history, as saved */
static const char *p_model, *p_xmodel, *p_vocab, *p_csr, *p_excl, *p_only, *p_log;

static float
rnd_sym(uint64_t *s) /* [-1, 1) */
{
    return (float)(2.0 * (double)(rnd(s) >> 11) * (1.0 / 9007199254740992.0) - 1.0);
}

static void
write_file(const char *path, const char *text)
{
    if (spit(path, text, strlen(text)) < 0)
        abort();
}

static void
fixture(void)
{
    struct diag d = { 0 };
    if (fx_m)
        return;
    p_model = tpath("m.als");
    p_xmodel = tpath("x.als");
    p_vocab = tpath("v");
    p_csr = tpath("h.csr");
    p_excl = tpath("excl.txt");
    p_only = tpath("only.txt");
    p_log = tpath("log.csv");
    struct vocabdir v;
    vocabdir_init(&v);
    v.path = strdup(p_vocab);
    if (vocab_clear(&v.users) < 0 || vocab_clear(&v.items) < 0)
        abort();
    char id[16];
    uint32_t idx;
    int added;
    for (int u = 0; u < NU; u++) {
        snprintf(id, sizeof id, "u%d", u);
        if (vocab_intern(&v.users, id, strlen(id), &idx, &added, &d) < 0)
            abort();
    }
    for (int i = 0; i < NVI; i++) {
        snprintf(id, sizeof id, "i%d", i);
        if (vocab_intern(&v.items, id, strlen(id), &idx, &added, &d) < 0)
            abort();
    }
    strcpy(v.spec.delim, ",");
    v.spec.header = 0;
    if (vocabdir_save(&v, &d) < 0) {
        printf("# vocabdir_save: %s\n", d.msg);
        abort();
    }
    vocabdir_release(&v);

    float U[NU * K], V[NI * K];
    uint64_t s = 7;
    for (int t = 0; t < NU * K; t++)
        U[t] = t / K == 5 ? 0.0f : rnd_sym(&s);
    for (int t = 0; t < NI * K; t++)
        V[t] = t / K == 9 ? 0.0f : rnd_sym(&s);
    fx_m = model_of(NU, NI, K, 0, U, V);
    fx_m->params.alpha = 2.0;
    fx_m->params.lambda = 0.5;
    fx_m->params.has |= MODEL_HAS_ALPHA | MODEL_HAS_LAMBDA;
    if (model_save(fx_m, p_model, &d) < 0)
        abort();
    /* An explicit model with biases, the same factors. */
    struct model *x = model_of(NU, NI, K, 1, U, V);
    x->mu = 3.5;
    for (int u = 0; u < NU; u++)
        x->ub[u] = 0.25f * rnd_sym(&s);
    for (int i = 0; i < NI; i++)
        x->ib[i] = 0.75f * rnd_sym(&s);
    if (model_save(x, p_xmodel, &d) < 0)
        abort();
    model_free(x);

    fx_csr = csr_of(hist_ents, sizeof hist_ents / sizeof hist_ents[0], NU, NVI);
    if (csr_save(fx_csr, p_csr, &d) < 0)
        abort();
    write_file(p_excl, "i3\ni0\r\nnope\n\ni7\n");
    write_file(p_only, "i2\ni3\ni5\ni8\ni9\ni10\nzz\n");
    /* u1 and newbie get fold-ins; zz is not in the vocabulary, i10 not in the model. */
    write_file(p_log, "u1,i0,3\nu1,i4,1\nnewbie,i6,1\nnewbie,zz,5\nnewbie,i2,2\n"
                      "newbie,i10,4\nnewbie,i2,1.5\n");
}

__attribute__((destructor)) static void
fixture_free(void)
{
    model_free(fx_m);
    csr_free(fx_csr);
}

static struct serve_opts
opts(unsigned k)
{
    fixture();
    struct serve_opts o = { 0 };
    o.model = p_model;
    o.vocab = p_vocab;
    o.csr = p_csr;
    o.k = k;
    o.threads = 1;
    return o;
}

/* serve_open and serve_run with o on q into a file; its bytes (NUL-terminated, the caller
 * frees them) or NULL with *rc and d set when a call failed. */
static char *
serve(const struct serve_opts *o, const struct serve_queries *q, struct serve_stats *st,
      int *rc, struct diag *d)
{
    struct serve *s;
    struct zio_out out;
    const char *path = tpath("out.txt");
    memset(st, 0, sizeof *st);
    if ((*rc = serve_open(&s, o, st, d)) < 0)
        return NULL;
    if ((*rc = zio_out_open(&out, path, d)) < 0) {
        serve_close(s);
        return NULL;
    }
    *rc = serve_run(s, q, &out, st, d);
    if (*rc == 0)
        *rc = zio_out_commit(&out, d);
    zio_out_abort(&out);
    serve_close(s);
    if (*rc < 0)
        return NULL;
    size_t len;
    return (char *)slurp(path, &len);
}

/* Queries given as IDs. */
static struct serve_queries
ids(const char *const *v, size_t n)
{
    struct serve_queries q = { 0 };
    q.ids = v;
    q.n = n;
    return q;
}

/* One parsed TSV line. */
struct line {
    char q[32], item[32], src[16];
    double score;
    unsigned rank;
};

/* Parse the TSV text into lines (4 or 5 fields); returns how many. */
static size_t
parse(const char *text, struct line *l, size_t max)
{
    size_t n = 0;
    for (const char *p = text; *p && n < max;) {
        const char *e = strchr(p, '\n');
        char buf[256];
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= sizeof buf)
            abort();
        memcpy(buf, p, len);
        buf[len] = '\0';
        memset(&l[n], 0, sizeof l[n]);
        int f = sscanf(buf, "%31[^\t]\t%31[^\t]\t%lf\t%u\t%15s", l[n].q, l[n].item, &l[n].score,
                       &l[n].rank, l[n].src);
        if (f < 4)
            abort();
        n++;
        p = e ? e + 1 : p + len;
    }
    return n;
}

static int
item_of(const char *id)
{
    return id[0] == 'i' ? atoi(id + 1) : -1;
}

/* ---- the brute force ---- */

static const double *ref_s;

static int
ref_cmp(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    if (ref_s[a] != ref_s[b])
        return ref_s[a] > ref_s[b] ? -1 : 1;
    return (a > b) - (a < b);
}

/* The top k of the items not in out_of (NI flags, or NULL) by the double scores sc,
 * higher first, ties to the lower index; returns how many. */
static size_t
ref_rank(const double *sc, const unsigned char *out_of, unsigned k, int *want)
{
    int all[NI];
    size_t n = 0;
    for (int i = 0; i < NI; i++)
        if (!out_of || !out_of[i])
            all[n++] = i;
    ref_s = sc;
    qsort(all, n, sizeof *all, ref_cmp);
    size_t got = n < k ? n : k;
    memcpy(want, all, got * sizeof *want);
    return got;
}

static void
dot_scores(const struct model *m, const float *x, double *sc)
{
    for (int i = 0; i < NI; i++) {
        double s = 0;
        for (int j = 0; j < K; j++)
            s += (double)x[j] * (double)m->V[i * K + j];
        sc[i] = s;
    }
}

/* The CSR row of user u as flags. */
static void
seen_of(int u, unsigned char *flags)
{
    memset(flags, 0, NI);
    for (uint64_t p = fx_csr->r.ptr[u]; p < fx_csr->r.ptr[u + 1]; p++)
        if (fx_csr->r.idx[p] < NI)
            flags[fx_csr->r.idx[p]] = 1;
}

/* Do the lines l[0..n) for query q say items want[0..nw) with scores sc? */
static int
same_answer(const struct line *l, size_t n, const char *q, const int *want, size_t nw,
            const double *sc)
{
    if (n != nw) {
        printf("#   %s: %zu lines, expected %zu\n", q, n, nw);
        return 0;
    }
    for (size_t r = 0; r < n; r++) {
        if (strcmp(l[r].q, q) || item_of(l[r].item) != want[r] || l[r].rank != r + 1 ||
            fabs(l[r].score - sc[want[r]]) > TOL * (1 + fabs(sc[want[r]]))) {
            printf("#   %s rank %zu: %s %s %g %u, expected i%d %g\n", q, r + 1, l[r].q,
                   l[r].item, l[r].score, l[r].rank, want[r], sc[want[r]]);
            return 0;
        }
    }
    return 1;
}

/* ---- known users ---- */

/* Every user with factors, one query at a time: the answer is the brute force. */
static void
check_known_users(unsigned k, int include_seen, const char *excl, const char *only)
{
    struct serve_opts o = opts(k);
    o.include_seen = include_seen;
    o.exclude = excl;
    o.only = only;
    unsigned char mask[NI] = { 0 };
    if (excl)
        mask[0] = mask[3] = mask[7] = 1;
    if (only)
        for (int i = 0; i < NI; i++)
            mask[i] |= !(i == 2 || i == 3 || i == 5 || i == 8 || i == 9);
    for (int u = 0; u < 5; u++) {
        char id[16];
        snprintf(id, sizeof id, "u%d", u);
        const char *q1[] = { id };
        struct serve_queries q = ids(q1, 1);
        struct serve_stats st;
        struct diag d = { 0 };
        int rc;
        char *out = serve(&o, &q, &st, &rc, &d);
        T_OK(rc);
        if (!out)
            return;
        struct line l[NI + 1];
        size_t n = parse(out, l, NI + 1);
        double sc[NI];
        int want[NI];
        unsigned char drop[NI];
        dot_scores(fx_m, fx_m->U + u * K, sc);
        if (include_seen)
            memset(drop, 0, NI);
        else
            seen_of(u, drop);
        for (int i = 0; i < NI; i++)
            drop[i] |= mask[i];
        size_t nw = ref_rank(sc, drop, k, want);
        T_TRUE(same_answer(l, n, id, want, nw, sc));
        T_EQ_U64(st.answered, 1);
        T_EQ_U64(st.skipped, 0);
        T_EQ_U64(st.exclude_unknown, excl ? 1 : 0);
        T_EQ_U64(st.only_unknown, only ? 1 : 0);
        free(out);
    }
}

TEST(known_user_top_k_is_the_dot_product_ranking_without_seen_items)
{
    check_known_users(4, 0, NULL, NULL);
    check_known_users(1, 0, NULL, NULL);
    /* k above the candidates: every unseen item. */
    check_known_users(20, 0, NULL, NULL);
}

TEST(include_seen_ranks_every_item)
{
    check_known_users(4, 1, NULL, NULL);
    check_known_users(20, 1, NULL, NULL);
}

TEST(exclude_and_only_lists_mask_items_and_count_unknown_ids)
{
    check_known_users(4, 0, p_excl, NULL);
    check_known_users(20, 0, NULL, p_only);
    check_known_users(20, 0, p_excl, p_only);
    check_known_users(20, 1, p_excl, p_only);
}

TEST(explicit_model_scores_are_mu_plus_biases_plus_dot)
{
    struct serve_opts o = opts(5);
    o.model = p_xmodel;
    o.format = SERVE_TSV;
    struct model *x;
    struct diag d = { 0 };
    T_OK(model_open(&x, p_xmodel, 0, &d));
    for (int u = 0; u < 5; u++) {
        char id[16];
        snprintf(id, sizeof id, "u%d", u);
        const char *q1[] = { id };
        struct serve_queries q = ids(q1, 1);
        struct serve_stats st;
        int rc;
        char *out = serve(&o, &q, &st, &rc, &d);
        T_OK(rc);
        if (!out)
            break;
        struct line l[NI + 1];
        size_t n = parse(out, l, NI + 1);
        double sc[NI];
        int want[NI];
        unsigned char drop[NI];
        dot_scores(x, x->U + u * K, sc);
        for (int i = 0; i < NI; i++)
            sc[i] += x->mu + (double)x->ub[u] + (double)x->ib[i];
        seen_of(u, drop);
        size_t nw = ref_rank(sc, drop, 5, want);
        T_TRUE(same_answer(l, n, id, want, nw, sc));
        free(out);
    }
    model_free(x);
}

/* ---- cold users ---- */

/* Items by CSR count desc, index asc, not in drop; into want with the counts in sc. */
static size_t
popular_ref(const unsigned char *drop, unsigned k, int *want, double *sc)
{
    for (int i = 0; i < NI; i++)
        sc[i] = (double)(fx_csr->t.ptr[i + 1] - fx_csr->t.ptr[i]);
    return ref_rank(sc, drop, k, want);
}

TEST(cold_skip_answers_nothing_and_counts)
{
    struct serve_opts o = opts(3);
    const char *v[] = { "nobody", "u5", "u2", "i1" };
    struct serve_queries q = ids(v, 4);
    struct serve_stats st;
    struct diag d = { 0 };
    int rc;
    char *out = serve(&o, &q, &st, &rc, &d);
    T_OK(rc);
    struct line l[8];
    size_t n = out ? parse(out, l, 8) : 0;
    T_EQ_U64(n, 3);
    for (size_t r = 0; r < n; r++)
        T_EQ_STR(l[r].q, "u2");
    T_EQ_U64(st.answered, 1);
    T_EQ_U64(st.skipped, 3);
    T_EQ_U64(st.popular, 0);
    free(out);
}

TEST(cold_popular_answers_by_training_count_without_seen_and_masked_items)
{
    struct serve_opts o = opts(4);
    o.cold = SERVE_COLD_POPULAR;
    o.explain = 1;
    o.exclude = p_excl;
    const char *v[] = { "nobody", "u5", "u2" };
    struct serve_queries q = ids(v, 3);
    struct serve_stats st;
    struct diag d = { 0 };
    int rc;
    char *out = serve(&o, &q, &st, &rc, &d);
    T_OK(rc);
    if (!out)
        return;
    struct line l[16];
    size_t n = parse(out, l, 16);
    unsigned char drop[NI] = { 0 };
    int want[NI];
    double sc[NI];
    drop[0] = drop[3] = drop[7] = 1;
    /* nobody: unknown, nothing seen; the counts have ties (going by index). */
    size_t nw = popular_ref(drop, 4, want, sc);
    T_TRUE(n >= nw && same_answer(l, nw, "nobody", want, nw, sc));
    /* u5: in the vocabulary without factors; its CSR items (i2, i6) are seen, though
     * the popularity list reaches i6 before i2. */
    unsigned char seen5[NI];
    seen_of(5, seen5);
    for (int i = 0; i < NI; i++)
        seen5[i] |= drop[i];
    int want5[NI];
    size_t nw5 = popular_ref(seen5, 4, want5, sc);
    T_TRUE(n >= nw + nw5 && same_answer(l + nw, nw5, "u5", want5, nw5, sc));
    for (size_t r = 0; r < nw + nw5 && r < n; r++)
        T_EQ_STR(l[r].src, "popular");
    /* u2 keeps its model answer. */
    T_EQ_U64(n, nw + nw5 + 4);
    for (size_t r = nw + nw5; r < n; r++) {
        T_EQ_STR(l[r].q, "u2");
        T_EQ_STR(l[r].src, "model");
    }
    T_EQ_U64(st.answered, 3);
    T_EQ_U64(st.popular, 2);
    T_EQ_U64(st.skipped, 0);
    free(out);
}

TEST(cold_fail_fails_naming_the_query)
{
    struct serve_opts o = opts(3);
    o.cold = SERVE_COLD_FAIL;
    const char *v[] = { "u1", "no\tbody", "u2" };
    struct serve_queries q = ids(v, 3);
    struct serve_stats st;
    struct diag d = { 0 };
    int rc;
    char *out = serve(&o, &q, &st, &rc, &d);
    T_TRUE(out == NULL);
    T_EQ_INT(rc, ALS_ERANGE);
    T_EQ_STR(d.msg, "user 'no\\tbody' is unknown or has no factors (--cold fail)");
    const char *v5[] = { "u5" };
    q = ids(v5, 1);
    out = serve(&o, &q, &st, &rc, &d);
    T_EQ_INT(rc, ALS_ERANGE);
    T_EQ_STR(d.msg, "user 'u5' is unknown or has no factors (--cold fail)");
    free(out);
    /* Known users only: no failure. */
    const char *ok[] = { "u1", "u2" };
    q = ids(ok, 2);
    out = serve(&o, &q, &st, &rc, &d);
    T_OK(rc);
    T_EQ_U64(st.answered, 2);
    free(out);
}

TEST(an_id_of_the_other_side_is_counted_and_named_as_swapped)
{
    struct serve_opts o = opts(3);
    const char *v[] = { "i3", "u1", "nobody", "i\t7", "i4", "u5" };
    struct serve_queries q = ids(v, 6);
    struct serve_stats st;
    struct diag d = { 0 };
    int rc;
    char *out = serve(&o, &q, &st, &rc, &d);
    T_OK(rc);
    /* i3 and i4 are item IDs; nobody, i<TAB>7 and u5 (known, no factors) are not. */
    T_EQ_U64(st.skipped, 5);
    T_EQ_U64(st.swapped, 2);
    T_EQ_STR(st.swapped_id, "i3");
    free(out);
    /* --cold fail says so instead of a bare "unknown". */
    o.cold = SERVE_COLD_FAIL;
    const char *v4[] = { "u1", "i4" };
    q = ids(v4, 2);
    out = serve(&o, &q, &st, &rc, &d);
    T_EQ_INT(rc, ALS_ERANGE);
    T_EQ_STR(d.msg, "user 'i4' is unknown (--cold fail): 'i4' is an item ID, not a user ID: "
                    "swapped columns?");
    free(out);
    /* --cold popular answers them and still counts them. */
    o.cold = SERVE_COLD_POPULAR;
    out = serve(&o, &q, &st, &rc, &d);
    T_OK(rc);
    T_EQ_U64(st.popular, 1);
    T_EQ_U64(st.swapped, 1);
    T_EQ_STR(st.swapped_id, "i4");
    free(out);
    /* similar: a user ID as an item; an item without factors (i9) is not swapped. */
    o = opts(3);
    o.csr = NULL;
    o.similar = 1;
    const char *vs[] = { "u2", "i1", "i9" };
    q = ids(vs, 3);
    out = serve(&o, &q, &st, &rc, &d);
    T_OK(rc);
    T_EQ_U64(st.answered, 1);
    T_EQ_U64(st.skipped, 2);
    T_EQ_U64(st.swapped, 1);
    T_EQ_STR(st.swapped_id, "u2");
    free(out);
    o.cold = SERVE_COLD_FAIL;
    q = ids(vs, 1);
    out = serve(&o, &q, &st, &rc, &d);
    T_EQ_INT(rc, ALS_ERANGE);
    T_EQ_STR(d.msg, "item 'u2' is unknown (--cold fail): 'u2' is a user ID, not an item ID: "
                    "swapped columns?");
    free(out);
}

TEST(cold_popular_needs_a_csr)
{
    struct serve_opts o = opts(3);
    o.csr = NULL;
    o.cold = SERVE_COLD_POPULAR;
    struct serve *s;
    struct serve_stats st = { 0 };
    struct diag d = { 0 };
    T_EQ_INT(serve_open(&s, &o, &st, &d), ALS_EUSAGE);
    T_TRUE(s == NULL);
}

/* ---- fold-in ---- */

TEST(history_users_get_als_foldin_user_factors_and_their_ranking)
{
    struct serve_opts o = opts(20);
    o.history = p_log;
    o.explain = 1;
    const char *v[] = { "u1", "newbie", "u2" };
    struct serve_queries q = ids(v, 3);
    struct serve_stats st;
    struct diag d = { 0 };
    int rc;
    char *out = serve(&o, &q, &st, &rc, &d);
    T_OK(rc);
    if (!out) {
        printf("# %s\n", d.msg);
        return;
    }
    T_EQ_U64(st.history_unknown, 1); /* zz */
    T_EQ_U64(st.history_newer, 1);   /* i10 */
    T_EQ_U64(st.foldin, 2);
    T_EQ_U64(st.answered, 3);

    /* The reference: the training system's solve with the model's alpha and lambda. */
    struct als_params p;
    als_params_default(&p, 1);
    p.k = K;
    p.alpha = 2.0;
    p.lambda = 0.5;
    struct als_foldin f;
    T_OK(als_foldin_init(&f, &p, fx_m, &d));
    static const uint32_t items1[] = { 0, 4 }, itemsn[] = { 2, 6 };
    static const float vals1[] = { 3, 1 }, valsn[] = { 3.5f, 1 }; /* i2: 2 + 1.5 */
    float x1[K], xn[K], b;
    T_OK(als_foldin_user(&f, items1, vals1, 2, x1, &b));
    T_OK(als_foldin_user(&f, itemsn, valsn, 2, xn, &b));
    als_foldin_release(&f);

    struct line l[3 * NI];
    size_t n = parse(out, l, 3 * NI);
    double sc[NI];
    int want[NI];
    unsigned char drop[NI];
    /* u1: its CSR row and the history's items are seen. */
    dot_scores(fx_m, x1, sc);
    seen_of(1, drop);
    drop[0] = drop[4] = 1;
    size_t nw = ref_rank(sc, drop, 20, want);
    T_TRUE(n >= nw && same_answer(l, nw, "u1", want, nw, sc));
    for (size_t r = 0; r < nw && r < n; r++)
        T_EQ_STR(l[r].src, "foldin");
    /* newbie: new to the vocabulary; only the history's items are seen. */
    dot_scores(fx_m, xn, sc);
    memset(drop, 0, NI);
    drop[2] = drop[6] = 1;
    size_t nwn = ref_rank(sc, drop, 20, want);
    T_TRUE(n >= nw + nwn && same_answer(l + nw, nwn, "newbie", want, nwn, sc));
    for (size_t r = nw; r < nw + nwn && r < n; r++)
        T_EQ_STR(l[r].src, "foldin");
    /* u2 is not in the history: the model's row. */
    T_TRUE(n > nw + nwn && !strcmp(l[nw + nwn].q, "u2") && !strcmp(l[nw + nwn].src, "model"));
    free(out);
}

/* ---- similar ---- */

TEST(similar_is_the_cosine_ranking_without_the_item_itself)
{
    struct serve_opts o = opts(4);
    o.csr = NULL;
    o.similar = 1;
    for (int qi = 0; qi < NI; qi++) {
        char id[16];
        snprintf(id, sizeof id, "i%d", qi);
        const char *q1[] = { id };
        struct serve_queries q = ids(q1, 1);
        struct serve_stats st;
        struct diag d = { 0 };
        int rc;
        char *out = serve(&o, &q, &st, &rc, &d);
        T_OK(rc);
        if (!out)
            return;
        struct line l[NI];
        size_t n = parse(out, l, NI);
        if (qi == 9) { /* no factors: cold, skipped */
            T_EQ_U64(n, 0);
            T_EQ_U64(st.skipped, 1);
            free(out);
            continue;
        }
        const float *y = fx_m->V + qi * K;
        double sc[NI], ny = 0;
        for (int j = 0; j < K; j++)
            ny += (double)y[j] * (double)y[j];
        for (int i = 0; i < NI; i++) {
            double dt = 0, nz = 0;
            for (int j = 0; j < K; j++) {
                dt += (double)y[j] * (double)fx_m->V[i * K + j];
                nz += (double)fx_m->V[i * K + j] * (double)fx_m->V[i * K + j];
            }
            sc[i] = nz > 0 ? dt / sqrt(ny * nz) : 0.0;
        }
        unsigned char drop[NI] = { 0 };
        drop[qi] = 1;
        int want[NI];
        size_t nw = ref_rank(sc, drop, 4, want);
        T_TRUE(same_answer(l, n, id, want, nw, sc));
        free(out);
    }
}

/* ---- order, chunks and threads ---- */

TEST(all_is_every_user_with_factors_in_index_order)
{
    struct serve_opts o = opts(2);
    struct serve_queries q = { 0 };
    q.all = 1;
    struct serve_stats st;
    struct diag d = { 0 };
    int rc;
    char *out = serve(&o, &q, &st, &rc, &d);
    T_OK(rc);
    struct line l[16];
    size_t n = out ? parse(out, l, 16) : 0;
    T_EQ_U64(n, 10);
    for (size_t r = 0; r < n; r++) {
        char id[24];
        snprintf(id, sizeof id, "u%zu", r / 2);
        T_EQ_STR(l[r].q, id);
    }
    T_EQ_U64(st.skipped, 1); /* u5 */
    free(out);
}

/* The "user" values of JSON lines, in order, joined by spaces. */
static char *
json_users(const char *text)
{
    size_t cap = strlen(text) + 1, w = 0;
    char *o = malloc(cap);
    for (const char *p = text; (p = strstr(p, "{\"user\":\"")); ) {
        p += 9;
        const char *e = strchr(p, '"');
        if (w)
            o[w++] = ' ';
        memcpy(o + w, p, (size_t)(e - p));
        w += (size_t)(e - p);
        p = e;
    }
    o[w] = '\0';
    return o;
}

TEST(thousands_of_queries_come_out_in_input_order_the_same_for_1_and_2_threads)
{
    /* 9000 lines (three chunks) from a file, CRLF and empty lines among them; known,
     * cold and folded-in users mixed. */
    static const char *const pool[] = { "u0", "u1", "u2", "nobody", "u3", "u4",
                                        "newbie", "u5", "u1", "u3" };
    const char *in = tpath("queries.txt");
    size_t cap = 9000 * 12, w = 0, ew = 0;
    char *text = malloc(cap), *expect = malloc(cap);
    uint64_t s = 11;
    for (int t = 0; t < 9000; t++) {
        const char *u = pool[rnd(&s) % 10];
        w += (size_t)sprintf(text + w, "%s%s", u, t % 7 == 3 ? "\r\n" : "\n");
        if (t % 100 == 50)
            text[w++] = '\n';
        if (strcmp(u, "nobody") && strcmp(u, "u5"))
            ew += (size_t)sprintf(expect + ew, "%s%s", ew ? " " : "", u);
    }
    text[w] = '\0';
    write_file(in, text);
    char *got[2] = { NULL, NULL };
    struct serve_stats st[2];
    for (int th = 0; th < 2; th++) {
        struct serve_opts o = opts(3);
        o.threads = (unsigned)th + 1;
        o.history = p_log;
        o.format = SERVE_JSON;
        o.explain = 1;
        struct serve_queries q = { 0 };
        q.path = in;
        struct diag d = { 0 };
        int rc;
        got[th] = serve(&o, &q, &st[th], &rc, &d);
        T_OK(rc);
    }
    if (got[0] && got[1]) {
        T_TRUE(strcmp(got[0], got[1]) == 0);
        char *users = json_users(got[0]);
        T_TRUE(strcmp(users, expect) == 0);
        free(users);
        T_EQ_U64(st[0].answered + st[0].skipped, 9000);
        T_EQ_U64(st[0].answered, st[1].answered);
        T_EQ_U64(st[0].foldin, st[1].foldin);
        T_TRUE(st[0].foldin > 0 && st[0].skipped > 0);
    }
    free(got[0]);
    free(got[1]);
    free(text);
    free(expect);
}

TEST(a_missing_file_fails_naming_it)
{
    struct serve_opts o = opts(3);
    o.exclude = tpath("no-such-list.txt");
    struct serve *s;
    struct serve_stats st = { 0 };
    struct diag d = { 0 };
    T_EQ_INT(serve_open(&s, &o, &st, &d), ALS_EIO);
    T_TRUE(s == NULL);
    T_TRUE(strstr(d.msg, "no-such-list.txt") != NULL);
    o = opts(3);
    o.model = tpath("no-such.als");
    T_TRUE(serve_open(&s, &o, &st, &d) < 0);
    T_TRUE(strstr(d.msg, "no-such.als") != NULL);
}
