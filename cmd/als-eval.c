/* SPDX-License-Identifier: MIT */
/* als-eval: a model's quality on held-out data, beside a popularity baseline, with a gate. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "evaluate.h"
#include "linalg.h"
#include "report.h"
#include "zio.h"

static const char usage[] =
    "usage: als-eval -m MODEL -c TRAIN.CSR [-k LIST] [--include-seen] [--allow-leakage]\n"
    "                [--format table|tsv|json] [--plot FILE.svg] [--min METRIC=VALUE]\n"
    "                [--max METRIC=VALUE] [--baseline MODEL [--max-drop PERCENT]]\n"
    "                [-j N] [-q] [-v] TEST.CSR";

static const char help[] =
    "Evaluate a model on the held-out part of an als-csr split, beside a popularity\n"
    "baseline (items ranked by their training count), and gate on the result.\n"
    "\n"
    "  -m, --model MODEL      the model (als-train)\n"
    "  -c, --csr TRAIN.CSR    the training part: its items are not ranked, and it gives the\n"
    "                         popularity\n"
    "  -k, --cutoffs LIST     cutoffs, comma-separated (default 10), e.g. 1,5,10,20\n"
    "      --include-seen     rank training items too\n"
    "      --allow-leakage    evaluate even when the files say the model saw test entries\n"
    "                         or TRAIN and TEST are not the two sides of one split\n"
    "      --format F         table (default on a terminal), tsv (default otherwise), json\n"
    "      --plot FILE.svg    precision and recall against k, model and popularity\n"
    "      --min METRIC=V     exit 3 unless METRIC >= V, e.g. ndcg@10=0.2 (repeatable)\n"
    "      --max METRIC=V     exit 3 unless METRIC <= V, e.g. rmse=0.95 (repeatable)\n"
    "      --baseline MODEL   also evaluate MODEL (yesterday's) on the same data...\n"
    "      --max-drop P       ...and exit 3 if a metric is more than P% worse (default 2%)\n"
    "Metrics: precision@k, recall@k, map@k, ndcg@k, hit@k, coverage@k, mrr, auc; and for\n"
    "explicit models rmse and mae (baseline: the training mean). See als-eval(1).\n"
    "  -j, --threads N        threads (default: all cores)\n"
    "      --progress         progress with rate and ETA even when stderr is not a\n"
    "                         terminal (where it shows by default after a second)\n"
    "  -q, --quiet            no table, only errors and the gate's verdict\n"
    "  -v, --verbose          more detail\n"
    "  -h, --help             this help\n"
    "      --version          version and library versions\n"
    "\n"
    "Exit status: 0 success, 1 runtime or data error, 2 usage error, 3 quality gate not met.\n";

enum {
    OPT_INCLUDE_SEEN = CLI_OPT_FIRST_PROGRAM,
    OPT_ALLOW_LEAKAGE,
    OPT_FORMAT,
    OPT_PLOT,
    OPT_MIN,
    OPT_MAX,
    OPT_BASELINE,
    OPT_MAX_DROP
};

static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    { "model", required_argument, NULL, 'm' },
    { "csr", required_argument, NULL, 'c' },
    { "cutoffs", required_argument, NULL, 'k' },
    { "include-seen", no_argument, NULL, OPT_INCLUDE_SEEN },
    { "allow-leakage", no_argument, NULL, OPT_ALLOW_LEAKAGE },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "plot", required_argument, NULL, OPT_PLOT },
    { "min", required_argument, NULL, OPT_MIN },
    { "max", required_argument, NULL, OPT_MAX },
    { "baseline", required_argument, NULL, OPT_BASELINE },
    { "max-drop", required_argument, NULL, OPT_MAX_DROP },
    { NULL, 0, NULL, 0 }
};

static struct cli cli = { .prog = "als-eval", .usage = usage, .help = help };

struct opts {
    struct evaluate_opts e;
    const char *plot;
    unsigned cuts[METRICS_MAX_CUTS], ncut;
    unsigned gcuts[REPORT_MAX_GATES], ngcut; /* cutoffs named by gates, merged after parsing */
    int format, format_given;
    struct report_gate gate[REPORT_MAX_GATES];
    unsigned ngate;
    double max_drop;
};

