/* SPDX-License-Identifier: MIT */
/* test_guard: split identities, shared entries counted by hand, and each refusal of
 * guard_check with the pairing that passes beside it. */
#include <string.h>

#include "csr.h"
#include "guard.h"
#include "model.h"

#include "fixtures.h"
#include "scratch.h"
#include "t.h"

/* 4 users x 5 items, every user with 3 entries: a split leaves out one per user. */
static const struct ent whole[] = {
    { 0, 0, 1 }, { 0, 2, 2 }, { 0, 4, 1 }, { 1, 1, 3 }, { 1, 2, 1 }, { 1, 3, 2 },
    { 2, 0, 1 }, { 2, 3, 1 }, { 2, 4, 5 }, { 3, 1, 2 }, { 3, 2, 2 }, { 3, 4, 1 },
};
#define NW (sizeof whole / sizeof whole[0])

static void
split_of(const struct csr *a, uint64_t seed, struct csr **tr, struct csr **te)
{
    struct csr_split_opts o = { .mode = CSR_SPLIT_LEAVE_OUT, .count = 1, .seed = seed };
    struct diag d = { 0 };
    if (csr_split(a, NULL, &o, tr, te, &d) < 0)
        abort();
}

TEST(content_id_is_the_same_in_memory_and_from_the_file)
{
    struct csr *a = csr_of(whole, NW, 4, 5), *b = NULL, *c = csr_of(whole, NW - 1, 4, 5);
    struct diag d = { 0 };
    T_OK(csr_save(a, tpath("a.csr"), &d));
    T_OK(csr_open(&b, tpath("a.csr"), AFILE_VERIFY, &d));
    if (b)
        T_EQ_U64(csr_content_id(b), csr_content_id(a));
    T_TRUE(csr_content_id(c) != csr_content_id(a)); /* one entry fewer */
    struct ent other[NW];
    memcpy(other, whole, sizeof other);
    other[3].v = 4; /* one value changed */
    struct csr *e = csr_of(other, NW, 4, 5);
    T_TRUE(csr_content_id(e) != csr_content_id(a));
    csr_free(a);
    csr_free(b);
    csr_free(c);
    csr_free(e);
}

TEST(both_sides_record_one_split_and_its_source)
{
    struct csr *a = csr_of(whole, NW, 4, 5), *tr, *te, *tr2, *te2, *tr3, *te3;
    split_of(a, 1, &tr, &te);
    split_of(a, 2, &tr2, &te2);
    split_of(a, 1, &tr3, &te3);
    struct csr_split_info x, y, z, w;
    csr_split_info(tr, &x);
    csr_split_info(te, &y);
    csr_split_info(te2, &z);
    csr_split_info(a, &w);
    T_EQ_INT(x.side, CSR_SIDE_TRAIN);
    T_EQ_INT(y.side, CSR_SIDE_TEST);
    T_EQ_INT(w.side, CSR_SIDE_NONE);
    T_EQ_U64(x.split_id, y.split_id);
    T_TRUE(x.split_id != 0 && z.split_id != x.split_id); /* another seed, another split */
    T_EQ_U64(x.source_id, csr_content_id(a));
    T_EQ_U64(z.source_id, x.source_id);
    T_TRUE(csr_equal(te, te3)); /* the same split again is the same split */
    csr_free(a);
    csr_free(tr);
    csr_free(te);
    csr_free(tr2);
    csr_free(te2);
    csr_free(tr3);
    csr_free(te3);
}

TEST(common_entries_counted_by_hand)
{
    static const struct ent b[] = { { 0, 2, 9 }, { 0, 3, 1 }, { 2, 4, 1 }, { 3, 0, 1 } };
    struct csr *x = csr_of(whole, NW, 4, 5), *y = csr_of(b, 4, 4, 5);
    T_EQ_U64(csr_common_entries(&x->r, &y->r), 2); /* (0,2) and (2,4); values do not matter */
    T_EQ_U64(csr_common_entries(&x->r, &x->r), NW);
    csr_free(x);
    csr_free(y);
}

