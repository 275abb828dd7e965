/* SPDX-License-Identifier: MIT */
/* test_mapper: small logs mapped into indices and values worked out by hand: first-seen
 * order across files, the settled spec, named and time columns, levels and transforms,
 * frozen lookups (skipped, strict, growing users), bad records, sink errors, and the same
 * triples in the same order from one thread and from two over many batches. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mapper.h"
#include "ratemap.h"
#include "vocab.h"
#include "vocabdir.h"

#include "t.h"
#include "scratch.h"

/* A log file holding the C string text. */
static const char *
log_file(const char *name, const char *text)
{
    const char *p = tpath(name);
    if (spit(p, text, strlen(text)) < 0) {
        printf("# cannot write %s\n", p);
        exit(1);
    }
    return p;
}

/* What the callbacks saw. */
struct seen {
    size_t n, cap;
    struct triple *t;
    double *raw;
    int starts, has_time;
    size_t triples_at_start; /* triples already delivered when on_start ran */
    int bad;
    char first_bad[sizeof ((struct diag *)0)->msg];
    size_t fail_at; /* the sink fails on this record (1-based); 0: never */
};

static int
collect(void *ctx, const struct triple *t, double raw, struct diag *d)
{
    struct seen *s = ctx;
    if (s->fail_at && s->n + 1 == s->fail_at)
        return diag_set(d, ALS_EIO, "sink refuses record %zu", s->n + 1);
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->t = realloc(s->t, s->cap * sizeof *s->t);
        s->raw = realloc(s->raw, s->cap * sizeof *s->raw);
        if (!s->t || !s->raw)
            abort();
    }
    s->t[s->n] = *t;
    s->raw[s->n++] = raw;
    return 0;
}

static int
started(void *ctx, int has_time, struct diag *d)
{
    (void)d;
    struct seen *s = ctx;
    s->starts++;
    s->has_time = has_time;
    s->triples_at_start = s->n;
    return 0;
}

static void
bad_record(void *ctx, const struct diag *d)
{
    struct seen *s = ctx;
    if (s->bad++ == 0)
        snprintf(s->first_bad, sizeof s->first_bad, "%s", d->msg);
}

static void
seen_release(struct seen *s)
{
    free(s->t);
    free(s->raw);
    memset(s, 0, sizeof *s);
}

/* A fresh, writable, in-memory vocabulary directory (never saved). */
static void
vd_new(struct vocabdir *vd)
{
    vocabdir_init(vd);
    if (vocab_clear(&vd->users) < 0 || vocab_clear(&vd->items) < 0)
        abort();
}

static struct mapper_opts
opts(struct seen *s, int mode, unsigned threads)
{
    struct mapper_opts mo = { .mode = mode, .threads = threads, .on_bad = bad_record,
                              .on_start = started, .sink = collect, .ctx = s };
    return mo;
}

/* ID i of v is the C string want. */
static int
id_is(const struct vocab *v, uint64_t i, const char *want)
{
    size_t len;
    const char *p = vocab_get(v, i, &len);
    return p && len == strlen(want) && memcmp(p, want, len) == 0;
}

#define T_TRIPLE(s, k, u, i, v)                                                            \
    do {                                                                                   \
        T_TRUE((s).n > (k));                                                               \
        if ((s).n > (k)) {                                                                 \
            T_EQ_U64((s).t[k].user, u);                                                    \
            T_EQ_U64((s).t[k].item, i);                                                    \
            T_NEAR((s).t[k].value, v, 0);                                                  \
        }                                                                                  \
    } while (0)

static char want[1024];
#define WANT(...) snprintf(want, sizeof want, __VA_ARGS__)

