/* SPDX-License-Identifier: MIT */
/* dist: training split over the ranks of an MPI job (see dist.h). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "dist.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "progress.h"

#ifdef ALS_DIST_MPI
#include <mpi.h>
#endif

struct dist {
    int rank, size;
    int checked;  /* the first half-step compared this rank with rank 0 */
    int failed;   /* the agreed failure code, or 0 */
    struct diag failure;
    uint64_t options;
    uint64_t *bound; /* size + 1 block boundaries of the current half-step */
    int *counts, *displs;
    struct dist_stats st;
#ifdef ALS_DIST_MPI
    MPI_Datatype row; /* k floats */
    uint32_t row_k;
#endif
};

int
dist_env_rank(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK",
                                        "SLURM_PROCID", NULL };
    for (int i = 0; vars[i]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

unsigned
dist_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    return 1;
}

void
dist_partition(const uint64_t *ptr, uint64_t from, uint64_t to, int size, int rank,
               uint64_t *lo, uint64_t *hi)
{
    uint64_t nnz = ptr[to] - ptr[from];
    uint64_t b[2];
    for (int e = 0; e < 2; e++) {
        int r = rank + e;
        if (r >= size) {
            b[e] = to;
            continue;
        }
        /* The first row whose entries before it reach r/size of the block's: the
         * lower bound of the target in ptr[from .. to]. */
        uint64_t q = nnz / (unsigned)size, rem = nnz % (unsigned)size; /* no overflow */
        uint64_t target = ptr[from] + q * (unsigned)r + rem * (unsigned)r / (unsigned)size;
        uint64_t a = from, z = to;
        while (a < z) {
            uint64_t mid = a + (z - a) / 2;
            if (ptr[mid] < target)
                a = mid + 1;
            else
                z = mid;
        }
        b[e] = a;
    }
    *lo = b[0];
    *hi = b[1];
}

int
dist_open(struct dist **out, struct diag *d)
{
    *out = NULL;
    struct dist *D = calloc(1, sizeof *D);
    if (!D)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    D->size = 1;
#ifdef ALS_DIST_MPI
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited)
        MPI_Init(NULL, NULL);
    /* Errors come back as codes: a failing collective is reported, not an abort here. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &D->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &D->size);
    D->row = MPI_DATATYPE_NULL;
    const char *tasks = getenv("SLURM_NTASKS");
    if (D->size == 1 && tasks && atoi(tasks) > 1) {
        int rc = diag_set(d, ALS_EUSAGE, "SLURM_NTASKS is %s but this job has one rank: srun "
                          "started singletons (run it with srun --mpi=pmix or mpirun)", tasks);
        dist_close(D);
        return rc;
    }
#endif
    D->st.ranks = D->size;
    D->bound = calloc((size_t)D->size + 1, sizeof *D->bound);
    D->counts = calloc((size_t)D->size, sizeof *D->counts);
    D->displs = calloc((size_t)D->size, sizeof *D->displs);
    if (!D->bound || !D->counts || !D->displs) {
        dist_close(D);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    *out = D;
    return 0;
}

void
dist_close(struct dist *D)
{
    if (!D)
        return;
#ifdef ALS_DIST_MPI
    if (D->row != MPI_DATATYPE_NULL)
        MPI_Type_free(&D->row);
    MPI_Finalize();
#endif
    free(D->bound);
    free(D->counts);
    free(D->displs);
    free(D);
}

int
dist_rank(const struct dist *D)
{
    return D->rank;
}

int
dist_size(const struct dist *D)
{
    return D->size;
}

void
dist_set_options(struct dist *D, uint64_t bits)
{
    D->options = bits;
}

void
dist_stats(const struct dist *D, struct dist_stats *s)
{
    *s = D->st;
    s->fastest_rank = s->slowest_rank = D->rank;
    s->fastest_seconds = s->slowest_seconds = s->solve_seconds;
#ifdef ALS_DIST_MPI
    if (D->size == 1)
        return;
    /* timings only, never anything the model depends on */
    struct {
        double sec;
        int rank;
    } mine = { s->solve_seconds, D->rank }, lo = mine, hi = mine;
    if (MPI_Reduce(&mine, &lo, 1, MPI_DOUBLE_INT, MPI_MINLOC, 0, MPI_COMM_WORLD) == MPI_SUCCESS &&
        MPI_Reduce(&mine, &hi, 1, MPI_DOUBLE_INT, MPI_MAXLOC, 0, MPI_COMM_WORLD) == MPI_SUCCESS &&
        D->rank == 0) {
        s->fastest_seconds = lo.sec, s->fastest_rank = lo.rank;
        s->slowest_seconds = hi.sec, s->slowest_rank = hi.rank;
    }
#endif
}

