/* SPDX-License-Identifier: MIT */
/* linalg: the only caller of CBLAS and LAPACKE; every other module goes through it. */
#ifndef ALS_LINALG_H
#define ALS_LINALG_H

/* "OpenBLAS 0.3.21" (the BLAS name and version, for --version lines). */
const char *la_blas_version(void);

#endif