static void
parse_cuts(struct opts *o, const char *arg)
{
    o->ncut = 0;
    /* strtok would skip empty elements: "5,,6" and "5," are typos, not lists. */
    size_t n = strlen(arg);
    if (n && (arg[0] == ',' || arg[n - 1] == ',' || strstr(arg, ",,")))
        cli_usage_error(&cli, "empty element in --cutoffs '%s'", arg);
    char *copy = strdup(arg);
    if (!copy)
        cli_die(&cli, "out of memory");
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        if (o->ncut == METRICS_MAX_CUTS)
            cli_usage_error(&cli, "at most %d cutoffs", METRICS_MAX_CUTS);
        o->cuts[o->ncut++] = (unsigned)cli_opt_u64(&cli, "cutoffs", tok, 1, 100000);
    }
    free(copy);
    if (o->ncut == 0)
        cli_usage_error(&cli, "empty --cutoffs list");
}

/* Check a metric name; a cutoff it names is added to the list so it gets computed. */
static void
parse_gate(struct opts *o, const char *arg, int is_max)
{
    const char *opt = is_max ? "max" : "min", *eq = strchr(arg, '='), *kstr;
    if (o->ngate == REPORT_MAX_GATES)
        cli_usage_error(&cli, "too many --min/--max");
    struct report_gate *g = &o->gate[o->ngate];
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof g->metric)
        cli_usage_error(&cli, "--%s takes METRIC=VALUE, not '%s'", opt, arg);
    memcpy(g->metric, arg, (size_t)(eq - arg));
    g->metric[eq - arg] = '\0';
    g->value = cli_opt_double(&cli, opt, eq + 1, -1e300, 1e300);
    g->is_max = is_max;
    if (!report_metric_known(g->metric, &kstr))
        cli_usage_error(&cli, "unknown metric '%s' (precision@K, recall@K, map@K, ndcg@K, "
                        "hit@K, coverage@K, mrr, auc, rmse, mae)", g->metric);
    if (kstr)
        o->gcuts[o->ngcut++] = (unsigned)cli_opt_u64(&cli, opt, kstr, 1, 100000);
    o->ngate++;
}

static double
parse_max_drop(const char *arg)
{
    char buf[64];
    size_t n = strlen(arg);
    if (n == 0 || n >= sizeof buf)
        cli_usage_error(&cli, "invalid --max-drop '%s'", arg);
    memcpy(buf, arg, n + 1);
    if (buf[n - 1] == '%')
        buf[n - 1] = '\0';
    return cli_opt_double(&cli, "max-drop", buf, 0, 100);
}

/* The gate's verdict on stderr (even with -q); 1 when it failed. A gate on a metric this
 * model has no row for cannot pass silently: exit 2. */
static int
print_gate(const struct opts *o, const struct report *rep)
{
    struct report_failure f[REPORT_MAX_FAILURES];
    size_t n = report_gate(rep, o->gate, o->ngate, o->max_drop, f);
    for (size_t i = 0; i < n; i++) {
        const struct report_failure *x = &f[i];
        if (x->kind == REPORT_UNMEASURED) {
            fprintf(stderr, "%s: gate: %s is not measured for this model (rmse and mae are "
                    "for explicit models)\n", cli.prog, x->metric);
            exit(CLI_EXIT_USAGE);
        }
        if (x->kind == REPORT_FELL)
            fprintf(stderr, "%s: gate: %s fell from %.6g to %.6g (%.2f%% worse, at most "
                    "%g%% allowed)\n", cli.prog, x->metric, x->old, x->value, 100 * x->worse,
                    o->max_drop);
        else
            fprintf(stderr, "%s: gate: %s = %.6g is %s the %s %g\n", cli.prog, x->metric,
                    x->value, x->kind == REPORT_ABOVE ? "above" : "below",
                    x->kind == REPORT_ABOVE ? "maximum" : "minimum", x->limit);
    }
    return n > 0;
}

