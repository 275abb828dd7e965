/* SPDX-License-Identifier: MIT */
/* cli: what every als program shares: common options, messages and exits. It prints and
 * exits, so it lives beside the mains and never in libals. */
#ifndef ALS_CLI_H
#define ALS_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2, CLI_EXIT_GATE = 3 };

/* Long-only option codes, above any short option character. */
enum { CLI_OPT_VERSION = 256, CLI_OPT_SEED, CLI_OPT_PROGRESS, CLI_OPT_FIRST_PROGRAM = 300 };

#define CLI_COMMON_SHORTOPTS "hqvj:"
#define CLI_COMMON_LONGOPTS                                                                \
    { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, CLI_OPT_VERSION }, \
        { "quiet", no_argument, NULL, 'q' }, { "verbose", no_argument, NULL, 'v' },        \
        { "threads", required_argument, NULL, 'j' },                                       \
        { "seed", required_argument, NULL, CLI_OPT_SEED },                                 \
        { "progress", no_argument, NULL, CLI_OPT_PROGRESS }

struct cli {
    const char *prog;  /* "als-map" */
    const char *usage; /* the SYNOPSIS lines, identical to the man page */
    const char *help;  /* the option list printed by --help after the usage */
    int quiet, verbose, progress;
    unsigned threads; /* 0 = all cores */
    uint64_t seed;
    int seed_given;
};

/* Handle a common option; returns 1 if opt was one (exiting for --help and --version),
 * 0 if the caller must handle it. */
int cli_common(struct cli *c, int opt, const char *arg);

/* "PROG: message" plus the short usage on stderr, exit 2. */
ALS_NORETURN void cli_usage_error(const struct cli *c, const char *fmt, ...) ALS_PRINTF(2, 3);

/* "PROG: message" on stderr, exit status 1. */
ALS_NORETURN void cli_die(const struct cli *c, const char *fmt, ...) ALS_PRINTF(2, 3);

/* "PROG: <d->msg>" on stderr, exit 2 for ALS_EUSAGE and 1 otherwise. */
ALS_NORETURN void cli_die_diag(const struct cli *c, const struct diag *d);

/* A warning or note on stderr, unless -q. */
void cli_warn(const struct cli *c, const char *fmt, ...) ALS_PRINTF(2, 3);

/* Parse the argument of option name or exit 2 with "PROG: invalid --name 'x': reason". */
uint64_t cli_opt_u64(const struct cli *c, const char *name, const char *arg, uint64_t lo,
                     uint64_t hi);
double cli_opt_double(const struct cli *c, const char *name, const char *arg, double lo,
                      double hi);

/* The index of arg in names (NULL-terminated), or exit 2 with
 * "PROG: --name takes a, b or c, not 'arg'". */
int cli_choice(const struct cli *c, const char *name, const char *arg,
               const char *const *names);

/* Exit 2 with "PROG: refusing to write WHAT to a terminal (HINT)" when path is "-",
 * stdout is a terminal and force is not set: binary data would garble it. */
void cli_refuse_tty(const struct cli *c, const char *path, int force, const char *what,
                    const char *hint);

/* 1 when an operand looks like an output the user meant for -o rather than an input:
 * it does not exist, or its name ends in one of exts (NULL-terminated, such as ".model").
 * For the hint "to write 'B.model', use -o B.model". */
int cli_looks_like_output(const char *path, const char *const *exts);

/* Flush and close stdout; on a write error print it and exit 1 (samtools' rule). */
void cli_close_stdout(const struct cli *c);

/* Number of threads to use: the -j value, or the online CPU count. */
unsigned cli_threads(const struct cli *c);

/* 1 when progress should be shown: --progress, or stderr is a terminal and not -q. */
int cli_show_progress(const struct cli *c);

/*
 * The one progress printer of the programs, fed by a job's progress callback
 * (lib/progress.h: cli_progress_report with the struct cli_progress as its context).
 * Nothing shows for the first second, so a short run prints nothing. On a terminal one
 * line is redrawn in place with '\r' and erased by cli_progress_end (and before any
 * message of cli_warn and the cli_die family); elsewhere (--progress) plain lines, at most
 * one every 5 seconds, and the last state at the end. The lines:
 *     PROG: 1.2 GB of 3.1 GB (38%), 410 MB/s, ETA 0:05     bytes of a known total
 *     PROG: 1,200 of 5,000 users (24%), 3.1 k/s, ETA 0:02  anything else counted
 *     PROG: 12,400,000 records, 3.1 M/s                    no known total
 * The rate is that of the current phase (a new unit or total starts one); it and the ETA
 * are left out until there is one. For the tests, the environment variable
 * ALS_PROGRESS_DELAY=SECONDS replaces both the 1 s delay and the 5 s between plain lines.
 */
struct cli_progress {
    const char *prog;
    FILE *out;             /* stderr */
    int on;                /* 0: every call is a no-op */
    int tty;               /* redraw one line, else plain lines */
    double delay;          /* seconds before anything shows */
    double interval;       /* seconds between plain lines */
    double (*clock)(void); /* monotonic seconds (tests set their own) */
    double t0;             /* when it began */
    char unit[48];         /* the phase: what it counts, the total, since when */
    uint64_t total, done0;
    double since;
    int phased;
    uint64_t done; /* the last update */
    double at;
    int pending;   /* a plain line of the last update is still due */
    int printed;   /* plain lines printed */
    double last;   /* when the last plain line was */
    size_t width;  /* of the line drawn on the terminal; 0: none */
};

/* Start p for c's job: on when cli_show_progress(c). streams: the job writes its output
 * to standard output as it goes; when that is a terminal too, progress shows only with
 * --progress, and as plain lines. */
void cli_progress_init(struct cli_progress *p, const struct cli *c, int streams);

/* done of total (0: not known) units: show it when it is time to. */
void cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t total,
                         const char *unit);

/* The callback of a job's options: cli_progress_update(ctx, ...). */
void cli_progress_report(uint64_t done, uint64_t total, const char *unit, void *ctx);

/* Erase the terminal line, or print the last plain line still due; p is off after it. */
void cli_progress_end(struct cli_progress *p);

/* One line, without a newline, into buf (cut to size): rate in units a second, < 0 when
 * not known; the ETA comes from it. Returns the length it has (as snprintf). */
int cli_progress_format(char *buf, size_t size, const char *prog, uint64_t done,
                        uint64_t total, const char *unit, double rate);

#endif
