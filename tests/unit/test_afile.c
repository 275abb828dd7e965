/* SPDX-License-Identifier: MIT */
/* test_afile: container round trips, exact layout, and every corruption the reader rejects. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "afile.h"
#include "diag.h"
#include "zio.h"

#include "t.h"
#include "scratch.h"

/* Recompute the directory and header CRCs after a deliberate edit, so that the edit
 * reaches the structural checks instead of stopping at a checksum. */
static void
fix_crcs(unsigned char *buf, size_t len)
{
    if (len < 64)
        return;
    if (len >= 72) {
        uint32_t nsec = afile_get_le32(buf + 64);
        if (nsec <= AFILE_MAX_SECTIONS && 72 + 32 * (size_t)nsec <= len)
            afile_put_le32(buf + 52,
                           (uint32_t)crc32(0, buf + 64, (uInt)(8 + 32 * (size_t)nsec)));
    }
    afile_put_le32(buf + 60, (uint32_t)crc32(0, buf, 60));
}

/* ---- the sample file ---- */

static const float s_vals[5] = { 1.5f, -2.25f, 0.0f, 3.0e10f, 1e-20f };
static const uint64_t s_ids[3] = { 0, 42, UINT64_MAX };
static const char s_text[] = "hello, world"; /* 12 bytes without the NUL */

/* Section layout that follows from the rules: directory 8 + 4 * 32 = 136 bytes ends at
 * 200, so the sections start at 256; the empty one takes no room. */
enum { S_SIZE = 396, S_VALS = 256, S_NONE = 320, S_IDS = 320, S_TEXT = 384 };

static struct afile_header
sample_header(void)
{
    struct afile_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.kind, "CSR1", 4);
    h.major = 1;
    h.minor = 0x0203;
    h.flags = 0x00010000; /* an ignorable bit: readers must accept it */
    h.rows = 7;
    h.cols = 0x0102030405060708ull;
    h.nnz = 5;
    h.dtype = AFILE_DT_F32;
    return h;
}

static const struct afile_wsec s_secs[4] = {
    { "VALS", AFILE_DT_F32, s_vals, sizeof s_vals },
    { "NONE", AFILE_DT_I64, NULL, 0 },
    { "IDS_", AFILE_DT_U64, s_ids, sizeof s_ids },
    { "TEXT", AFILE_DT_BYTES, s_text, 12 },
};

static const char *
write_sample(const char *name)
{
    const char *p = tpath(name);
    struct afile_header h = sample_header();
    struct diag d;
    if (afile_save(p, &h, s_secs, 4, &d) < 0) {
        printf("# cannot write sample: %s\n", d.msg);
        exit(1);
    }
    return p;
}

/* The sample with buf edited by the caller: slurp, edit, spit. */
static unsigned char *
sample_bytes(const char *name, size_t *len)
{
    unsigned char *buf = slurp(write_sample(name), len);
    if (!buf || *len != S_SIZE) {
        printf("# cannot read the sample back\n");
        exit(1);
    }
    return buf;
}

/* afile_open with a fresh diag; also checks that a failed open leaves f zeroed. */
static int
try_open(const char *path, const char *kind, unsigned flags, struct diag *d)
{
    struct afile f;
    memset(d, 0, sizeof *d);
    int rc = afile_open(&f, path, kind, 1, flags, d);
    if (rc == 0)
        afile_close(&f);
    else if (f.map || f.size || f.nsec)
        rc = 12345; /* shows up as a mismatch in the caller's T_EQ_INT */
    return rc;
}

static char want[1024];

#define WANT(...) snprintf(want, sizeof want, __VA_ARGS__)

/* ---- tests ---- */

TEST(dtype_sizes)
{
    T_EQ_U64(afile_dtype_size(AFILE_DT_F32), 4);
    T_EQ_U64(afile_dtype_size(AFILE_DT_F64), 8);
    T_EQ_U64(afile_dtype_size(AFILE_DT_U32), 4);
    T_EQ_U64(afile_dtype_size(AFILE_DT_U64), 8);
    T_EQ_U64(afile_dtype_size(AFILE_DT_BYTES), 1);
    T_EQ_U64(afile_dtype_size(AFILE_DT_I64), 8);
    T_EQ_U64(afile_dtype_size(0), 0);
    T_EQ_U64(afile_dtype_size(7), 0);
}

