/* SPDX-License-Identifier: MIT */
/* test_timefmt: epoch seconds, ISO 8601 dates and zones, and the civil-date arithmetic
 * against a brute-force day counter. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "timefmt.h"

#include "t.h"

/* Parse s; on failure return a sentinel no test expects. */
#define BAD_TIME INT64_C(-7777777777777)
static int64_t
tp(const char *s)
{
    int64_t v = BAD_TIME;
    int rc = timefmt_parse(s, strlen(s), &v);
    if (rc != 0 && v != BAD_TIME)
        return BAD_TIME + 1; /* a failure wrote *out: shows up as a mismatch */
    return rc == 0 ? v : BAD_TIME;
}

static int
tp_rc(const char *s)
{
    int64_t v = BAD_TIME;
    return timefmt_parse(s, strlen(s), &v);
}

TEST(epoch_integers)
{
    T_EQ_INT(tp("0"), 0);
    T_EQ_INT(tp("1700000000"), 1700000000);
    T_EQ_INT(tp("-5"), -5);
    T_EQ_INT(tp("+7"), 7);
    T_EQ_INT(tp("-0"), 0);
    T_EQ_INT(tp("000123"), 123);
    T_EQ_INT(tp(" 42\t"), 42);
    /* Ten digits without a '-' at index 4 are seconds, not a date. */
    T_EQ_INT(tp("2023010112"), 2023010112);
    T_EQ_INT(tp("9223372036854775799"), INT64_C(9223372036854775799));
    T_EQ_INT(tp("99999999999999999999"), BAD_TIME); /* overflow */
}

TEST(epoch_int64_extremes)
{
    /* Every int64 written in decimal reads back (triples text streams carry times so). */
    T_EQ_INT(tp("9223372036854775807"), INT64_MAX);
    T_EQ_INT(tp("-9223372036854775807"), -INT64_MAX);
    T_EQ_INT(tp("9223372036854775808"), BAD_TIME);
}

TEST(epoch_fractions_floor)
{
    T_EQ_INT(tp("1700000000.25"), 1700000000);
    T_EQ_INT(tp("1.999"), 1);
    T_EQ_INT(tp("-1.5"), -2);
    T_EQ_INT(tp("-0.5"), -1);
    T_EQ_INT(tp("-1.0"), -1);
    T_EQ_INT(tp("-1.000"), -1);
    T_EQ_INT(tp("-2.0001"), -3);
    T_EQ_INT(tp("5."), 5);
    T_EQ_INT(tp("-5."), -5);
}

TEST(epoch_rejects)
{
    static const char *const bad[] = {
        "", " ", "\t", "-", "+", ".5", "-.5", "abc", "1e5", "12a", "1 2", "1.2.3", "0x10",
        "--1", "1,5", "1.5x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        T_EQ_INT(tp_rc(bad[i]), ALS_EFORMAT);
        T_EQ_INT(tp(bad[i]), BAD_TIME);
    }
}

TEST(iso_dates)
{
    T_EQ_INT(tp("1970-01-01"), 0);
    T_EQ_INT(tp("1970-01-02"), 86400);
    T_EQ_INT(tp("1969-12-31"), -86400);
    /* 2026: 56 years with 14 leap days (1972..2024): 20454 days * 86400. */
    T_EQ_INT(tp("2026-01-01T00:00:00Z"), INT64_C(1767225600));
    T_EQ_INT(tp("2026-01-01"), INT64_C(1767225600));
    /* 2000-01-01: 30 years with 7 leap days: 10957 days. */
    T_EQ_INT(tp("2000-01-01"), 946684800);
    /* 2000-02-29: 10957 + 31 + 28 = 11016 days. 2000 is a leap year (divisible by 400). */
    T_EQ_INT(tp("2000-02-29"), INT64_C(11016) * 86400);
    T_EQ_INT(tp("2000-03-01"), 951868800);
    T_EQ_INT(tp("2400-02-29"), timefmt_days_from_civil(2400, 2, 29) * 86400);
    /* Before the epoch: 1900-01-01 is 25567 days earlier (70 years, 17 leap days). */
    T_EQ_INT(tp("1900-01-01"), INT64_C(-25567) * 86400);
    T_EQ_INT(tp("0000-01-01"), INT64_C(-719528) * 86400);
    T_EQ_INT(tp(" 2000-01-01 "), 946684800);
}

