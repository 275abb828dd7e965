/* SPDX-License-Identifier: MIT */
/* test_report: als-eval's rows and lift, cutoff merging, metric names, the gate (--min,
 * --max, --max-drop edges, lower-is-better rows) and the TSV, JSON and table texts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "metrics.h"
#include "report.h"

#include "t.h"

/* ---- hand-made reports ---- */

/* One cutoff (k = 5), numbers that print exactly: the model's and popularity's. */
static void
fill(struct metrics_report *r, double p, double rec, double map, double ndcg, double hit,
     double cov, double mrr, double auc)
{
    memset(r, 0, sizeof *r);
    r->ncut = 1;
    r->users = 4;
    r->at[0] = (struct metrics_at){ 5, p, rec, map, ndcg, hit, cov };
    r->mrr = mrr;
    r->auc = auc;
}

static void
model_and_popularity(struct metrics_report *m, struct metrics_report *p)
{
    fill(m, 0.25, 0.5, 0.125, 0.375, 0.75, 0.5, 0.5, 0.75);
    fill(p, 0.125, 0, 0.0625, 0.25, 0.5, 0.25, 0.25, 0.5);
}

/* The text report_print writes. */
static char *
printed(const struct report *rep, int format)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    report_print(f, rep, format);
    fclose(f);
    return buf;
}

/* ---- rows ---- */

TEST(report_rows_are_six_per_cutoff_then_mrr_and_auc)
{
    struct metrics_report m, p;
    struct report rep;
    fill(&m, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8);
    m.ncut = 2;
    m.at[1] = (struct metrics_at){ 10, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6 };
    fill(&p, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7, 2.8);
    p.ncut = 2;
    p.at[1] = (struct metrics_at){ 10, 3.1, 3.2, 3.3, 3.4, 3.5, 3.6 };
    report_init(&rep, &m, &p, NULL);
    static const char *const names[] = { "precision@5",  "recall@5",  "map@5",   "ndcg@5",
                                         "hit@5",        "coverage@5", "precision@10",
                                         "recall@10",    "map@10",    "ndcg@10", "hit@10",
                                         "coverage@10",  "mrr",       "auc" };
    const double mv[] = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 0.7, 0.8 };
    const double bv[] = { 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 3.1, 3.2, 3.3, 3.4, 3.5, 3.6, 2.7, 2.8 };
    T_EQ_U64(rep.n, 14);
    T_EQ_U64(rep.users, 4);
    T_EQ_INT(rep.with_old, 0);
    T_EQ_STR(rep.base_name, "popularity");
    for (unsigned i = 0; i < rep.n && i < 14; i++) {
        T_EQ_STR(rep.row[i].name, names[i]);
        T_TRUE(rep.row[i].model == mv[i] && rep.row[i].base == bv[i]);
        T_TRUE(isnan(rep.row[i].old));
        T_EQ_INT(rep.row[i].lower_better, 0);
        T_EQ_U64(rep.row[i].k, i < 6 ? 5 : i < 12 ? 10 : 0);
    }
}

TEST(report_previous_model_fills_the_old_column)
{
    struct metrics_report m, p, o;
    struct metrics_rating em = { 0.8, 0.5, 10, 0 }, eb = { 1.0, 0.75, 10, 0 },
                          eo = { 0.9, 0.625, 10, 0 };
    struct report rep;
    model_and_popularity(&m, &p);
    fill(&o, 0.2, 0.4, 0.1, 0.3, 0.7, 0.45, 0.4, 0.7);
    report_init(&rep, &m, &p, &o);
    report_add_rating(&rep, &em, &eb, &eo);
    const double ov[] = { 0.2, 0.4, 0.1, 0.3, 0.7, 0.45, 0.4, 0.7, 0.9, 0.625 };
    T_EQ_U64(rep.n, 10);
    T_EQ_INT(rep.with_old, 1);
    for (unsigned i = 0; i < rep.n && i < 10; i++)
        T_TRUE(rep.row[i].old == ov[i]);
    T_EQ_STR(rep.row[8].name, "rmse");
    T_EQ_STR(rep.row[9].name, "mae");
    T_TRUE(rep.row[8].model == 0.8 && rep.row[8].base == 1.0 && rep.row[8].lower_better);
    T_TRUE(rep.row[9].model == 0.5 && rep.row[9].base == 0.75 && rep.row[9].lower_better);
}

