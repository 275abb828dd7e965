/* SPDX-License-Identifier: MIT */
/* dist: training split over the ranks of an MPI job, each solving its own block of rows.
 *
 * Every rank holds all the factors and maps the whole TRAIN.CSR. A half-step's rows are
 * split by equal nonzeros (dist_partition); each rank solves its block with the unchanged
 * als_half_step, then the solved rows and biases are shared with one Allgatherv. No
 * floating-point value is ever reduced across ranks, so the model is the bytes of a run
 * on one machine, for any rank count. libals.a holds the serial variant (one rank, no
 * MPI); `make MPI=1` compiles this file again with ALS_DIST_MPI for als-train-mpi. */
#ifndef ALS_DIST_H
#define ALS_DIST_H

#include <stdint.h>

#include "als.h"
#include "csr.h"
#include "diag.h"
#include "model.h"

struct dist;

/* What the exchange cost so far on this rank. */
struct dist_stats {
    int ranks;
    uint64_t bytes;      /* factor and bias bytes received by all ranks together */
    uint64_t iter_bytes; /* of those, in half-steps over a whole side (the iterations) */
    uint64_t half_steps;
    double mpi_seconds;   /* this rank, in the exchange and the agreements (waiting too) */
    double solve_seconds; /* this rank, in its own solves */
    /* over all ranks, on rank 0 (elsewhere this rank's own): whose solves took least and
     * most, and their seconds; the spread is the imbalance of the nonzero split */
    int fastest_rank, slowest_rank;
    double fastest_seconds, slowest_seconds;
};

/* The rank the launcher gave this process (OMPI_COMM_WORLD_RANK, PMI_RANK, PMIX_RANK or
 * SLURM_PROCID), before dist_open; 0 when none is set. */
int dist_env_rank(void);

/* The CPUs this process may run on (sched_getaffinity: mpirun binds a rank to its cores),
 * at least 1. */
unsigned dist_cores(void);

/* Join the job (MPI_Init). ALS_EUSAGE: srun started several singletons (SLURM_NTASKS > 1
 * and a job of one rank: srun without --mpi). */
int dist_open(struct dist **out, struct diag *d) ALS_MUSTCHECK;

/* Leave the job (MPI_Finalize); NULL is a no-op. */
void dist_close(struct dist *D);

/* Bits of the job's options the parameters do not carry but the calls depend on (--loss,
 * --init): the first dist_half_step checks them against rank 0's too. */
void dist_set_options(struct dist *D, uint64_t bits);

int dist_rank(const struct dist *D);
int dist_size(const struct dist *D);

/* Rows [*lo, *hi) of [from, to) for rank of size: boundaries by equal nonzeros of ptr
 * (ptr[r + 1] - ptr[r] entries in row r), by binary search. Depends on nothing else. */
void dist_partition(const uint64_t *ptr, uint64_t from, uint64_t to, int size, int rank,
                    uint64_t *lo, uint64_t *hi);

/*
 * Agree on the outcome of a step: rc is this rank's (0 or ALS_E*, d its message). Returns
 * 0 when every rank had 0; else, on every rank, the code of the lowest failing rank with
 * d set to "rank R: its message". Every rank must call it at the same point of the run:
 * dist_half_step does before each exchange, and a rank that fails elsewhere calls it in
 * place of the next step (or at the end of its run), which meets the others there. Once
 * a failure is agreed, it returns it again with no message exchange.
 */
int dist_agree(struct dist *D, int rc, struct diag *d) ALS_MUSTCHECK;

/*
 * The half_step of a struct train_job (ctx the struct dist): this rank's block of
 * [from, to), then the exchange. Its first call checks the shape, data checksum and
 * parameters against rank 0 (ALS_EFORMAT naming the rank and what differs).
 */
int dist_half_step(void *ctx, const struct als_params *p, const struct csr *c,
                   struct model *m, int side, uint64_t from, uint64_t to, struct diag *d);

/* The loss_of of a struct train_job: the per-user terms of each rank's block gathered on
 * rank 0 and summed there in user order (als_loss_total). NaN on the other ranks. */
double dist_loss(void *ctx, const struct als_params *p, const struct csr *c,
                 const struct model *m);

/* This rank's counters; with several ranks a collective call (every rank calls it once,
 * after training) that also finds the fastest and slowest rank. */
void dist_stats(const struct dist *D, struct dist_stats *s);

#endif
