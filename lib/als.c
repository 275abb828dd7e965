/* SPDX-License-Identifier: MIT */
/* als: alternating least squares solvers, explicit (weighted-λ, biases) and implicit (HKV). */
#include "als.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "linalg.h"
#include "hmap.h"
#include "xmem.h"

void
als_params_default(struct als_params *p, int implicit)
{
    memset(p, 0, sizeof *p);
    p->k = 64;
    p->iters = 15;
    p->cg_steps = 3;
    p->alpha = 1.0;
    p->lambda = implicit ? 30.0 : 0.12;
    p->implicit = implicit;
    p->biases = !implicit;
    p->solver = implicit ? ALS_SOLVER_CG : ALS_SOLVER_CHOLESKY;
    p->confidence = ALS_CONF_LINEAR;
    p->fit = ALS_FIT_K | (implicit ? ALS_FIT_ALPHA | ALS_FIT_LAMBDA | ALS_FIT_CONFIDENCE : 0u);
}

int
als_params_resolve(struct als_params *p, int mode, int solver, int biases, unsigned set,
                   int warm, struct diag *d)
{
    int implicit = mode < 0 ? 1 : mode;
    struct als_params dflt;
    als_params_default(&dflt, implicit);
    p->implicit = implicit;
    p->solver = solver >= 0 ? solver : dflt.solver;
    p->biases = biases >= 0 ? biases : dflt.biases;
    p->lambda = set & ALS_FIT_LAMBDA ? p->lambda : dflt.lambda;
    p->fit = dflt.fit & ~set;
    if (warm)
        p->fit |= ((mode < 0 ? ALS_FIT_MODE : 0u) | (solver < 0 ? ALS_FIT_SOLVER : 0u) |
                   (biases < 0 ? ALS_FIT_BIASES : 0u) | ALS_FIT_ALPHA | ALS_FIT_LAMBDA |
                   ALS_FIT_CONFIDENCE) & ~set;
    if (p->biases && implicit)
        return diag_set(d, ALS_EUSAGE, "--biases is for --explicit models");
    if ((set & ALS_FIT_CONFIDENCE) && mode == 0)
        return diag_set(d, ALS_EUSAGE, "--confidence is for --implicit models");
    return 0;
}

void
als_params_fit(struct als_params *p, const struct csr *c)
{
    uint64_t users = c->r.rows, items = c->r.cols;
    if (p->fit & ALS_FIT_K) {
        uint64_t lim = users < items ? users : items;
        if (p->k > lim)
            p->k = lim > 0 ? (uint32_t)lim : 1;
    }
    if (p->implicit && (p->fit & ALS_FIT_CONFIDENCE))
        p->confidence = als_values_heavy_tailed(c) ? ALS_CONF_LOG : ALS_CONF_LINEAR;
    if (p->implicit && (p->fit & ALS_FIT_ALPHA)) {
        double s = 0;
        for (uint64_t t = 0; t < c->r.nnz; t++)
            s += als_strength(p, c->r.val[t]);
        double mean = c->r.nnz ? s / (double)c->r.nnz : 0.0;
        p->alpha = mean > 0 && isfinite(mean) ? 2.0 / mean : 1.0;
        if (p->alpha_mul > 0)
            p->alpha *= p->alpha_mul;
    }
    if (p->implicit && (p->fit & ALS_FIT_LAMBDA) && users > 0 && items > 0) {
        p->lambda = 14.0 * pow((double)users, 0.3) / pow((double)items, 0.2);
        if (p->lambda_mul > 0)
            p->lambda *= p->lambda_mul;
    }
    p->fit = 0;
}

