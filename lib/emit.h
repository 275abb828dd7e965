/* SPDX-License-Identifier: MIT */
/* emit: text output in a growable buffer: TSV fields and JSON strings escaped, numbers. */
#ifndef ALS_EMIT_H
#define ALS_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct zio_out;

/*
 * A growable byte buffer that text output is composed in, then written out in one go
 * (emit_flush, or fwrite of buf and len). The appends return nothing: a failed
 * allocation makes the buffer fail, as a FILE's error flag does, after which appends do
 * nothing and emit_error and emit_flush report ALS_ENOMEM. buf is not NUL-terminated.
 * Start from emit_init (or all zeros); emit_release frees buf.
 */
struct emit_buf {
    char *buf;
    size_t len, cap;
    int failed;
};

void emit_init(struct emit_buf *e);
void emit_release(struct emit_buf *e);
/* Empty it, keeping the memory (and the failure, if any). */
void emit_reset(struct emit_buf *e);

/* 0, or ALS_ENOMEM when an append failed since emit_init. */
int emit_error(const struct emit_buf *e) ALS_MUSTCHECK;

/* Write the buffer's bytes to o (nothing when empty) and empty it. ALS_ENOMEM when an
 * append failed (nothing is written then), else zio_out_write's result. */
int emit_flush(struct emit_buf *e, struct zio_out *o, struct diag *d) ALS_MUSTCHECK;

/* Raw bytes, as they are. */
void emit_bytes(struct emit_buf *e, const void *p, size_t n);
void emit_str(struct emit_buf *e, const char *s);
void emit_char(struct emit_buf *e, char c);

/* A decimal number. */
void emit_u64(struct emit_buf *e, uint64_t v);

/* One TSV field of raw ID bytes, escaped so that no ID can break a line or a column:
 * tab, newline, carriage return and backslash as \t \n \r \\, other control bytes (and
 * 0x7f) as \xHH with lowercase hex, every other byte as it is (csv_escape_tsv). */
void emit_tsv_field(struct emit_buf *e, const char *s, size_t n);

/* A JSON string of raw bytes, with its quotes: '"' and '\' backslash-escaped, control
 * bytes and 0x7f as \u00XX (lowercase hex), valid UTF-8 sequences (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF) as they are, and every byte that
 * is not part of one as \u00XX too (its Latin-1 reading): the result is always valid
 * UTF-8 and valid JSON, whatever the input. */
void emit_json_string(struct emit_buf *e, const char *s, size_t n);

/* A number as text: an integral value of magnitude below 1e15f (999999986991104, the
 * float nearest 1e15) plainly ("%.0f": counts print as counts), anything else "%.6g".
 * Not finite: TSV "nan", "inf" or "-inf"; JSON has no such numbers, so null there. */
void emit_tsv_number(struct emit_buf *e, double v);
void emit_json_number(struct emit_buf *e, double v);

#endif
