/* SPDX-License-Identifier: MIT */
/* fuzz_num: the number parsers every program uses (num_parse_u64, num_parse_double,
 * csr_parse_dup) against their contracts. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <float.h>
#include <math.h>

#include "num.h"
#include "csr.h"

/* Input: byte 0 picks the ranges, the rest is the argument (up to its first NUL). */
static const uint64_t ulim[][2] = {
    { 0, UINT64_MAX }, { 1, 64 }, { 0, 0 }, { 5, 5 }, { 1, UINT32_MAX }, { 0, UINT64_MAX / 2 },
};
static const double dlim[][2] = {
    { -DBL_MAX, DBL_MAX }, { 0, 1 }, { 1e-3, 1e3 }, { -1, -1 }, { 0, DBL_MAX }, { -0.0, 0.0 },
};
#define NLIM (sizeof ulim / sizeof ulim[0])

static void
check_u64(const char *s, uint64_t lo, uint64_t hi)
{
    uint64_t v = 12345;
    int rc = num_parse_u64(s, lo, hi, &v);
    /* A whole decimal number: digits only, no sign, blank or junk. */
    size_t n = strlen(s);
    int digits = n > 0 && strspn(s, "0123456789") == n;
    if (!digits) {
        FUZZ_CHECK(rc == ALS_EFORMAT && v == 12345);
        return;
    }
    /* Its value, saturated. */
    uint64_t x = 0;
    int over = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned dg = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - dg) / 10)
            over = 1;
        else
            x = x * 10 + dg;
    }
    if (over || x < lo || x > hi) {
        FUZZ_CHECK(rc == ALS_ERANGE && v == 12345);
        return;
    }
    FUZZ_CHECK(rc == 0 && v == x);
}

static void
check_double(const char *s, double lo, double hi)
{
    double v = 12345;
    int rc = num_parse_double(s, lo, hi, &v);
    FUZZ_CHECK(rc == 0 || rc == ALS_EFORMAT || rc == ALS_ERANGE);
    if (rc < 0) {
        FUZZ_CHECK(v == 12345);
        return;
    }
    /* What strtod reads, all of it, finite and in range. */
    char *end;
    double r = strtod(s, &end);
    FUZZ_CHECK(*s && end != s && *end == '\0');
    FUZZ_CHECK(isfinite(v) && v >= lo && v <= hi);
    FUZZ_CHECK(memcmp(&v, &r, sizeof v) == 0);
    FUZZ_CHECK(!strchr(" \t\n", s[0]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned pick = data[0] % NLIM;
    char *s = malloc(size);
    if (!s)
        FUZZ_DIE("out of memory");
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    check_u64(s, ulim[pick][0], ulim[pick][1]);
    check_double(s, dlim[pick][0], dlim[pick][1]);
    int policy = -1;
    if (csr_parse_dup(s, &policy) == 0) {
        FUZZ_CHECK(policy >= CSR_DUP_SUM && policy <= CSR_DUP_LAST);
        FUZZ_CHECK(strcmp(csr_dup_name(policy), s) == 0);
    }
    free(s);
    return 0;
}
