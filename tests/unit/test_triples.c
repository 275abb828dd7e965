/* SPDX-License-Identifier: MIT */
/* test_triples: binary and text round trips, block boundaries, and every truncation,
 * flipped byte and trailing byte the reader must refuse. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "afile.h"
#include "csr.h"
#include "diag.h"
#include "triples.h"
#include "zio.h"

#include "t.h"
#include "scratch.h"

/* ---- writing and reading whole streams ---- */

static int
write_stream(const char *path, const struct triple *t, size_t n, int has_time, int text,
             uint64_t users, uint64_t items)
{
    struct zio_out o;
    struct triples_writer w;
    struct diag d;
    int rc = zio_out_open(&o, path, &d);
    if (rc < 0)
        return rc;
    if ((rc = triples_writer_start(&w, &o, has_time, text, &d)) == 0) {
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = triples_put(&w, &t[i], &d);
        if (rc == 0)
            rc = triples_writer_finish(&w, users, items, &d);
        if (rc == 0)
            rc = zio_out_commit(&o, &d);
    }
    if (rc < 0)
        printf("# write_stream: %s\n", d.msg);
    triples_writer_release(&w);
    zio_out_abort(&o);
    return rc;
}

/* Read every record of path into out (up to cap); returns the count or the error code,
 * and the reader's state after the last call in *r_out (closed). */
static long
read_stream(const char *path, struct triple *out, size_t cap, struct triples_reader *r_out,
            struct diag *d)
{
    struct triples_reader r;
    int rc = triples_reader_open(&r, path, d);
    if (rc < 0)
        return rc;
    long n = 0;
    struct triple t;
    while ((rc = triples_read(&r, &t, d)) == 1) {
        if ((size_t)n < cap)
            out[n] = t;
        n++;
    }
    if (r_out) {
        *r_out = r;
        r_out->in = NULL;
        r_out->blk = NULL;
    }
    triples_reader_close(&r);
    return rc < 0 ? rc : n;
}

/* Same records, values compared bit for bit. */
static int
same_records(const struct triple *a, const struct triple *b, size_t n, int has_time)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].user != b[i].user || a[i].item != b[i].item ||
            memcmp(&a[i].value, &b[i].value, sizeof(float)) != 0 ||
            (has_time ? a[i].time != b[i].time : b[i].time != 0)) {
            printf("#   record %zu differs\n", i);
            return 0;
        }
    return 1;
}

static float
float_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Edge values: every one must come back bit for bit from the binary form. */
static struct triple edge[] = {
    { 0, 0, 1.0f, 0 },
    { UINT32_MAX, UINT32_MAX, -2.5f, -1 },
    { 1, 2, 0.0f, INT64_MAX },
    { 3, 4, -0.0f, INT64_MIN },
    { 5, 6, FLT_MAX, 1700000000 },
    { 7, 8, 1e-45f, -1700000000 },
    { 9, 10, 0.1f, 42 },
    { 11, 12, INFINITY, 43 },
    { 13, 14, 0, 44 }, /* value set to a NaN with a payload below */
};
enum { NEDGE = sizeof edge / sizeof edge[0] };

TEST(binary_round_trip_without_time)
{
    edge[8].value = float_bits(0x7fc12345u);
    const char *p = tpath("edge.trip");
    struct triple back[NEDGE + 1];
    struct triples_reader r;
    struct diag d;
    T_OK(write_stream(p, edge, NEDGE, 0, 0, 16, 17));
    T_EQ_INT(read_stream(p, back, NEDGE + 1, &r, &d), NEDGE);
    T_EQ_INT(r.text, 0);
    T_EQ_INT(r.has_time, 0);
    T_EQ_U64(r.users, 16);
    T_EQ_U64(r.items, 17);
    T_TRUE(same_records(edge, back, NEDGE, 0));

    /* The layout: 64-byte header, 16-byte block head, 12 bytes a record, 40-byte end. */
    size_t len;
    unsigned char *b = slurp(p, &len);
    T_EQ_U64(len, 64 + 16 + 12 * NEDGE + 40);
    if (b && len == 64 + 16 + 12 * NEDGE + 40) {
        T_EQ_MEM(b, 8, "ALSBTRP1", 8);
        T_EQ_U64(afile_get_le32(b + 12), 0); /* flags: no time */
        T_EQ_MEM(b + 64, 4, "TBLK", 4);
        T_EQ_U64(afile_get_le32(b + 68), NEDGE);
        T_EQ_U64(afile_get_le32(b + 72), crc32(0, b + 80, 12 * NEDGE));
        T_EQ_U64(afile_get_le32(b + 80 + 12), UINT32_MAX); /* record 1: its user */
        T_EQ_U64(afile_get_le32(b + 80 + 12 + 8), 0xc0200000u); /* -2.5f */
        const unsigned char *e = b + 80 + 12 * NEDGE;
        T_EQ_MEM(e, 4, "TEND", 4);
        T_EQ_U64(afile_get_le64(e + 16), NEDGE);
        T_EQ_U64(afile_get_le64(e + 24), 16);
        T_EQ_U64(afile_get_le64(e + 32), 17);
        T_EQ_U64(afile_get_le32(e + 8), crc32(0, e + 16, 24));
    }
    free(b);
}