/* A model as als-train records it: trained on t. */
static struct model *
trained_on(const struct csr *t)
{
    struct model *m = NULL;
    struct diag d = { 0 };
    if (model_new(&m, 4, 5, 2, 1, 0, &d) < 0)
        abort();
    struct csr_split_info si;
    csr_split_info(t, &si);
    model_set_source(m, "t.csr", t->r.nnz, afile_checksum(&t->file), NULL);
    m->params.data_id = csr_content_id(t);
    m->params.split_id = si.split_id;
    m->params.split_side = si.side;
    m->params.has |= MODEL_HAS_LINEAGE;
    return m;
}

static int
check(struct model *m, struct model *base, struct csr *tr, struct csr *te, struct diag *d)
{
    struct guard_files f = { m, base, tr, te, "m", "b", "tr", "te" };
    return guard_check(&f, d);
}

TEST(each_refusal_and_the_pairing_that_passes)
{
    struct csr *a = csr_of(whole, NW, 4, 5), *tr, *te, *tr2, *te2;
    split_of(a, 1, &tr, &te);
    split_of(a, 2, &tr2, &te2);
    struct model *good = trained_on(tr), *all = trained_on(a), *bad = trained_on(te),
                 *other = trained_on(tr2);
    struct diag d = { 0 };
    T_OK(check(good, NULL, tr, te, &d));
    T_OK(check(good, good, tr, te, &d));
    T_EQ_INT(check(good, NULL, te, tr, &d), ALS_ELEAK);
    T_TRUE(strstr(d.msg, "swapped?") != NULL);
    T_EQ_INT(check(good, NULL, tr2, te, &d), ALS_ELEAK);
    T_TRUE(strstr(d.msg, "different splits") != NULL);
    T_EQ_INT(check(good, NULL, a, te, &d), ALS_ELEAK);
    T_TRUE(strstr(d.msg, "holds 4 of the 4 entries") != NULL);
    T_EQ_INT(check(all, NULL, tr, te, &d), ALS_ELEAK);
    T_TRUE(strstr(d.msg, "whole matrix") != NULL);
    T_EQ_INT(check(bad, NULL, tr, te, &d), ALS_ELEAK);
    T_TRUE(strstr(d.msg, "test side") != NULL);
    T_EQ_INT(check(other, NULL, tr, te, &d), ALS_ELEAK);
    T_TRUE(strstr(d.msg, "not on '-c tr'") != NULL);
    T_EQ_INT(check(good, other, tr, te, &d), ALS_ELEAK);
    T_TRUE(strstr(d.msg, "--baseline 'b' was trained on another split") != NULL);
    T_EQ_INT(check(good, all, tr, te, &d), ALS_ELEAK);
    T_TRUE(strstr(d.msg, "--baseline 'b' was trained on the whole matrix") != NULL);
    /* A model that records nothing about its data cannot be trusted. */
    struct model *blank = NULL;
    T_OK(model_new(&blank, 4, 5, 2, 1, 0, &d));
    T_EQ_INT(check(blank, NULL, tr, te, &d), ALS_ELEAK);
    T_TRUE(strstr(d.msg, "records no training data") != NULL);
    /* ... but as a baseline (older, unsplit, unknown) it is let through. */
    T_OK(check(good, blank, tr, te, &d));
    model_free(blank);
    model_free(good);
    model_free(all);
    model_free(bad);
    model_free(other);
    csr_free(a);
    csr_free(tr);
    csr_free(te);
    csr_free(tr2);
    csr_free(te2);
}

/* A model written before models recorded their lineage: recognised by the checksum and
 * entry count of its training file. */