int
als_values_heavy_tailed(const struct csr *c)
{
    /* The top 16 bits of a positive float order it: sign, exponent, 7 mantissa bits. */
    uint64_t *hist = calloc(1u << 16, sizeof *hist), n = 0;
    if (!hist)
        return 0; /* linear, as before this test existed */
    for (uint64_t t = 0; t < c->r.nnz; t++) {
        float a = fabsf(c->r.val[t]);
        if (!(a > 0.0f) || !isfinite(a))
            continue;
        uint32_t bits;
        memcpy(&bits, &a, sizeof bits);
        hist[bits >> 16]++;
        n++;
    }
    float q[2] = { 0.0f, 0.0f };
    const uint64_t want[2] = { n / 2, n - n / 100 };
    uint64_t seen = 0;
    for (uint32_t b = 0, j = 0; b < (1u << 16) && j < 2; b++) {
        seen += hist[b];
        while (j < 2 && seen > want[j]) {
            uint32_t bits = b << 16;
            memcpy(&q[j++], &bits, sizeof bits);
        }
    }
    free(hist);
    return n > 0 && q[1] > 10.0f * q[0];
}

void
als_init_rows(struct model *m, int side, uint64_t from, uint64_t seed)
{
    uint64_t n = side ? m->items : m->users;
    float *X = side ? m->V : m->U;
    float *xb = side ? m->ib : m->ub;
    /* Uniform in +-0.5/sqrt(k): small enough that the first products are near 0. */
    float scale = 1.0f / sqrtf((float)m->k);
    uint64_t key = hmap_mix64(seed ^ (side ? 0x17e5ull : 0x05e5ull));
    for (uint64_t r = from; r < n; r++) {
        uint64_t h = hmap_mix64(key ^ hmap_mix64(r));
        for (uint32_t j = 0; j < m->k; j++) {
            h = hmap_mix64(h + j);
            X[r * m->k + j] = scale * ((float)(h >> 40) / (float)(1 << 24) - 0.5f);
        }
        if (xb)
            xb[r] = 0.0f;
    }
}

double
als_mean(const struct csr *c)
{
    double s = 0;
    for (uint64_t k = 0; k < c->r.nnz; k++)
        s += (double)c->r.val[k];
    return c->r.nnz ? s / (double)c->r.nnz : 0.0;
}

/* What a half-step solves: rows of X (nx x k) from the entries of M against Y. */
struct side {
    const struct csr_mat *M;
    const float *Y, *ybias; /* ybias: the other side's biases (explicit with biases) */
    float *X, *xbias;
    uint32_t k, dim; /* dim = k + 1 with biases */
};

static struct side
side_of(const struct csr *c, struct model *m, int side)
{
    struct side s;
    s.M = side ? &c->t : &c->r;
    s.Y = side ? m->U : m->V;
    s.X = side ? m->V : m->U;
    s.ybias = m->biases ? (side ? m->ub : m->ib) : NULL;
    s.xbias = m->biases ? (side ? m->ib : m->ub) : NULL;
    s.k = m->k;
    s.dim = m->k + (m->biases ? 1 : 0);
    return s;
}

/* Per-thread scratch: the system, the right-hand side, gathered rows and CG vectors. */
struct work {
    float *A, *b, *G, *x, *r, *p, *Ap, *tmp;
    float *wt; /* the row's entry weights, computed once per row (log1p is not free) */
    size_t gcap;
};

static void
work_free(struct work *w)
{
    free(w->A);
    free(w->b);
    free(w->G);
    free(w->x);
    free(w->r);
    free(w->p);
    free(w->Ap);
    free(w->tmp);
    free(w->wt);
}

static int
work_alloc(struct work *w, uint32_t dim, uint64_t maxdeg)
{
    memset(w, 0, sizeof *w);
    w->gcap = maxdeg ? (size_t)maxdeg : 1;
    w->A = xmem_alloc_aligned((size_t)dim * dim * 4);
    w->b = xmem_alloc_aligned((size_t)dim * 4);
    w->G = xmem_alloc_aligned(w->gcap * dim * 4);
    w->x = xmem_alloc_aligned((size_t)dim * 4);
    w->r = xmem_alloc_aligned((size_t)dim * 4);
    w->p = xmem_alloc_aligned((size_t)dim * 4);
    w->Ap = xmem_alloc_aligned((size_t)dim * 4);
    w->tmp = xmem_alloc_aligned((size_t)dim * 4);
    w->wt = xmem_alloc_aligned(w->gcap * 4);
    if (!w->A || !w->b || !w->G || !w->x || !w->r || !w->p || !w->Ap || !w->tmp || !w->wt) {
        work_free(w);
        return ALS_ENOMEM;
    }
    return 0;
}