int
main(int argc, char **argv)
{
    struct opts o;
    memset(&o, 0, sizeof o);
    o.cuts[0] = 10;
    o.ncut = 1;
    o.max_drop = 2.0;
    int cuts_given = 0, drop_given = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "m:c:k:", longopts, NULL)) !=
           -1) {
        if (cli_common(&cli, opt, optarg))
            continue;
        switch (opt) {
        case 'm': o.e.model = optarg; break;
        case 'c': o.e.train = optarg; break;
        case 'k':
            if (cuts_given)
                cli_usage_error(&cli, "give -k once, as a list");
            parse_cuts(&o, optarg);
            cuts_given = 1;
            break;
        case OPT_INCLUDE_SEEN: o.e.include_seen = 1; break;
        case OPT_ALLOW_LEAKAGE: o.e.allow_leakage = 1; break;
        case OPT_FORMAT:
            o.format = cli_choice(&cli, "format", optarg, report_format_names);
            o.format_given = 1;
            break;
        case OPT_PLOT: o.plot = optarg; break;
        case OPT_MIN:
        case OPT_MAX: parse_gate(&o, optarg, opt == OPT_MAX); break;
        case OPT_BASELINE: o.e.previous = optarg; break;
        case OPT_MAX_DROP:
            o.max_drop = parse_max_drop(optarg);
            drop_given = 1;
            break;
        default: cli_usage_error(&cli, "unexpected option");
        }
    }
    if (!o.e.model || !o.e.train)
        cli_usage_error(&cli, "missing %s", !o.e.model ? "-m MODEL" : "-c TRAIN.CSR");
    if (optind + 1 != argc)
        cli_usage_error(&cli, optind == argc ? "missing TEST.CSR" : "one TEST.CSR only");
    if (drop_given && !o.e.previous)
        cli_usage_error(&cli, "--max-drop goes with --baseline");
    o.e.test = argv[optind];
    struct diag d = { 0 };
    if (report_cuts(o.cuts, &o.ncut, o.gcuts, o.ngcut, &d) < 0)
        cli_usage_error(&cli, "%s", d.msg);
    o.e.cuts = o.cuts;
    o.e.ncut = o.ncut;
    if (!o.format_given)
        o.format = isatty(1) ? REPORT_TABLE : REPORT_TSV;
    la_single_threaded();
    zio_install_signal_cleanup();
    o.e.threads = cli_threads(&cli);

    struct cli_progress pg;
    cli_progress_init(&pg, &cli, 0); /* the report comes after the progress */
    if (pg.on) {
        o.e.progress = cli_progress_report;
        o.e.progress_ctx = &pg;
    }
    const char *ins[] = { o.e.model, o.e.train, o.e.test, o.e.previous };
    if (o.plot && zio_check_distinct(&o.plot, 1, ins, 4, &d) < 0)
        cli_die_diag(&cli, &d);
    struct evaluate_result r;
    int rc = evaluate_run(&o.e, &r, &d);
    cli_progress_end(&pg);
    if (rc < 0)
        cli_die_diag(&cli, &d);
    struct report rep;
    report_init(&rep, &r.model, &r.popularity, r.has_previous ? &r.previous : NULL);
    if (r.rated) {
        report_add_rating(&rep, &r.rating, &r.rating_mean,
                          r.has_previous ? &r.rating_previous : NULL);
        if (r.rating.fallback)
            cli_warn(&cli, "%" PRIu64 " test entries whose user or item has no factors were "
                     "predicted by the training mean%s", r.rating.fallback,
                     r.biases ? " and known biases" : "");
        if (cli.verbose)
            fprintf(stderr, "%s: rmse and mae baseline: the training mean %.4f\n", cli.prog,
                    r.mean);
    }
    /* the plot first: one that cannot be written leaves no half-reported run */
    if (o.plot && report_plot(o.plot, &r.model, &r.popularity, &d) < 0)
        cli_die_diag(&cli, &d);
    if (!cli.quiet)
        report_print(stdout, &rep, o.format);
    int failed = print_gate(&o, &rep);
    cli_close_stdout(&cli);
    return failed ? CLI_EXIT_GATE : CLI_EXIT_OK;
}