TEST(an_older_model_is_recognised_by_its_training_file)
{
    struct csr *a = csr_of(whole, NW, 4, 5), *tr, *te, *ftr = NULL, *fte = NULL;
    split_of(a, 1, &tr, &te);
    struct diag d = { 0 };
    T_OK(csr_save(tr, tpath("tr.csr"), &d));
    T_OK(csr_save(te, tpath("te.csr"), &d));
    T_OK(csr_open(&ftr, tpath("tr.csr"), AFILE_VERIFY, &d));
    T_OK(csr_open(&fte, tpath("te.csr"), AFILE_VERIFY, &d));
    struct model *m = NULL;
    T_OK(model_new(&m, 4, 5, 2, 1, 0, &d));
    if (ftr && fte && m) {
        model_set_source(m, "tr.csr", ftr->r.nnz, afile_checksum(&ftr->file), NULL);
        T_OK(check(m, NULL, ftr, fte, &d));
        m->params.data_checksum ^= 1;
        T_EQ_INT(check(m, NULL, ftr, fte, &d), ALS_ELEAK);
        T_TRUE(strstr(d.msg, "was trained on 'tr.csr'") != NULL);
    }
    model_free(m);
    csr_free(ftr);
    csr_free(fte);
    csr_free(a);
    csr_free(tr);
    csr_free(te);
}

/* A stable split: an entry's side depends on (seed, user, item) alone, so growing the
 * matrix (more users, more entries for old users) never moves an old entry to the other
 * side, and about the fraction of all entries is held out. */
TEST(stable_split_keeps_each_entry_on_its_side_as_the_matrix_grows)
{
    struct ent small[400], big[900];
    size_t ns = 0, nb = 0;
    uint64_t x = 12345;
    for (uint32_t u = 0; u < 60; u++)
        for (uint32_t i = 0; i < 40; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int in_small = u < 40 && (x >> 60) < 3, in_big = in_small || (x >> 58) < 9;
            if (in_small && ns < 400)
                small[ns++] = (struct ent){ u, i, 1.0f + (float)(i % 5) };
            if (in_big && nb < 900)
                big[nb++] = (struct ent){ u, i, 2.0f };
        }
    struct csr *a = csr_of(small, ns, 60, 40), *b = csr_of(big, nb, 60, 40);
    struct csr_split_opts o = { .mode = CSR_SPLIT_FRACTION, .fraction = 0.25, .seed = 3,
                                .stable = 1 };
    struct csr *atr, *ate, *btr, *bte;
    T_OK(csr_split(a, NULL, &o, &atr, &ate, NULL));
    T_OK(csr_split(b, NULL, &o, &btr, &bte, NULL));
    if (atr && ate && btr && bte) {
        /* every entry of the small matrix is on the same side in the big one's split */
        T_EQ_U64(csr_common_entries(&ate->r, &bte->r), ate->r.nnz);
        T_EQ_U64(csr_common_entries(&atr->r, &btr->r), atr->r.nnz);
        T_EQ_U64(csr_common_entries(&atr->r, &bte->r), 0);
        /* the held-out share is near the fraction (binomial: 4 sd of 900 entries) */
        double share = (double)bte->r.nnz / (double)b->r.nnz;
        T_TRUE(share > 0.25 - 4 * 0.0145 && share < 0.25 + 4 * 0.0145);
        struct csr_split_info ia, ib;
        csr_split_info(ate, &ia);
        csr_split_info(bte, &ib);
        T_TRUE(ia.family != 0 && ia.family == ib.family); /* one family ... */
        T_TRUE(ia.split_id != ib.split_id);              /* ... two splits */
        T_TRUE(strstr(ate->meta, "fraction 0.25, stable, seed 3") != NULL);
    }
    csr_free(atr), csr_free(ate), csr_free(btr), csr_free(bte);
    /* another seed, another family */
    o.seed = 4;
    T_OK(csr_split(a, NULL, &o, &atr, &ate, NULL));
    if (ate) {
        struct csr_split_info i4, i3;
        csr_split_info(ate, &i4);
        csr_free(atr), csr_free(ate);
        o.seed = 3;
        T_OK(csr_split(a, NULL, &o, &atr, &ate, NULL));
        csr_split_info(ate, &i3);
        T_TRUE(i4.family != i3.family);
        csr_free(atr), csr_free(ate);
    }
    csr_free(a);
    csr_free(b);
}