TEST(binary_round_trip_with_time)
{
    edge[8].value = float_bits(0xffbadbadu);
    const char *p = tpath("edge-time.trip");
    struct triple back[NEDGE + 1];
    struct triples_reader r;
    struct diag d;
    T_OK(write_stream(p, edge, NEDGE, 1, 0, 0, 0));
    T_EQ_INT(read_stream(p, back, NEDGE + 1, &r, &d), NEDGE);
    T_EQ_INT(r.has_time, 1);
    T_TRUE(same_records(edge, back, NEDGE, 1));
    size_t len;
    unsigned char *b = slurp(p, &len);
    T_EQ_U64(len, 64 + 16 + 20 * NEDGE + 40);
    if (b && len > 64) {
        T_EQ_U64(afile_get_le32(b + 12), TRIPLES_FLAG_TIME);
        T_EQ_U64(afile_get_le64(b + 80 + 20 * 3 + 12), (uint64_t)INT64_MIN);
    }
    free(b);
}

/* A deterministic stream of n records. */
static struct triple *
make_records(size_t n, uint64_t seed)
{
    struct triple *t = malloc((n ? n : 1) * sizeof *t);
    for (size_t i = 0; i < n && t; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        t[i].user = (uint32_t)(seed >> 40);
        t[i].item = (uint32_t)(seed >> 8) ^ (uint32_t)i;
        t[i].value = float_bits((uint32_t)(seed >> 32) & 0x7f7fffffu); /* finite */
        if (seed & 1)
            t[i].value = -t[i].value;
        t[i].time = (int64_t)(seed ^ (seed << 17));
    }
    return t;
}

TEST(many_blocks)
{
    /* Exactly one block, one block and one record, and several blocks with a short tail. */
    static const size_t counts[] = { TRIPLES_BLOCK, TRIPLES_BLOCK + 1, 3 * TRIPLES_BLOCK + 77 };
    for (size_t k = 0; k < 3; k++) {
        size_t n = counts[k];
        int has_time = (int)(k & 1);
        struct triple *t = make_records(n, 1000 + k);
        struct triple *back = malloc((n + 1) * sizeof *back);
        const char *p = tpath("blocks.trip");
        struct triples_reader r;
        struct diag d;
        T_OK(write_stream(p, t, n, has_time, 0, n, n + 1));
        T_EQ_INT(read_stream(p, back, n + 1, &r, &d), (long)n);
        T_TRUE(same_records(t, back, n, has_time));
        T_EQ_U64(r.total, n);
        T_EQ_U64(r.users, n);
        /* Blocks: ceil(n / 8192) of them plus the end marker. */
        T_EQ_U64(r.block_no, (n + TRIPLES_BLOCK - 1) / TRIPLES_BLOCK + 1);
        size_t len;
        unsigned char *b = slurp(p, &len);
        T_EQ_U64(len, 64 + 16 * ((n + TRIPLES_BLOCK - 1) / TRIPLES_BLOCK) +
                          n * (has_time ? 20 : 12) + 40);
        free(b);
        free(t);
        free(back);
    }
}

