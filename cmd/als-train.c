/* SPDX-License-Identifier: MIT */
/* als-train: explicit or implicit ALS from a CSR file to a model file. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "als.h"
#include "cli.h"
#include "csr.h"
#include "linalg.h"
#include "metrics.h"
#include "model.h"
#include "npy.h"
#include "zio.h"

static const char usage[] =
    "usage: als-train -o MODEL [--implicit | --explicit] [-k N] [-n N] [-a ALPHA]\n"
    "                 [-l LAMBDA] [--solver cholesky|cg] [--cg-steps N]\n"
    "                 [--biases | --no-biases] [--init MODEL] [--validate TEST.CSR]\n"
    "                 [--loss] [--progress[=json]] [--seed N] [-j N] [-f] [-q] [-v]\n"
    "                 TRAIN.CSR\n"
    "       als-train --info MODEL\n"
    "       als-train --export-npy DIR MODEL";

static const char help[] =
    "Train an ALS model on a CSR file from als-csr and write it to MODEL.\n"
    "\n"
    "      --implicit         Hu-Koren-Volinsky weighted ALS on counts or durations\n"
    "                         (default): p = [r > 0], confidence 1 + alpha |r|\n"
    "      --explicit         ALS on observed ratings, lambda scaled by each row's count\n"
    "  -k, --factors N        latent factors (default 10)\n"
    "  -n, --iterations N     iterations (default 5)\n"
    "  -a, --alpha A          implicit confidence scale (default 40)\n"
    "  -l, --lambda L         regularisation, >= 0 (default 0.01)\n"
    "      --solver S         cholesky (exact) or cg (conjugate gradient); default cg for\n"
    "                         implicit, cholesky for explicit\n"
    "      --cg-steps N       conjugate gradient steps per row and half-step (default 3)\n"
    "      --biases           global, user and item biases (explicit; default on)\n"
    "      --no-biases        no biases\n"
    "      --init MODEL       warm start from an earlier model; rows the vocabulary gained\n"
    "                         since are folded in by one solve against the old factors\n"
    "      --validate TEST    after each iteration: RMSE (explicit) or precision@10 and\n"
    "                         ndcg@10 with training items excluded (implicit)\n"
    "      --loss             print the training objective after each iteration\n"
    "      --progress[=json]  a line per iteration even when stderr is not a terminal;\n"
    "                         =json: JSON lines instead\n"
    "  -o, --output MODEL     the model file (written atomically)\n"
    "  -f, --force-tty        write the binary model to a terminal anyway (-o -)\n"
    "      --info MODEL       print a model's header and parameters\n"
    "      --export-npy DIR   write DIR/user_factors.npy and DIR/item_factors.npy\n"
    "                         (float32, C order) for numpy.load\n"
    "      --seed N           seed of the initial factors (default 0)\n"
    "  -j, --threads N        threads (default: all cores); the model does not depend on it\n"
    "  -q, --quiet            only errors\n"
    "  -v, --verbose          more detail\n"
    "  -h, --help             this help\n"
    "      --version          version and library versions\n"
    "\n"
    "Exit status: 0 success, 1 runtime or data error, 2 usage error. See als-train(1).\n";

enum {
    OPT_IMPLICIT = CLI_OPT_FIRST_PROGRAM,
    OPT_EXPLICIT,
    OPT_SOLVER,
    OPT_CG_STEPS,
    OPT_BIASES,
    OPT_NO_BIASES,
    OPT_INIT,
    OPT_VALIDATE,
    OPT_LOSS,
    OPT_PROGRESS_OPT,
    OPT_INFO,
    OPT_EXPORT
};

static const struct option longopts[] = {
    /* before the common options: --progress takes an optional argument here */
    { "progress", optional_argument, NULL, OPT_PROGRESS_OPT },
    CLI_COMMON_LONGOPTS,
    { "output", required_argument, NULL, 'o' },
    { "factors", required_argument, NULL, 'k' },
    { "iterations", required_argument, NULL, 'n' },
    { "alpha", required_argument, NULL, 'a' },
    { "lambda", required_argument, NULL, 'l' },
    { "implicit", no_argument, NULL, OPT_IMPLICIT },
    { "explicit", no_argument, NULL, OPT_EXPLICIT },
    { "solver", required_argument, NULL, OPT_SOLVER },
    { "cg-steps", required_argument, NULL, OPT_CG_STEPS },
    { "biases", no_argument, NULL, OPT_BIASES },
    { "no-biases", no_argument, NULL, OPT_NO_BIASES },
    { "init", required_argument, NULL, OPT_INIT },
    { "validate", required_argument, NULL, OPT_VALIDATE },
    { "loss", no_argument, NULL, OPT_LOSS },
    { "info", required_argument, NULL, OPT_INFO },
    { "export-npy", required_argument, NULL, OPT_EXPORT },
    { "force-tty", no_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 }
};

