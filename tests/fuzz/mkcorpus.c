/* SPDX-License-Identifier: MIT */
/* mkcorpus: write the seed corpora of the fuzz targets, valid files made by the library's
 * own writers plus hand-made edge cases. Usage: mkcorpus OUTDIR [DATAFILE...] */
#define _GNU_SOURCE
#include "fuzz.h"

#include "csr.h"
#include "csv.h"
#include "model.h"
#include "ratemap.h"
#include "vocabdir.h"
#include "zio.h"

static const char *outdir;

static void
die_diag(const char *what, const struct diag *d)
{
    fprintf(stderr, "mkcorpus: %s: %s\n", what, d->msg);
    exit(1);
}

/* OUTDIR/target/seed-name with the bytes p[0..n), preceded by prefix[0..np). */
static void
seed(const char *target, const char *name, const void *prefix, size_t np, const void *p,
     size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        FUZZ_DIE(path);
    snprintf(path, sizeof path, "%s/%s/seed-%s", outdir, target, name);
    unsigned char *b = malloc(np + n + 1);
    if (!b)
        FUZZ_DIE("out of memory");
    if (np)
        memcpy(b, prefix, np);
    if (n)
        memcpy(b + np, p, n);
    fuzz_put_file(path, b, np + n);
    free(b);
}

static void
seed_str(const char *target, const char *name, const char *s)
{
    seed(target, name, NULL, 0, s, strlen(s));
}

static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        FUZZ_DIE(path);
    size_t cap = 4096, n = 0;
    unsigned char *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap)
            b = realloc(b, cap *= 2);
    }
    if (!b || ferror(f))
        FUZZ_DIE(path);
    fclose(f);
    *len = n;
    return b;
}

static const char *
base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- csv: [delimiter pick][maxf byte] record ---- */

static void
csv_seeds(char **files, int nfiles)
{
    static const char *const hand[] = {
        "a,b,c",
        "\"smith, j\",\"the \"\"best\"\" item\",4",
        "plain,\"multi",
        "\"x\"y,z",
        "a\"b,c",
        ",,,",
        "\"\"",
        "1::1193::5::978300760",
        "u9\tm1\t4\t1767225600",
        "\"a\",\"\",\"b\"",
        "a::b:c:::d",
    };
    char name[64];
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++)
        for (unsigned pick = 0; pick < 3; pick++) {
            unsigned char pre[2] = { (unsigned char)pick, (unsigned char)(i % 3 ? 63 : 2) };
            snprintf(name, sizeof name, "hand%zu-%u", i, pick);
            seed("csv", name, pre, 2, hand[i], strlen(hand[i]));
        }
    /* Delimiter names, as -F gives them. */
    static const char *const named[] = { "tab\na\tb", "comma\na,b", "semicolon\na;b",
                                         "pipe\na|b", "\\t\na\tb", "<>\na<>b<>\"c<>\"" };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        unsigned char pre[2] = { 7, 63 };
        snprintf(name, sizeof name, "named%zu", i);
        seed("csv", name, pre, 2, named[i], strlen(named[i]));
    }
    for (int f = 0; f < nfiles; f++) {
        size_t len;
        unsigned char *b = slurp(files[f], &len);
        const char *p = (const char *)b, *end = p + len;
        for (int line = 0; p < end && line < 4; line++) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = (size_t)((nl ? nl : end) - p);
            char dl[CSV_MAX_DELIM + 1];
            unsigned pick = 0;
            if (csv_detect_delim(p, n, dl) == 0)
                pick = !strcmp(dl, "\t") ? 1 : !strcmp(dl, "::") ? 2 : !strcmp(dl, ";") ? 3
                     : !strcmp(dl, "|") ? 4 : 0;
            unsigned char pre[2] = { (unsigned char)pick, 63 };
            snprintf(name, sizeof name, "%s-%d", base(files[f]), line);
            seed("csv", name, pre, 2, p, n);
            p = nl ? nl + 1 : end;
        }
        free(b);
    }
}

/* ---- ratemap: numbers, times, transform chains and level lists ---- */

