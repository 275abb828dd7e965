/* SPDX-License-Identifier: MIT */
/* xmem: overflow-checked size arithmetic and allocation helpers. */
#ifndef ALS_XMEM_H
#define ALS_XMEM_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* *out = a * b; returns 0, or ALS_ENOMEM when the product overflows size_t. */
static inline int
xmem_mul(size_t a, size_t b, size_t *out)
{
    if (b && a > SIZE_MAX / b)
        return ALS_ENOMEM;
    *out = a * b;
    return 0;
}

/* *out = a + b with the same overflow rule. */
static inline int
xmem_add(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return ALS_ENOMEM;
    *out = a + b;
    return 0;
}

/* malloc(n * size) or NULL on overflow or exhaustion. */
void *xmem_alloc_array(size_t n, size_t size);

/* Grow *p (holding *cap elements of size bytes) to at least need elements,
 * at least doubling; returns 0 or ALS_ENOMEM (then *p is unchanged). */
int xmem_grow(void **p, size_t *cap, size_t need, size_t size) ALS_MUSTCHECK;

/* malloc with 64-byte alignment, released by free(). */
void *xmem_alloc_aligned(size_t size);

#endif
