/* SPDX-License-Identifier: MIT */
/* als-eval: a model's quality on held-out data, beside a popularity baseline, with a gate. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "als.h"
#include "cli.h"
#include "csr.h"
#include "linalg.h"
#include "metrics.h"
#include "model.h"
#include "plot.h"
#include "zio.h"

static const char usage[] =
    "usage: als-eval -m MODEL -c TRAIN.CSR [-k LIST] [--include-seen]\n"
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
    "      --format F         table (default on a terminal), tsv (default otherwise), json\n"
    "      --plot FILE.svg    precision and recall against k, model and popularity\n"
    "      --min METRIC=V     exit 3 unless METRIC >= V, e.g. ndcg@10=0.2 (repeatable)\n"
    "      --max METRIC=V     exit 3 unless METRIC <= V, e.g. rmse=0.95 (repeatable)\n"
    "      --baseline MODEL   also evaluate MODEL (yesterday's) on the same data...\n"
    "      --max-drop P       ...and exit 3 if a metric is more than P% worse (default 2%)\n"
    "Metrics: precision@k, recall@k, map@k, ndcg@k, hit@k, coverage@k, mrr, auc; and for\n"
    "explicit models rmse and mae (baseline: the training mean). See als-eval(1).\n"
    "  -j, --threads N        threads (default: all cores)\n"
    "  -q, --quiet            no table, only errors and the gate's verdict\n"
    "  -v, --verbose          more detail\n"
    "  -h, --help             this help\n"
    "      --version          version and library versions\n"
    "\n"
    "Exit status: 0 success, 1 runtime or data error, 2 usage error, 3 quality gate not met.\n";

enum {
    OPT_INCLUDE_SEEN = CLI_OPT_FIRST_PROGRAM,
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
    { "format", required_argument, NULL, OPT_FORMAT },
    { "plot", required_argument, NULL, OPT_PLOT },
    { "min", required_argument, NULL, OPT_MIN },
    { "max", required_argument, NULL, OPT_MAX },
    { "baseline", required_argument, NULL, OPT_BASELINE },
    { "max-drop", required_argument, NULL, OPT_MAX_DROP },
    { NULL, 0, NULL, 0 }
};

static struct cli cli = { .prog = "als-eval", .usage = usage, .help = help };

enum { FMT_TABLE, FMT_TSV, FMT_JSON };

/* One named number of the evaluation; lower_better for rmse and mae. */
struct row {
    char name[32];
    unsigned k; /* 0: not a cutoff metric */
    double model, base, old;
    int lower_better;
};

#define MAX_ROWS (6 * METRICS_MAX_CUTS + 4)
#define MAX_GATES 32

struct gate {
    char metric[32];
    double value;
    int is_max;
};

struct opts {
    const char *model, *train, *test, *plot, *baseline;
    unsigned cuts[METRICS_MAX_CUTS], ncut;
    unsigned gcuts[MAX_GATES], ngcut; /* cutoffs named by gates, merged after parsing */
    int include_seen, format, format_given;
    struct gate gate[MAX_GATES];
    unsigned ngate;
    double max_drop;
};

static void
parse_cuts(struct opts *o, const char *arg)
{
    o->ncut = 0;
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

static void
merge_cuts(struct opts *o)
{
    unsigned all[METRICS_MAX_CUTS + MAX_GATES], n = 0;
    for (unsigned i = 0; i < o->ncut; i++)
        all[n++] = o->cuts[i];
    for (unsigned i = 0; i < o->ngcut; i++)
        all[n++] = o->gcuts[i];
    o->ncut = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned j;
        for (j = 0; j < o->ncut && o->cuts[j] != all[i]; j++)
            ;
        if (j < o->ncut)
            continue;
        if (o->ncut == METRICS_MAX_CUTS)
            cli_usage_error(&cli, "at most %d distinct cutoffs, counting those of --min and "
                            "--max", METRICS_MAX_CUTS);
        o->cuts[o->ncut++] = all[i];
    }
}

