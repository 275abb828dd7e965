/* SPDX-License-Identifier: MIT */
/* als-train: explicit or implicit ALS from a CSR file to a model file. Compiled again
 * with ALS_TRAIN_MPI (make MPI=1) as als-train-mpi: the same run, its rows split over the
 * ranks of an MPI job by lib/dist. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "als.h"
#include "cli.h"
#include "dist.h"
#include "linalg.h"
#include "search.h"
#include "train.h"
#include "zio.h"

#ifdef ALS_TRAIN_MPI
#define PROG "als-train-mpi"
static const char usage[] =
    "usage: als-train-mpi -o MODEL [--implicit | --explicit] [-k N] [-n N] [-a ALPHA]\n"
    "                     [-l LAMBDA] [--confidence linear|log] [--solver cholesky|cg]\n"
    "                     [--cg-steps N] [--biases | --no-biases] [--init MODEL]\n"
    "                     [--validate TEST.CSR] [--loss] [--progress[=json]] [--seed N]\n"
    "                     [-j N] [-f] [-q] [-v]\n"
    "                     TRAIN.CSR";
#else
#define PROG "als-train"
static const char usage[] =
    "usage: als-train -o MODEL [--implicit | --explicit] [-k N] [-n N] [-a ALPHA]\n"
    "                 [-l LAMBDA] [--confidence linear|log] [--solver cholesky|cg]\n"
    "                 [--cg-steps N] [--biases | --no-biases] [--init MODEL]\n"
    "                 [--validate TEST.CSR] [--loss] [--progress[=json]] [--seed N]\n"
    "                 [-j N] [-f] [-q] [-v] [--search SPEC]\n"
    "                 TRAIN.CSR\n"
    "       als-train --info MODEL\n"
    "       als-train --export-npy DIR MODEL";
#endif

static const char help[] =
#ifdef ALS_TRAIN_MPI
    "Train an ALS model as als-train does, its rows split over the ranks of an MPI job\n"
    "(mpirun -np P als-train-mpi ...): the model is the bytes als-train writes.\n"
#else
    "Train an ALS model on a CSR file from als-csr and write it to MODEL.\n"
#endif
    "\n"
    "      --implicit         Hu-Koren-Volinsky weighted ALS on counts or durations\n"
    "                         (default): p = [r > 0], confidence 1 + alpha f(r)\n"
    "      --explicit         ALS on observed ratings, lambda scaled by each row's count\n"
    "  -k, --factors N        latent factors (default 64)\n"
    "  -n, --iterations N     iterations (default 15)\n"
    "  -a, --alpha A          implicit confidence scale (default 2 / mean f(r))\n"
    "  -l, --lambda L         regularisation, >= 0 (default: implicit 14 users^0.3/items^0.2,\n"
    "                         explicit 0.12; oneDAL's: -k 10 -n 5 -a 40 -l 0.01\n"
    "                         --confidence linear)\n"
    "      --confidence F     implicit f(r): linear |r| or log log(1 + |r|); default log\n"
    "                         when the 99th percentile of |r| passes 10 times its median\n"
    "      --solver S         cholesky (exact) or cg (conjugate gradient); default cg for\n"
    "                         implicit, cholesky for explicit\n"
    "      --cg-steps N       conjugate gradient steps per row and half-step (default 3)\n"
    "      --biases           global, user and item biases (explicit; default on)\n"
    "      --no-biases        no biases\n"
    "      --init MODEL       warm start from an earlier model; rows the vocabulary gained\n"
    "                         since are folded in by one solve against the old factors;\n"
    "                         mode, -k, -a, -l, confidence, solver and biases default\n"
    "                         to MODEL's\n"
    "      --validate TEST    after each iteration: RMSE (explicit) or precision@10 and\n"
    "                         ndcg@10 with training items excluded (implicit)\n"
    "      --loss             print the training objective after each iteration\n"
#ifndef ALS_TRAIN_MPI
    "      --search SPEC      a model per point of a grid, e.g. 'k=32,64 lambda=10,auto'\n"
    "                         (k alpha lambda iterations cg-steps; budget points=N seconds=S)\n"
    "                         scored on --validate: a TSV line each, the best to MODEL\n"
#endif
    "      --progress[=json]  a line per iteration even when stderr is not a terminal;\n"
    "                         =json: JSON lines instead\n"
    "  -o, --output MODEL     the model file (written atomically)\n"
    "  -f, --force-tty        write the binary model to a terminal anyway (-o -)\n"
#ifndef ALS_TRAIN_MPI
    "      --info MODEL       print a model's header and parameters\n"
    "      --export-npy DIR   write DIR/user_factors.npy and DIR/item_factors.npy\n"
    "                         (float32, C order) for numpy.load\n"
#endif
    "      --seed N           seed of the initial factors (default 0)\n"
#ifdef ALS_TRAIN_MPI
    "  -j, --threads N        threads per rank (default: the cores the rank may run on);\n"
    "                         the model does not depend on it\n"
    "  -q, --quiet            only errors\n"
    "  -v, --verbose          more detail, and the bytes the ranks exchanged\n"
#else
    "  -j, --threads N        threads (default: all cores); the model does not depend on it\n"
    "  -q, --quiet            only errors\n"
    "  -v, --verbose          more detail\n"
#endif
    "  -h, --help             this help\n"
    "      --version          version and library versions\n"
    "\n"
    "Exit status: 0 success, 1 runtime or data error, 2 usage error. See " PROG "(1).\n";

enum {
    OPT_IMPLICIT = CLI_OPT_FIRST_PROGRAM, OPT_EXPLICIT, OPT_SOLVER, OPT_CG_STEPS, OPT_BIASES,
    OPT_NO_BIASES, OPT_INIT, OPT_VALIDATE, OPT_LOSS, OPT_PROGRESS_OPT, OPT_INFO, OPT_EXPORT,
    OPT_SEARCH, OPT_CONFIDENCE
};

static const struct option longopts[] = {
    /* before the common options: --progress takes an optional argument here */
    { "progress", optional_argument, NULL, OPT_PROGRESS_OPT },
    CLI_COMMON_LONGOPTS,
    { "output", required_argument, NULL, 'o' }, { "factors", required_argument, NULL, 'k' },
    { "iterations", required_argument, NULL, 'n' }, { "alpha", required_argument, NULL, 'a' },
    { "lambda", required_argument, NULL, 'l' }, { "implicit", no_argument, NULL, OPT_IMPLICIT },
    { "explicit", no_argument, NULL, OPT_EXPLICIT },
    { "solver", required_argument, NULL, OPT_SOLVER },
    { "confidence", required_argument, NULL, OPT_CONFIDENCE },
    { "cg-steps", required_argument, NULL, OPT_CG_STEPS },
    { "biases", no_argument, NULL, OPT_BIASES },
    { "no-biases", no_argument, NULL, OPT_NO_BIASES },
    { "init", required_argument, NULL, OPT_INIT },
    { "validate", required_argument, NULL, OPT_VALIDATE },
    { "loss", no_argument, NULL, OPT_LOSS },
