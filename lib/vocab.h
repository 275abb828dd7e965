/* SPDX-License-Identifier: MIT */
/* vocab: raw ID byte strings to dense indices 0..n-1, in first-seen order, persisted. */
#ifndef ALS_VOCAB_H
#define ALS_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "afile.h"
#include "diag.h"

/* Indices are 32-bit; slot encoding reserves index + 1, so at most 2^32 - 1 IDs. */
#define VOCAB_MAX_IDS 0xffffffffull
#define VOCAB_KIND "VOC1"
#define VOCAB_MAJOR 1

/*
 * A vocabulary either owns growable arrays (built or made writable) or points into a
 * read-only mapping of a .vocab file, whose persisted hash index makes opening O(1):
 * nothing is rebuilt at load.
 */
struct vocab {
    uint64_t n;
    uint64_t *offs;  /* n + 1 byte offsets of each ID in bytes */
    char *bytes;     /* IDs concatenated, no separators */
    uint64_t *slots; /* open-addressing table, nslots a power of two */
    uint64_t nslots;
    uint64_t nbytes;
    int writable;
    size_t offs_cap, bytes_cap;
    struct afile file; /* the mapping, when opened read-only */
};

void vocab_init(struct vocab *v);
void vocab_release(struct vocab *v);
/* Empty it and make it writable. */
int vocab_clear(struct vocab *v) ALS_MUSTCHECK;

/* Open a .vocab file read-only (mmap). flags: AFILE_VERIFY also checks every CRC and
 * the monotonicity of the offsets (O(n)); without it opening is O(1) and every lookup
 * still checks bounds. v must be initialised (and is released first). */
int vocab_open(struct vocab *v, const char *path, unsigned flags, struct diag *d)
    ALS_MUSTCHECK;

/* Copy a mapped vocabulary into owned memory so that it can grow. */
int vocab_make_writable(struct vocab *v, struct diag *d) ALS_MUSTCHECK;

/* 1 and *idx when key is known, 0 when not, ALS_EFORMAT when the file's index is
 * damaged (a slot pointing outside the table). */
int vocab_find(const struct vocab *v, const char *key, size_t len, uint32_t *idx);

/* Find key or append it with the next index; *added says which. ALS_ERANGE past
 * VOCAB_MAX_IDS, ALS_ENOMEM. v must be writable. */
int vocab_intern(struct vocab *v, const char *key, size_t len, uint32_t *idx, int *added,
                 struct diag *d) ALS_MUSTCHECK;

/* The same results as vocab_intern (or vocab_find, with found[i] 1 or 0) called on each
 * of the n keys in order, faster: the table, offset and byte accesses of the whole batch
 * are prefetched before the probes, because random accesses into a vocabulary larger than
 * the cache dominate mapping time. n <= VOCAB_BATCH. *added counts the new IDs. */
#define VOCAB_BATCH 64
int vocab_intern_batch(struct vocab *v, const char *const *keys, const size_t *lens, size_t n,
                       uint32_t *idx, uint64_t *added, struct diag *d) ALS_MUSTCHECK;
int vocab_find_batch(const struct vocab *v, const char *const *keys, const size_t *lens,
                     size_t n, uint32_t *idx, unsigned char *found) ALS_MUSTCHECK;

/* The raw bytes of ID i (not NUL-terminated) or NULL if i >= n or the file is damaged. */
const char *vocab_get(const struct vocab *v, uint64_t i, size_t *len);

/* Write v to path atomically (temporary file, fsync, rename). */
int vocab_save(const struct vocab *v, const char *path, struct diag *d) ALS_MUSTCHECK;

#endif