static struct cli cli = { .prog = "als-train", .usage = usage, .help = help };

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
print_pair(const char *key, const char *value, void *ctx)
{
    (void)ctx;
    printf("%s\t%s\n", key, value);
}

static int
info(const char *path)
{
    struct diag d = { 0 };
    struct model *m;
    if (model_open(&m, path, AFILE_VERIFY, &d) < 0)
        cli_die_diag(&cli, &d);
    printf("file\t%s\nformat\t%.4s %u.%u\n", path, m->file.h.kind, m->file.h.major,
           m->file.h.minor);
    printf("users\t%" PRIu64 "\nitems\t%" PRIu64 "\n", m->users, m->items);
    model_describe(m, print_pair, NULL);
    model_free(m);
    cli_close_stdout(&cli);
    return CLI_EXIT_OK;
}

static int
export_npy(const char *dir, const char *path)
{
    struct diag d = { 0 };
    struct model *m;
    if (model_open(&m, path, AFILE_VERIFY, &d) < 0)
        cli_die_diag(&cli, &d);
    if (mkdir(dir, 0777) < 0 && errno != EEXIST)
        cli_die(&cli, "cannot create '%s': %s", dir, strerror(errno));
    char up[4096], ip[4096];
    snprintf(up, sizeof up, "%s/user_factors.npy", dir);
    snprintf(ip, sizeof ip, "%s/item_factors.npy", dir);
    if (npy_save_f32(up, m->U, m->users, m->k, &d) < 0 ||
        npy_save_f32(ip, m->V, m->items, m->k, &d) < 0)
        cli_die_diag(&cli, &d);
    model_free(m);
    return CLI_EXIT_OK;
}

struct run {
    struct als_params p;
    const char *train_path, *output, *init, *validate;
    int loss, json, show;
    int solver_given, biases_given;
};

static void
report(const struct run *R, unsigned it, double secs, double loss, const char *extra_json,
       const char *extra_text)
{
    if (!R->show)
        return;
    if (R->json) {
        fprintf(stderr, "{\"iteration\":%u,\"seconds\":%.4f", it, secs);
        if (!isnan(loss))
            fprintf(stderr, ",\"loss\":%.10g", loss);
        fprintf(stderr, "%s}\n", extra_json);
    } else {
        fprintf(stderr, "%s: iteration %u/%u: %.3f s", cli.prog, it, R->p.iters, secs);
        if (!isnan(loss))
            fprintf(stderr, ", loss %.10g", loss);
        fprintf(stderr, "%s\n", extra_text);
    }
}

static void
die_numeric(const struct diag *d)
{
    fprintf(stderr, "%s: %s\n", cli.prog, d->msg);
    exit(CLI_EXIT_FAIL);
}

/* Start from an earlier model: copy the rows it has, fold in the rows it lacks. */
static void
warm_start(const struct run *R, const struct csr *c, struct model *m)
{
    struct diag d = { 0 };
    struct model *old;
    if (model_open(&old, R->init, AFILE_VERIFY, &d) < 0)
        cli_die_diag(&cli, &d);
    if (old->k != m->k || old->implicit != m->implicit || old->biases != m->biases)
        cli_die(&cli, "--init '%s' is %s model of rank %u%s; this run trains %s model of "
                "rank %u%s", R->init, old->implicit ? "an implicit" : "an explicit", old->k,
                old->biases ? " with biases" : "", m->implicit ? "an implicit" : "an explicit",
                m->k, m->biases ? " with biases" : "");
    if (old->users > m->users || old->items > m->items)
        cli_die(&cli, "--init '%s' has %" PRIu64 " users and %" PRIu64 " items, more than the "
                "%" PRIu64 " x %" PRIu64 " of '%s' (a vocabulary only grows)", R->init,
                old->users, old->items, m->users, m->items, R->train_path);
    memcpy(m->U, old->U, old->users * m->k * sizeof *m->U);
    memcpy(m->V, old->V, old->items * m->k * sizeof *m->V);
    if (m->biases) {
        memcpy(m->ub, old->ub, old->users * sizeof *m->ub);
        memcpy(m->ib, old->ib, old->items * sizeof *m->ib);
    }
    uint64_t ou = old->users, oi = old->items;
    model_free(old);
    /* New rows start at 0 (model_new zeroed them): they add nothing to the systems of
     * the others. New users are solved exactly against the old item factors, then new
     * items against all users; the training iterations take it from there. */
    struct als_params exact = R->p;
    exact.solver = ALS_SOLVER_CHOLESKY;
    struct als_failure f;
    if (als_half_step(&exact, c, m, 0, ou, m->users, &f, &d) < 0 ||
        als_half_step(&exact, c, m, 1, oi, m->items, &f, &d) < 0)
        die_numeric(&d);
    if (cli.verbose)
        fprintf(stderr, "%s: warm start from '%s': %" PRIu64 " new users, %" PRIu64
                " new items folded in\n", cli.prog, R->init, m->users - ou, m->items - oi);
}