/* Vector kernels with a fixed summation order (8 lanes, then a fixed tree), written with
 * GCC vector extensions so each ISA clone maps them to its registers; the order depends
 * on the binary, never on the thread count. */
typedef float vf8 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) float
dot(const float *restrict a, const float *restrict b, uint32_t n)
{
    vf8 acc = { 0 };
    uint32_t j = 0;
    for (; j + 8 <= n; j += 8) {
        vf8 x, y;
        memcpy(&x, a + j, sizeof x);
        memcpy(&y, b + j, sizeof y);
        acc += x * y;
    }
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; j < n; j++)
        s += a[j] * b[j];
    return s;
}

static inline __attribute__((always_inline)) void
axpy(float a, const float *restrict x, float *restrict y, uint32_t n)
{
    vf8 va = { a, a, a, a, a, a, a, a };
    uint32_t j = 0;
    for (; j + 8 <= n; j += 8) {
        vf8 vx, vy;
        memcpy(&vx, x + j, sizeof vx);
        memcpy(&vy, y + j, sizeof vy);
        vy += va * vx;
        memcpy(y + j, &vy, sizeof vy);
    }
    for (; j < n; j++)
        y[j] += a * x[j];
}

/* The design row of an entry is the other side's factor row y plus, with biases, a
 * constant 1: z.v = y.v[0..k) + v[k], and a z added to out is y plus a at out[k].
 * Working on y in place avoids copying every gathered row. */
static inline __attribute__((always_inline)) float
zdot(const struct side *s, const float *y, const float *v)
{
    float t = dot(y, v, s->k);
    return s->dim > s->k ? t + v[s->k] : t;
}

static inline __attribute__((always_inline)) void
zaxpy(const struct side *s, float a, const float *y, float *out)
{
    axpy(a, y, out, s->k);
    if (s->dim > s->k)
        out[s->k] += a;
}

/* Ask for the factor row of an entry a few entries ahead: the gathers of rows from a
 * table larger than the cache are what the solvers wait on. */
#define PREFETCH_AHEAD 4

static inline void
prefetch_row(const struct side *s, uint64_t t, uint64_t end)
{
    if (t + PREFETCH_AHEAD < end) {
        const char *p = (const char *)(s->Y + (size_t)s->M->idx[t + PREFETCH_AHEAD] * s->k);
        for (uint32_t off = 0; off < s->k * 4; off += 64)
            __builtin_prefetch(p + off);
    }
}

/* Row z of the design for entry t: the other side's factors, plus a 1 for the bias. */
static inline __attribute__((always_inline)) void
design_row(const struct side *s, uint32_t col, float scale, float *z)
{
    const float *y = s->Y + (size_t)col * s->k;
    for (uint32_t j = 0; j < s->k; j++)
        z[j] = scale * y[j];
    if (s->dim > s->k)
        z[s->k] = scale;
}

/*
 * Every row solves (D + sum_t w_t z_t z_t^T) x = sum_t q_t z_t:
 *   implicit: D = Y^T Y + lambda I, w = alpha f(r), q = (1 + alpha f(r)) [r > 0], with
 *             f(r) = |r| or, for --confidence log, log(1 + |r|) (Hu, Koren, Volinsky 2008);
 *   explicit: D = lambda n I, w = 1, q = r - mu - bias of the other side.
 */
static inline __attribute__((always_inline)) void
entry_weights(const struct als_params *p, const struct side *s, double mu, uint32_t col,
              float r, float *w, float *q)
{
    if (p->implicit) {
        double f = als_strength(p, r);
        *w = (float)(p->alpha * f);
        *q = r > 0 ? (float)(1.0 + p->alpha * f) : 0.0f;
    } else {
        *w = 1.0f;
        *q = (float)((double)r - mu - (s->ybias ? (double)s->ybias[col] : 0.0));
    }
}

