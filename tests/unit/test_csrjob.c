/* SPDX-License-Identifier: MIT */
/* test_csrjob: als-csr's job on hand-made triples against a dense reference, its split,
 * --info and --dump output, and afile_verify_all finding the damaged section. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "csr.h"
#include "csrjob.h"
#include "diag.h"
#include "zio.h"

#include "t.h"
#include "scratch.h"

/* Hand-made text triples: repeats of (0,1), (2,0) and (1,3); (3,2) sums to 0. The
 * matrix is 4 x 4 (largest index + 1). */
static const struct {
    uint32_t u, i;
    float v;
} recs[] = {
    { 0, 1, 2 }, { 2, 0, 1 }, { 0, 1, 5 }, { 1, 3, 4 }, { 3, 2, 2 }, { 2, 0, 7 },
    { 0, 0, 3 }, { 1, 3, 1 }, { 3, 2, -2 }, { 0, 1, -1 }, { 2, 3, 0.5f },
};
enum { NREC = sizeof recs / sizeof recs[0], DIM = 4 };

static const char *
write_triples(void)
{
    const char *p = tpath("in.tsv");
    FILE *f = fopen(p, "w");
    for (int k = 0; f && k < NREC; k++)
        fprintf(f, "%u\t%u\t%g\n", recs[k].u, recs[k].i, (double)recs[k].v);
    if (!f || fclose(f) != 0)
        abort();
    return p;
}

/* The dense reference: every cell combined by policy, straight from the definition.
 * present[u][i] says whether the cell has a record. */
static void
dense_reference(int policy, double ref[DIM][DIM], int present[DIM][DIM])
{
    int count[DIM][DIM] = { { 0 } };
    memset(present, 0, sizeof(int) * DIM * DIM);
    for (int k = 0; k < NREC; k++) {
        uint32_t u = recs[k].u, i = recs[k].i;
        double v = (double)recs[k].v, *c = &ref[u][i];
        if (!count[u][i]++) {
            *c = v;
            continue;
        }
        switch (policy) {
        case CSR_DUP_SUM:
        case CSR_DUP_MEAN: *c += v; break;
        case CSR_DUP_MAX: *c = v > *c ? v : *c; break;
        case CSR_DUP_MIN: *c = v < *c ? v : *c; break;
        case CSR_DUP_FIRST: break;
        case CSR_DUP_LAST: *c = v; break;
        }
    }
    for (int u = 0; u < DIM; u++)
        for (int i = 0; i < DIM; i++) {
            present[u][i] = count[u][i] > 0;
            if (policy == CSR_DUP_MEAN && count[u][i])
                ref[u][i] /= count[u][i];
        }
}

/* m as a dense matrix; -1 in *bad when a cell appears twice. */
static void
densify(const struct csr_mat *m, double out[DIM][DIM], int present[DIM][DIM], int *bad)
{
    memset(present, 0, sizeof(int) * DIM * DIM);
    for (uint64_t r = 0; r < m->rows && r < DIM; r++)
        for (uint64_t k = m->ptr[r]; k < m->ptr[r + 1]; k++) {
            uint32_t c = m->idx[k];
            if (c >= DIM || present[r][c]) {
                *bad = -1;
                continue;
            }
            present[r][c] = 1;
            out[r][c] = (double)m->val[k];
        }
}

TEST(every_policy_equals_the_dense_reference)
{
    const char *in = write_triples(), *out = tpath("out.csr");
    for (int policy = CSR_DUP_SUM; policy <= CSR_DUP_LAST; policy++) {
        for (int drop = 0; drop < 2; drop++) {
            struct csrjob_opts o = { .input = in, .output = out, .policy = policy,
                                     .drop_zeros = drop };
            struct csrjob_stats st;
            struct diag d = { 0 };
            T_OK(csrjob_run(&o, &st, &d));
            double ref[DIM][DIM], r[DIM][DIM], t[DIM][DIM];
            int want[DIM][DIM], have[DIM][DIM], thave[DIM][DIM], bad = 0;
            dense_reference(policy, ref, want);
            uint64_t nnz = 0;
            for (int u = 0; u < DIM; u++)
                for (int i = 0; i < DIM; i++) {
                    if (drop && want[u][i] && ref[u][i] == 0)
                        want[u][i] = 0;
                    nnz += (uint64_t)want[u][i];
                }
            struct csr *c = NULL;
            T_OK(csr_open(&c, out, AFILE_VERIFY, &d));
            if (!c)
                continue;
            T_EQ_U64(c->r.rows, DIM);
            T_EQ_U64(c->r.cols, DIM);
            densify(&c->r, r, have, &bad);
            densify(&c->t, t, thave, &bad);
            T_EQ_INT(bad, 0);
            for (int u = 0; u < DIM; u++)
                for (int i = 0; i < DIM; i++) {
                    if (have[u][i] != want[u][i] || thave[i][u] != want[u][i]) {
                        T_FAIL("policy %d drop %d: cell (%d,%d) present %d, expected %d",
                               policy, drop, u, i, have[u][i], want[u][i]);
                        continue;
                    }
                    if (want[u][i]) {
                        T_NEAR(r[u][i], ref[u][i], 1e-6);
                        T_NEAR(t[i][u], ref[u][i], 1e-6);
                    }
                }
            T_EQ_U64(st.records, NREC);
            T_EQ_U64(st.rows, DIM);
            T_EQ_U64(st.cols, DIM);
            T_EQ_U64(st.nnz, nnz);
            T_EQ_U64(c->r.nnz, nnz);
            T_EQ_U64(st.train_nnz + st.test_nnz, 0);
            csr_free(c);
        }
    }
}

