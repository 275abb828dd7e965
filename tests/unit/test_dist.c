/* SPDX-License-Identifier: MIT */
/* test_dist: the nnz-balanced blocks of dist_partition against a linear scan, and the
 * serial variant (one rank, codes passed through). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "dist.h"

#include "t.h"

/* The reference: the first row at or after from whose entries before it reach r/P of the
 * block's, by scanning,
 * with the product formed directly (dist_partition splits it to avoid overflow). */
static uint64_t
scan_bound(const uint64_t *ptr, uint64_t from, uint64_t to, int size, int r)
{
    if (r >= size)
        return to;
    uint64_t want = (ptr[to] - ptr[from]) * (uint64_t)r / (uint64_t)size; /* small here */
    uint64_t u = from;
    while (u < to && ptr[u] - ptr[from] < want)
        u++;
    return u;
}

TEST(partition_matches_a_scan)
{
    /* Degrees with empty rows, a heavy row and runs of ones. */
    static const uint64_t deg[] = { 0, 3, 1, 1, 0, 0, 9, 1, 2, 0, 4, 1, 1, 1, 0, 7, 0, 0, 2, 5 };
    enum { N = sizeof deg / sizeof deg[0] };
    uint64_t ptr[N + 1] = { 0 };
    for (int i = 0; i < N; i++)
        ptr[i + 1] = ptr[i] + deg[i];
    int bad = 0;
    for (uint64_t from = 0; from <= N; from++)
        for (uint64_t to = from; to <= N; to++)
            for (int size = 1; size <= 7; size++) {
                uint64_t prev = from;
                for (int r = 0; r < size; r++) {
                    uint64_t lo, hi;
                    dist_partition(ptr, from, to, size, r, &lo, &hi);
                    if (lo != prev || hi < lo || lo != scan_bound(ptr, from, to, size, r) ||
                        hi != scan_bound(ptr, from, to, size, r + 1)) {
                        if (bad++ < 5)
                            printf("#   [%llu, %llu) P %d rank %d: [%llu, %llu)\n",
                                   (unsigned long long)from, (unsigned long long)to, size, r,
                                   (unsigned long long)lo, (unsigned long long)hi);
                    }
                    prev = hi;
                }
                if (prev != to && bad++ < 5)
                    printf("#   [%llu, %llu) P %d: the blocks end at %llu\n",
                           (unsigned long long)from, (unsigned long long)to, size,
                           (unsigned long long)prev);
            }
    T_EQ_INT(bad, 0);
}

TEST(partition_balances_nonzeros)
{
    /* 1000 rows of one entry each: 4 ranks get 250 rows. */
    static uint64_t ptr[1001];
    for (int i = 0; i <= 1000; i++)
        ptr[i] = (uint64_t)i;
    for (int r = 0; r < 4; r++) {
        uint64_t lo, hi;
        dist_partition(ptr, 0, 1000, 4, r, &lo, &hi);
        T_EQ_U64(lo, (uint64_t)(250 * r));
        T_EQ_U64(hi, (uint64_t)(250 * (r + 1)));
    }
}

TEST(serial_is_one_rank)
{
    struct dist *D;
    struct diag d = { 0 };
    T_OK(dist_open(&D, &d));
    T_EQ_INT(dist_rank(D), 0);
    T_EQ_INT(dist_size(D), 1);
    T_EQ_INT(dist_agree(D, 0, &d), 0);
    /* One rank's failure is its own: code and message unchanged, no rank named. */
    diag_set(&d, ALS_ENUMERIC, "user 3 failed");
    T_EQ_INT(dist_agree(D, ALS_ENUMERIC, &d), ALS_ENUMERIC);
    T_EQ_STR(d.msg, "user 3 failed");
    struct dist_stats st;
    dist_stats(D, &st);
    T_EQ_INT(st.ranks, 1);
    T_EQ_U64(st.bytes, 0);
    dist_close(D);
    dist_close(NULL);
}
