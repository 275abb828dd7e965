/* SPDX-License-Identifier: MIT */
/* ratemap: raw rating fields to numbers: ordinal levels, numeric parsing, transforms. */
#include "ratemap.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmem.h"

void
ratemap_init(struct ratemap *m)
{
    memset(m, 0, sizeof *m);
}

void
ratemap_release(struct ratemap *m)
{
    for (unsigned i = 0; i < m->nlevels; i++)
        free(m->levels[i]);
    free(m->levels);
    free(m->level_len);
    ratemap_init(m);
}

int
ratemap_add_level(struct ratemap *m, const char *label, size_t len, struct diag *d)
{
    if (len == 0)
        return diag_set(d, ALS_EUSAGE, "empty label in --levels");
    if (memchr(label, '\0', len)) /* never in a log field either */
        return diag_set(d, ALS_EUSAGE, "NUL byte in a --levels label");
    if (m->nlevels >= RATEMAP_MAX_LEVELS)
        return diag_set(d, ALS_EUSAGE, "more than %d labels in --levels", RATEMAP_MAX_LEVELS);
    for (unsigned i = 0; i < m->nlevels; i++)
        if (m->level_len[i] == len && memcmp(m->levels[i], label, len) == 0)
            return diag_set(d, ALS_EUSAGE, "label '%.*s' appears twice in --levels", (int)len,
                            label);
    char **nl = realloc(m->levels, (m->nlevels + 1) * sizeof *nl);
    if (nl)
        m->levels = nl;
    size_t *nlen = realloc(m->level_len, (m->nlevels + 1) * sizeof *nlen);
    if (nlen)
        m->level_len = nlen;
    char *copy = malloc(len + 1);
    if (!nl || !nlen || !copy) {
        free(copy);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    memcpy(copy, label, len);
    copy[len] = '\0';
    m->levels[m->nlevels] = copy;
    m->level_len[m->nlevels++] = len;
    return 0;
}

int
ratemap_set_levels(struct ratemap *m, const char *list, struct diag *d)
{
    const char *p = list;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        int rc = ratemap_add_level(m, p, n, d);
        if (rc < 0)
            return rc;
        if (!c)
            return 0;
        p = c + 1;
    }
}

static int
parse_param(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return ALS_EFORMAT;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    *out = strtod(buf, &end);
    /* strtod sets ERANGE on underflow too: a subnormal bound is still a number, and it is
     * what %.17g wrote for a fitted minmax. Only overflow to infinity is refused. */
    return (*end || !isfinite(*out)) ? ALS_EFORMAT : 0;
}

int
ratemap_set_transforms(struct ratemap *m, const char *chain, struct diag *d)
{
    const char *p = chain;
    if (!*p)
        return diag_set(d, ALS_EUSAGE, "empty --transform list");
    for (;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        size_t name_len = colon ? (size_t)(colon - p) : n;
        double a = 0, b = 0;
        int nparams = 0;
        if (colon) {
            const char *q = colon + 1, *qend = p + n;
            const char *c2 = memchr(q, ':', (size_t)(qend - q));
            if (parse_param(q, (size_t)((c2 ? c2 : qend) - q), &a) < 0)
                goto bad;
            nparams = 1;
            if (c2) {
                if (parse_param(c2 + 1, (size_t)(qend - c2 - 1), &b) < 0)
                    goto bad;
                nparams = 2;
            }
        }
        if (m->nsteps >= RATEMAP_MAX_STEPS)
            return diag_set(d, ALS_EUSAGE, "more than %d transforms", RATEMAP_MAX_STEPS);
        struct ratemap_step *s = &m->step[m->nsteps];
        memset(s, 0, sizeof *s);
#define IS(name) (name_len == strlen(name) && memcmp(p, name, name_len) == 0)
        if (IS("log1p") && nparams == 0) {
            s->op = RATEMAP_LOG1P;
        } else if (IS("binary") && nparams == 0) {
            s->op = RATEMAP_BINARY;
        } else if (IS("minmax") && (nparams == 0 || nparams == 2)) {
            s->op = RATEMAP_MINMAX;
            s->fitted = nparams == 2;
            s->a = a;
            s->b = b;
            if (s->fitted && a > b)
                goto bad;
        } else if (IS("clip") && nparams == 2 && a <= b) {
            s->op = RATEMAP_CLIP;
            s->a = a;
            s->b = b;
        } else if (IS("scale") && nparams == 1) {
            s->op = RATEMAP_SCALE;
            s->a = a;
        } else {
            goto bad;
        }
#undef IS
        m->nsteps++;
        if (!c)
            break;
        p = c + 1;
        continue;
    bad:
        return diag_set(d, ALS_EUSAGE,
                        "invalid transform '%.*s' (expected log1p, minmax, clip:LO:HI, "
                        "scale:X or binary)",
                        (int)n, p);
    }
    return 0;
}

