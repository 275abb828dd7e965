/* SPDX-License-Identifier: MIT */
/* train: the training driver: a CSR file in, iterations of ALS, a model file out. */
#include "train.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "metrics.h"
#include "npy.h"
#include "progress.h"
#include "zio.h"

/* The half-step of a run on one machine: all of [from, to) here. */
static int
local_half_step(void *ctx, const struct als_params *p, const struct csr *c, struct model *m,
                int side, uint64_t from, uint64_t to, struct diag *d)
{
    (void)ctx;
    struct als_failure f;
    return als_half_step(p, c, m, side, from, to, &f, d);
}

static int
half_step(const struct train_job *job, const struct als_params *p, const struct csr *c,
          struct model *m, int side, uint64_t from, uint64_t to, struct diag *d)
{
    if (job->half_step)
        return job->half_step(job->half_step_ctx, p, c, m, side, from, to, d);
    return local_half_step(NULL, p, c, m, side, from, to, d);
}

static const char *
kind_of(int implicit)
{
    return implicit ? "an implicit" : "an explicit";
}

/* The model to train, from the --init model: its rows copied, the rows it lacks zero;
 * *users and *items: how many it had. */
/* MODEL_INIT_SAME when old was trained on the training side of c's split, or of a stable
 * split of the same family, and its own warm starts were as clean (see lib/guard.h). */
static int
init_lineage(const struct model *old, const struct csr *c)
{
    const struct model_params *op = &old->params;
    struct csr_split_info si;
    csr_split_info(c, &si);
    if (!(op->has & MODEL_HAS_LINEAGE) || op->init_split == MODEL_INIT_OTHER)
        return MODEL_INIT_OTHER;
    if (op->data_id == csr_content_id(c))
        return MODEL_INIT_SAME;
    if (si.side == CSR_SIDE_TRAIN && op->split_side == CSR_SIDE_TRAIN &&
        (op->split_id == si.split_id || (si.family && op->split_family == si.family)))
        return MODEL_INIT_SAME;
    return MODEL_INIT_OTHER;
}

static int
open_init(const struct train_job *job, struct als_params *p, const struct csr *c,
          struct model **out, uint64_t *users, uint64_t *items, int *lineage,
          struct diag *d)
{
    struct model *old = NULL;
    int rc = model_open(&old, job->init, AFILE_VERIFY, d);
    if (rc < 0)
        goto out;
    /* What the options leave open, a warm start takes from the model it continues: its
     * mode, biases, solver, rank, alpha and lambda. A value given again that differs is
     * refused, naming the flag. */
    const struct model_params *op = &old->params;
    unsigned took = 0;
    if (p->fit & ALS_FIT_MODE)
        p->implicit = old->implicit, took |= ALS_FIT_MODE;
    if (p->fit & ALS_FIT_BIASES)
        p->biases = old->biases, took |= ALS_FIT_BIASES;
    if ((p->fit & ALS_FIT_SOLVER) && (op->has & MODEL_HAS_SOLVER))
        p->solver = op->solver, took |= ALS_FIT_SOLVER;
    if (p->fit & ALS_FIT_K)
        p->k = old->k, took |= ALS_FIT_K;
    if (p->fit & ALS_FIT_CONFIDENCE) /* a model from before the key: linear */
        p->confidence = op->has & MODEL_HAS_CONFIDENCE ? op->confidence : ALS_CONF_LINEAR,
        took |= ALS_FIT_CONFIDENCE;
    if ((p->fit & ALS_FIT_ALPHA) && (op->has & MODEL_HAS_ALPHA))
        p->alpha = op->alpha, took |= ALS_FIT_ALPHA;
    if ((p->fit & ALS_FIT_LAMBDA) && (op->has & MODEL_HAS_LAMBDA))
        p->lambda = op->lambda, took |= ALS_FIT_LAMBDA;
    p->fit &= ~took;
    const char *flag = old->implicit != p->implicit ? (p->implicit ? "--implicit" : "--explicit")
                       : old->k != p->k             ? "-k"
                       : old->biases != p->biases   ? (p->biases ? "--biases" : "--no-biases")
                                                    : NULL;
    if (flag) {
        rc = diag_set(d, ALS_EFORMAT, "--init '%s' is %s model of rank %u%s; this run trains "
                      "%s model of rank %u%s (%s conflicts with it: leave it out to continue "
                      "the model)", job->init, kind_of(old->implicit), old->k,
                      old->biases ? " with biases" : "", kind_of(p->implicit), p->k,
                      p->biases ? " with biases" : "", flag);
        goto out;
    }
    if (old->users > c->r.rows || old->items > c->r.cols) {
        rc = diag_set(d, ALS_ERANGE, "--init '%s' has %" PRIu64 " users and %" PRIu64
                      " items, more than the %" PRIu64 " x %" PRIu64 " of '%s' (a vocabulary "
                      "only grows)", job->init, old->users, old->items, c->r.rows, c->r.cols,
                      job->train_path);
        goto out;
    }
    *users = old->users;
    *items = old->items;
    *lineage = init_lineage(old, c);
    rc = model_grow(out, old, c->r.rows, c->r.cols, d);
out:
    model_free(old);
    return rc;
}

