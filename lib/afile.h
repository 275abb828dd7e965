/* SPDX-License-Identifier: MIT */
/* afile: the one binary container of every .csr, .model, .vocab file: header, sections, CRCs. */
#ifndef ALS_AFILE_H
#define ALS_AFILE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct zio_out;

/*
 * Layout (all little-endian; documented in als-formats(5)):
 *
 *   off len field
 *     0   4 magic "ALSB"
 *     4   4 kind, four ASCII bytes ("CSR1", "FAC1", "VOC1", ...)
 *     8   2 major  (incompatible changes: a reader rejects an unknown major)
 *    10   2 minor  (compatible additions)
 *    12   4 flags  (bits 0-15 must be understood, bits 16-31 may be ignored)
 *    16   8 payload_len (file size - 64)
 *    24  24 rows, cols, nnz (u64 each; meaning depends on kind)
 *    48   4 dtype of the main data (AFILE_DT_*)
 *    52   4 payload_crc32: CRC-32 of the section directory
 *    56   4 reserved, 0
 *    60   4 header_crc32: CRC-32 of bytes 0-59
 *
 *   64: section directory: u32 nsec, u32 reserved (0), then nsec entries of 32 bytes:
 *       tag[4], u32 dtype, u64 offset (from file start, multiple of 64),
 *       u64 size (bytes), u32 crc32 of the section bytes, u32 reserved (0)
 *   then the sections, each starting on a 64-byte boundary, zero padding between.
 */
#define AFILE_HEADER_SIZE 64
#define AFILE_ALIGN 64
#define AFILE_MAX_SECTIONS 32

enum {
    AFILE_DT_F32 = 1,
    AFILE_DT_F64 = 2,
    AFILE_DT_U32 = 3,
    AFILE_DT_U64 = 4,
    AFILE_DT_BYTES = 5, /* opaque bytes, e.g. concatenated strings or key=value text */
    AFILE_DT_I64 = 6
};

struct afile_header {
    char kind[4];
    uint16_t major, minor;
    uint32_t flags;
    uint64_t payload_len; /* filled in by afile_write */
    uint64_t rows, cols, nnz;
    uint32_t dtype;
};

struct afile_section {
    char tag[4];
    uint32_t dtype;
    uint64_t offset, size;
    uint32_t crc;
};

/* A section to write: size bytes at data (data may be NULL when size is 0). */
struct afile_wsec {
    const char *tag; /* 4 characters */
    uint32_t dtype;
    const void *data;
    uint64_t size;
};

/* An opened (memory-mapped, read-only) container. */
struct afile {
    const unsigned char *map;
    size_t size;
    struct afile_header h;
    unsigned nsec;
    struct afile_section sec[AFILE_MAX_SECTIONS];
    char path[256]; /* for messages; truncated if longer */
};

enum {
    AFILE_VERIFY = 1u << 0,  /* check every section's CRC-32 at open (else header + directory) */
    AFILE_PRIVATE = 1u << 1  /* map copy-on-write: the reader may change its view, never the file */
};

/* Size in bytes of one element of dtype, or 0 for an unknown dtype. */
size_t afile_dtype_size(uint32_t dtype);

/* Write header, directory and sections to o (which the caller commits).
 * Computes the CRCs and h->payload_len. Returns 0, ALS_EIO or ALS_ERANGE. */
int afile_write(struct zio_out *o, struct afile_header *h, const struct afile_wsec *secs,
                unsigned nsec, struct diag *d) ALS_MUSTCHECK;

/* afile_write to path atomically (temporary file, fsync, rename): the whole of saving a
 * container file. */
int afile_save(const char *path, struct afile_header *h, const struct afile_wsec *secs,
               unsigned nsec, struct diag *d) ALS_MUSTCHECK;

/* Map path and validate it as a container of the given kind whose major version is at most
 * max_major. Every field is checked against the file size before it is trusted.
 * Errors: ALS_EIO (open/mmap), ALS_EFORMAT (short, bad magic, wrong kind, truncated,
 * bad directory), ALS_EVERSION (newer major, unknown must-understand flag),
 * ALS_ECHECKSUM (header, directory or, with AFILE_VERIFY, a section).
 * Messages name the file: "'x.csr': truncated: ...". On error f needs no afile_close. */
int afile_open(struct afile *f, const char *path, const char kind[4], uint16_t max_major,
               unsigned flags, struct diag *d) ALS_MUSTCHECK;

/* Find section tag and check its dtype; *data points into the mapping and *count is the
 * number of elements. A missing section or a wrong dtype is ALS_EFORMAT. */
int afile_section(const struct afile *f, const char tag[4], uint32_t dtype, const void **data,
                  uint64_t *count, struct diag *d) ALS_MUSTCHECK;

/* Check the CRC-32 of one section (for readers that opened without AFILE_VERIFY). */
int afile_verify_section(const struct afile *f, const char tag[4], struct diag *d) ALS_MUSTCHECK;

/* Check the CRC-32 of every section in directory order: 0, or ALS_ECHECKSUM naming the
 * first damaged section, with afile_verify_section's message. */
int afile_verify_all(const struct afile *f, struct diag *d) ALS_MUSTCHECK;

void afile_close(struct afile *f);

/* The CRC-32 (zlib) of n bytes, any n: what a section's checksum is. */
uint32_t afile_crc(const void *p, uint64_t n);

/* One number for the contents of an open file: its section CRC-32s combined in order.
 * Two files with the same sections give the same checksum (a model records it). */
uint32_t afile_checksum(const struct afile *f);

/* The 64-byte header alone, for streamed files (triples) that cannot be mapped:
 * encode computes the header CRC; decode checks magic, CRC, kind, major and flags with
 * the same messages as afile_open (name is used in them). */
void afile_header_encode(const struct afile_header *h, unsigned char out[AFILE_HEADER_SIZE]);
int afile_header_decode(const unsigned char in[AFILE_HEADER_SIZE], struct afile_header *h,
                        const char *name, const char kind[4], uint16_t max_major,
                        uint32_t known_flags, struct diag *d) ALS_MUSTCHECK;

/* Little-endian stores and loads used by every binary writer and reader. */
static inline void
afile_put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void
afile_put_le64(unsigned char *p, uint64_t v)
{
    afile_put_le32(p, (uint32_t)v);
    afile_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t
afile_get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
afile_get_le64(const unsigned char *p)
{
    return (uint64_t)afile_get_le32(p) | (uint64_t)afile_get_le32(p + 4) << 32;
}

#endif