TEST(split_parts_are_disjoint_and_sum_to_the_whole)
{
    const char *in = write_triples();
    const char *all = tpath("all.csr"), *tr = tpath("train.csr"), *te = tpath("test.csr");
    struct csrjob_opts o = { .input = in, .output = all };
    struct csrjob_stats st, sst;
    struct diag d = { 0 };
    T_OK(csrjob_run(&o, &st, &d));
    o.output = tr;
    o.test = te;
    o.split = (struct csr_split_opts){ .mode = CSR_SPLIT_LEAVE_OUT, .count = 1, .seed = 7 };
    T_OK(csrjob_run(&o, &sst, &d));
    struct csr *a = NULL, *b = NULL, *c = NULL;
    T_OK(csr_open(&a, all, AFILE_VERIFY, &d));
    T_OK(csr_open(&b, tr, AFILE_VERIFY, &d));
    T_OK(csr_open(&c, te, AFILE_VERIFY, &d));
    if (!a || !b || !c)
        goto out;
    double va[DIM][DIM], vb[DIM][DIM], vc[DIM][DIM];
    int pa[DIM][DIM], pb[DIM][DIM], pc[DIM][DIM], bad = 0;
    densify(&a->r, va, pa, &bad);
    densify(&b->r, vb, pb, &bad);
    densify(&c->r, vc, pc, &bad);
    T_EQ_INT(bad, 0);
    for (int u = 0; u < DIM; u++) {
        int ntest = 0, nall = 0;
        for (int i = 0; i < DIM; i++) {
            T_TRUE(!(pb[u][i] && pc[u][i]));
            T_EQ_INT(pb[u][i] + pc[u][i], pa[u][i]);
            if (pb[u][i])
                T_NEAR(vb[u][i], va[u][i], 0);
            if (pc[u][i])
                T_NEAR(vc[u][i], va[u][i], 0);
            ntest += pc[u][i];
            nall += pa[u][i];
        }
        /* Leave one out, except a user's only interaction, which stays in training. */
        T_EQ_INT(ntest, nall > 1 ? 1 : 0);
    }
    /* Users 0 (cells 0 and 1), 1 (3), 2 (0 and 3), 3 (2): two have more than one. */
    T_EQ_U64(sst.test_nnz, 2);
    T_EQ_U64(sst.train_nnz, st.nnz - 2);
    T_EQ_U64(sst.nnz, st.nnz);
    T_EQ_U64(b->r.nnz, sst.train_nnz);
    T_EQ_U64(c->r.nnz, sst.test_nnz);
out:
    csr_free(a);
    csr_free(b);
    csr_free(c);
}

