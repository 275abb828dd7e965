/* SPDX-License-Identifier: MIT */
/* test_train: the training driver: losses, callbacks, threads, warm starts, errors, hook. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "als.h"
#include "csr.h"
#include "diag.h"
#include "metrics.h"
#include "model.h"
#include "npy.h"
#include "train.h"

#include "t.h"
#include "fixtures.h"
#include "scratch.h"

/* "Never increases": 1e-6 of the loss, the float slack of the solves and of the sum (as in
 * test_als). A fold-in by als_foldin_user against the same factors: the same system in
 * float32, built and solved by another path, so a few float ulps of the row. */
#define TOL_MONO 1e-6
#define TOL_FOLD 1e-5

/* ---- fixtures: a 12 x 9 matrix, and its first 10 users and 7 items ---- */

enum { NU = 12, NI = 9, NU_OLD = 10, NI_OLD = 7 };

/* About half of the pairs, from a fixed seed: stars 1..5 (explicit) or durations in
 * (0.1, 3.1) (implicit). Every user and item has an entry in both matrices. */
static size_t
entries(int explicit_vals, uint64_t rows, uint64_t cols, struct ent *e)
{
    uint64_t s = explicit_vals ? 11 : 12;
    size_t n = 0;
    for (uint32_t u = 0; u < NU; u++)
        for (uint32_t i = 0; i < NI; i++) {
            uint64_t r = rnd(&s);
            int keep = (r & 1) || (u % NI) == i || (i + 3) % NU == u;
            float v = explicit_vals ? (float)(1 + (r >> 8) % 5)
                                    : 0.1f + (float)((r >> 8) % 1000) * 0.003f;
            if (keep && u < rows && i < cols)
                e[n++] = (struct ent){ u, i, v };
        }
    return n;
}

/* Save the rows x cols matrix to a scratch file named name; returns its path. */
static const char *
save_csr(const char *name, int explicit_vals, uint64_t rows, uint64_t cols)
{
    struct ent e[NU * NI];
    size_t n = entries(explicit_vals, rows, cols, e);
    struct csr *c = csr_of(e, n, rows, cols);
    struct diag d = { 0 };
    const char *p = tpath(name);
    if (csr_save(c, p, &d) < 0) {
        printf("# csr_save: %s\n", d.msg);
        abort();
    }
    csr_free(c);
    return p;
}

static const char *
full_csr(int explicit_vals)
{
    return save_csr(explicit_vals ? "ex.csr" : "im.csr", explicit_vals, NU, NI);
}

static const char *
old_csr(int explicit_vals)
{
    return save_csr(explicit_vals ? "ex-old.csr" : "im-old.csr", explicit_vals, NU_OLD, NI_OLD);
}

static struct train_job
job_of(int implicit, const char *train, const char *out)
{
    struct train_job j;
    memset(&j, 0, sizeof j);
    als_params_default(&j.p, implicit);
    j.p.k = 3;
    j.p.iters = 4;
    j.p.lambda = 0.1;
    j.p.alpha = 2;
    j.p.seed = 5;
    j.p.threads = 1;
    j.p.fit = 0; /* every parameter as given: the tests of the defaults set it again */
    j.train_path = train;
    j.output = out;
    return j;
}

/* ---- what the progress callback was told ---- */

struct seen {
    unsigned n;
    struct train_progress pr[32];
};

static void
record(const struct train_progress *pr, void *ctx)
{
    struct seen *s = ctx;
    if (s->n < 32)
        s->pr[s->n] = *pr;
    s->n++;
}

