/* SPDX-License-Identifier: MIT */
/* logread: reading raw interaction logs: delimiter, header, columns, one record at a time. */
#include "logread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "xmem.h"
#include "zio.h"

static const char *const col_name[LOG_NCOLS] = { "user", "item", "rating", "time" };

void
logspec_init(struct logspec *s)
{
    memset(s, 0, sizeof *s);
    s->header = -1;
}

void
logspec_release(struct logspec *s)
{
    for (int i = 0; i < LOG_NCOLS; i++)
        free(s->col[i]);
    logspec_init(s);
}

int
logspec_set_col(struct logspec *s, int which, const char *spec)
{
    char *copy = spec ? strdup(spec) : NULL;
    if (spec && !copy)
        return ALS_ENOMEM;
    free(s->col[which]);
    s->col[which] = copy;
    return 0;
}

int
logspec_copy(struct logspec *dst, const struct logspec *src)
{
    logspec_release(dst);
    memcpy(dst->delim, src->delim, sizeof dst->delim);
    dst->header = src->header;
    for (int i = 0; i < LOG_NCOLS; i++)
        if (logspec_set_col(dst, i, src->col[i]) < 0)
            return ALS_ENOMEM;
    return 0;
}

/* A column spec is a 1-based number when it is all digits. */
static int
col_number(const char *spec, unsigned *n)
{
    uint64_t v;
    if (num_parse_u64(spec, 1, LOGREAD_MAX_COLUMN, &v) < 0)
        return 0;
    *n = (unsigned)v;
    return 1;
}

static int
all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* "none" means no such column, for the optional ones. */
static int
col_is_none(int which, const char *spec)
{
    return (which == LOG_RATING || which == LOG_TIME) && strcmp(spec, "none") == 0;
}

static size_t
strip_cr(const char *line, size_t len)
{
    return len && line[len - 1] == '\r' ? len - 1 : len;
}

static int rec_append(struct logread *r, size_t *used, const char *p, size_t n);

enum { SPLIT_BAD = -102 }; /* beside CSV_EOPEN and CSV_EJUNK: a record that cannot end */

/* Split the record starting with *line; when a quoted field runs past the line, join the
 * following lines (the newline is data) in r->rec and point *line there. Returns the
 * field count, CSV_EJUNK, SPLIT_BAD (unterminated at end of input, too long; d says
 * which) or another negative code for a fatal error. */
static int
split_record(struct logread *r, const char **line, size_t *len, unsigned maxf,
             uint64_t lineno, struct diag *d)
{
    int n = csv_split(*line, *len, r->delim, r->dlen, r->fields, maxf, &r->scratch);
    if (n != CSV_EOPEN)
        return n;
    const char *name = zio_in_name(r->in);
    size_t used = 0;
    if (*line != r->rec && rec_append(r, &used, *line, *len) < 0)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    if (*line == r->rec)
        used = *len;
    while (n == CSV_EOPEN) {
        const char *next;
        size_t nlen;
        int rc = zio_in_getline(r->in, &next, &nlen, d);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            diag_set(d, ALS_EFORMAT, "%s:%llu: unterminated quoted field at end of input",
                     name, (unsigned long long)lineno);
            return SPLIT_BAD;
        }
        nlen = strip_cr(next, nlen);
        if (rec_append(r, &used, "\n", 1) < 0 || rec_append(r, &used, next, nlen) < 0) {
            diag_set(d, ALS_EFORMAT, "%s:%llu: quoted field longer than %u MiB", name,
                     (unsigned long long)lineno, ZIO_MAX_LINE >> 20);
            return SPLIT_BAD;
        }
        n = csv_split(r->rec, used, r->delim, r->dlen, r->fields, maxf, &r->scratch);
    }
    *line = r->rec;
    *len = used;
    return n;
}

/* The index of the field of the first line named cs, or -1. */
static int
field_named(const struct logread *r, int stored, const char *cs)
{
    for (int k = 0; k < stored; k++)
        if (r->fields[k].len == strlen(cs) && memcmp(r->fields[k].p, cs, r->fields[k].len) == 0)
            return k;
    return -1;
}

/* A named column missing from the header: when the first line names none of two or more
 * named columns, it is most likely data of a log without its header line (say, a --history
 * log cut from the middle of one), so say which header was expected. With one name there
 * is no telling a missing header from a header without that column. */
