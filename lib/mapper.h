/* SPDX-License-Identifier: MIT */
/* mapper: raw log records to index triples through a vocabulary directory, pipelined. */
#ifndef ALS_MAPPER_H
#define ALS_MAPPER_H

#include <stdint.h>

#include "diag.h"
#include "progress.h"
#include "triples.h"
#include "vocabdir.h"

enum { MAPPER_BUILD = 0, MAPPER_FROZEN = 1 };

struct mapper_opts {
    int mode;            /* MAPPER_BUILD adds unseen IDs; MAPPER_FROZEN only looks up */
    int grow_users;      /* with MAPPER_FROZEN: add unseen users all the same (a history
                          * of new users, in a writable copy that is never saved) */
    int strict;          /* frozen: an unseen ID is an error, not a skipped record */
    int skip_bad;        /* count and skip malformed records instead of failing */
    uint64_t max_errors; /* with skip_bad: fail once more than this many */
    unsigned threads;    /* >= 2: parse on a second thread while this one maps IDs */
    /* Called (from the parsing thread) for each skipped malformed record. */
    void (*on_bad)(void *ctx, const struct diag *d);
    /* Called once, before any triple, when the first input settled the columns. */
    int (*on_start)(void *ctx, int has_time, struct diag *d);
    /* Called for each mapped record in input order. raw is the value before the
     * transforms; t->value is after them (an unfitted minmax counts as 1). */
    int (*sink)(void *ctx, const struct triple *t, double raw, struct diag *d);
    void *ctx;
    /* Reports (lib/progress.h), or NULL: the "bytes" of the inputs read when every input
     * is a regular file (stdin too), else the "records" read, per batch of records. */
    struct progress *progress;
};

struct mapper_stats {
    uint64_t read, written, bad, unknown_users, unknown_items;
};

/*
 * Read the inputs ("-" is stdin) as vd->spec says, settling it on the first input (the
 * effective delimiter, header and columns are written back into vd->spec), and map every
 * record. In MAPPER_BUILD mode vd's vocabularies must be writable. A malformed record
 * stops the run with "FILE:LINE: reason" in d unless skip_bad; errors from the sink stop
 * it too. Returns 0 or <0 (ALS_EUSAGE for column or option problems).
 */
int mapper_run(struct vocabdir *vd, const char *const *inputs, int ninputs,
               const struct mapper_opts *mo, struct mapper_stats *st, struct diag *d)
    ALS_MUSTCHECK;

#endif