static void
check_losses(int implicit)
{
    struct seen s = { 0 };
    struct train_job j = job_of(implicit, full_csr(!implicit), tpath("loss.model"));
    j.p.solver = ALS_SOLVER_CHOLESKY;
    j.p.iters = 10;
    j.loss = 1;
    j.progress = record;
    j.progress_ctx = &s;
    struct train_info info;
    struct diag d = { 0 };
    T_OK(train_run(&j, &info, &d));
    T_EQ_U64(s.n, 10);
    for (unsigned t = 0; t < s.n && t < 32; t++) {
        T_EQ_U64(s.pr[t].iteration, t + 1);
        T_EQ_U64(s.pr[t].iterations, 10);
        T_EQ_U64(s.pr[t].has, 0);
        T_TRUE(isfinite(s.pr[t].loss) && s.pr[t].loss > 0);
        T_TRUE(s.pr[t].seconds >= 0);
        if (t > 0 && !(s.pr[t].loss <= s.pr[t - 1].loss * (1 + TOL_MONO)))
            T_FAIL("loss went up at iteration %u: %.9g after %.9g", t + 1, s.pr[t].loss,
                   s.pr[t - 1].loss);
    }
    T_TRUE(s.pr[9].loss < s.pr[0].loss);
    T_EQ_U64(info.users, NU);
    T_EQ_U64(info.items, NI);
    T_EQ_INT(info.warm_started, 0);
    T_TRUE(info.seconds >= 0);
    /* The last loss is the saved model's. */
    struct model *m;
    struct csr *c;
    T_OK(model_open(&m, j.output, AFILE_VERIFY, &d));
    T_OK(csr_open(&c, j.train_path, AFILE_VERIFY, &d));
    T_NEAR(als_loss(&j.p, c, m), s.pr[9].loss, 0);
    T_EQ_U64(m->params.iterations, 10);
    T_EQ_INT(m->params.solver, MODEL_SOLVER_CHOLESKY);
    T_EQ_U64(m->params.seed, 5);
    T_EQ_U64(m->params.train_nnz, c->r.nnz);
    T_EQ_U64(m->params.data_checksum, afile_checksum(&c->file));
    T_EQ_STR(m->params.init, "none");
    model_free(m);
    csr_free(c);
}

TEST(loss_never_increases_with_cholesky_implicit)
{
    check_losses(1);
}

TEST(loss_never_increases_with_cholesky_explicit)
{
    check_losses(0);
}

TEST(no_loss_asked_is_nan_and_zero_iterations_no_callback)
{
    struct seen s = { 0 };
    struct train_job j = job_of(1, full_csr(0), tpath("nan.model"));
    j.p.iters = 3;
    j.progress = record;
    j.progress_ctx = &s;
    T_OK(train_run(&j, NULL, NULL));
    T_EQ_U64(s.n, 3);
    for (unsigned t = 0; t < 3; t++)
        T_TRUE(isnan(s.pr[t].loss));
    s.n = 0;
    j.p.iters = 0;
    T_OK(train_run(&j, NULL, NULL));
    T_EQ_U64(s.n, 0);
}

/* The validation numbers of the last iteration are those of the saved model. */
TEST(validation_metrics_are_the_saved_models)
{
    const char *tr = full_csr(1), *te = save_csr("ex-test.csr", 1, NU, NI);
    struct diag d = { 0 };
    for (int implicit = 0; implicit <= 1; implicit++) {
        struct seen s = { 0 };
        struct train_job j = job_of(implicit, tr, tpath("val.model"));
        j.validate = te;
        j.progress = record;
        j.progress_ctx = &s;
        T_OK(train_run(&j, NULL, &d));
        T_EQ_U64(s.n, 4);
        struct model *m;
        struct csr *c, *t;
        T_OK(model_open(&m, j.output, AFILE_VERIFY, &d));
        T_OK(csr_open(&c, tr, AFILE_VERIFY, &d));
        T_OK(csr_open(&t, te, AFILE_VERIFY, &d));
        const struct train_progress *last = &s.pr[3];
        if (!implicit) {
            T_EQ_U64(last->has, TRAIN_HAS_RATING);
            float lo, hi;
            csr_value_range(&c->r, &lo, &hi);
            T_NEAR((double)lo, 1, 0);
            T_NEAR((double)hi, 5, 0);
            struct metrics_rating mr;
            metrics_rating(m, t, lo, hi, &mr);
            T_NEAR(last->rmse, mr.rmse, 0);
            T_NEAR(last->mae, mr.mae, 0);
            T_TRUE(mr.rmse > 0 && mr.mae > 0 && mr.mae <= mr.rmse);
        } else {
            T_EQ_U64(last->has, TRAIN_HAS_RANKING);
            struct metrics_rank mk;
            T_OK(metrics_ranking(m, c, t, 10, 0, 1, &mk, &d));
            T_NEAR(last->precision, mk.precision, 0);
            T_NEAR(last->ndcg, mk.ndcg, 0);
        }
        model_free(m);
        csr_free(c);
        csr_free(t);
    }
}