TEST(round_trip_sections)
{
    const char *p = write_sample("rt.csr");
    struct afile f;
    struct diag d;
    const void *data;
    uint64_t n;

    T_OK(afile_open(&f, p, "CSR1", 1, AFILE_VERIFY, &d));
    T_EQ_U64(f.size, S_SIZE);
    T_EQ_U64(f.nsec, 4);
    T_EQ_STR(f.path, p);
    for (unsigned i = 0; i < f.nsec; i++)
        T_EQ_U64(f.sec[i].offset % AFILE_ALIGN, 0);
    T_EQ_U64(f.sec[0].offset, S_VALS);
    T_EQ_U64(f.sec[1].offset, S_NONE);
    T_EQ_U64(f.sec[2].offset, S_IDS);
    T_EQ_U64(f.sec[3].offset, S_TEXT);

    T_OK(afile_section(&f, "VALS", AFILE_DT_F32, &data, &n, &d));
    T_EQ_U64(n, 5);
    T_EQ_U64((uintptr_t)data % AFILE_ALIGN, 0);
    const float *v = data;
    for (int i = 0; i < 5; i++)
        T_NEAR((double)v[i], (double)s_vals[i], 0);
    T_EQ_MEM(data, 20, s_vals, sizeof s_vals);

    T_OK(afile_section(&f, "NONE", AFILE_DT_I64, &data, &n, &d));
    T_EQ_U64(n, 0);

    T_OK(afile_section(&f, "IDS_", AFILE_DT_U64, &data, &n, &d));
    T_EQ_U64(n, 3);
    T_EQ_U64((uintptr_t)data % AFILE_ALIGN, 0);
    const uint64_t *ids = data;
    T_EQ_U64(ids[0], 0);
    T_EQ_U64(ids[1], 42);
    T_EQ_U64(ids[2], UINT64_MAX);

    T_OK(afile_section(&f, "TEXT", AFILE_DT_BYTES, &data, &n, &d));
    T_EQ_U64(n, 12);
    T_EQ_MEM(data, n, "hello, world", 12);

    for (unsigned i = 0; i < f.nsec; i++)
        T_OK(afile_verify_section(&f, f.sec[i].tag, &d));
    afile_close(&f);
}

TEST(header_round_trip)
{
    const char *p = tpath("hdr.csr");
    struct afile_header h = sample_header();
    struct afile f;
    struct diag d;

    T_OK(afile_save(p, &h, s_secs, 4, &d));
    T_EQ_U64(h.payload_len, S_SIZE - 64);
    T_OK(afile_open(&f, p, "CSR1", 1, 0, &d));
    T_EQ_MEM(f.h.kind, 4, "CSR1", 4);
    T_EQ_INT(f.h.major, 1);
    T_EQ_INT(f.h.minor, 0x0203);
    T_EQ_U64(f.h.flags, 0x00010000);
    T_EQ_U64(f.h.payload_len, S_SIZE - 64);
    T_EQ_U64(f.h.rows, 7);
    T_EQ_U64(f.h.cols, 0x0102030405060708ull);
    T_EQ_U64(f.h.nnz, 5);
    T_EQ_U64(f.h.dtype, AFILE_DT_F32);
    afile_close(&f);
}

