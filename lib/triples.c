/* SPDX-License-Identifier: MIT */
/* triples: the stream of (user, item, value[, time]) records between als-map and als-csr. */
#include "triples.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "afile.h"
#include "csr.h"
#include "ratemap.h"
#include "timefmt.h"
#include "zio.h"

#define BLK_HEAD 16

static size_t
rec_size(int has_time)
{
    return has_time ? 20 : 12;
}

int
triples_writer_start(struct triples_writer *w, struct zio_out *o, int has_time, int text,
                     struct diag *d)
{
    memset(w, 0, sizeof *w);
    w->o = o;
    w->has_time = has_time;
    w->text = text;
    if (text)
        return 0;
    w->blk = malloc(BLK_HEAD + (size_t)TRIPLES_BLOCK * rec_size(has_time));
    if (!w->blk)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    struct afile_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.kind, TRIPLES_KIND, 4);
    h.major = TRIPLES_MAJOR;
    h.flags = has_time ? TRIPLES_FLAG_TIME : 0;
    h.dtype = AFILE_DT_F32;
    unsigned char hb[AFILE_HEADER_SIZE];
    afile_header_encode(&h, hb);
    return zio_out_write(o, hb, sizeof hb, d);
}

static int
flush_block(struct triples_writer *w, struct diag *d)
{
    if (w->n == 0)
        return 0;
    size_t bytes = (size_t)w->n * rec_size(w->has_time);
    memcpy(w->blk, "TBLK", 4);
    afile_put_le32(w->blk + 4, w->n);
    afile_put_le32(w->blk + 8, (uint32_t)crc32(0, w->blk + BLK_HEAD, (uInt)bytes));
    afile_put_le32(w->blk + 12, 0);
    w->n = 0;
    return zio_out_write(w->o, w->blk, BLK_HEAD + bytes, d);
}

