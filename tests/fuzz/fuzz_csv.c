/* SPDX-License-Identifier: MIT */
/* fuzz_csv: csv_split, csv_detect_delim, csv_parse_delim and csv_escape_tsv against
 * reference implementations of their contracts in csv.h. */
#define _GNU_SOURCE
#include "fuzz.h"

#include "csv.h"

/*
 * Input: byte 0 picks the delimiter, byte 1 the field limit (maxf 1..64), the rest is
 * the record. Delimiter 7 reads a -F style name from the record's first line (up to
 * '\n') through csv_parse_delim, as the command line does.
 */
static const char *const delims[] = { ",", "\t", "::", ";", "|", " ", "||||", NULL };

/* The contract of csv_split, written plainly: every field, no limit. */
struct ref {
    int rc; /* field count, or CSV_EOPEN / CSV_EJUNK */
    size_t n;
    char **f;
    size_t *len;
};

static int
ref_delim_at(const char *p, const char *end, const char *d, size_t dl)
{
    return (size_t)(end - p) >= dl && memcmp(p, d, dl) == 0;
}

static void
ref_push(struct ref *r, const char *p, size_t len)
{
    r->f = realloc(r->f, (r->n + 1) * sizeof *r->f);
    r->len = realloc(r->len, (r->n + 1) * sizeof *r->len);
    if (!r->f || !r->len)
        FUZZ_DIE("out of memory");
    r->f[r->n] = malloc(len + 1);
    if (!r->f[r->n])
        FUZZ_DIE("out of memory");
    memcpy(r->f[r->n], p, len);
    r->len[r->n++] = len;
}

static void
ref_free(struct ref *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->f[i]);
    free(r->f);
    free(r->len);
}

static void
ref_split(const char *rec, size_t len, const char *d, size_t dl, struct ref *r)
{
    const char *p = rec, *end = rec + len;
    char *buf = malloc(len + 1);
    if (!buf)
        FUZZ_DIE("out of memory");
    memset(r, 0, sizeof *r);
    for (;;) {
        if (p < end && *p == '"') {
            size_t k = 0;
            p++;
            for (;;) {
                if (p == end) {
                    r->rc = CSV_EOPEN;
                    goto done;
                }
                if (*p == '"' && p + 1 < end && p[1] == '"') {
                    buf[k++] = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    buf[k++] = *p++;
                }
            }
            if (p < end && !ref_delim_at(p, end, d, dl)) {
                r->rc = CSV_EJUNK;
                goto done;
            }
            ref_push(r, buf, k);
        } else {
            const char *q = p;
            while (q < end && !ref_delim_at(q, end, d, dl))
                q++;
            ref_push(r, p, (size_t)(q - p));
            p = q;
        }
        if (p == end)
            break;
        p += dl;
    }
    r->rc = (int)r->n;
done:
    free(buf);
}

static int
inside(const char *p, size_t n, const char *lo, size_t cap)
{
    return lo && p >= lo && p <= lo + cap && n <= (size_t)(lo + cap - p);
}

static void
check_split(const char *rec, size_t len, const char *d, size_t dl, unsigned maxf)
{
    /* Exactly maxf slots, so a write past them is a heap overflow ASan reports. */
    struct csv_field *f = malloc(maxf * sizeof *f);
    struct csv_field *all = malloc(64 * sizeof *all);
    struct csv_scratch s = { NULL, 0 }, s64 = { NULL, 0 };
    struct ref r;
    if (!f || !all)
        FUZZ_DIE("out of memory");
    int rc = csv_split(rec, len, d, dl, f, maxf, &s);
    int rc64 = csv_split(rec, len, d, dl, all, 64, &s64);
    ref_split(rec, len, d, dl, &r);
    int quoted = memchr(rec, '"', len) != NULL;

    FUZZ_CHECK(rc != ALS_ENOMEM && rc64 != ALS_ENOMEM);
    if (r.rc < 0) {
        FUZZ_CHECK(rc == r.rc && rc64 == r.rc);
        goto out;
    }
    FUZZ_CHECK(rc >= 1 && rc64 >= 1);
    /* An unquoted record stops counting at maxf; a quoted one is scanned to its end. */
    if (quoted) {
        FUZZ_CHECK(rc == r.rc && rc64 == r.rc);
    } else {
        FUZZ_CHECK(rc == (r.rc < (int)maxf ? r.rc : (int)maxf));
        FUZZ_CHECK(rc64 == (r.rc < 64 ? r.rc : 64));
    }
    unsigned stored = (unsigned)rc < maxf ? (unsigned)rc : maxf;
    for (unsigned i = 0; i < stored; i++) {
        /* A field lies in the record or in the scratch buffer, and says what the
         * reference says. */
        FUZZ_CHECK(inside(f[i].p, f[i].len, rec, len) || inside(f[i].p, f[i].len, s.buf, s.cap));
        FUZZ_CHECK(f[i].len == r.len[i] && memcmp(f[i].p, r.f[i], f[i].len) == 0);
    }
    unsigned stored64 = (unsigned)rc64 < 64 ? (unsigned)rc64 : 64;
    for (unsigned i = 0; i < stored64; i++) {
        FUZZ_CHECK(inside(all[i].p, all[i].len, rec, len) ||
                   inside(all[i].p, all[i].len, s64.buf, s64.cap));
        FUZZ_CHECK(all[i].len == r.len[i] && memcmp(all[i].p, r.f[i], all[i].len) == 0);
    }
out:
    ref_free(&r);
    csv_scratch_release(&s);
    csv_scratch_release(&s64);
    free(f);
    free(all);
}

