/* SPDX-License-Identifier: MIT */
/* report: als-eval's rows of metrics with their lift, the quality gate, and its outputs. */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

const char *const report_format_names[] = { "table", "tsv", "json", NULL };

static const char *const cut_metrics[] = { "precision", "recall", "map", "ndcg", "hit",
                                           "coverage" };
#define NCUT_METRICS (sizeof cut_metrics / sizeof cut_metrics[0])

static struct report_row *
add_row(struct report *rep, const char *name, unsigned k, double model, double base,
        int lower_better)
{
    struct report_row *w = &rep->row[rep->n++];
    snprintf(w->name, sizeof w->name, "%s", name);
    w->k = k;
    w->model = model;
    w->base = base;
    w->old = (double)NAN;
    w->lower_better = lower_better;
    return w;
}

static void
at_values(const struct metrics_at *a, double v[NCUT_METRICS])
{
    v[0] = a->precision;
    v[1] = a->recall;
    v[2] = a->map;
    v[3] = a->ndcg;
    v[4] = a->hit;
    v[5] = a->coverage;
}

void
report_init(struct report *rep, const struct metrics_report *model,
            const struct metrics_report *base, const struct metrics_report *old)
{
    memset(rep, 0, sizeof *rep);
    rep->users = model->users;
    rep->with_old = old != NULL;
    rep->base_name = "popularity";
    for (unsigned c = 0; c < model->ncut; c++) {
        double mv[NCUT_METRICS], bv[NCUT_METRICS], ov[NCUT_METRICS];
        at_values(&model->at[c], mv);
        at_values(&base->at[c], bv);
        if (old)
            at_values(&old->at[c], ov);
        for (size_t t = 0; t < NCUT_METRICS; t++) {
            char name[32];
            snprintf(name, sizeof name, "%s@%u", cut_metrics[t], model->at[c].k);
            struct report_row *w = add_row(rep, name, model->at[c].k, mv[t], bv[t], 0);
            if (old)
                w->old = ov[t];
        }
    }
    struct report_row *w = add_row(rep, "mrr", 0, model->mrr, base->mrr, 0);
    if (old)
        w->old = old->mrr;
    w = add_row(rep, "auc", 0, model->auc, base->auc, 0);
    if (old)
        w->old = old->auc;
}

void
report_add_rating(struct report *rep, const struct metrics_rating *model,
                  const struct metrics_rating *base, const struct metrics_rating *old)
{
    struct report_row *w = add_row(rep, "rmse", 0, model->rmse, base->rmse, 1);
    if (old)
        w->old = old->rmse;
    w = add_row(rep, "mae", 0, model->mae, base->mae, 1);
    if (old)
        w->old = old->mae;
}

double
report_lift(const struct report_row *r)
{
    if (r->lower_better)
        return r->model > 0 ? r->base / r->model : (double)NAN;
    return r->base > 0 ? r->model / r->base : (double)NAN;
}

static int
cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

int
report_cuts(unsigned *cuts, unsigned *ncut, const unsigned *extra, unsigned nextra,
            struct diag *d)
{
    unsigned all[METRICS_MAX_CUTS + REPORT_MAX_GATES], n = 0, w = 0;
    if (*ncut > METRICS_MAX_CUTS || nextra > REPORT_MAX_GATES)
        return diag_set(d, ALS_ERANGE, "at most %d cutoffs", METRICS_MAX_CUTS);
    memcpy(all, cuts, *ncut * sizeof *cuts);
    n = *ncut;
    memcpy(all + n, extra, nextra * sizeof *extra);
    n += nextra;
    qsort(all, n, sizeof all[0], cmp_unsigned);
    for (unsigned i = 0; i < n; i++) {
        if (w && all[i] == all[w - 1])
            continue;
        if (w == METRICS_MAX_CUTS)
            return diag_set(d, ALS_ERANGE, "at most %d distinct cutoffs, counting those of "
                            "--min and --max", METRICS_MAX_CUTS);
        all[w++] = all[i];
    }
    memcpy(cuts, all, w * sizeof *cuts);
    *ncut = w;
    return 0;
}

int
report_metric_known(const char *name, const char **kstr)
{
    const char *at = strchr(name, '@');
    *kstr = NULL;
    if (!at)
        return !strcmp(name, "mrr") || !strcmp(name, "auc") || !strcmp(name, "rmse") ||
               !strcmp(name, "mae");
    for (size_t i = 0; i < NCUT_METRICS; i++)
        if ((size_t)(at - name) == strlen(cut_metrics[i]) &&
            !strncmp(name, cut_metrics[i], (size_t)(at - name))) {
            *kstr = at + 1;
            return 1;
        }
    return 0;
}

