/* SPDX-License-Identifier: MIT */
/* afile: write, map and validate the binary container shared by every als binary file. */
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "zio.h"

/* Readers hand out pointers to arrays inside the mapping, so the in-memory byte order
 * has to be the file's. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "als binary files are mapped in place and need a little-endian host"
#endif

#define AFILE_MAGIC "ALSB"
#define AFILE_DIR_HEAD 8
#define AFILE_DIR_ENTRY 32
#define AFILE_DIR_MAX (AFILE_DIR_HEAD + AFILE_DIR_ENTRY * AFILE_MAX_SECTIONS)
/* Flag bits a reader must understand (the rest may be ignored). */
#define AFILE_MUST_UNDERSTAND 0xffffu

size_t
afile_dtype_size(uint32_t dtype)
{
    switch (dtype) {
    case AFILE_DT_F32: return 4;
    case AFILE_DT_F64: return 8;
    case AFILE_DT_U32: return 4;
    case AFILE_DT_U64: return 8;
    case AFILE_DT_BYTES: return 1;
    case AFILE_DT_I64: return 8;
    }
    return 0;
}

/* zlib's crc32() takes a 32-bit length, and sections may be larger than 4 GiB. */
static uint32_t
crc_bytes(const unsigned char *p, uint64_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

/* A tag or kind fit for a message: the file is untrusted, so non-printables become '?'. */
static void
tag_str(char out[5], const char *tag)
{
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)tag[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[4] = '\0';
}

static int
align_up(uint64_t x, uint64_t *out)
{
    if (x > UINT64_MAX - (AFILE_ALIGN - 1))
        return -1;
    *out = (x + AFILE_ALIGN - 1) / AFILE_ALIGN * AFILE_ALIGN;
    return 0;
}

static void
encode_header(const struct afile_header *h, uint32_t payload_crc,
              unsigned char out[AFILE_HEADER_SIZE])
{
    memset(out, 0, AFILE_HEADER_SIZE);
    memcpy(out, AFILE_MAGIC, 4);
    memcpy(out + 4, h->kind, 4);
    out[8] = (unsigned char)h->major;
    out[9] = (unsigned char)(h->major >> 8);
    out[10] = (unsigned char)h->minor;
    out[11] = (unsigned char)(h->minor >> 8);
    afile_put_le32(out + 12, h->flags);
    afile_put_le64(out + 16, h->payload_len);
    afile_put_le64(out + 24, h->rows);
    afile_put_le64(out + 32, h->cols);
    afile_put_le64(out + 40, h->nnz);
    afile_put_le32(out + 48, h->dtype);
    afile_put_le32(out + 52, payload_crc);
    afile_put_le32(out + 60, crc_bytes(out, 60));
}

/* A streamed file has no section directory, so its payload CRC field stays 0. */
void
afile_header_encode(const struct afile_header *h, unsigned char out[AFILE_HEADER_SIZE])
{
    encode_header(h, 0, out);
}

int
afile_header_decode(const unsigned char in[AFILE_HEADER_SIZE], struct afile_header *h,
                    const char *name, const char kind[4], uint16_t max_major,
                    uint32_t known_flags, struct diag *d)
{
    uint32_t unknown;
    char have[5], want[5];

    if (memcmp(in, AFILE_MAGIC, 4) != 0)
        return diag_set(d, ALS_EFORMAT, "'%s': not an als binary file (bad magic)", name);
    if (crc_bytes(in, 60) != afile_get_le32(in + 60))
        return diag_set(d, ALS_ECHECKSUM, "'%s': header checksum mismatch (file damaged)",
                        name);
    memcpy(h->kind, in + 4, 4);
    h->major = (uint16_t)(in[8] | in[9] << 8);
    h->minor = (uint16_t)(in[10] | in[11] << 8);
    h->flags = afile_get_le32(in + 12);
    h->payload_len = afile_get_le64(in + 16);
    h->rows = afile_get_le64(in + 24);
    h->cols = afile_get_le64(in + 32);
    h->nnz = afile_get_le64(in + 40);
    h->dtype = afile_get_le32(in + 48);

    if (memcmp(h->kind, kind, 4) != 0) {
        tag_str(have, h->kind);
        tag_str(want, kind);
        return diag_set(d, ALS_EFORMAT, "'%s': is a %s file, expected %s", name, have, want);
    }
    if (h->major > max_major)
        return diag_set(d, ALS_EVERSION,
                        "'%s': format version %u.%u, this program reads up to %u.x "
                        "(upgrade als)",
                        name, (unsigned)h->major, (unsigned)h->minor, (unsigned)max_major);
    unknown = h->flags & AFILE_MUST_UNDERSTAND & ~known_flags;
    if (unknown)
        return diag_set(d, ALS_EVERSION,
                        "'%s': uses feature flags 0x%04x this program does not understand",
                        name, (unsigned)unknown);
    return 0;
}

int
afile_write(struct zio_out *o, struct afile_header *h, const struct afile_wsec *secs,
            unsigned nsec, struct diag *d)
{
    static const unsigned char zeros[AFILE_ALIGN];
    unsigned char hdr[AFILE_HEADER_SIZE];
    unsigned char dir[AFILE_DIR_MAX];
    uint64_t off[AFILE_MAX_SECTIONS];
    uint64_t pos, end;
    size_t dirlen;
    int rc = 0;

    /* Everything is validated and laid out before the first byte goes out, so a bad
     * argument never leaves half a file behind. */
    if (nsec > AFILE_MAX_SECTIONS) {
        rc = diag_set(d, ALS_ERANGE, "cannot write %u sections, at most %d", nsec,
                      AFILE_MAX_SECTIONS);
        goto out;
    }
    dirlen = AFILE_DIR_HEAD + (size_t)AFILE_DIR_ENTRY * nsec;
    memset(dir, 0, sizeof dir);
    afile_put_le32(dir, nsec);
    end = AFILE_HEADER_SIZE + dirlen;
    for (unsigned i = 0; i < nsec; i++) {
        const struct afile_wsec *s = &secs[i];
        unsigned char *e = dir + AFILE_DIR_HEAD + (size_t)AFILE_DIR_ENTRY * i;
        size_t es = afile_dtype_size(s->dtype);
        char t[5];

        if (!s->tag || strlen(s->tag) != 4) {
            rc = diag_set(d, ALS_ERANGE, "section %u: a tag must be 4 characters", i);
            goto out;
        }
        tag_str(t, s->tag);
        if (!es) {
            rc = diag_set(d, ALS_ERANGE, "section %s: unknown element type %" PRIu32, t,
                          s->dtype);
            goto out;
        }
        if (s->size % es) {
            rc = diag_set(d, ALS_ERANGE,
                          "section %s: %" PRIu64 " bytes is not a multiple of %zu", t,
                          s->size, es);
            goto out;
        }
        if (s->size && !s->data) {
            rc = diag_set(d, ALS_ERANGE, "section %s: no data for %" PRIu64 " bytes", t,
                          s->size);
            goto out;
        }
        for (unsigned j = 0; j < i; j++) {
            if (memcmp(secs[j].tag, s->tag, 4) == 0) {
                rc = diag_set(d, ALS_ERANGE, "section %s: duplicate tag", t);
                goto out;
            }
        }
        if (align_up(end, &off[i]) < 0 || s->size > UINT64_MAX - off[i]
            || s->size > SIZE_MAX) {
            rc = diag_set(d, ALS_ERANGE, "section %s: too large", t);
            goto out;
        }
        end = off[i] + s->size;
        memcpy(e, s->tag, 4);
        afile_put_le32(e + 4, s->dtype);
        afile_put_le64(e + 8, off[i]);
        afile_put_le64(e + 16, s->size);
        afile_put_le32(e + 24, crc_bytes(s->data, s->size));
    }

    h->payload_len = end - AFILE_HEADER_SIZE;
    encode_header(h, crc_bytes(dir, dirlen), hdr);

    if ((rc = zio_out_write(o, hdr, sizeof hdr, d)) < 0)
        goto out;
    if ((rc = zio_out_write(o, dir, dirlen, d)) < 0)
        goto out;
    /* Padding follows our own offsets rather than zio_out_pad's idea of the stream
     * position, so the directory and the bytes on disk cannot disagree. */
    pos = AFILE_HEADER_SIZE + dirlen;
    for (unsigned i = 0; i < nsec; i++) {
        if ((rc = zio_out_write(o, zeros, (size_t)(off[i] - pos), d)) < 0)
            goto out;
        if (secs[i].size
            && (rc = zio_out_write(o, secs[i].data, (size_t)secs[i].size, d)) < 0)
            goto out;
        pos = off[i] + secs[i].size;
    }
out:
    return rc;
}

static int
check_header(struct afile *f, const char *path, const char kind[4], uint16_t max_major,
             struct diag *d)
{
    uint64_t expect;
    int rc;

    /* afile_open has no way to learn which must-understand bits a reader knows, and no
     * mapped kind defines one yet, so every such bit is unknown here. */
    if ((rc = afile_header_decode(f->map, &f->h, path, kind, max_major, 0, d)) < 0)
        return rc;
    /* Saturate so that an absurd payload_len still reads as "truncated". */
    expect = f->h.payload_len > UINT64_MAX - AFILE_HEADER_SIZE
                 ? UINT64_MAX
                 : f->h.payload_len + AFILE_HEADER_SIZE;
    if (expect != f->size)
        return diag_set(d, ALS_EFORMAT, "'%s': %s: header says %" PRIu64 " bytes, file has %zu",
                        path, expect > f->size ? "truncated" : "has trailing data", expect,
                        f->size);
    return 0;
}

static int
check_directory(struct afile *f, const char *path, struct diag *d)
{
    const unsigned char *p = f->map + AFILE_HEADER_SIZE;
    size_t avail = f->size - AFILE_HEADER_SIZE;
    uint64_t dir_end;
    uint32_t nsec;
    size_t dirlen;

    if (avail < AFILE_DIR_HEAD)
        return diag_set(d, ALS_EFORMAT, "'%s': bad section directory (file too short for it)",
                        path);
    nsec = afile_get_le32(p);
    if (nsec > AFILE_MAX_SECTIONS)
        return diag_set(d, ALS_EFORMAT,
                        "'%s': bad section directory (%" PRIu32 " sections, at most %d)", path,
                        nsec, AFILE_MAX_SECTIONS);
    dirlen = AFILE_DIR_HEAD + (size_t)AFILE_DIR_ENTRY * nsec;
    if (dirlen > avail)
        return diag_set(d, ALS_EFORMAT,
                        "'%s': bad section directory (%" PRIu32 " sections do not fit in the "
                        "file)",
                        path, nsec);
    if (crc_bytes(p, dirlen) != afile_get_le32(f->map + 52))
        return diag_set(d, ALS_ECHECKSUM,
                        "'%s': section directory checksum mismatch (file damaged)", path);

    dir_end = AFILE_HEADER_SIZE + dirlen;
    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *e = p + AFILE_DIR_HEAD + (size_t)AFILE_DIR_ENTRY * i;
        struct afile_section *s = &f->sec[i];
        size_t es;
        char t[5], u[5];

        memcpy(s->tag, e, 4);
        s->dtype = afile_get_le32(e + 4);
        s->offset = afile_get_le64(e + 8);
        s->size = afile_get_le64(e + 16);
        s->crc = afile_get_le32(e + 24);
        tag_str(t, s->tag);
        es = afile_dtype_size(s->dtype);

        if (s->offset % AFILE_ALIGN)
            return diag_set(d, ALS_EFORMAT,
                            "'%s': bad section directory (section %s: offset %" PRIu64
                            " is not a multiple of %d)",
                            path, t, s->offset, AFILE_ALIGN);
        if (s->offset < dir_end)
            return diag_set(d, ALS_EFORMAT,
                            "'%s': bad section directory (section %s: offset %" PRIu64
                            " is inside the header or directory)",
                            path, t, s->offset);
        /* Written as two comparisons so that offset + size cannot wrap. */
        if (s->offset > f->size || s->size > f->size - s->offset)
            return diag_set(d, ALS_EFORMAT,
                            "'%s': bad section directory (section %s: %" PRIu64
                            " bytes at offset %" PRIu64 " run past the end of the file)",
                            path, t, s->size, s->offset);
        if (!es)
            return diag_set(d, ALS_EFORMAT,
                            "'%s': bad section directory (section %s: unknown element type %"
                            PRIu32 ")",
                            path, t, s->dtype);
        if (s->size % es)
            return diag_set(d, ALS_EFORMAT,
                            "'%s': bad section directory (section %s: %" PRIu64
                            " bytes is not a multiple of %zu)",
                            path, t, s->size, es);
        for (uint32_t j = 0; j < i; j++) {
            const struct afile_section *q = &f->sec[j];
            if (memcmp(q->tag, s->tag, 4) == 0)
                return diag_set(d, ALS_EFORMAT,
                                "'%s': bad section directory (section %s: duplicate tag)",
                                path, t);
            /* Half-open ranges, so an empty section overlaps nothing; the sums cannot
             * wrap after the bounds check above. */
            if (s->offset < q->offset + q->size
                && q->offset < s->offset + s->size) {
                tag_str(u, q->tag);
                return diag_set(d, ALS_EFORMAT,
                                "'%s': bad section directory (section %s: overlaps section "
                                "%s)",
                                path, t, u);
            }
        }
    }
    f->nsec = nsec;
    return 0;
}