/* ---- determinism ---- */

TEST(one_and_two_threads_give_the_same_bytes)
{
    const int solvers[2] = { ALS_SOLVER_CG, ALS_SOLVER_CHOLESKY };
    for (int implicit = 0; implicit <= 1; implicit++)
        for (int sv = 0; sv < 2; sv++) {
            struct train_job j = job_of(implicit, full_csr(!implicit), tpath("j1.model"));
            j.p.solver = solvers[sv];
            j.validate = j.train_path; /* metrics on threads too: they must not matter */
            T_OK(train_run(&j, NULL, NULL));
            j.p.threads = 2;
            j.output = tpath("j2.model");
            T_OK(train_run(&j, NULL, NULL));
            size_t n1, n2;
            unsigned char *a = slurp(tpath("j1.model"), &n1), *b = slurp(tpath("j2.model"), &n2);
            T_TRUE(a && b && n1 > 0);
            T_EQ_MEM(a, n1, b, n2);
            free(a);
            free(b);
        }
}

/* ---- warm start ---- */

static void
check_same_rows(const struct model *a, const struct model *b, uint64_t users, uint64_t items)
{
    T_EQ_MEM(a->U, users * a->k * sizeof(float), b->U, users * b->k * sizeof(float));
    T_EQ_MEM(a->V, items * a->k * sizeof(float), b->V, items * b->k * sizeof(float));
    if (a->biases && b->biases) {
        T_EQ_MEM(a->ub, users * sizeof(float), b->ub, users * sizeof(float));
        T_EQ_MEM(a->ib, items * sizeof(float), b->ib, items * sizeof(float));
    }
}

TEST(warm_start_of_the_same_shape_with_no_iterations_keeps_the_factors)
{
    struct diag d = { 0 };
    for (int implicit = 0; implicit <= 1; implicit++) {
        struct train_job j = job_of(implicit, full_csr(!implicit), tpath("base.model"));
        T_OK(train_run(&j, NULL, &d));
        j.init = tpath("base.model");
        j.output = tpath("same.model");
        j.p.iters = 0;
        struct train_info info;
        T_OK(train_run(&j, &info, &d));
        T_EQ_INT(info.warm_started, 1);
        T_EQ_U64(info.new_users, 0);
        T_EQ_U64(info.new_items, 0);
        struct model *a, *b;
        T_OK(model_open(&a, tpath("base.model"), AFILE_VERIFY, &d));
        T_OK(model_open(&b, tpath("same.model"), AFILE_VERIFY, &d));
        T_EQ_U64(b->users, NU);
        T_EQ_U64(b->items, NI);
        check_same_rows(a, b, NU, NI);
        T_NEAR(a->mu, b->mu, 0);
        T_EQ_STR(b->params.init, tpath("base.model"));
        T_EQ_U64(b->params.iterations, 0);
        model_free(a);
        model_free(b);
    }
}

/*
 * A warm start from a model of the first 10 users and 7 items: the old rows are copied,
 * each new user is the fold-in of its history against the old items (als_foldin_user on
 * the grown model), each new item the same fold-in with the roles of users and items
 * swapped, against all users.
 */
