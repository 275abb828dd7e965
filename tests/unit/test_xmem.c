/* SPDX-License-Identifier: MIT */
/* test_xmem: overflow-checked size arithmetic, growth by doubling, aligned allocation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "xmem.h"

#include "t.h"

TEST(mul_and_add)
{
    size_t r = 77;
    T_OK(xmem_mul(6, 7, &r));
    T_EQ_U64(r, 42);
    T_OK(xmem_mul(0, SIZE_MAX, &r));
    T_EQ_U64(r, 0);
    T_OK(xmem_mul(SIZE_MAX, 0, &r));
    T_EQ_U64(r, 0);
    T_OK(xmem_mul(SIZE_MAX, 1, &r));
    T_EQ_U64(r, SIZE_MAX);
    /* SIZE_MAX / 2 * 2 = SIZE_MAX - 1 fits; one more does not. */
    T_OK(xmem_mul(SIZE_MAX / 2, 2, &r));
    T_EQ_U64(r, SIZE_MAX - 1);
    r = 77;
    T_EQ_INT(xmem_mul(SIZE_MAX / 2 + 1, 2, &r), ALS_ENOMEM);
    T_EQ_INT(xmem_mul((size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4),
                      &r), ALS_ENOMEM);
    T_EQ_U64(r, 77); /* untouched on overflow */

    T_OK(xmem_add(40, 2, &r));
    T_EQ_U64(r, 42);
    T_OK(xmem_add(SIZE_MAX - 1, 1, &r));
    T_EQ_U64(r, SIZE_MAX);
    r = 77;
    T_EQ_INT(xmem_add(SIZE_MAX, 1, &r), ALS_ENOMEM);
    T_EQ_INT(xmem_add(1, SIZE_MAX, &r), ALS_ENOMEM);
    T_EQ_U64(r, 77);
}

TEST(alloc_array)
{
    T_TRUE(xmem_alloc_array(SIZE_MAX / 2 + 1, 2) == NULL);
    T_TRUE(xmem_alloc_array(2, SIZE_MAX / 2 + 1) == NULL);
    uint64_t *p = xmem_alloc_array(100, sizeof *p);
    T_TRUE(p != NULL);
    if (p) {
        for (int i = 0; i < 100; i++)
            p[i] = (uint64_t)i; /* all 800 bytes writable (ASan checks) */
        T_EQ_U64(p[99], 99);
    }
    free(p);
    /* Zero elements still give a pointer that free() accepts. */
    void *z = xmem_alloc_array(0, 8);
    T_TRUE(z != NULL);
    free(z);
}

TEST(grow_doubles_from_16)
{
    int *p = NULL;
    size_t cap = 0;
    T_OK(xmem_grow((void **)&p, &cap, 1, sizeof *p));
    T_EQ_U64(cap, 16);
    T_TRUE(p != NULL);
    for (int i = 0; i < 16; i++)
        p[i] = i;
    /* Within the capacity: nothing changes. */
    int *before = p;
    T_OK(xmem_grow((void **)&p, &cap, 16, sizeof *p));
    T_EQ_U64(cap, 16);
    T_TRUE(p == before);
    /* 17 doubles to 32; 100 doubles 32 -> 64 -> 128. Contents survive. */
    T_OK(xmem_grow((void **)&p, &cap, 17, sizeof *p));
    T_EQ_U64(cap, 32);
    T_OK(xmem_grow((void **)&p, &cap, 100, sizeof *p));
    T_EQ_U64(cap, 128);
    int same = 1;
    for (int i = 0; i < 16; i++)
        same &= p[i] == i;
    T_TRUE(same);
    p[127] = 7;
    /* A request whose byte size overflows fails and leaves p and cap alone. */
    before = p;
    T_EQ_INT(xmem_grow((void **)&p, &cap, SIZE_MAX / 2, sizeof *p), ALS_ENOMEM);
    T_EQ_INT(xmem_grow((void **)&p, &cap, SIZE_MAX, 1), ALS_ENOMEM);
    T_TRUE(p == before);
    T_EQ_U64(cap, 128);
    T_EQ_INT(p[127], 7);
    free(p);

    /* A capacity that is not a power of two doubles from where it is. */
    char *q = malloc(10);
    size_t qcap = 10;
    T_OK(xmem_grow((void **)&q, &qcap, 11, 1));
    T_EQ_U64(qcap, 20);
    free(q);
}

TEST(aligned)
{
    static const size_t sizes[] = { 0, 1, 63, 64, 65, 4096, 100000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = xmem_alloc_aligned(sizes[i]);
        T_TRUE(p != NULL);
        T_EQ_U64((uintptr_t)p % 64, 0);
        if (p && sizes[i])
            memset(p, 0xab, sizes[i]);
        free(p);
    }
}