void
report_print(FILE *f, const struct report *rep, int format)
{
    const struct report_row *r = rep->row;
    if (format == REPORT_JSON) {
        fprintf(f, "{\"users\":%" PRIu64 ",\"baseline\":\"%s\",\"metrics\":{", rep->users,
                rep->base_name);
        for (unsigned i = 0; i < rep->n; i++) {
            fprintf(f, "%s\"%s\":{\"model\":%.6f,\"baseline\":%.6f", i ? "," : "", r[i].name,
                    r[i].model, r[i].base);
            double l = report_lift(&r[i]);
            if (isfinite(l))
                fprintf(f, ",\"lift\":%.4f", l);
            if (rep->with_old && isfinite(r[i].old))
                fprintf(f, ",\"previous\":%.6f", r[i].old);
            fputc('}', f);
        }
        fputs("}}\n", f);
        return;
    }
    if (format == REPORT_TSV) {
        fprintf(f, "metric\tmodel\t%s\tlift%s\n", rep->base_name,
                rep->with_old ? "\tprevious" : "");
        for (unsigned i = 0; i < rep->n; i++) {
            double l = report_lift(&r[i]);
            fprintf(f, "%s\t%.6f\t%.6f\t", r[i].name, r[i].model, r[i].base);
            if (isfinite(l))
                fprintf(f, "%.4f", l);
            if (rep->with_old)
                fprintf(f, "\t%.6f", r[i].old);
            fputc('\n', f);
        }
        return;
    }
    fprintf(f, "%" PRIu64 " users with test items\n", rep->users);
    fprintf(f, "%-14s %10s %11s %8s%s\n", "metric", "model", rep->base_name, "lift",
            rep->with_old ? "   previous" : "");
    for (unsigned i = 0; i < rep->n; i++) {
        double l = report_lift(&r[i]);
        fprintf(f, "%-14s %10.4f %11.4f ", r[i].name, r[i].model, r[i].base);
        if (isfinite(l))
            fprintf(f, "%7.2fx", l);
        else
            fprintf(f, "%8s", "-");
        if (rep->with_old)
            fprintf(f, " %10.4f", r[i].old);
        fputc('\n', f);
    }
}

int
report_plot(const char *path, const struct metrics_report *model,
            const struct metrics_report *base, struct diag *d)
{
    double x[METRICS_MAX_CUTS], mp[METRICS_MAX_CUTS], mr[METRICS_MAX_CUTS],
        pp[METRICS_MAX_CUTS], pr[METRICS_MAX_CUTS];
    for (unsigned c = 0; c < model->ncut; c++) {
        x[c] = model->at[c].k;
        mp[c] = model->at[c].precision;
        mr[c] = model->at[c].recall;
        pp[c] = base->at[c].precision;
        pr[c] = base->at[c].recall;
    }
    struct plot_series s[] = {
        { "model precision", "#1f77b4", 0, mp },
        { "model recall", "#ff7f0e", 0, mr },
        { "popularity precision", "#1f77b4", 1, pp },
        { "popularity recall", "#ff7f0e", 1, pr },
    };
    return plot_svg(path, "Precision and recall at k", "k", "value", x, model->ncut, s, 4, d);
}

size_t
report_gate(const struct report *rep, const struct report_gate *g, size_t ng,
            double max_drop, struct report_failure *f)
{
    size_t nf = 0;
    for (size_t t = 0; t < ng; t++) {
        const struct report_row *r = NULL;
        for (unsigned i = 0; i < rep->n && !r; i++)
            if (!strcmp(rep->row[i].name, g[t].metric))
                r = &rep->row[i];
        if (!r) {
            f[nf].kind = REPORT_UNMEASURED;
            f[nf].metric = g[t].metric;
            f[nf].value = f[nf].limit = f[nf].old = f[nf].worse = (double)NAN;
            return nf + 1;
        }
        double v = r->model;
        if (g[t].is_max ? !(v <= g[t].value) : !(v >= g[t].value)) {
            f[nf].kind = g[t].is_max ? REPORT_ABOVE : REPORT_BELOW;
            f[nf].metric = g[t].metric;
            f[nf].value = v;
            f[nf].limit = g[t].value;
            f[nf].old = f[nf].worse = (double)NAN;
            nf++;
        }
    }
    for (unsigned i = 0; rep->with_old && i < rep->n; i++) {
        const struct report_row *r = &rep->row[i];
        /* Coverage is breadth, not quality: a model that hits more of the test entries with
         * fewer distinct items is not worse. --max on coverage still gates it. */
        if (!isfinite(r->old) || r->old == 0 || !strncmp(r->name, "coverage@", 9))
            continue;
        double worse = r->lower_better ? (r->model - r->old) / fabs(r->old)
                                       : (r->old - r->model) / fabs(r->old);
        if (worse > max_drop / 100.0) {
            f[nf].kind = REPORT_FELL;
            f[nf].metric = r->name;
            f[nf].value = r->model;
            f[nf].limit = (double)NAN;
            f[nf].old = r->old;
            f[nf].worse = worse;
            nf++;
        }
    }
    return nf;
}
