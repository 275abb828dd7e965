/* SPDX-License-Identifier: MIT */
/* als-csr: triples to one CSR file holding R and its transpose, with reproducible splits. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "csr.h"
#include "csrjob.h"
#include "zio.h"

static const char usage[] =
    "usage: als-csr -o FILE [-V DIR] [--dup POLICY] [--drop-zeros]\n"
    "               [--test-fraction F [--stable] | --leave-out N] [--by-time]\n"
    "               [--test FILE]\n"
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
    "      --dup POLICY       combine repeated (user, item) records: sum, max, min, mean,\n"
    "                         first, last (in input order); default: last when -V says\n"
    "                         the values are ratings (als-map --values), else sum\n"
    "      --drop-zeros       drop entries that are 0 after combining (default: keep)\n"
    "Splits (seeded, the same bytes for the same seed):\n"
    "      --test-fraction F  hold out round(F x n) of each user's n interactions\n"
    "      --leave-out N      hold out N of each user's interactions\n"
    "      --by-time          hold out the latest ones instead of a random choice\n"
    "      --stable           with --test-fraction: each entry's side from (seed, user,\n"
    "                         item) alone, so it keeps its side as the matrix grows (for\n"
    "                         nightly gates and warm starts across nights)\n"
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
    "      --progress         progress with rate and ETA even when stderr is not a\n"
    "                         terminal (where it shows by default after a second)\n"
    "  -j, --threads N        accepted for symmetry\n"
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
    OPT_STABLE,
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
    { "stable", no_argument, NULL, OPT_STABLE },
    { "test", required_argument, NULL, OPT_TEST },
    { "info", required_argument, NULL, OPT_INFO },
    { "dump", required_argument, NULL, OPT_DUMP },
    { "transpose", no_argument, NULL, OPT_TRANSPOSE },
    { NULL, 0, NULL, 0 }
};

static struct cli cli = { .prog = "als-csr", .usage = usage, .help = help };

int
main(int argc, char **argv)
{
    const char *info_path = NULL, *dump_path = NULL;
    struct csrjob_opts jo = { .policy = -1 };
    struct csr_split_opts *so = &jo.split;
    int force_tty = 0, transpose = 0, split = 0; /* split: the option that asked for one */
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:V:f", longopts, NULL)) !=
           -1) {
        if (cli_common(&cli, opt, optarg))
            continue;
        switch (opt) {
        case 'o': jo.output = optarg; break;
        case 'V': jo.vocab = optarg; break;
        case 'f': force_tty = 1; break;
        case OPT_DUP: jo.policy = cli_choice(&cli, "dup", optarg, csr_dup_names); break;
        case OPT_DROP_ZEROS: jo.drop_zeros = 1; break;
        case OPT_TEST_FRACTION:
        case OPT_LEAVE_OUT:
            /* One given twice: the last wins, as for -o and --dup. */
            if (split && split != opt)
                cli_usage_error(&cli, "--test-fraction and --leave-out exclude each other");
            split = opt;
            if (opt == OPT_TEST_FRACTION) {
                so->mode = CSR_SPLIT_FRACTION;
                so->fraction = cli_opt_double(&cli, "test-fraction", optarg, 0, 1);
            } else {
                so->mode = CSR_SPLIT_LEAVE_OUT;
                so->count = cli_opt_u64(&cli, "leave-out", optarg, 1, UINT32_MAX);
            }
            break;
        case OPT_BY_TIME: so->by_time = 1; break;
        case OPT_STABLE: so->stable = 1; break;
        case OPT_TEST: jo.test = optarg; break;
        case OPT_INFO: info_path = optarg; break;
        case OPT_DUMP: dump_path = optarg; break;
        case OPT_TRANSPOSE: transpose = 1; break;
        default: cli_usage_error(&cli, "unexpected option");
        }
    }
    struct diag d = { 0 };
    if (info_path || dump_path) {
        if (jo.output || optind < argc || (info_path && dump_path) || jo.vocab || split ||
            jo.test || so->by_time || so->stable || jo.drop_zeros || jo.policy >= 0 ||
            cli.seed_given)
            cli_usage_error(&cli, "--info and --dump take one CSR file and nothing else");
        if (transpose && !dump_path)
            cli_usage_error(&cli, "--transpose goes with --dump");
        if ((info_path ? csrjob_describe(info_path, stdout, &d)
                       : csrjob_dump(dump_path, transpose, stdout, &d)) < 0)
            cli_die_diag(&cli, &d);
        cli_close_stdout(&cli);
        return CLI_EXIT_OK;
    }
    if (transpose)
        cli_usage_error(&cli, "--transpose goes with --dump");
    /* als-csr in.trp out.csr: the -o was forgotten (a CSR file is never an input here). */
    static const char *const csr_exts[] = { ".csr", NULL };
    if (optind + 2 == argc && !jo.output && cli_looks_like_output(argv[optind + 1], csr_exts))
        cli_usage_error(&cli, "one TRIPLES input at most (to write '%s', use -o %s)",
                        argv[optind + 1], argv[optind + 1]);
    if (!jo.output)
        cli_usage_error(&cli, "missing -o FILE");
    if (!!split != (jo.test != NULL))
        cli_usage_error(&cli, split ? "a split needs --test FILE for the held-out part"
                                    : "--test needs --test-fraction or --leave-out");
    if (so->by_time && !split)
        cli_usage_error(&cli, "--by-time needs --test-fraction or --leave-out");
    if (so->stable && (so->mode != CSR_SPLIT_FRACTION || !split || so->by_time))
        cli_usage_error(&cli, "--stable goes with --test-fraction, without --by-time");
    if (optind + 1 < argc)
        cli_usage_error(&cli, "one TRIPLES input at most (concatenate with als-map)");
    cli_refuse_tty(&cli, jo.output, force_tty, "a binary CSR", "use -o FILE or -f");
    if (jo.test && (!strcmp(jo.test, jo.output) || !strcmp(jo.test, "-")))
        cli_usage_error(&cli, "--test needs a file of its own");
    so->seed = cli.seed;
    jo.input = optind < argc ? argv[optind] : "-";
    /* A process-wide handler: a signal unlinks the temporary outputs of the job. */
    zio_install_signal_cleanup();

    struct cli_progress pg;
    cli_progress_init(&pg, &cli, !strcmp(jo.output, "-"));
    if (pg.on) {
        jo.progress = cli_progress_report;
        jo.progress_ctx = &pg;
    }
    struct csrjob_stats st;
    int rc = csrjob_run(&jo, &st, &d);
    cli_progress_end(&pg);
    if (rc < 0)
        cli_die_diag(&cli, &d);
    if (!cli.quiet) {
        fprintf(stderr, "%s: %llu triples, %llu x %llu, %llu nonzeros (%llu combined%s)",
                cli.prog, (unsigned long long)st.records, (unsigned long long)st.rows,
                (unsigned long long)st.cols, (unsigned long long)st.nnz,
                (unsigned long long)(st.records - st.nnz), jo.drop_zeros ? " or dropped" : "");
        if (split)
            fprintf(stderr, "; train %llu, test %llu", (unsigned long long)st.train_nnz,
                    (unsigned long long)st.test_nnz);
        fputc('\n', stderr);
        if (cli.verbose)
            fprintf(stderr, "%s: repeated (user, item) records combined by --dup %s%s\n",
                    cli.prog, csr_dup_name(st.policy),
                    jo.policy >= 0 ? "" : st.policy == CSR_DUP_LAST
                                              ? " (the vocabulary's values are ratings)"
                                              : " (the default for counts)");
    }
    if (!strcmp(jo.output, "-"))
        cli_close_stdout(&cli);
    return CLI_EXIT_OK;
}
