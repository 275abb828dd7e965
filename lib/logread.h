/* SPDX-License-Identifier: MIT */
/* logread: reading raw interaction logs: delimiter, header, columns, one record at a time. */
#ifndef ALS_LOGREAD_H
#define ALS_LOGREAD_H

#include <stdint.h>

#include "csv.h"
#include "diag.h"

struct zio_in;

enum { LOG_USER, LOG_ITEM, LOG_RATING, LOG_TIME, LOG_NCOLS };

/* How a log is read. Column specs are 1-based numbers or header names; NULL means
 * "not given" (user 1, item 2, rating 3 when the log has a third column else none,
 * no time). A rating spec of "none" means every record counts 1; a time spec of "none"
 * means no time column. */
struct logspec {
    char delim[CSV_MAX_DELIM + 1]; /* "" = detect from the first line not empty */
    int header;                    /* -1 not given, 0 no, 1 yes (names imply yes) */
    char *col[LOG_NCOLS];          /* owned strings or NULL */
};

void logspec_init(struct logspec *s);
void logspec_release(struct logspec *s);
int logspec_set_col(struct logspec *s, int which, const char *spec) ALS_MUSTCHECK;
int logspec_copy(struct logspec *dst, const struct logspec *src) ALS_MUSTCHECK;

/* One record: raw byte slices valid until the next logread_next call. */
struct logrec {
    const char *f[LOG_NCOLS];
    size_t len[LOG_NCOLS];
    uint64_t line; /* first line of the record */
};

struct logread {
    struct zio_in *in;
    char delim[CSV_MAX_DELIM + 1];
    size_t dlen;
    int header;
    int idx[LOG_NCOLS]; /* 0-based field index, -1 for none */
    unsigned maxf;
    struct csv_scratch scratch;
    char *rec;  /* a record joined from several lines (newline inside quotes) */
    size_t rec_cap;
    struct csv_field fields[64];
    const char *pending; /* the first line not empty, already read for detection */
    size_t pending_len;
    uint64_t pending_line;
    int have_pending;
    uint64_t records;
};

#define LOGREAD_MAX_COLUMN 64

enum { LOGREAD_BAD = 2 }; /* logread_next: this record is malformed, the reader can go on */

/* Open path ("-" is stdin) and settle the format: strip a UTF-8 BOM, detect the delimiter
 * when not given, read the header when there is one, resolve column names and defaults.
 * The effective settings are written back into spec (names stay names), so a caller can
 * persist them. Empty lines are skipped, before the header too. Errors name the file
 * (and the header's line for header problems). */
int logread_open(struct logread *r, const char *path, struct logspec *spec, struct diag *d)
    ALS_MUSTCHECK;

/* 1 with a record, 0 at end, LOGREAD_BAD with "FILE:LINE: reason" in d for a malformed
 * record (missing column, empty ID, NUL byte, bad quoting), <0 for a fatal error (I/O,
 * truncated gzip, a line too long). */
int logread_next(struct logread *r, struct logrec *rec, struct diag *d) ALS_MUSTCHECK;

const char *logread_name(const struct logread *r);

void logread_close(struct logread *r);

#endif