/* Shortest text that reads back as the same float: integers plainly, else %.9g. */
static int
format_value(char *buf, size_t size, float v)
{
    if (fabsf(v) < 16777216.0f && v == (float)(int32_t)v)
        return snprintf(buf, size, "%" PRId32, (int32_t)v);
    for (int prec = 6; prec < 9; prec++) {
        int n = snprintf(buf, size, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            return n;
    }
    return snprintf(buf, size, "%.9g", (double)v);
}

int
triples_put(struct triples_writer *w, const struct triple *t, struct diag *d)
{
    w->total++;
    if (w->text) {
        char line[128], val[48];
        format_value(val, sizeof val, t->value);
        int n = w->has_time ? snprintf(line, sizeof line, "%" PRIu32 "\t%" PRIu32 "\t%s\t%" PRId64
                                       "\n", t->user, t->item, val, t->time)
                            : snprintf(line, sizeof line, "%" PRIu32 "\t%" PRIu32 "\t%s\n",
                                       t->user, t->item, val);
        return zio_out_write(w->o, line, (size_t)n, d);
    }
    unsigned char *p = w->blk + BLK_HEAD + (size_t)w->n * rec_size(w->has_time);
    uint32_t vbits;
    memcpy(&vbits, &t->value, 4);
    afile_put_le32(p, t->user);
    afile_put_le32(p + 4, t->item);
    afile_put_le32(p + 8, vbits);
    if (w->has_time)
        afile_put_le64(p + 12, (uint64_t)t->time);
    if (++w->n == TRIPLES_BLOCK)
        return flush_block(w, d);
    return 0;
}

int
triples_writer_finish(struct triples_writer *w, uint64_t users, uint64_t items, struct diag *d)
{
    if (w->text)
        return 0;
    int rc = flush_block(w, d);
    if (rc < 0)
        return rc;
    unsigned char end[BLK_HEAD + 24];
    memcpy(end, "TEND", 4);
    afile_put_le32(end + 4, 0);
    afile_put_le32(end + 12, 0);
    afile_put_le64(end + 16, w->total);
    afile_put_le64(end + 24, users);
    afile_put_le64(end + 32, items);
    afile_put_le32(end + 8, (uint32_t)crc32(0, end + 16, 24));
    return zio_out_write(w->o, end, sizeof end, d);
}

void
triples_writer_release(struct triples_writer *w)
{
    free(w->blk);
    memset(w, 0, sizeof *w);
}

int
triples_reader_open(struct triples_reader *r, const char *path, struct diag *d)
{
    memset(r, 0, sizeof *r);
    int rc = zio_in_open(&r->in, path, d);
    if (rc < 0)
        return rc;
    const void *p;
    size_t got;
    if ((rc = zio_in_peek(r->in, &p, 4, &got, d)) < 0)
        goto out;
    if (got < 4 || memcmp(p, "ALSB", 4) != 0) {
        r->text = 1;
        return 0;
    }
    unsigned char hb[AFILE_HEADER_SIZE];
    if ((rc = zio_in_read(r->in, hb, sizeof hb, &got, d)) < 0)
        goto out;
    if (got < sizeof hb) {
        rc = diag_set(d, ALS_EFORMAT, "'%s': truncated triples stream (incomplete header)",
                      zio_in_name(r->in));
        goto out;
    }
    struct afile_header h;
    if ((rc = afile_header_decode(hb, &h, zio_in_name(r->in), TRIPLES_KIND, TRIPLES_MAJOR,
                                  TRIPLES_FLAG_TIME, d)) < 0)
        goto out;
    r->has_time = (h.flags & TRIPLES_FLAG_TIME) != 0;
    r->blk = malloc((size_t)TRIPLES_BLOCK * rec_size(r->has_time));
    if (!r->blk) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    return 0;
out:
    triples_reader_close(r);
    return rc;
}

static int
read_text(struct triples_reader *r, struct triple *t, struct diag *d)
{
    const char *line;
    size_t len;
    for (;;) {
        int rc = zio_in_getline(r->in, &line, &len, d);
        if (rc <= 0)
            return rc;
        if (len && line[len - 1] == '\r')
            len--;
        if (len)
            break;
    }
    const char *f[5], *end = line + len;
    size_t fl[5];
    int n = 0;
    for (const char *p = line; n < 5;) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        f[n] = p;
        fl[n++] = (size_t)((tab ? tab : end) - p);
        if (!tab)
            break;
        p = tab + 1;
    }
    const char *name = zio_in_name(r->in);
    unsigned long long ln = (unsigned long long)zio_in_lineno(r->in);
    /* Said as a NUL: quoting the field would cut it at the NUL and show another value. */
    static const char *const field_name[5] = { "user", "item", "value", "time", "fifth" };
    for (int k = 0; k < n; k++)
        if (memchr(f[k], '\0', fl[k]))
            return diag_set(d, ALS_EFORMAT, "%s:%llu: NUL byte in the %s field", name, ln,
                            field_name[k]);
    if (n < 3 || n > 4)
        return diag_set(d, ALS_EFORMAT, "%s:%llu: expected 3 or 4 tab-separated fields "
                        "(user, item, value[, time])", name, ln);
    double u, i, v;
    if (ratemap_parse_number(f[0], fl[0], &u) < 0 || u < 0 || u > UINT32_MAX || u != floor(u) ||
        ratemap_parse_number(f[1], fl[1], &i) < 0 || i < 0 || i > UINT32_MAX || i != floor(i))
        return diag_set(d, ALS_EFORMAT, "%s:%llu: user and item must be indices 0-%" PRIu32,
                        name, ln, UINT32_MAX);
    int rc = ratemap_parse_number(f[2], fl[2], &v);
    if (rc < 0 || !isfinite((float)v))
        return diag_set(d, ALS_EFORMAT, "%s:%llu: value '%.*s' is not a finite number", name,
                        ln, (int)(fl[2] > 40 ? 40 : fl[2]), f[2]);
    t->user = (uint32_t)u;
    t->item = (uint32_t)i;
    t->value = (float)v;
    t->time = 0;
    r->has_time = n == 4; /* per line in text: the caller checks they agree */
    if (n == 4) {
        if (timefmt_parse(f[3], fl[3], &t->time) < 0)
            return diag_set(d, ALS_EFORMAT, "%s:%llu: bad time '%.*s'", name, ln,
                            (int)(fl[3] > 40 ? 40 : fl[3]), f[3]);
    }
    r->total++;
    return 1;
}

