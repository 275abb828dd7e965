/* SPDX-License-Identifier: MIT */
/* csv: splitting one delimited record into fields (RFC 4180 quoting, any delimiter). */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

static int
delim_at(const char *p, const char *end, const char *delim, size_t dlen)
{
    return (size_t)(end - p) >= dlen && memcmp(p, delim, dlen) == 0;
}

/* The common case, no quote anywhere: fields are plain slices between delimiters. */
static int
split_plain(const char *rec, size_t len, const char *delim, size_t dlen,
            struct csv_field *f, unsigned maxf)
{
    const char *p = rec, *end = rec + len;
    unsigned n = 0;
    while (n < maxf) {
        const char *q = p;
        for (;;) {
            q = memchr(q, delim[0], (size_t)(end - q));
            if (!q || dlen == 1 || delim_at(q, end, delim, dlen))
                break;
            q++;
        }
        f[n].p = p;
        if (!q) {
            f[n++].len = (size_t)(end - p);
            break;
        }
        f[n++].len = (size_t)(q - p);
        p = q + dlen;
    }
    return (int)n;
}

int
csv_split(const char *rec, size_t len, const char *delim, size_t dlen, struct csv_field *f,
          unsigned maxf, struct csv_scratch *s)
{
    if (!memchr(rec, '"', len))
        return split_plain(rec, len, delim, dlen, f, maxf);
    if (s->cap < len + 1) {
        char *nb = realloc(s->buf, len + 1);
        if (!nb)
            return ALS_ENOMEM;
        s->buf = nb;
        s->cap = len + 1;
    }
    /* Quoted records are split to the end even past maxf: a newline inside a quote in an
     * unused column must still join the next line. */
    const char *p = rec, *end = rec + len;
    char *out = s->buf;
    unsigned n = 0;
    for (;;) {
        const char *fp;
        size_t flen;
        if (p < end && *p == '"') {
            char *start = out;
            p++;
            for (;;) {
                if (p >= end)
                    return CSV_EOPEN;
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        *out++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *out++ = *p++;
            }
            if (p < end && !delim_at(p, end, delim, dlen))
                return CSV_EJUNK;
            fp = start;
            flen = (size_t)(out - start);
        } else {
            const char *q = p;
            while (q < end && !delim_at(q, end, delim, dlen))
                q++;
            fp = p;
            flen = (size_t)(q - p);
            p = q;
        }
        if (n < maxf) {
            f[n].p = fp;
            f[n].len = flen;
        }
        n++;
        if (p == end)
            break;
        p += dlen; /* at a delimiter; a trailing one ends with an empty field */
    }
    return (int)n;
}

int
csv_detect_delim(const char *line, size_t len, char out[CSV_MAX_DELIM + 1])
{
    static const char *const cand[] = { "\t", ",", ";", "|", "::" };
    size_t count[5] = { 0 };
    /* A quote opens a quoted field only at the start of a field, as csv_split reads it;
     * inside a field it is data. Any candidate ends a field here: the delimiter is not
     * known yet. */
    int quoted = 0, field_start = 1;
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < len && line[i + 1] == '"')
                    i++;
                else
                    quoted = 0;
            }
            continue;
        }
        if (c == '"' && field_start) {
            quoted = 1;
            field_start = 0;
            continue;
        }
        field_start = 1;
        if (c == '\t')
            count[0]++;
        else if (c == ',')
            count[1]++;
        else if (c == ';')
            count[2]++;
        else if (c == '|')
            count[3]++;
        else if (c == ':' && i + 1 < len && line[i + 1] == ':') {
            count[4]++;
            i++;
        } else
            field_start = 0;
    }
    int best = -1;
    for (int i = 0; i < 4; i++)
        if (count[i] > 0 && (best < 0 || count[i] > count[best]))
            best = i;
    /* "::" is specific enough to win ties: "1::Toy Story::Comedy|Drama" is '::'. */
    if (count[4] > 0 && (best < 0 || count[4] >= count[best]))
        best = 4;
    if (best < 0)
        return ALS_EFORMAT;
    strcpy(out, cand[best]);
    return 0;
}

int
csv_parse_delim(const char *name, char out[CSV_MAX_DELIM + 1])
{
    static const struct { const char *name, *delim; } named[] = {
        { "tab", "\t" }, { "\\t", "\t" }, { "comma", "," }, { "semicolon", ";" },
        { "pipe", "|" }, { "space", " " },
    };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strcmp(name, named[i].name) == 0) {
            strcpy(out, named[i].delim);
            return 0;
        }
    size_t n = strlen(name);
    if (n == 0 || n > CSV_MAX_DELIM || strpbrk(name, "\"\n\r"))
        return ALS_EFORMAT;
    strcpy(out, name);
    return 0;
}

void
csv_scratch_release(struct csv_scratch *s)
{
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

size_t
csv_escape_tsv(const char *s, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || c == '\n' || c == '\r' || c == '\\') {
            *o++ = '\\';
            *o++ = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
        } else if (c < 0x20 || c == 0x7f) {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    return (size_t)(o - out);
}

static int
hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int
csv_unescape_tsv(const char *s, size_t n, char *out, size_t *outlen)
{
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            *o++ = s[i];
            continue;
        }
        if (++i == n)
            return ALS_EFORMAT;
        switch (s[i]) {
        case 't': *o++ = '\t'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case '\\': *o++ = '\\'; break;
        case 'x': {
            int hi = i + 2 < n ? hex_digit(s[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
            if (lo < 0)
                return ALS_EFORMAT;
            *o++ = (char)(hi << 4 | lo);
            i += 2;
            break;
        }
        default: return ALS_EFORMAT;
        }
    }
    *outlen = (size_t)(o - out);
    return 0;
}
