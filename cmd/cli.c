/* SPDX-License-Identifier: MIT */
/* cli: what every als program shares: common options, messages and exits (never in libals). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "linalg.h"
#include "num.h"

static void
print_version(const struct cli *c)
{
    printf("%s %s (libals %s, zlib %s, %s)\n", c->prog, ALS_VERSION, ALS_VERSION, zlibVersion(),
           la_blas_version());
}

int
cli_common(struct cli *c, int opt, const char *arg)
{
    switch (opt) {
    case 'h':
        printf("%s\n%s", c->usage, c->help);
        cli_close_stdout(c);
        exit(CLI_EXIT_OK);
    case CLI_OPT_VERSION:
        print_version(c);
        cli_close_stdout(c);
        exit(CLI_EXIT_OK);
    case 'q':
        c->quiet = 1;
        return 1;
    case 'v':
        c->verbose++;
        return 1;
    case 'j':
        c->threads = (unsigned)cli_opt_u64(c, "threads", arg, 1, 4096);
        return 1;
    case CLI_OPT_SEED:
        c->seed = cli_opt_u64(c, "seed", arg, 0, UINT64_MAX);
        c->seed_given = 1;
        return 1;
    case CLI_OPT_PROGRESS:
        c->progress = 1;
        return 1;
    case '?':
        /* getopt_long already said what was wrong */
        fprintf(stderr, "%s\nTry '%s --help' for more information.\n", c->usage, c->prog);
        exit(CLI_EXIT_USAGE);
    }
    return 0;
}

void
cli_usage_error(const struct cli *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s\nTry '%s --help' for more information.\n", c->usage, c->prog);
    exit(CLI_EXIT_USAGE);
}

void
cli_die(const struct cli *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(CLI_EXIT_FAIL);
}

void
cli_die_diag(const struct cli *c, const struct diag *d)
{
    fprintf(stderr, "%s: %s\n", c->prog, d->msg[0] ? d->msg : diag_code_str(d->code));
    exit(d->code == ALS_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL);
}

void
cli_warn(const struct cli *c, const char *fmt, ...)
{
    if (c->quiet)
        return;
    va_list ap;
    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

uint64_t
cli_opt_u64(const struct cli *c, const char *name, const char *arg, uint64_t lo, uint64_t hi)
{
    uint64_t v = 0;
    int rc = num_parse_u64(arg, lo, hi, &v);
    if (rc == ALS_EFORMAT)
        cli_usage_error(c, "invalid --%s '%s': not a whole number", name, arg);
    if (rc < 0)
        cli_usage_error(c, "invalid --%s '%s': must be between %llu and %llu", name, arg,
                        (unsigned long long)lo, (unsigned long long)hi);
    return v;
}

double
cli_opt_double(const struct cli *c, const char *name, const char *arg, double lo, double hi)
{
    double v = 0;
    int rc = num_parse_double(arg, lo, hi, &v);
    if (rc == ALS_EFORMAT)
        cli_usage_error(c, "invalid --%s '%s': not a number", name, arg);
    if (rc < 0)
        cli_usage_error(c, "invalid --%s '%s': must be between %g and %g", name, arg, lo, hi);
    return v;
}

int
cli_choice(const struct cli *c, const char *name, const char *arg, const char *const *names)
{
    size_t n = 0;
    for (; names[n]; n++)
        if (!strcmp(arg, names[n]))
            return (int)n;
    char list[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
    cli_usage_error(c, "--%s takes %s, not '%s'", name, list, arg);
}

void
cli_refuse_tty(const struct cli *c, const char *path, int force, const char *what,
               const char *hint)
{
    if (!strcmp(path, "-") && !force && isatty(1))
        cli_usage_error(c, "refusing to write %s to a terminal (%s)", what, hint);
}

int
cli_looks_like_output(const char *path, const char *const *exts)
{
    size_t n = strlen(path);
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 1;
    for (; *exts; exts++) {
        size_t e = strlen(*exts);
        if (n > e && !strcmp(path + n - e, *exts))
            return 1;
    }
    return 0;
}

void
cli_close_stdout(const struct cli *c)
{
    if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
        fprintf(stderr, "%s: write error on standard output: %s\n", c->prog, strerror(errno));
        exit(CLI_EXIT_FAIL);
    }
}

unsigned
cli_threads(const struct cli *c)
{
    if (c->threads)
        return c->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

int
cli_show_progress(const struct cli *c)
{
    return c->progress || (!c->quiet && isatty(2));
}
