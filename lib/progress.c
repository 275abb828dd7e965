/* SPDX-License-Identifier: MIT */
/* progress: the optional progress reports of a long job, throttled to a few a second. */
#include "progress.h"

#include <stddef.h>
#include <time.h>

static uint64_t
now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
progress_init(struct progress *p,
              void (*fn)(uint64_t done, uint64_t total, const char *unit, void *ctx),
              void *ctx)
{
    p->fn = fn;
    p->ctx = ctx;
    p->due = 0;
}

int
progress_wanted(const struct progress *p)
{
    return p && p->fn;
}

void
progress_report(struct progress *p, uint64_t done, uint64_t total, const char *unit)
{
    if (!progress_wanted(p))
        return;
    p->due = now_ns() + PROGRESS_INTERVAL_NS;
    p->fn(done, total, unit, p->ctx);
}

void
progress_tick(struct progress *p, uint64_t done, uint64_t total, const char *unit)
{
    if (!progress_wanted(p))
        return;
    uint64_t t = now_ns();
    if (t < p->due)
        return;
    p->due = t + PROGRESS_INTERVAL_NS;
    p->fn(done, total, unit, p->ctx);
}

double
progress_seconds(void)
{
    return (double)now_ns() * 1e-9;
}