void
ratemap_format_transforms(const struct ratemap *m, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < m->nsteps && used < size; i++) {
        const struct ratemap_step *s = &m->step[i];
        const char *sep = i ? "," : "";
        int k = 0;
        switch (s->op) {
        case RATEMAP_LOG1P: k = snprintf(buf + used, size - used, "%slog1p", sep); break;
        case RATEMAP_BINARY: k = snprintf(buf + used, size - used, "%sbinary", sep); break;
        case RATEMAP_SCALE:
            k = snprintf(buf + used, size - used, "%sscale:%.17g", sep, s->a);
            break;
        case RATEMAP_CLIP:
            k = snprintf(buf + used, size - used, "%sclip:%.17g:%.17g", sep, s->a, s->b);
            break;
        case RATEMAP_MINMAX:
            if (s->fitted)
                k = snprintf(buf + used, size - used, "%sminmax:%.17g:%.17g", sep, s->a, s->b);
            else
                k = snprintf(buf + used, size - used, "%sminmax", sep);
            break;
        }
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

int
ratemap_equal(const struct ratemap *a, const struct ratemap *b)
{
    if (a->nlevels != b->nlevels || a->nsteps != b->nsteps)
        return 0;
    for (unsigned i = 0; i < a->nlevels; i++)
        if (a->level_len[i] != b->level_len[i] ||
            memcmp(a->levels[i], b->levels[i], a->level_len[i]) != 0)
            return 0;
    for (unsigned i = 0; i < a->nsteps; i++) {
        const struct ratemap_step *x = &a->step[i], *y = &b->step[i];
        if (x->op != y->op)
            return 0;
        /* An unfitted minmax agrees with any fitted one: fitting is the first build's. */
        if (x->op == RATEMAP_MINMAX && (!x->fitted || !y->fitted))
            continue;
        if (x->a != y->a || x->b != y->b)
            return 0;
    }
    return 1;
}

static const double pow10_exact[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

int
ratemap_parse_number(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    const char *start = p;
    int neg = 0;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    uint64_t mant = 0;
    int digits = 0, exp10 = 0, mant_digits = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (mant_digits < 19) {
            mant = mant * 10 + (uint64_t)(*p - '0');
            if (mant)
                mant_digits++;
        } else {
            exp10++;
        }
        digits++;
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            if (mant_digits < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                if (mant)
                    mant_digits++;
                exp10--;
            }
            digits++;
            p++;
        }
    }
    if (digits == 0) {
        /* Not a number; say so precisely for nan and inf so the message can. */
        size_t n = (size_t)(end - p);
        if ((n == 3 && (strncasecmp(p, "nan", 3) == 0 || strncasecmp(p, "inf", 3) == 0)) ||
            (n == 8 && strncasecmp(p, "infinity", 8) == 0))
            return ALS_ENUMERIC;
        return ALS_EFORMAT;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, e = 0, edigits = 0;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        while (p < end && *p >= '0' && *p <= '9') {
            if (e < 100000)
                e = e * 10 + (*p - '0');
            edigits++;
            p++;
        }
        if (!edigits)
            return ALS_EFORMAT;
        exp10 += eneg ? -e : e;
    }
    if (p != end)
        return ALS_EFORMAT;
    double v;
    if (mant < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        v = (double)mant;
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
        if (neg)
            v = -v;
    } else {
        char small[128];
        size_t n = (size_t)(end - start);
        char *buf = n < sizeof small ? small : malloc(n + 1);
        if (!buf)
            return ALS_ENOMEM;
        memcpy(buf, start, n);
        buf[n] = '\0';
        v = strtod(buf, NULL);
        if (buf != small)
            free(buf);
    }
    if (!isfinite(v))
        return ALS_ENUMERIC;
    *out = v;
    return 0;
}