TEST(gzip_compressed_stream)
{
    size_t n = 2 * TRIPLES_BLOCK + 5;
    struct triple *t = make_records(n, 77);
    struct triple *back = malloc((n + 1) * sizeof *back);
    const char *p = tpath("gz-src.trip");
    const char *q = tpath("gz.trip.gz");
    struct diag d;
    T_OK(write_stream(p, t, n, 1, 0, 1, 2));
    size_t len;
    unsigned char *b = slurp(p, &len);
    gzFile g = gzopen(q, "wb");
    T_TRUE(b && g && gzwrite(g, b, (unsigned)len) == (int)len);
    T_EQ_INT(gzclose(g), Z_OK);
    T_EQ_INT(read_stream(q, back, n + 1, NULL, &d), (long)n);
    T_TRUE(same_records(t, back, n, 1));
    free(b);
    free(t);
    free(back);
}

TEST(empty_stream)
{
    const char *p = tpath("empty.trip");
    struct triple back[1];
    struct triples_reader r;
    struct diag d;
    T_OK(write_stream(p, NULL, 0, 0, 0, 5, 6));
    T_EQ_INT(read_stream(p, back, 1, &r, &d), 0);
    T_EQ_U64(r.users, 5);
    T_EQ_U64(r.items, 6);
    size_t len;
    unsigned char *b = slurp(p, &len);
    T_EQ_U64(len, 64 + 40); /* no empty block */
    free(b);
}

TEST(text_round_trip)
{
    /* Values from the edge table that text can carry, and random finite floats: the
     * shortest text must read back as the same float. */
    size_t n = 20000;
    struct triple *t = make_records(n, 5);
    static const float fixed[] = { 1.0f, -2.5f, 0.0f, FLT_MAX, -FLT_MAX, 1e-45f, 0.1f,
                                   16777216.0f, 16777217.0f, 3.4028235e38f, 1.17549435e-38f,
                                   123456.789f, -7.0f, 2147483648.0f, 4294967296.0f };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        t[i].value = fixed[i];
    t[0].time = INT64_MIN / 2;
    t[1].time = -1;
    t[2].time = 0;
    struct triple *back = malloc((n + 1) * sizeof *back);
    for (int has_time = 0; has_time < 2; has_time++) {
        const char *p = tpath("text.tsv");
        struct triples_reader r;
        struct diag d;
        T_OK(write_stream(p, t, n, has_time, 1, 0, 0));
        long got = read_stream(p, back, n + 1, &r, &d);
        if (got < 0)
            printf("#   %s\n", d.msg);
        T_EQ_INT(got, (long)n);
        T_EQ_INT(r.text, 1);
        T_EQ_INT(r.has_time, has_time);
        int bad = 0;
        for (size_t i = 0; i < n && got == (long)n; i++)
            if (back[i].user != t[i].user || back[i].item != t[i].item ||
                back[i].value != t[i].value || back[i].time != (has_time ? t[i].time : 0))
                if (bad++ < 3)
                    printf("#   record %zu: %.9g vs %.9g\n", i, (double)back[i].value,
                           (double)t[i].value);
        T_EQ_INT(bad, 0);
    }

    /* Exact text for a few records. */
    const char *p = tpath("text2.tsv");
    struct triple few[3] = { { 1, 2, 5.0f, 99 }, { 3, 4, 0.1f, -7 }, { 5, 6, -2.5f, 0 } };
    T_OK(write_stream(p, few, 3, 1, 1, 0, 0));
    size_t len;
    unsigned char *b = slurp(p, &len);
    static const char want[] = "1\t2\t5\t99\n3\t4\t0.1\t-7\n5\t6\t-2.5\t0\n";
    T_EQ_MEM(b, len, want, sizeof want - 1);
    free(b);
    free(t);
    free(back);
}

TEST(text_round_trip_int64_time_extremes)
{
    /* The writer prints any int64 time; the reader must take each back. */
    const char *p = tpath("text-extremes.tsv");
    struct triple few[2] = { { 1, 2, 1.0f, INT64_MAX }, { 3, 4, 1.0f, INT64_MIN } };
    struct triple back[3];
    struct diag d;
    T_OK(write_stream(p, few, 2, 1, 1, 0, 0));
    long got = read_stream(p, back, 3, NULL, &d);
    if (got < 0)
        printf("#   %s\n", d.msg);
    T_EQ_INT(got, 2);
    T_TRUE(got == 2 && back[0].time == INT64_MAX && back[1].time == INT64_MIN);
}

