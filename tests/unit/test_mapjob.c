/* SPDX-License-Identifier: MIT */
/* test_mapjob: als-map's job on small logs: a first build, an append and a frozen run read
 * back as triples with hand-counted stats, skipped records, usage errors that leave
 * nothing behind, minmax fitting, the column note and the escaped dump. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csrjob.h"
#include "diag.h"
#include "logread.h"
#include "mapjob.h"
#include "ratemap.h"
#include "triples.h"
#include "vocabdir.h"

#include "t.h"
#include "scratch.h"

static const char log_a[] = "alice,x,5\nbob,y,3\nalice,z,4\ncarol,x,2\n";
static const char log_b[] = "dave,y,1\nbob,w,2\nalice,x,1\n";
static const char log_c[] = "alice,y,1\neve,x,2\nbob,q,3\neve,q,4\ncarol,z,5\n";

/* What the callbacks saw. */
struct seen {
    int bad, notes;
    char note[512], first_bad[512];
};

static void
count_bad(void *ctx, const struct diag *d)
{
    struct seen *s = ctx;
    if (!s->bad++)
        snprintf(s->first_bad, sizeof s->first_bad, "%s", d->msg);
}

static void
keep_note(void *ctx, const char *note)
{
    struct seen *s = ctx;
    s->notes++;
    snprintf(s->note, sizeof s->note, "%s", note);
}

/* A job on one log file holding text, with ',' as the delimiter and no header. */
struct job {
    struct mapjob_opts o;
    struct logspec spec;
    struct ratemap rmap;
    const char *input;
    struct seen seen;
};

static void
job_init(struct job *j, const char *vocab, int mode, const char *name, const char *text,
         const char *output)
{
    memset(j, 0, sizeof *j);
    logspec_init(&j->spec);
    strcpy(j->spec.delim, ",");
    j->spec.header = 0;
    ratemap_init(&j->rmap);
    j->input = tpath(name);
    if (spit(j->input, text, strlen(text)) < 0)
        abort();
    j->o = (struct mapjob_opts){
        .vocab = vocab, .mode = mode, .max_errors = UINT64_MAX, .threads = 1,
        .spec = &j->spec, .rmap = &j->rmap, .inputs = &j->input, .ninputs = 1,
        .output = output, .on_bad = count_bad, .on_note = keep_note, .ctx = &j->seen,
    };
}

static void
job_release(struct job *j)
{
    logspec_release(&j->spec);
    ratemap_release(&j->rmap);
}

/* Read the triples at path into t (at most cap); the count, or <0. */
static long
read_back(const char *path, struct triple *t, size_t cap, uint64_t *users, uint64_t *items)
{
    struct triples_reader r;
    struct diag d = { 0 };
    long n = 0;
    int rc = triples_reader_open(&r, path, &d);
    if (rc < 0)
        return rc;
    struct triple x;
    while ((rc = triples_read(&r, &x, &d)) == 1)
        if ((size_t)n < cap)
            t[n++] = x;
    *users = r.users;
    *items = r.items;
    triples_reader_close(&r);
    if (rc < 0)
        printf("# read_back: %s\n", d.msg);
    return rc < 0 ? rc : n;
}

static int
same(const struct triple *t, long n, const uint32_t (*want)[3], long nwant)
{
    if (n != nwant) {
        printf("#   %ld triples, expected %ld\n", n, nwant);
        return 0;
    }
    for (long k = 0; k < n; k++)
        if (t[k].user != want[k][0] || t[k].item != want[k][1] ||
            t[k].value != (float)want[k][2]) {
            printf("#   triple %ld: (%u, %u, %g)\n", k, t[k].user, t[k].item,
                   (double)t[k].value);
            return 0;
        }
    return 1;
}