/* Lift: model / base, and base / model where lower is better; NaN over nothing. */
TEST(report_lift_by_hand)
{
    struct report_row r = { "ndcg@10", 10, 0.3, 0.2, (double)NAN, 0 };
    T_NEAR(report_lift(&r), 1.5, 1e-15);
    r.base = 0;
    T_TRUE(isnan(report_lift(&r)));
    r.base = -1; /* not a positive divisor either */
    T_TRUE(isnan(report_lift(&r)));
    struct report_row e = { "rmse", 0, 0.8, 1.0, (double)NAN, 1 };
    T_NEAR(report_lift(&e), 1.25, 1e-15);
    e.model = 0;
    T_TRUE(isnan(report_lift(&e)));
    e.model = 2.0; /* a model worse than the mean: lift below 1 */
    T_NEAR(report_lift(&e), 0.5, 1e-15);
}

/* ---- cutoffs and metric names ---- */

TEST(report_cuts_merges_sorts_and_drops_repeats)
{
    unsigned cuts[METRICS_MAX_CUTS] = { 10, 1, 5, 5 }, n = 4;
    const unsigned extra[] = { 7, 10, 1 };
    struct diag d = { 0 };
    T_OK(report_cuts(cuts, &n, extra, 3, &d));
    T_EQ_U64(n, 4);
    T_TRUE(cuts[0] == 1 && cuts[1] == 5 && cuts[2] == 7 && cuts[3] == 10);
    /* 16 cutoffs and gates at two of them: still 16 */
    for (unsigned i = 0; i < 16; i++)
        cuts[i] = 16 - i;
    n = 16;
    const unsigned at[] = { 10, 16 };
    T_OK(report_cuts(cuts, &n, at, 2, &d));
    T_EQ_U64(n, 16);
    for (unsigned i = 0; i < 16; i++)
        T_EQ_U64(cuts[i], i + 1);
    /* a 17th distinct one is refused, with the message als-eval prints */
    const unsigned more[] = { 17 };
    T_EQ_INT(report_cuts(cuts, &n, more, 1, &d), ALS_ERANGE);
    T_EQ_STR(d.msg, "at most 16 distinct cutoffs, counting those of --min and --max");
}

TEST(report_metric_names)
{
    const char *k = "x";
    T_EQ_INT(report_metric_known("mrr", &k), 1);
    T_TRUE(k == NULL);
    T_EQ_INT(report_metric_known("auc", &k), 1);
    T_EQ_INT(report_metric_known("rmse", &k), 1);
    T_EQ_INT(report_metric_known("mae", &k), 1);
    const char *name = "ndcg@10";
    T_EQ_INT(report_metric_known(name, &k), 1);
    T_TRUE(k == name + 5);
    T_EQ_INT(report_metric_known("coverage@x", &k), 1); /* the caller parses the cutoff */
    T_EQ_STR(k, "x");
    T_EQ_INT(report_metric_known("ndcg", &k), 0);
    T_EQ_INT(report_metric_known("foo@10", &k), 0);
    T_EQ_INT(report_metric_known("nd@10", &k), 0);
    T_EQ_INT(report_metric_known("ndcgg@10", &k), 0);
    T_EQ_INT(report_metric_known("mrr@10", &k), 0);
    T_EQ_INT(report_metric_known("", &k), 0);
}

/* ---- the gate ---- */

static void
gate(struct report_gate *g, const char *metric, double value, int is_max)
{
    snprintf(g->metric, sizeof g->metric, "%s", metric);
    g->value = value;
    g->is_max = is_max;
}

