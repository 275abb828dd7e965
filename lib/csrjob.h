/* SPDX-License-Identifier: MIT */
/* csrjob: the work of als-csr: triples to one CSR file (or a train/test pair), and its
 * inspection. */
#ifndef ALS_CSRJOB_H
#define ALS_CSRJOB_H

#include <stdint.h>
#include <stdio.h>

#include "csr.h"
#include "diag.h"

struct csrjob_opts {
    const char *input;  /* the triples (binary or text, plain or gzip); "-" is stdin */
    const char *output; /* the CSR file ("-" is stdout): the training part when splitting */
    const char *test;   /* the held-out part, or NULL for no split */
    const char *vocab;  /* a vocabulary directory whose sizes are the shape, or NULL */
    int policy;         /* CSR_DUP_*: how repeated (user, item) records combine; -1: by
                         * what the values are (the vocabulary's 'values': ratings keep
                         * the last, anything else adds up; sum without a vocabulary) */
    int drop_zeros;     /* drop entries that are 0 after combining */
    struct csr_split_opts split; /* with test */
    /* Optional (lib/progress.h), in phases: the triples read ("bytes" when the input is a
     * regular file, else "records"), the matrix built ("records sorted"), and with test
     * the split ("users split"). */
    void (*progress)(uint64_t done, uint64_t total, const char *unit, void *ctx);
    void *progress_ctx;
};

/* What a run did, for the caller's summary. */
struct csrjob_stats {
    uint64_t records;             /* triples read */
    uint64_t rows, cols, nnz;     /* the whole matrix, after combining and dropping */
    uint64_t train_nnz, test_nnz; /* with a split, else 0 */
    int policy;                   /* the CSR_DUP_* used */
};

/*
 * Read o->input, take the shape from o->vocab (read after the triples: in
 * 'als-map -V DIR | als-csr -V DIR' the vocabulary is committed just before the end of
 * the stream) or from the triples, build R and Rᵀ and write o->output atomically; with
 * o->test, split and write both files in full before either replaces its target.
 * Returns 0 with *st filled, or <0: the triples reader's codes (triples_read_coo),
 * ALS_ERANGE for an index beyond the vocabulary ("'IN' does not match the vocabulary
 * 'DIR': ..."), ALS_EFORMAT when a split by time finds no times, ALS_EIO, ALS_ENOMEM.
 * Nothing is written on error.
 */
int csrjob_run(const struct csrjob_opts *o, struct csrjob_stats *st, struct diag *d)
    ALS_MUSTCHECK;

/*
 * Check every checksum of the CSR file path (damage then reads as damage, not as a
 * structure error), open it and write its description to out: "key<TAB>value" lines of
 * file, format, rows, cols, nnz, density, row and column degrees (min, median, max,
 * empty), value range, checksums and the META keys. Nothing is written on error
 * (afile_open's and csr_open's codes, ALS_ECHECKSUM, ALS_ENOMEM). Write errors on out
 * are the caller's to check.
 */
int csrjob_describe(const char *path, FILE *out, struct diag *d) ALS_MUSTCHECK;

/* Open path with every checksum checked and write 'row<TAB>col<TAB>value' lines of R (Rᵀ
 * with transpose) to out. Errors as csr_open; nothing is written on error. */
int csrjob_dump(const char *path, int transpose, FILE *out, struct diag *d) ALS_MUSTCHECK;

#endif