TEST(text_parsing)
{
    const char *p = tpath("in.tsv");
    struct triple back[8];
    struct triples_reader r;
    struct diag d;
    /* Blank lines are skipped, CRLF is fine, times may be ISO dates. */
    static const char ok[] = "0\t1\t2.5\r\n\n7\t8\t-1\t1970-01-02\n";
    T_OK(spit(p, ok, sizeof ok - 1));
    T_EQ_INT(read_stream(p, back, 8, &r, &d), 2);
    T_TRUE(back[0].user == 0 && back[0].item == 1 && back[0].value == 2.5f);
    T_TRUE(back[1].user == 7 && back[1].item == 8 && back[1].value == -1.0f);
    T_EQ_INT(back[1].time, 86400);

    static const struct { const char *text, *msg; } bad[] = {
        { "1\t2\n", ":1: expected 3 or 4 tab-separated fields (user, item, value[, time])" },
        { "1\t2\t3\t4\t5\n",
          ":1: expected 3 or 4 tab-separated fields (user, item, value[, time])" },
        { "\n1 2 3\n", ":2: expected 3 or 4 tab-separated fields (user, item, value[, time])" },
        { "-1\t2\t3\n", ":1: user and item must be indices 0-4294967295" },
        { "1\t4294967296\t3\n", ":1: user and item must be indices 0-4294967295" },
        { "1.5\t2\t3\n", ":1: user and item must be indices 0-4294967295" },
        { "u\t2\t3\n", ":1: user and item must be indices 0-4294967295" },
        { "1\t2\tnan\n", ":1: value 'nan' is not a finite number" },
        { "1\t2\t1e39\n", ":1: value '1e39' is not a finite number" },
        { "1\t2\t\n", ":1: value '' is not a finite number" },
        { "1\t2\t3\tyesterday\n", ":1: bad time 'yesterday'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[700];
        T_OK(spit(p, bad[i].text, strlen(bad[i].text)));
        memset(&d, 0, sizeof d);
        T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_EFORMAT);
        snprintf(want, sizeof want, "%s%s", p, bad[i].msg);
        T_EQ_STR(d.msg, want);
    }
    /* The largest index is fine. */
    T_OK(spit(p, "4294967295\t0\t1\n", 15));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), 1);
    T_EQ_U64(back[0].user, UINT32_MAX);
}

/* The small binary stream the corruption tests damage: 3 records with time. */
static unsigned char *
small_stream(size_t *len)
{
    static const struct triple t[3] = {
        { 1, 2, 3.5f, 100 }, { 4, 5, -1.0f, 200 }, { 6, 7, 0.25f, 300 }
    };
    const char *p = tpath("small-src.trip");
    if (write_stream(p, t, 3, 1, 0, 10, 11) < 0)
        return NULL;
    return slurp(p, len);
}

TEST(truncated_at_every_offset)
{
    size_t len;
    unsigned char *b = small_stream(&len);
    T_TRUE(b != NULL);
    if (!b)
        return;
    T_EQ_U64(len, 64 + 16 + 60 + 40);
    const char *p = tpath("cut.trip");
    struct triple back[8];
    int bad = 0;
    /* Offset 0 is an empty file, a valid empty text stream: from 1 on, every prefix of
     * the binary stream is an error. */
    for (size_t cut = 1; cut < len; cut++) {
        struct diag d;
        T_OK(spit(p, b, cut));
        memset(&d, 0, sizeof d);
        long rc = read_stream(p, back, 8, NULL, &d);
        if (rc >= 0 || d.msg[0] == '\0')
            if (bad++ < 5)
                printf("#   cut at %zu: %ld\n", cut, rc);
    }
    T_EQ_INT(bad, 0);

    /* The messages at the three kinds of boundary. */
    struct diag d;
    char want[700];
    T_OK(spit(p, b, 40));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_EFORMAT);
    snprintf(want, sizeof want, "'%s': truncated triples stream (incomplete header)", p);
    T_EQ_STR(d.msg, want);
    T_OK(spit(p, b, 64 + 16 + 30));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_EFORMAT);
    snprintf(want, sizeof want, "'%s': truncated triples stream (block 1 cut short)", p);
    T_EQ_STR(d.msg, want);
    T_OK(spit(p, b, 64 + 16 + 60));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_EFORMAT);
    snprintf(want, sizeof want, "'%s': truncated triples stream (no end marker after 3 "
             "records)", p);
    T_EQ_STR(d.msg, want);
    T_OK(spit(p, b, len - 1));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_EFORMAT);
    snprintf(want, sizeof want, "'%s': truncated triples stream (short end marker)", p);
    T_EQ_STR(d.msg, want);
    free(b);
}

