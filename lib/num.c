/* SPDX-License-Identifier: MIT */
/* num: strict number parsing shared by the option parser and the readers of text files. */
#include "num.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int
num_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!s || !*s || *s < '0' || *s > '9')
        return ALS_EFORMAT;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        return ALS_EFORMAT;
    if (errno == ERANGE || v < lo || v > hi)
        return ALS_ERANGE;
    *out = v;
    return 0;
}

int
num_parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s || strchr(" \t\n", *s))
        return ALS_EFORMAT;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s)
        return ALS_EFORMAT;
    if (!isfinite(v) || errno == ERANGE || v < lo || v > hi)
        return ALS_ERANGE;
    *out = v;
    return 0;
}

int
num_sorted_has(const uint32_t *a, size_t n, uint32_t i)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == i;
}
