/* SPDX-License-Identifier: MIT */
/* fuzz_logread: logread_open/logread_next over plain and gzip files (zio underneath). */
#define _GNU_SOURCE
#include "fuzz.h"

#include "logread.h"
#include "zio.h"

/*
 * Input: byte 0 is the log spec, byte 1 the container, the rest the log.
 *   byte 0, bits 0-1: delimiter: detect, ",", tab, "::"
 *           bits 2-3: header: not given, no, yes, not given
 *           bits 4-6: columns (see cols[])
 *           bit 7:    rating "none"
 *   byte 1, bits 0-1: plain; gzip; gzip cut to (byte1 >> 2)/64 of its length; two gzip
 *                     members (split in the middle), followed by garbage when bit 7 is set
 */
static const char *const delims[] = { "", ",", "\t", "::" };
static const int headers[] = { -1, 0, 1, -1 };
static const char *const cols[8][LOG_NCOLS] = {
    { NULL, NULL, NULL, NULL },        { "1", "2", "3", NULL },
    { "2", "1", "none", "3" },         { "user", "item", "rating", NULL },
    { "user", "item", "none", "time" }, { "1", "2", "3", "4" },
    { "65", "0", NULL, NULL },          { "2", "movie", "stars", "ts" },
};

/* gzip (not zlib) framing of p[0..n), appended to out. */
static size_t
gzip_into(unsigned char *out, size_t cap, const unsigned char *p, size_t n, int level)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        FUZZ_DIE("deflateInit2");
    zs.next_in = (unsigned char *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        FUZZ_DIE("deflate");
    size_t got = cap - zs.avail_out;
    deflateEnd(&zs);
    return got;
}

/* empty: 1 when the log (after decompression) is empty, 0 when not, -1 when unknown. */
static void
read_all(const char *path, unsigned sb, int empty)
{
    struct logspec spec;
    struct logread r;
    struct logrec rec;
    struct diag d;
    logspec_init(&spec);
    strcpy(spec.delim, delims[sb & 3]);
    spec.header = headers[(sb >> 2) & 3];
    for (int c = 0; c < LOG_NCOLS; c++) {
        const char *cs = cols[(sb >> 4) & 7][c];
        if (c == LOG_RATING && (sb & 0x80))
            cs = "none";
        if (cs && logspec_set_col(&spec, c, cs) < 0)
            FUZZ_DIE("logspec_set_col");
    }
    int rc = logread_open(&r, path, &spec, &d);
    if (rc < 0) {
        FUZZ_CHECK(rc == ALS_EFORMAT || rc == ALS_EUSAGE || rc == ALS_EIO);
        FUZZ_CHECK(d.msg[0] != '\0');
        logspec_release(&spec);
        return;
    }
    /* The effective settings went back into the spec, except for an empty input, which
     * settles nothing. */
    int settled = empty == 0;
    FUZZ_CHECK(strlen(spec.delim) <= CSV_MAX_DELIM && (!settled || spec.delim[0]));
    FUZZ_CHECK(!settled || spec.header == 0 || spec.header == 1);
    FUZZ_CHECK(spec.col[LOG_USER] && spec.col[LOG_ITEM] && (!settled || spec.col[LOG_RATING]));
    uint64_t last = 0, good = 0, calls = 0;
    for (;;) {
        memset(&rec, 0xa5, sizeof rec);
        rc = logread_next(&r, &rec, &d);
        FUZZ_CHECK(empty != 1 || (calls == 0 && rc == 0));
        calls++;
        if (rc <= 0)
            break;
        if (rc == LOGREAD_BAD) {
            FUZZ_CHECK(d.msg[0] != '\0');
            continue;
        }
        FUZZ_CHECK(rc == 1);
        good++;
        FUZZ_CHECK(rec.line >= 1 && rec.line >= last);
        last = rec.line;
        for (int c = 0; c < LOG_NCOLS; c++) {
            FUZZ_CHECK(r.idx[c] < 0 ? rec.f[c] == NULL : rec.f[c] != NULL);
            if (!rec.f[c])
                continue;
            /* Valid until the next call: every byte is readable, and no NUL. */
            fuzz_touch(rec.f[c], rec.len[c]);
            FUZZ_CHECK(!memchr(rec.f[c], '\0', rec.len[c]));
        }
        FUZZ_CHECK(rec.len[LOG_USER] > 0 && rec.len[LOG_ITEM] > 0);
    }
    if (rc < 0)
        FUZZ_CHECK(rc == ALS_EFORMAT || rc == ALS_ENOMEM || rc == ALS_EIO);
    FUZZ_CHECK(r.records == good);
    logread_close(&r);
    logspec_release(&spec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned sb = data[0], cb = data[1];
    const unsigned char *log = data + 2;
    size_t n = size - 2;
    if ((cb & 3) == 0) {
        read_all(fuzz_file(log, n), sb, n == 0);
        return 0;
    }
    size_t cap = 2 * (compressBound((uLong)n) + 64) + 16;
    unsigned char *z = malloc(cap);
    if (!z)
        FUZZ_DIE("out of memory");
    size_t zn;
    int level = 1 + (int)((cb >> 2) % 9);
    if ((cb & 3) == 3) {
        zn = gzip_into(z, cap, log, n / 2, level);
        zn += gzip_into(z + zn, cap - zn, log + n / 2, n - n / 2, level);
        if (cb & 0x80) {
            memcpy(z + zn, "garbage\n", 8);
            zn += 8;
        }
    } else {
        zn = gzip_into(z, cap, log, n, level);
        if ((cb & 3) == 2)
            zn = zn * ((cb >> 2) & 63) / 64;
    }
    read_all(fuzz_file(z, zn), sb, (cb & 3) == 2 ? (zn == 0 ? 1 : -1) : n == 0);
    free(z);
    return 0;
}
