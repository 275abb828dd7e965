/* SPDX-License-Identifier: MIT */
/* vocabdir: the vocabulary directory: user and item vocabularies, rating map, log format. */
#ifndef ALS_VOCABDIR_H
#define ALS_VOCABDIR_H

#include <stdint.h>

#include "diag.h"
#include "logread.h"
#include "ratemap.h"
#include "vocab.h"

/*
 * DIR/map.conf is a small text file (als-formats(5)) naming the current generation's
 * users.G.vocab and items.G.vocab and recording how the log was read and how ratings map
 * to numbers. Saving writes the new generation's files first and replaces map.conf last,
 * by rename: that one rename is the commit, so a run killed at any moment leaves the
 * previous generation complete and in use. Older generations are removed afterwards.
 */
#define VOCABDIR_CONF "map.conf"
#define VOCABDIR_FORMAT 1

enum { VOCABDIR_ABSENT = 0, VOCABDIR_EMPTY = 1, VOCABDIR_PRESENT = 2 };

/*
 * What the values of the log are, for how repeated (user, item) records combine
 * (als-csr --dup): every record counts 1 (no rating column) and counts or durations add
 * up; ratings do not (two 5-star reviews are not a 10). UNKNOWN: no value read yet, or a
 * directory from before the key.
 */
enum { VOCAB_VALUES_UNKNOWN = 0, VOCAB_VALUES_EVENTS, VOCAB_VALUES_COUNTS, VOCAB_VALUES_RATINGS };

/* The names in VOCAB_VALUES_* order (the first, "unknown", is never stored), NULL-ended. */
extern const char *const vocab_values_names[];

struct vocabdir {
    char *path;
    uint64_t generation;
    struct vocab users, items;
    struct ratemap rmap;
    struct logspec spec;
    int values; /* VOCAB_VALUES_* */
    int lock_fd;
    int made_dir, made_lock; /* what vocabdir_lock created, for vocabdir_abandon */
};

void vocabdir_init(struct vocabdir *v);
void vocabdir_release(struct vocabdir *v);

/* Is path absent, an empty directory, or a vocabulary directory? Anything else (a file,
 * a directory with other content) is ALS_EUSAGE with a message. */
int vocabdir_probe(const char *path, int *state, struct diag *d) ALS_MUSTCHECK;

/* Load DIR: map.conf and both vocabularies (mmapped; flags as for vocab_open). */
int vocabdir_load(struct vocabdir *v, const char *path, unsigned flags, struct diag *d)
    ALS_MUSTCHECK;

/* Take the directory's write lock (creating DIR if needed); ALS_EIO when another process
 * holds it. Released by vocabdir_release. */
int vocabdir_lock(struct vocabdir *v, const char *path, struct diag *d) ALS_MUSTCHECK;

/* After a failed run: remove the lock file and directory if this run created them, so
 * that a failure leaves the file system as it was. */
void vocabdir_abandon(struct vocabdir *v, const char *path);

/* Write the next generation into v->path (created if needed) and commit it. */
int vocabdir_save(struct vocabdir *v, struct diag *d) ALS_MUSTCHECK;

#endif