/* A v for the row's system without forming A (CG). Inlined so that it is compiled
 * inside each ISA clone of solve_row. */
static inline __attribute__((always_inline)) void
apply_system(const struct als_params *p, const struct side *s, const float *D, const float *wt,
             uint64_t b0, uint64_t e0, float diag, const float *v, float *out)
{
    uint32_t dim = s->dim;
    if (p->implicit) /* D is full (both triangles): one dot per row, in this ISA's lanes */
        for (uint32_t r = 0; r < dim; r++)
            out[r] = dot(D + (size_t)r * dim, v, dim);
    else
        memset(out, 0, dim * sizeof *out);
    axpy(diag, v, out, dim);
    for (uint64_t t = b0; t < e0; t++) {
        prefetch_row(s, t, e0);
        float w = wt[t - b0];
        uint32_t col = s->M->idx[t];
        if (w == 0.0f)
            continue;
        const float *y = s->Y + (size_t)col * s->k;
        zaxpy(s, w * zdot(s, y, v), y, out);
    }
}

/* The row solver has a version per ISA (ALS_HOT_CLONES): the model bytes can then differ
 * between CPUs, never between thread counts. */
ALS_HOT_CLONES static int
solve_row(const struct als_params *p, const struct side *s, const float *D, double mu,
          uint64_t row, struct work *w)
{
    const struct csr_mat *M = s->M;
    uint64_t b0 = M->ptr[row], e0 = M->ptr[row + 1], n = e0 - b0;
    uint32_t dim = s->dim;
    float *x = s->X + row * s->k;
    if (n == 0 && !p->implicit) {
        /* Nothing observed: the weighted-lambda minimiser is 0. */
        memset(x, 0, s->k * sizeof *x);
        if (s->xbias)
            s->xbias[row] = 0.0f;
        return 0;
    }
    float diag = p->implicit ? (float)p->lambda : (float)(p->lambda * (double)n);
    memset(w->b, 0, dim * sizeof *w->b);
    for (uint64_t t = b0; t < e0; t++) {
        prefetch_row(s, t, e0);
        float wt, q;
        uint32_t col = M->idx[t];
        entry_weights(p, s, mu, col, M->val[t], &wt, &q);
        w->wt[t - b0] = wt;
        if (q != 0.0f)
            zaxpy(s, q, s->Y + (size_t)col * s->k, w->b);
    }
    if (p->solver == ALS_SOLVER_CHOLESKY) {
        if (p->implicit) {
            memcpy(w->A, D, (size_t)dim * dim * sizeof *w->A);
        } else {
            memset(w->A, 0, (size_t)dim * dim * sizeof *w->A);
        }
        for (uint32_t j = 0; j < dim; j++)
            w->A[j * dim + j] += diag;
        /* Gather the weighted rows, then one rank-n update: far faster than n rank-1s. */
        size_t g = 0;
        for (uint64_t t = b0; t < e0; t++) {
            float wt = w->wt[t - b0];
            uint32_t col = M->idx[t];
            if (wt > 0.0f)
                design_row(s, col, sqrtf(wt), w->G + g++ * dim);
        }
        la_gram_upper(g, dim, w->G, 1.0f, 1.0f, w->A);
        memcpy(w->x, w->b, dim * sizeof *w->x);
        if (la_posv(dim, w->A, w->x) != 0)
            return ALS_ENUMERIC;
    } else {
        /* Conjugate gradient, warm-started from the current row (Takács et al. 2011). */
        memcpy(w->x, x, s->k * sizeof *x);
        if (s->xbias)
            w->x[s->k] = s->xbias[row];
        apply_system(p, s, D, w->wt, b0, e0, diag, w->x, w->Ap);
        for (uint32_t j = 0; j < dim; j++)
            w->r[j] = w->b[j] - w->Ap[j];
        memcpy(w->p, w->r, dim * sizeof *w->p);
        float rs = dot(w->r, w->r, dim);
        if (!isfinite(rs))
            return ALS_ENUMERIC; /* a non-finite factor on the other side, or overflow */
        for (uint32_t it = 0; it < p->cg_steps && rs > 1e-20f; it++) {
            apply_system(p, s, D, w->wt, b0, e0, diag, w->p, w->Ap);
            float pAp = dot(w->p, w->Ap, dim);
            if (!(pAp > 0.0f))
                break;
            float a = rs / pAp;
            axpy(a, w->p, w->x, dim);
            axpy(-a, w->Ap, w->r, dim);
            float rs2 = dot(w->r, w->r, dim);
            float beta = rs2 / rs;
            for (uint32_t j = 0; j < dim; j++)
                w->p[j] = w->r[j] + beta * w->p[j];
            rs = rs2;
        }
    }
    for (uint32_t j = 0; j < dim; j++)
        if (!isfinite(w->x[j]))
            return ALS_ENUMERIC;
    memcpy(x, w->x, s->k * sizeof *x);
    if (s->xbias)
        s->xbias[row] = w->x[s->k];
    return 0;
}

