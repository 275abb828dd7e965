/* SPDX-License-Identifier: MIT */
/* csr: the ratings matrix R (users x items) and its transpose, built, split, stored. */
#ifndef ALS_CSR_H
#define ALS_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "afile.h"
#include "diag.h"

struct progress;
struct zio_out;

#define CSR_KIND "CSR1"
#define CSR_MAJOR 1

/*
 * Compressed sparse rows with 64-bit offsets and 32-bit indices: row r holds the
 * columns idx[ptr[r] .. ptr[r+1]) in strictly increasing order and their values. A
 * struct csr_mat either owns its arrays or points into a mapped file.
 */
struct csr_mat {
    uint64_t rows, cols, nnz;
    uint64_t *ptr; /* rows + 1 */
    uint32_t *idx; /* nnz */
    float *val;    /* nnz */
};

/* R and Rᵀ together, as every CSR file holds them. */
struct csr {
    struct csr_mat r, t;
    char meta[1024]; /* "key=value" lines: how it was built (kept in the META section) */
    int owned;
    struct afile file;
};

/* How duplicate (user, item) records combine. */
enum { CSR_DUP_SUM, CSR_DUP_MAX, CSR_DUP_MIN, CSR_DUP_MEAN, CSR_DUP_FIRST, CSR_DUP_LAST };

/* Parse "sum", "max", ... into *policy; ALS_EUSAGE for anything else. */
int csr_parse_dup(const char *name, int *policy);
const char *csr_dup_name(int policy);
/* The policy names in CSR_DUP_* order, NULL-terminated (for an option parser). */
extern const char *const csr_dup_names[];

/* Raw triples as read, in input order. */
struct csr_coo {
    uint64_t n, cap;
    uint32_t *u, *i;
    float *v;
    int64_t *time; /* NULL when the triples carry no time */
};

void csr_coo_release(struct csr_coo *c);
int csr_coo_push(struct csr_coo *c, uint32_t u, uint32_t i, float v, const int64_t *time)
    ALS_MUSTCHECK;

/*
 * Build R (rows x cols) from coo with two stable counting sorts (by column, then by
 * row: no comparison sort), combine duplicates by policy in input order, drop zeros when
 * drop_zeros (after combining), and build Rᵀ. Times, when coo has them, combine to the
 * latest and come back in *times (aligned with R's entries; free() it) if times is not
 * NULL. coo is released on return to keep peak memory at the output plus one input.
 * Index beyond rows or cols: ALS_ERANGE naming the record.
 */
int csr_build(struct csr_coo *coo, uint64_t rows, uint64_t cols, int policy, int drop_zeros,
              struct csr **out, int64_t **times, struct diag *d) ALS_MUSTCHECK;

/* csr_build with reports to pr (may be NULL; lib/progress.h): one phase counting its passes
 * over the coo->n records as "records sorted". */
int csr_build_progress(struct csr_coo *coo, uint64_t rows, uint64_t cols, int policy,
                       int drop_zeros, struct csr **out, int64_t **times, struct progress *pr,
                       struct diag *d) ALS_MUSTCHECK;

/* The transpose of m, into t (owned arrays). */
int csr_transpose(const struct csr_mat *m, struct csr_mat *t, struct diag *d) ALS_MUSTCHECK;

/* Split modes. */
enum { CSR_SPLIT_FRACTION, CSR_SPLIT_LEAVE_OUT };

struct csr_split_opts {
    int mode;        /* CSR_SPLIT_FRACTION: round(fraction * n) per user; LEAVE_OUT: count */
    double fraction;
    uint64_t count;
    int by_time;     /* hold out the latest (needs times), else a seeded random choice */
    uint64_t seed;
    int stable; /* FRACTION only: each entry's side from (seed, user, item) alone */
};

/*
 * Split a into train and test of the same shape: per user, a held-out set chosen as the
 * options say, never the user's only interaction (at least one stays in train). The
 * choice depends only on (seed, user, item) and, by time, on times: the same bytes for
 * the same seed whatever the input order or thread count. Both outputs own their arrays.
 * stable: an entry goes to test when its (seed, user, item) key falls in the lowest
 * fraction of the key range, whatever else the user has: the same entry stays on its side
 * in every split of every later, grown matrix with the same seed and fraction, so a model
 * trained on one night's training side has seen none of another night's test entries
 * (users whose every entry lands in test are left with none in train).
 */
int csr_split(const struct csr *a, const int64_t *times, const struct csr_split_opts *o,
              struct csr **train, struct csr **test, struct diag *d) ALS_MUSTCHECK;

/* csr_split with reports to pr (may be NULL; lib/progress.h): one phase of the rows of a,
 * "users split" (the choice per user, then the two parts built). */
int csr_split_progress(const struct csr *a, const int64_t *times,
                       const struct csr_split_opts *o, struct csr **train, struct csr **test,
                       struct progress *pr, struct diag *d) ALS_MUSTCHECK;

/* Write c to o, which the caller commits (sections ROWP COLI VALS TROP TCOL TVAL META). */
int csr_write(const struct csr *c, struct zio_out *o, struct diag *d) ALS_MUSTCHECK;

/* csr_write to path, atomically. */
int csr_save(const struct csr *c, const char *path, struct diag *d) ALS_MUSTCHECK;

/* Map path and validate it: dimensions, offsets monotone and ending at nnz, indices in
 * range and strictly increasing in each row, R and Rᵀ with the same nnz. flags: as
 * afile_open (AFILE_VERIFY checks the CRCs too). */
int csr_open(struct csr **out, const char *path, unsigned flags, struct diag *d) ALS_MUSTCHECK;

/* Open flag: skip the O(nnz) structure check (for a reader that touches a few rows and
 * reaches them through csr_row, which checks each row it returns). */
#define CSR_LAZY (1u << 8)

/* Row r of m, checked: its indices, values and count, or ALS_EFORMAT when the row's offsets or indices are
 * damaged (out of range, unsorted). A row past the end is empty. */
int csr_row(const struct csr_mat *m, uint64_t r, const uint32_t **idx, const float **val,
            uint64_t *n) ALS_MUSTCHECK;

/* 1 if a and b hold the same R and Rᵀ (dimensions, indices, values bit for bit). */
int csr_equal(const struct csr *a, const struct csr *b);

/*
 * A 64-bit identity of R's contents (shape, offsets, indices, values): equal for the same
 * matrix wherever it came from (built in memory or mapped from a file, through the section
 * checksums when mapped). A model records the identity of what it was trained on.
 */
uint64_t csr_content_id(const struct csr *c);

/* What a file records about the split it is a side of (csr_split writes it in META):
 * side, the split's identity (the content of the matrix it split and the split options:
 * a split of a matrix grown by a later night is another split), and the identity of that
 * matrix. */
enum { CSR_SIDE_NONE = 0, CSR_SIDE_TRAIN = 1, CSR_SIDE_TEST = 2 };

struct csr_split_info {
    int side; /* CSR_SIDE_*; NONE for a file that is no side of a split, or an older one */
    uint64_t split_id, source_id;
    uint64_t family; /* stable splits: the identity of (seed, fraction), the same for every
                      * matrix; 0 for the others */
};

void csr_split_info(const struct csr *c, struct csr_split_info *out);

/* The number of (row, column) entries that a and b (of the same shape) both hold. */
uint64_t csr_common_entries(const struct csr_mat *a, const struct csr_mat *b);

/* The smallest and largest value of m's entries (lo = +inf, hi = -inf when empty): the
 * range an explicit prediction is clipped to. */
void csr_value_range(const struct csr_mat *m, float *lo, float *hi);

void csr_free(struct csr *c);

#endif