TEST(iso_times_and_zones)
{
    const int64_t y2k = 946684800;
    T_EQ_INT(tp("2000-01-01T12:30"), y2k + 12 * 3600 + 30 * 60);
    T_EQ_INT(tp("2000-01-01 12:30"), y2k + 45000);
    T_EQ_INT(tp("2000-01-01T12:30:15"), y2k + 45015);
    T_EQ_INT(tp("2000-01-01T12:30:15Z"), y2k + 45015);
    /* A zone east of UTC is earlier in UTC. */
    T_EQ_INT(tp("2000-01-01T02:00:00+02:00"), y2k);
    T_EQ_INT(tp("2000-01-01T02:00:00+02"), y2k);
    T_EQ_INT(tp("2000-01-01T02:00:00+0200"), y2k);
    /* -0530 is 5.5 h = 19800 s west. */
    T_EQ_INT(tp("2000-01-01T00:00:00-0530"), y2k + 19800);
    T_EQ_INT(tp("2000-01-01T00:00:00-05:30"), y2k + 19800);
    T_EQ_INT(tp("2000-01-01T00:00+23:59"), y2k - 23 * 3600 - 59 * 60);
    /* Fractional seconds are floored, with '.' or ','. */
    T_EQ_INT(tp("2000-01-01T00:00:00.999Z"), y2k);
    T_EQ_INT(tp("2000-01-01T00:00:59,5"), y2k + 59);
    T_EQ_INT(tp("1969-12-31T23:59:59.5Z"), -1);
    T_EQ_INT(tp("2000-01-01T00:00:00.123456789+01:00"), y2k - 3600);
    /* 24:00 is the end of the day; :60 is a leap second. */
    T_EQ_INT(tp("2000-01-01T24:00"), y2k + 86400);
    T_EQ_INT(tp("2000-01-01T24:00:00Z"), y2k + 86400);
    T_EQ_INT(tp("2016-12-31T23:59:60Z"), tp("2017-01-01T00:00:00Z"));
}

TEST(iso_rejects)
{
    static const char *const bad[] = {
        "2023-02-29", "1900-02-29", "2100-02-29", "2023-13-01", "2023-00-10", "2023-04-31",
        "2023-01-00", "2023-01-32", "2023-1-01", "2023-01-1x", "2023/01/01", "23-01-01",
        "2023-01-01T24:01", "2023-01-01T24:00:01", "2023-01-01T25:00", "2023-01-01T12:60",
        "2023-01-01T12:00:61", "2023-01-01T12", "2023-01-01T", "2023-01-01T1:00",
        "2023-01-01X", "2023-01-01T12:00Zjunk", "2023-01-01T12:00+24:00",
        "2023-01-01T12:00+05:60", "2023-01-01T12:00+5", "2023-01-01T12:00:00.Z",
        "2023-01-01T12:00:00.", "2023-01-01Z", "2023-01-01t12:00", "2023-01-01T12:00 Z",
        "2023-01-01T12:00:0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = tp_rc(bad[i]);
        if (rc != ALS_EFORMAT)
            printf("#   '%s' gave %d\n", bad[i], rc);
        T_EQ_INT(rc, ALS_EFORMAT);
        T_EQ_INT(tp(bad[i]), BAD_TIME);
    }
}

/* ---- days_from_civil against counting days one by one ---- */

static int
leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
month_days(int64_t y, unsigned m)
{
    static const unsigned char md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return md[m - 1] + (m == 2 && leap(y));
}

TEST(days_from_civil_brute_force)
{
    int bad = 0;
    /* Forward from 1970-01-01 to the end of 2600. */
    int64_t y = 1970, n = 0;
    unsigned m = 1, d = 1;
    while (y <= 2600) {
        if (timefmt_days_from_civil(y, m, d) != n && bad++ < 5)
            printf("#   %lld-%02u-%02u: %lld, counted %lld\n", (long long)y, m, d,
                   (long long)timefmt_days_from_civil(y, m, d), (long long)n);
        n++;
        if (++d > month_days(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    /* 1970..2600 is 631 years: 631 * 365 + 153 leap days (1972..2600 by 4: 158, less
     * 2100, 2200, 2300, 2500, 2600) = 230468. */
    T_EQ_INT(n, 230468);

    /* Backward from 1969-12-31 to year -400 (proleptic, year 0 is a leap year). */
    y = 1969, m = 12, d = 31, n = -1;
    while (y >= -400) {
        if (timefmt_days_from_civil(y, m, d) != n && bad++ < 5)
            printf("#   %lld-%02u-%02u: %lld, counted %lld\n", (long long)y, m, d,
                   (long long)timefmt_days_from_civil(y, m, d), (long long)n);
        n--;
        if (--d == 0) {
            if (--m == 0) {
                m = 12;
                y--;
            }
            d = month_days(y, m);
        }
    }
    T_EQ_INT(bad, 0);
    /* -400-01-01 .. 1969-12-31 are 2370 years: five 400-year cycles (5 * 146097 = 730485
     * days) and 1600..1969 (370 * 365 + 90 leap days = 135140): 865625 days, and the loop
     * leaves n one below the first of them. */
    T_EQ_INT(n, -865625 - 1);
}

TEST(iso_agrees_with_days_from_civil)
{
    /* Property: every valid date parses to days_from_civil * 86400, midnight to midnight. */
    char s[32];
    int bad = 0;
    for (int y = 1890; y <= 2110; y += 7)
        for (unsigned m = 1; m <= 12; m++)
            for (unsigned d = 1; d <= month_days(y, m); d++) {
                snprintf(s, sizeof s, "%04d-%02u-%02uT23:59:59Z", y, m, d);
                if (tp(s) != timefmt_days_from_civil(y, m, d) * 86400 + 86399)
                    bad++;
            }
    T_EQ_INT(bad, 0);
}
