/* SPDX-License-Identifier: MIT */
/* als-csr: triples to one CSR file holding R and its transpose, with reproducible splits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "csr.h"
#include "triples.h"
#include "vocabdir.h"
#include "xmem.h"
#include "zio.h"

static const char usage[] =
    "usage: als-csr -o FILE [-V DIR] [--dup POLICY] [--drop-zeros]\n"
    "               [--test-fraction F | --leave-out N] [--by-time] [--test FILE]\n"
    "               [--seed N] [-f] [-q] [-v] [TRIPLES]\n"
    "       als-csr --info FILE\n"
    "       als-csr --dump FILE [--transpose]";

static const char help[] =
    "Build the ratings matrix R (users x items) and its transpose from the triples of\n"
    "als-map (binary or --text form, plain or gzip; TRIPLES '-' or none is stdin) and\n"
    "write them to one CSR file.\n"
    "\n"
    "  -o, --output FILE      the CSR file (the training part when splitting)\n"
    "  -V, --vocab DIR        take the dimensions from this vocabulary directory, so every\n"
    "                         file of one vocabulary has the same shape (default: the\n"
    "                         sizes recorded at the end of the triples, else the largest\n"
    "                         index seen + 1)\n"
    "      --dup POLICY       combine repeated (user, item) records: sum (default), max,\n"
    "                         min, mean, first, last (first/last in input order)\n"
    "      --drop-zeros       drop entries that are 0 after combining (default: keep)\n"
    "Splits (seeded, the same bytes for the same seed):\n"
    "      --test-fraction F  hold out round(F x n) of each user's n interactions\n"
    "      --leave-out N      hold out N of each user's interactions\n"
    "      --by-time          hold out the latest ones instead of a random choice\n"
    "      --test FILE        where the held-out part goes (same shape as -o)\n"
    "                         A user's only interaction always stays in training.\n"
    "      --seed N           seed of the random choice (default 0)\n"
    "Inspection:\n"
    "      --info FILE        rows, cols, nnz, density, degrees, value range, checksums\n"
    "      --dump FILE        'row<TAB>col<TAB>value' lines of R\n"
    "      --transpose        with --dump: lines of R^T instead\n"
    "Common:\n"
    "  -f, --force-tty        write the binary CSR to a terminal anyway\n"
    "  -q, --quiet            no summary, only errors\n"
    "  -v, --verbose          more detail\n"
    "  -j, --threads N, --progress  accepted for symmetry\n"
    "  -h, --help             this help\n"
    "      --version          version and library versions\n"
    "\n"
    "Exit status: 0 success, 1 runtime or data error, 2 usage error. See als-csr(1).\n";

enum {
    OPT_DUP = CLI_OPT_FIRST_PROGRAM,
    OPT_DROP_ZEROS,
    OPT_TEST_FRACTION,
    OPT_LEAVE_OUT,
    OPT_BY_TIME,
    OPT_TEST,
    OPT_INFO,
    OPT_DUMP,
    OPT_TRANSPOSE
};

static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    { "output", required_argument, NULL, 'o' },
    { "vocab", required_argument, NULL, 'V' },
    { "force-tty", no_argument, NULL, 'f' },
    { "dup", required_argument, NULL, OPT_DUP },
    { "drop-zeros", no_argument, NULL, OPT_DROP_ZEROS },
    { "test-fraction", required_argument, NULL, OPT_TEST_FRACTION },
    { "leave-out", required_argument, NULL, OPT_LEAVE_OUT },
    { "by-time", no_argument, NULL, OPT_BY_TIME },
    { "test", required_argument, NULL, OPT_TEST },
    { "info", required_argument, NULL, OPT_INFO },
    { "dump", required_argument, NULL, OPT_DUMP },
    { "transpose", no_argument, NULL, OPT_TRANSPOSE },
    { NULL, 0, NULL, 0 }
};

static struct cli cli = { .prog = "als-csr", .usage = usage, .help = help };

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* min, median, max and empty count of the row degrees of m */
static void
degrees(const struct csr_mat *m, uint64_t out[4])
{
    memset(out, 0, 4 * sizeof *out);
    if (m->rows == 0)
        return;
    uint64_t *deg = xmem_alloc_array((size_t)m->rows, sizeof *deg);
    if (!deg)
        cli_die(&cli, "out of memory");
    for (uint64_t r = 0; r < m->rows; r++) {
        deg[r] = m->ptr[r + 1] - m->ptr[r];
        out[3] += deg[r] == 0;
    }
    qsort(deg, (size_t)m->rows, sizeof *deg, cmp_u64);
    out[0] = deg[0];
    out[1] = deg[(m->rows - 1) / 2];
    out[2] = deg[m->rows - 1];
    free(deg);
}