TEST(header_layout_by_hand)
{
    size_t len;
    unsigned char *b = sample_bytes("layout.csr", &len);
    static const unsigned char expect[60] = {
        'A', 'L', 'S', 'B', 'C', 'S', 'R', '1',
        0x01, 0x00,                   /* major 1 */
        0x03, 0x02,                   /* minor 0x0203 */
        0x00, 0x00, 0x01, 0x00,       /* flags 0x00010000 */
        0x4c, 0x01, 0, 0, 0, 0, 0, 0, /* payload_len 332 = 0x14c */
        7, 0, 0, 0, 0, 0, 0, 0,       /* rows */
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* cols */
        5, 0, 0, 0, 0, 0, 0, 0,       /* nnz */
        1, 0, 0, 0,                   /* dtype f32 */
        0, 0, 0, 0,                   /* payload_crc32, checked below */
        0, 0, 0, 0,                   /* reserved */
    };
    T_EQ_MEM(b, 52, expect, 52);
    T_EQ_MEM(b + 56, 4, expect + 56, 4);
    T_EQ_U64(afile_get_le32(b + 52), crc32(0, b + 64, 8 + 4 * 32));
    T_EQ_U64(afile_get_le32(b + 60), crc32(0, b, 60));

    /* Directory: nsec, reserved, then the first entry byte by byte. */
    T_EQ_U64(afile_get_le32(b + 64), 4);
    T_EQ_U64(afile_get_le32(b + 68), 0);
    T_EQ_MEM(b + 72, 4, "VALS", 4);
    T_EQ_U64(afile_get_le32(b + 76), AFILE_DT_F32);
    T_EQ_U64(afile_get_le64(b + 80), S_VALS);
    T_EQ_U64(afile_get_le64(b + 88), 20);
    T_EQ_U64(afile_get_le32(b + 96), crc32(0, (const Bytef *)s_vals, 20));
    T_EQ_U64(afile_get_le32(b + 100), 0);
    T_EQ_MEM(b + 72 + 3 * 32, 4, "TEXT", 4);
    T_EQ_U64(afile_get_le64(b + 72 + 3 * 32 + 8), S_TEXT);

    /* Zero padding between the directory and the first section and between sections. */
    int nonzero = 0;
    for (size_t i = 200; i < S_VALS; i++)
        nonzero |= b[i];
    for (size_t i = S_VALS + 20; i < S_IDS; i++)
        nonzero |= b[i];
    T_EQ_INT(nonzero, 0);
    T_EQ_MEM(b + S_TEXT, 12, "hello, world", 12);
    free(b);
}

TEST(no_sections_and_empty_last_section)
{
    const char *p = tpath("empty.csr");
    struct afile_header h = sample_header();
    struct afile f;
    struct diag d;
    const void *data;
    uint64_t n;

    T_OK(afile_save(p, &h, NULL, 0, &d));
    T_EQ_U64(h.payload_len, 8);
    T_OK(afile_open(&f, p, "CSR1", 1, AFILE_VERIFY, &d));
    T_EQ_U64(f.size, 72);
    T_EQ_U64(f.nsec, 0);
    T_EQ_INT(afile_section(&f, "VALS", AFILE_DT_F32, &data, &n, &d), ALS_EFORMAT);
    afile_close(&f);

    /* An empty section last still gets an aligned offset inside the file. */
    const struct afile_wsec one = { "LAST", AFILE_DT_F64, NULL, 0 };
    T_OK(afile_save(p, &h, &one, 1, &d));
    T_EQ_U64(h.payload_len, 128 - 64);
    T_OK(afile_open(&f, p, "CSR1", 1, AFILE_VERIFY, &d));
    T_EQ_U64(f.sec[0].offset, 128);
    T_OK(afile_section(&f, "LAST", AFILE_DT_F64, &data, &n, &d));
    T_EQ_U64(n, 0);
    afile_close(&f);
}

TEST(truncated_by_one_byte)
{
    size_t len;
    unsigned char *b = sample_bytes("trunc.csr", &len);
    const char *p = tpath("trunc.csr");
    struct diag d;
    T_OK(spit(p, b, len - 1));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': truncated: header says 396 bytes, file has 395", p);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(d.code, ALS_EFORMAT);
    free(b);
}

TEST(trailing_byte)
{
    size_t len;
    unsigned char *b = sample_bytes("trail.csr", &len);
    const char *p = tpath("trail.csr");
    struct diag d;
    b[len] = 0;
    T_OK(spit(p, b, len + 1));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': has trailing data: header says 396 bytes, file has 397", p);
    T_EQ_STR(d.msg, want);
    free(b);
}

TEST(flipped_header_byte)
{
    size_t len;
    unsigned char *b = sample_bytes("hflip.csr", &len);
    const char *p = tpath("hflip.csr");
    struct diag d;
    b[30] ^= 0x10;
    T_OK(spit(p, b, len));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_ECHECKSUM);
    WANT("'%s': header checksum mismatch (file damaged)", p);
    T_EQ_STR(d.msg, want);
    free(b);
}

