/* SPDX-License-Identifier: MIT */
/* report: als-eval's rows of metrics with their lift, the quality gate, and its outputs. */
#ifndef ALS_REPORT_H
#define ALS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "metrics.h"

#define REPORT_MAX_ROWS (6 * METRICS_MAX_CUTS + 4)
#define REPORT_MAX_GATES 32

/* One named number of the evaluation: the model's, the baseline's (popularity, or the
 * training mean for rmse and mae) and the previous model's (NaN without one). */
struct report_row {
    char name[32];
    unsigned k; /* 0: not a cutoff metric */
    double model, base, old;
    int lower_better; /* rmse and mae */
};

struct report {
    struct report_row row[REPORT_MAX_ROWS];
    unsigned n;
    uint64_t users;        /* users with a relevant test item */
    int with_old;          /* a previous model was evaluated: the "previous" column */
    const char *base_name; /* the baseline column's title, "popularity" */
};

/* The rows of the ranking metrics: precision, recall, map, ndcg, hit and coverage at each
 * cutoff of model (in its order), then mrr and auc; base (the popularity baseline) must
 * have the same cutoffs, and so must old (the previous model), which may be NULL. */
void report_init(struct report *rep, const struct metrics_report *model,
                 const struct metrics_report *base, const struct metrics_report *old);

/* Append the rmse and mae rows (lower is better): the model's errors, the baseline's
 * (the training mean) and the previous model's (old may be NULL). */
void report_add_rating(struct report *rep, const struct metrics_rating *model,
                       const struct metrics_rating *base, const struct metrics_rating *old);

/* model / base, or base / model for a lower-is-better row; NaN when the divisor is not
 * positive (a lift over nothing is left out of the report). */
double report_lift(const struct report_row *r);

/* Merge the cutoffs extra[0..nextra) (those that gates name) into cuts[0..*ncut), sorted
 * ascending without repeats, as metrics_evaluate wants them; cuts has room for
 * METRICS_MAX_CUTS. ALS_ERANGE when more than METRICS_MAX_CUTS distinct ones. */
int report_cuts(unsigned *cuts, unsigned *ncut, const unsigned *extra, unsigned nextra,
                struct diag *d) ALS_MUSTCHECK;

/* Whether name is a metric a report can carry: "mrr", "auc", "rmse", "mae" (*kstr set to
 * NULL), or a ranking metric at a cutoff such as "ndcg@10" (*kstr set to the text after
 * '@', which the caller parses). Returns 1 if so, 0 if not. */
int report_metric_known(const char *name, const char **kstr);

/* The formats of report_print; report_format_names is NULL-terminated, in this order. */
enum { REPORT_TABLE, REPORT_TSV, REPORT_JSON };
extern const char *const report_format_names[];

/*
 * Print rep to f in one of the formats. tsv: a header line "metric model popularity lift
 * [previous]", then one line per row with %.6f numbers and the lift to 4 decimals (empty
 * when NaN). json: one line {"users":N,"baseline":"popularity","metrics":{NAME:{"model":x,
 * "baseline":y[,"lift":z][,"previous":w]},...}}. table: a users line, then aligned
 * columns (lift as "1.23x" or "-"). Write errors are left in f's error flag.
 */
void report_print(FILE *f, const struct report *rep, int format);

/* An SVG chart at path of precision and recall against the cutoffs, for model and for
 * base (popularity), written atomically. Returns 0 or plot_svg's code. */
int report_plot(const char *path, const struct metrics_report *model,
                const struct metrics_report *base, struct diag *d) ALS_MUSTCHECK;

/* A bound on one metric: --min METRIC=VALUE or --max METRIC=VALUE. */
struct report_gate {
    char metric[32];
    double value;
    int is_max;
};

/* Why the gate failed, one entry per reason, in the order they are found. */
enum {
    REPORT_BELOW = 1,  /* a --min not met: value < limit */
    REPORT_ABOVE,      /* a --max not met: value > limit */
    REPORT_FELL,       /* a row more than max_drop% worse than the previous model */
    REPORT_UNMEASURED  /* a gated metric is not in the report: the last entry */
};

struct report_failure {
    int kind;
    const char *metric; /* points into rep or into the gate */
    double value;       /* the model's value */
    double limit;       /* BELOW, ABOVE: the gate's value */
    double old, worse;  /* FELL: the previous value, how much worse (0.05: 5%) */
};

#define REPORT_MAX_FAILURES (REPORT_MAX_GATES + REPORT_MAX_ROWS)

/*
 * The gate: every gate g[0..ng) (a NaN value fails both --min and --max), then, when rep
 * has a previous model, every row whose value is worse than the previous one by more
 * than max_drop percent of it (rows where the previous value is NaN or 0 are skipped).
 * A gate on a metric rep does not carry stops the check there: its REPORT_UNMEASURED
 * entry comes last. The failures go to f (room for REPORT_MAX_FAILURES); returns their
 * count, 0 when the gate is met.
 */
size_t report_gate(const struct report *rep, const struct report_gate *g, size_t ng,
                   double max_drop, struct report_failure *f);

#endif