TEST(report_gate_min_and_max)
{
    struct metrics_report m, p;
    struct report rep;
    struct report_gate g[4];
    struct report_failure f[REPORT_MAX_FAILURES];
    model_and_popularity(&m, &p);
    report_init(&rep, &m, &p, NULL);
    /* on the bound passes: ndcg@5 = 0.375 >= 0.375, auc = 0.75 <= 0.75 */
    gate(&g[0], "ndcg@5", 0.375, 0);
    gate(&g[1], "auc", 0.75, 1);
    T_EQ_U64(report_gate(&rep, g, 2, 2.0, f), 0);
    T_EQ_U64(report_gate(&rep, g, 0, 2.0, f), 0);
    /* just past it fails, in the order of the gates */
    gate(&g[0], "auc", 0.7, 1);
    gate(&g[1], "hit@5", 0.5, 0);
    gate(&g[2], "ndcg@5", 0.376, 0);
    T_EQ_U64(report_gate(&rep, g, 3, 2.0, f), 2);
    T_EQ_INT(f[0].kind, REPORT_ABOVE);
    T_EQ_STR(f[0].metric, "auc");
    T_TRUE(f[0].value == 0.75 && f[0].limit == 0.7);
    T_EQ_INT(f[1].kind, REPORT_BELOW);
    T_EQ_STR(f[1].metric, "ndcg@5");
    T_TRUE(f[1].value == 0.375 && f[1].limit == 0.376);
    /* a NaN value meets no bound */
    rep.row[0].model = (double)NAN;
    gate(&g[0], "precision@5", -1e300, 0);
    gate(&g[1], "precision@5", 1e300, 1);
    T_EQ_U64(report_gate(&rep, g, 2, 2.0, f), 2);
    T_TRUE(f[0].kind == REPORT_BELOW && f[1].kind == REPORT_ABOVE);
}

/* rmse and mae: --max is the natural bound; --min works the same way on the value. */
TEST(report_gate_on_lower_is_better_rows)
{
    struct metrics_report m, p;
    struct metrics_rating em = { 0.8, 0.5, 10, 0 }, eb = { 1.0, 0.75, 10, 0 };
    struct report rep;
    struct report_gate g[2];
    struct report_failure f[REPORT_MAX_FAILURES];
    model_and_popularity(&m, &p);
    report_init(&rep, &m, &p, NULL);
    report_add_rating(&rep, &em, &eb, NULL);
    gate(&g[0], "rmse", 0.8, 1);
    gate(&g[1], "mae", 0.5, 0);
    T_EQ_U64(report_gate(&rep, g, 2, 2.0, f), 0);
    gate(&g[0], "rmse", 0.79, 1);
    gate(&g[1], "mae", 0.6, 0);
    T_EQ_U64(report_gate(&rep, g, 2, 2.0, f), 2);
    T_TRUE(f[0].kind == REPORT_ABOVE && f[0].value == 0.8 && f[0].limit == 0.79);
    T_TRUE(f[1].kind == REPORT_BELOW && f[1].value == 0.5 && f[1].limit == 0.6);
}

/* A gated metric without a row (rmse of an implicit model) ends the check: the failures
 * found before it, then it, and nothing after (no --max-drop either). */
TEST(report_gate_unmeasured_metric_comes_last)
{
    struct metrics_report m, p, o;
    struct report rep;
    struct report_gate g[3];
    struct report_failure f[REPORT_MAX_FAILURES];
    model_and_popularity(&m, &p);
    fill(&o, 1, 1, 1, 1, 1, 1, 1, 1); /* a much better previous model */
    report_init(&rep, &m, &p, &o);
    gate(&g[0], "mrr", 0.9, 0);
    gate(&g[1], "rmse", 1.0, 1);
    gate(&g[2], "auc", 0.1, 1);
    T_EQ_U64(report_gate(&rep, g, 3, 2.0, f), 2);
    T_EQ_INT(f[0].kind, REPORT_BELOW);
    T_EQ_STR(f[0].metric, "mrr");
    T_EQ_INT(f[1].kind, REPORT_UNMEASURED);
    T_EQ_STR(f[1].metric, "rmse");
    /* a gate at a cutoff that was not computed is unmeasured too */
    gate(&g[0], "ndcg@7", 0, 0);
    T_EQ_U64(report_gate(&rep, g, 1, 2.0, f), 1);
    T_EQ_INT(f[0].kind, REPORT_UNMEASURED);
}

