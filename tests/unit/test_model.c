/* SPDX-License-Identifier: MIT */
/* test_model: model files round trip bit for bit, damaged files are refused; .npy export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "csr.h"
#include "diag.h"
#include "model.h"
#include "npy.h"

#include "t.h"
#include "scratch.h"

/* Entries in the scratch directory (to see that nothing is left behind). */
static int
dir_entries(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", t_dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* Random bit patterns that are finite floats (any sign, any exponent but 255). */
static float
rnd_float(uint64_t *s)
{
    uint32_t b = (uint32_t)rnd(s);
    if (((b >> 23) & 0xff) == 0xff)
        b &= ~(1u << 30);
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static struct model *
model_random(uint64_t users, uint64_t items, uint32_t k, int implicit, int biases, uint64_t seed)
{
    struct model *m;
    struct diag d = { 0 };
    uint64_t s = seed;
    if (model_new(&m, users, items, k, implicit, biases, &d) < 0)
        abort();
    for (uint64_t t = 0; t < users * k; t++)
        m->U[t] = rnd_float(&s);
    for (uint64_t t = 0; t < items * k; t++)
        m->V[t] = rnd_float(&s);
    if (biases) {
        for (uint64_t t = 0; t < users; t++)
            m->ub[t] = rnd_float(&s);
        for (uint64_t t = 0; t < items; t++)
            m->ib[t] = rnd_float(&s);
        m->mu = 1.0 / 3.0;
    }
    m->params.lambda = 0.01;
    m->params.seed = 42;
    m->params.has = MODEL_HAS_LAMBDA | MODEL_HAS_SEED;
    return m;
}

/* model_describe's pairs as "key=value\n" text. */
struct kv_list {
    char text[4096];
    size_t n;
};

static void
collect_kv(const char *key, const char *value, void *ctx)
{
    struct kv_list *l = ctx;
    l->n += (size_t)snprintf(l->text + l->n, sizeof l->text - l->n, "%s=%s\n", key, value);
}

/* ---- round trips ---- */

TEST(model_new_is_zeroed_and_shaped)
{
    struct model *m;
    struct diag d = { 0 };
    T_OK(model_new(&m, 5, 7, 3, 0, 1, &d));
    T_EQ_U64(m->users, 5);
    T_EQ_U64(m->items, 7);
    T_EQ_U64(m->k, 3);
    T_TRUE(m->biases && !m->implicit && m->ub && m->ib && m->mu == 0.0);
    int zero = 1;
    for (int t = 0; t < 15; t++)
        zero &= m->U[t] == 0.0f;
    for (int t = 0; t < 21; t++)
        zero &= m->V[t] == 0.0f;
    for (int t = 0; t < 5; t++)
        zero &= m->ub[t] == 0.0f;
    for (int t = 0; t < 7; t++)
        zero &= m->ib[t] == 0.0f;
    T_TRUE(zero);
    T_TRUE(((uintptr_t)m->U & 63) == 0 && ((uintptr_t)m->V & 63) == 0);
    model_free(m);
    T_OK(model_new(&m, 5, 7, 3, 1, 0, &d));
    T_TRUE(m->implicit && !m->biases && !m->ub && !m->ib);
    model_free(m);
    model_free(NULL);
}

static void
check_round_trip(int implicit, int biases)
{
    struct model *m = model_random(37, 23, 5, implicit, biases, 100 + biases), *r = NULL;
    struct diag d = { 0 };
    const char *path = tpath(biases ? "b.model" : "nb.model");
    T_OK(model_save(m, path, &d));
    T_OK(model_open(&r, path, AFILE_VERIFY, &d));
    if (!r)
        return;
    T_EQ_U64(r->users, 37);
    T_EQ_U64(r->items, 23);
    T_EQ_U64(r->k, 5);
    T_EQ_INT(r->implicit, implicit);
    T_EQ_INT(r->biases, biases);
    T_TRUE(memcmp(r->U, m->U, 37 * 5 * 4) == 0);
    T_TRUE(memcmp(r->V, m->V, 23 * 5 * 4) == 0);
    if (biases) {
        T_TRUE(r->ub && r->ib);
        T_TRUE(r->ub && memcmp(r->ub, m->ub, 37 * 4) == 0);
        T_TRUE(r->ib && memcmp(r->ib, m->ib, 23 * 4) == 0);
    } else {
        T_TRUE(!r->ub && !r->ib);
    }
    T_TRUE(memcmp(&r->mu, &m->mu, sizeof r->mu) == 0); /* bit for bit, 1/3 included */
    T_EQ_U64(r->params.seed, 42);
    T_TRUE(r->params.lambda == 0.01);
    T_EQ_INT(r->params.has, MODEL_HAS_LAMBDA | MODEL_HAS_SEED); /* no alpha recorded */
    struct kv_list kv = { 0 };
    model_describe(r, collect_kv, &kv);
    T_TRUE(strstr(kv.text, implicit ? "mode=implicit\n" : "mode=explicit\n") != NULL);
    T_TRUE(strstr(kv.text, "\nfactors=5\nlambda=0.01\nbiases=") != NULL);
    T_TRUE(strstr(kv.text, "alpha=") == NULL);
    /* The file is 64-byte aligned in every section, so the factors are too. */
    T_TRUE(((uintptr_t)r->U & 63) == 0 && ((uintptr_t)r->V & 63) == 0);
    model_free(r);
    model_free(m);
}

TEST(round_trip_with_biases_is_bit_exact)
{
    check_round_trip(0, 1);
}

TEST(round_trip_without_biases_is_bit_exact)
{
    check_round_trip(1, 0);
    check_round_trip(0, 0);
}

TEST(saving_twice_gives_the_same_bytes)
{
    struct model *m = model_random(9, 4, 3, 0, 1, 7);
    struct diag d = { 0 };
    size_t n1, n2;
    T_OK(model_save(m, tpath("s1.model"), &d));
    T_OK(model_save(m, tpath("s2.model"), &d));
    unsigned char *a = slurp(tpath("s1.model"), &n1), *b = slurp(tpath("s2.model"), &n2);
    T_TRUE(a && b);
    T_EQ_MEM(a, n1, b, n2);
    free(a);
    free(b);
    model_free(m);
}

/* An opened model saved again, with another mu, reads back with that mu. */
TEST(resaving_an_opened_model_keeps_its_new_mu)
{
    struct model *m = model_random(6, 5, 2, 0, 1, 8), *r = NULL, *r2 = NULL;
    struct diag d = { 0 };
    T_OK(model_save(m, tpath("mu1.model"), &d));
    T_OK(model_open(&r, tpath("mu1.model"), AFILE_VERIFY, &d));
    if (!r)
        return;
    T_NEAR(r->mu, 1.0 / 3.0, 0);
    r->mu = 2.5;
    T_OK(model_save(r, tpath("mu2.model"), &d));
    T_OK(model_open(&r2, tpath("mu2.model"), AFILE_VERIFY, &d));
    if (r2) {
        T_NEAR(r2->mu, 2.5, 0);
        T_TRUE(memcmp(r2->U, m->U, 6 * 2 * 4) == 0);
    }
    model_free(r2);
    model_free(r);
    model_free(m);
}

/* mu comes first in META and survives the longest paths a model records. */
TEST(mu_and_params_survive_the_longest_paths)
{
    struct model *m = model_random(4, 4, 2, 0, 1, 12), *r = NULL;
    struct diag d = { 0 };
    char longp[5000];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    longp[10] = '\n';
    memcpy(longp + sizeof longp - 11, "/train.csr", 10); /* before the terminator */
    m->mu = 3.5;
    model_set_source(m, longp, 123, 0xdeadbeefu, longp);
    T_EQ_U64(strlen(m->params.train), MODEL_PATH_MAX + 3); /* "..." and the tail */
    T_TRUE(strncmp(m->params.train, "...", 3) == 0);
    T_OK(model_save(m, tpath("fullmeta.model"), &d));
    T_OK(model_open(&r, tpath("fullmeta.model"), AFILE_VERIFY, &d));
    if (r) {
        T_NEAR(r->mu, 3.5, 0);
        T_EQ_STR(r->params.train, m->params.train);
        T_EQ_STR(r->params.init, m->params.init);
        T_EQ_U64(r->params.train_nnz, 123);
        T_EQ_U64(r->params.data_checksum, 0xdeadbeefu);
        T_TRUE(r->params.has & MODEL_HAS_TRAIN);
    }
    model_free(r);
    /* A line break in a short path does not start a new key. */
    model_set_source(m, "a\nalpha=5", 1, 0, NULL);
    T_EQ_STR(m->params.train, "a?alpha=5");
    T_EQ_STR(m->params.init, "none");
    model_free(m);
}

/* A META value that does not parse is a format error naming the key. */
TEST(malformed_meta_is_a_format_error)
{
    static const char *const bad[] = { "mu=1x\n", "alpha=abc\n", "seed=-1\n",
                                       "solver=lu\n", "data_checksum=12\n", "lambda=nan\n" };
    float f[2] = { 1, 2 };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        struct afile_header h;
        memset(&h, 0, sizeof h);
        memcpy(h.kind, MODEL_KIND, 4);
        h.major = MODEL_MAJOR;
        h.rows = h.cols = 1;
        h.nnz = 2;
        h.dtype = AFILE_DT_F32;
        struct afile_wsec secs[3] = { { "USRF", AFILE_DT_F32, f, 8 },
                                      { "ITMF", AFILE_DT_F32, f, 8 },
                                      { "META", AFILE_DT_BYTES, bad[t], strlen(bad[t]) } };
        struct diag d = { 0 };
        struct model *r = NULL;
        T_OK(afile_save(tpath("badmeta.model"), &h, secs, 3, &d));
        T_EQ_INT(model_open(&r, tpath("badmeta.model"), AFILE_VERIFY, &d), ALS_EFORMAT);
        T_TRUE(r == NULL);
        char key[32];
        snprintf(key, sizeof key, "META: bad %.*s '", (int)strcspn(bad[t], "="), bad[t]);
        T_TRUE(strstr(d.msg, key) != NULL);
    }
}

/* Grown: the old rows and parameters kept, the new rows zero, the old model untouched. */
TEST(grow_pads_with_zero_rows)
{
    struct model *m = model_random(3, 2, 4, 0, 1, 21), *g = NULL;
    struct diag d = { 0 };
    T_OK(model_grow(&g, m, 5, 6, &d));
    if (!g)
        return;
    T_EQ_U64(g->users, 5);
    T_EQ_U64(g->items, 6);
    T_TRUE(memcmp(g->U, m->U, 3 * 4 * 4) == 0 && memcmp(g->V, m->V, 2 * 4 * 4) == 0);
    T_TRUE(memcmp(g->ub, m->ub, 3 * 4) == 0 && memcmp(g->ib, m->ib, 2 * 4) == 0);
    T_TRUE(!model_has_factors(g, 0, 3) && !model_has_factors(g, 0, 4));
    T_TRUE(!model_has_factors(g, 1, 2) && !model_has_factors(g, 1, 5));
    T_TRUE(g->ub[4] == 0.0f && g->ib[5] == 0.0f);
    T_NEAR(g->mu, m->mu, 0);
    T_EQ_U64(g->params.seed, 42);
    model_free(g);
    model_free(m);
}

/* An opened model can be changed in memory (training from --init does) without touching
 * the file. */
TEST(opened_model_is_copy_on_write)
{
    struct model *m = model_random(3, 3, 2, 1, 0, 5), *r = NULL, *r2 = NULL;
    struct diag d = { 0 };
    T_OK(model_save(m, tpath("cow.model"), &d));
    T_OK(model_open(&r, tpath("cow.model"), AFILE_VERIFY, &d));
    if (!r)
        return;
    r->U[0] = 99.0f;
    T_OK(model_open(&r2, tpath("cow.model"), AFILE_VERIFY, &d));
    if (r2)
        T_TRUE(r2->U[0] == m->U[0]);
    model_free(r2);
    model_free(r);
    model_free(m);
}

/* ---- damaged and forged files ---- */

/* The offset of section tag from the directory at byte 64, or 0. */
static uint64_t
section_offset(const unsigned char *b, size_t n, const char *tag, uint64_t *size)
{
    if (n < 72)
        return 0;
    uint32_t nsec = afile_get_le32(b + 64);
    for (uint32_t s = 0; s < nsec && 72 + 32 * (size_t)(s + 1) <= n; s++) {
        const unsigned char *e = b + 72 + 32 * (size_t)s;
        if (memcmp(e, tag, 4) == 0) {
            *size = afile_get_le64(e + 16);
            return afile_get_le64(e + 8);
        }
    }
    return 0;
}

TEST(flipped_byte_in_a_section_is_a_checksum_error)
{
    struct model *m = model_random(11, 13, 4, 0, 1, 9), *r = NULL;
    struct diag d = { 0 };
    size_t n;
    T_OK(model_save(m, tpath("good.model"), &d));
    unsigned char *b = slurp(tpath("good.model"), &n);
    T_TRUE(b != NULL);
    static const char *const tags[] = { "USRF", "ITMF", "UBIA", "IBIA", "META" };
    for (int t = 0; b && t < 5; t++) {
        uint64_t size = 0, off = section_offset(b, n, tags[t], &size);
        T_TRUE(off >= 64 && size > 0 && off + size <= n);
        if (!(off >= 64 && size > 0 && off + size <= n))
            continue;
        b[off + size / 2] ^= 0x10;
        T_OK(spit(tpath("bad.model"), b, n));
        b[off + size / 2] ^= 0x10;
        memset(&d, 0, sizeof d);
        T_EQ_INT(model_open(&r, tpath("bad.model"), AFILE_VERIFY, &d), ALS_ECHECKSUM);
        T_TRUE(r == NULL);
        printf("# %s: %s\n", tags[t], d.msg);
        T_TRUE(strstr(d.msg, tags[t]) != NULL);
        T_TRUE(strstr(d.msg, "checksum mismatch") != NULL);
        T_TRUE(strstr(d.msg, "bad.model") != NULL);
    }
    /* Without AFILE_VERIFY only the header and directory are checked: a flipped factor
     * byte opens (that is what the flag is for). */
    uint64_t size = 0, off = b ? section_offset(b, n, "USRF", &size) : 0;
    if (b && off) {
        b[off] ^= 0x01;
        T_OK(spit(tpath("bad.model"), b, n));
        T_OK(model_open(&r, tpath("bad.model"), 0, &d));
        model_free(r);
        r = NULL;
    }
    /* A flipped header byte is always caught. */
    if (b) {
        b[off] ^= 0x01;
        b[30] ^= 0x01;
        T_OK(spit(tpath("bad.model"), b, n));
        T_TRUE(model_open(&r, tpath("bad.model"), 0, &d) < 0);
        T_TRUE(r == NULL);
    }
    free(b);
    model_free(m);
}

TEST(truncated_file_is_refused)
{
    struct model *m = model_random(11, 13, 4, 1, 0, 10), *r = NULL;
    struct diag d = { 0 };
    size_t n;
    T_OK(model_save(m, tpath("t.model"), &d));
    unsigned char *b = slurp(tpath("t.model"), &n);
    T_TRUE(b && n > 200);
    size_t cuts[] = { n - 1, n - 64, n / 2, 100, 64, 63, 10, 0 };
    for (size_t c = 0; b && c < sizeof cuts / sizeof cuts[0]; c++) {
        T_OK(spit(tpath("cut.model"), b, cuts[c]));
        memset(&d, 0, sizeof d);
        int rc = model_open(&r, tpath("cut.model"), AFILE_VERIFY, &d);
        printf("# cut at %zu: %d %s\n", cuts[c], rc, d.msg);
        T_EQ_INT(rc, ALS_EFORMAT);
        T_TRUE(r == NULL);
        T_TRUE(strstr(d.msg, "cut.model") != NULL);
        if (cuts[c] >= 64)
            T_TRUE(strstr(d.msg, "truncated") != NULL);
    }
    free(b);
    model_free(m);
}

TEST(missing_file_and_other_kinds_are_refused)
{
    struct model *r = NULL;
    struct diag d = { 0 };
    T_EQ_INT(model_open(&r, tpath("nonexistent.model"), AFILE_VERIFY, &d), ALS_EIO);
    T_TRUE(r == NULL && d.sys_errno == ENOENT);
    /* A CSR file is a valid container of another kind. */
    struct csr_coo coo;
    struct csr *c = NULL;
    memset(&coo, 0, sizeof coo);
    T_OK(csr_coo_push(&coo, 0, 1, 2.0f, NULL));
    T_OK(csr_build(&coo, 2, 2, CSR_DUP_SUM, 0, &c, NULL, &d));
    T_OK(csr_save(c, tpath("x.csr"), &d));
    csr_free(c);
    T_EQ_INT(model_open(&r, tpath("x.csr"), AFILE_VERIFY, &d), ALS_EFORMAT);
    printf("# %s\n", d.msg);
    T_TRUE(strstr(d.msg, "FAC1") != NULL);
    /* Text is not a container. */
    T_OK(spit(tpath("text.model"), "user,item,rating\n1,2,3\n", 23));
    T_EQ_INT(model_open(&r, tpath("text.model"), AFILE_VERIFY, &d), ALS_EFORMAT);
    T_TRUE(r == NULL);
}

/* A FAC1 container written by hand with the given sections and header shape. */
static int
forge(const char *path, uint64_t rows, uint64_t cols, uint64_t k, const struct afile_wsec *s,
      unsigned n)
{
    struct diag d = { 0 };
    struct afile_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.kind, MODEL_KIND, 4);
    h.major = MODEL_MAJOR;
    h.rows = rows;
    h.cols = cols;
    h.nnz = k;
    h.dtype = AFILE_DT_F32;
    return afile_save(path, &h, s, n, &d);
}