static int
train(struct run *R)
{
    struct diag d = { 0 };
    struct csr *c, *test = NULL;
    if (csr_open(&c, R->train_path, AFILE_VERIFY, &d) < 0)
        cli_die_diag(&cli, &d);
    if (R->validate) {
        if (csr_open(&test, R->validate, AFILE_VERIFY, &d) < 0)
            cli_die_diag(&cli, &d);
        if (test->r.rows != c->r.rows || test->r.cols != c->r.cols)
            cli_die(&cli, "--validate '%s' is %" PRIu64 " x %" PRIu64 ", '%s' is %" PRIu64
                    " x %" PRIu64 " (split them with one als-csr run)", R->validate,
                    test->r.rows, test->r.cols, R->train_path, c->r.rows, c->r.cols);
    }
    struct als_params *p = &R->p;
    uint64_t users = c->r.rows, items = c->r.cols;
    if (p->k > users || p->k > items)
        cli_die(&cli, "%u factors is more than the %" PRIu64 " users or %" PRIu64 " items "
                "of '%s'; lower -k", p->k, users, items, R->train_path);
    struct model *m;
    if (model_new(&m, users, items, p->k, p->implicit, p->biases, &d) < 0)
        cli_die_diag(&cli, &d);
    m->mu = p->biases ? als_mean(c) : 0.0;
    float lo, hi;
    csr_value_range(&c->r, &lo, &hi);
    if (R->init) {
        warm_start(R, c, m);
    } else {
        als_init_rows(m, 0, 0, p->seed);
        als_init_rows(m, 1, 0, p->seed);
    }
    double t0 = now();
    for (unsigned it = 1; it <= p->iters; it++) {
        double ts = now();
        struct als_failure f;
        if (als_half_step(p, c, m, 0, 0, users, &f, &d) < 0 ||
            als_half_step(p, c, m, 1, 0, items, &f, &d) < 0)
            die_numeric(&d);
        double secs = now() - ts;
        double loss = R->loss ? als_loss(p, c, m) : (double)NAN;
        char js[256] = "", tx[256] = "";
        if (test && !p->implicit) {
            struct metrics_rating mr;
            metrics_rating(m, test, lo, hi, &mr);
            snprintf(js, sizeof js, ",\"rmse\":%.6f,\"mae\":%.6f", mr.rmse, mr.mae);
            snprintf(tx, sizeof tx, ", test rmse %.4f mae %.4f", mr.rmse, mr.mae);
        } else if (test) {
            struct metrics_rank mk;
            if (metrics_ranking(m, c, test, 10, 0, p->threads, &mk, &d) < 0)
                cli_die_diag(&cli, &d);
            snprintf(js, sizeof js, ",\"precision@10\":%.6f,\"ndcg@10\":%.6f", mk.precision,
                     mk.ndcg);
            snprintf(tx, sizeof tx, ", test precision@10 %.4f ndcg@10 %.4f", mk.precision,
                     mk.ndcg);
        }
        report(R, it, secs, loss, js, tx);
    }
    m->params = (struct model_params){ .iterations = p->iters, .cg_steps = p->cg_steps,
                                       .alpha = p->alpha, .lambda = p->lambda,
                                       .solver = p->solver, .seed = p->seed,
                                       .has = MODEL_HAS_ITERATIONS | MODEL_HAS_CG_STEPS |
                                              MODEL_HAS_ALPHA | MODEL_HAS_LAMBDA |
                                              MODEL_HAS_SOLVER | MODEL_HAS_SEED };
    model_set_source(m, R->train_path, c->r.nnz, afile_checksum(&c->file), R->init);
    if (model_save(m, R->output, &d) < 0)
        cli_die_diag(&cli, &d);
    if (!cli.quiet && !R->show)
        fprintf(stderr, "%s: %" PRIu64 " users x %" PRIu64 " items, %u factors, %u "
                "iterations in %.2f s\n", cli.prog, users, items, p->k, p->iters, now() - t0);
    model_free(m);
    csr_free(c);
    csr_free(test);
    return CLI_EXIT_OK;
}