int
als_half_step(const struct als_params *p, const struct csr *c, struct model *m, int side,
              uint64_t from, uint64_t to, struct als_failure *fail, struct diag *d)
{
    struct side s = side_of(c, m, side);
    uint32_t dim = s.dim;
    double mu = m->mu;
    uint64_t ny = side ? m->users : m->items;
    float *D = NULL;
    if (p->implicit) {
        /* Y^T Y once per half-step: every row's system starts from it. */
        D = xmem_alloc_aligned((size_t)dim * dim * sizeof *D);
        if (!D)
            return diag_set(d, ALS_ENOMEM, "out of memory");
        la_gram(ny, dim, s.Y, 1.0f, 0.0f, D); /* full: CG multiplies by all of it */
    }
    uint64_t maxdeg = 0;
    for (uint64_t r = from; r < to; r++)
        if (s.M->ptr[r + 1] - s.M->ptr[r] > maxdeg)
            maxdeg = s.M->ptr[r + 1] - s.M->ptr[r];
    uint64_t bad_row = UINT64_MAX;
    int oom = 0;
    unsigned nthreads = p->threads ? p->threads : 1;
#pragma omp parallel num_threads(nthreads)
    {
        struct work w;
        int ok = work_alloc(&w, dim, maxdeg) == 0;
        if (!ok) {
#pragma omp atomic write
            oom = 1;
        }
#pragma omp for schedule(dynamic, 32)
        for (uint64_t r = from; r < to; r++) {
            if (!ok)
                continue;
            if (solve_row(p, &s, D, mu, r, &w) < 0) {
                /* The lowest failing row is reported, whatever the thread timing. */
#pragma omp critical(als_bad_row)
                if (r < bad_row)
                    bad_row = r;
            }
        }
        if (ok)
            work_free(&w);
    }
    free(D);
    if (oom)
        return diag_set(d, ALS_ENOMEM, "out of memory for the solver workspace");
    if (bad_row != UINT64_MAX) {
        fail->side = side;
        fail->row = bad_row;
        fail->degree = s.M->ptr[bad_row + 1] - s.M->ptr[bad_row];
        return diag_set(d, ALS_ENUMERIC, "%s %llu (%llu interactions): the system is not "
                        "positive definite or gave a non-finite factor; raise --lambda",
                        side ? "item" : "user", (unsigned long long)bad_row,
                        (unsigned long long)fail->degree);
    }
    return 0;
}

int
als_foldin_init(struct als_foldin *f, const struct als_params *p, const struct model *m,
                struct diag *d)
{
    memset(f, 0, sizeof *f);
    f->p = *p;
    f->p.solver = ALS_SOLVER_CHOLESKY;
    f->m = m;
    if (p->implicit) {
        f->D = xmem_alloc_aligned((size_t)m->k * m->k * sizeof *f->D);
        if (!f->D)
            return diag_set(d, ALS_ENOMEM, "out of memory");
        la_gram(m->items, m->k, m->V, 1.0f, 0.0f, f->D);
    }
    return 0;
}