#ifndef ALS_TRAIN_MPI /* one process's jobs: als-train does them */
    { "info", required_argument, NULL, OPT_INFO },
    { "export-npy", required_argument, NULL, OPT_EXPORT },
    { "search", required_argument, NULL, OPT_SEARCH },
#endif
    { "force-tty", no_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 }
};

static struct cli cli = { .prog = PROG, .usage = usage, .help = help };

static const char *const solvers[] = { "cholesky", "cg", NULL }; /* ALS_SOLVER_* order */
static const char *const confidences[] = { "linear", "log", NULL }; /* ALS_CONF_* order */

struct run {
    struct train_job job;
    struct train_info info;
    int json, show, warm_said;
};

/* -v: the rows the warm start folded in, once, before the first iteration's line; even
 * with -q, as it always was. */
static void
say_warm(struct run *R)
{
    if (!cli.verbose || R->warm_said || !R->info.warm_started)
        return;
    R->warm_said = 1;
    fprintf(stderr, "%s: warm start from '%s': %" PRIu64 " new users, %" PRIu64 " new items "
            "folded in\n", cli.prog, R->job.init, R->info.new_users, R->info.new_items);
}

static void
progress(const struct train_progress *pr, void *ctx)
{
    struct run *R = ctx;
    say_warm(R);
    if (!R->show)
        return;
    char line[512];
    train_format_progress(pr, R->json, line, sizeof line);
    if (R->json) /* JSON lines carry no program name */
        fprintf(stderr, "%s\n", line);
    else /* R->show is never set with -q, so cli_warn always prints it */
        cli_warn(&cli, "%s", line);
}

