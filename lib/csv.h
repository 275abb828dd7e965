/* SPDX-License-Identifier: MIT */
/* csv: splitting one delimited record into fields (RFC 4180 quoting, any delimiter). */
#ifndef ALS_CSV_H
#define ALS_CSV_H

#include <stddef.h>

#include "diag.h"

#define CSV_MAX_DELIM 8

enum {
    CSV_EOPEN = -100, /* the record ends inside a quoted field: join the next line */
    CSV_EJUNK = -101  /* characters between a closing quote and the delimiter */
};

struct csv_field {
    const char *p;
    size_t len;
};

/* Buffer for unescaped quoted fields; fields may point into it until the next split. */
struct csv_scratch {
    char *buf;
    size_t cap;
};

/*
 * Split rec[0..len) by delim (1..CSV_MAX_DELIM bytes) and store the first maxf fields in
 * f. Returns the number of fields seen: an unquoted record stops counting at maxf, a
 * record with a quote is scanned to its end (so the result may exceed maxf). A field
 * starting with '"' is quoted: delimiters and line breaks inside it are data and "" is
 * one quote. Quotes inside an unquoted field are kept as data. Returns CSV_EOPEN,
 * CSV_EJUNK or ALS_ENOMEM on failure.
 */
int csv_split(const char *rec, size_t len, const char *delim, size_t dlen,
              struct csv_field *f, unsigned maxf, struct csv_scratch *s);

/* Guess the delimiter from a first line: the most frequent of tab, ",", ";", "|" and
 * "::" outside quoted fields; "::" wins ties, else the earlier in that list. Writes it
 * NUL-terminated to out; returns 0, or ALS_EFORMAT when none occurs. */
int csv_detect_delim(const char *line, size_t len, char out[CSV_MAX_DELIM + 1]);

/* Parse a delimiter name: tab, comma, semicolon, pipe, space, or the literal text
 * (with \t allowed). Returns 0 or ALS_EFORMAT. */
int csv_parse_delim(const char *name, char out[CSV_MAX_DELIM + 1]);

void csv_scratch_release(struct csv_scratch *s);

/* Escape raw ID bytes for one TSV field, so that no ID can break a line or a column:
 * tab, newline, carriage return and backslash become \t \n \r \\, other control bytes
 * \xHH. out needs room for 4 * n bytes; returns the escaped length. */
size_t csv_escape_tsv(const char *s, size_t n, char *out);

/* The inverse of csv_escape_tsv: \t \n \r \\ and \xHH (either case) back to their bytes,
 * every other byte as it is. out needs room for n bytes; *outlen gets the length.
 * Returns 0, or ALS_EFORMAT for a backslash that starts none of these. */
int csv_unescape_tsv(const char *s, size_t n, char *out, size_t *outlen) ALS_MUSTCHECK;

#endif
