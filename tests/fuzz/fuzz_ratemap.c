/* SPDX-License-Identifier: MIT */
/* fuzz_ratemap: number and time parsing against strtod/timegm, and the transform and
 * level lists through their persisted round trip. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <math.h>
#include <time.h>

#include "ratemap.h"
#include "timefmt.h"

static void
trim(const char **p, const char **end)
{
    while (*p < *end && (**p == ' ' || **p == '\t'))
        (*p)++;
    while (*end > *p && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

/* [+-]?(D+.?D*|.D+)([eE][+-]?D+)? : what the header calls a plain decimal number. */
static int
is_plain_decimal(const char *p, const char *end)
{
    int digits = 0;
    if (p < end && (*p == '+' || *p == '-'))
        p++;
    while (p < end && *p >= '0' && *p <= '9')
        p++, digits++;
    if (p < end && *p == '.')
        for (p++; p < end && *p >= '0' && *p <= '9'; p++)
            digits++;
    if (!digits)
        return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || *p < '0' || *p > '9')
            return 0;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p == end;
}

static void
check_number(const char *s, size_t len)
{
    double v = 12345.0;
    int rc = ratemap_parse_number(s, len, &v);
    FUZZ_CHECK(rc == 0 || rc == ALS_EFORMAT || rc == ALS_ENUMERIC);
    const char *p = s, *end = s + len;
    trim(&p, &end);
    size_t n = (size_t)(end - p);
    char *z = malloc(n + 1);
    if (!z)
        FUZZ_DIE("out of memory");
    memcpy(z, p, n);
    z[n] = '\0';
    char *stop;
    double r = strtod(z, &stop);
    if (rc == 0) {
        /* Clinger's fast path or strtod: either way bit-exact with strtod. */
        FUZZ_CHECK(isfinite(v));
        FUZZ_CHECK(stop == z + n);
        FUZZ_CHECK(memcmp(&v, &r, sizeof v) == 0);
    } else if (is_plain_decimal(p, end)) {
        /* A plain decimal is refused only when it is not finite. */
        FUZZ_CHECK(rc == ALS_ENUMERIC && !isfinite(r));
    }
    free(z);
}

/* Read exactly k digits. */
static int
rd(const char **p, const char *end, int k, int *v)
{
    *v = 0;
    for (int i = 0; i < k; i++, (*p)++) {
        if (*p >= end || **p < '0' || **p > '9')
            return -1;
        *v = *v * 10 + (**p - '0');
    }
    return 0;
}

static void
check_time(const char *s, size_t len)
{
    int64_t t = 0;
    int rc = timefmt_parse(s, len, &t);
    FUZZ_CHECK(rc == 0 || rc == ALS_EFORMAT);
    if (rc < 0)
        return;
    const char *p = s, *end = s + len;
    trim(&p, &end);
    FUZZ_CHECK(p < end);
    if (end - p >= 10 && p[4] == '-') {
        /* An ISO date: recompute with timegm from the fields. */
        int y, mo, d, h = 0, mi = 0, sec = 0, zh = 0, zm = 0, sign = 1;
        FUZZ_CHECK(rd(&p, end, 4, &y) == 0 && p < end && *p++ == '-' &&
                   rd(&p, end, 2, &mo) == 0 && p < end && *p++ == '-' &&
                   rd(&p, end, 2, &d) == 0);
        if (p < end) {
            FUZZ_CHECK(*p == 'T' || *p == ' ');
            p++;
            FUZZ_CHECK(rd(&p, end, 2, &h) == 0 && p < end && *p++ == ':' &&
                       rd(&p, end, 2, &mi) == 0);
            if (p < end && *p == ':') {
                p++;
                FUZZ_CHECK(rd(&p, end, 2, &sec) == 0);
                if (p < end && (*p == '.' || *p == ','))
                    for (p++; p < end && *p >= '0' && *p <= '9'; p++)
                        ;
            }
            if (p < end && *p == 'Z') {
                p++;
            } else if (p < end) {
                FUZZ_CHECK(*p == '+' || *p == '-');
                sign = *p++ == '-' ? -1 : 1;
                FUZZ_CHECK(rd(&p, end, 2, &zh) == 0);
                if (p < end && *p == ':')
                    p++;
                if (p < end)
                    FUZZ_CHECK(rd(&p, end, 2, &zm) == 0);
            }
        }
        FUZZ_CHECK(p == end);
        FUZZ_CHECK(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 24 && mi <= 59 &&
                   sec <= 60 && zh <= 23 && zm <= 59);
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        time_t g = timegm(&tm);
        /* timegm normalises 24:00 and :60 forward, as the library does; a day that does
         * not exist in the month would move to the next month. */
        FUZZ_CHECK(tm.tm_mday == d || (h == 24 || sec == 60));
        FUZZ_CHECK(t == (int64_t)g - sign * (zh * 3600 + zm * 60));
        return;
    }
    /* Epoch seconds, a fraction floored. */
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    int64_t v = 0;
    int frac = 0;
    for (; p < end && *p != '.'; p++) {
        FUZZ_CHECK(*p >= '0' && *p <= '9');
        FUZZ_CHECK(v <= (INT64_MAX - (*p - '0')) / 10);
        v = v * 10 + (*p - '0');
    }
    if (p < end)
        for (p++; p < end; p++) {
            FUZZ_CHECK(*p >= '0' && *p <= '9');
            frac |= *p != '0';
        }
    FUZZ_CHECK(t == (neg ? -v - frac : v));
}

