/* SPDX-License-Identifier: MIT */
/* test_num: whole-number and floating-point parsing (bounds, junk, signs, non-finite values). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "num.h"

#include "t.h"

#define SENTINEL_U64 0x5a5a5a5a5a5a5a5aull
#define SENTINEL_DBL -12345.5

/* Parse arg as u64 in [lo, hi]: the code, with *out checked to be untouched on failure. */
static int
pu(const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
    *out = SENTINEL_U64;
    int rc = num_parse_u64(arg, lo, hi, out);
    if (rc != 0 && *out != SENTINEL_U64)
        return 12345;
    return rc;
}

static int
pd(const char *arg, double lo, double hi, double *out)
{
    *out = SENTINEL_DBL;
    int rc = num_parse_double(arg, lo, hi, out);
    if (rc != 0 && *out != SENTINEL_DBL)
        return 12345;
    return rc;
}

TEST(u64_accepts)
{
    uint64_t v;
    T_OK(pu("0", 0, 10, &v));
    T_EQ_U64(v, 0);
    T_OK(pu("10", 0, 10, &v));
    T_EQ_U64(v, 10);
    T_OK(pu("007", 0, 10, &v));
    T_EQ_U64(v, 7);
    T_OK(pu("18446744073709551615", 0, UINT64_MAX, &v));
    T_EQ_U64(v, UINT64_MAX);
    T_OK(pu("4096", 1, 4096, &v));
    T_EQ_U64(v, 4096);
    T_OK(pu("1", 1, 1, &v));
    T_EQ_U64(v, 1);
}

TEST(u64_range)
{
    uint64_t v;
    T_EQ_INT(pu("11", 0, 10, &v), ALS_ERANGE);
    T_EQ_INT(pu("0", 1, 10, &v), ALS_ERANGE);
    T_EQ_INT(pu("4097", 1, 4096, &v), ALS_ERANGE);
    /* 2^64 does not fit at all. */
    T_EQ_INT(pu("18446744073709551616", 0, UINT64_MAX, &v), ALS_ERANGE);
    T_EQ_INT(pu("99999999999999999999999", 0, UINT64_MAX, &v), ALS_ERANGE);
}

TEST(u64_format)
{
    static const char *const bad[] = {
        "", "-1", "-0", "+1", " 1", "1 ", "\t1", "1\n", "12abc", "0x10", "1e3", "1.0", "1,000",
        "abc", "- 1", "\xd9\xa3",
    };
    uint64_t v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = pu(bad[i], 0, UINT64_MAX, &v);
        if (rc != ALS_EFORMAT)
            printf("#   '%s' gave %d\n", bad[i], rc);
        T_EQ_INT(rc, ALS_EFORMAT);
    }
    T_EQ_INT(pu(NULL, 0, 10, &v), ALS_EFORMAT);
    /* A huge negative number is still a sign, not a range problem. */
    T_EQ_INT(pu("-18446744073709551616", 0, UINT64_MAX, &v), ALS_EFORMAT);
}

TEST(double_accepts)
{
    double v;
    T_OK(pd("1e3", 0, 1e6, &v));
    T_TRUE(v == 1000);
    T_OK(pd("0.5", 0, 1, &v));
    T_TRUE(v == 0.5);
    T_OK(pd("-2.5", -10, 10, &v));
    T_TRUE(v == -2.5);
    T_OK(pd("+3", 0, 10, &v));
    T_TRUE(v == 3);
    T_OK(pd(".25", 0, 1, &v));
    T_TRUE(v == 0.25);
    T_OK(pd("5.", 0, 10, &v));
    T_TRUE(v == 5);
    T_OK(pd("1E-3", 0, 1, &v));
    T_TRUE(v == 0.001);
    /* The bounds are inclusive. */
    T_OK(pd("0", 0, 1, &v));
    T_TRUE(v == 0);
    T_OK(pd("1", 0, 1, &v));
    T_TRUE(v == 1);
    T_OK(pd("1.7976931348623157e308", 0, DBL_MAX, &v));
    T_TRUE(v == DBL_MAX);
    T_OK(pd("0.1", 0.1, 0.1, &v));
    T_TRUE(v == 0.1);
}

TEST(double_range)
{
    double v;
    T_EQ_INT(pd("1e3", 0, 100, &v), ALS_ERANGE);
    T_EQ_INT(pd("-0.001", 0, 1, &v), ALS_ERANGE);
    T_EQ_INT(pd("1.0000001", 0, 1, &v), ALS_ERANGE);
    /* Overflow: strtod says ERANGE and gives HUGE_VAL. */
    T_EQ_INT(pd("1e999", -DBL_MAX, DBL_MAX, &v), ALS_ERANGE);
    T_EQ_INT(pd("-1e999", -DBL_MAX, DBL_MAX, &v), ALS_ERANGE);
}

TEST(double_rejects_non_finite)
{
    static const char *const nf[] = { "inf", "-inf", "+inf", "INF", "infinity", "Infinity",
                                      "nan", "NaN", "-nan", "nan(0x1)" };
    double v;
    for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++) {
        /* Whatever the code, never accepted, even with the widest bounds. */
        int rc = pd(nf[i], -HUGE_VAL, HUGE_VAL, &v);
        if (rc == 0)
            printf("#   '%s' accepted\n", nf[i]);
        T_TRUE(rc == ALS_ERANGE || rc == ALS_EFORMAT);
    }
}

TEST(double_format)
{
    static const char *const bad[] = {
        "", " 1", "1 ", "\t1", "\n1", "1\n", "1.5x", "abc", "1e", "1e+", "--1", "1,5", "0x",
        "1..2", ".", "-", "e3",
    };
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = pd(bad[i], -1e9, 1e9, &v);
        if (rc != ALS_EFORMAT)
            printf("#   '%s' gave %d\n", bad[i], rc);
        T_EQ_INT(rc, ALS_EFORMAT);
    }
    T_EQ_INT(pd(NULL, 0, 1, &v), ALS_EFORMAT);
}