TEST(first_seen_order_across_two_files)
{
    /* users u1 u2 u3 -> 0 1 2, items i1 i2 i3 -> 0 1 2, in the order they first appear;
     * the second file goes on numbering where the first stopped (u4 -> 3, i4 -> 3). */
    const char *a = log_file("a.csv", "u1,i1,5\nu2,i2,3\nu1,i3,4\nu3,i1,1\n");
    const char *b = log_file("b.csv", "u2,i1,2\nu4,i4,0.5\n");
    const char *in[] = { a, b };
    for (unsigned threads = 1; threads <= 2; threads++) {
        struct vocabdir vd;
        struct seen s = { 0 };
        struct mapper_stats st;
        struct diag d = { 0 };
        vd_new(&vd);
        struct mapper_opts mo = opts(&s, MAPPER_BUILD, threads);
        T_OK(mapper_run(&vd, in, 2, &mo, &st, &d));
        T_EQ_U64(s.n, 6);
        T_TRIPLE(s, 0, 0, 0, 5);
        T_TRIPLE(s, 1, 1, 1, 3);
        T_TRIPLE(s, 2, 0, 2, 4);
        T_TRIPLE(s, 3, 2, 0, 1);
        T_TRIPLE(s, 4, 1, 0, 2);
        T_TRIPLE(s, 5, 3, 3, 0.5);
        for (size_t k = 0; k < s.n; k++) /* no transforms: raw is the value */
            T_NEAR(s.raw[k], s.t[k].value, 0);
        T_EQ_U64(st.read, 6);
        T_EQ_U64(st.written, 6);
        T_EQ_U64(st.bad + st.unknown_users + st.unknown_items, 0);
        T_EQ_U64(vd.users.n, 4);
        T_EQ_U64(vd.items.n, 4);
        T_TRUE(id_is(&vd.users, 0, "u1") && id_is(&vd.users, 1, "u2"));
        T_TRUE(id_is(&vd.users, 2, "u3") && id_is(&vd.users, 3, "u4"));
        T_TRUE(id_is(&vd.items, 0, "i1") && id_is(&vd.items, 3, "i4"));
        /* on_start once, before any triple; no time column */
        T_EQ_INT(s.starts, 1);
        T_EQ_U64(s.triples_at_start, 0);
        T_EQ_INT(s.has_time, 0);
        /* the settled spec is written back: the detected delimiter, no header */
        T_EQ_STR(vd.spec.delim, ",");
        T_EQ_INT(vd.spec.header, 0);
        seen_release(&s);
        vocabdir_release(&vd);
    }
}

TEST(named_columns_with_a_time_column)
{
    /* Columns in another order, picked by header name; the time column in both forms:
     * 1000000000 s is 2001-09-09T01:46:40Z, and 86400 s after the epoch is 1970-01-02. */
    const char *p = log_file("named.tsv", "when\tstars\titem\tuser\tjunk\n"
                                          "1000000000\t4\tbook\tann\tx\n"
                                          "2001-09-09T01:46:40Z\t2\tpen\tbob\ty\n"
                                          "1970-01-02\t1\tbook\tbob\tz\n");
    const char *in[] = { p };
    struct vocabdir vd;
    struct seen s = { 0 };
    struct mapper_stats st;
    struct diag d = { 0 };
    vd_new(&vd);
    vd.spec.header = 1;
    T_OK(logspec_set_col(&vd.spec, LOG_USER, "user"));
    T_OK(logspec_set_col(&vd.spec, LOG_ITEM, "item"));
    T_OK(logspec_set_col(&vd.spec, LOG_RATING, "stars"));
    T_OK(logspec_set_col(&vd.spec, LOG_TIME, "when"));
    struct mapper_opts mo = opts(&s, MAPPER_BUILD, 1);
    T_OK(mapper_run(&vd, in, 1, &mo, &st, &d));
    T_EQ_INT(s.has_time, 1);
    T_EQ_U64(s.n, 3);
    T_TRIPLE(s, 0, 0, 0, 4); /* ann book */
    T_TRIPLE(s, 1, 1, 1, 2); /* bob pen */
    T_TRIPLE(s, 2, 1, 0, 1); /* bob book */
    if (s.n == 3) {
        T_EQ_INT(s.t[0].time, 1000000000);
        T_EQ_INT(s.t[1].time, 1000000000);
        T_EQ_INT(s.t[2].time, 86400);
    }
    T_EQ_STR(vd.spec.delim, "\t");
    T_EQ_INT(vd.spec.header, 1);
    T_TRUE(id_is(&vd.users, 0, "ann") && id_is(&vd.items, 1, "pen"));
    seen_release(&s);
    vocabdir_release(&vd);
}

TEST(levels_and_transforms_raw_before_value_after)
{
    /* Levels rank from 1: hate 1, dislike 2, like 3, love 4; a number stays a number.
     * log1p then scale:2 gives 2 * log(1 + raw); the sink sees raw before the chain. */
    const char *p = log_file("levels.csv", "a,x,love\nb,x,hate\na,y,like\nc,z,9\n");
    const char *in[] = { p };
    struct vocabdir vd;
    struct seen s = { 0 };
    struct mapper_stats st;
    struct diag d = { 0 };
    vd_new(&vd);
    T_OK(ratemap_set_levels(&vd.rmap, "hate,dislike,like,love", &d));
    T_OK(ratemap_set_transforms(&vd.rmap, "log1p,scale:2", &d));
    struct mapper_opts mo = opts(&s, MAPPER_BUILD, 1);
    T_OK(mapper_run(&vd, in, 1, &mo, &st, &d));
    const double raw[] = { 4, 1, 3, 9 };
    T_EQ_U64(s.n, 4);
    for (size_t k = 0; k < s.n && k < 4; k++) {
        T_NEAR(s.raw[k], raw[k], 0);
        T_NEAR(s.t[k].value, (float)(2 * log(1 + raw[k])), 0);
    }
    T_TRIPLE(s, 3, 2, 2, (float)(2 * log(10.0)));
    seen_release(&s);
    vocabdir_release(&vd);
}

