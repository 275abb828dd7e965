/* SPDX-License-Identifier: MIT */
/* timefmt: timestamps in logs (epoch seconds or ISO 8601) to int64 epoch seconds. */
#include "timefmt.h"

#include "diag.h"

int64_t
timefmt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Read exactly n digits at *p into *v. */
static int
digits(const char **p, const char *end, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (*p >= end || **p < '0' || **p > '9')
            return -1;
        *v = *v * 10 + (**p - '0');
    }
    return 0;
}

static int
parse_iso(const char *p, const char *end, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' || digits(&p, end, 2, &mo) ||
        p >= end || *p++ != '-' || digits(&p, end, 2, &d))
        return ALS_EFORMAT;
    static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return ALS_EFORMAT;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return ALS_EFORMAT;
    int64_t zone = 0;
    if (p < end && (*p == 'T' || *p == ' ')) {
        p++;
        if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' || digits(&p, end, 2, &mi))
            return ALS_EFORMAT;
        if (p < end && *p == ':') {
            p++;
            if (digits(&p, end, 2, &sec))
                return ALS_EFORMAT;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                if (p >= end || *p < '0' || *p > '9')
                    return ALS_EFORMAT;
                while (p < end && *p >= '0' && *p <= '9')
                    p++;
            }
        }
        if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec)))
            return ALS_EFORMAT;
        if (p < end && *p == 'Z') {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p++ == '-' ? -1 : 1, zh, zm = 0;
            if (digits(&p, end, 2, &zh))
                return ALS_EFORMAT;
            if (p < end && *p == ':')
                p++;
            if (p < end && digits(&p, end, 2, &zm))
                return ALS_EFORMAT;
            if (zh > 23 || zm > 59)
                return ALS_EFORMAT;
            zone = sign * (zh * 3600 + zm * 60);
        }
    }
    if (p != end)
        return ALS_EFORMAT;
    *out = timefmt_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
           sec - zone;
    return 0;
}

int
timefmt_parse(const char *s, size_t len, int64_t *out)
{
    const char *p = s, *end = s + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p == end)
        return ALS_EFORMAT;
    if (end - p >= 10 && p[4] == '-')
        return parse_iso(p, end, out);
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    /* Magnitude in uint64: INT64_MIN's is one more than INT64_MAX's. */
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int nd = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        unsigned digit = (unsigned)(*p++ - '0');
        if (v > (lim - digit) / 10)
            return ALS_EFORMAT;
        v = v * 10 + digit;
        nd++;
    }
    int frac = 0;
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9')
            frac |= *p++ != '0';
    }
    if (!nd || p != end)
        return ALS_EFORMAT;
    if (!neg) {
        *out = (int64_t)v;
    } else if (v == (uint64_t)INT64_MAX + 1) {
        if (frac)
            return ALS_EFORMAT; /* its floor is below INT64_MIN */
        *out = INT64_MIN;
    } else {
        *out = -(int64_t)v - (frac ? 1 : 0); /* floor, so -1.5 is -2 */
    }
    return 0;
}