/*
 * --max-drop: a row fails when (old - model) / |old| (higher is better) or
 * (model - old) / |old| (lower is better) is more than max_drop / 100. Numbers chosen to
 * be exact in binary: old 0.5, model 0.375 is 25% worse.
 */
TEST(report_gate_max_drop_edges)
{
    struct metrics_report m, p, o;
    struct report rep;
    struct report_failure f[REPORT_MAX_FAILURES];
    model_and_popularity(&m, &p);
    o = m; /* the same numbers: nothing fell, even at 0% */
    report_init(&rep, &m, &p, &o);
    T_EQ_U64(report_gate(&rep, NULL, 0, 0.0, f), 0);
    /* ndcg@5 fell from 0.5 to 0.375: exactly 25% passes at 25, fails below */
    o.at[0].ndcg = 0.5;
    report_init(&rep, &m, &p, &o);
    T_EQ_U64(report_gate(&rep, NULL, 0, 25.0, f), 0);
    T_EQ_U64(report_gate(&rep, NULL, 0, 24.999, f), 1);
    T_EQ_INT(f[0].kind, REPORT_FELL);
    T_EQ_STR(f[0].metric, "ndcg@5");
    T_TRUE(f[0].old == 0.5 && f[0].value == 0.375 && f[0].worse == 0.25);
    /* a better model never fails, whatever the drop allowed */
    o.at[0].ndcg = 0.25;
    report_init(&rep, &m, &p, &o);
    T_EQ_U64(report_gate(&rep, NULL, 0, 0.0, f), 0);
    /* to zero is 100% worse: only --max-drop 100 lets it through */
    o = m;
    m.at[0].hit = 0;
    report_init(&rep, &m, &p, &o);
    T_EQ_U64(report_gate(&rep, NULL, 0, 100.0, f), 0);
    T_EQ_U64(report_gate(&rep, NULL, 0, 99.0, f), 1);
    T_TRUE(f[0].worse == 1.0);
    /* coverage falling is not a model getting worse: left out of --max-drop */
    m = o;
    o.at[0].coverage = m.at[0].coverage * 2 + 0.5;
    report_init(&rep, &m, &p, &o);
    T_EQ_U64(report_gate(&rep, NULL, 0, 0.0, f), 0);
    /* a previous value of 0 or NaN gives no percentage: skipped */
    m = o;
    o.at[0].recall = 0;
    o.mrr = (double)NAN;
    m.mrr = 0;
    report_init(&rep, &m, &p, &o);
    T_EQ_U64(report_gate(&rep, NULL, 0, 0.0, f), 0);
    /* several rows fall: all reported, in row order, after the --min/--max failures */
    model_and_popularity(&m, &p);
    o = m;
    o.auc = 1.0;             /* 0.75: 25% worse */
    o.at[0].precision = 0.5; /* 0.25: 50% worse */
    report_init(&rep, &m, &p, &o);
    struct report_gate g;
    gate(&g, "mrr", 0.6, 0);
    T_EQ_U64(report_gate(&rep, &g, 1, 10.0, f), 3);
    T_TRUE(f[0].kind == REPORT_BELOW && !strcmp(f[0].metric, "mrr"));
    T_TRUE(f[1].kind == REPORT_FELL && !strcmp(f[1].metric, "precision@5") && f[1].worse == 0.5);
    T_TRUE(f[2].kind == REPORT_FELL && !strcmp(f[2].metric, "auc") && f[2].worse == 0.25);
}

