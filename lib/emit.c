/* SPDX-License-Identifier: MIT */
/* emit: text output in a growable buffer: TSV fields and JSON strings escaped, numbers. */
#include "emit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "xmem.h"
#include "zio.h"

void
emit_init(struct emit_buf *e)
{
    memset(e, 0, sizeof *e);
}

void
emit_release(struct emit_buf *e)
{
    free(e->buf);
    emit_init(e);
}

void
emit_reset(struct emit_buf *e)
{
    e->len = 0;
}

int
emit_error(const struct emit_buf *e)
{
    return e->failed ? ALS_ENOMEM : 0;
}

/* Room for n more bytes, or fail the buffer (0 or -1). */
static int
reserve(struct emit_buf *e, size_t n)
{
    size_t need;
    if (e->failed)
        return -1;
    if (xmem_add(e->len, n, &need) < 0 || xmem_grow((void **)&e->buf, &e->cap, need, 1) < 0) {
        e->failed = 1;
        return -1;
    }
    return 0;
}

int
emit_flush(struct emit_buf *e, struct zio_out *o, struct diag *d)
{
    if (e->failed)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    int rc = e->len ? zio_out_write(o, e->buf, e->len, d) : 0;
    e->len = 0;
    return rc;
}

void
emit_bytes(struct emit_buf *e, const void *p, size_t n)
{
    if (reserve(e, n) < 0)
        return;
    memcpy(e->buf + e->len, p, n);
    e->len += n;
}

void
emit_str(struct emit_buf *e, const char *s)
{
    emit_bytes(e, s, strlen(s));
}

void
emit_char(struct emit_buf *e, char c)
{
    emit_bytes(e, &c, 1);
}

void
emit_u64(struct emit_buf *e, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    emit_bytes(e, tmp, (size_t)n);
}

void
emit_tsv_field(struct emit_buf *e, const char *s, size_t n)
{
    size_t room;
    if (xmem_mul(n, 4, &room) < 0) {
        e->failed = 1;
        return;
    }
    if (reserve(e, room) < 0)
        return;
    e->len += csv_escape_tsv(s, n, e->buf + e->len);
}

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || len > n)
        return 0;
    for (size_t t = 1; t < len; t++)
        if ((s[t] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) ||
        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
        return 0;
    return len;
}

void
emit_json_string(struct emit_buf *e, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[8];
    emit_char(e, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = utf8_len((const unsigned char *)s + i, n - i);
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            emit_bytes(e, tmp, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f || !len) {
            memcpy(tmp, "\\u00", 4);
            tmp[4] = hex[c >> 4];
            tmp[5] = hex[c & 15];
            emit_bytes(e, tmp, 6);
            i++;
        } else {
            emit_bytes(e, s + i, len);
            i += len;
        }
    }
    emit_char(e, '"');
}

/* The bound is 1e15 rounded to float because float scores were tested against it: the
 * value of any float still prints as it always did. */
static void
emit_number(struct emit_buf *e, double v, int json)
{
    char tmp[48];
    int n;
    if (!isfinite(v))
        n = snprintf(tmp, sizeof tmp, "%s",
                     json ? "null" : isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    else if (fabs(v) < (double)1e15f && v == floor(v))
        n = snprintf(tmp, sizeof tmp, "%.0f", v);
    else
        n = snprintf(tmp, sizeof tmp, "%.6g", v);
    emit_bytes(e, tmp, (size_t)n);
}

void
emit_tsv_number(struct emit_buf *e, double v)
{
    emit_number(e, v, 0);
}

void
emit_json_number(struct emit_buf *e, double v)
{
    emit_number(e, v, 1);
}
