/* SPDX-License-Identifier: MIT */
/* test_progress: the throttle, and the phases the jobs report: bytes of their inputs,
 * records sorted, users split, users evaluated, each from 0 to its final count. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "csrjob.h"
#include "logread.h"
#include "mapjob.h"
#include "metrics.h"
#include "progress.h"
#include "ratemap.h"

#include "t.h"
#include "scratch.h"
#include "fixtures.h"

/* Every report, in order. */
struct seen {
    int n;
    struct {
        uint64_t done, total;
        char unit[32];
    } ev[4096];
};

static void
record(uint64_t done, uint64_t total, const char *unit, void *ctx)
{
    struct seen *s = ctx;
    if (s->n == (int)(sizeof s->ev / sizeof s->ev[0]))
        return;
    s->ev[s->n].done = done;
    s->ev[s->n].total = total;
    snprintf(s->ev[s->n].unit, sizeof s->ev[s->n].unit, "%s", unit);
    s->n++;
}

/* The reports in unit (consecutive from first on) run from 0 to final of total, never
 * backwards; returns the index after them, or -1 (with a message). */
static int
phase(const struct seen *s, int first, const char *unit, uint64_t total, uint64_t final)
{
    int k = first;
    if (k >= s->n || strcmp(s->ev[k].unit, unit) || s->ev[k].done != 0) {
        printf("#   report %d is not the start of '%s'\n", k, unit);
        return -1;
    }
    for (; k < s->n && !strcmp(s->ev[k].unit, unit); k++)
        if (s->ev[k].total != total || (k > first && s->ev[k].done < s->ev[k - 1].done)) {
            printf("#   report %d of '%s': %llu of %llu\n", k, unit,
                   (unsigned long long)s->ev[k].done, (unsigned long long)s->ev[k].total);
            return -1;
        }
    if (s->ev[k - 1].done != final) {
        printf("#   '%s' ends at %llu, expected %llu\n", unit,
               (unsigned long long)s->ev[k - 1].done, (unsigned long long)final);
        return -1;
    }
    return k;
}

TEST(report_always_tick_at_most_every_interval)
{
    static struct seen s;
    struct progress p;
    s.n = 0;
    progress_init(&p, record, &s);
    T_EQ_INT(progress_wanted(&p), 1);
    progress_report(&p, 0, 10, "users");
    progress_tick(&p, 1, 10, "users"); /* just after a report: silent */
    T_EQ_INT(s.n, 1);
    struct timespec ts = { 0, (long)PROGRESS_INTERVAL_NS + 20000000 };
    nanosleep(&ts, NULL);
    progress_tick(&p, 2, 10, "users");
    progress_tick(&p, 3, 10, "users");
    progress_report(&p, 10, 10, "users");
    T_EQ_INT(s.n, 3);
    T_EQ_U64(s.ev[1].done, 2);
    T_EQ_U64(s.ev[2].done, 10);
    T_EQ_STR(s.ev[2].unit, "users");

    /* NULL and a callback-less struct are no-ops. */
    progress_tick(NULL, 1, 1, "x");
    progress_report(NULL, 1, 1, "x");
    progress_init(&p, NULL, NULL);
    T_EQ_INT(progress_wanted(&p), 0);
    T_EQ_INT(progress_wanted(NULL), 0);
    progress_report(&p, 1, 1, "x");
    T_EQ_INT(s.n, 3);
}

/* A log of n records, "uN,iM,1" lines. */
static const char *
write_log(const char *name, int n, size_t *size)
{
    const char *p = tpath(name);
    FILE *f = fopen(p, "w");
    if (!f)
        abort();
    for (int k = 0; k < n; k++)
        fprintf(f, "u%d,i%d,1\n", k % 97, k % 31);
    long len = ftell(f);
    if (fclose(f) != 0 || len < 0)
        abort();
    *size = (size_t)len;
    return p;
}