TEST(flipped_section_byte)
{
    size_t len;
    unsigned char *b = sample_bytes("sflip.csr", &len);
    const char *p = tpath("sflip.csr");
    struct afile f;
    struct diag d;
    b[S_VALS + 5] ^= 0x01;
    T_OK(spit(p, b, len));

    T_OK(try_open(p, "CSR1", 0, &d));
    T_EQ_INT(try_open(p, "CSR1", AFILE_VERIFY, &d), ALS_ECHECKSUM);
    WANT("'%s': section VALS checksum mismatch (file damaged)", p);
    T_EQ_STR(d.msg, want);

    T_OK(afile_open(&f, p, "CSR1", 1, 0, &d));
    T_EQ_INT(afile_verify_section(&f, "VALS", &d), ALS_ECHECKSUM);
    T_EQ_STR(d.msg, want);
    T_OK(afile_verify_section(&f, "IDS_", &d));
    T_OK(afile_verify_section(&f, "NONE", &d));
    T_EQ_INT(afile_verify_section(&f, "ZZZZ", &d), ALS_EFORMAT);
    WANT("'%s': missing section ZZZZ", p);
    T_EQ_STR(d.msg, want);
    afile_close(&f);
    free(b);
}

TEST(flipped_directory_byte)
{
    size_t len;
    unsigned char *b = sample_bytes("dflip.csr", &len);
    const char *p = tpath("dflip.csr");
    struct diag d;
    b[100] ^= 0x80;
    T_OK(spit(p, b, len));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_ECHECKSUM);
    WANT("'%s': section directory checksum mismatch (file damaged)", p);
    T_EQ_STR(d.msg, want);
    free(b);
}

TEST(future_major)
{
    size_t len;
    unsigned char *b = sample_bytes("major.csr", &len);
    const char *p = tpath("major.csr");
    struct diag d;
    b[8] = 2;
    fix_crcs(b, len);
    T_OK(spit(p, b, len));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EVERSION);
    WANT("'%s': format version 2.515, this program reads up to 1.x (upgrade als)", p);
    T_EQ_STR(d.msg, want);

    struct afile f;
    T_OK(afile_open(&f, p, "CSR1", 2, 0, &d));
    T_EQ_INT(f.h.major, 2);
    afile_close(&f);
    free(b);
}

TEST(unknown_must_understand_flag)
{
    size_t len;
    unsigned char *b = sample_bytes("flags.csr", &len);
    const char *p = tpath("flags.csr");
    struct diag d;
    b[12] = 0x05;
    fix_crcs(b, len);
    T_OK(spit(p, b, len));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EVERSION);
    WANT("'%s': uses feature flags 0x0005 this program does not understand", p);
    T_EQ_STR(d.msg, want);

    /* Bits 16-31 may be ignored. */
    b[12] = 0;
    b[15] = 0x80;
    fix_crcs(b, len);
    T_OK(spit(p, b, len));
    T_OK(try_open(p, "CSR1", 0, &d));
    free(b);
}

TEST(wrong_kind)
{
    const char *p = write_sample("kind.csr");
    struct diag d;
    T_EQ_INT(try_open(p, "FAC1", 0, &d), ALS_EFORMAT);
    WANT("'%s': is a CSR1 file, expected FAC1", p);
    T_EQ_STR(d.msg, want);

    size_t len;
    unsigned char *b = slurp(p, &len);
    T_TRUE(b != NULL);
    if (!b)
        return;
    memcpy(b + 4, "C\001S\377", 4);
    fix_crcs(b, len);
    T_OK(spit(p, b, len));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': is a C?S? file, expected CSR1", p);
    T_EQ_STR(d.msg, want);
    free(b);
}

TEST(bad_magic)
{
    size_t len;
    unsigned char *b = sample_bytes("magic.csr", &len);
    const char *p = tpath("magic.csr");
    struct diag d;
    b[3] = 'b';
    fix_crcs(b, len);
    T_OK(spit(p, b, len));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': not an als binary file (bad magic)", p);
    T_EQ_STR(d.msg, want);
    free(b);
}

TEST(empty_and_short_files)
{
    const char *p = tpath("short.csr");
    unsigned char b[63] = { 'A', 'L', 'S', 'B' };
    struct diag d;

    T_OK(spit(p, b, 0));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': not an als binary file (0 bytes, too short for a header)", p);
    T_EQ_STR(d.msg, want);

    T_OK(spit(p, b, sizeof b));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': not an als binary file (63 bytes, too short for a header)", p);
    T_EQ_STR(d.msg, want);

    /* A header with nothing after it has no room for the directory. */
    unsigned char h[64];
    memset(h, 0, sizeof h);
    memcpy(h, "ALSBCSR1\001", 9);
    fix_crcs(h, sizeof h);
    T_OK(spit(p, h, sizeof h));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': bad section directory (file too short for it)", p);
    T_EQ_STR(d.msg, want);
}