static int
missing_column(const struct logread *r, const struct logspec *spec, int stored,
               const char *name, uint64_t line, const char *cs, struct diag *d)
{
    char names[256] = "";
    size_t w = 0;
    int nnamed = 0, nfound = 0;
    for (int i = 0; i < LOG_NCOLS; i++) {
        const char *c = spec->col[i];
        unsigned n;
        if (!c || col_is_none(i, c) || col_number(c, &n))
            continue;
        nnamed++;
        nfound += field_named(r, stored, c) >= 0;
        int m = snprintf(names + w, sizeof names - w, "%s%s", w ? ", " : "", c);
        if (m > 0 && (size_t)m < sizeof names - w)
            w += (size_t)m;
        names[w] = '\0'; /* a name that does not fit is left out */
    }
    if (nnamed < 2 || nfound > 0)
        return diag_set(d, ALS_EUSAGE, "%s:%llu: no column named '%s' in the header", name,
                        (unsigned long long)line, cs);
    return diag_set(d, ALS_EUSAGE,
                    "%s:%llu: no header line with the columns %s (the first line names none "
                    "of them)",
                    name, (unsigned long long)line, names);
}

int
logread_open(struct logread *r, const char *path, struct logspec *spec, struct diag *d)
{
    memset(r, 0, sizeof *r);
    int rc = zio_in_open(&r->in, path, d);
    if (rc < 0)
        return rc;
    const char *name = zio_in_name(r->in);
    const char *line = NULL;
    size_t len = 0;
    /* The first line that is not empty settles the format: empty lines are ignored
     * everywhere, before it too (a log may start with one). */
    int bom_checked = 0;
    while ((rc = zio_in_getline(r->in, &line, &len, d)) > 0) {
        if (!bom_checked && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
            line += 3;
            len -= 3;
        }
        bom_checked = 1;
        len = strip_cr(line, len);
        if (len > 0)
            break;
    }
    if (rc < 0)
        goto out;
    int empty = rc == 0;
    if (empty)
        len = 0;
    uint64_t first_line = empty ? 1 : zio_in_lineno(r->in);

    int named = 0;
    for (int i = 0; i < LOG_NCOLS; i++)
        if (spec->col[i] && !col_is_none(i, spec->col[i])) {
            unsigned n;
            if (!col_number(spec->col[i], &n)) {
                if (all_digits(spec->col[i])) {
                    rc = diag_set(d, ALS_EUSAGE, "--%s column %s is out of range (1-%d)",
                                  col_name[i], spec->col[i], LOGREAD_MAX_COLUMN);
                    goto out;
                }
                named = 1;
            }
        }
    if (spec->header == 0 && named) {
        rc = diag_set(d, ALS_EUSAGE, "columns given by name need a header line (-H)");
        goto out;
    }
    r->header = spec->header < 0 ? named : spec->header;

    if (spec->delim[0]) {
        memcpy(r->delim, spec->delim, sizeof r->delim);
    } else if (!empty) {
        if (csv_detect_delim(line, len, r->delim) < 0) {
            rc = diag_set(d, ALS_EFORMAT,
                          "%s:%llu: cannot detect the delimiter (no tab, comma, semicolon, "
                          "pipe or '::'); give -F",
                          name, (unsigned long long)first_line);
            goto out;
        }
    } else {
        strcpy(r->delim, ","); /* nothing to split; not written back (see below) */
    }
    r->dlen = strlen(r->delim);

    int nf = 0;
    if (!empty) {
        nf = split_record(r, &line, &len, LOGREAD_MAX_COLUMN, first_line, d);
        if (nf < 0 && nf != CSV_EJUNK && nf != SPLIT_BAD) {
            rc = nf;
            goto out;
        }
        if (nf < 0 && r->header) {
            rc = diag_set(d, ALS_EFORMAT, "%s:%llu: malformed header line (bad quoting)", name,
                          (unsigned long long)first_line);
            goto out;
        }
    }
    /* An empty input with -H (or columns by name) is a log with no records yet, as a
     * header-only one is: what was given is kept, names stay unresolved. */
    int stored = nf > LOGREAD_MAX_COLUMN ? LOGREAD_MAX_COLUMN : nf;

    /* Defaults: user 1, item 2, rating 3 when the log has a third column. */
    if (!spec->col[LOG_USER] && logspec_set_col(spec, LOG_USER, "1") < 0)
        goto nomem;
    if (!spec->col[LOG_ITEM] && logspec_set_col(spec, LOG_ITEM, "2") < 0)
        goto nomem;
    /* An empty input settles nothing that a later, real log should decide. */
    if (!spec->col[LOG_RATING] && !empty &&
        logspec_set_col(spec, LOG_RATING, nf >= 3 ? "3" : "none") < 0)
        goto nomem;

    for (int i = 0; i < LOG_NCOLS; i++) {
        r->idx[i] = -1;
        const char *cs = spec->col[i];
        if (!cs || col_is_none(i, cs))
            continue;
        unsigned n;
        if (col_number(cs, &n)) {
            r->idx[i] = (int)n - 1;
        } else if (empty) {
            continue; /* no header line to find the name in; nothing to read either */
        } else {
            r->idx[i] = field_named(r, stored, cs);
            if (r->idx[i] < 0) {
                rc = missing_column(r, spec, stored, name, first_line, cs, d);
                goto out;
            }
        }
        if ((unsigned)r->idx[i] + 1 > r->maxf)
            r->maxf = (unsigned)r->idx[i] + 1;
    }
    for (int i = 0; i < LOG_NCOLS; i++)
        for (int k = i + 1; k < LOG_NCOLS; k++)
            if (r->idx[i] >= 0 && r->idx[i] == r->idx[k]) {
                rc = diag_set(d, ALS_EUSAGE, "the %s and %s columns are the same column %d",
                              col_name[i], col_name[k], r->idx[i] + 1);
                goto out;
            }
    if (!empty) {
        memcpy(spec->delim, r->delim, sizeof spec->delim);
        spec->header = r->header;
    } else if (r->header) {
        spec->header = 1; /* given, or implied by names: it is what the next log will have */
    }
    if (!empty && !r->header) {
        r->pending = line;
        r->pending_len = len;
        r->pending_line = first_line;
        r->have_pending = 1;
    }
    return 0;
nomem:
    rc = diag_set(d, ALS_ENOMEM, "out of memory");
out:
    logread_close(r);
    return rc;
}