static void
check_fold_in(int implicit)
{
    struct diag d = { 0 };
    struct train_job j = job_of(implicit, old_csr(!implicit), tpath("old.model"));
    T_OK(train_run(&j, NULL, &d));
    j.train_path = full_csr(!implicit);
    j.init = tpath("old.model");
    j.output = tpath("grown.model");
    j.p.iters = 0;
    j.p.solver = ALS_SOLVER_CG; /* the fold-in is exact whatever the iterations use */
    struct train_info info;
    T_OK(train_run(&j, &info, &d));
    T_EQ_U64(info.new_users, NU - NU_OLD);
    T_EQ_U64(info.new_items, NI - NI_OLD);
    struct model *old, *g, *ref;
    struct csr *c;
    T_OK(model_open(&old, tpath("old.model"), AFILE_VERIFY, &d));
    T_OK(model_open(&g, tpath("grown.model"), AFILE_VERIFY, &d));
    T_OK(csr_open(&c, j.train_path, AFILE_VERIFY, &d));
    check_same_rows(old, g, NU_OLD, NI_OLD);
    T_NEAR(g->mu, implicit ? 0.0 : als_mean(c), 0);
    uint32_t k = g->k;

    /* New users against the old items (the new items' rows are zero then). */
    T_OK(model_grow(&ref, old, NU, NI, &d));
    ref->mu = g->mu;
    struct als_foldin f;
    T_OK(als_foldin_init(&f, &j.p, ref, &d));
    for (uint64_t u = NU_OLD; u < NU; u++) {
        const uint32_t *idx;
        const float *val;
        uint64_t n;
        float x[8], bias = 0;
        T_OK(csr_row(&c->r, u, &idx, &val, &n));
        T_TRUE(n > 0);
        T_OK(als_foldin_user(&f, idx, val, n, x, &bias));
        for (uint32_t t = 0; t < k; t++)
            T_NEAR((double)g->U[u * k + t], (double)x[t], TOL_FOLD);
        if (!implicit)
            T_NEAR((double)g->ub[u], (double)bias, TOL_FOLD);
        memcpy(ref->U + u * k, x, k * sizeof *x);
        if (!implicit)
            ref->ub[u] = bias;
    }
    als_foldin_release(&f);

    /* New items against all users: the transposed model, users as its "items". */
    struct model tr = *ref;
    tr.users = ref->items;
    tr.items = ref->users;
    tr.U = ref->V;
    tr.V = ref->U;
    tr.ub = ref->ib;
    tr.ib = ref->ub;
    T_OK(als_foldin_init(&f, &j.p, &tr, &d));
    for (uint64_t i = NI_OLD; i < NI; i++) {
        const uint32_t *idx;
        const float *val;
        uint64_t n;
        float y[8], bias = 0;
        T_OK(csr_row(&c->t, i, &idx, &val, &n));
        T_TRUE(n > 0);
        T_OK(als_foldin_user(&f, idx, val, n, y, &bias));
        for (uint32_t t = 0; t < k; t++)
            T_NEAR((double)g->V[i * k + t], (double)y[t], TOL_FOLD);
        if (!implicit)
            T_NEAR((double)g->ib[i], (double)bias, TOL_FOLD);
    }
    als_foldin_release(&f);
    model_free(ref);
    model_free(old);
    model_free(g);
    csr_free(c);
}

TEST(warm_start_from_a_smaller_model_folds_in_the_new_rows_implicit)
{
    check_fold_in(1);
}

TEST(warm_start_from_a_smaller_model_folds_in_the_new_rows_explicit)
{
    check_fold_in(0);
}

/* ---- the half-step hook ---- */

struct call {
    int side, solver;
    uint64_t from, to;
};

struct calls {
    unsigned n;
    struct call c[64];
};

static int
hook(void *ctx, const struct als_params *p, const struct csr *c, struct model *m, int side,
     uint64_t from, uint64_t to, struct diag *d)
{
    struct calls *cs = ctx;
    if (cs->n < 64)
        cs->c[cs->n] = (struct call){ side, p->solver, from, to };
    cs->n++;
    struct als_failure f;
    return als_half_step(p, c, m, side, from, to, &f, d);
}

TEST(the_hook_solves_both_sides_of_each_iteration_over_all_rows)
{
    struct train_job j = job_of(1, full_csr(0), tpath("plain.model"));
    T_OK(train_run(&j, NULL, NULL));
    struct calls cs = { 0 };
    j.half_step = hook;
    j.half_step_ctx = &cs;
    j.output = tpath("hooked.model");
    T_OK(train_run(&j, NULL, NULL));
    T_EQ_U64(cs.n, 2 * 4);
    for (unsigned t = 0; t < cs.n && t < 64; t++) {
        T_EQ_INT(cs.c[t].side, (int)(t % 2));
        T_EQ_U64(cs.c[t].from, 0);
        T_EQ_U64(cs.c[t].to, t % 2 ? NI : NU);
        T_EQ_INT(cs.c[t].solver, ALS_SOLVER_CG);
    }
    size_t n1, n2;
    unsigned char *a = slurp(tpath("plain.model"), &n1), *b = slurp(tpath("hooked.model"), &n2);
    T_TRUE(a && b);
    T_EQ_MEM(a, n1, b, n2);
    free(a);
    free(b);
}