static void
ratemap_seeds(void)
{
    static const char *const s[] = {
        "5", "-3.25", " 4.5 ", "1e3", "1.5E-7", "0.1", "123456789012345678901234",
        "9007199254740993", "2.2250738585072014e-308", "1e-310", "4.9e-324", "1e308",
        "1e309", "nan", "inf", "-Infinity", ".5", "5.", "+7", "0x10", "1e", "--1",
        "1700000000", "-5", "1700000000.25", "-1.5", "2024-02-29", "2023-02-29",
        "2024-01-01T12:34:56Z", "2024-01-01 12:34:56.789+05:30", "2024-01-01T24:00",
        "1999-12-31T23:59:60-08", "0000-03-01", "9999-12-31T23:59:59+0100",
        "log1p", "minmax", "minmax:0:5", "clip:0:1", "scale:2", "binary",
        "log1p,minmax,clip:0:1,scale:2,binary", "minmax:1e-310:1", "scale:0x1p-1070",
        "clip:-1e308:1e308", "minmax:-0:0,scale:-0.5", "hate,dislike,neutral,like,love",
        "a", "a,,b", "a,a", "1,2,3",
    };
    char name[32];
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        snprintf(name, sizeof name, "%02zu", i);
        seed_str("ratemap", name, s[i]);
    }
}

/* ---- logread: [spec][container] log ---- */

static void
logread_seeds(char **files, int nfiles)
{
    static const unsigned char specs[] = { 0x00, 0x01, 0x02, 0x03, 0x08, 0x38, 0x7a, 0x50,
                                           0x84, 0x4a };
    static const unsigned char containers[] = { 0x00, 0x01, 0x82, 0x03 };
    char name[128];
    for (int f = 0; f < nfiles; f++) {
        size_t len;
        unsigned char *b = slurp(files[f], &len);
        for (size_t s = 0; s < sizeof specs; s++)
            for (size_t c = 0; c < sizeof containers; c++) {
                if (c > 1 && s % 3)
                    continue;
                unsigned char pre[2] = { specs[s], containers[c] };
                snprintf(name, sizeof name, "%s-%02x%02x", base(files[f]), pre[0], pre[1]);
                seed("logread", name, pre, 2, b, len);
            }
        free(b);
    }
    static const char *const hand[] = {
        "\xef\xbb\xbfuser,item,rating\r\nu1,i1,5\r\nu2,i2,3\r\n",
        "user,item\n\"a\nb\",c\n\"unterminated\n",
        "a,b,c\nd\n,e\nf,\n\"x\"y,z\n",
        "a,b\x00,c\nd,e\n",
        "",
        "\n\n\n",
        "no delimiter here\n",
        "user;item;when\nu;i;2024-01-01\n",
        ("a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z|A|B|C|D|E|F|G|H|I|J|K|L|M|N|O|"
         "P|Q|R|S|T|U|V|W|X|Y|Z|0|1|2|3|4|5|6|7|8|9|+|-|*|/\n"),
    };
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        size_t n = strlen(hand[i]);
        if (i == 3)
            n = sizeof "a,b\x00,c\nd,e\n" - 1; /* has a NUL byte */
        for (size_t s = 0; s < 4; s++) {
            unsigned char pre[2] = { specs[s * 2], (unsigned char)(s == 3) };
            snprintf(name, sizeof name, "hand%zu-%zu", i, s);
            seed("logread", name, pre, 2, hand[i], n);
        }
    }
}

/* ---- triples: streams written by triples_writer ---- */

static void
write_triples(const char *name, int has_time, int text, uint32_t n)
{
    char path[4096];
    struct zio_out o;
    struct triples_writer w;
    struct diag d;
    snprintf(path, sizeof path, "%s/triples", outdir);
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        FUZZ_DIE(path);
    snprintf(path, sizeof path, "%s/triples/seed-%s", outdir, name);
    if (zio_out_open(&o, path, &d) < 0)
        die_diag("zio_out_open", &d);
    if (triples_writer_start(&w, &o, has_time, text, &d) < 0)
        die_diag("triples_writer_start", &d);
    for (uint32_t i = 0; i < n; i++) {
        struct triple t = { i % 7, (i * 31) % 11, (float)(i % 5) + 0.5f * (float)(i & 1),
                            1700000000 + (int64_t)i * 60 };
        if (i == 3)
            t.value = 1e-3f;
        if (i == 4) /* the extremes only where the text writer does not format them */
            t.value = text ? 16777217.0f : -3.4028235e38f;
        if (triples_put(&w, &t, &d) < 0)
            die_diag("triples_put", &d);
    }
    if (triples_writer_finish(&w, 7, 11, &d) < 0 || zio_out_commit(&o, &d) < 0)
        die_diag("triples_writer_finish", &d);
    zio_out_abort(&o);
    triples_writer_release(&w);
}