/* --search: one TSV line per point on stdout, the best model to -o. */
static int
run_search(const struct train_job *J, const char *text)
{
    struct search_job S = { .seed = 0 };
    struct search_spec spec;
    struct diag d = { 0 };
    struct search_point best;
    uint64_t n;
    if (!J->validate || search_parse(text, &spec, &d) < 0)
        cli_usage_error(&cli, "%s", J->validate ? d.msg : "--search needs --validate TEST.CSR");
    S.base = *J;
    S.base.progress = NULL;
    S.spec = &spec;
    S.seed = cli.seed;
    S.table = stdout;
    if (search_run(&S, &best, &n, &d) < 0)
        cli_die_diag(&cli, &d);
    cli_warn(&cli, "best of %" PRIu64 " points: point %" PRIu64 ", -k %u -n %u -a %.6g -l %.6g",
             n, best.index + 1, best.p.k, best.p.iters, best.p.alpha, best.p.lambda);
    cli_close_stdout(&cli);
    return CLI_EXIT_OK;
}

#ifdef ALS_TRAIN_MPI
static volatile int rank_succeeded;

/* mpirun ends the job at the first rank that exits with a failure and may drop what
 * the others have not yet written. A silent rank that fails lingers a moment, so
 * that rank 0's message (it fails the same way) reaches mpirun first. */
static void
linger_after_failure(void)
{
    if (!rank_succeeded)
        sleep(1);
}
#endif

int
main(int argc, char **argv)
{
#ifdef ALS_TRAIN_MPI
    /* Rank 0 alone prints: every rank parses the same options, and the errors of the
     * others reach rank 0 through dist_agree. */
    if (dist_env_rank() > 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            return CLI_EXIT_FAIL;
        atexit(linger_after_failure);
    }
#endif
    struct run R;
    memset(&R, 0, sizeof R);
    struct train_job *J = &R.job;
    als_params_default(&J->p, 1);
    const char *info_path = NULL, *export_dir = NULL, *search = NULL;
    int mode = -1, biases = -1, solver = -1, force_tty = 0, given = 0;
    unsigned set = 0; /* ALS_FIT_* bits of the options given: not left to the data */
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:k:n:a:l:f", longopts,
                              NULL)) != -1) {
        if (opt != OPT_PROGRESS_OPT && cli_common(&cli, opt, optarg))
            continue;
        if (opt != OPT_INFO && opt != OPT_EXPORT)
            given = 1; /* a training option: --info and --export-npy take none */
        switch (opt) {
        case 'o': J->output = optarg; break;
        case 'f': force_tty = 1; break;
        case 'k':
            J->p.k = (uint32_t)cli_opt_u64(&cli, "factors", optarg, 1, 4096);
            set |= ALS_FIT_K;
            break;
        case 'n': J->p.iters = (uint32_t)cli_opt_u64(&cli, "iterations", optarg, 0, 100000); break;
        case 'a':
            J->p.alpha = cli_opt_double(&cli, "alpha", optarg, 0, 1e12);
            set |= ALS_FIT_ALPHA;
            break;
        case 'l':
            J->p.lambda = cli_opt_double(&cli, "lambda", optarg, 0, 1e12);
            set |= ALS_FIT_LAMBDA;
            break;
        case OPT_IMPLICIT:
        case OPT_EXPLICIT:
            if (mode >= 0 && mode != (opt == OPT_IMPLICIT))
                cli_usage_error(&cli, "--implicit and --explicit exclude each other");
            mode = opt == OPT_IMPLICIT;
            break;
        case OPT_SOLVER: solver = cli_choice(&cli, "solver", optarg, solvers); break;
        case OPT_CONFIDENCE:
            J->p.confidence = cli_choice(&cli, "confidence", optarg, confidences);
            set |= ALS_FIT_CONFIDENCE;
            break;
        case OPT_CG_STEPS:
            J->p.cg_steps = (uint32_t)cli_opt_u64(&cli, "cg-steps", optarg, 1, 1000);
            break;
        case OPT_BIASES:
        case OPT_NO_BIASES:
            if (biases >= 0 && biases != (opt == OPT_BIASES))
                cli_usage_error(&cli, "--biases and --no-biases exclude each other");
            biases = opt == OPT_BIASES;
            break;
        case OPT_INIT: J->init = optarg; break;
        case OPT_VALIDATE: J->validate = optarg; break;
        case OPT_LOSS: J->loss = 1; break;
        case OPT_PROGRESS_OPT:
            if (optarg && strcmp(optarg, "json"))
                cli_usage_error(&cli, "--progress takes no value or =json, not '%s'", optarg);
            cli.progress = 1;
            R.json = optarg != NULL;
            break;
        case OPT_INFO: info_path = optarg; break;
        case OPT_EXPORT: export_dir = optarg; break;
        case OPT_SEARCH: search = optarg; break;
        default: cli_usage_error(&cli, "unexpected option");
        }
    }
    struct diag d = { 0 };
    if (info_path) {
        if (optind < argc || export_dir || given)
            cli_usage_error(&cli, "--info takes one MODEL and nothing else");
        if (train_print_info(stdout, info_path, &d) < 0)
            cli_die_diag(&cli, &d);
        cli_close_stdout(&cli);
        return CLI_EXIT_OK;
    }
    if (export_dir) {
        if (optind + 1 != argc || given)
            cli_usage_error(&cli, "--export-npy takes DIR and one MODEL and nothing else");
        if (train_export_npy(argv[optind], export_dir, &d) < 0)
            cli_die_diag(&cli, &d);
        return CLI_EXIT_OK;
    }
    /* als-train A.csr B.model: the -o was forgotten. */
    static const char *const model_exts[] = { ".als", ".model", ".fac", NULL };
    if (optind + 2 == argc && !J->output && cli_looks_like_output(argv[optind + 1], model_exts))
        cli_usage_error(&cli, "one TRAIN.CSR only (to write '%s', use -o %s)", argv[optind + 1],
                        argv[optind + 1]);
    if (optind + 1 != argc)
        cli_usage_error(&cli, optind == argc ? "missing TRAIN.CSR" : "one TRAIN.CSR only");
    if (!J->output)
        cli_usage_error(&cli, "missing -o MODEL");
    cli_refuse_tty(&cli, J->output, force_tty, "a binary model", "use -o FILE or -f");
    J->train_path = argv[optind];
    if (als_params_resolve(&J->p, mode, solver, biases, set, J->init != NULL, &d) < 0)
        cli_usage_error(&cli, "%s", d.msg);
    J->p.seed = cli.seed;
    J->p.threads = cli_threads(&cli);
    J->progress = progress;
    J->progress_ctx = &R;
    R.show = !cli.quiet && (cli_show_progress(&cli) || J->loss || J->validate);
    la_single_threaded();
    zio_install_signal_cleanup();
