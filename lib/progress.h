/* SPDX-License-Identifier: MIT */
/* progress: the optional progress reports of a long job, throttled to a few a second. */
#ifndef ALS_PROGRESS_H
#define ALS_PROGRESS_H

#include <stdint.h>

/*
 * A job's options may carry a progress callback (mapjob_opts, csrjob_opts, evaluate_opts,
 * serve_opts; train_job has its own, per iteration) of the form
 *
 *     void (*progress)(uint64_t done, uint64_t total, const char *unit, void *ctx);
 *
 * It is told that done of total units are done, total 0 when the job cannot know it.
 * unit is a static string naming what is counted: "bytes" (of the input consumed: for
 * gzip, of the compressed file), or a plural noun such as "records", "entries built" or
 * "users". A job runs in phases, one unit each: a phase begins with a report of 0 and ends
 * with one of its final count, and in between reports come at most every
 * PROGRESS_INTERVAL_NS. The callback runs on the thread that called the job, between
 * blocks of its work; it must be quick and must not call into the job.
 */
#define PROGRESS_INTERVAL_NS 200000000u /* 5 reports a second at most */

/* Within the library, a job holds one of these and passes it down (NULL: no reports). */
struct progress {
    void (*fn)(uint64_t done, uint64_t total, const char *unit, void *ctx); /* or NULL */
    void *ctx;
    uint64_t due; /* CLOCK_MONOTONIC nanoseconds before which progress_tick is silent */
};

/* Set p up to report to fn (NULL: never) with ctx. */
void progress_init(struct progress *p,
                   void (*fn)(uint64_t done, uint64_t total, const char *unit, void *ctx),
                   void *ctx);

/* Report now: the beginning (done 0) or the end of a phase. p may be NULL. */
void progress_report(struct progress *p, uint64_t done, uint64_t total, const char *unit);

/* Report when PROGRESS_INTERVAL_NS have passed since the last report. It costs a clock
 * read: call it once per block of work (thousands of records), never per record. p may
 * be NULL. */
void progress_tick(struct progress *p, uint64_t done, uint64_t total, const char *unit);

/* 1 when p would report at all (p set, with a callback): to skip work done only for it. */
int progress_wanted(const struct progress *p);

/* Seconds on the monotonic clock: what jobs time their steps with. */
double progress_seconds(void);

#endif
