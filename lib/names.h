/* SPDX-License-Identifier: MIT */
/* names: a label for each item (a title from a CSV/TSV such as MovieLens movies.csv). */
#ifndef ALS_NAMES_H
#define ALS_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "vocab.h"

/* Labels by item index: item i's bytes are buf[off[i] .. off[i] + len[i]) (len 0: none). */
struct names {
    char *buf;
    uint64_t *off;
    uint32_t *len;
    uint64_t n; /* items covered: the vocabulary's size when loaded */
    uint64_t named, unknown; /* lines that named an item; lines whose ID is not an item */
};

void names_init(struct names *nm);
void names_release(struct names *nm);

/*
 * Read path (plain or gzip, "-" stdin) as delimited records with the CSV reader of the
 * logs (csv_split: RFC 4180 quotes, a quoted field may span lines): the delimiter is the
 * one csv_detect_delim finds in the first line, the raw item ID is the first field and
 * the label the field number col (2 or more, counted from 1). A record whose ID the item
 * vocabulary lacks (a header line, items never mapped) is skipped and counted in unknown;
 * of an ID given twice, the first label counts. Returns 0, or <0: zio's codes, ALS_EFORMAT
 * "FILE:LINE: ..." for a record with fewer than col fields, bad quoting or no delimiter in
 * the first line, ALS_ENOMEM. On failure nm is left empty (names_release is still fine).
 */
int names_load(struct names *nm, const struct vocab *items, const char *path, unsigned col,
               struct diag *d) ALS_MUSTCHECK;

/* Item i's label and its length (an empty string for an item without one). */
const char *names_get(const struct names *nm, uint64_t i, size_t *len);

#endif
