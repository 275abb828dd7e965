/* SPDX-License-Identifier: MIT */
/* linalg: the only caller of CBLAS and LAPACKE; every other module goes through it. */
#ifndef ALS_LINALG_H
#define ALS_LINALG_H

#include <stddef.h>

/* "OpenBLAS 0.3.21" (the BLAS name and version, for --version lines). */
const char *la_blas_version(void);

/* Make BLAS single-threaded: als parallelises over rows itself, and a BLAS thread pool
 * inside those threads would oversubscribe the cores. Call once at start-up. */
void la_single_threaded(void);

/* C (k x k, row-major, full) = alpha * A^T A + beta * C for A (n x k, row-major, lda k).
 * Only the upper triangle is computed by BLAS; the lower is mirrored from it. */
void la_gram(size_t n, size_t k, const float *a, float alpha, float beta, float *c);

/* The same update without the mirroring: only C's upper triangle (row-major) is valid.
 * For building systems that la_posv consumes, which reads only that triangle. */
void la_gram_upper(size_t n, size_t k, const float *a, float alpha, float beta, float *c);

/* Solve A x = b in place (b becomes x) for A k x k symmetric positive definite, row-major
 * upper triangle valid (A is overwritten by its Cholesky factor). Returns 0, or the
 * order (1-based) of the leading minor that is not positive definite. */
int la_posv(size_t k, float *a, float *b);

/* C (m x n) = A (m x k) B^T with B (n x k), all row-major. */
void la_gemm_nt(size_t m, size_t n, size_t k, const float *a, const float *b, float *c);

#endif