static int
map(const char *input, const char *vocab, unsigned threads, struct seen *s)
{
    struct logspec spec;
    struct ratemap rmap;
    struct mapjob_stats st;
    struct diag d = { 0 };
    logspec_init(&spec);
    ratemap_init(&rmap);
    strcpy(spec.delim, ",");
    spec.header = 0;
    struct mapjob_opts o = {
        .vocab = vocab, .mode = MAPJOB_NEW, .max_errors = UINT64_MAX, .threads = threads,
        .spec = &spec, .rmap = &rmap, .inputs = &input, .ninputs = 1,
        .output = tpath("out.trp"), .progress = record, .progress_ctx = s,
    };
    s->n = 0;
    int rc = mapjob_run(&o, &st, &d);
    if (rc < 0)
        printf("# mapjob_run: %s\n", d.msg);
    logspec_release(&spec);
    ratemap_release(&rmap);
    return rc;
}

TEST(mapjob_reports_the_bytes_of_plain_and_gzip_logs)
{
    static struct seen s;
    size_t size;
    const char *log = write_log("log.csv", 50000, &size);
    char vocab[32];
    for (unsigned threads = 1; threads <= 2; threads++) {
        snprintf(vocab, sizeof vocab, "v%u", threads);
        T_OK(map(log, tpath(vocab), threads, &s));
        T_EQ_INT(phase(&s, 0, "bytes", size, size), s.n);
    }

    /* gzip: the compressed file's bytes */
    char *text = malloc(size);
    FILE *f = fopen(log, "r");
    T_TRUE(text && f && fread(text, 1, size, f) == size);
    fclose(f);
    const char *gz = tpath("log.csv.gz");
    gzFile z = gzopen(gz, "wb");
    T_TRUE(z && gzwrite(z, text, (unsigned)size) == (int)size && gzclose(z) == Z_OK);
    free(text);
    struct stat st;
    T_OK(stat(gz, &st));
    T_OK(map(gz, tpath("vz"), 2, &s));
    T_EQ_INT(phase(&s, 0, "bytes", (uint64_t)st.st_size, (uint64_t)st.st_size), s.n);
}

TEST(csrjob_reports_reading_sorting_and_splitting)
{
    static struct seen s;
    const char *in = tpath("in.tsv");
    FILE *f = fopen(in, "w");
    T_TRUE(f != NULL);
    for (int k = 0; k < 70000; k++) /* users 0..499, some records repeated */
        fprintf(f, "%d\t%d\t1\n", k % 500, (k * 7) % 300);
    long size = ftell(f);
    T_OK(fclose(f));
    struct csrjob_opts o = { .input = in, .output = tpath("all.csr"), .test = tpath("te.csr"),
                             .progress = record, .progress_ctx = &s };
    o.split = (struct csr_split_opts){ .mode = CSR_SPLIT_LEAVE_OUT, .count = 1, .seed = 7 };
    struct csrjob_stats st;
    struct diag d = { 0 };
    s.n = 0;
    T_OK(csrjob_run(&o, &st, &d));
    int k = phase(&s, 0, "bytes", (uint64_t)size, (uint64_t)size);
    k = k < 0 ? k : phase(&s, k, "records sorted", 70000, 70000);
    k = k < 0 ? k : phase(&s, k, "users split", 500, 500);
    T_EQ_INT(k, s.n);
}

TEST(metrics_evaluate_reports_the_users_evaluated)
{
    static struct seen s;
    static const struct ent tr[] = { { 0, 0, 1 }, { 1, 1, 1 }, { 2, 2, 1 }, { 3, 0, 1 } };
    static const struct ent te[] = { { 0, 1, 1 }, { 1, 2, 1 }, { 3, 2, 1 } };
    struct csr *train = csr_of(tr, 4, 4, 3), *test = csr_of(te, 3, 4, 3);
    const unsigned cuts[] = { 1, 2 };
    struct metrics_report r;
    struct diag d = { 0 };
    struct progress p;
    progress_init(&p, record, &s);
    s.n = 0;
    T_OK(metrics_evaluate_progress(NULL, train, test, cuts, 2, 0, 2, &r, &p, "users", &d));
    T_EQ_U64(r.users, 3);
    T_EQ_INT(phase(&s, 0, "users", 3, 3), s.n);
    csr_free(train);
    csr_free(test);
}
