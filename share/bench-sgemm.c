/* SPDX-License-Identifier: MIT */
/* bench-sgemm: the machine's reference rate, OpenBLAS sgemm, measured beside the ALS runs. */
/*
 * Prints GFLOP/s of sgemm C = A B (n x n x n, float, row-major) with the given number of
 * BLAS threads: the median of 5 timed runs after one warm-up. The ALS benchmarks report
 * their achieved rate as a fraction of this, measured in the same session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cblas.h>

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2048;
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (n < 64 || n > 16384 || threads < 1 || threads > 256) {
        fprintf(stderr, "usage: bench-sgemm [N [THREADS]]\n");
        return 2;
    }
    openblas_set_num_threads(threads);
    size_t nn = (size_t)n * (size_t)n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "bench-sgemm: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
        b[i] = (float)((i * 40503u) % 1000) / 1000.0f;
    }
    double t[5];
    for (int r = -1; r < 5; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
        if (r >= 0)
            t[r] = now() - t0;
    }
    qsort(t, 5, sizeof t[0], cmp);
    printf("%.1f\n", 2.0 * n * (double)n * n / t[2] / 1e9);
    free(a);
    free(b);
    free(c);
    return 0;
}