static void
gzip_copy(const char *target, const char *from, const char *to)
{
    char src[4096], dst[4096];
    size_t len;
    snprintf(src, sizeof src, "%s/%s/seed-%s", outdir, target, from);
    snprintf(dst, sizeof dst, "%s/%s/seed-%s", outdir, target, to);
    unsigned char *b = slurp(src, &len);
    gzFile g = gzopen(dst, "wb6");
    if (!g || (len && gzwrite(g, b, (unsigned)len) != (int)len) || gzclose(g) != Z_OK)
        FUZZ_DIE(dst);
    free(b);
}

static void
triples_seeds(void)
{
    write_triples("bin-empty", 0, 0, 0);
    write_triples("bin-3", 0, 0, 3);
    write_triples("bin-time-5", 1, 0, 5);
    write_triples("bin-2blocks", 0, 0, TRIPLES_BLOCK + 1);
    write_triples("text-4", 0, 1, 4);
    write_triples("text-time-5", 1, 1, 5);
    gzip_copy("triples", "bin-time-5", "bin-time-5.gz");
    gzip_copy("triples", "text-4", "text-4.gz");
    seed_str("triples", "text-hand", "0\t1\t5\n1\t0\t2.5\t2024-01-01T00:00:00Z\r\n\n"
                                     "4294967295\t0\t1e-3\t-5\n");
    seed_str("triples", "text-bad", "0\t1\n-1\t2\t3\n0\t1\tnan\n0\t1\t1e39\n1.5\t2\t3\n");
}

/* ---- vocab: files written by vocab_save, and lines for the round trip ---- */

static void
vocab_seeds(void)
{
    char path[4096], id[64];
    snprintf(path, sizeof path, "%s/vocab", outdir);
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        FUZZ_DIE(path);
    static const unsigned sizes[] = { 0, 1, 3, 20, 100, 1000 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        char **ids = malloc(sizes[s] * sizeof *ids + 1);
        for (unsigned i = 0; i < sizes[s]; i++) {
            /* Mixed lengths, including the 8-byte words of the hash and binary bytes. */
            int n = snprintf(id, sizeof id, i % 3 == 0 ? "u%u" : i % 3 == 1 ? "item-%08u"
                             : "\x01\xff long id %u with spaces", i);
            ids[i] = strndup(id, (size_t)n);
        }
        snprintf(path, sizeof path, "%s/vocab/seed-v%u", outdir, sizes[s]);
        fuzz_make_vocab(path, (const char *const *)ids, sizes[s]);
        for (unsigned i = 0; i < sizes[s]; i++)
            free(ids[i]);
        free(ids);
    }
    snprintf(path, sizeof path, "%s/vocab/seed-users", outdir);
    fuzz_make_vocab(path, fuzz_users, FUZZ_NUSERS);
    seed_str("vocab", "lines", "alice\nbob\ncarol\nalice\n\n\xff\x00x");
    seed_str("vocab", "lines-long", "a-key-of-exactly-sixteen\nshort\n12345678\n123456789\n");
}

/* ---- vocabdir: map.conf files written by vocabdir_save ---- */

