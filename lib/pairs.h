/* SPDX-License-Identifier: MIT */
/* pairs: given (user, item) pairs by raw ID, scored one by one or ranked per user's list. */
#ifndef ALS_PAIRS_H
#define ALS_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "csr.h"
#include "diag.h"
#include "model.h"
#include "names.h"
#include "recommend.h"
#include "vocab.h"

struct zio_out;

enum { PAIRS_SCORE, PAIRS_CANDIDATES };

/* What a run needs, all borrowed and read-only while it runs. */
struct pairs_ctx {
    int mode;                    /* PAIRS_SCORE or PAIRS_CANDIDATES */
    const struct model *m;
    const struct rec *rec;       /* the scorer (not similar) */
    const struct vocab *users, *items;
    const char *vocab_path;      /* for messages */
    /* PAIRS_CANDIDATES only: */
    const struct csr_mat *seen;  /* rows of items the user has seen (never returned), or NULL */
    const unsigned char *mask;   /* items never returned, or NULL */
    unsigned k;                  /* the top k of each list */
    const struct names *names;   /* labels to add, or NULL */
    int json;                    /* JSON lines instead of TSV */
    int clip;                    /* show scores clipped to [lo, hi] (an explicit model) */
    double lo, hi;
    unsigned threads;
};

struct pairs_stats {
    uint64_t pairs;        /* pairs read */
    uint64_t written;      /* score: pairs written; candidates: lists written */
    uint64_t unknown_user; /* pairs skipped: user unknown or without factors */
    uint64_t unknown_item; /* pairs skipped: item unknown or without factors */
    uint64_t filtered;     /* candidates: pairs left out as seen, excluded or repeated */
};

/*
 * Read 'user<TAB>item' lines from path ("-" stdin; plain or gzip), the IDs escaped as
 * csv_escape_tsv escapes them (as als-map --dump writes them), fields after the second
 * ignored, empty lines skipped, a '\r' before the newline dropped; write the answers to
 * o in input order, a chunk of pairs at a time (memory stays bounded by the chunk, or by
 * the longest list), scored in parallel with the same bytes for any thread count.
 *
 * PAIRS_SCORE: 'user<TAB>item<TAB>score' per pair (JSON {"user":U,"item":I,"score":S}).
 * PAIRS_CANDIDATES: consecutive lines of one user form one list (the same user later,
 * after another, starts a new list); each list's items, less seen, masked and repeated
 * ones, ranked by (score desc, index asc), top k, as serve writes a recommendation:
 * 'user<TAB>item<TAB>score<TAB>rank' or {"user":U,"items":[{"item":I,"score":S,
 * "rank":R},...]}. With names a last TSV column (a "name" member after "item") holds the
 * item's label. Pairs with an unknown user or item (or one without factors) are left
 * out and counted in st. Scores are rec_score_pairs's, clipped for show with clip.
 *
 * Returns 0, or <0: ALS_EFORMAT "FILE:LINE: ..." for a line without a tab or with a bad
 * escape, or a damaged vocabulary or seen row; zio's codes; ALS_ENOMEM. What earlier
 * chunks wrote stays written (the caller aborts o).
 */
int pairs_run(const struct pairs_ctx *c, const char *path, struct zio_out *o,
              struct pairs_stats *st, struct diag *d) ALS_MUSTCHECK;

#endif