/* csv_detect_delim's contract: the most frequent candidate outside quoted fields, "::"
 * winning ties, else the earlier in the list. A quoted field is one that starts with '"'
 * (at the line start or after a candidate), where "" is a quote; a quote elsewhere is
 * data. */
static void
check_detect(const char *line, size_t len)
{
    static const char *const cand[] = { "\t", ",", ";", "|", "::" };
    char out[CSV_MAX_DELIM + 1];
    memset(out, 'x', sizeof out);
    int rc = csv_detect_delim(line, len, out);
    size_t count[5] = { 0 };
    size_t i = 0;
    while (i < len) {
        /* At a field start. */
        if (line[i] == '"') {
            for (i++; i < len; i++)
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"')
                        i++;
                    else
                        break;
                }
            if (i < len)
                i++; /* the closing quote; what follows is unquoted data */
        }
        /* To the next candidate, which starts a field. */
        for (; i < len; i++) {
            int c = -1;
            for (int k = 0; k < 4; k++)
                if (line[i] == cand[k][0])
                    c = k;
            if (c < 0 && line[i] == ':' && i + 1 < len && line[i + 1] == ':')
                c = 4;
            if (c >= 0) {
                count[c]++;
                i += c == 4 ? 2 : 1;
                break;
            }
        }
    }
    int best = -1;
    for (int c = 0; c < 4; c++)
        if (count[c] && (best < 0 || count[c] > count[best]))
            best = c;
    if (count[4] && (best < 0 || count[4] >= count[best]))
        best = 4;
    if (best < 0) {
        FUZZ_CHECK(rc == ALS_EFORMAT);
        return;
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(memchr(out, '\0', sizeof out) != NULL);
    FUZZ_CHECK(strcmp(out, cand[best]) == 0);
}

static int
hexdig(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void
check_escape(const char *s, size_t n)
{
    char *out = malloc(n ? 4 * n : 1);
    if (!out)
        FUZZ_DIE("out of memory");
    size_t m = csv_escape_tsv(s, n, out);
    FUZZ_CHECK(m <= 4 * n);
    FUZZ_CHECK(!memchr(out, '\t', m) && !memchr(out, '\n', m) && !memchr(out, '\r', m));
    /* Unescaping gives the raw bytes back. */
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        unsigned char c = (unsigned char)out[i];
        FUZZ_CHECK(c >= 0x20 && c != 0x7f);
        if (c == '\\') {
            FUZZ_CHECK(i + 1 < m);
            char e = out[++i];
            int v;
            if (e == 'x') {
                FUZZ_CHECK(i + 2 < m);
                int h = hexdig(out[i + 1]), l = hexdig(out[i + 2]);
                FUZZ_CHECK(h >= 0 && l >= 0);
                v = h * 16 + l;
                i += 2;
            } else {
                FUZZ_CHECK(e == 't' || e == 'n' || e == 'r' || e == '\\');
                v = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : '\\';
            }
            c = (unsigned char)v;
        }
        FUZZ_CHECK(k < n && (unsigned char)s[k] == c);
        k++;
    }
    FUZZ_CHECK(k == n);
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned pick = data[0] % 8, maxf = 1 + data[1] % 64;
    const char *rec = (const char *)data + 2;
    size_t len = size - 2;
    char delim[CSV_MAX_DELIM + 1];
    if (delims[pick]) {
        strcpy(delim, delims[pick]);
    } else {
        const char *nl = memchr(rec, '\n', len);
        size_t nlen = nl ? (size_t)(nl - rec) : len;
        if (nlen > 16)
            return 0;
        char name[17];
        memcpy(name, rec, nlen);
        name[nlen] = '\0';
        memset(delim, 'x', sizeof delim);
        int rc = csv_parse_delim(name, delim);
        if (rc < 0) {
            FUZZ_CHECK(rc == ALS_EFORMAT);
            return 0;
        }
        FUZZ_CHECK(memchr(delim, '\0', sizeof delim) != NULL);
        FUZZ_CHECK(strlen(delim) >= 1 && !strpbrk(delim, "\"\n\r"));
        rec += nlen + (nl ? 1 : 0);
        len -= nlen + (nl ? 1 : 0);
    }
    /* An exact-size copy: a read past the record is an overflow ASan sees. */
    char *copy = malloc(len ? len : 1);
    if (!copy)
        FUZZ_DIE("out of memory");
    memcpy(copy, rec, len);
    check_split(copy, len, delim, strlen(delim), maxf);
    check_detect(copy, len);
    check_escape(copy, len);
    free(copy);
    return 0;
}