TEST(build_append_frozen_read_back_with_hand_counted_stats)
{
    const char *dir = tpath("v"), *out = tpath("out.trp");
    struct job j;
    struct mapjob_stats st;
    struct diag d = { 0 };
    struct triple t[16];
    uint64_t users, items;

    /* First build, parsed on one thread and then on two: the same triples. */
    for (unsigned threads = 1; threads <= 2; threads++) {
        job_init(&j, dir, MAPJOB_NEW, "log_a.csv", log_a, out);
        j.o.threads = threads;
        T_OK(mapjob_run(&j.o, &st, &d));
        static const uint32_t want1[][3] = { { 0, 0, 5 }, { 1, 1, 3 }, { 0, 2, 4 }, { 2, 0, 2 } };
        T_TRUE(same(t, read_back(out, t, 16, &users, &items), want1, 4));
        T_EQ_U64(users, 3);
        T_EQ_U64(items, 3);
        T_EQ_U64(st.read, 4);
        T_EQ_U64(st.written, 4);
        T_EQ_U64(st.bad + st.unknown_users + st.unknown_items, 0);
        T_EQ_U64(st.users, 3);
        T_EQ_U64(st.items, 3);
        T_EQ_U64(st.new_users, 3);
        T_EQ_U64(st.new_items, 3);
        T_EQ_INT(j.seen.notes, 1);
        T_EQ_STR(j.seen.note, "delimiter ',', header no, columns: user 1, item 2, rating 3, "
                              "time none");
        job_release(&j);
    }

    /* Append: old indices stay, dave and w come at the end. */
    job_init(&j, dir, MAPJOB_APPEND, "log_b.csv", log_b, out);
    T_OK(mapjob_run(&j.o, &st, &d));
    static const uint32_t want2[][3] = { { 3, 1, 1 }, { 1, 3, 2 }, { 0, 0, 1 } };
    T_TRUE(same(t, read_back(out, t, 16, &users, &items), want2, 3));
    T_EQ_U64(users, 4);
    T_EQ_U64(items, 4);
    T_EQ_U64(st.read, 3);
    T_EQ_U64(st.written, 3);
    T_EQ_U64(st.new_users, 1);
    T_EQ_U64(st.new_items, 1);
    T_EQ_U64(st.users, 4);
    T_EQ_U64(st.items, 4);
    job_release(&j);

    /* The shape csrjob takes from the directory is the vocabulary's. */
    struct csrjob_opts co = { .input = out, .output = tpath("v.csr"), .vocab = dir };
    struct csrjob_stats cs;
    T_OK(csrjob_run(&co, &cs, &d));
    T_EQ_U64(cs.rows, 4);
    T_EQ_U64(cs.cols, 4);
    T_EQ_U64(cs.records, 3);

    /* Frozen: eve and q are unseen; records 2, 3 and 4 are skipped, nothing is added. */
    size_t conf_len, conf2_len;
    char conf[512];
    snprintf(conf, sizeof conf, "%s/map.conf", dir);
    unsigned char *before = slurp(conf, &conf_len);
    job_init(&j, dir, MAPJOB_FROZEN, "log_c.csv", log_c, out);
    j.o.text = 1;
    T_OK(mapjob_run(&j.o, &st, &d));
    static const uint32_t want3[][3] = { { 0, 1, 1 }, { 2, 2, 5 } };
    T_TRUE(same(t, read_back(out, t, 16, &users, &items), want3, 2));
    T_EQ_U64(st.read, 5);
    T_EQ_U64(st.written, 2);
    T_EQ_U64(st.unknown_users, 2);
    T_EQ_U64(st.unknown_items, 2);
    T_EQ_U64(st.new_users + st.new_items, 0);
    T_EQ_U64(st.users, 4);
    T_EQ_U64(st.items, 4);
    size_t len;
    unsigned char *text = slurp(out, &len);
    T_EQ_STR((char *)text, "0\t1\t1\n2\t2\t5\n");
    free(text);
    unsigned char *after = slurp(conf, &conf2_len);
    T_TRUE(before && after);
    if (before && after)
        T_EQ_MEM(after, conf2_len, before, conf_len);
    free(before);
    free(after);

    /* Frozen and strict: the first unseen ID is an error naming it. */
    j.o.strict = 1;
    T_EQ_INT(mapjob_run(&j.o, &st, &d), ALS_EFORMAT);
    T_TRUE(strstr(d.msg, ":2: unknown user 'eve' (--frozen --strict)") != NULL);
    T_EQ_INT(st.usage, 0);
    job_release(&j);
}

