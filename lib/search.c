/* SPDX-License-Identifier: MIT */
/* search: train over a grid of parameters, keep the model best on the validation set. */
#include "search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "model.h"
#include "progress.h"
#include "num.h"
#include "xmem.h"

static const char *const key_names[SEARCH_NKEYS] = { "k", "alpha", "lambda", "iterations",
                                                     "cg-steps" };

static int
key_of(const char *name, size_t n)
{
    static const struct {
        const char *name;
        int key;
    } names[] = { { "k", SEARCH_K },           { "factors", SEARCH_K },
                  { "alpha", SEARCH_ALPHA },   { "lambda", SEARCH_LAMBDA },
                  { "iterations", SEARCH_ITERATIONS }, { "n", SEARCH_ITERATIONS },
                  { "cg-steps", SEARCH_CG_STEPS } };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && !strncmp(names[i].name, name, n))
            return names[i].key;
    return -1;
}

static int
parse_value(struct search_axis *a, const char *v, struct diag *d)
{
    if (a->n == SEARCH_MAX_VALUES)
        return diag_set(d, ALS_EUSAGE, "--search: at most %d values for %s", SEARCH_MAX_VALUES,
                        key_names[a->key]);
    int whole = a->key == SEARCH_K || a->key == SEARCH_ITERATIONS || a->key == SEARCH_CG_STEPS;
    if (!whole && !strncmp(v, "auto", 4)) {
        double mul = 1;
        if (v[4] && (v[4] != '*' || num_parse_double(v + 5, 1e-9, 1e9, &mul) < 0))
            return diag_set(d, ALS_EUSAGE, "--search: %s value '%s' is not auto or auto*X",
                            key_names[a->key], v);
        a->is_auto[a->n] = 1;
        a->v[a->n++] = mul;
        return 0;
    }
    uint64_t u;
    double x;
    static const uint64_t hi[SEARCH_NKEYS] = { 4096, 0, 0, 100000, 1000 };
    if (whole ? num_parse_u64(v, a->key == SEARCH_ITERATIONS ? 0 : 1, hi[a->key], &u) < 0
              : num_parse_double(v, 0, 1e12, &x) < 0)
        return diag_set(d, ALS_EUSAGE, "--search: %s value '%s' is not %s", key_names[a->key], v,
                        whole ? "a whole number in range" : "a number from 0 to 1e12 or auto");
    a->is_auto[a->n] = 0;
    a->v[a->n++] = whole ? (double)u : x;
    return 0;
}

int
search_parse(const char *text, struct search_spec *out, struct diag *d)
{
    memset(out, 0, sizeof *out);
    char *copy = strdup(text), *save = NULL;
    if (!copy)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    int rc = 0;
    for (char *part = strtok_r(copy, " ;\t", &save); part; part = strtok_r(NULL, " ;\t", &save)) {
        char *eq = strchr(part, '=');
        if (eq && (!strncmp(part, "points=", 7) || !strncmp(part, "seconds=", 8))) {
            if (part[0] == 'p' ? num_parse_u64(eq + 1, 1, UINT64_MAX, &out->max_points) < 0
                               : num_parse_double(eq + 1, 0, 1e9, &out->max_seconds) < 0) {
                rc = diag_set(d, ALS_EUSAGE, "--search: '%s' needs a %s", part,
                              part[0] == 'p' ? "whole number of points" : "number of seconds");
                goto out;
            }
            continue;
        }
        int key = eq ? key_of(part, (size_t)(eq - part)) : -1;
        if (key < 0) {
            rc = diag_set(d, ALS_EUSAGE, "--search: '%s' is not KEY=LIST with KEY one of k, "
                          "alpha, lambda, iterations, cg-steps (or points=N, seconds=S)", part);
            goto out;
        }
        for (unsigned i = 0; i < out->naxes; i++)
            if (out->axis[i].key == key) {
                rc = diag_set(d, ALS_EUSAGE, "--search: %s given twice", key_names[key]);
                goto out;
            }
        struct search_axis *a = &out->axis[out->naxes++];
        a->key = key;
        char *vs = NULL;
        for (char *v = strtok_r(eq + 1, ",", &vs); v; v = strtok_r(NULL, ",", &vs))
            if ((rc = parse_value(a, v, d)) < 0)
                goto out;
        if (a->n == 0) {
            rc = diag_set(d, ALS_EUSAGE, "--search: no values for %s", key_names[key]);
            goto out;
        }
    }
    if (out->naxes == 0)
        rc = diag_set(d, ALS_EUSAGE, "--search: no parameters (e.g. 'k=32,64 lambda=10,30')");
out:
    free(copy);
    return rc;
}

uint64_t
search_points(const struct search_spec *s)
{
    uint64_t n = 1;
    for (unsigned i = 0; i < s->naxes; i++)
        n = n > UINT64_MAX / s->axis[i].n ? UINT64_MAX : n * s->axis[i].n;
    return n;
}

