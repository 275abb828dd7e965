/* SPDX-License-Identifier: MIT */
/* zio: buffered plain-or-gzip input from files or stdin, and atomic file output. */
#ifndef ALS_ZIO_H
#define ALS_ZIO_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* Longest line zio_in_getline accepts; longer lines are ALS_EFORMAT, never truncated. */
#define ZIO_MAX_LINE (64u << 20)

struct zio_in;

/* Open path ("-" is stdin) for reading. gzip input (any number of concatenated members)
 * is recognised by its magic bytes and decompressed on a helper thread, so that parsing
 * overlaps decompression. Returns 0, ALS_EIO or ALS_ENOMEM; *in is NULL on error. */
int zio_in_open(struct zio_in **in, const char *path, struct diag *d) ALS_MUSTCHECK;

/* Next line without its '\n' (a '\r' before it is kept: CSV decides). *line points into
 * an internal buffer valid until the next call. The last line may lack a '\n'.
 * Returns 1 with a line, 0 at end of input, <0 on error (truncated gzip, read error,
 * a line over ZIO_MAX_LINE), with the message naming the file and line. */
int zio_in_getline(struct zio_in *in, const char **line, size_t *len, struct diag *d)
    ALS_MUSTCHECK;

/* Read up to n bytes; *got < n only at end of input. Returns 0 or <0. */
int zio_in_read(struct zio_in *in, void *buf, size_t n, size_t *got, struct diag *d)
    ALS_MUSTCHECK;

/* Look at the next n bytes without consuming them (n <= 4096); *got < n at end of input. */
int zio_in_peek(struct zio_in *in, const void **p, size_t n, size_t *got, struct diag *d)
    ALS_MUSTCHECK;

/* Number of the line last returned by zio_in_getline (1-based). */
uint64_t zio_in_lineno(const struct zio_in *in);

/* Bytes consumed so far (after decompression). */
uint64_t zio_in_offset(const struct zio_in *in);

/* How far into the file itself the reader is, for progress against its size: the bytes
 * consumed for plain input; for gzip, the compressed bytes inflated so far (ahead of what
 * was consumed by the few blocks decompressed in advance). Takes a lock: call it once per
 * block of records, not per line. */
uint64_t zio_in_raw_offset(struct zio_in *in);

/* The size of path ("-" is stdin: what is left of it from its offset) when it is a
 * regular file, else 0 (a pipe, a terminal, an error): the total for progress. */
uint64_t zio_path_size(const char *path);

/* The name used in messages: the path, or "(stdin)". */
const char *zio_in_name(const struct zio_in *in);

int zio_in_is_gzip(const struct zio_in *in);

/* Close; zio_in_close(NULL) is a no-op. */
void zio_in_close(struct zio_in *in);

/*
 * Atomic output. zio_out_open creates the temporary "PATH.als-tmp.XXXXXX" beside path
 * (X: six of [0-9a-zA-Z]) and holds an flock(LOCK_EX) on it; zio_out_commit flushes,
 * fsyncs, renames it over path and fsyncs the directory. zio_out_abort (a no-op after
 * commit) unlinks the temporary file, and so does SIGINT, SIGTERM, SIGHUP or SIGPIPE
 * once zio_install_signal_cleanup has run. A SIGKILLed writer cannot: zio_out_open first
 * removes every temporary of the same path that it can lock (its writer is gone; a live
 * writer's lock makes it skip the file). Path "-" is stdout, and an existing path that is
 * not a regular file (/dev/null, a FIFO) is opened as it is: both are written directly,
 * without atomicity.
 */
#define ZIO_TMP_INFIX ".als-tmp."
#define ZIO_TMP_RANDOM 6
#define ZIO_TMP_SUFFIX_LEN (sizeof ZIO_TMP_INFIX - 1 + ZIO_TMP_RANDOM)

/* Is the directory entry name a temporary of the target whose base name is base? */
int zio_is_temp_of(const char *name, const char *base);

struct zio_out {
    int fd;
    int is_stdout; /* written in place: stdout, or a path that is not a regular file */
    int own_fd;
    int committed;
    int slot; /* index in the signal-cleanup table, or -1 */
    char *path, *tmp_path;
    unsigned char *buf;
    size_t len, cap;
    uint64_t bytes; /* written so far */
};

int zio_out_open(struct zio_out *o, const char *path, struct diag *d) ALS_MUSTCHECK;
int zio_out_write(struct zio_out *o, const void *p, size_t n, struct diag *d) ALS_MUSTCHECK;
/* Write zero bytes until the output offset is a multiple of align. */
int zio_out_pad(struct zio_out *o, size_t align, struct diag *d) ALS_MUSTCHECK;
int zio_out_commit(struct zio_out *o, struct diag *d) ALS_MUSTCHECK;
/* Commit two outputs together (als-csr's training and test parts): both are flushed and
 * fsynced before either is renamed, the previous a is kept as a hard link beside it
 * (a temporary name of a) until b is renamed too, and put back if b's rename fails, so
 * that an error leaves both previous files. Only a crash between the two renames can
 * leave a new and b old (and the previous a under a temporary name, removed by its next
 * writer). On error both need zio_out_abort as usual. */
int zio_out_commit_pair(struct zio_out *a, struct zio_out *b, struct diag *d) ALS_MUSTCHECK;
void zio_out_abort(struct zio_out *o);

/* Refuse an output that is another output or one of the inputs under any spelling
 * (./x, a symlink, a hard link): compared by device and inode, or by the resolved path
 * when absent. ALS_EUSAGE naming both, or ALS_ENOMEM. NULL entries are skipped; "-" is
 * stdout among outputs (twice is refused) and stdin among inputs (never an output).
 * Paths that are not regular files (/dev/null, a FIFO) are never refused. */
int zio_check_distinct(const char *const *outs, size_t nouts, const char *const *ins,
                       size_t nins, struct diag *d) ALS_MUSTCHECK;

/* Install signal handlers that unlink every open temporary output, then die by the
 * signal as before. Call once from main. */
void zio_install_signal_cleanup(void);

#endif
