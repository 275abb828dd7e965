/* SPDX-License-Identifier: MIT */
/* xmem: overflow-checked size arithmetic and allocation helpers. */
#include "xmem.h"

#include <stdlib.h>

void *
xmem_alloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (xmem_mul(n, size, &bytes) < 0)
        return NULL;
    return malloc(bytes ? bytes : 1);
}

int
xmem_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return ALS_ENOMEM;
        ncap *= 2;
    }
    size_t bytes;
    if (xmem_mul(ncap, size, &bytes) < 0)
        return ALS_ENOMEM;
    void *q = realloc(*p, bytes);
    if (!q)
        return ALS_ENOMEM;
    *p = q;
    *cap = ncap;
    return 0;
}

void *
xmem_alloc_aligned(size_t size)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, size ? size : 64) != 0)
        return NULL;
    return p;
}
