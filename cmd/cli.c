/* SPDX-License-Identifier: MIT */
/* cli: what every als program shares: common options, messages and exits (never in libals). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "linalg.h"
#include "num.h"

/*
 * A program started with stdin, stdout or stderr closed (`prog <&-`) would hand that
 * descriptor to the first file it opens: the vocabulary lock would be read as an empty
 * log, triples written into a vocabulary file. Each closed one is taken by /dev/null
 * opened the wrong way round (stdin write-only, stdout and stderr read-only), so that
 * using it fails with EBADF, as it would have, instead of reading or writing a stranger.
 * A constructor, so that it runs before main opens anything.
 */
__attribute__((constructor)) static void
reserve_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* In ascending order, the lowest free descriptor is fd itself. */
        (void)open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
    }
}

/* The progress line drawn on the terminal, if any: messages erase it first. Messages may
 * come from another thread (als-map's skipped records), hence the lock. */
static pthread_mutex_t line_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cli_progress *drawn;

/* With line_mu held. */
static void
erase_line(void)
{
    if (drawn && drawn->width) {
        fprintf(drawn->out, "\r%*s\r", (int)drawn->width, "");
        fflush(drawn->out);
        drawn->width = 0;
    }
}

/* Before a message that ends the program. */
static void
clear_progress(void)
{
    pthread_mutex_lock(&line_mu);
    erase_line();
    pthread_mutex_unlock(&line_mu);
}

/* Weak: als-map and als-csr need no BLAS and are linked without it, so that OpenBLAS's
 * thread pool, started when the library loads, cannot fail or hang them (under ulimit -v,
 * say); their version line then names no BLAS. */
#pragma weak la_blas_version

static void
print_version(const struct cli *c)
{
    printf("%s %s (libals %s, zlib %s", c->prog, ALS_VERSION, ALS_VERSION, zlibVersion());
    if (la_blas_version)
        printf(", %s", la_blas_version());
    printf(")\n");
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
    clear_progress();
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
    clear_progress();
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
    clear_progress();
    fprintf(stderr, "%s: %s\n", c->prog, d->msg[0] ? d->msg : diag_code_str(d->code));
    exit(d->code == ALS_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL);
}

void
cli_warn(const struct cli *c, const char *fmt, ...)
{
    if (c->quiet)
        return;
    va_list ap;
    pthread_mutex_lock(&line_mu);
    erase_line(); /* redrawn by the next update */
    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&line_mu);
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

/* ---- progress ---- */

static double
mono_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void
cli_progress_init(struct cli_progress *p, const struct cli *c, int streams)
{
    memset(p, 0, sizeof *p);
    p->prog = c->prog;
    p->out = stderr;
    p->on = cli_show_progress(c);
    p->tty = isatty(2);
    if (streams && isatty(1)) { /* a line redrawn among the output would garble it */
        p->on = c->progress;
        p->tty = 0;
    }
    p->delay = 1;
    p->interval = 5;
    /* Only for the tests: a run long enough to pass the delay is not reliably long. */
    const char *env = getenv("ALS_PROGRESS_DELAY");
    double v;
    if (env && num_parse_double(env, 0, 3600, &v) == 0)
        p->delay = p->interval = v;
    p->clock = mono_seconds;
    p->t0 = p->clock();
}

/* v to 2 or 3 significant digits with an SI prefix: "3.1 k", "410 M", "850 " (for bytes:
 * whole bytes below 1 kB), into buf. */
static void
fmt_si(char *buf, size_t size, double v, int bytes)
{
    static const char prefix[] = "kMGTPE";
    int i = -1;
    while (i < 5 && v >= 999.5) {
        v /= 1000;
        i++;
    }
    if (i < 0 && bytes)
        snprintf(buf, size, "%.0f ", v);
    else if (v < 9.95)
        snprintf(buf, size, "%.1f %.*s", v, i >= 0, i >= 0 ? prefix + i : "");
    else
        snprintf(buf, size, "%.0f %.*s", v, i >= 0, i >= 0 ? prefix + i : "");
}

/* 12,400,000 */
static void
fmt_count(char *buf, size_t size, uint64_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n), w = 0;
    for (int k = 0; k < len && (size_t)w + 1 < size; k++) {
        if (k && (len - k) % 3 == 0 && (size_t)w + 2 < size)
            buf[w++] = ',';
        buf[w++] = digits[k];
    }
    buf[w] = '\0';
}