TEST(flipped_byte_anywhere)
{
    size_t len;
    unsigned char *b = small_stream(&len);
    T_TRUE(b != NULL);
    if (!b)
        return;
    const char *p = tpath("flip.trip");
    struct triple back[8];
    int accepted = 0;
    char where[256] = "";
    for (size_t at = 0; at < len; at++) {
        int ok_here = 0;
        for (int bit = 0; bit < 8; bit += 7) { /* the lowest and the highest bit */
            struct diag d;
            b[at] ^= (unsigned char)(1u << bit);
            T_OK(spit(p, b, len));
            b[at] ^= (unsigned char)(1u << bit);
            ok_here |= read_stream(p, back, 8, NULL, &d) >= 0;
        }
        if (ok_here) {
            accepted++;
            if (strlen(where) < 200)
                snprintf(where + strlen(where), sizeof where - strlen(where), " %zu", at);
        }
    }
    if (accepted)
        printf("#   a flipped byte was accepted at offsets:%s\n", where);
    T_EQ_INT(accepted, 0);

    /* Typical messages: a record byte is a block checksum error, the end marker's. */
    struct diag d;
    char want[700];
    b[64 + 16 + 25] ^= 0x04;
    T_OK(spit(p, b, len));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_ECHECKSUM);
    snprintf(want, sizeof want, "'%s': triples block 1 checksum mismatch", p);
    T_EQ_STR(d.msg, want);
    b[64 + 16 + 25] ^= 0x04;
    b[len - 10] ^= 0x04;
    T_OK(spit(p, b, len));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_ECHECKSUM);
    snprintf(want, sizeof want, "'%s': triples end marker checksum mismatch", p);
    T_EQ_STR(d.msg, want);
    b[len - 10] ^= 0x04;
    b[64 + 1] = 'X';
    T_OK(spit(p, b, len));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_EFORMAT);
    snprintf(want, sizeof want, "'%s': corrupt triples stream (bad block 1)", p);
    T_EQ_STR(d.msg, want);
    free(b);
}

TEST(data_after_end)
{
    size_t len;
    unsigned char *b = small_stream(&len);
    T_TRUE(b != NULL);
    if (!b)
        return;
    const char *p = tpath("after.trip");
    struct triple back[8];
    struct diag d;
    char want[700];
    unsigned char *c = malloc(2 * len);
    memcpy(c, b, len);
    c[len] = '\n';
    T_OK(spit(p, c, len + 1));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_EFORMAT);
    snprintf(want, sizeof want, "'%s': data after the end of the triples stream", p);
    T_EQ_STR(d.msg, want);

    /* A second whole stream appended is refused as well. */
    memcpy(c + len, b, len);
    T_OK(spit(p, c, 2 * len));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, want);
    free(c);
    free(b);
}

TEST(end_marker_count_mismatch)
{
    size_t len;
    unsigned char *b = small_stream(&len);
    T_TRUE(b != NULL);
    if (!b)
        return;
    /* Say 4 records in the end marker and fix its CRC: the count check catches it. */
    unsigned char *e = b + len - 40;
    afile_put_le64(e + 16, 4);
    afile_put_le32(e + 8, (uint32_t)crc32(0, e + 16, 24));
    const char *p = tpath("count.trip");
    struct triple back[8];
    struct diag d;
    char want[700];
    T_OK(spit(p, b, len));
    T_EQ_INT(read_stream(p, back, 8, NULL, &d), ALS_EFORMAT);
    snprintf(want, sizeof want, "'%s': end marker says 4 records, stream had 3", p);
    T_EQ_STR(d.msg, want);
    free(b);
}

/* ---- triples_read_coo: a whole stream into COO arrays ---- */