TEST(by_time_without_times_writes_nothing)
{
    const char *in = write_triples(), *tr = tpath("bt-train.csr"), *te = tpath("bt-test.csr");
    struct csrjob_opts o = { .input = in, .output = tr, .test = te };
    o.split = (struct csr_split_opts){ .mode = CSR_SPLIT_FRACTION, .fraction = 0.5,
                                       .by_time = 1 };
    struct csrjob_stats st;
    struct diag d = { 0 };
    T_EQ_INT(csrjob_run(&o, &st, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, "--by-time needs triples with a time column (als-map -t)");
    T_TRUE(access(tr, F_OK) != 0);
    T_TRUE(access(te, F_OK) != 0);
}

/* Run fn into a memory stream; the text is the caller's to free. */
static char *
capture(int (*fn)(const char *, int, FILE *, struct diag *), const char *path, int arg,
        int *rc, struct diag *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    *rc = fn(path, arg, f, d);
    fclose(f);
    return buf;
}

static int
describe(const char *path, int unused, FILE *out, struct diag *d)
{
    (void)unused;
    return csrjob_describe(path, out, d);
}

TEST(describe_and_dump_of_a_known_matrix)
{
    const char *in = write_triples(), *out = tpath("known.csr");
    struct csrjob_opts o = { .input = in, .output = out };
    struct csrjob_stats st;
    struct diag d = { 0 };
    T_OK(csrjob_run(&o, &st, &d));
    int rc;
    char *text = capture(describe, out, 0, &rc, &d);
    T_OK(rc);
    /* Sums: (0,0) 3, (0,1) 6, (1,3) 5, (2,0) 8, (2,3) 0.5, (3,2) 0. Row degrees 2 1 2 1;
     * column degrees 2 1 1 2. */
    char want[1024];
    snprintf(want, sizeof want,
             "file\t%s\nformat\tCSR1 1.0\nrows\t4\ncols\t4\nnnz\t6\ndensity\t0.375\n"
             "row_degree\tmin 1\tmedian 1\tmax 2\tempty 0\n"
             "col_degree\tmin 1\tmedian 1\tmax 2\tempty 0\n"
             "values\tmin 0\tmax 8\nchecksums\tok\ndup\tsum\nzeros\tkept\n",
             out);
    T_EQ_STR(text, want);
    free(text);

    text = capture(csrjob_dump, out, 0, &rc, &d);
    T_OK(rc);
    T_EQ_STR(text, "0\t0\t3\n0\t1\t6\n1\t3\t5\n2\t0\t8\n2\t3\t0.5\n3\t2\t0\n");
    free(text);
    text = capture(csrjob_dump, out, 1, &rc, &d);
    T_OK(rc);
    T_EQ_STR(text, "0\t0\t3\n0\t2\t8\n1\t0\t6\n2\t3\t0\n3\t1\t5\n3\t2\t0.5\n");
    free(text);
}

/* ---- afile_verify_all ---- */

static const char *
three_sections(void)
{
    static const uint32_t a[4] = { 1, 2, 3, 4 }, b[8] = { 5, 6, 7, 8, 9, 10, 11, 12 },
                          c[2] = { 13, 14 };
    struct afile_wsec s[3] = {
        { "AAAA", AFILE_DT_U32, a, sizeof a },
        { "BBBB", AFILE_DT_U32, b, sizeof b },
        { "CCCC", AFILE_DT_U32, c, sizeof c },
    };
    struct afile_header h = { .kind = { 'T', 'E', 'S', 'T' }, .major = 1 };
    struct diag d = { 0 };
    const char *p = tpath("three.bin");
    if (afile_save(p, &h, s, 3, &d) < 0)
        abort();
    return p;
}

/* Flip one byte of section tag of the file at path, which must open without checks. */
static void
flip_in(const char *path, const char *tag, uint64_t at)
{
    struct afile f;
    struct diag d = { 0 };
    uint64_t off = 0;
    if (afile_open(&f, path, "TEST", 1, 0, &d) < 0)
        abort();
    for (unsigned s = 0; s < f.nsec; s++)
        if (!memcmp(f.sec[s].tag, tag, 4))
            off = f.sec[s].offset + at;
    afile_close(&f);
    size_t len;
    unsigned char *buf = slurp(path, &len);
    if (!buf || !off || off >= len)
        abort();
    buf[off] ^= 0x10;
    if (spit(path, buf, len) < 0)
        abort();
    free(buf);
}

TEST(verify_all_names_the_first_damaged_section)
{
    static const char *const tags[] = { "AAAA", "BBBB", "CCCC" };
    for (int k = 0; k < 3; k++) {
        const char *p = three_sections();
        struct afile f;
        struct diag d = { 0 };
        T_OK(afile_open(&f, p, "TEST", 1, 0, &d));
        T_OK(afile_verify_all(&f, &d));
        afile_close(&f);

        flip_in(p, tags[k], 3);
        if (k < 2) /* a second damaged section later on: the first one is named */
            flip_in(p, "CCCC", 1);
        T_OK(afile_open(&f, p, "TEST", 1, 0, &d)); /* the directory is intact */
        T_EQ_INT(afile_verify_all(&f, &d), ALS_ECHECKSUM);
        char want[600];
        snprintf(want, sizeof want, "'%s': section %s checksum mismatch (file damaged)", p,
                 tags[k]);
        T_EQ_STR(d.msg, want);
        afile_close(&f);
    }
}

TEST(describe_refuses_a_damaged_csr_and_writes_nothing)
{
    const char *in = write_triples(), *out = tpath("damaged.csr");
    struct csrjob_opts o = { .input = in, .output = out };
    struct csrjob_stats st;
    struct diag d = { 0 };
    T_OK(csrjob_run(&o, &st, &d));
    /* The value 8 of (2,0) is the fourth float of VALS. */
    struct afile f;
    uint64_t off = 0;
    T_OK(afile_open(&f, out, CSR_KIND, CSR_MAJOR, 0, &d));
    for (unsigned s = 0; s < f.nsec; s++)
        if (!memcmp(f.sec[s].tag, "VALS", 4))
            off = f.sec[s].offset + 3 * sizeof(float);
    afile_close(&f);
    size_t len;
    unsigned char *buf = slurp(out, &len);
    T_TRUE(buf && off && off < len);
    if (!buf || !off || off >= len)
        return;
    buf[off] ^= 1;
    T_OK(spit(out, buf, len));
    free(buf);
    int rc;
    char *text = capture(describe, out, 0, &rc, &d);
    T_EQ_INT(rc, ALS_ECHECKSUM);
    T_TRUE(strstr(d.msg, "section VALS checksum mismatch") != NULL);
    T_EQ_STR(text, "");
    free(text);
    text = capture(csrjob_dump, out, 0, &rc, &d);
    T_EQ_INT(rc, ALS_ECHECKSUM);
    T_EQ_STR(text, "");
    free(text);
}