static int
cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* Sorted and without repeats, as metrics_evaluate wants them. */
static void
normalise_cuts(struct opts *o)
{
    qsort(o->cuts, o->ncut, sizeof o->cuts[0], cmp_unsigned);
    unsigned w = 0;
    for (unsigned i = 0; i < o->ncut; i++)
        if (!w || o->cuts[i] != o->cuts[w - 1])
            o->cuts[w++] = o->cuts[i];
    o->ncut = w;
}

static const char *const cut_metrics[] = { "precision", "recall", "map", "ndcg", "hit",
                                           "coverage" };

/* Check a metric name; a cutoff it names is added to the list so it gets computed. */
static void
parse_gate(struct opts *o, const char *arg, int is_max)
{
    if (o->ngate == MAX_GATES)
        cli_usage_error(&cli, "too many --min/--max");
    const char *eq = strchr(arg, '=');
    struct gate *g = &o->gate[o->ngate];
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof g->metric)
        cli_usage_error(&cli, "--%s takes METRIC=VALUE, not '%s'", is_max ? "max" : "min", arg);
    memcpy(g->metric, arg, (size_t)(eq - arg));
    g->metric[eq - arg] = '\0';
    g->value = cli_opt_double(&cli, is_max ? "max" : "min", eq + 1, -1e300, 1e300);
    g->is_max = is_max;
    const char *at = strchr(g->metric, '@');
    int known = 0;
    if (at) {
        for (size_t i = 0; i < sizeof cut_metrics / sizeof cut_metrics[0]; i++)
            if ((size_t)(at - g->metric) == strlen(cut_metrics[i]) &&
                !strncmp(g->metric, cut_metrics[i], (size_t)(at - g->metric)))
                known = 1;
        if (known)
            o->gcuts[o->ngcut++] =
                (unsigned)cli_opt_u64(&cli, is_max ? "max" : "min", at + 1, 1, 100000);
    } else {
        known = !strcmp(g->metric, "mrr") || !strcmp(g->metric, "auc") ||
                !strcmp(g->metric, "rmse") || !strcmp(g->metric, "mae");
    }
    if (!known)
        cli_usage_error(&cli, "unknown metric '%s' (precision@K, recall@K, map@K, ndcg@K, "
                        "hit@K, coverage@K, mrr, auc, rmse, mae)", g->metric);
    o->ngate++;
}

static void
add_ranking_rows(struct row *rows, unsigned *n, const struct metrics_report *r,
                 const struct metrics_report *b, int which)
{
    for (unsigned c = 0; c < r->ncut; c++) {
        const struct metrics_at *x = &r->at[c], *y = &b->at[c];
        double mv[6] = { x->precision, x->recall, x->map, x->ndcg, x->hit, x->coverage };
        double bv[6] = { y->precision, y->recall, y->map, y->ndcg, y->hit, y->coverage };
        for (int t = 0; t < 6; t++) {
            struct row *w = which ? NULL : &rows[*n];
            if (which) { /* fill the old-model column of the existing rows */
                for (unsigned i = 0; i < *n; i++)
                    if (rows[i].k == x->k && !strncmp(rows[i].name, cut_metrics[t],
                                                      strlen(cut_metrics[t])))
                        rows[i].old = mv[t];
                continue;
            }
            snprintf(w->name, sizeof w->name, "%s@%u", cut_metrics[t], x->k);
            w->k = x->k;
            w->model = mv[t];
            w->base = bv[t];
            w->old = NAN;
            w->lower_better = 0;
            (*n)++;
        }
    }
}

static void
add_row(struct row *rows, unsigned *n, const char *name, double model, double base,
        int lower_better)
{
    struct row *w = &rows[(*n)++];
    snprintf(w->name, sizeof w->name, "%s", name);
    w->k = 0;
    w->model = model;
    w->base = base;
    w->old = NAN;
    w->lower_better = lower_better;
}