TEST(the_hook_also_folds_in_the_rows_a_warm_start_adds)
{
    struct train_job j = job_of(1, old_csr(0), tpath("hold.model"));
    T_OK(train_run(&j, NULL, NULL));
    struct calls cs = { 0 };
    j.train_path = full_csr(0);
    j.init = tpath("hold.model");
    j.output = tpath("hgrown.model");
    j.p.iters = 1;
    j.half_step = hook;
    j.half_step_ctx = &cs;
    T_OK(train_run(&j, NULL, NULL));
    T_EQ_U64(cs.n, 4);
    const struct call want[4] = { { 0, ALS_SOLVER_CHOLESKY, NU_OLD, NU },
                                  { 1, ALS_SOLVER_CHOLESKY, NI_OLD, NI },
                                  { 0, ALS_SOLVER_CG, 0, NU },
                                  { 1, ALS_SOLVER_CG, 0, NI } };
    for (unsigned t = 0; t < 4; t++) {
        T_EQ_INT(cs.c[t].side, want[t].side);
        T_EQ_INT(cs.c[t].solver, want[t].solver);
        T_EQ_U64(cs.c[t].from, want[t].from);
        T_EQ_U64(cs.c[t].to, want[t].to);
    }
}

static int
failing_hook(void *ctx, const struct als_params *p, const struct csr *c, struct model *m,
             int side, uint64_t from, uint64_t to, struct diag *d)
{
    (void)ctx, (void)p, (void)c, (void)m, (void)side, (void)from, (void)to;
    return diag_set(d, ALS_EIO, "rank 3 is gone");
}

TEST(a_failing_hook_stops_the_run_with_its_message_and_no_model)
{
    struct train_job j = job_of(1, full_csr(0), tpath("never.model"));
    j.half_step = failing_hook;
    struct diag d = { 0 };
    T_EQ_INT(train_run(&j, NULL, &d), ALS_EIO);
    T_EQ_STR(d.msg, "rank 3 is gone");
    T_TRUE(access(j.output, F_OK) != 0);
}

/* ---- errors: the code and the CLI's message ---- */

static void
expect_error(const struct train_job *j, int code, const char *msg)
{
    struct diag d = { 0 };
    T_EQ_INT(train_run(j, NULL, &d), code);
    T_EQ_INT(d.code, code);
    T_EQ_STR(d.msg, msg);
    T_TRUE(access(j->output, F_OK) != 0);
}

TEST(more_factors_than_users_or_items_is_erange)
{
    struct train_job j = job_of(1, full_csr(0), tpath("err.model"));
    char msg[600];
    j.p.k = NI + 1;
    snprintf(msg, sizeof msg, "10 factors is more than the 12 users or 9 items of '%s'; "
             "lower -k", j.train_path);
    expect_error(&j, ALS_ERANGE, msg);
    j.p.k = NI; /* as many as items: fine */
    j.p.iters = 1;
    T_OK(train_run(&j, NULL, NULL));
    remove(j.output);
}

TEST(a_validation_set_of_another_shape_is_eformat)
{
    struct train_job j = job_of(1, full_csr(0), tpath("err.model"));
    j.validate = old_csr(0);
    char msg[600];
    snprintf(msg, sizeof msg, "--validate '%s' is 10 x 7, '%s' is 12 x 9 (split them with "
             "one als-csr run)", j.validate, j.train_path);
    expect_error(&j, ALS_EFORMAT, msg);
}

TEST(a_missing_file_is_eio_naming_it)
{
    char msg[600];
    struct train_job j = job_of(1, tpath("nothere.csr"), tpath("err.model"));
    snprintf(msg, sizeof msg, "cannot open '%s': %s", j.train_path, strerror(ENOENT));
    expect_error(&j, ALS_EIO, msg);
    j.train_path = full_csr(0);
    j.validate = tpath("nothere.csr");
    expect_error(&j, ALS_EIO, msg);
    j.validate = NULL;
    j.init = tpath("nothere.model");
    snprintf(msg, sizeof msg, "cannot open '%s': %s", j.init, strerror(ENOENT));
    expect_error(&j, ALS_EIO, msg);
}

