/* SPDX-License-Identifier: MIT */
/* linalg: the only caller of CBLAS and LAPACKE; every other module goes through it. */
#include "linalg.h"

#include <stdio.h>
#include <string.h>

#include <cblas.h>

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