TEST(read_coo_binary_keeps_order_and_end_marker_shape)
{
    static const struct triple t[] = {
        { 2, 0, 1.5f, 30 }, { 0, 3, -2.0f, 10 }, { 2, 0, 4.0f, 20 }, { 1, 1, 0.0f, 5 },
    };
    const char *p = tpath("coo.trip");
    T_OK(write_stream(p, t, 4, 1, 0, 7, 9));
    struct csr_coo coo = { 0 };
    uint64_t rows = 0, cols = 0;
    struct diag d = { 0 };
    T_OK(triples_read_coo(p, &coo, &rows, &cols, &d));
    /* The end marker's sizes, not the largest index + 1 (3 x 4). */
    T_EQ_U64(rows, 7);
    T_EQ_U64(cols, 9);
    T_EQ_U64(coo.n, 4);
    T_TRUE(coo.time != NULL);
    for (uint64_t k = 0; k < coo.n && k < 4; k++) {
        T_EQ_U64(coo.u[k], t[k].user);
        T_EQ_U64(coo.i[k], t[k].item);
        T_TRUE(coo.v[k] == t[k].value);
        if (coo.time)
            T_EQ_INT(coo.time[k], t[k].time);
    }
    csr_coo_release(&coo);

    /* Without time the COO has no time array. */
    T_OK(write_stream(p, t, 4, 0, 0, 3, 4));
    T_OK(triples_read_coo(p, &coo, &rows, &cols, &d));
    T_TRUE(coo.time == NULL);
    T_EQ_U64(rows, 3);
    T_EQ_U64(cols, 4);
    csr_coo_release(&coo);
}

TEST(read_coo_text_shape_is_largest_index_plus_one)
{
    const char *p = tpath("coo.tsv");
    static const char text[] = "0\t5\t1\n3\t0\t2.5\n3\t5\t-1\n";
    T_OK(spit(p, text, sizeof text - 1));
    struct csr_coo coo = { 0 };
    uint64_t rows = 0, cols = 0;
    struct diag d = { 0 };
    T_OK(triples_read_coo(p, &coo, &rows, &cols, &d));
    T_EQ_U64(rows, 4);
    T_EQ_U64(cols, 6);
    T_EQ_U64(coo.n, 3);
    T_TRUE(coo.time == NULL);
    if (coo.n == 3) {
        T_EQ_U64(coo.u[1], 3);
        T_EQ_U64(coo.i[1], 0);
        T_NEAR((double)coo.v[1], 2.5, 0);
        T_NEAR((double)coo.v[2], -1, 0);
    }
    csr_coo_release(&coo);
}

/* Each refusal with its code and the words of its message. */
TEST(read_coo_refusals)
{
    static const struct {
        const char *text, *words;
        int code;
    } cases[] = {
        { "", "empty input, no triples stream", ALS_EFORMAT },
        { "0\t0\t1\t100\n1\t1\t2\n", "record 2 lacks a time column, the first had one",
          ALS_EFORMAT },
        { "0\t0\t1\n1\t1\t2\t100\n", "record 2 has a time column, the first did not",
          ALS_EFORMAT },
    };
    const char *p = tpath("bad.tsv");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        T_OK(spit(p, cases[k].text, strlen(cases[k].text)));
        struct csr_coo coo = { 0 };
        uint64_t rows = 0, cols = 0;
        struct diag d = { 0 };
        T_EQ_INT(triples_read_coo(p, &coo, &rows, &cols, &d), cases[k].code);
        if (!strstr(d.msg, cases[k].words))
            T_FAIL("case %zu: message '%s'", k, d.msg);
        csr_coo_release(&coo);
    }

    /* A binary stream whose indices exceed the sizes its end marker declares. */
    static const struct triple t[] = { { 0, 0, 1, 0 }, { 4, 1, 1, 0 } };
    const char *b = tpath("over.trip");
    T_OK(write_stream(b, t, 2, 0, 0, 4, 2));
    struct csr_coo coo = { 0 };
    uint64_t rows = 0, cols = 0;
    struct diag d = { 0 };
    T_EQ_INT(triples_read_coo(b, &coo, &rows, &cols, &d), ALS_EFORMAT);
    T_TRUE(strstr(d.msg, "indices exceed the 4 users and 2 items") != NULL);
    csr_coo_release(&coo);

    /* Text refuses 'inf' as it parses; a binary record can hold one, and is refused here. */
    static const struct triple inf[] = { { 0, 0, 1, 0 }, { 1, 1, INFINITY, 0 } };
    T_OK(write_stream(b, inf, 2, 0, 0, 2, 2));
    T_EQ_INT(triples_read_coo(b, &coo, &rows, &cols, &d), ALS_EFORMAT);
    T_TRUE(strstr(d.msg, "record 2: value is not finite") != NULL);
    csr_coo_release(&coo);
}