TEST(an_init_model_of_another_rank_mode_or_a_larger_shape_is_refused)
{
    struct train_job j = job_of(1, full_csr(0), tpath("big.model"));
    T_OK(train_run(&j, NULL, NULL));
    char msg[800];
    j.init = tpath("big.model");
    j.output = tpath("err.model");
    j.p.k = 2;
    snprintf(msg, sizeof msg, "--init '%s' is an implicit model of rank 3; this run trains "
             "an implicit model of rank 2 (-k conflicts with it: leave it out to continue "
             "the model)", j.init);
    expect_error(&j, ALS_EFORMAT, msg);
    struct train_job e = job_of(0, full_csr(1), tpath("err.model"));
    e.init = j.init;
    snprintf(msg, sizeof msg, "--init '%s' is an implicit model of rank 3; this run trains "
             "an explicit model of rank 3 with biases (--explicit conflicts with it: leave it "
             "out to continue the model)", j.init);
    expect_error(&e, ALS_EFORMAT, msg);
    j.p.k = 3;
    j.train_path = old_csr(0);
    snprintf(msg, sizeof msg, "--init '%s' has 12 users and 9 items, more than the 10 x 7 "
             "of '%s' (a vocabulary only grows)", j.init, j.train_path);
    expect_error(&j, ALS_ERANGE, msg);
}

/*
 * A solver failure: explicit, no biases, lambda 0, and a new user whose one entry is on a
 * new item. Its fold-in system is V[3] V[3]^T with V[3] still zero: singular.
 */
TEST(a_singular_system_is_enumeric_naming_the_row)
{
    const struct ent olde[] = { { 0, 0, 1 }, { 0, 1, 2 }, { 1, 1, 3 }, { 1, 2, 4 },
                                { 2, 0, 5 }, { 2, 2, 1 } };
    const struct ent newe[] = { { 0, 0, 1 }, { 0, 1, 2 }, { 1, 1, 3 }, { 1, 2, 4 },
                                { 2, 0, 5 }, { 2, 2, 1 }, { 3, 3, 2 } };
    struct csr *a = csr_of(olde, 6, 3, 3), *b = csr_of(newe, 7, 4, 4);
    struct diag d = { 0 };
    T_OK(csr_save(a, tpath("s3.csr"), &d));
    T_OK(csr_save(b, tpath("s4.csr"), &d));
    csr_free(a);
    csr_free(b);
    struct train_job j = job_of(0, tpath("s3.csr"), tpath("s3.model"));
    j.p.k = 1;
    j.p.biases = 0;
    T_OK(train_run(&j, NULL, &d));
    j.train_path = tpath("s4.csr");
    j.init = tpath("s3.model");
    j.output = tpath("err.model");
    j.p.lambda = 0;
    expect_error(&j, ALS_ENUMERIC, "user 3 (1 interactions): the system is not positive "
                 "definite or gave a non-finite factor; raise --lambda");
}

/* ---- --info and --export-npy ---- */

TEST(print_info_lists_file_format_shape_and_parameters)
{
    struct train_job j = job_of(1, full_csr(0), tpath("info.model"));
    T_OK(train_run(&j, NULL, NULL));
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct diag d = { 0 };
    T_OK(train_print_info(out, j.output, &d));
    fclose(out);
    char head[700];
    snprintf(head, sizeof head, "file\t%s\nformat\tFAC1 1.", j.output);
    T_TRUE(buf && strncmp(buf, head, strlen(head)) == 0);
    T_TRUE(strstr(buf, "\nusers\t12\nitems\t9\n") != NULL);
    T_TRUE(strstr(buf, "\nfactors\t3\n") != NULL);
    T_TRUE(strstr(buf, "\nseed\t5\n") != NULL);
    free(buf);
    out = open_memstream(&buf, &len);
    T_EQ_INT(train_print_info(out, j.train_path, &d), ALS_EFORMAT);
    fclose(out);
    T_EQ_U64(len, 0);
    free(buf);
}