static const struct afile_section *
find_section(const struct afile *f, const char tag[4])
{
    for (unsigned i = 0; i < f->nsec; i++)
        if (memcmp(f->sec[i].tag, tag, 4) == 0)
            return &f->sec[i];
    return NULL;
}

static int
verify_one(const struct afile *f, const char *path, const struct afile_section *s,
           struct diag *d)
{
    char t[5];

    if (crc_bytes(f->map + s->offset, s->size) == s->crc)
        return 0;
    tag_str(t, s->tag);
    return diag_set(d, ALS_ECHECKSUM, "'%s': section %s checksum mismatch (file damaged)",
                    path, t);
}

/* What a file of kind is called in messages. */
static const char *
kind_noun(const char kind[4])
{
    static const struct { char kind[5]; const char *noun; } nouns[] = {
        { "CSR1", "a CSR file" }, { "FAC1", "a model file" }, { "VOC1", "a vocabulary file" },
    };
    for (size_t i = 0; i < sizeof nouns / sizeof nouns[0]; i++)
        if (memcmp(kind, nouns[i].kind, 4) == 0)
            return nouns[i].noun;
    return "an als binary file";
}

int
afile_open(struct afile *f, const char *path, const char kind[4], uint16_t max_major,
           unsigned flags, struct diag *d)
{
    static const unsigned char gzip_magic[2] = { 0x1f, 0x8b };
    struct stat st;
    void *map;
    size_t plen;
    int fd = -1, rc = 0;

    memset(f, 0, sizeof *f);
    /* "-" is standard input everywhere else; here it would be looked up as a file named
     * "-" and fail with ENOENT, which hides the reason: a mapping needs a file. */
    if (strcmp(path, "-") == 0) {
        rc = diag_set(d, ALS_EUSAGE,
                      "'-': %s must be a regular file (it is mapped), not standard input",
                      kind_noun(kind));
        goto out;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = diag_set_errno(d, ALS_EIO, errno, "cannot open '%s'", path);
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        rc = diag_set_errno(d, ALS_EIO, errno, "cannot open '%s'", path);
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = diag_set_errno(d, ALS_EIO, EISDIR, "cannot open '%s'", path);
        goto out;
    }
    /* A pipe reports size 0 and cannot be mapped; say so rather than "too short". */
    if (!S_ISREG(st.st_mode)) {
        rc = diag_set(d, ALS_EIO, "cannot map '%s': not a regular file", path);
        goto out;
    }
    /* A gzipped container (gzip model.als, or a .csr.gz) would read as "bad magic"; a
     * header of any size starts with the two gzip bytes. */
    if (st.st_size >= 2) {
        unsigned char m[2];
        if (pread(fd, m, 2, 0) == 2 && memcmp(m, gzip_magic, 2) == 0) {
            rc = diag_set(d, ALS_EFORMAT, "'%s': gzip-compressed: decompress it first (gzip -d)",
                          path);
            goto out;
        }
    }
    /* mmap of length 0 fails, and a short file has no header to look at. */
    if (st.st_size < AFILE_HEADER_SIZE) {
        rc = diag_set(d, ALS_EFORMAT,
                      "'%s': not an als binary file (%lld bytes, too short for a header)", path,
                      (long long)st.st_size);
        goto out;
    }
    if ((uintmax_t)st.st_size > SIZE_MAX) {
        rc = diag_set_errno(d, ALS_EIO, EFBIG, "cannot map '%s'", path);
        goto out;
    }
    map = mmap(NULL, (size_t)st.st_size,
               (flags & AFILE_PRIVATE) ? PROT_READ | PROT_WRITE : PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = diag_set_errno(d, ALS_EIO, errno, "cannot map '%s'", path);
        goto out;
    }
    f->map = map;
    f->size = (size_t)st.st_size;
    plen = strlen(path);
    if (plen >= sizeof f->path)
        plen = sizeof f->path - 1;
    memcpy(f->path, path, plen);
    f->path[plen] = '\0';

    if ((rc = check_header(f, path, kind, max_major, d)) < 0)
        goto out;
    if ((rc = check_directory(f, path, d)) < 0)
        goto out;
    if (flags & AFILE_VERIFY) {
        for (unsigned i = 0; i < f->nsec; i++)
            if ((rc = verify_one(f, path, &f->sec[i], d)) < 0)
                goto out;
    }
out:
    /* The mapping holds its own reference to the file. */
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        afile_close(f);
    return rc;
}