static int
info(const char *path)
{
    struct diag d = { 0 };
    struct csr *c;
    /* Checksums first: damage then reads as damage, not as a structure error. */
    struct afile f;
    char bad[sizeof d.msg] = "";
    if (afile_open(&f, path, CSR_KIND, CSR_MAJOR, 0, &d) < 0)
        cli_die_diag(&cli, &d);
    for (unsigned s = 0; s < f.nsec && !bad[0]; s++)
        if (afile_verify_section(&f, f.sec[s].tag, &d) < 0)
            memcpy(bad, d.msg, sizeof bad);
    afile_close(&f);
    if (bad[0])
        cli_die(&cli, "%s", bad);
    if (csr_open(&c, path, 0, &d) < 0)
        cli_die_diag(&cli, &d);
    uint64_t rd[4], cd[4];
    degrees(&c->r, rd);
    degrees(&c->t, cd);
    float lo, hi;
    csr_value_range(&c->r, &lo, &hi);
    double cells = (double)c->r.rows * (double)c->r.cols;
    printf("file\t%s\n", path);
    printf("format\t%.4s %u.%u\n", c->file.h.kind, c->file.h.major, c->file.h.minor);
    printf("rows\t%llu\ncols\t%llu\nnnz\t%llu\n", (unsigned long long)c->r.rows,
           (unsigned long long)c->r.cols, (unsigned long long)c->r.nnz);
    printf("density\t%.6g\n", cells > 0 ? (double)c->r.nnz / cells : 0.0);
    printf("row_degree\tmin %llu\tmedian %llu\tmax %llu\tempty %llu\n",
           (unsigned long long)rd[0], (unsigned long long)rd[1], (unsigned long long)rd[2],
           (unsigned long long)rd[3]);
    printf("col_degree\tmin %llu\tmedian %llu\tmax %llu\tempty %llu\n",
           (unsigned long long)cd[0], (unsigned long long)cd[1], (unsigned long long)cd[2],
           (unsigned long long)cd[3]);
    if (c->r.nnz)
        printf("values\tmin %.9g\tmax %.9g\n", (double)lo, (double)hi);
    else
        printf("values\tnone\n");
    printf("checksums\tok\n");
    for (char *m = c->meta, *e; *m; m = e + 1) {
        e = strchr(m, '\n');
        if (!e)
            break;
        char *eq = memchr(m, '=', (size_t)(e - m));
        if (eq)
            printf("%.*s\t%.*s\n", (int)(eq - m), m, (int)(e - eq - 1), eq + 1);
    }
    csr_free(c);
    cli_close_stdout(&cli);
    return CLI_EXIT_OK;
}

static int
dump(const char *path, int transpose)
{
    struct diag d = { 0 };
    struct csr *c;
    if (csr_open(&c, path, AFILE_VERIFY, &d) < 0)
        cli_die_diag(&cli, &d);
    const struct csr_mat *m = transpose ? &c->t : &c->r;
    for (uint64_t r = 0; r < m->rows; r++)
        for (uint64_t k = m->ptr[r]; k < m->ptr[r + 1]; k++)
            printf("%llu\t%u\t%.9g\n", (unsigned long long)r, m->idx[k], (double)m->val[k]);
    csr_free(c);
    cli_close_stdout(&cli);
    return CLI_EXIT_OK;
}

/* Read every triple into coo; *rows and *cols get the end marker's sizes or the
 * largest index + 1. */