int
dist_agree(struct dist *D, int rc, struct diag *d)
{
    if (D->failed) {
        diag_set(d, D->failed, "%s", D->failure.msg);
        return D->failed;
    }
    if (D->size == 1)
        return rc; /* the message is this rank's own, as on one machine */
#ifdef ALS_DIST_MPI
    double t0 = progress_seconds();
    int mine = rc < 0 ? D->rank : D->size, first = D->size;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        first = D->rank, rc = rc < 0 ? rc : diag_set(d, ALS_EIO, "MPI_Allreduce failed");
    if (first == D->size) {
        D->st.mpi_seconds += progress_seconds() - t0;
        return 0;
    }
    struct {
        int code;
        char msg[sizeof d->msg];
    } m;
    memset(&m, 0, sizeof m);
    if (first == D->rank) {
        m.code = rc;
        snprintf(m.msg, sizeof m.msg, "%s", d && d->msg[0] ? d->msg : diag_code_str(rc));
    }
    if (MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, MPI_COMM_WORLD) != MPI_SUCCESS) {
        m.code = ALS_EIO;
        snprintf(m.msg, sizeof m.msg, "the message of the failure was lost");
    }
    m.msg[sizeof m.msg - 1] = '\0';
    D->failed = m.code < 0 ? m.code : ALS_EIO;
    diag_set(&D->failure, D->failed, "rank %d: %s", first, m.msg);
    diag_set(d, D->failed, "%s", D->failure.msg);
    D->st.mpi_seconds += progress_seconds() - t0;
    return D->failed;
#else
    return rc;
#endif
}

#ifdef ALS_DIST_MPI
/* What every rank must share with rank 0 for the runs to be one run. */
struct fingerprint {
    uint64_t rows, cols, nnz, checksum;
    uint64_t side, from, to, options;
    uint64_t k, iters, cg_steps, implicit, biases, solver, seed, confidence;
    double alpha, lambda;
};

static void
fingerprint_of(const struct dist *D, const struct als_params *p, const struct csr *c,
               int side, uint64_t from, uint64_t to, struct fingerprint *f)
{
    memset(f, 0, sizeof *f);
    f->rows = c->r.rows;
    f->cols = c->r.cols;
    f->nnz = c->r.nnz;
    f->checksum = afile_checksum(&c->file);
    f->side = (uint64_t)side;
    f->from = from;
    f->to = to;
    f->options = D->options;
    f->k = p->k;
    f->iters = p->iters;
    f->cg_steps = p->cg_steps;
    f->implicit = (uint64_t)p->implicit;
    f->biases = (uint64_t)p->biases;
    f->solver = (uint64_t)p->solver;
    f->seed = p->seed;
    f->confidence = (uint64_t)p->confidence;
    f->alpha = p->alpha;
    f->lambda = p->lambda;
}

/* The first difference of mine from rank 0's, as a message; 0 when none. */
static int
compare(const struct fingerprint *a, const struct fingerprint *z, struct diag *d)
{
    if (a->rows != z->rows || a->cols != z->cols || a->nnz != z->nnz)
        return diag_set(d, ALS_EFORMAT, "TRAIN.CSR is %" PRIu64 " x %" PRIu64 " with %" PRIu64
                        " entries, rank 0's %" PRIu64 " x %" PRIu64 " with %" PRIu64 " (every "
                        "rank must read the same file)", a->rows, a->cols, a->nnz, z->rows,
                        z->cols, z->nnz);
    if (a->checksum != z->checksum)
        return diag_set(d, ALS_EFORMAT, "TRAIN.CSR has data checksum %08" PRIx64 ", rank 0's "
                        "%08" PRIx64 " (every rank must read the same file)", a->checksum,
                        z->checksum);
    if (a->side != z->side || a->from != z->from || a->to != z->to || a->options != z->options)
        return diag_set(d, ALS_EFORMAT, "the options (--init, --loss) differ from rank 0's");
    if (a->k != z->k || a->iters != z->iters || a->cg_steps != z->cg_steps ||
        a->implicit != z->implicit || a->biases != z->biases || a->solver != z->solver ||
        a->seed != z->seed || a->confidence != z->confidence ||
        memcmp(&a->alpha, &z->alpha, sizeof a->alpha) ||
        memcmp(&a->lambda, &z->lambda, sizeof a->lambda))
        return diag_set(d, ALS_EFORMAT, "the parameters (-k %" PRIu64 " -n %" PRIu64 " -a %.17g "
                        "-l %.17g ...) differ from rank 0's (-k %" PRIu64 " -n %" PRIu64
                        " -a %.17g -l %.17g ...)", a->k, a->iters, a->alpha, a->lambda, z->k,
                        z->iters, z->alpha, z->lambda);
    return 0;
}