static void
check_transforms(const char *z, double x)
{
    struct ratemap a, b;
    struct diag d;
    char buf[1024], buf2[1024];
    ratemap_init(&a);
    ratemap_init(&b);
    if (ratemap_set_transforms(&a, z, &d) < 0)
        goto out;
    FUZZ_CHECK(a.nsteps <= RATEMAP_MAX_STEPS);
    /* The form map.conf persists (vocabdir_save uses a 1024-byte buffer) must read back
     * as the same chain. */
    ratemap_format_transforms(&a, buf, sizeof buf);
    FUZZ_CHECK(strlen(buf) < sizeof buf - 1);
    if (ratemap_set_transforms(&b, buf, &d) < 0) {
        fprintf(stderr, "formatted chain '%s' does not parse: %s\n", buf, d.msg);
        FUZZ_CHECK(!"ratemap_format_transforms output parses");
    }
    FUZZ_CHECK(ratemap_equal(&a, &b));
    ratemap_format_transforms(&b, buf2, sizeof buf2);
    FUZZ_CHECK(strcmp(buf, buf2) == 0);
    /* Fitting then applying: a finite result or ALS_ENUMERIC, never a silent NaN. */
    if (ratemap_needs_fit(&a)) {
        double v[2] = { x, x * 0.5 };
        ratemap_fit(&a, v, 2);
        FUZZ_CHECK(!ratemap_needs_fit(&a));
        /* A chain fitted on data is saved too: it must also read back. */
        ratemap_format_transforms(&a, buf, sizeof buf);
        ratemap_release(&b);
        if (ratemap_set_transforms(&b, buf, &d) < 0) {
            fprintf(stderr, "fitted chain '%s' does not parse: %s\n", buf, d.msg);
            FUZZ_CHECK(!"fitted ratemap_format_transforms output parses");
        }
        FUZZ_CHECK(ratemap_equal(&a, &b));
    }
    double out = 0;
    int rc = ratemap_apply(&a, x, &out, &d);
    FUZZ_CHECK(rc == 0 || rc == ALS_ENUMERIC);
    if (rc == 0)
        FUZZ_CHECK(isfinite(out));
out:
    ratemap_release(&a);
    ratemap_release(&b);
}

static void
check_levels(const char *z)
{
    struct ratemap m;
    struct diag d;
    ratemap_init(&m);
    if (ratemap_set_levels(&m, z, &d) == 0) {
        FUZZ_CHECK(m.nlevels >= 1 && m.nlevels <= RATEMAP_MAX_LEVELS);
        size_t off = 0;
        for (unsigned i = 0; i < m.nlevels; i++) {
            /* The labels are the list's pieces, in order, each ranked i + 1. */
            FUZZ_CHECK(m.level_len[i] >= 1 && strlen(m.levels[i]) == m.level_len[i]);
            FUZZ_CHECK(memcmp(z + off, m.levels[i], m.level_len[i]) == 0);
            off += m.level_len[i];
            FUZZ_CHECK(z[off] == (i + 1 < m.nlevels ? ',' : '\0'));
            off++;
            double r = 0;
            FUZZ_CHECK(ratemap_raw(&m, m.levels[i], m.level_len[i], &r, &d) == 0);
            FUZZ_CHECK(r == (double)(i + 1));
        }
    }
    ratemap_release(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    check_number(s, size);
    check_time(s, size);
    char *z = malloc(size + 1);
    if (!z)
        FUZZ_DIE("out of memory");
    memcpy(z, data, size);
    z[size] = '\0';
    /* A value for fitting and applying: what follows a NUL byte, else the number after
     * the last ',' or ':'. */
    double x = 3.0;
    const char *nul = memchr(data, '\0', size);
    if (nul) {
        if (ratemap_parse_number(nul + 1, size - (size_t)(nul + 1 - s), &x) < 0)
            x = 3.0;
    } else {
        const char *tail = z;
        for (const char *q = z; *q; q++)
            if (*q == ',' || *q == ':')
                tail = q + 1;
        if (ratemap_parse_number(tail, strlen(tail), &x) < 0)
            x = 3.0;
    }
    check_transforms(z, x);
    check_levels(z);
    free(z);
    return 0;
}