TEST(export_npy_writes_both_factor_matrices)
{
    struct train_job j = job_of(1, full_csr(0), tpath("npy.model"));
    T_OK(train_run(&j, NULL, NULL));
    struct diag d = { 0 };
    T_OK(train_export_npy(j.output, tpath("npy"), &d));
    T_OK(train_export_npy(j.output, tpath("npy"), &d)); /* an existing directory is fine */
    struct model *m;
    T_OK(model_open(&m, j.output, AFILE_VERIFY, &d));
    const char *names[2] = { "npy/user_factors.npy", "npy/item_factors.npy" };
    for (int side = 0; side < 2; side++) {
        size_t n;
        unsigned char *b = slurp(tpath(names[side]), &n);
        uint64_t rows = side ? m->items : m->users;
        size_t data = rows * m->k * sizeof(float);
        T_TRUE(b && n > data && (n - data) % 64 == 0);
        if (b && n > data) {
            T_EQ_MEM(b, 6, "\x93NUMPY", 6);
            T_EQ_MEM(b + n - data, data, side ? m->V : m->U, data);
        }
        free(b);
    }
    model_free(m);
    char msg[600];
    snprintf(msg, sizeof msg, "cannot create '%s/x': %s", j.output, strerror(ENOTDIR));
    char dir[600];
    snprintf(dir, sizeof dir, "%s/x", j.output);
    T_EQ_INT(train_export_npy(j.output, dir, &d), ALS_EIO);
    T_EQ_STR(d.msg, msg);
}

/* ---- the defaults left to the data ---- */

/* k capped by the shape, alpha 2 / mean |r| and lambda 14 users^0.3 / items^0.2, computed
 * here from the entries themselves, and recorded in the model as trained. */
TEST(defaults_are_fitted_to_the_data_and_recorded)
{
    const char *tr = full_csr(0);
    struct ent e[NU * NI];
    size_t n = entries(0, NU, NI, e);
    double sum = 0;
    for (size_t t = 0; t < n; t++)
        sum += fabs((double)e[t].v);
    struct train_job j = job_of(1, tr, tpath("fit.model"));
    als_params_default(&j.p, 1);
    j.p.iters = 2;
    j.p.threads = 1;
    struct train_info info;
    struct diag d = { 0 };
    T_OK(train_run(&j, &info, &d));
    uint32_t kmax = NU < NI ? NU : NI;
    T_EQ_U64(info.params.k, kmax); /* 64 wanted, fewer rows than that */
    T_NEAR(info.params.alpha, 2.0 / (sum / (double)n), 1e-12);
    T_NEAR(info.params.lambda, 14.0 * pow((double)NU, 0.3) / pow((double)NI, 0.2), 1e-12);
    T_EQ_U64(info.params.fit, 0);
    struct model *m = NULL;
    T_OK(model_open(&m, tpath("fit.model"), AFILE_VERIFY, &d));
    if (m) {
        T_EQ_U64(m->k, kmax);
        T_NEAR(m->params.alpha, info.params.alpha, 1e-14 * info.params.alpha);
        T_NEAR(m->params.lambda, info.params.lambda, 1e-14 * info.params.lambda);
    }
    model_free(m);
    /* Given values are kept: only the bits left in fit are chosen. */
    j.p.fit = ALS_FIT_ALPHA;
    j.p.k = 2;
    j.p.lambda = 0.5;
    T_OK(train_run(&j, &info, &d));
    T_EQ_U64(info.params.k, 2);
    T_NEAR(info.params.lambda, 0.5, 0);
    T_NEAR(info.params.alpha, 2.0 / (sum / (double)n), 1e-12);
}

/* A warm start continues the model it starts from: the rank, alpha and lambda that the
 * options leave open come from it, not from the data. */
TEST(a_warm_start_takes_what_is_not_given_from_the_init_model)
{
    const char *old = old_csr(0), *tr = full_csr(0);
    struct train_job j = job_of(1, old, tpath("base.model"));
    j.p.k = 2;
    j.p.alpha = 0.75;
    j.p.lambda = 3.5;
    struct diag d = { 0 };
    T_OK(train_run(&j, NULL, &d));
    struct train_job w = job_of(1, tr, tpath("warm.model"));
    als_params_default(&w.p, 1);
    w.p.iters = 1;
    w.p.threads = 1;
    w.init = tpath("base.model");
    struct train_info info;
    T_OK(train_run(&w, &info, &d));
    T_EQ_U64(info.params.k, 2);
    T_NEAR(info.params.alpha, 0.75, 0);
    T_NEAR(info.params.lambda, 3.5, 0);
    /* A rank given again that differs is still refused. */
    w.p.k = 3;
    w.p.fit &= ~(unsigned)ALS_FIT_K;
    T_EQ_INT(train_run(&w, &info, &d), ALS_EFORMAT);
    T_TRUE(strstr(d.msg, "rank 2") != NULL && strstr(d.msg, "rank 3") != NULL);
}