static int
next_block(struct triples_reader *r, struct diag *d)
{
    const char *name = zio_in_name(r->in);
    unsigned char head[BLK_HEAD];
    size_t got;
    int rc = zio_in_read(r->in, head, sizeof head, &got, d);
    if (rc < 0)
        return rc;
    if (got < sizeof head)
        return diag_set(d, ALS_EFORMAT, "'%s': truncated triples stream (no end marker after "
                        "%llu records)", name, (unsigned long long)r->total);
    r->block_no++;
    if (afile_get_le32(head + 12) != 0 ||
        (memcmp(head, "TEND", 4) == 0 && afile_get_le32(head + 4) != 0))
        return diag_set(d, ALS_EFORMAT, "'%s': corrupt triples stream (bad block %llu)", name,
                        (unsigned long long)r->block_no);
    if (memcmp(head, "TEND", 4) == 0) {
        unsigned char tail[24];
        if ((rc = zio_in_read(r->in, tail, sizeof tail, &got, d)) < 0)
            return rc;
        if (got < sizeof tail)
            return diag_set(d, ALS_EFORMAT, "'%s': truncated triples stream (short end marker)",
                            name);
        if ((uint32_t)crc32(0, tail, 24) != afile_get_le32(head + 8))
            return diag_set(d, ALS_ECHECKSUM, "'%s': triples end marker checksum mismatch",
                            name);
        if (afile_get_le64(tail) != r->total)
            return diag_set(d, ALS_EFORMAT, "'%s': end marker says %llu records, stream had "
                            "%llu", name, (unsigned long long)afile_get_le64(tail),
                            (unsigned long long)r->total);
        r->users = afile_get_le64(tail + 8);
        r->items = afile_get_le64(tail + 16);
        r->ended = 1;
        return 0;
    }
    uint32_t n = afile_get_le32(head + 4);
    if (memcmp(head, "TBLK", 4) != 0 || n == 0 || n > TRIPLES_BLOCK)
        return diag_set(d, ALS_EFORMAT, "'%s': corrupt triples stream (bad block %llu)", name,
                        (unsigned long long)r->block_no);
    size_t bytes = (size_t)n * rec_size(r->has_time);
    if ((rc = zio_in_read(r->in, r->blk, bytes, &got, d)) < 0)
        return rc;
    if (got < bytes)
        return diag_set(d, ALS_EFORMAT, "'%s': truncated triples stream (block %llu cut short)",
                        name, (unsigned long long)r->block_no);
    if ((uint32_t)crc32(0, r->blk, (uInt)bytes) != afile_get_le32(head + 8))
        return diag_set(d, ALS_ECHECKSUM, "'%s': triples block %llu checksum mismatch", name,
                        (unsigned long long)r->block_no);
    r->n = n;
    r->pos = 0;
    return 0;
}

int
triples_read(struct triples_reader *r, struct triple *t, struct diag *d)
{
    if (r->text)
        return read_text(r, t, d);
    while (r->pos == r->n) {
        if (r->ended) {
            /* Anything after the end marker is damage or a second stream; refuse it. */
            const void *p;
            size_t got;
            int rc = zio_in_peek(r->in, &p, 1, &got, d);
            if (rc < 0)
                return rc;
            if (got)
                return diag_set(d, ALS_EFORMAT, "'%s': data after the end of the triples "
                                "stream", zio_in_name(r->in));
            return 0;
        }
        int rc = next_block(r, d);
        if (rc < 0)
            return rc;
    }
    const unsigned char *p = r->blk + (size_t)r->pos++ * rec_size(r->has_time);
    uint32_t vbits = afile_get_le32(p + 8);
    t->user = afile_get_le32(p);
    t->item = afile_get_le32(p + 4);
    memcpy(&t->value, &vbits, 4);
    t->time = r->has_time ? (int64_t)afile_get_le64(p + 12) : 0;
    r->total++;
    return 1;
}

