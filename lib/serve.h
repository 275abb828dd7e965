/* SPDX-License-Identifier: MIT */
/* serve: recommendation queries by raw ID, resolved, filtered, scored and written in order. */
#ifndef ALS_SERVE_H
#define ALS_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "pairs.h"

struct zio_out;

/* A query that is unknown, has no factors and gets no fold-in ("cold"). */
enum {
    SERVE_COLD_SKIP,    /* no answer, counted in skipped */
    SERVE_COLD_POPULAR, /* the most popular items (users only; needs csr) */
    SERVE_COLD_FAIL     /* serve_run fails naming it */
};

enum { SERVE_TSV, SERVE_JSON };

/* Queries that are (user, item) pairs instead of users (lib/pairs.h). */
enum { SERVE_USERS, SERVE_SCORE, SERVE_CANDIDATES };

/* What to serve. The strings are borrowed: they must stay valid until serve_close. */
struct serve_opts {
    const char *model;   /* the model file */
    const char *vocab;   /* the vocabulary directory the model was trained with */
    const char *csr;     /* the interaction history, or NULL: its items are seen (not
                          * recommended) and its counts are the popularity */
    const char *exclude; /* a file of raw item IDs never to recommend, one per line */
    const char *only;    /* a file of the only raw item IDs to recommend */
    const char *history; /* a raw log ("-" stdin, read as the vocabulary directory says):
                          * its users get factors folded in from it, new users too */
    unsigned k;          /* items per query, >= 1 */
    int similar;      /* queries are items: the k most similar items by cosine of the item
                       * factors, the item itself excluded; csr, history and include_seen
                       * do not apply and cold queries are never popular */
    int include_seen; /* recommend seen items too */
    int cold;         /* SERVE_COLD_* */
    int format;       /* SERVE_TSV or SERVE_JSON */
    int explain;      /* say where each answer came from: model, foldin or popular */
    int verify;       /* check every checksum of the model, vocabularies and CSR */
    unsigned threads; /* scoring threads (0 counts as 1) */
    int pairs;        /* SERVE_USERS, or the path of serve_queries holds 'user<TAB>item'
                       * lines: SERVE_SCORE scores each, SERVE_CANDIDATES ranks each user's
                       * list (pairs_run; history and cold do not apply) */
    const char *item_names; /* a CSV/TSV of raw item ID and label (names_load), or NULL:
                             * each answer gets its item's label */
    unsigned name_column;   /* the label's field in it, from 1 (0 counts as 2) */
    int header;             /* TSV: a first line naming the columns */
    /* Optional (lib/progress.h): serve_run's queries answered (or skipped), per chunk, as
     * "users" ("items" with similar), of every user with all, of the n IDs, or of an
     * unknown total for a file. */
    void (*progress)(uint64_t done, uint64_t total, const char *unit, void *ctx);
    void *progress_ctx;
};

/* Counts for the caller's notes and warnings; serve_open and serve_run add to them. */
struct serve_stats {
    uint64_t exclude_unknown; /* IDs in the exclude file the vocabulary lacks (ignored) */
    uint64_t only_unknown;    /* the same for the only file */
    uint64_t history_unknown; /* history records whose item the vocabulary lacks */
    uint64_t history_newer;   /* history records whose item is newer than the model */
    uint64_t answered;        /* queries answered, of which: */
    uint64_t foldin;          /* from folded-in factors */
    uint64_t popular;         /* from the popularity list */
    uint64_t skipped;         /* cold queries without an answer */
    uint64_t swapped;         /* cold queries that are IDs of the other side: an item ID
                               * given as a user, a user ID given to similar */
    char swapped_id[4 * 64 + 1]; /* the first of them, TSV-escaped, cut at 64 bytes */
    struct pairs_stats pairs;    /* the pair modes' counts */
    uint64_t names_unknown;      /* item_names records whose ID is not an item (ignored) */
};

struct serve;

/*
 * Open the model, the vocabulary directory and the CSR, refuse files that were not made
 * together (ALS_EFORMAT naming them), read the exclude and only lists, and with history
 * map that log through the vocabulary (new users get indices past it, in memory only:
 * nothing is written) and prepare fold-in with the model's training parameters. st is
 * filled as far as opening got, also on failure. Returns 0 with *out (serve_close frees
 * it), or <0 with *out NULL: the codes of model_open, vocabdir_load, csr_open, zio_in_open
 * and mapper_run, ALS_EUSAGE for SERVE_COLD_POPULAR without csr, ALS_ENOMEM.
 */
int serve_open(struct serve **out, const struct serve_opts *o, struct serve_stats *st,
               struct diag *d) ALS_MUSTCHECK;

/* The queries of one serve_run, by the first of these that applies. */
struct serve_queries {
    int all;                /* every user of the model, in index order (not with similar) */
    const char *const *ids; /* the n raw IDs ids[0..n), NUL-terminated */
    size_t n;
    const char *path;       /* one raw ID per line of this file ("-" stdin); a '\r' before
                             * the newline is dropped and empty lines are skipped */
};

/*
 * Answer the queries and write the answers to o in input order. Each query resolves to
 * the model's factors, or factors folded in from the history (which take precedence for
 * the users it has), or it is cold. Seen items (csr and history rows, unless
 * include_seen) and the exclude/only filters never come back. Queries are taken in
 * chunks of a few thousand and scored in parallel, so memory stays constant however many
 * come; the bytes written are the same for any thread count.
 *
 * TSV: 'query<TAB>item<TAB>score<TAB>rank' lines (and '<TAB>source' with explain), IDs
 * escaped as emit_tsv_field does. JSON: one object per query per line,
 * {"user":ID,"items":[{"item":ID,"score":S,"rank":R},...]} ("item" for similar, a
 * "source" member after the ID with explain), strings as emit_json_string writes them.
 * Scores are the model's predictions (popularity: the training counts), best first.
 *
 * A cold query that is unknown on its side but an ID of the other vocabulary is counted
 * in st->swapped (the first one in st->swapped_id), for a "swapped columns?" hint.
 *
 * Returns 0, or <0: ALS_ERANGE for a cold query under SERVE_COLD_FAIL (the message
 * names it, with the hint when it is an ID of the other side; what earlier chunks wrote
 * stays written, the caller aborts o), ALS_EFORMAT
 * for a damaged vocabulary or CSR row, zio's codes for reading the queries and writing
 * o, ALS_ENOMEM.
 */
/* With pairs, only path is read. With header (TSV), the first line written names the
 * columns: user (item with similar), item (similar: similar), score, rank, source with
 * explain, name with item_names; the score mode has no rank. With item_names, answers
 * get their item's label: a last TSV column, a "name" member after "item" in JSON. */
int serve_run(struct serve *s, const struct serve_queries *q, struct zio_out *o,
              struct serve_stats *st, struct diag *d) ALS_MUSTCHECK;

/* Free everything; serve_close(NULL) is a no-op. */
void serve_close(struct serve *s);

#endif