static int
check(struct dist *D, const struct als_params *p, const struct csr *c, int side,
      uint64_t from, uint64_t to, struct diag *d)
{
    struct fingerprint mine, root;
    fingerprint_of(D, p, c, side, from, to, &mine);
    root = mine;
    int rc = 0;
    double t0 = progress_seconds();
    if (MPI_Bcast(&root, (int)sizeof root, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = diag_set(d, ALS_EIO, "MPI_Bcast failed");
    D->st.mpi_seconds += progress_seconds() - t0;
    if (!rc)
        rc = compare(&mine, &root, d);
    if (!rc && (c->r.rows > INT_MAX || c->r.cols > INT_MAX))
        rc = diag_set(d, ALS_ERANGE, "more than %d users or items: not split yet", INT_MAX);
    return rc;
}
#endif

int
dist_half_step(void *ctx, const struct als_params *p, const struct csr *c, struct model *m,
               int side, uint64_t from, uint64_t to, struct diag *d)
{
    struct dist *D = ctx;
    struct als_failure f;
    int rc;
    if (D->size == 1) {
        double t0 = progress_seconds();
        rc = als_half_step(p, c, m, side, from, to, &f, d);
        D->st.solve_seconds += progress_seconds() - t0;
        D->st.half_steps++;
        return rc;
    }
#ifdef ALS_DIST_MPI
    if (!D->checked) {
        D->checked = 1;
        if ((rc = dist_agree(D, check(D, p, c, side, from, to, d), d)) < 0)
            return rc;
    }
    const uint64_t *ptr = side ? c->t.ptr : c->r.ptr;
    for (int r = 0; r < D->size; r++)
        dist_partition(ptr, from, to, D->size, r, &D->bound[r], &D->bound[r + 1]);
    double t0 = progress_seconds();
    rc = als_half_step(p, c, m, side, D->bound[D->rank], D->bound[D->rank + 1], &f, d);
    D->st.solve_seconds += progress_seconds() - t0;
    if ((rc = dist_agree(D, rc, d)) < 0)
        return rc;
    t0 = progress_seconds();
    if (D->row == MPI_DATATYPE_NULL || D->row_k != m->k) {
        if (D->row != MPI_DATATYPE_NULL)
            MPI_Type_free(&D->row);
        MPI_Type_contiguous((int)m->k, MPI_FLOAT, &D->row);
        MPI_Type_commit(&D->row);
        D->row_k = m->k;
    }
    uint64_t rows = to - from, got = 0;
    for (int r = 0; r < D->size; r++) {
        D->counts[r] = (int)(D->bound[r + 1] - D->bound[r]);
        D->displs[r] = (int)(D->bound[r] - from);
        got += rows - (uint64_t)D->counts[r];
    }
    float *X = side ? m->V : m->U, *b = side ? m->ib : m->ub;
    int e = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, X + from * m->k, D->counts,
                           D->displs, D->row, MPI_COMM_WORLD);
    if (e == MPI_SUCCESS && m->biases)
        e = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, b + from, D->counts, D->displs,
                           MPI_FLOAT, MPI_COMM_WORLD);
    D->st.mpi_seconds += progress_seconds() - t0;
    if (e != MPI_SUCCESS) /* every rank sees it: the collective failed as a whole */
        return diag_set(d, ALS_EIO, "rank %d: MPI_Allgatherv of the %s factors failed",
                        D->rank, side ? "item" : "user");
    uint64_t bytes = got * ((uint64_t)m->k + (m->biases ? 1 : 0)) * sizeof(float);
    D->st.bytes += bytes;
    if (from == 0 && to == (side ? m->items : m->users))
        D->st.iter_bytes += bytes;
    D->st.half_steps++;
    return 0;
#else
    return diag_set(d, ALS_EUSAGE, "a job of %d ranks in a build without MPI", D->size);
#endif
}

double
dist_loss(void *ctx, const struct als_params *p, const struct csr *c, const struct model *m)
{
    struct dist *D = ctx;
    if (D->size == 1)
        return als_loss(p, c, m);
#ifdef ALS_DIST_MPI
    double loss = (double)NAN;
    for (int r = 0; r < D->size; r++)
        dist_partition(c->r.ptr, 0, m->users, D->size, r, &D->bound[r], &D->bound[r + 1]);
    uint64_t lo = D->bound[D->rank], hi = D->bound[D->rank + 1];
    for (int r = 0; r < D->size; r++) {
        D->counts[r] = (int)(D->bound[r + 1] - D->bound[r]);
        D->displs[r] = (int)D->bound[r];
    }
    /* Rank 0 gathers every user's term, the others hold their own block. */
    uint64_t n = D->rank ? hi - lo : m->users;
    double *part = calloc(n ? (size_t)n : 1, sizeof *part);
    double *mine = part && D->rank == 0 ? part + lo : part;
    int ok = part && als_loss_rows(p, c, m, lo, hi, mine) == 0, all = 0;
    double t0 = progress_seconds();
    /* An integer vote, so that a rank short of memory does not leave the others waiting
     * in the gather: the loss is NaN then. */
    int e = MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (e == MPI_SUCCESS && all)
        e = MPI_Gatherv(D->rank ? mine : MPI_IN_PLACE, D->counts[D->rank], MPI_DOUBLE, part,
                        D->counts, D->displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    D->st.mpi_seconds += progress_seconds() - t0;
    if (e == MPI_SUCCESS && all && D->rank == 0)
        loss = als_loss_total(p, c, m, part);
    free(part);
    return loss;
#else
    (void)p, (void)c, (void)m;
    return (double)NAN;
#endif
}