/* Lower is better: rmse up from 0.8 to 1.0 is 25% worse; down is better. */
TEST(report_gate_max_drop_lower_is_better)
{
    struct metrics_report m, p;
    struct metrics_rating em = { 1.0, 0.5, 10, 0 }, eb = { 1.0, 0.75, 10, 0 },
                          eo = { 0.8, 0.625, 10, 0 };
    struct report rep;
    struct report_failure f[REPORT_MAX_FAILURES];
    model_and_popularity(&m, &p);
    report_init(&rep, &m, &p, &m);
    report_add_rating(&rep, &em, &eb, &eo);
    /* rmse: (1.0 - 0.8) / 0.8 = 0.25 (to rounding); mae 0.5 below 0.625: better */
    T_EQ_U64(report_gate(&rep, NULL, 0, 26.0, f), 0);
    T_EQ_U64(report_gate(&rep, NULL, 0, 24.0, f), 1);
    T_EQ_INT(f[0].kind, REPORT_FELL);
    T_EQ_STR(f[0].metric, "rmse");
    T_NEAR(f[0].worse, 0.25, 1e-15);
    T_TRUE(f[0].old == 0.8 && f[0].value == 1.0);
    /* without a previous model --max-drop checks nothing */
    report_init(&rep, &m, &p, NULL);
    report_add_rating(&rep, &em, &eb, NULL);
    T_EQ_U64(report_gate(&rep, NULL, 0, 0.0, f), 0);
}

/* ---- the texts ---- */

TEST(report_print_tsv_by_hand)
{
    struct metrics_report m, p, o;
    struct metrics_rating em = { 0.8, 0.5, 10, 0 }, eb = { 1.0, 0.75, 10, 0 },
                          eo = { 0.5, 0.25, 10, 0 };
    struct report rep;
    model_and_popularity(&m, &p);
    report_init(&rep, &m, &p, NULL);
    char *s = printed(&rep, REPORT_TSV);
    T_EQ_STR(s, "metric\tmodel\tpopularity\tlift\n"
                "precision@5\t0.250000\t0.125000\t2.0000\n"
                "recall@5\t0.500000\t0.000000\t\n"
                "map@5\t0.125000\t0.062500\t2.0000\n"
                "ndcg@5\t0.375000\t0.250000\t1.5000\n"
                "hit@5\t0.750000\t0.500000\t1.5000\n"
                "coverage@5\t0.500000\t0.250000\t2.0000\n"
                "mrr\t0.500000\t0.250000\t2.0000\n"
                "auc\t0.750000\t0.500000\t1.5000\n");
    free(s);
    /* with a previous model and rating rows */
    fill(&o, 0.5, 0.25, 0, 1, 0.125, 0.75, 0.0625, 1);
    report_init(&rep, &m, &p, &o);
    report_add_rating(&rep, &em, &eb, &eo);
    s = printed(&rep, REPORT_TSV);
    T_EQ_STR(s, "metric\tmodel\tpopularity\tlift\tprevious\n"
                "precision@5\t0.250000\t0.125000\t2.0000\t0.500000\n"
                "recall@5\t0.500000\t0.000000\t\t0.250000\n"
                "map@5\t0.125000\t0.062500\t2.0000\t0.000000\n"
                "ndcg@5\t0.375000\t0.250000\t1.5000\t1.000000\n"
                "hit@5\t0.750000\t0.500000\t1.5000\t0.125000\n"
                "coverage@5\t0.500000\t0.250000\t2.0000\t0.750000\n"
                "mrr\t0.500000\t0.250000\t2.0000\t0.062500\n"
                "auc\t0.750000\t0.500000\t1.5000\t1.000000\n"
                "rmse\t0.800000\t1.000000\t1.2500\t0.500000\n"
                "mae\t0.500000\t0.750000\t1.5000\t0.250000\n");
    free(s);
}