TEST(system_errors)
{
    const char *p = tpath("does-not-exist.csr");
    struct diag d;
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EIO);
    T_EQ_INT(d.sys_errno, ENOENT);
    WANT("cannot open '%s': %s", p, strerror(ENOENT));
    T_EQ_STR(d.msg, want);

    (void)tpath("x");
    T_EQ_INT(try_open(t_dir, "CSR1", 0, &d), ALS_EIO);
    T_EQ_INT(d.sys_errno, EISDIR);

    /* A NULL diag is allowed on every path. */
    struct afile f;
    T_EQ_INT(afile_open(&f, p, "CSR1", 1, 0, NULL), ALS_EIO);
}

TEST(dash_is_standard_input_and_cannot_be_mapped)
{
    struct diag d;
    T_EQ_INT(try_open("-", "CSR1", 0, &d), ALS_EUSAGE);
    T_EQ_STR(d.msg, "'-': a CSR file must be a regular file (it is mapped), not standard input");
    T_EQ_INT(try_open("-", "FAC1", 0, &d), ALS_EUSAGE);
    T_EQ_STR(d.msg, "'-': a model file must be a regular file (it is mapped), not standard "
                    "input");
    T_EQ_INT(try_open("-", "ZZZZ", 0, &d), ALS_EUSAGE);
    T_EQ_STR(d.msg, "'-': an als binary file must be a regular file (it is mapped), not "
                    "standard input");
    /* A file that is really called "-" is still reachable by another spelling. */
    size_t len;
    unsigned char *b = sample_bytes("dash.csr", &len);
    const char *p = tpath("-");
    T_OK(spit(p, b, len));
    T_OK(try_open(p, "CSR1", 0, &d));
    free(b);
}

