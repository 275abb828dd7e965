/* SPDX-License-Identifier: MIT */
/* ratemap: raw rating fields to numbers: ordinal levels, numeric parsing, transforms. */
#ifndef ALS_RATEMAP_H
#define ALS_RATEMAP_H

#include <stddef.h>

#include "diag.h"

#define RATEMAP_MAX_STEPS 16
#define RATEMAP_MAX_LEVELS 256

enum { RATEMAP_LOG1P = 1, RATEMAP_MINMAX, RATEMAP_CLIP, RATEMAP_SCALE, RATEMAP_BINARY };

struct ratemap_step {
    int op;
    double a, b; /* clip: lo, hi; scale: factor in a; minmax: fitted min, max */
    int fitted;  /* minmax only: a and b are known (fitted once, then frozen) */
};

struct ratemap {
    char **levels; /* ordinal labels, lowest first: levels[i] maps to i + 1 */
    size_t *level_len;
    unsigned nlevels;
    struct ratemap_step step[RATEMAP_MAX_STEPS];
    unsigned nsteps;
};

void ratemap_init(struct ratemap *m);
void ratemap_release(struct ratemap *m);

/* "hate,dislike,like,love": labels lowest first; empty or repeated labels are errors. */
int ratemap_set_levels(struct ratemap *m, const char *list, struct diag *d) ALS_MUSTCHECK;
/* Add one label at the top (used when reading the persisted form). */
int ratemap_add_level(struct ratemap *m, const char *label, size_t len, struct diag *d)
    ALS_MUSTCHECK;

/* "log1p,minmax,clip:0:1,scale:2,binary"; "minmax:LO:HI" is a minmax already fitted. */
int ratemap_set_transforms(struct ratemap *m, const char *chain, struct diag *d) ALS_MUSTCHECK;

/* The chain in the same syntax, fitted minmax steps with their bounds (%.17g), into buf. */
void ratemap_format_transforms(const struct ratemap *m, char *buf, size_t size);

/* 1 if two maps give the same numbers for the same input (labels and chain). */
int ratemap_equal(const struct ratemap *a, const struct ratemap *b);

/* Parse a plain decimal number (sign, digits, point, exponent; surrounding blanks
 * allowed). 0, ALS_EFORMAT when it is not a number, ALS_ENUMERIC for nan, inf or
 * overflow. Exact for the usual short decimals (Clinger's fast path), else strtod. */
int ratemap_parse_number(const char *s, size_t len, double *out);

/* A raw field to its number before transforms: a label's rank when levels are set and
 * the field is one of them, else a number. The message names the value (no file:line:
 * the caller adds them). */
int ratemap_raw(const struct ratemap *m, const char *s, size_t len, double *out,
                struct diag *d) ALS_MUSTCHECK;

/* 1 while some minmax step is not fitted yet. */
int ratemap_needs_fit(const struct ratemap *m);

/* Fit every unfitted minmax on the raw values v[0..n): each sees the values as they come
 * out of the steps before it. With no values the bounds are 0 and 1. */
void ratemap_fit(struct ratemap *m, const double *v, size_t n);

/* Apply the chain (all minmax fitted). ALS_ENUMERIC with a message when the result is
 * not finite, e.g. log1p of -2. */
int ratemap_apply(const struct ratemap *m, double x, double *out, struct diag *d)
    ALS_MUSTCHECK;

#endif