TEST(no_rating_column_counts_one)
{
    const char *p = log_file("norating.csv", "a,x,7\nb,y,8\n");
    const char *in[] = { p };
    struct vocabdir vd;
    struct seen s = { 0 };
    struct mapper_stats st;
    struct diag d = { 0 };
    vd_new(&vd);
    T_OK(logspec_set_col(&vd.spec, LOG_RATING, "none"));
    struct mapper_opts mo = opts(&s, MAPPER_BUILD, 1);
    T_OK(mapper_run(&vd, in, 1, &mo, &st, &d));
    T_TRIPLE(s, 0, 0, 0, 1);
    T_TRIPLE(s, 1, 1, 1, 1);
    T_NEAR(s.raw[0], 1, 0);
    seen_release(&s);
    vocabdir_release(&vd);
}

/* vd with users a b and items x y from a first, building run. */
static void
vd_ab_xy(struct vocabdir *vd)
{
    const char *p = log_file("base.csv", "a,x,1\nb,y,1\n");
    const char *in[] = { p };
    struct seen s = { 0 };
    struct mapper_stats st;
    struct diag d = { 0 };
    vd_new(vd);
    struct mapper_opts mo = opts(&s, MAPPER_BUILD, 1);
    if (mapper_run(vd, in, 1, &mo, &st, &d) < 0 || vd->users.n != 2 || vd->items.n != 2) {
        printf("# base vocabulary: %s\n", d.msg);
        exit(1);
    }
    seen_release(&s);
}

TEST(frozen_skips_and_counts_unknown_ids)
{
    /* Line 1 is known; line 2 has an unknown user, line 3 an unknown item, line 4 both. */
    const char *p = log_file("frozen.csv", "b,x,2\nc,x,3\na,w,4\nc,w,5\na,y,6\n");
    const char *in[] = { p };
    for (unsigned threads = 1; threads <= 2; threads++) {
        struct vocabdir vd;
        struct seen s = { 0 };
        struct mapper_stats st;
        struct diag d = { 0 };
        vd_ab_xy(&vd);
        struct mapper_opts mo = opts(&s, MAPPER_FROZEN, threads);
        T_OK(mapper_run(&vd, in, 1, &mo, &st, &d));
        T_EQ_U64(s.n, 2);
        T_TRIPLE(s, 0, 1, 0, 2);
        T_TRIPLE(s, 1, 0, 1, 6);
        T_EQ_U64(st.read, 5);
        T_EQ_U64(st.written, 2);
        T_EQ_U64(st.unknown_users, 2);
        T_EQ_U64(st.unknown_items, 2);
        T_EQ_U64(vd.users.n, 2); /* nothing added */
        T_EQ_U64(vd.items.n, 2);
        seen_release(&s);
        vocabdir_release(&vd);
    }
}

TEST(frozen_strict_names_file_line_and_id)
{
    const char *p = log_file("strict.csv", "b,x,2\na,y,3\na,nope,4\n");
    const char *in[] = { p };
    struct vocabdir vd;
    struct seen s = { 0 };
    struct mapper_stats st;
    struct diag d = { 0 };
    vd_ab_xy(&vd);
    struct mapper_opts mo = opts(&s, MAPPER_FROZEN, 1);
    mo.strict = 1;
    T_EQ_INT(mapper_run(&vd, in, 1, &mo, &st, &d), ALS_EFORMAT);
    WANT("%s:3: unknown item 'nope' (--frozen --strict)", p);
    T_EQ_STR(d.msg, want);
    T_EQ_U64(s.n, 2); /* the records before it went out */
    seen_release(&s);
    vocabdir_release(&vd);
}