/* The parameters of grid point g (mixed radix, the last axis fastest) on top of base. */
static void
point_params(const struct search_spec *s, uint64_t g, struct als_params *p)
{
    for (unsigned i = s->naxes; i-- > 0;) {
        const struct search_axis *a = &s->axis[i];
        unsigned j = (unsigned)(g % a->n);
        g /= a->n;
        double v = a->v[j];
        switch (a->key) {
        case SEARCH_K:
            p->k = (uint32_t)v;
            p->fit &= ~(unsigned)ALS_FIT_K;
            break;
        case SEARCH_ALPHA:
            if (a->is_auto[j]) {
                p->fit |= ALS_FIT_ALPHA;
                p->alpha_mul = v;
            } else {
                p->alpha = v;
                p->fit &= ~(unsigned)ALS_FIT_ALPHA;
            }
            break;
        case SEARCH_LAMBDA:
            if (a->is_auto[j]) {
                p->fit |= ALS_FIT_LAMBDA;
                p->lambda_mul = v;
            } else {
                p->lambda = v;
                p->fit &= ~(unsigned)ALS_FIT_LAMBDA;
            }
            break;
        case SEARCH_ITERATIONS: p->iters = (uint32_t)v; break;
        case SEARCH_CG_STEPS: p->cg_steps = (uint32_t)v; break;
        }
    }
}

/* 1 when a scores better than b (implicit: higher ndcg@10; explicit: lower RMSE). */
static int
better(const struct train_progress *a, const struct train_progress *b, int explicit_)
{
    return explicit_ ? a->rmse < b->rmse : a->ndcg > b->ndcg;
}

int
search_run(const struct search_job *j, struct search_point *best, uint64_t *evaluated,
           struct diag *d)
{
    if (!j->base.validate)
        return diag_set(d, ALS_EUSAGE, "--search needs --validate TEST.CSR to score the points");
    uint64_t total = search_points(j->spec);
    uint64_t max = j->spec->max_points;
    uint64_t n = max && max < total ? max : total;
    uint64_t *order = NULL;
    struct model *keep = NULL, *m = NULL;
    struct search_point top;
    memset(&top, 0, sizeof top);
    int rc = 0, have = 0;
    if (evaluated)
        *evaluated = 0;
    if (n < total) {
        /* A seeded sample: the first n of a Fisher-Yates shuffle of the grid. */
        if (total > (uint64_t)1 << 24)
            return diag_set(d, ALS_EUSAGE, "--search: %llu points are too many to sample from",
                            (unsigned long long)total);
        order = xmem_alloc_array((size_t)total, sizeof *order);
        if (!order)
            return diag_set(d, ALS_ENOMEM, "out of memory");
        for (uint64_t i = 0; i < total; i++)
            order[i] = i;
        uint64_t h = hmap_mix64(j->seed ^ 0x5ea7c4ull);
        for (uint64_t i = 0; i < n; i++) {
            h = hmap_mix64(h + i);
            uint64_t r = i + h % (total - i), t = order[i];
            order[i] = order[r];
            order[r] = t;
        }
    }
    double t0 = progress_seconds();
    for (uint64_t i = 0; i < n; i++) {
        double limit = j->spec->max_seconds;
        if (i > 0 && limit > 0 && progress_seconds() - t0 > limit)
            break;
        struct train_job job = j->base;
        point_params(j->spec, order ? order[i] : i, &job.p);
        job.output = NULL;
        job.keep = &m;
        struct train_info info;
        double ts = progress_seconds();
        if ((rc = train_run(&job, &info, d)) < 0)
            goto out;
        struct search_point pt = { .index = i, .p = info.params, .score = info.last,
                                   .seconds = progress_seconds() - ts };
        pt.best = !have || better(&pt.score, &top.score, !info.params.implicit);
        if (pt.best) {
            model_free(keep);
            keep = m;
            top = pt;
            have = 1;
        } else {
            model_free(m);
        }
        m = NULL;
        if (evaluated)
            *evaluated = i + 1;
        if (j->table) {
            search_print_point(j->table, &pt, i == 0);
            fflush(j->table);
        }
        if (j->on_point)
            j->on_point(&pt, j->ctx);
    }
    if (j->base.output && (rc = model_save(keep, j->base.output, d)) < 0)
        goto out;
    if (best)
        *best = top;
out:
    model_free(m);
    model_free(keep);
    free(order);
    return rc;
}

void
search_print_point(FILE *f, const struct search_point *pt, int header)
{
    int ex = !pt->p.implicit;
    if (header)
        fprintf(f, "point\tk\titerations\talpha\tlambda\t%s\tseconds\tbest\n",
                ex ? "rmse\tmae" : "ndcg@10\tprecision@10");
    fprintf(f, "%llu\t%u\t%u\t%.6g\t%.6g\t%.6f\t%.6f\t%.3f\t%s\n",
            (unsigned long long)pt->index + 1, pt->p.k, pt->p.iters, pt->p.alpha, pt->p.lambda,
            ex ? pt->score.rmse : pt->score.ndcg, ex ? pt->score.mae : pt->score.precision,
            pt->seconds, pt->best ? "best" : "");
}
