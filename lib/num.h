/* SPDX-License-Identifier: MIT */
/* num: strict parsing of whole and floating-point numbers, for options and text files. */
#ifndef ALS_NUM_H
#define ALS_NUM_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* Parse a whole decimal number in [lo, hi]: digits only (no sign, blank or trailing
 * junk). Returns 0, ALS_EFORMAT (not a whole number) or ALS_ERANGE (out of range);
 * *out is written only on success. */
int num_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) ALS_MUSTCHECK;

/* Parse a finite number in [lo, hi] as strtod reads it, all of it, no leading blank.
 * Returns 0, ALS_EFORMAT or ALS_ERANGE (out of range, infinite, NaN or overflowing);
 * *out is written only on success. */
int num_parse_double(const char *s, double lo, double hi, double *out) ALS_MUSTCHECK;

/* 1 when i is in the ascending list a[0..n) (binary search). */
int num_sorted_has(const uint32_t *a, size_t n, uint32_t i);

#endif