TEST(forged_shapes_are_refused)
{
    static float f[64];
    static const char meta[] = "mode=explicit\n";
    struct model *r = NULL;
    struct diag d = { 0 };
    const char *p = tpath("forged.model");
    /* A consistent 2 x 3 model of rank 4 opens: the forging itself is sound. */
    struct afile_wsec ok[] = { { "USRF", AFILE_DT_F32, f, 2 * 4 * 4 },
                               { "ITMF", AFILE_DT_F32, f, 3 * 4 * 4 },
                               { "META", AFILE_DT_BYTES, meta, sizeof meta - 1 } };
    T_OK(forge(p, 2, 3, 4, ok, 3));
    T_OK(model_open(&r, p, AFILE_VERIFY, &d));
    model_free(r);
    r = NULL;
    /* The header says rank 5. */
    T_OK(forge(p, 2, 3, 5, ok, 3));
    T_EQ_INT(model_open(&r, p, AFILE_VERIFY, &d), ALS_EFORMAT);
    printf("# %s\n", d.msg);
    T_TRUE(strstr(d.msg, "disagree") != NULL);
    /* Rank 0, with empty sections. */
    struct afile_wsec zero[] = { { "USRF", AFILE_DT_F32, f, 0 }, { "ITMF", AFILE_DT_F32, f, 0 },
                                 { "META", AFILE_DT_BYTES, meta, sizeof meta - 1 } };
    T_OK(forge(p, 2, 3, 0, zero, 3));
    T_EQ_INT(model_open(&r, p, AFILE_VERIFY, &d), ALS_EFORMAT);
    /* 3 users in the header, factors for 2. */
    T_OK(forge(p, 3, 3, 4, ok, 3));
    T_EQ_INT(model_open(&r, p, AFILE_VERIFY, &d), ALS_EFORMAT);
    /* No META. */
    T_OK(forge(p, 2, 3, 4, ok, 2));
    T_EQ_INT(model_open(&r, p, AFILE_VERIFY, &d), ALS_EFORMAT);
    T_TRUE(strstr(d.msg, "META") != NULL);
    /* User biases without item biases; biases of the wrong length. */
    struct afile_wsec half[] = { ok[0], ok[1], { "UBIA", AFILE_DT_F32, f, 2 * 4 }, ok[2] };
    T_OK(forge(p, 2, 3, 4, half, 4));
    T_EQ_INT(model_open(&r, p, AFILE_VERIFY, &d), ALS_EFORMAT);
    T_TRUE(strstr(d.msg, "IBIA") != NULL);
    struct afile_wsec shortb[] = { ok[0], ok[1], { "UBIA", AFILE_DT_F32, f, 2 * 4 },
                                   { "IBIA", AFILE_DT_F32, f, 2 * 4 }, ok[2] };
    T_OK(forge(p, 2, 3, 4, shortb, 5));
    T_EQ_INT(model_open(&r, p, AFILE_VERIFY, &d), ALS_EFORMAT);
    /* Factors of another element type. */
    struct afile_wsec f64[] = { { "USRF", AFILE_DT_F64, f, 2 * 4 * 8 }, ok[1], ok[2] };
    T_OK(forge(p, 2, 3, 4, f64, 3));
    T_EQ_INT(model_open(&r, p, AFILE_VERIFY, &d), ALS_EFORMAT);
    T_TRUE(r == NULL);
}