int
cli_progress_format(char *buf, size_t size, const char *prog, uint64_t done, uint64_t total,
                    const char *unit, double rate)
{
    int bytes = !strcmp(unit, "bytes");
    char a[40], b[40], r[48] = "", eta[32] = "", pct[16] = "";
    if (bytes) {
        fmt_si(a, sizeof a, (double)done, 1);
        strcat(a, "B");
        fmt_si(b, sizeof b, (double)total, 1);
        strcat(b, "B");
    } else {
        fmt_count(a, sizeof a, done);
        fmt_count(b, sizeof b, total);
    }
    if (rate >= 0) {
        char x[40];
        fmt_si(x, sizeof x, rate, bytes);
        size_t n = strlen(x);
        if (!bytes && n && x[n - 1] == ' ') /* "850/s", not "850 /s" */
            x[n - 1] = '\0';
        snprintf(r, sizeof r, ", %s%s/s", x, bytes ? "B" : "");
    }
    if (total) {
        snprintf(pct, sizeof pct, " (%u%%)",
                 done >= total ? 100u : (unsigned)((double)done * 100 / (double)total));
        if (rate > 0 && done < total) {
            double left = ceil((double)(total - done) / rate);
            if (left < 3600.0 * 10000) {
                unsigned long t = (unsigned long)left;
                if (t >= 3600)
                    snprintf(eta, sizeof eta, ", ETA %lu:%02lu:%02lu", t / 3600, t / 60 % 60,
                             t % 60);
                else
                    snprintf(eta, sizeof eta, ", ETA %lu:%02lu", t / 60, t % 60);
            }
        }
    }
    if (total)
        return snprintf(buf, size, "%s: %s of %s%s%s%s%s%s", prog, a, b, bytes ? "" : " ",
                        bytes ? "" : unit, pct, r, eta);
    return snprintf(buf, size, "%s: %s%s%s%s", prog, a, bytes ? "" : " ", bytes ? "" : unit,
                    r);
}

/* The line of the last update. */
static void
current_line(const struct cli_progress *p, char *buf, size_t size)
{
    double dt = p->at - p->since, rate = -1;
    if (dt > 0 && p->done > p->done0)
        rate = (double)(p->done - p->done0) / dt;
    cli_progress_format(buf, size, p->prog, p->done, p->total, p->unit, rate);
}

/* Columns of the terminal, so that the line never wraps (a wrapped line cannot be
 * redrawn with '\r'). */
static size_t
term_columns(void)
{
#ifdef TIOCGWINSZ
    struct winsize ws;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
        return ws.ws_col;
#endif
    return 80;
}

static void
draw(struct cli_progress *p)
{
    char line[256];
    current_line(p, line, sizeof line);
    size_t n = strlen(line), cols = term_columns();
    if (n >= cols)
        line[n = cols - 1] = '\0';
    pthread_mutex_lock(&line_mu);
    drawn = p;
    /* spaces over what is left of a longer line before */
    fprintf(p->out, "\r%s%*s", line, p->width > n ? (int)(p->width - n) : 0, "");
    if (p->width > n)
        fprintf(p->out, "\r%s", line);
    fflush(p->out);
    p->width = n ? n : 1;
    pthread_mutex_unlock(&line_mu);
}

static void
print_plain(struct cli_progress *p)
{
    char line[256];
    current_line(p, line, sizeof line);
    fprintf(p->out, "%s\n", line);
    fflush(p->out);
    p->printed++;
    p->last = p->at;
    p->pending = 0;
}

void
cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t total, const char *unit)
{
    if (!p->on)
        return;
    double now = p->clock();
    if (!p->phased || strcmp(unit, p->unit) || total != p->total || done < p->done) {
        snprintf(p->unit, sizeof p->unit, "%s", unit);
        p->total = total;
        p->done0 = done;
        p->since = now;
        p->phased = 1;
    }
    p->done = done;
    p->at = now;
    p->pending = 1;
    if (now - p->t0 < p->delay)
        return;
    if (p->tty)
        draw(p);
    else if (!p->printed || now - p->last >= p->interval)
        print_plain(p);
}

void
cli_progress_report(uint64_t done, uint64_t total, const char *unit, void *ctx)
{
    cli_progress_update(ctx, done, total, unit);
}

void
cli_progress_end(struct cli_progress *p)
{
    if (!p->on)
        return;
    if (p->tty) {
        pthread_mutex_lock(&line_mu);
        if (drawn == p) {
            erase_line();
            drawn = NULL;
        }
        pthread_mutex_unlock(&line_mu);
    } else if (p->pending && p->phased && (p->printed || p->at - p->t0 >= p->delay)) {
        print_plain(p);
    }
    p->on = 0;
}