int
afile_section(const struct afile *f, const char tag[4], uint32_t dtype, const void **data,
              uint64_t *count, struct diag *d)
{
    const struct afile_section *s = find_section(f, tag);
    char t[5];

    tag_str(t, tag);
    if (!s)
        return diag_set(d, ALS_EFORMAT, "'%s': missing section %s", f->path, t);
    if (s->dtype != dtype)
        return diag_set(d, ALS_EFORMAT, "'%s': section %s has element type %" PRIu32
                        ", expected %" PRIu32, f->path, t, s->dtype, dtype);
    /* The dtype was checked at open, so the element size is known and divides size. */
    *data = f->map + s->offset;
    *count = s->size / afile_dtype_size(dtype);
    return 0;
}

int
afile_verify_section(const struct afile *f, const char tag[4], struct diag *d)
{
    const struct afile_section *s = find_section(f, tag);
    char t[5];

    if (!s) {
        tag_str(t, tag);
        return diag_set(d, ALS_EFORMAT, "'%s': missing section %s", f->path, t);
    }
    return verify_one(f, f->path, s, d);
}

int
afile_verify_all(const struct afile *f, struct diag *d)
{
    int rc = 0;
    for (unsigned i = 0; i < f->nsec && rc == 0; i++)
        rc = verify_one(f, f->path, &f->sec[i], d);
    return rc;
}

void
afile_close(struct afile *f)
{
    if (f->map)
        munmap((void *)(uintptr_t)f->map, f->size);
    memset(f, 0, sizeof *f);
}

int
afile_save(const char *path, struct afile_header *h, const struct afile_wsec *secs,
           unsigned nsec, struct diag *d)
{
    struct zio_out o;
    int rc = zio_out_open(&o, path, d);
    if (rc < 0)
        return rc;
    if ((rc = afile_write(&o, h, secs, nsec, d)) >= 0)
        rc = zio_out_commit(&o, d);
    zio_out_abort(&o);
    return rc;
}

uint32_t
afile_checksum(const struct afile *f)
{
    uint32_t x = 0x811c9dc5u; /* FNV-1a over the CRCs: order matters, cheap */
    for (unsigned s = 0; s < f->nsec; s++)
        x = (x ^ f->sec[s].crc) * 0x01000193u;
    return x;
}

uint32_t
afile_crc(const void *p, uint64_t n)
{
    return crc_bytes(p, n);
}