TEST(save_into_a_missing_directory_fails_and_leaves_nothing)
{
    struct model *m = model_random(3, 3, 2, 1, 0, 11);
    struct diag d = { 0 };
    char p[600];
    (void)tpath("anchor"); /* make the scratch directory */
    int before = dir_entries();
    snprintf(p, sizeof p, "%s/no/such/dir/m.model", t_dir);
    T_EQ_INT(model_save(m, p, &d), ALS_EIO);
    T_TRUE(d.msg[0] != '\0');
    T_EQ_INT(dir_entries(), before);
    /* The target is a directory: the temporary file must not stay behind. */
    char sub[600];
    snprintf(sub, sizeof sub, "%s/adir", t_dir);
    T_TRUE(mkdir(sub, 0777) == 0);
    before = dir_entries();
    T_TRUE(model_save(m, sub, &d) < 0);
    printf("# %s\n", d.msg);
    T_EQ_INT(dir_entries(), before);
    rmdir(sub);
    model_free(m);
}

/* ---- .npy ---- */

TEST(npy_layout_is_numpy_format_1_0)
{
    float a[3 * 4];
    struct diag d = { 0 };
    size_t n;
    for (int t = 0; t < 12; t++)
        a[t] = (float)t * 0.5f - 1.0f;
    const char *p = tpath("a.npy");
    T_OK(npy_save_f32(p, a, 3, 4, &d));
    unsigned char *b = slurp(p, &n);
    T_TRUE(b != NULL && n > 10);
    if (!b || n <= 10)
        return;
    T_TRUE(memcmp(b, "\x93NUMPY", 6) == 0);
    T_EQ_INT(b[6], 1); /* version 1.0 */
    T_EQ_INT(b[7], 0);
    size_t hlen = (size_t)b[8] | (size_t)b[9] << 8;
    size_t data = 10 + hlen;
    T_EQ_U64(data % 64, 0);
    T_EQ_U64(n, data + 12 * 4);
    if (n != data + 12 * 4)
        return;
    /* The header: a dict literal, space padded, ending in '\n', ASCII only. */
    char *h = malloc(hlen + 1);
    memcpy(h, b + 10, hlen);
    h[hlen] = '\0';
    T_TRUE(h[hlen - 1] == '\n');
    static const char dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
    T_TRUE(strncmp(h, dict, sizeof dict - 1) == 0);
    int ascii = 1;
    for (size_t t = 0; t < hlen; t++)
        ascii &= b[10 + t] >= 0x20 && b[10 + t] < 0x7f ? 1 : b[10 + t] == '\n';
    T_TRUE(ascii);
    int spaces = 1;
    for (size_t t = sizeof dict - 1; t + 1 < hlen; t++)
        spaces &= h[t] == ' ';
    T_TRUE(spaces);
    T_TRUE(memcmp(b + data, a, sizeof a) == 0);
    free(h);
    free(b);
}