static void
save_conf(const char *name, const char *delim, int header, const char *const cols[4],
          const char *levels, const char *transforms)
{
    char dir[4096], conf[4200], p[4200];
    struct vocabdir v;
    struct diag d;
    snprintf(dir, sizeof dir, "%s/vd-%s", fuzz_dir(), name);
    vocabdir_init(&v);
    v.path = strdup(dir);
    if (vocab_clear(&v.users) < 0 || vocab_clear(&v.items) < 0)
        FUZZ_DIE("vocab_clear");
    for (int k = 0; k < 2; k++) {
        const char *const *ids = k ? fuzz_items : fuzz_users;
        size_t n = k ? FUZZ_NITEMS : FUZZ_NUSERS;
        for (size_t i = 0; i < n; i++) {
            uint32_t idx;
            int added;
            if (vocab_intern(k ? &v.items : &v.users, ids[i], strlen(ids[i]), &idx, &added,
                             &d) < 0)
                die_diag("vocab_intern", &d);
        }
    }
    strcpy(v.spec.delim, delim);
    v.spec.header = header;
    for (int c = 0; c < LOG_NCOLS; c++)
        if (cols[c] && logspec_set_col(&v.spec, c, cols[c]) < 0)
            FUZZ_DIE("logspec_set_col");
    if (levels && ratemap_set_levels(&v.rmap, levels, &d) < 0)
        die_diag("ratemap_set_levels", &d);
    if (transforms && ratemap_set_transforms(&v.rmap, transforms, &d) < 0)
        die_diag("ratemap_set_transforms", &d);
    if (ratemap_needs_fit(&v.rmap)) {
        double x[] = { 1, 2, 5 };
        ratemap_fit(&v.rmap, x, 3);
    }
    if (vocabdir_save(&v, &d) < 0)
        die_diag("vocabdir_save", &d);
    snprintf(conf, sizeof conf, "%s/map.conf", dir);
    size_t len;
    unsigned char *b = slurp(conf, &len);
    seed("vocabdir", name, NULL, 0, b, len);
    free(b);
    /* The generation is 1 and the names match the fuzz target's fixture. */
    snprintf(p, sizeof p, "%s/users.1.vocab", dir);
    if (access(p, F_OK) != 0)
        FUZZ_DIE(p);
    vocabdir_release(&v);
}

static void
vocabdir_seeds(void)
{
    static const char *const dflt[4] = { "1", "2", "3", NULL };
    static const char *const named[4] = { "user", "item", "rating", "time" };
    static const char *const norating[4] = { "2", "1", "none", "4" };
    save_conf("plain", ",", 0, dflt, NULL, NULL);
    save_conf("tab-header", "\t", 1, named, NULL, "log1p,minmax,clip:0:1,scale:2,binary");
    save_conf("ml1m", "::", 0, norating, NULL, "binary");
    save_conf("levels", ";", 1, dflt, "hate,dis\"like,\\like\\,lo\tve", "minmax:1:5");
    save_conf("odd-delim", "\"\x01|", 0, dflt, "\x7f,\x1f", NULL);
    seed_str("vocabdir", "hand-minimal",
             "als-vocab 1\nusers users.1.vocab 3\nitems items.1.vocab 4\n");
    seed_str("vocabdir", "hand-comments",
             "# comment\n\nals-vocab 1\ngeneration 7\nusers users.1.vocab 3\n"
             "items items.1.vocab 4\nfuture-key whatever\ndelimiter \"\\x3a\\x3a\"\n"
             "header yes\nuser-column \"u\"\nitem-column \"2\"\nrating-column \"none\"\n"
             "time-column \"ts\"\nlevel \"lo\"\nlevel \"hi\"\ntransform \"scale:0.5\"\n");
    seed_str("vocabdir", "hand-empty-vocab",
             "als-vocab 1\nusers empty.vocab 0\nitems items.1.vocab 4\n");
    seed_str("vocabdir", "hand-bad-vocab",
             "als-vocab 1\nusers bad.vocab 3\nitems sub 4\n");
    seed_str("vocabdir", "hand-future", "als-vocab 2\nusers users.1.vocab 3\n");
    seed_str("vocabdir", "hand-mismatch",
             "als-vocab 1\nusers users.1.vocab 4\nitems items.1.vocab 4\n");
}

/* ---- csr: matrices written by csr_save ---- */

/* Drop explicit zeros in every other seed. */
static int
k_drop(const char *name)
{
    return strlen(name) % 2;
}

