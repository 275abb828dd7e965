/* SPDX-License-Identifier: MIT */
/* evaluate: als-eval's job: a model, the popularity baseline and a previous model on a split. */
#include "evaluate.h"

#include <inttypes.h>
#include <string.h>

#include "afile.h"
#include "als.h"
#include "csr.h"
#include "guard.h"
#include "model.h"
#include "progress.h"

/* The previous model, grown to today's shape when it is smaller in one dimension and not
 * larger in the other (a model of another data set keeps its shape and is refused). */
static int
grow_previous(struct model **old, uint64_t users, uint64_t items, struct diag *d)
{
    struct model *o = *old, *g;
    if (!(o->users <= users && o->items <= items && (o->users < users || o->items < items)))
        return 0;
    int rc = model_grow(&g, o, users, items, d);
    if (rc < 0)
        return rc;
    model_free(o);
    *old = g;
    return 0;
}

int
evaluate_run(const struct evaluate_opts *o, struct evaluate_result *res, struct diag *d)
{
    struct model *m = NULL, *old = NULL;
    struct csr *train = NULL, *test = NULL;
    int rc;
    memset(res, 0, sizeof *res);
    if ((rc = model_open(&m, o->model, AFILE_VERIFY, d)) < 0 ||
        (rc = csr_open(&train, o->train, AFILE_VERIFY, d)) < 0 ||
        (rc = csr_open(&test, o->test, AFILE_VERIFY, d)) < 0 ||
        (o->previous && (rc = model_open(&old, o->previous, AFILE_VERIFY, d)) < 0))
        goto out;
    uint64_t nu = train->r.rows, ni = train->r.cols;
    if (nu != test->r.rows || ni != test->r.cols) {
        rc = diag_set(d, ALS_EFORMAT, "'%s' is %" PRIu64 " x %" PRIu64 " but '%s' is %" PRIu64
                      " x %" PRIu64 ": not the two parts of one split", o->train, nu, ni,
                      o->test, test->r.rows, test->r.cols);
        goto out;
    }
    if (old && (rc = grow_previous(&old, nu, ni, d)) < 0)
        goto out;
    const struct model *ms[2] = { m, old };
    const char *names[2] = { o->model, o->previous };
    for (int t = 0; t < 2; t++)
        if (ms[t] && (ms[t]->users != nu || ms[t]->items != ni)) {
            rc = diag_set(d, ALS_EFORMAT, "model '%s' is %" PRIu64 " x %" PRIu64 " but '%s' is "
                          "%" PRIu64 " x %" PRIu64 ": they were not made from the same data",
                          names[t], ms[t]->users, ms[t]->items, o->train, nu, ni);
            goto out;
        }
    if (test->r.nnz == 0) {
        rc = diag_set(d, ALS_EFORMAT, "'%s' holds no test entries: nothing to evaluate",
                      o->test);
        goto out;
    }
    struct guard_files gf = { m, old, train, test, o->model, o->previous, o->train, o->test };
    if (!o->allow_leakage && (rc = guard_check(&gf, d)) < 0)
        goto out;
    struct progress pr;
    progress_init(&pr, o->progress, o->progress_ctx);
    if ((rc = metrics_evaluate_progress(m, train, test, o->cuts, o->ncut, o->include_seen,
                                        o->threads, &res->model, &pr, "users", d)) < 0 ||
        (rc = metrics_evaluate_progress(NULL, train, test, o->cuts, o->ncut, o->include_seen,
                                        o->threads, &res->popularity, &pr,
                                        "baseline users", d)) < 0 ||
        (old && (rc = metrics_evaluate_progress(old, train, test, o->cuts, o->ncut,
                                                o->include_seen, o->threads, &res->previous,
                                                &pr, "previous-model users", d)) < 0))
        goto out;
    res->has_previous = old != NULL;
    if (!m->implicit) {
        float lo, hi;
        csr_value_range(&train->r, &lo, &hi);
        res->rated = 1;
        res->biases = m->biases;
        res->mean = als_mean(train);
        metrics_rating_fallback(m, test, lo, hi, res->mean, &res->rating);
        metrics_rating_mean(res->mean, test, &res->rating_mean);
        if (old)
            metrics_rating_fallback(old, test, lo, hi, res->mean, &res->rating_previous);
    }
out:
    model_free(m);
    model_free(old);
    csr_free(train);
    csr_free(test);
    return rc;
}
