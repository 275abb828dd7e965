/* SPDX-License-Identifier: MIT */
/* mapjob: the work of als-map: logs to triples through a vocabulary directory, and its dump. */
#ifndef ALS_MAPJOB_H
#define ALS_MAPJOB_H

#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "logread.h"
#include "ratemap.h"
#include "vocabdir.h"

/* How the vocabulary directory is used. */
enum {
    MAPJOB_NEW,    /* lock it (creating it if needed), start empty, save: a first build or
                    * a rebuild from scratch */
    MAPJOB_APPEND, /* lock and load it, add unseen IDs at the end, save */
    MAPJOB_FROZEN  /* load it, change nothing: records with unseen IDs are skipped */
};

struct mapjob_opts {
    const char *vocab; /* the vocabulary directory */
    int mode;          /* MAPJOB_* */
    int strict;        /* frozen: an unseen ID is an error */
    int skip_bad;      /* count and skip malformed records instead of failing */
    uint64_t max_errors; /* with skip_bad: fail once more than this many */
    unsigned threads;    /* as mapper_opts */
    /* What the command line gave: reading options override the stored ones. */
    const struct logspec *spec;
    /* The given levels and transforms: a stored vocabulary must agree with them;
     * MAPJOB_NEW takes them over (*rmap is left empty, still to be released). */
    struct ratemap *rmap;
    const char *levels, *transform; /* their option texts, for messages; NULL: not given */
    /* VOCAB_VALUES_COUNTS or _RATINGS as given (als-map --values), a stored vocabulary
     * must agree; VOCAB_VALUES_UNKNOWN: the first build with values decides from them
     * (mapjob_values_kind) and the directory keeps that. */
    int values;
    const char *const *inputs;      /* logs, "-" is stdin */
    int ninputs;
    const char *output; /* the triples, "-" is stdout */
    int text;           /* text triples instead of binary */
    /* Optional, called from the parsing thread for each skipped malformed record. */
    void (*on_bad)(void *ctx, const struct diag *d);
    /* Optional, called once with a note of the delimiter, header and columns the first
     * input settled ("delimiter ',', header yes, columns: ..."), before any triple. */
    void (*on_note)(void *ctx, const char *note);
    void *ctx;
    /* Optional (lib/progress.h): the inputs read, in "bytes" when every input is a regular
     * file (for gzip: of the compressed file), else in "records", in one phase. */
    void (*progress)(uint64_t done, uint64_t total, const char *unit, void *ctx);
    void *progress_ctx;
};

struct mapjob_stats {
    uint64_t read, written, bad, unknown_users, unknown_items; /* as mapper_stats */
    uint64_t users, items;         /* the vocabulary sizes after the run */
    uint64_t new_users, new_items; /* how many of them this run added */
    int values;                    /* VOCAB_VALUES_*: what the directory says after the run */
    int usage; /* on ALS_EUSAGE: the options contradict each other or the vocabulary, and
                * the caller should show its usage (0: a problem of the log's columns) */
};

/*
 * The whole run: take the directory's lock (not frozen), load the vocabulary (append,
 * frozen) and merge the reading options into it, map the inputs, write the triples to
 * o->output, then commit the vocabulary and, last, the output: triples never name
 * indices that the directory does not have. On error nothing is committed, a lock file
 * and directory this run created are removed, and <0 comes back with d set (its message
 * may be empty when there is nothing to add): ALS_EUSAGE (see st->usage), mapper_run's,
 * vocabdir_load's and vocabdir_lock's codes, ALS_EIO, ALS_ENOMEM. st is filled on success
 * and, for st->usage, on error.
 */
int mapjob_run(const struct mapjob_opts *o, struct mapjob_stats *st, struct diag *d)
    ALS_MUSTCHECK;

/*
 * What raw values (before transforms) look like to mapjob_run: ratings when there are
 * ordinal levels, or when every value is a multiple of 0.5 in [0, 10] and at least two
 * differ (stars, half-stars, 0-10 scores); counts otherwise (durations, play counts,
 * prices), and VOCAB_VALUES_UNKNOWN for none read.
 */
struct mapjob_census {
    uint64_t n;
    uint32_t seen;  /* bit h: the value h/2 was seen (h = 0..20) */
    int off_scale;  /* some value is not such a multiple */
};
void mapjob_census_add(struct mapjob_census *c, double raw);
int mapjob_values_kind(const struct mapjob_census *c, int has_levels);

/* Write 'index<TAB>raw_id' lines, IDs escaped as TSV, of the users (items when items is
 * set) of the vocabulary directory vocab to out. Errors: vocabdir_load's, ALS_EFORMAT for
 * a damaged vocabulary (the lines before it are written), ALS_ENOMEM. */
int mapjob_dump(const char *vocab, int items, FILE *out, struct diag *d) ALS_MUSTCHECK;

#endif