TEST(npy_shapes_of_other_sizes)
{
    float a[7] = { 1, 2, 3, 4, 5, 6, 7 };
    struct diag d = { 0 };
    size_t n;
    struct { uint64_t r, c; const char *shape; } cases[] = {
        { 7, 1, "(7, 1)" }, { 1, 7, "(1, 7)" }, { 0, 5, "(0, 5)" } };
    for (int t = 0; t < 3; t++) {
        T_OK(npy_save_f32(tpath("s.npy"), a, cases[t].r, cases[t].c, &d));
        unsigned char *b = slurp(tpath("s.npy"), &n);
        if (!b)
            continue;
        size_t hlen = (size_t)b[8] | (size_t)b[9] << 8;
        T_EQ_U64((10 + hlen) % 64, 0);
        T_EQ_U64(n, 10 + hlen + cases[t].r * cases[t].c * 4);
        T_TRUE(strstr((char *)b + 10, cases[t].shape) != NULL);
        free(b);
    }
}

TEST(npy_into_a_missing_directory_fails)
{
    float a[2] = { 1, 2 };
    struct diag d = { 0 };
    char p[600];
    (void)tpath("anchor");
    int before = dir_entries();
    snprintf(p, sizeof p, "%s/missing/u.npy", t_dir);
    T_EQ_INT(npy_save_f32(p, a, 1, 2, &d), ALS_EIO);
    T_TRUE(d.msg[0] != '\0');
    T_EQ_INT(dir_entries(), before);
}

/* numpy.load agrees, when numpy is there; otherwise say so and skip. */
TEST(npy_loads_in_numpy_if_available)
{
    if (system("python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        printf("# skip: python3 with numpy not available\n");
        return;
    }
    float a[5 * 3];
    struct diag d = { 0 };
    for (int t = 0; t < 15; t++)
        a[t] = (float)t / 7.0f - 1.0f;
    T_OK(npy_save_f32(tpath("np.npy"), a, 5, 3, &d));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import numpy as np, sys\n"
             "a = np.load(sys.argv[1])\n"
             "assert a.dtype == np.float32 and a.shape == (5, 3) and a.flags.c_contiguous\n"
             "assert (a.ravel() == (np.arange(15, dtype=np.float32) / np.float32(7) - 1)).all()\n"
             "' '%s'",
             tpath("np.npy"));
    T_EQ_INT(system(cmd), 0);
}