/* Copy [p, p+n) to the end of the join buffer. */
static int
rec_append(struct logread *r, size_t *used, const char *p, size_t n)
{
    size_t need;
    if (xmem_add(*used, n, &need) < 0 || need > ZIO_MAX_LINE ||
        xmem_grow((void **)&r->rec, &r->rec_cap, need, 1) < 0)
        return ALS_ENOMEM;
    memcpy(r->rec + *used, p, n);
    *used = need;
    return 0;
}

int
logread_next(struct logread *r, struct logrec *rec, struct diag *d)
{
    const char *name = zio_in_name(r->in);
    for (;;) {
        const char *line;
        size_t len;
        uint64_t lineno;
        if (r->have_pending) {
            line = r->pending;
            len = r->pending_len;
            lineno = r->pending_line;
            r->have_pending = 0;
        } else {
            int rc = zio_in_getline(r->in, &line, &len, d);
            if (rc <= 0)
                return rc;
            len = strip_cr(line, len);
            lineno = zio_in_lineno(r->in);
        }
        if (len == 0)
            continue;
        int n = split_record(r, &line, &len, r->maxf, lineno, d);
        if (n == SPLIT_BAD)
            return LOGREAD_BAD;
        if (n == CSV_EJUNK) {
            diag_set(d, ALS_EFORMAT, "%s:%llu: unexpected text after a closing quote", name,
                     (unsigned long long)lineno);
            return LOGREAD_BAD;
        }
        if (n < 0) /* csv_split's ALS_ENOMEM has no message; the reader's errors have one */
            return n == ALS_ENOMEM ? diag_set(d, ALS_ENOMEM, "out of memory") : n;
        rec->line = lineno;
        for (int c = 0; c < LOG_NCOLS; c++) {
            rec->f[c] = NULL;
            rec->len[c] = 0;
            if (r->idx[c] < 0)
                continue;
            if (r->idx[c] >= n) {
                diag_set(d, ALS_EFORMAT, "%s:%llu: missing %s column %d (the line has %d "
                         "field%s)", name, (unsigned long long)lineno, col_name[c],
                         r->idx[c] + 1, n, n == 1 ? "" : "s");
                return LOGREAD_BAD;
            }
            rec->f[c] = r->fields[r->idx[c]].p;
            rec->len[c] = r->fields[r->idx[c]].len;
            if (memchr(rec->f[c], '\0', rec->len[c])) {
                diag_set(d, ALS_EFORMAT, "%s:%llu: NUL byte in the %s field", name,
                         (unsigned long long)lineno, col_name[c]);
                return LOGREAD_BAD;
            }
        }
        for (int c = LOG_USER; c <= LOG_ITEM; c++)
            if (rec->len[c] == 0) {
                diag_set(d, ALS_EFORMAT, "%s:%llu: empty %s ID (column %d)", name,
                         (unsigned long long)lineno, col_name[c], r->idx[c] + 1);
                return LOGREAD_BAD;
            }
        r->records++;
        return 1;
    }
}

const char *
logread_name(const struct logread *r)
{
    return r->in ? zio_in_name(r->in) : "";
}

void
logread_close(struct logread *r)
{
    zio_in_close(r->in);
    csv_scratch_release(&r->scratch);
    free(r->rec);
    memset(r, 0, sizeof *r);
}