TEST(frozen_strict_hints_at_swapped_columns)
{
    /* x is an item ID in the user column, then b a user ID in the item column. */
    const char *p = log_file("swapped.csv", "b,x,2\nx,a,3\n");
    const char *q = log_file("swapped2.csv", "b,x,2\na,b,3\n");
    const char *in[] = { p }, *in2[] = { q };
    struct vocabdir vd;
    struct seen s = { 0 };
    struct mapper_stats st;
    struct diag d = { 0 };
    vd_ab_xy(&vd);
    struct mapper_opts mo = opts(&s, MAPPER_FROZEN, 1);
    mo.strict = 1;
    T_EQ_INT(mapper_run(&vd, in, 1, &mo, &st, &d), ALS_EFORMAT);
    WANT("%s:2: unknown user 'x' (--frozen --strict): 'x' is an item ID, not a user ID: "
         "swapped columns?", p);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(mapper_run(&vd, in2, 1, &mo, &st, &d), ALS_EFORMAT);
    WANT("%s:2: unknown item 'b' (--frozen --strict): 'b' is a user ID, not an item ID: "
         "swapped columns?", q);
    T_EQ_STR(d.msg, want);
    seen_release(&s);
    vocabdir_release(&vd);
}

TEST(frozen_grow_users_adds_users_not_items)
{
    /* c is a new user (index 2); item w stays unknown and its record is skipped. */
    const char *p = log_file("grow.csv", "c,y,1\nc,w,2\na,x,3\n");
    const char *in[] = { p };
    struct vocabdir vd;
    struct seen s = { 0 };
    struct mapper_stats st;
    struct diag d = { 0 };
    vd_ab_xy(&vd);
    struct mapper_opts mo = opts(&s, MAPPER_FROZEN, 1);
    mo.grow_users = 1;
    T_OK(mapper_run(&vd, in, 1, &mo, &st, &d));
    T_EQ_U64(s.n, 2);
    T_TRIPLE(s, 0, 2, 1, 1);
    T_TRIPLE(s, 1, 0, 0, 3);
    T_EQ_U64(st.unknown_users, 0);
    T_EQ_U64(st.unknown_items, 1);
    T_EQ_U64(vd.users.n, 3);
    T_EQ_U64(vd.items.n, 2);
    T_TRUE(id_is(&vd.users, 2, "c"));
    seen_release(&s);
    vocabdir_release(&vd);
}