static double
lift(const struct row *r)
{
    if (r->lower_better)
        return r->model > 0 ? r->base / r->model : (double)NAN;
    return r->base > 0 ? r->model / r->base : (double)NAN;
}

static void
print_rows(const struct opts *o, const struct row *rows, unsigned n, uint64_t users,
           const char *base_name)
{
    int with_old = o->baseline != NULL;
    if (o->format == FMT_JSON) {
        printf("{\"users\":%" PRIu64 ",\"baseline\":\"%s\",\"metrics\":{", users, base_name);
        for (unsigned i = 0; i < n; i++) {
            printf("%s\"%s\":{\"model\":%.6f,\"baseline\":%.6f", i ? "," : "", rows[i].name,
                   rows[i].model, rows[i].base);
            double l = lift(&rows[i]);
            if (isfinite(l))
                printf(",\"lift\":%.4f", l);
            if (with_old && isfinite(rows[i].old))
                printf(",\"previous\":%.6f", rows[i].old);
            printf("}");
        }
        printf("}}\n");
        return;
    }
    if (o->format == FMT_TSV) {
        printf("metric\tmodel\t%s\tlift%s\n", base_name, with_old ? "\tprevious" : "");
        for (unsigned i = 0; i < n; i++) {
            double l = lift(&rows[i]);
            printf("%s\t%.6f\t%.6f\t", rows[i].name, rows[i].model, rows[i].base);
            if (isfinite(l))
                printf("%.4f", l);
            if (with_old)
                printf("\t%.6f", rows[i].old);
            printf("\n");
        }
        return;
    }
    printf("%" PRIu64 " users with test items\n", users);
    printf("%-14s %10s %11s %8s%s\n", "metric", "model", base_name, "lift",
           with_old ? "   previous" : "");
    for (unsigned i = 0; i < n; i++) {
        double l = lift(&rows[i]);
        printf("%-14s %10.4f %11.4f ", rows[i].name, rows[i].model, rows[i].base);
        if (isfinite(l))
            printf("%7.2fx", l);
        else
            printf("%8s", "-");
        if (with_old)
            printf(" %10.4f", rows[i].old);
        printf("\n");
    }
}

static void
write_plot(const struct opts *o, const struct metrics_report *m, const struct metrics_report *p)
{
    double x[METRICS_MAX_CUTS], mp[METRICS_MAX_CUTS], mr[METRICS_MAX_CUTS],
        pp[METRICS_MAX_CUTS], pr[METRICS_MAX_CUTS];
    for (unsigned c = 0; c < m->ncut; c++) {
        x[c] = m->at[c].k;
        mp[c] = m->at[c].precision;
        mr[c] = m->at[c].recall;
        pp[c] = p->at[c].precision;
        pr[c] = p->at[c].recall;
    }
    struct plot_series s[] = {
        { "model precision", "#1f77b4", 0, mp },
        { "model recall", "#ff7f0e", 0, mr },
        { "popularity precision", "#1f77b4", 1, pp },
        { "popularity recall", "#ff7f0e", 1, pr },
    };
    struct diag d = { 0 };
    if (plot_svg(o->plot, "Precision and recall at k", "k", "value", x, m->ncut, s, 4, &d) < 0)
        cli_die_diag(&cli, &d);
}