int
main(int argc, char **argv)
{
    struct run R;
    memset(&R, 0, sizeof R);
    als_params_default(&R.p, 1);
    const char *info_path = NULL, *export_dir = NULL;
    int mode = -1, biases = -1, solver = -1, force_tty = 0, given = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:k:n:a:l:f", longopts,
                              NULL)) != -1) {
        if (opt != OPT_PROGRESS_OPT && cli_common(&cli, opt, optarg))
            continue;
        if (opt != OPT_INFO && opt != OPT_EXPORT)
            given = 1; /* a training option: --info and --export-npy take none */
        switch (opt) {
        case 'o': R.output = optarg; break;
        case 'f': force_tty = 1; break;
        case 'k': R.p.k = (uint32_t)cli_opt_u64(&cli, "factors", optarg, 1, 4096); break;
        case 'n': R.p.iters = (uint32_t)cli_opt_u64(&cli, "iterations", optarg, 0, 100000); break;
        case 'a': R.p.alpha = cli_opt_double(&cli, "alpha", optarg, 0, 1e12); break;
        case 'l': R.p.lambda = cli_opt_double(&cli, "lambda", optarg, 0, 1e12); break;
        case OPT_IMPLICIT:
        case OPT_EXPLICIT:
            if (mode >= 0 && mode != (opt == OPT_IMPLICIT))
                cli_usage_error(&cli, "--implicit and --explicit exclude each other");
            mode = opt == OPT_IMPLICIT;
            break;
        case OPT_SOLVER:
            if (!strcmp(optarg, "cholesky"))
                solver = ALS_SOLVER_CHOLESKY;
            else if (!strcmp(optarg, "cg"))
                solver = ALS_SOLVER_CG;
            else
                cli_usage_error(&cli, "--solver takes cholesky or cg, not '%s'", optarg);
            break;
        case OPT_CG_STEPS:
            R.p.cg_steps = (uint32_t)cli_opt_u64(&cli, "cg-steps", optarg, 1, 1000);
            break;
        case OPT_BIASES:
        case OPT_NO_BIASES:
            if (biases >= 0 && biases != (opt == OPT_BIASES))
                cli_usage_error(&cli, "--biases and --no-biases exclude each other");
            biases = opt == OPT_BIASES;
            break;
        case OPT_INIT: R.init = optarg; break;
        case OPT_VALIDATE: R.validate = optarg; break;
        case OPT_LOSS: R.loss = 1; break;
        case OPT_PROGRESS_OPT:
            if (optarg && strcmp(optarg, "json"))
                cli_usage_error(&cli, "--progress takes no value or =json, not '%s'", optarg);
            cli.progress = 1;
            R.json = optarg != NULL;
            break;
        case OPT_INFO: info_path = optarg; break;
        case OPT_EXPORT: export_dir = optarg; break;
        default: cli_usage_error(&cli, "unexpected option");
        }
    }
    if (info_path) {
        if (optind < argc || export_dir || given)
            cli_usage_error(&cli, "--info takes one MODEL and nothing else");
        return info(info_path);
    }
    if (export_dir) {
        if (optind + 1 != argc || given)
            cli_usage_error(&cli, "--export-npy takes DIR and one MODEL and nothing else");
        return export_npy(export_dir, argv[optind]);
    }
    if (optind + 1 != argc)
        cli_usage_error(&cli, optind == argc ? "missing TRAIN.CSR" : "one TRAIN.CSR only");
    if (!R.output)
        cli_usage_error(&cli, "missing -o MODEL");
    if (!strcmp(R.output, "-") && !force_tty && isatty(1))
        cli_usage_error(&cli, "refusing to write a binary model to a terminal (use -o FILE or "
                        "-f)");
    R.train_path = argv[optind];
    int implicit = mode < 0 ? 1 : mode;
    struct als_params dflt;
    als_params_default(&dflt, implicit);
    R.p.implicit = implicit;
    R.p.solver = solver >= 0 ? solver : dflt.solver;
    R.p.biases = biases >= 0 ? biases : dflt.biases;
    if (R.p.biases && implicit)
        cli_usage_error(&cli, "--biases is for --explicit models");
    R.p.seed = cli.seed;
    R.p.threads = cli_threads(&cli);
    R.show = !cli.quiet && (cli_show_progress(&cli) || R.loss || R.validate);
    la_single_threaded();
    zio_install_signal_cleanup();
    return train(&R);
}