#ifdef ALS_TRAIN_MPI
    (void)run_search, (void)search;
    struct dist *D;
    if (dist_open(&D, &d) < 0)
        cli_die_diag(&cli, &d);
    int ranks = dist_size(D);
    if (ranks > 1 && !strcmp(J->output, "-")) {
        dist_close(D);
        /* mpirun gives every rank a pty for stdout and mixes their streams */
        cli_usage_error(&cli, "-o - with %d ranks: write the model to a file", ranks);
    }
    if (!cli.threads)
        J->p.threads = dist_cores();
    J->half_step = dist_half_step;
    J->loss_of = dist_loss;
    J->half_step_ctx = D;
    dist_set_options(D, (J->loss ? 1u : 0u) | (J->init ? 2u : 0u));
    if (dist_rank(D) > 0) /* rank 0 validates and writes */
        J->output = J->validate = NULL;
    int rc = train_run(J, &R.info, &d);
    rc = dist_agree(D, rc, &d);
    say_warm(&R);
    struct dist_stats st;
    dist_stats(D, &st);
    dist_close(D);
    if (rc < 0)
        cli_die_diag(&cli, &d);
    if (cli.verbose) {
        uint64_t it = R.info.params.iters;
        cli_warn(&cli, "%d ranks exchanged %" PRIu64 " bytes, %" PRIu64 " per iteration; rank "
                 "0: %.3f s solving, %.3f s in MPI; solving: fastest rank %d %.3f s, slowest "
                 "rank %d %.3f s", st.ranks, st.bytes, it ? st.iter_bytes / it : 0,
                 st.solve_seconds, st.mpi_seconds, st.fastest_rank, st.fastest_seconds,
                 st.slowest_rank, st.slowest_seconds);
    }
#else
    if (search)
        return run_search(J, search);
    int rc = train_run(J, &R.info, &d);
    say_warm(&R);
    if (rc < 0)
        cli_die_diag(&cli, &d);
#endif
    const struct als_params *u = &R.info.params;
    if (!R.show)
        cli_warn(&cli, "%" PRIu64 " users x %" PRIu64 " items, %u factors, %u iterations in "
                 "%.2f s", R.info.users, R.info.items, u->k, u->iters, R.info.seconds);
    if (cli.verbose)
        cli_warn(&cli, "trained with -k %u -n %u -a %.6g -l %.6g%s", u->k, u->iters, u->alpha,
                 u->lambda, !u->implicit ? ""
                            : u->confidence == ALS_CONF_LOG ? " --confidence log"
                                                            : " --confidence linear");
#ifdef ALS_TRAIN_MPI
    rank_succeeded = 1;
#endif
    return CLI_EXIT_OK;
}
