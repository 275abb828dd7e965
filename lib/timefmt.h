/* SPDX-License-Identifier: MIT */
/* timefmt: timestamps in logs (epoch seconds or ISO 8601) to int64 epoch seconds. */
#ifndef ALS_TIMEFMT_H
#define ALS_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Accepts epoch seconds ("1700000000", "-5", "1700000000.25": the fraction is floored)
 * and ISO 8601 dates "YYYY-MM-DD", optionally followed by 'T' or ' ' and "HH:MM[:SS[.f]]"
 * and a zone "Z" or "+HH[:MM]"/"-HH[:MM]" (no zone: UTC). Returns 0 or ALS_EFORMAT. */
int timefmt_parse(const char *s, size_t len, int64_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
int64_t timefmt_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