void
triples_reader_close(struct triples_reader *r)
{
    zio_in_close(r->in);
    free(r->blk);
    memset(r, 0, sizeof *r);
}

int
triples_read_coo(const char *path, struct csr_coo *coo, uint64_t *rows, uint64_t *cols,
                 struct diag *d)
{
    return triples_read_coo_progress(path, coo, rows, cols, NULL, d);
}

/* Records between two progress ticks: a mask test per record, a clock read per block. */
#define TICK_RECORDS 8192u

int
triples_read_coo_progress(const char *path, struct csr_coo *coo, uint64_t *rows,
                          uint64_t *cols, struct progress *pr, struct diag *d)
{
    struct triples_reader tr;
    struct triple t;
    uint64_t maxu = 0, maxi = 0;
    int first = 1, with_time = 0;
    uint64_t size = progress_wanted(pr) ? zio_path_size(path) : 0;
    const char *unit = size ? "bytes" : "records";
    int rc = triples_reader_open(&tr, path, d);
    if (rc < 0)
        return rc;
    progress_report(pr, 0, size, unit);
    if (tr.text) {
        /* Nothing at all is not an empty stream (als-map always writes a header and an
         * end marker): it is what a failed producer leaves in a pipe. */
        const void *p;
        size_t got;
        if ((rc = zio_in_peek(tr.in, &p, 1, &got, d)) >= 0 && got == 0)
            rc = diag_set(d, ALS_EFORMAT, "%s: empty input, no triples stream",
                          strcmp(path, "-") ? path : "(stdin)");
        if (rc < 0)
            goto out;
    }
    while ((rc = triples_read(&tr, &t, d)) > 0) {
        int has = tr.has_time; /* text lines each have a time or not: all must agree */
        if (first) {
            with_time = has;
            first = 0;
        } else if (has != with_time) {
            rc = diag_set(d, ALS_EFORMAT, "%s: record %llu %s, the first %s", path,
                          (unsigned long long)tr.total,
                          has ? "has a time column" : "lacks a time column",
                          has ? "did not" : "had one");
            goto out;
        }
        if (!isfinite(t.value)) {
            rc = diag_set(d, ALS_EFORMAT, "%s: record %llu: value is not finite", path,
                          (unsigned long long)tr.total);
            goto out;
        }
        if (csr_coo_push(coo, t.user, t.item, t.value, with_time ? &t.time : NULL) < 0) {
            rc = diag_set(d, ALS_ENOMEM, "out of memory");
            goto out;
        }
        maxu = (uint64_t)t.user + 1 > maxu ? (uint64_t)t.user + 1 : maxu;
        maxi = (uint64_t)t.item + 1 > maxi ? (uint64_t)t.item + 1 : maxi;
        if (pr && (tr.total & (TICK_RECORDS - 1)) == 0)
            progress_tick(pr, size ? zio_in_raw_offset(tr.in) : tr.total, size, unit);
    }
    if (rc < 0)
        goto out;
    progress_report(pr, size ? zio_in_raw_offset(tr.in) : tr.total, size, unit);
    /* A binary stream's end marker states the vocabulary sizes: they are the shape. */
    *rows = tr.text ? maxu : tr.users;
    *cols = tr.text ? maxi : tr.items;
    if (!tr.text && (maxu > tr.users || maxi > tr.items))
        rc = diag_set(d, ALS_EFORMAT, "%s: indices exceed the %llu users and %llu items "
                      "its end marker declares", path, (unsigned long long)tr.users,
                      (unsigned long long)tr.items);
out:
    triples_reader_close(&tr);
    return rc;
}