/* The gate: every --min/--max, and no metric more than max_drop worse than before. */
static int
gate(const struct opts *o, const struct row *rows, unsigned n)
{
    int failed = 0;
    for (unsigned g = 0; g < o->ngate; g++) {
        const struct gate *G = &o->gate[g];
        unsigned i;
        for (i = 0; i < n && strcmp(rows[i].name, G->metric); i++)
            ;
        if (i == n) {
            fprintf(stderr, "%s: gate: %s is not measured for this model (rmse and mae are "
                    "for explicit models)\n", cli.prog, G->metric);
            exit(CLI_EXIT_USAGE);
        }
        for (i = 0; i < n; i++) {
            if (strcmp(rows[i].name, G->metric))
                continue;
            double v = rows[i].model;
            if (G->is_max ? !(v <= G->value) : !(v >= G->value)) {
                fprintf(stderr, "%s: gate: %s = %.6g is %s the %s %g\n", cli.prog, G->metric, v,
                        G->is_max ? "above" : "below", G->is_max ? "maximum" : "minimum",
                        G->value);
                failed = 1;
            }
        }
    }
    if (o->baseline)
        for (unsigned i = 0; i < n; i++) {
            const struct row *r = &rows[i];
            if (!isfinite(r->old) || r->old == 0)
                continue;
            double worse = r->lower_better ? (r->model - r->old) / fabs(r->old)
                                           : (r->old - r->model) / fabs(r->old);
            if (worse > o->max_drop / 100.0) {
                fprintf(stderr, "%s: gate: %s fell from %.6g to %.6g (%.2f%% worse, at most "
                        "%g%% allowed)\n", cli.prog, r->name, r->old, r->model, 100 * worse,
                        o->max_drop);
                failed = 1;
            }
        }
    return failed;
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
        case 'm': o.model = optarg; break;
        case 'c': o.train = optarg; break;
        case 'k':
            if (cuts_given)
                cli_usage_error(&cli, "give -k once, as a list");
            parse_cuts(&o, optarg);
            cuts_given = 1;
            break;
        case OPT_INCLUDE_SEEN: o.include_seen = 1; break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "table"))
                o.format = FMT_TABLE;
            else if (!strcmp(optarg, "tsv"))
                o.format = FMT_TSV;
            else if (!strcmp(optarg, "json"))
                o.format = FMT_JSON;
            else
                cli_usage_error(&cli, "--format takes table, tsv or json, not '%s'", optarg);
            o.format_given = 1;
            break;
        case OPT_PLOT: o.plot = optarg; break;
        case OPT_MIN:
        case OPT_MAX: parse_gate(&o, optarg, opt == OPT_MAX); break;
        case OPT_BASELINE: o.baseline = optarg; break;
        case OPT_MAX_DROP: {
            char buf[64];
            size_t n = strlen(optarg);
            if (n == 0 || n >= sizeof buf)
                cli_usage_error(&cli, "invalid --max-drop '%s'", optarg);
            memcpy(buf, optarg, n + 1);
            if (buf[n - 1] == '%')
                buf[n - 1] = '\0';
            o.max_drop = cli_opt_double(&cli, "max-drop", buf, 0, 100);
            drop_given = 1;
            break;
        }
        default: cli_usage_error(&cli, "unexpected option");
        }
    }
    if (!o.model || !o.train)
        cli_usage_error(&cli, "missing %s", !o.model ? "-m MODEL" : "-c TRAIN.CSR");
    if (optind + 1 != argc)
        cli_usage_error(&cli, optind == argc ? "missing TEST.CSR" : "one TEST.CSR only");
    if (drop_given && !o.baseline)
        cli_usage_error(&cli, "--max-drop goes with --baseline");
    o.test = argv[optind];
    merge_cuts(&o);
    normalise_cuts(&o);
    if (!o.format_given)
        o.format = isatty(1) ? FMT_TABLE : FMT_TSV;
    la_single_threaded();
    zio_install_signal_cleanup();
    unsigned threads = cli_threads(&cli);

    struct diag d = { 0 };
    struct model *m, *old = NULL;
    struct csr *train, *test;
    if (model_open(&m, o.model, AFILE_VERIFY, &d) < 0 ||
        csr_open(&train, o.train, AFILE_VERIFY, &d) < 0 ||
        csr_open(&test, o.test, AFILE_VERIFY, &d) < 0 ||
        (o.baseline && model_open(&old, o.baseline, AFILE_VERIFY, &d) < 0))
        cli_die_diag(&cli, &d);
    if (train->r.rows != test->r.rows || train->r.cols != test->r.cols)
        cli_die(&cli, "'%s' is %" PRIu64 " x %" PRIu64 " but '%s' is %" PRIu64 " x %" PRIu64
                ": not the two parts of one split", o.train, train->r.rows, train->r.cols,
                o.test, test->r.rows, test->r.cols);
    if (old && old->users <= train->r.rows && old->items <= train->r.cols &&
        (old->users < train->r.rows || old->items < train->r.cols)) {
        struct model *g;
        if (model_grow(&g, old, train->r.rows, train->r.cols, &d) < 0)
            cli_die_diag(&cli, &d);
        model_free(old);
        old = g;
    }
    const struct model *ms[2] = { m, old };
    const char *names[2] = { o.model, o.baseline };
    for (int t = 0; t < 2; t++)
        if (ms[t] && (ms[t]->users != train->r.rows || ms[t]->items != train->r.cols))
            cli_die(&cli, "model '%s' is %" PRIu64 " x %" PRIu64 " but '%s' is %" PRIu64
                    " x %" PRIu64 ": they were not made from the same data", names[t],
                    ms[t]->users, ms[t]->items, o.train, train->r.rows, train->r.cols);

    struct metrics_report rm, rp, ro;
    if (metrics_evaluate(m, train, test, o.cuts, o.ncut, o.include_seen, threads, &rm, &d) < 0 ||
        metrics_evaluate(NULL, train, test, o.cuts, o.ncut, o.include_seen, threads, &rp,
                         &d) < 0 ||
        (old && metrics_evaluate(old, train, test, o.cuts, o.ncut, o.include_seen, threads, &ro,
                                 &d) < 0))
        cli_die_diag(&cli, &d);
    if (rm.users == 0 && test->r.nnz == 0)
        cli_die(&cli, "'%s' holds no test entries: nothing to evaluate", o.test);
    struct row rows[MAX_ROWS];
    unsigned n = 0;
    add_ranking_rows(rows, &n, &rm, &rp, 0);
    add_row(rows, &n, "mrr", rm.mrr, rp.mrr, 0);
    add_row(rows, &n, "auc", rm.auc, rp.auc, 0);
    if (old) {
        add_ranking_rows(rows, &n, &ro, &rp, 1);
        rows[n - 2].old = ro.mrr;
        rows[n - 1].old = ro.auc;
    }
    const char *base_name = "popularity";
    if (!m->implicit) {
        float lo, hi;
        csr_value_range(&train->r, &lo, &hi);
        struct metrics_rating er, eb, eo;
        double mean = als_mean(train);
        metrics_rating_fallback(m, test, lo, hi, mean, &er);
        metrics_rating_mean(mean, test, &eb);
        add_row(rows, &n, "rmse", er.rmse, eb.rmse, 1);
        add_row(rows, &n, "mae", er.mae, eb.mae, 1);
        if (old) {
            metrics_rating_fallback(old, test, lo, hi, mean, &eo);
            rows[n - 2].old = eo.rmse;
            rows[n - 1].old = eo.mae;
        }
        if (er.fallback && !cli.quiet)
            fprintf(stderr, "%s: %" PRIu64 " test entries whose user or item has no factors "
                    "were predicted by the training mean%s\n", cli.prog, er.fallback,
                    m->biases ? " and known biases" : "");
        if (cli.verbose)
            fprintf(stderr, "%s: rmse and mae baseline: the training mean %.4f\n", cli.prog,
                    als_mean(train));
    }
    if (o.plot) /* first: a plot that cannot be written leaves no half-reported run */
        write_plot(&o, &rm, &rp);
    if (!cli.quiet)
        print_rows(&o, rows, n, rm.users, base_name);
    int failed = gate(&o, rows, n);
    model_free(m);
    model_free(old);
    csr_free(train);
    csr_free(test);
    cli_close_stdout(&cli);
    return failed ? CLI_EXIT_GATE : CLI_EXIT_OK;
}