int
ratemap_raw(const struct ratemap *m, const char *s, size_t len, double *out, struct diag *d)
{
    for (unsigned i = 0; i < m->nlevels; i++)
        if (m->level_len[i] == len && memcmp(m->levels[i], s, len) == 0) {
            *out = (double)(i + 1);
            return 0;
        }
    int rc = ratemap_parse_number(s, len, out);
    int shown = len > 40 ? 40 : (int)len;
    const char *more = len > 40 ? "..." : "";
    if (rc == ALS_ENUMERIC)
        return diag_set(d, ALS_ENUMERIC, "rating '%.*s%s' is not a finite number", shown, s,
                        more);
    if (rc < 0) {
        if (len == 0)
            return diag_set(d, ALS_EFORMAT, "empty rating");
        if (m->nlevels)
            return diag_set(d, ALS_EFORMAT, "rating '%.*s%s' is neither a number nor one of "
                            "the --levels", shown, s, more);
        return diag_set(d, ALS_EFORMAT,
                        "rating '%.*s%s' is not a number (use --levels for labels)", shown, s,
                        more);
    }
    return 0;
}

int
ratemap_needs_fit(const struct ratemap *m)
{
    for (unsigned i = 0; i < m->nsteps; i++)
        if (m->step[i].op == RATEMAP_MINMAX && !m->step[i].fitted)
            return 1;
    return 0;
}

static double
apply_step(const struct ratemap_step *s, double x)
{
    switch (s->op) {
    case RATEMAP_LOG1P: return log1p(x);
    case RATEMAP_BINARY: return x > 0 ? 1.0 : 0.0;
    case RATEMAP_SCALE: return x * s->a;
    case RATEMAP_CLIP: return x < s->a ? s->a : x > s->b ? s->b : x;
    case RATEMAP_MINMAX:
        /* A constant column carries presence only: map it to 1, not 0/0. */
        return s->b > s->a ? (x - s->a) / (s->b - s->a) : 1.0;
    }
    return x;
}

void
ratemap_fit(struct ratemap *m, const double *v, size_t n)
{
    for (unsigned k = 0; k < m->nsteps; k++) {
        struct ratemap_step *s = &m->step[k];
        if (s->op != RATEMAP_MINMAX || s->fitted)
            continue;
        double lo = (double)INFINITY, hi = -(double)INFINITY;
        for (size_t i = 0; i < n; i++) {
            double x = v[i];
            for (unsigned j = 0; j < k; j++)
                x = apply_step(&m->step[j], x);
            if (!isfinite(x))
                continue; /* ratemap_apply reports it with the line */
            if (x < lo)
                lo = x;
            if (x > hi)
                hi = x;
        }
        s->a = n && lo <= hi ? lo : 0;
        s->b = n && lo <= hi ? hi : 1;
        s->fitted = 1;
    }
}

int
ratemap_apply(const struct ratemap *m, double x, double *out, struct diag *d)
{
    double in = x;
    static const char *const names[] = { "", "log1p", "minmax", "clip", "scale", "binary" };
    if (!isfinite(x))
        return diag_set(d, ALS_ENUMERIC, "rating %g is not finite", x);
    for (unsigned i = 0; i < m->nsteps; i++) {
        x = apply_step(&m->step[i], x);
        if (!isfinite(x))
            return diag_set(d, ALS_ENUMERIC, "rating %g is not finite after transform %u (%s)",
                            in, i + 1, names[m->step[i].op]);
    }
    *out = x;
    return 0;
}