TEST(gzip_compressed_container)
{
    size_t len;
    unsigned char *b = sample_bytes("plain.csr", &len);
    const char *p = tpath("plain.csr.gz");
    struct diag d;
    gzFile z = gzopen(p, "wb");
    T_TRUE(z != NULL);
    if (!z) {
        free(b);
        return;
    }
    T_EQ_INT(gzwrite(z, b, (unsigned)len), (int)len);
    T_EQ_INT(gzclose(z), Z_OK);
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': gzip-compressed: decompress it first (gzip -d)", p);
    T_EQ_STR(d.msg, want);
    /* Under 64 bytes too: the gzip magic is what counts, not the size. */
    unsigned char tiny[3] = { 0x1f, 0x8b, 0x08 };
    T_OK(spit(p, tiny, sizeof tiny));
    T_EQ_INT(try_open(p, "FAC1", 0, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, want);
    /* One gzip byte alone is only a short file. */
    T_OK(spit(p, tiny, 1));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': not an als binary file (1 bytes, too short for a header)", p);
    T_EQ_STR(d.msg, want);
    free(b);
}

/* Set a field of directory entry i, then make both CRCs valid again. */
static void
forge(const char *p, unsigned char *b, size_t len, unsigned i, unsigned field, uint64_t v)
{
    unsigned char *e = b + 72 + 32 * (size_t)i + field;
    if (field == 8 || field == 16)
        afile_put_le64(e, v);
    else
        afile_put_le32(e, (uint32_t)v);
    fix_crcs(b, len);
    if (spit(p, b, len) < 0)
        printf("# cannot write %s\n", p);
}

TEST(forged_directory_entries)
{
    size_t len;
    unsigned char *orig = sample_bytes("forge.csr", &len);
    unsigned char *b = malloc(len);
    const char *p = tpath("forge.csr");
    struct diag d;

#define FORGE(i, field, v, ...)                                                          \
    do {                                                                                 \
        memcpy(b, orig, len);                                                            \
        forge(p, b, len, (i), (field), (v));                                             \
        T_EQ_INT(try_open(p, "CSR1", AFILE_VERIFY, &d), ALS_EFORMAT);                    \
        WANT(__VA_ARGS__);                                                               \
        T_EQ_STR(d.msg, want);                                                           \
    } while (0)

    /* offset + size wraps around 2^64: must be rejected, not trusted. */
    FORGE(0, 8, 0xffffffffffffffc0ull,
          "'%s': bad section directory (section VALS: 20 bytes at offset "
          "18446744073709551552 run past the end of the file)", p);
    FORGE(0, 16, 0xffffffffffffffc0ull,
          "'%s': bad section directory (section VALS: 18446744073709551552 bytes at offset "
          "256 run past the end of the file)", p);
    FORGE(3, 16, 13,
          "'%s': bad section directory (section TEXT: 13 bytes at offset 384 run past the "
          "end of the file)", p);
    FORGE(0, 8, 260,
          "'%s': bad section directory (section VALS: offset 260 is not a multiple of 64)",
          p);
    FORGE(0, 8, 192,
          "'%s': bad section directory (section VALS: offset 192 is inside the header or "
          "directory)", p);
    FORGE(0, 8, 0,
          "'%s': bad section directory (section VALS: offset 0 is inside the header or "
          "directory)", p);
    FORGE(0, 4, 99,
          "'%s': bad section directory (section VALS: unknown element type 99)", p);
    FORGE(2, 16, 20,
          "'%s': bad section directory (section IDS_: 20 bytes is not a multiple of 8)", p);
    FORGE(3, 8, 256,
          "'%s': bad section directory (section TEXT: overlaps section VALS)", p);
    FORGE(2, 0, 0x534c4156 /* "VALS" */,
          "'%s': bad section directory (section VALS: duplicate tag)", p);

    /* Tags come from the file: a message shows non-printables as '?'. */
    memcpy(b, orig, len);
    memcpy(b + 72 + 2 * 32, "I\001S\377", 4);
    forge(p, b, len, 2, 16, 20);
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': bad section directory (section I?S?: 20 bytes is not a multiple of 8)", p);
    T_EQ_STR(d.msg, want);

    /* The overlap above only counts bytes: an empty section may sit anywhere. */
    memcpy(b, orig, len);
    forge(p, b, len, 1, 8, 256);
    T_OK(try_open(p, "CSR1", AFILE_VERIFY, &d));

    /* nsec itself: too many, or more than the file can hold. */
    memcpy(b, orig, len);
    afile_put_le32(b + 64, 33);
    fix_crcs(b, len);
    T_OK(spit(p, b, len));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': bad section directory (33 sections, at most 32)", p);
    T_EQ_STR(d.msg, want);

    memcpy(b, orig, len);
    afile_put_le32(b + 64, 30);
    fix_crcs(b, len);
    T_OK(spit(p, b, len));
    T_EQ_INT(try_open(p, "CSR1", 0, &d), ALS_EFORMAT);
    WANT("'%s': bad section directory (30 sections do not fit in the file)", p);
    T_EQ_STR(d.msg, want);
#undef FORGE
    free(b);
    free(orig);
}

TEST(missing_section_and_wrong_dtype)
{
    const char *p = write_sample("sect.csr");
    struct afile f;
    struct diag d;
    const void *data = NULL;
    uint64_t n = 99;

    T_OK(afile_open(&f, p, "CSR1", 1, 0, &d));
    T_EQ_INT(afile_section(&f, "ROWS", AFILE_DT_U64, &data, &n, &d), ALS_EFORMAT);
    WANT("'%s': missing section ROWS", p);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(afile_section(&f, "VALS", AFILE_DT_F64, &data, &n, &d), ALS_EFORMAT);
    WANT("'%s': section VALS has element type 1, expected 2", p);
    T_EQ_STR(d.msg, want);
    T_TRUE(data == NULL);
    T_EQ_U64(n, 99);
    T_EQ_INT(afile_section(&f, "VALS", AFILE_DT_F64, &data, &n, NULL), ALS_EFORMAT);
    afile_close(&f);
}

TEST(close_is_idempotent)
{
    const char *p = write_sample("close.csr");
    struct afile f;
    struct diag d;
    T_OK(afile_open(&f, p, "CSR1", 1, 0, &d));
    afile_close(&f);
    T_TRUE(f.map == NULL && f.size == 0 && f.nsec == 0 && f.path[0] == '\0');
    afile_close(&f);
    memset(&f, 0, sizeof f);
    afile_close(&f);
}

TEST(long_path_is_truncated_in_struct_only)
{
    char name[241];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    const char *p = write_sample(name);
    struct afile f;
    struct diag d;
    T_TRUE(strlen(p) > sizeof f.path);
    T_OK(afile_open(&f, p, "CSR1", 1, 0, &d));
    T_EQ_U64(strlen(f.path), sizeof f.path - 1);
    T_TRUE(strncmp(f.path, p, sizeof f.path - 1) == 0);
    afile_close(&f);

    /* Messages from afile_open still name the whole path. */
    T_EQ_INT(try_open(p, "FAC1", 0, &d), ALS_EFORMAT);
    WANT("'%s': is a CSR1 file, expected FAC1", p);
    T_EQ_STR(d.msg, want);
}

TEST(write_rejects_bad_arguments)
{
    const char *p = tpath("bad-write.csr");
    struct afile_header h = sample_header();
    struct afile_wsec s[AFILE_MAX_SECTIONS + 1];
    struct zio_out o;
    struct diag d;
    static const char tags[AFILE_MAX_SECTIONS + 1][5] = {
        "S000", "S001", "S002", "S003", "S004", "S005", "S006", "S007", "S008",
        "S009", "S010", "S011", "S012", "S013", "S014", "S015", "S016", "S017",
        "S018", "S019", "S020", "S021", "S022", "S023", "S024", "S025", "S026",
        "S027", "S028", "S029", "S030", "S031", "S032",
    };
    for (int i = 0; i <= AFILE_MAX_SECTIONS; i++)
        s[i] = (struct afile_wsec){ tags[i], AFILE_DT_U32, NULL, 0 };

#define BAD_WRITE(n, text)                                                                \
    do {                                                                                 \
        T_OK(zio_out_open(&o, p, &d));                                                   \
        T_EQ_INT(afile_write(&o, &h, s, (n), &d), ALS_ERANGE);                           \
        T_EQ_STR(d.msg, text);                                                           \
        T_EQ_U64(o.bytes, 0);                                                            \
        zio_out_abort(&o);                                                               \
        memcpy(s, s_secs, sizeof s_secs);                                                \
    } while (0)

    /* The full table is fine; one more is not. */
    T_OK(afile_save(p, &h, s, AFILE_MAX_SECTIONS, &d));
    T_EQ_U64(h.payload_len, 1152 - 64); /* 32 empty sections at align(64 + 8 + 32 * 32) */
    BAD_WRITE(AFILE_MAX_SECTIONS + 1, "cannot write 33 sections, at most 32");

    memcpy(s, s_secs, sizeof s_secs);
    s[1].tag = "NON";
    BAD_WRITE(4, "section 1: a tag must be 4 characters");
    s[1].tag = "NONEX";
    BAD_WRITE(4, "section 1: a tag must be 4 characters");
    s[2].tag = "VALS";
    BAD_WRITE(4, "section VALS: duplicate tag");
    s[0].size = 18;
    BAD_WRITE(4, "section VALS: 18 bytes is not a multiple of 4");
    s[0].dtype = 0;
    BAD_WRITE(4, "section VALS: unknown element type 0");
    s[3].data = NULL;
    BAD_WRITE(4, "section TEXT: no data for 12 bytes");
#undef BAD_WRITE
    T_TRUE(access(p, F_OK) == 0); /* the earlier good file is untouched */
}

TEST(header_encode_matches_written_header)
{
    size_t len;
    unsigned char *b = sample_bytes("enc.csr", &len);
    struct afile_header h = sample_header();
    unsigned char hb[AFILE_HEADER_SIZE];

    h.payload_len = S_SIZE - 64;
    afile_header_encode(&h, hb);
    /* Identical except the directory CRC, which a streamed header leaves 0. */
    T_EQ_MEM(hb, 52, b, 52);
    T_EQ_U64(afile_get_le32(hb + 52), 0);
    T_EQ_MEM(hb + 56, 4, b + 56, 4);
    T_EQ_U64(afile_get_le32(hb + 60), crc32(0, hb, 60));
    free(b);
}

TEST(header_decode)
{
    struct afile_header h = sample_header(), out;
    unsigned char hb[AFILE_HEADER_SIZE], x[AFILE_HEADER_SIZE];
    struct diag d;

    h.flags = 0x00010002; /* bit 1 is a must-understand flag this reader knows */
    h.payload_len = 0;
    afile_header_encode(&h, hb);
    memset(&out, 0, sizeof out);
    T_OK(afile_header_decode(hb, &out, "s.trip", "CSR1", 1, 0x2, &d));
    T_EQ_MEM(out.kind, 4, "CSR1", 4);
    T_EQ_INT(out.major, 1);
    T_EQ_INT(out.minor, 0x0203);
    T_EQ_U64(out.flags, 0x00010002);
    T_EQ_U64(out.rows, 7);
    T_EQ_U64(out.cols, 0x0102030405060708ull);
    T_EQ_U64(out.nnz, 5);
    T_EQ_U64(out.dtype, AFILE_DT_F32);

    T_EQ_INT(afile_header_decode(hb, &out, "s.trip", "CSR1", 1, 0, &d), ALS_EVERSION);
    T_EQ_STR(d.msg, "'s.trip': uses feature flags 0x0002 this program does not understand");
    T_EQ_INT(afile_header_decode(hb, &out, "s.trip", "CSR1", 0, 0x2, &d), ALS_EVERSION);
    T_EQ_STR(d.msg, "'s.trip': format version 1.515, this program reads up to 0.x "
                    "(upgrade als)");
    T_EQ_INT(afile_header_decode(hb, &out, "s.trip", "TRP1", 1, 0x2, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, "'s.trip': is a CSR1 file, expected TRP1");

    memcpy(x, hb, sizeof x);
    x[20] ^= 1;
    T_EQ_INT(afile_header_decode(x, &out, "s.trip", "CSR1", 1, 0x2, &d), ALS_ECHECKSUM);
    T_EQ_STR(d.msg, "'s.trip': header checksum mismatch (file damaged)");
    x[0] = 'X';
    T_EQ_INT(afile_header_decode(x, &out, "s.trip", "CSR1", 1, 0x2, NULL), ALS_EFORMAT);
    T_EQ_INT(afile_header_decode(x, &out, "s.trip", "CSR1", 1, 0x2, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, "'s.trip': not an als binary file (bad magic)");
}

TEST(fuzz_never_crashes)
{
    size_t len;
    unsigned char *orig = sample_bytes("fuzz-src.csr", &len);
    unsigned char *b = malloc(len);
    const char *p = tpath("fuzz.csr");
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int ok = 0, eformat = 0, eversion = 0, echecksum = 0, bad = 0;

    for (int it = 0; it < 2000; it++) {
        size_t n = len;
        int mode = it % 4;
        memcpy(b, orig, len);
        if (mode == 0) {
            n = (size_t)(rnd_xorshift(&seed) % len);
        } else {
            int flips = 1 + (int)(rnd_xorshift(&seed) % 3);
            /* Mode 3 aims at the header and directory, where the parsing happens. */
            size_t span = mode == 3 ? 200 : len;
            for (int k = 0; k < flips; k++) {
                size_t at = (size_t)(rnd_xorshift(&seed) % span);
                b[at] ^= (unsigned char)(1 + rnd_xorshift(&seed) % 255);
            }
            if (mode >= 2)
                fix_crcs(b, n);
        }
        if (spit(p, b, n) < 0) {
            bad++;
            continue;
        }
        struct afile f;
        struct diag d;
        unsigned fl = (it & 4) ? AFILE_VERIFY : 0;
        int rc = afile_open(&f, p, "CSR1", 1, fl, &d);
        if (rc == ALS_EFORMAT) {
            eformat++;
        } else if (rc == ALS_EVERSION) {
            eversion++;
        } else if (rc == ALS_ECHECKSUM) {
            echecksum++;
        } else if (rc != 0) {
            if (!bad++)
                printf("# iteration %d: unexpected %d: %s\n", it, rc, d.msg);
        } else {
            ok++;
            /* Whatever passed must be safe to use: every section inside the mapping. */
            for (unsigned i = 0; i < f.nsec; i++) {
                const struct afile_section *s = &f.sec[i];
                const void *data;
                uint64_t cnt;
                if (s->offset > f.size || s->size > f.size - s->offset
                    || s->offset % AFILE_ALIGN
                    || afile_section(&f, s->tag, s->dtype, &data, &cnt, &d) < 0
                    || cnt * afile_dtype_size(s->dtype) != s->size) {
                    if (!bad++)
                        printf("# iteration %d: section %u accepted but unsafe\n", it, i);
                    continue;
                }
                int vrc = afile_verify_section(&f, s->tag, &d);
                if (vrc != 0 && vrc != ALS_ECHECKSUM && !bad++)
                    printf("# iteration %d: verify returned %d\n", it, vrc);
            }
            afile_close(&f);
        }
    }
    printf("# fuzz: %d ok, %d format, %d version, %d checksum\n", ok, eformat, eversion,
           echecksum);
    T_EQ_INT(bad, 0);
    T_TRUE(ok > 0);
    T_TRUE(eformat > 0);
    T_TRUE(echecksum > 0);
    free(b);
    free(orig);
}