TEST(skipped_records_are_counted_and_too_many_fail_leaving_nothing)
{
    static const char bad[] = "u1,i1,1\nu2,,2\nu3,i3,x\nu4,i4,4\n,i5,5\n";
    const char *dir = tpath("vbad"), *out = tpath("bad.trp");
    struct job j;
    struct mapjob_stats st;
    struct diag d = { 0 };
    job_init(&j, dir, MAPJOB_NEW, "bad.csv", bad, out);
    j.o.skip_bad = 1;
    T_OK(mapjob_run(&j.o, &st, &d));
    T_EQ_U64(st.read, 5);
    T_EQ_U64(st.written, 2);
    T_EQ_U64(st.bad, 3);
    T_EQ_INT(j.seen.bad, 3);
    T_TRUE(strstr(j.seen.first_bad, "bad.csv:2: empty item ID") != NULL);
    T_EQ_U64(st.users, 2);
    job_release(&j);

    /* More than 2 bad records on a first build: an error, and no directory is left. */
    const char *dir2 = tpath("vbad2"), *out2 = tpath("bad2.trp");
    job_init(&j, dir2, MAPJOB_NEW, "bad.csv", bad, out2);
    j.o.skip_bad = 1;
    j.o.max_errors = 2;
    T_EQ_INT(mapjob_run(&j.o, &st, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, "more than 2 bad records; giving up");
    struct stat sb;
    T_TRUE(stat(dir2, &sb) != 0);
    T_TRUE(stat(out2, &sb) != 0);
    job_release(&j);
}

TEST(usage_errors_say_so_and_leave_nothing)
{
    const char *dir = tpath("vuse"), *out = tpath("use.trp");
    struct job j;
    struct mapjob_stats st;
    struct diag d = { 0 };
    struct stat sb;

    /* -r none with levels: a usage error before any record, no directory made. */
    job_init(&j, dir, MAPJOB_NEW, "log_a.csv", log_a, out);
    T_OK(logspec_set_col(&j.spec, LOG_RATING, "none"));
    T_OK(ratemap_set_levels(&j.rmap, "a,b", &d));
    j.o.levels = "a,b";
    T_EQ_INT(mapjob_run(&j.o, &st, &d), ALS_EUSAGE);
    T_EQ_INT(st.usage, 1);
    T_EQ_STR(d.msg, "--levels and --transform need a rating column, not -r none");
    T_TRUE(stat(dir, &sb) != 0);
    T_TRUE(stat(out, &sb) != 0);
    job_release(&j);

    /* A column name the log has no header for: a usage error of the log, not the options. */
    job_init(&j, dir, MAPJOB_NEW, "log_a.csv", log_a, out);
    T_OK(logspec_set_col(&j.spec, LOG_USER, "visitor"));
    T_EQ_INT(mapjob_run(&j.o, &st, &d), ALS_EUSAGE);
    T_EQ_INT(st.usage, 0);
    T_TRUE(stat(dir, &sb) != 0);
    job_release(&j);

    /* Levels that contradict a stored vocabulary (which has none). */
    job_init(&j, dir, MAPJOB_NEW, "log_a.csv", log_a, out);
    T_OK(mapjob_run(&j.o, &st, &d));
    job_release(&j);
    job_init(&j, dir, MAPJOB_APPEND, "log_b.csv", log_b, out);
    T_OK(ratemap_set_levels(&j.rmap, "lo,hi", &d));
    j.o.levels = "lo,hi";
    T_EQ_INT(mapjob_run(&j.o, &st, &d), ALS_EUSAGE);
    T_EQ_INT(st.usage, 1);
    char want[600];
    snprintf(want, sizeof want,
             "--levels 'lo,hi' contradicts the levels stored in '%s' (lowest first: (none))",
             dir);
    T_EQ_STR(d.msg, want);
    job_release(&j);
    /* ... and the vocabulary is as it was. */
    struct vocabdir vd;
    vocabdir_init(&vd);
    T_OK(vocabdir_load(&vd, dir, 0, &d));
    T_EQ_U64(vd.users.n, 3);
    T_EQ_U64(vd.items.n, 3);
    vocabdir_release(&vd);
}

TEST(minmax_is_fitted_on_the_first_build)
{
    const char *dir = tpath("vmm"), *out = tpath("mm.trp");
    struct job j;
    struct mapjob_stats st;
    struct diag d = { 0 };
    job_init(&j, dir, MAPJOB_NEW, "log_a.csv", log_a, out);
    T_OK(ratemap_set_transforms(&j.rmap, "minmax", &d));
    j.o.transform = "minmax";
    T_OK(mapjob_run(&j.o, &st, &d));
    /* Ratings 5 3 4 2: (r - 2) / 3. */
    struct triple t[8];
    uint64_t users, items;
    T_EQ_INT(read_back(out, t, 8, &users, &items), 4);
    T_NEAR((double)t[0].value, 1, 1e-7);
    T_NEAR((double)t[1].value, 1.0 / 3, 1e-7);
    T_NEAR((double)t[2].value, 2.0 / 3, 1e-7);
    T_NEAR((double)t[3].value, 0, 1e-7);
    T_EQ_U64(st.written, 4);
    job_release(&j);
    /* The fitted bounds are stored, and the given chain was taken over by the job. */
    struct vocabdir vd;
    vocabdir_init(&vd);
    T_OK(vocabdir_load(&vd, dir, 0, &d));
    char chain[128];
    ratemap_format_transforms(&vd.rmap, chain, sizeof chain);
    T_EQ_STR(chain, "minmax:2:5");
    vocabdir_release(&vd);
}

TEST(dump_escapes_ids)
{
    static const char text[] = "\"a\tb\",x,1\nback\\slash,\"line\nbreak\",2\n";
    const char *dir = tpath("vdump"), *out = tpath("dump.trp");
    struct job j;
    struct mapjob_stats st;
    struct diag d = { 0 };
    job_init(&j, dir, MAPJOB_NEW, "dump.csv", text, out);
    T_OK(mapjob_run(&j.o, &st, &d));
    job_release(&j);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    T_OK(mapjob_dump(dir, 0, f, &d));
    T_OK(mapjob_dump(dir, 1, f, &d));
    fclose(f);
    T_EQ_STR(buf, "0\ta\\tb\n1\tback\\\\slash\n0\tx\n1\tline\\nbreak\n");
    free(buf);
    f = open_memstream(&buf, &len);
    T_EQ_INT(mapjob_dump(tpath("nothing"), 0, f, &d), ALS_EIO);
    fclose(f);
    T_EQ_STR(buf, "");
    free(buf);
}

static int
kind_of(const double *v, size_t n, int levels)
{
    struct mapjob_census c = { 0 };
    for (size_t i = 0; i < n; i++)
        mapjob_census_add(&c, v[i]);
    return mapjob_values_kind(&c, levels);
}

TEST(values_are_ratings_on_a_half_star_scale_up_to_10_else_counts)
{
    const double stars[] = { 1, 5, 3, 4, 2 }, halves[] = { 0.5, 4.5, 3 },
                 tens[] = { 0, 10 }, ones[] = { 1, 1, 1 }, quarter[] = { 1, 4.25 },
                 big[] = { 3, 11 }, secs[] = { 300, 12, 45 }, neg[] = { -1, 1 };
    T_EQ_INT(kind_of(stars, 5, 0), VOCAB_VALUES_RATINGS);
    T_EQ_INT(kind_of(halves, 3, 0), VOCAB_VALUES_RATINGS);
    T_EQ_INT(kind_of(tens, 2, 0), VOCAB_VALUES_RATINGS);
    T_EQ_INT(kind_of(ones, 3, 0), VOCAB_VALUES_COUNTS); /* one value: events counted */
    T_EQ_INT(kind_of(quarter, 2, 0), VOCAB_VALUES_COUNTS);
    T_EQ_INT(kind_of(big, 2, 0), VOCAB_VALUES_COUNTS);
    T_EQ_INT(kind_of(secs, 3, 0), VOCAB_VALUES_COUNTS);
    T_EQ_INT(kind_of(neg, 2, 0), VOCAB_VALUES_COUNTS);
    T_EQ_INT(kind_of(NULL, 0, 0), VOCAB_VALUES_UNKNOWN);
    T_EQ_INT(kind_of(secs, 3, 1), VOCAB_VALUES_RATINGS); /* ordinal levels are ratings */
}