/* The validation numbers of one iteration into pr. */
static int
validate(const struct als_params *p, const struct csr *c, const struct csr *test,
         const struct model *m, float lo, float hi, struct train_progress *pr, struct diag *d)
{
    if (!p->implicit) {
        struct metrics_rating mr;
        metrics_rating(m, test, lo, hi, &mr);
        pr->rmse = mr.rmse;
        pr->mae = mr.mae;
        pr->has |= TRAIN_HAS_RATING;
        return 0;
    }
    struct metrics_rank mk;
    int rc = metrics_ranking(m, c, test, 10, 0, p->threads, &mk, d);
    if (rc < 0)
        return rc;
    pr->precision = mk.precision;
    pr->ndcg = mk.ndcg;
    pr->has |= TRAIN_HAS_RANKING;
    return 0;
}

int
train_run(const struct train_job *job, struct train_info *info, struct diag *d)
{
    struct als_params pp = job->p; /* with what the data decides resolved */
    const struct als_params *p = &pp;
    struct train_info scratch;
    struct csr *c = NULL, *test = NULL;
    struct model *m = NULL;
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof *info);
    /* The model may replace its --init (read first, replaced atomically), never the data. */
    const char *ins[] = { job->train_path, job->validate };
    int rc = zio_check_distinct(&job->output, 1, ins, 2, d);
    if (rc < 0)
        goto out;
    rc = csr_open(&c, job->train_path, AFILE_VERIFY, d);
    if (rc < 0)
        goto out;
    if (job->validate) {
        if ((rc = csr_open(&test, job->validate, AFILE_VERIFY, d)) < 0)
            goto out;
        if (test->r.rows != c->r.rows || test->r.cols != c->r.cols) {
            rc = diag_set(d, ALS_EFORMAT, "--validate '%s' is %" PRIu64 " x %" PRIu64 ", '%s' "
                          "is %" PRIu64 " x %" PRIu64 " (split them with one als-csr run)",
                          job->validate, test->r.rows, test->r.cols, job->train_path,
                          c->r.rows, c->r.cols);
            goto out;
        }
    }
    uint64_t users = c->r.rows, items = c->r.cols;
    info->users = users;
    info->items = items;
    uint64_t old_users = 0, old_items = 0;
    int init_split = MODEL_INIT_NONE;
    if (job->init &&
        (rc = open_init(job, &pp, c, &m, &old_users, &old_items, &init_split, d)) < 0)
        goto out;
    als_params_fit(&pp, c);
    info->params = pp;
    if (p->k > users || p->k > items) {
        rc = diag_set(d, ALS_ERANGE, "%u factors is more than the %" PRIu64 " users or %" PRIu64
                      " items of '%s'; lower -k", p->k, users, items, job->train_path);
        goto out;
    }
    if (!job->init && (rc = model_new(&m, users, items, p->k, p->implicit, p->biases, d)) < 0)
        goto out;
    m->mu = p->biases ? als_mean(c) : 0.0;
    if (!job->init) {
        als_init_rows(m, 0, 0, p->seed);
        als_init_rows(m, 1, 0, p->seed);
    }
    float lo = 1, hi = 0;
    if (test && !p->implicit)
        csr_value_range(&c->r, &lo, &hi);
    if (job->init) {
        /* New rows start at 0 (model_grow zeroed them): they add nothing to the systems of
         * the others. New users are solved exactly against the old item factors, then new
         * items against all users; the training iterations take it from there. */
        struct als_params exact = *p;
        exact.solver = ALS_SOLVER_CHOLESKY;
        if ((rc = half_step(job, &exact, c, m, 0, old_users, users, d)) < 0 ||
            (rc = half_step(job, &exact, c, m, 1, old_items, items, d)) < 0)
            goto out;
        info->warm_started = 1;
        info->new_users = users - old_users;
        info->new_items = items - old_items;
    }
    double t0 = progress_seconds();
    for (unsigned it = 1; it <= p->iters; it++) {
        double ts = progress_seconds();
        if ((rc = half_step(job, p, c, m, 0, 0, users, d)) < 0 ||
            (rc = half_step(job, p, c, m, 1, 0, items, d)) < 0)
            goto out;
        struct train_progress pr = { .iteration = it, .iterations = p->iters };
        pr.seconds = progress_seconds() - ts;
        pr.loss = !job->loss      ? (double)NAN
                  : job->loss_of ? job->loss_of(job->half_step_ctx, p, c, m)
                                 : als_loss(p, c, m);
        if (test && (rc = validate(p, c, test, m, lo, hi, &pr, d)) < 0)
            goto out;
        info->last = pr;
        if (job->progress)
            job->progress(&pr, job->progress_ctx);
    }
    m->params = (struct model_params){ .iterations = p->iters, .cg_steps = p->cg_steps,
                                       .alpha = p->alpha, .lambda = p->lambda,
                                       .solver = p->solver, .seed = p->seed,
                                       .confidence = p->confidence,
                                       .has = MODEL_HAS_ITERATIONS | MODEL_HAS_CG_STEPS |
                                              MODEL_HAS_ALPHA | MODEL_HAS_LAMBDA |
                                              MODEL_HAS_SOLVER | MODEL_HAS_SEED |
                                              (p->implicit ? MODEL_HAS_CONFIDENCE : 0u) };
    model_set_source(m, job->train_path, c->r.nnz, afile_checksum(&c->file), job->init);
    struct csr_split_info si;
    csr_split_info(c, &si);
    m->params.data_id = csr_content_id(c);
    m->params.split_id = si.split_id;
    m->params.split_side = si.side;
    m->params.split_family = si.family;
    m->params.init_split = init_split;
    m->params.has |= MODEL_HAS_LINEAGE;
    if (!p->implicit && c->r.nnz) { /* what als-recommend clips predicted ratings to */
        float vlo, vhi;
        csr_value_range(&c->r, &vlo, &vhi);
        m->params.rating_min = (double)vlo;
        m->params.rating_max = (double)vhi;
        m->params.has |= MODEL_HAS_RANGE;
    }
    if (job->output && (rc = model_save(m, job->output, d)) < 0)
        goto out;
    info->seconds = progress_seconds() - t0;
    if (job->keep) {
        *job->keep = m;
        m = NULL;
    }
