/* SPDX-License-Identifier: MIT */
/* triples: the stream of (user, item, value[, time]) records between als-map and als-csr. */
#ifndef ALS_TRIPLES_H
#define ALS_TRIPLES_H

#include <stdint.h>

#include "diag.h"
#include "progress.h"

struct csr_coo;
struct zio_in;
struct zio_out;

/*
 * Binary stream (als-formats(5)): the 64-byte afile header with kind "TRP1" (flags bit 0:
 * records carry a time; payload_len and dims 0 because the length is not known up front),
 * then blocks of up to TRIPLES_BLOCK records, each led by 16 bytes: "TBLK", u32 count,
 * u32 CRC-32 of the records, u32 0. Records are u32 user, u32 item, f32 value and, with
 * time, i64 seconds. The stream ends with "TEND", u32 0, u32 CRC-32 of the 24 bytes that
 * follow, u32 0, then u64 records, u64 users, u64 items (the vocabulary sizes). A stream
 * without its end block is truncated.
 */
#define TRIPLES_KIND "TRP1"
#define TRIPLES_MAJOR 1
#define TRIPLES_FLAG_TIME 1u
#define TRIPLES_BLOCK 8192

struct triple {
    uint32_t user, item;
    float value;
    int64_t time;
};

struct triples_writer {
    struct zio_out *o;
    int has_time, text;
    unsigned char *blk;
    uint32_t n; /* records in the current block */
    uint64_t total;
};

/* Start a stream on o (owned by the caller); text writes "user\titem\tvalue[\ttime]\n"
 * lines instead of the binary form. */
int triples_writer_start(struct triples_writer *w, struct zio_out *o, int has_time, int text,
                         struct diag *d) ALS_MUSTCHECK;
int triples_put(struct triples_writer *w, const struct triple *t, struct diag *d)
    ALS_MUSTCHECK;
/* Write the last block and the end marker with the vocabulary sizes. */
int triples_writer_finish(struct triples_writer *w, uint64_t users, uint64_t items,
                          struct diag *d) ALS_MUSTCHECK;
void triples_writer_release(struct triples_writer *w);

struct triples_reader {
    struct zio_in *in;
    int text, has_time, ended;
    unsigned char *blk;
    uint32_t n, pos;
    uint64_t total, users, items; /* users, items: from the end marker, else 0 */
    uint64_t block_no;
};

/* Open path ("-" is stdin; plain or gzip) and recognise binary or text triples. */
int triples_reader_open(struct triples_reader *r, const char *path, struct diag *d)
    ALS_MUSTCHECK;
/* 1 with a record, 0 at the end (after checking the end marker), <0 on error with the
 * file and record or line in the message. */
int triples_read(struct triples_reader *r, struct triple *t, struct diag *d) ALS_MUSTCHECK;
void triples_reader_close(struct triples_reader *r);

/*
 * Read every triple of path ("-" is stdin) into coo (initialised by the caller, who
 * releases it, also on error), with times when the records carry them. *rows and *cols
 * get the sizes the end marker of a binary stream declares, or for text the largest
 * index + 1. ALS_EFORMAT for input that is empty (what a failed producer leaves in a
 * pipe), records that disagree about having a time, a value that is not finite, or
 * indices beyond the declared sizes; ALS_ENOMEM; the reader's errors.
 */
int triples_read_coo(const char *path, struct csr_coo *coo, uint64_t *rows, uint64_t *cols,
                     struct diag *d) ALS_MUSTCHECK;

/* triples_read_coo with reports to pr (may be NULL; lib/progress.h): the "bytes" of path
 * read when it is a regular file (for gzip: of the compressed file), else the "records". */
int triples_read_coo_progress(const char *path, struct csr_coo *coo, uint64_t *rows,
                              uint64_t *cols, struct progress *pr, struct diag *d)
    ALS_MUSTCHECK;

#endif