static int
read_triples(const char *path, struct csr_coo *coo, uint64_t *rows, uint64_t *cols,
             struct diag *d)
{
    struct triples_reader tr;
    int rc = triples_reader_open(&tr, path, d);
    if (rc < 0)
        return rc;
    if (tr.text) {
        /* Nothing at all is not an empty stream (als-map always writes a header and an
         * end marker): it is what a failed producer leaves in a pipe. */
        const void *p;
        size_t got;
        if ((rc = zio_in_peek(tr.in, &p, 1, &got, d)) >= 0 && got == 0)
            rc = diag_set(d, ALS_EFORMAT, "%s: empty input, no triples stream",
                          strcmp(path, "-") ? path : "(stdin)");
        if (rc < 0) {
            triples_reader_close(&tr);
            return rc;
        }
    }
    uint64_t maxu = 0, maxi = 0;
    int first = 1, with_time = 0;
    struct triple t;
    while ((rc = triples_read(&tr, &t, d)) > 0) {
        int has = tr.has_time; /* text lines each have a time or not: all must agree */
        if (first) {
            with_time = has;
            first = 0;
        } else if (has != with_time) {
            rc = diag_set(d, ALS_EFORMAT, "%s: record %llu %s, the first %s", path,
                          (unsigned long long)tr.total,
                          has ? "has a time column" : "lacks a time column",
                          has ? "did not" : "had one");
            break;
        }
        if (!isfinite(t.value)) {
            rc = diag_set(d, ALS_EFORMAT, "%s: record %llu: value is not finite", path,
                          (unsigned long long)tr.total);
            break;
        }
        if (csr_coo_push(coo, t.user, t.item, t.value, with_time ? &t.time : NULL) < 0) {
            rc = diag_set(d, ALS_ENOMEM, "out of memory");
            break;
        }
        maxu = (uint64_t)t.user + 1 > maxu ? (uint64_t)t.user + 1 : maxu;
        maxi = (uint64_t)t.item + 1 > maxi ? (uint64_t)t.item + 1 : maxi;
    }
    if (rc == 0) {
        /* A binary stream's end marker states the vocabulary sizes: they are the shape. */
        *rows = tr.text ? maxu : tr.users;
        *cols = tr.text ? maxi : tr.items;
        if (!tr.text && (maxu > tr.users || maxi > tr.items))
            rc = diag_set(d, ALS_EFORMAT, "%s: indices exceed the %llu users and %llu items "
                          "its end marker declares", path, (unsigned long long)tr.users,
                          (unsigned long long)tr.items);
    }
    triples_reader_close(&tr);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *output = NULL, *vocab = NULL, *test = NULL, *info_path = NULL,
               *dump_path = NULL;
    int policy = CSR_DUP_SUM, drop_zeros = 0, force_tty = 0, transpose = 0, split = 0;
    struct csr_split_opts so = { .mode = CSR_SPLIT_FRACTION };
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:V:f", longopts, NULL)) !=
           -1) {
        if (cli_common(&cli, opt, optarg))
            continue;
        switch (opt) {
        case 'o': output = optarg; break;
        case 'V': vocab = optarg; break;
        case 'f': force_tty = 1; break;
        case OPT_DUP:
            if (csr_parse_dup(optarg, &policy) < 0)
                cli_usage_error(&cli, "--dup takes sum, max, min, mean, first or last, not "
                                "'%s'", optarg);
            break;
        case OPT_DROP_ZEROS: drop_zeros = 1; break;
        case OPT_TEST_FRACTION:
        case OPT_LEAVE_OUT:
            if (split)
                cli_usage_error(&cli, "--test-fraction and --leave-out exclude each other");
            split = 1;
            if (opt == OPT_TEST_FRACTION) {
                so.mode = CSR_SPLIT_FRACTION;
                so.fraction = cli_opt_double(&cli, "test-fraction", optarg, 0, 1);
            } else {
                so.mode = CSR_SPLIT_LEAVE_OUT;
                so.count = cli_opt_u64(&cli, "leave-out", optarg, 1, UINT32_MAX);
            }
            break;
        case OPT_BY_TIME: so.by_time = 1; break;
        case OPT_TEST: test = optarg; break;
        case OPT_INFO: info_path = optarg; break;
        case OPT_DUMP: dump_path = optarg; break;
        case OPT_TRANSPOSE: transpose = 1; break;
        default: cli_usage_error(&cli, "unexpected option");
        }
    }
    if (info_path || dump_path) {
        if (output || optind < argc || (info_path && dump_path) || vocab || split || test ||
            so.by_time || drop_zeros || policy != CSR_DUP_SUM || cli.seed_given)
            cli_usage_error(&cli, "--info and --dump take one CSR file and nothing else");
        if (transpose && !dump_path)
            cli_usage_error(&cli, "--transpose goes with --dump");
        return info_path ? info(info_path) : dump(dump_path, transpose);
    }
    if (transpose)
        cli_usage_error(&cli, "--transpose goes with --dump");
    if (!output)
        cli_usage_error(&cli, "missing -o FILE");
    if (split != (test != NULL))
        cli_usage_error(&cli, split ? "a split needs --test FILE for the held-out part"
                                    : "--test needs --test-fraction or --leave-out");
    if (so.by_time && !split)
        cli_usage_error(&cli, "--by-time needs --test-fraction or --leave-out");
    if (optind + 1 < argc)
        cli_usage_error(&cli, "one TRIPLES input at most (concatenate with als-map)");
    if (!strcmp(output, "-") && !force_tty && isatty(1))
        cli_usage_error(&cli, "refusing to write a binary CSR to a terminal (use -o FILE or "
                        "-f)");
    if (test && (!strcmp(test, output) || !strcmp(test, "-")))
        cli_usage_error(&cli, "--test needs a file of its own");
    so.seed = cli.seed;
    zio_install_signal_cleanup();

    struct diag d = { 0 };
    const char *in = optind < argc ? argv[optind] : "-";
    struct csr_coo coo = { 0 };
    uint64_t trows = 0, tcols = 0;
    if (read_triples(in, &coo, &trows, &tcols, &d) < 0) {
        csr_coo_release(&coo);
        cli_die_diag(&cli, &d);
    }
    uint64_t rows = trows, cols = tcols;
    /* Read only now: in 'als-map -V DIR | als-csr -V DIR' the vocabulary is committed
     * just before the end of the triples stream. */
    if (vocab) {
        struct vocabdir vd;
        vocabdir_init(&vd);
        if (vocabdir_load(&vd, vocab, 0, &d) < 0)
            cli_die_diag(&cli, &d);
        rows = vd.users.n;
        cols = vd.items.n;
        vocabdir_release(&vd);
    }
    uint64_t records = coo.n;
    int has_time = coo.time != NULL;
    struct csr *all = NULL, *train = NULL, *tst = NULL;
    int64_t *times = NULL;
    if (csr_build(&coo, rows, cols, policy, drop_zeros, &all, so.by_time ? &times : NULL,
                  &d) < 0) {
        csr_coo_release(&coo);
        if (vocab && d.code == ALS_ERANGE)
            diag_prefix(&d, "'%s' does not match the vocabulary '%s': ",
                        strcmp(in, "-") ? in : "(stdin)", vocab);
        cli_die_diag(&cli, &d);
    }
    if (so.by_time && !has_time)
        cli_die(&cli, "--by-time needs triples with a time column (als-map -t)");
    int rc;
    if (split) {
        if (csr_split(all, times, &so, &train, &tst, &d) < 0)
            cli_die_diag(&cli, &d);
        /* Both are written in full before either replaces its target. */
        struct zio_out ot, oo;
        if ((rc = zio_out_open(&ot, test, &d)) < 0)
            cli_die_diag(&cli, &d);
        if ((rc = zio_out_open(&oo, output, &d)) >= 0) {
            if ((rc = csr_write(tst, &ot, &d)) >= 0 && (rc = csr_write(train, &oo, &d)) >= 0 &&
                (rc = zio_out_commit(&ot, &d)) >= 0)
                rc = zio_out_commit(&oo, &d);
            zio_out_abort(&oo);
        }
        zio_out_abort(&ot);
    } else {
        rc = csr_save(all, output, &d);
    }
    if (rc < 0)
        cli_die_diag(&cli, &d);
    if (!cli.quiet) {
        fprintf(stderr, "%s: %llu triples, %llu x %llu, %llu nonzeros (%llu combined%s)",
                cli.prog, (unsigned long long)records, (unsigned long long)rows,
                (unsigned long long)cols, (unsigned long long)all->r.nnz,
                (unsigned long long)(records - all->r.nnz), drop_zeros ? " or dropped" : "");
        if (split)
            fprintf(stderr, "; train %llu, test %llu", (unsigned long long)train->r.nnz,
                    (unsigned long long)tst->r.nnz);
        fputc('\n', stderr);
    }
    free(times);
    csr_free(all);
    csr_free(train);
    csr_free(tst);
    if (!strcmp(output, "-"))
        cli_close_stdout(&cli);
    return CLI_EXIT_OK;
}