out:
    model_free(m);
    csr_free(c);
    csr_free(test);
    return rc;
}

static void
print_pair(const char *key, const char *value, void *ctx)
{
    fprintf((FILE *)ctx, "%s\t%s\n", key, value);
}

int
train_print_info(FILE *out, const char *model_path, struct diag *d)
{
    struct model *m;
    int rc = model_open(&m, model_path, AFILE_VERIFY, d);
    if (rc < 0)
        return rc;
    fprintf(out, "file\t%s\nformat\t%.4s %u.%u\n", model_path, m->file.h.kind,
            m->file.h.major, m->file.h.minor);
    fprintf(out, "users\t%" PRIu64 "\nitems\t%" PRIu64 "\n", m->users, m->items);
    model_describe(m, print_pair, out);
    model_free(m);
    return 0;
}

int
train_export_npy(const char *model_path, const char *dir, struct diag *d)
{
    struct model *m;
    int rc = model_open(&m, model_path, AFILE_VERIFY, d);
    if (rc < 0)
        return rc;
    rc = npy_export_model(m, dir, d);
    model_free(m);
    return rc;
}

void
train_format_progress(const struct train_progress *pr, int json, char *buf, size_t size)
{
    size_t n = 0;
#define ADD(...)                                                                  \
    do {                                                                          \
        if (n < size)                                                             \
            n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__);                \
    } while (0)
    if (json) {
        ADD("{\"iteration\":%u,\"seconds\":%.4f", pr->iteration, pr->seconds);
        if (!isnan(pr->loss))
            ADD(",\"loss\":%.10g", pr->loss);
        if (pr->has & TRAIN_HAS_RATING)
            ADD(",\"rmse\":%.6f,\"mae\":%.6f", pr->rmse, pr->mae);
        if (pr->has & TRAIN_HAS_RANKING)
            ADD(",\"precision@10\":%.6f,\"ndcg@10\":%.6f", pr->precision, pr->ndcg);
        ADD("}");
    } else {
        ADD("iteration %u/%u: %.3f s", pr->iteration, pr->iterations, pr->seconds);
        if (!isnan(pr->loss))
            ADD(", loss %.10g", pr->loss);
        if (pr->has & TRAIN_HAS_RATING)
            ADD(", test rmse %.4f mae %.4f", pr->rmse, pr->mae);
        if (pr->has & TRAIN_HAS_RANKING)
            ADD(", test precision@10 %.4f ndcg@10 %.4f", pr->precision, pr->ndcg);
    }
#undef ADD
}