int
als_foldin_user(const struct als_foldin *f, const uint32_t *items, const float *vals, size_t n,
                float *x, float *bias)
{
    const struct model *m = f->m;
    uint64_t ptr[2] = { 0, n };
    struct csr_mat one = { 1, m->items, n, ptr, (uint32_t *)items, (float *)vals };
    struct side s;
    s.M = &one;
    s.Y = m->V;
    s.X = x;
    s.ybias = m->biases ? m->ib : NULL;
    s.xbias = m->biases ? bias : NULL;
    s.k = m->k;
    s.dim = m->k + (m->biases ? 1 : 0);
    struct work w;
    if (work_alloc(&w, s.dim, n) < 0)
        return ALS_ENOMEM;
    int rc = solve_row(&f->p, &s, f->D, m->mu, 0, &w);
    work_free(&w);
    return rc;
}

void
als_foldin_release(struct als_foldin *f)
{
    free(f->D);
    memset(f, 0, sizeof *f);
}

int
als_loss_rows(const struct als_params *p, const struct csr *c, const struct model *m,
              uint64_t from, uint64_t to, double *part)
{
    uint32_t k = m->k;
    float *G = NULL;
    if (p->implicit) {
        G = xmem_alloc_aligned((size_t)k * k * sizeof *G);
        if (!G)
            return ALS_ENOMEM;
        la_gram(m->items, k, m->V, 1.0f, 0.0f, G);
    }
    unsigned nthreads = p->threads ? p->threads : 1;
#pragma omp parallel for schedule(dynamic, 64) num_threads(nthreads)
    for (uint64_t u = from; u < to; u++) {
        const float *x = m->U + u * k;
        double s = 0;
        if (p->implicit) {
            /* Every (u, i) with confidence 1 and preference 0: x^T (Y^T Y) x; then the
             * nonzeros correct their own terms. */
            for (uint32_t a = 0; a < k; a++)
                s += (double)x[a] * (double)dot(G + (size_t)a * k, x, k);
        }
        uint64_t n = c->r.ptr[u + 1] - c->r.ptr[u];
        for (uint64_t t = c->r.ptr[u]; t < c->r.ptr[u + 1]; t++) {
            uint32_t i = c->r.idx[t];
            double r = (double)c->r.val[t];
            double pred = (double)dot(x, m->V + (size_t)i * k, k);
            if (p->implicit) {
                double conf = 1.0 + p->alpha * als_strength(p, (float)r), pref = r > 0 ? 1.0 : 0.0;
                s += conf * (pref - pred) * (pref - pred) - pred * pred;
            } else {
                if (m->biases)
                    pred += m->mu + (double)m->ub[u] + (double)m->ib[i];
                s += (r - pred) * (r - pred);
            }
        }
        double reg = (double)dot(x, x, k);
        if (!p->implicit && m->biases)
            reg += (double)m->ub[u] * (double)m->ub[u];
        s += p->lambda * (p->implicit ? 1.0 : (double)n) * reg;
        part[u - from] = s;
    }
    free(G);
    return 0;
}

double
als_loss_total(const struct als_params *p, const struct csr *c, const struct model *m,
               const double *part)
{
    uint32_t k = m->k;
    double loss = 0;
    for (uint64_t u = 0; u < m->users; u++)
        loss += part[u];
    for (uint64_t i = 0; i < m->items; i++) {
        const float *y = m->V + i * k;
        double reg = (double)dot(y, y, k);
        if (!p->implicit && m->biases)
            reg += (double)m->ib[i] * (double)m->ib[i];
        double n = (double)(c->t.ptr[i + 1] - c->t.ptr[i]);
        loss += p->lambda * (p->implicit ? 1.0 : n) * reg;
    }
    return loss;
}

double
als_loss(const struct als_params *p, const struct csr *c, const struct model *m)
{
    double *part = calloc(m->users ? (size_t)m->users : 1, sizeof *part);
    double loss = (double)NAN;
    if (part && als_loss_rows(p, c, m, 0, m->users, part) == 0)
        loss = als_loss_total(p, c, m, part);
    free(part);
    return loss;
}
