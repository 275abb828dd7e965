/* SPDX-License-Identifier: MIT */
/* linalg: the only caller of CBLAS and LAPACKE; every other module goes through it. */
#include "linalg.h"

#include <stdio.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

const char *
la_blas_version(void)
{
    static char buf[64];
    if (!buf[0]) {
        /* openblas_get_config() starts "OpenBLAS 0.3.21 NO_LAPACKE ...": keep 2 words. */
        const char *cfg = openblas_get_config();
        const char *sp = cfg ? strchr(cfg, ' ') : NULL;
        const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
        size_t n = sp2 ? (size_t)(sp2 - cfg) : (cfg ? strlen(cfg) : 0);
        snprintf(buf, sizeof buf, "%.*s", (int)n, cfg ? cfg : "BLAS");
    }
    return buf;
}

void
la_single_threaded(void)
{
    openblas_set_num_threads(1);
}

void
la_gram_upper(size_t n, size_t k, const float *a, float alpha, float beta, float *c)
{
    if (n == 0) {
        if (beta != 1.0f)
            for (size_t i = 0; i < k * k; i++)
                c[i] *= beta;
        return;
    }
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)k, (blasint)n, alpha, a,
                (blasint)k, beta, c, (blasint)k);
}

void
la_gram(size_t n, size_t k, const float *a, float alpha, float beta, float *c)
{
    la_gram_upper(n, k, a, alpha, beta, c);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < i; j++)
            c[i * k + j] = c[j * k + i];
}

int
la_posv(size_t k, float *a, float *b)
{
    /* Row-major upper is column-major lower: hand LAPACK the same bytes as 'L'. */
    lapack_int info = LAPACKE_sposv_work(LAPACK_COL_MAJOR, 'L', (lapack_int)k, 1, a,
                                         (lapack_int)k, b, (lapack_int)k);
    return info > 0 ? (int)info : info < 0 ? -1 : 0;
}

void
la_gemm_nt(size_t m, size_t n, size_t k, const float *a, const float *b, float *c)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)m, (blasint)n, (blasint)k,
                1.0f, a, (blasint)k, b, (blasint)k, 0.0f, c, (blasint)n);
}