TEST(report_print_json_by_hand)
{
    struct metrics_report m, p, o;
    struct metrics_rating em = { 0.8, 0, 10, 0 }, eb = { 1.0, 0.75, 10, 0 };
    struct report rep;
    model_and_popularity(&m, &p);
    report_init(&rep, &m, &p, NULL);
    report_add_rating(&rep, &em, &eb, NULL);
    char *s = printed(&rep, REPORT_JSON);
    /* no lift over a zero baseline (recall) or a zero error (mae) */
    T_EQ_STR(s, "{\"users\":4,\"baseline\":\"popularity\",\"metrics\":{"
                "\"precision@5\":{\"model\":0.250000,\"baseline\":0.125000,\"lift\":2.0000},"
                "\"recall@5\":{\"model\":0.500000,\"baseline\":0.000000},"
                "\"map@5\":{\"model\":0.125000,\"baseline\":0.062500,\"lift\":2.0000},"
                "\"ndcg@5\":{\"model\":0.375000,\"baseline\":0.250000,\"lift\":1.5000},"
                "\"hit@5\":{\"model\":0.750000,\"baseline\":0.500000,\"lift\":1.5000},"
                "\"coverage@5\":{\"model\":0.500000,\"baseline\":0.250000,\"lift\":2.0000},"
                "\"mrr\":{\"model\":0.500000,\"baseline\":0.250000,\"lift\":2.0000},"
                "\"auc\":{\"model\":0.750000,\"baseline\":0.500000,\"lift\":1.5000},"
                "\"rmse\":{\"model\":0.800000,\"baseline\":1.000000,\"lift\":1.2500},"
                "\"mae\":{\"model\":0.000000,\"baseline\":0.750000}}}\n");
    free(s);
    /* previous: present where it is a number */
    o = m;
    o.auc = (double)NAN;
    report_init(&rep, &m, &p, &o);
    s = printed(&rep, REPORT_JSON);
    T_TRUE(strstr(s, "\"mrr\":{\"model\":0.500000,\"baseline\":0.250000,\"lift\":2.0000,"
                     "\"previous\":0.500000}") != NULL);
    T_TRUE(strstr(s, "\"auc\":{\"model\":0.750000,\"baseline\":0.500000,\"lift\":1.5000}}}\n") !=
           NULL);
    free(s);
}

TEST(report_print_table_by_hand)
{
    struct metrics_report m, p;
    struct report rep;
    model_and_popularity(&m, &p);
    report_init(&rep, &m, &p, NULL);
    char *s = printed(&rep, REPORT_TABLE);
    T_EQ_STR(s, "4 users with test items\n"
                "metric              model  popularity     lift\n"
                "precision@5        0.2500      0.1250    2.00x\n"
                "recall@5           0.5000      0.0000        -\n"
                "map@5              0.1250      0.0625    2.00x\n"
                "ndcg@5             0.3750      0.2500    1.50x\n"
                "hit@5              0.7500      0.5000    1.50x\n"
                "coverage@5         0.5000      0.2500    2.00x\n"
                "mrr                0.5000      0.2500    2.00x\n"
                "auc                0.7500      0.5000    1.50x\n");
    free(s);
    report_init(&rep, &m, &p, &m);
    s = printed(&rep, REPORT_TABLE);
    T_TRUE(strstr(s, "metric              model  popularity     lift   previous\n") != NULL);
    T_TRUE(strstr(s, "mrr                0.5000      0.2500    2.00x     0.5000\n") != NULL);
    free(s);
}

TEST(report_format_names_match_the_enum)
{
    T_EQ_STR(report_format_names[REPORT_TABLE], "table");
    T_EQ_STR(report_format_names[REPORT_TSV], "tsv");
    T_EQ_STR(report_format_names[REPORT_JSON], "json");
    T_TRUE(report_format_names[3] == NULL);
}