static void
write_csr(const char *name, uint64_t rows, uint64_t cols, uint32_t n, int with_time)
{
    char path[4096];
    struct csr_coo coo;
    struct csr *c = NULL;
    struct diag d;
    memset(&coo, 0, sizeof coo);
    for (uint32_t k = 0; k < n; k++) {
        int64_t t = 1700000000 + k;
        float v = k == 5 ? 0.0f : (float)(k % 5) + 0.25f;
        if (csr_coo_push(&coo, (uint32_t)((k * 7) % rows), (uint32_t)((k * 13) % cols), v,
                         with_time ? &t : NULL) < 0)
            FUZZ_DIE("csr_coo_push");
    }
    if (csr_build(&coo, rows, cols, CSR_DUP_SUM, k_drop(name), &c, NULL, &d) < 0)
        die_diag("csr_build", &d);
    snprintf(c->meta, sizeof c->meta, "source=mkcorpus\nname=%s\n", name);
    snprintf(path, sizeof path, "%s/csr", outdir);
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        FUZZ_DIE(path);
    snprintf(path, sizeof path, "%s/csr/seed-%s", outdir, name);
    if (csr_save(c, path, &d) < 0)
        die_diag("csr_save", &d);
    csr_free(c);
}

static void
csr_seeds(void)
{
    write_csr("empty-1x1", 1, 1, 0, 0);
    write_csr("3x4", 3, 4, 6, 0);
    write_csr("5x7-time", 5, 7, 20, 1);
    write_csr("dups-2x2", 2, 2, 9, 0);
    write_csr("wide-1x40", 1, 40, 30, 0);
    write_csr("tall-40x1", 40, 1, 30, 0);
    write_csr("50x60", 50, 60, 300, 0);
}

/* ---- model: factor files written by model_save ---- */

static void
write_model(const char *name, uint64_t users, uint64_t items, uint32_t k, int implicit,
            int biases)
{
    char path[4096];
    struct model *m;
    struct diag d;
    if (model_new(&m, users, items, k, implicit, biases, &d) < 0)
        die_diag("model_new", &d);
    for (uint64_t i = 0; i < users * k; i++)
        m->U[i] = (float)i * 0.25f - 1.0f;
    for (uint64_t i = 0; i < items * k; i++)
        m->V[i] = 1.0f / (float)(i + 1);
    for (uint64_t i = 0; biases && i < users; i++)
        m->ub[i] = 0.5f;
    for (uint64_t i = 0; biases && i < items; i++)
        m->ib[i] = -0.5f;
    m->mu = biases ? 3.5 : 0.0;
    snprintf(m->meta, sizeof m->meta, "lambda=0.1\nalpha=40\niterations=15\n");
    snprintf(path, sizeof path, "%s/model", outdir);
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        FUZZ_DIE(path);
    snprintf(path, sizeof path, "%s/model/seed-%s", outdir, name);
    if (model_save(m, path, &d) < 0)
        die_diag("model_save", &d);
    model_free(m);
}

static void
model_seeds(void)
{
    write_model("implicit-3x4-k2", 3, 4, 2, 1, 0);
    write_model("explicit-5x7-k3-biases", 5, 7, 3, 0, 1);
    write_model("empty-0x0-k1", 0, 0, 1, 1, 0);
    write_model("1x1-k8", 1, 1, 8, 0, 1);
}

/* ---- cli: [range pick] option value ---- */

static void
cli_seeds(void)
{
    static const char *const s[] = {
        "0", "64", "65", "18446744073709551615", "18446744073709551616", "007", "-1", "+1",
        " 1", "1 ", "1e3", "0.5", "-0", "1e-310", "1e309", "inf", "nan", "0x10", "\t1",
        "sum", "max", "min", "mean", "first", "last", "Sum", "",
    };
    char name[32];
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        unsigned char pre = (unsigned char)(i % 6);
        snprintf(name, sizeof name, "%02zu", i);
        seed("cli", name, &pre, 1, s[i], strlen(s[i]));
    }
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: mkcorpus OUTDIR [DATAFILE...]\n");
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0777) < 0 && errno != EEXIST)
        FUZZ_DIE(outdir);
    csv_seeds(argv + 2, argc - 2);
    ratemap_seeds();
    logread_seeds(argv + 2, argc - 2);
    triples_seeds();
    vocab_seeds();
    vocabdir_seeds();
    csr_seeds();
    cli_seeds();
    model_seeds();
    return 0;
}