TEST(bad_records_stop_the_run_or_are_counted)
{
    /* Line 2: a rating that is no number; line 4: a time that is no time. */
    const char *p = log_file("bad.csv", "a,x,1,10\nb,y,lots,20\nc,z,3,30\nd,w,4,never\n");
    const char *in[] = { p };
    struct vocabdir vd;
    struct seen s = { 0 };
    struct mapper_stats st;
    struct diag d = { 0 };

    vd_new(&vd);
    T_OK(logspec_set_col(&vd.spec, LOG_TIME, "4"));
    struct mapper_opts mo = opts(&s, MAPPER_BUILD, 1);
    T_EQ_INT(mapper_run(&vd, in, 1, &mo, &st, &d), ALS_EFORMAT);
    WANT("%s:2: ", p);
    T_TRUE(strncmp(d.msg, want, strlen(want)) == 0);
    T_TRUE(strstr(d.msg, "lots") != NULL);
    T_EQ_INT(s.bad, 0);
    seen_release(&s);
    vocabdir_release(&vd);

    /* skip_bad: both are reported and counted, the rest mapped (c is user 1, not 2). */
    vd_new(&vd);
    T_OK(logspec_set_col(&vd.spec, LOG_TIME, "4"));
    mo = opts(&s, MAPPER_BUILD, 2);
    mo.skip_bad = 1;
    mo.max_errors = 2;
    T_OK(mapper_run(&vd, in, 1, &mo, &st, &d));
    T_EQ_INT(s.bad, 2);
    T_EQ_U64(st.bad, 2);
    T_EQ_U64(st.read, 4);
    T_EQ_U64(st.written, 2);
    T_TRIPLE(s, 0, 0, 0, 1);
    T_TRIPLE(s, 1, 1, 1, 3);
    if (s.n == 2)
        T_EQ_INT(s.t[1].time, 30);
    T_TRUE(strncmp(s.first_bad, want, strlen(want)) == 0);
    T_EQ_U64(vd.users.n, 2);
    seen_release(&s);
    vocabdir_release(&vd);

    /* ... but not more than max_errors of them. */
    vd_new(&vd);
    T_OK(logspec_set_col(&vd.spec, LOG_TIME, "4"));
    mo = opts(&s, MAPPER_BUILD, 1);
    mo.skip_bad = 1;
    mo.max_errors = 1;
    T_EQ_INT(mapper_run(&vd, in, 1, &mo, &st, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, "more than 1 bad records; giving up");
    seen_release(&s);
    vocabdir_release(&vd);
}

TEST(a_failing_sink_stops_the_run_with_its_error)
{
    const char *p = log_file("sink.csv", "a,x,1\nb,y,2\nc,z,3\nd,w,4\n");
    const char *in[] = { p };
    for (unsigned threads = 1; threads <= 2; threads++) {
        struct vocabdir vd;
        struct seen s = { .fail_at = 3 };
        struct mapper_stats st;
        struct diag d = { 0 };
        vd_new(&vd);
        struct mapper_opts mo = opts(&s, MAPPER_BUILD, threads);
        T_EQ_INT(mapper_run(&vd, in, 1, &mo, &st, &d), ALS_EIO);
        T_EQ_STR(d.msg, "sink refuses record 3");
        T_EQ_U64(s.n, 2);
        T_EQ_U64(st.written, 2);
        seen_release(&s);
        vocabdir_release(&vd);
    }
}

TEST(missing_input_names_it)
{
    const char *in[] = { tpath("no-such.csv") };
    struct vocabdir vd;
    struct seen s = { 0 };
    struct mapper_stats st;
    struct diag d = { 0 };
    vd_new(&vd);
    struct mapper_opts mo = opts(&s, MAPPER_BUILD, 2);
    T_EQ_INT(mapper_run(&vd, in, 1, &mo, &st, &d), ALS_EIO);
    T_TRUE(strstr(d.msg, in[0]) != NULL);
    T_EQ_U64(s.n, 0);
    seen_release(&s);
    vocabdir_release(&vd);
}

/* 10000 records, more than two batches of 4096, of 700 users and 90 items drawn from a
 * fixed seed: each ID's index is its rank of first appearance, worked out here with plain
 * arrays, and the triples come in input order with either thread count. */
TEST(many_batches_keep_input_order_with_one_or_two_threads)
{
    enum { N = 10000, NU = 700, NI = 90 };
    static int uid[N], iid[N], val[N];
    int uidx[NU], iidx[NI], nu = 0, ni = 0;
    uint64_t seed = 42;
    size_t cap = (size_t)N * 24, len = 0;
    char *text = malloc(cap);
    T_TRUE(text != NULL);
    if (!text)
        return;
    for (int k = 0; k < NU; k++)
        uidx[k] = -1;
    for (int k = 0; k < NI; k++)
        iidx[k] = -1;
    for (int r = 0; r < N; r++) {
        uid[r] = (int)(rnd(&seed) % NU);
        iid[r] = (int)(rnd(&seed) % NI);
        val[r] = (int)(rnd(&seed) % 5) + 1;
        len += (size_t)snprintf(text + len, cap - len, "user-%d;item-%d;%d\n", uid[r], iid[r],
                                val[r]);
        if (uidx[uid[r]] < 0)
            uidx[uid[r]] = nu++;
        if (iidx[iid[r]] < 0)
            iidx[iid[r]] = ni++;
    }
    const char *p = tpath("many.csv");
    T_OK(spit(p, text, len));
    free(text);
    const char *in[] = { p };
    for (unsigned threads = 1; threads <= 2; threads++) {
        struct vocabdir vd;
        struct seen s = { 0 };
        struct mapper_stats st;
        struct diag d = { 0 };
        vd_new(&vd);
        struct mapper_opts mo = opts(&s, MAPPER_BUILD, threads);
        T_OK(mapper_run(&vd, in, 1, &mo, &st, &d));
        T_EQ_STR(vd.spec.delim, ";");
        T_EQ_U64(s.n, N);
        T_EQ_U64(vd.users.n, (uint64_t)nu);
        T_EQ_U64(vd.items.n, (uint64_t)ni);
        int wrong = 0;
        for (int r = 0; r < N && (size_t)r < s.n; r++)
            if (s.t[r].user != (uint32_t)uidx[uid[r]] || s.t[r].item != (uint32_t)iidx[iid[r]] ||
                s.t[r].value != (float)val[r]) {
                if (wrong++ < 3)
                    printf("#   threads %u, record %d: (%u, %u, %g)\n", threads, r,
                           s.t[r].user, s.t[r].item, (double)s.t[r].value);
            }
        T_EQ_INT(wrong, 0);
        char name[32];
        snprintf(name, sizeof name, "user-%d", uid[N - 1]);
        T_TRUE(id_is(&vd.users, (uint64_t)uidx[uid[N - 1]], name));
        seen_release(&s);
        vocabdir_release(&vd);
    }
}
