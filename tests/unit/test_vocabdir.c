/* SPDX-License-Identifier: MIT */
/* test_vocabdir: map.conf round trips (quoting, levels, fitted transforms), generations and
 * their cleanup, directory probing, and the errors of a hand-edited map.conf. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "afile.h"
#include "diag.h"
#include "ratemap.h"
#include "vocab.h"
#include "vocabdir.h"

#include "t.h"
#include "scratch.h"

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted, joined by ' ' (without . and ..). */
static const char *
listing(const char *dir)
{
    static char out[1024];
    char *names[64];
    int n = 0;
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return "(no directory)";
    for (struct dirent *e; (e = readdir(d)) && n < 64;)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(out, " ");
        strncat(out, names[i], sizeof out - strlen(out) - 2);
        free(names[i]);
    }
    return out;
}

static char want[1024];
#define WANT(...) snprintf(want, sizeof want, __VA_ARGS__)

/* ---- a vocabulary directory to save ---- */

static const char *const users[] = { "alice", "bob", "18446744073709551616" };
static const char *const items[] = { "x1", "x2", "x3", "x4" };

/* Labels that need every kind of quoting in map.conf; the last holds a control byte
 * (a NUL is refused: a log field never holds one). */
static const char *const labels[] = { "a\"b", "c\\d", "tab\there", "nl\nx", "cr\rx",
                                      "sp ace", "x,y", "\x01\x7f", "caf\xc3\xa9", "#hash",
                                      "n\002ul" };
static const size_t label_len[] = { 3, 3, 8, 4, 4, 6, 3, 2, 5, 5, 4 };
enum { NLABELS = sizeof labels / sizeof labels[0] };

static void
fill(struct vocabdir *v, const char *path)
{
    struct diag d;
    uint32_t idx;
    int added;
    vocabdir_init(v);
    v->path = strdup(path);
    if (vocab_clear(&v->users) < 0 || vocab_clear(&v->items) < 0)
        exit(1);
    for (int i = 0; i < 3; i++)
        if (vocab_intern(&v->users, users[i], strlen(users[i]), &idx, &added, &d) < 0)
            exit(1);
    for (int i = 0; i < 4; i++)
        if (vocab_intern(&v->items, items[i], strlen(items[i]), &idx, &added, &d) < 0)
            exit(1);
    strcpy(v->spec.delim, "\t");
    v->spec.header = 1;
    if (logspec_set_col(&v->spec, LOG_USER, "user \"id\"") < 0 ||
        logspec_set_col(&v->spec, LOG_ITEM, "it\\em\\") < 0 ||
        logspec_set_col(&v->spec, LOG_RATING, "sc ore") < 0)
        exit(1);
    for (int i = 0; i < NLABELS; i++)
        if (ratemap_add_level(&v->rmap, labels[i], label_len[i], &d) < 0)
            exit(1);
    /* log1p then minmax, fitted on values whose bounds have long decimal expansions. */
    static const double vals[] = { 0.1, 1.0 / 3.0, 2.7 };
    if (ratemap_set_transforms(&v->rmap, "log1p,minmax,clip:0:1", &d) < 0)
        exit(1);
    ratemap_fit(&v->rmap, vals, 3);
}

TEST(save_then_load_round_trip)
{
    const char *dir = tpath("rt");
    struct vocabdir v, w;
    struct diag d;
    fill(&v, dir);
    T_OK(vocabdir_save(&v, &d));
    T_EQ_U64(v.generation, 1);
    T_EQ_STR(listing(dir), "items.1.vocab map.conf users.1.vocab");

    vocabdir_init(&w);
    T_OK(vocabdir_load(&w, dir, AFILE_VERIFY, &d));
    T_EQ_STR(w.path, dir);
    T_EQ_U64(w.generation, 1);
    /* The log format. */
    T_EQ_STR(w.spec.delim, "\t");
    T_EQ_INT(w.spec.header, 1);
    T_EQ_STR(w.spec.col[LOG_USER], "user \"id\"");
    T_EQ_STR(w.spec.col[LOG_ITEM], "it\\em\\");
    T_EQ_STR(w.spec.col[LOG_RATING], "sc ore");
    T_TRUE(w.spec.col[LOG_TIME] == NULL);
    /* The levels, byte for byte, in order. */
    T_EQ_U64(w.rmap.nlevels, NLABELS);
    for (unsigned i = 0; i < w.rmap.nlevels && i < NLABELS; i++)
        T_EQ_MEM(w.rmap.levels[i], w.rmap.level_len[i], labels[i], label_len[i]);
    /* The chain, with the fitted bounds bit for bit. */
    T_EQ_U64(w.rmap.nsteps, 3);
    T_EQ_INT(ratemap_needs_fit(&w.rmap), 0);
    for (unsigned i = 0; i < 3; i++) {
        T_EQ_INT(w.rmap.step[i].op, v.rmap.step[i].op);
        T_EQ_MEM(&w.rmap.step[i].a, sizeof(double), &v.rmap.step[i].a, sizeof(double));
        T_EQ_MEM(&w.rmap.step[i].b, sizeof(double), &v.rmap.step[i].b, sizeof(double));
    }
    volatile double lo = 0.1, hi = 2.7;
    T_TRUE(w.rmap.step[1].a == log1p(lo) && w.rmap.step[1].b == log1p(hi));
    T_TRUE(ratemap_equal(&v.rmap, &w.rmap));
    /* The vocabularies, mmapped. */
    T_EQ_U64(w.users.n, 3);
    T_EQ_U64(w.items.n, 4);
    uint32_t idx = 99;
    T_EQ_INT(vocab_find(&w.users, "18446744073709551616", 20, &idx), 1);
    T_EQ_U64(idx, 2);
    T_EQ_INT(vocab_find(&w.items, "x4", 2, &idx), 1);
    T_EQ_U64(idx, 3);
    T_EQ_INT(vocab_find(&w.items, "x5", 2, &idx), 0);
    vocabdir_release(&w);
    vocabdir_release(&v);
}

TEST(delimiters_and_header_round_trip)
{
    static const char *const delims[] = { ",", "::", "|", ";", " ", "12345678", "\t|\t" };
    for (size_t k = 0; k < sizeof delims / sizeof delims[0]; k++) {
        const char *dir = tpath("delims");
        struct vocabdir v, w;
        struct diag d;
        fill(&v, dir);
        strcpy(v.spec.delim, delims[k]);
        v.spec.header = (int)(k & 1);
        T_OK(vocabdir_save(&v, &d));
        vocabdir_init(&w);
        T_OK(vocabdir_load(&w, dir, 0, &d));
        T_EQ_STR(w.spec.delim, delims[k]);
        T_EQ_INT(w.spec.header, (int)(k & 1));
        vocabdir_release(&w);
        vocabdir_release(&v);
    }
}

TEST(unsettled_format_round_trip)
{
    /* Every log so far was empty: no delimiter and no header decision yet. Both stay
     * undecided through save and load. */
    const char *dir = tpath("unsettled");
    struct vocabdir v, w;
    struct diag d;
    fill(&v, dir);
    v.spec.delim[0] = '\0';
    v.spec.header = -1;
    T_OK(vocabdir_save(&v, &d));
    vocabdir_init(&w);
    T_OK(vocabdir_load(&w, dir, 0, &d));
    T_EQ_STR(w.spec.delim, "");
    T_EQ_INT(w.spec.header, -1);
    T_EQ_STR(w.spec.col[LOG_USER], "user \"id\"");
    vocabdir_release(&w);
    vocabdir_release(&v);
}

TEST(unfitted_and_no_transforms)
{
    const char *dir = tpath("nofit");
    struct vocabdir v, w;
    struct diag d;
    fill(&v, dir);
    ratemap_release(&v.rmap); /* no levels, no chain */
    T_OK(vocabdir_save(&v, &d));
    vocabdir_init(&w);
    T_OK(vocabdir_load(&w, dir, 0, &d));
    T_EQ_U64(w.rmap.nlevels, 0);
    T_EQ_U64(w.rmap.nsteps, 0);
    vocabdir_release(&w);

    /* scale:0.1 is not exactly 0.1: %.17g must still give the same double back. */
    T_OK(ratemap_set_transforms(&v.rmap, "scale:0.1,binary", &d));
    T_OK(vocabdir_save(&v, &d));
    vocabdir_init(&w);
    T_OK(vocabdir_load(&w, dir, 0, &d));
    T_EQ_U64(w.rmap.nsteps, 2);
    T_TRUE(w.rmap.step[0].a == 0.1);
    T_TRUE(ratemap_equal(&v.rmap, &w.rmap));
    vocabdir_release(&w);
    vocabdir_release(&v);
}

TEST(generations_increase_and_old_files_go)
{
    const char *dir = tpath("gen");
    struct vocabdir v, w;
    struct diag d;
    fill(&v, dir);
    T_OK(vocabdir_save(&v, &d));
    T_EQ_U64(v.generation, 1);
    T_OK(vocabdir_save(&v, &d));
    T_EQ_U64(v.generation, 2);
    T_EQ_STR(listing(dir), "items.2.vocab map.conf users.2.vocab");

    /* Leftovers of killed runs go; unrelated files stay. */
    char p[600];
    snprintf(p, sizeof p, "%s/map.conf.Ab12Cd", dir);
    T_OK(spit(p, "x", 1));
    snprintf(p, sizeof p, "%s/users.1.vocab.Zz99Yy", dir);
    T_OK(spit(p, "x", 1));
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    T_OK(spit(p, "keep me", 7));
    T_OK(vocabdir_save(&v, &d));
    T_EQ_U64(v.generation, 3);
    T_EQ_STR(listing(dir), "items.3.vocab map.conf notes.txt users.3.vocab");

    /* A higher generation already on disk is never reused: the next one is above it. */
    snprintf(p, sizeof p, "%s/items.7.vocab", dir);
    T_OK(spit(p, "stale", 5));
    T_OK(vocabdir_save(&v, &d));
    T_EQ_U64(v.generation, 8);
    T_EQ_STR(listing(dir), "items.8.vocab map.conf notes.txt users.8.vocab");

    /* Load, grow, save: the generation continues from the loaded one. */
    vocabdir_init(&w);
    T_OK(vocabdir_load(&w, dir, 0, &d));
    T_EQ_U64(w.generation, 8);
    T_OK(vocab_make_writable(&w.users, &d));
    uint32_t idx;
    int added;
    T_OK(vocab_intern(&w.users, "carol", 5, &idx, &added, &d));
    T_EQ_U64(idx, 3);
    T_OK(vocabdir_save(&w, &d));
    T_EQ_U64(w.generation, 9);
    vocabdir_release(&w);
    vocabdir_init(&w);
    T_OK(vocabdir_load(&w, dir, AFILE_VERIFY, &d));
    T_EQ_U64(w.users.n, 4);
    T_EQ_INT(vocab_find(&w.users, "carol", 5, &idx), 1);
    T_EQ_U64(idx, 3);
    T_EQ_INT(vocab_find(&w.users, "alice", 5, &idx), 1);
    T_EQ_U64(idx, 0);
    vocabdir_release(&w);
    vocabdir_release(&v);
    T_EQ_STR(listing(dir), "items.9.vocab map.conf notes.txt users.9.vocab");
}

TEST(probe_states)
{
    struct diag d;
    int state = -1;
    const char *absent = tpath("probe-absent");
    T_OK(vocabdir_probe(absent, &state, &d));
    T_EQ_INT(state, VOCABDIR_ABSENT);

    const char *empty = tpath("probe-empty");
    T_OK(mkdir(empty, 0777));
    state = -1;
    T_OK(vocabdir_probe(empty, &state, &d));
    T_EQ_INT(state, VOCABDIR_EMPTY);

    /* A directory holding only the lock file counts as empty. */
    char p[600];
    snprintf(p, sizeof p, "%s/.lock", empty);
    T_OK(spit(p, "", 0));
    state = -1;
    T_OK(vocabdir_probe(empty, &state, &d));
    T_EQ_INT(state, VOCABDIR_EMPTY);

    const char *present = tpath("probe-present");
    struct vocabdir v;
    fill(&v, present);
    T_OK(vocabdir_save(&v, &d));
    vocabdir_release(&v);
    state = -1;
    T_OK(vocabdir_probe(present, &state, &d));
    T_EQ_INT(state, VOCABDIR_PRESENT);

    /* Something else: refused. */
    const char *other = tpath("probe-other");
    T_OK(mkdir(other, 0777));
    snprintf(p, sizeof p, "%s/data.csv", other);
    T_OK(spit(p, "u,i\n", 4));
    T_EQ_INT(vocabdir_probe(other, &state, &d), ALS_EUSAGE);
    WANT("'%s' is not empty and holds no vocabulary (map.conf missing); refusing to use it",
         other);
    T_EQ_STR(d.msg, want);

    const char *file = tpath("probe-file");
    T_OK(spit(file, "x", 1));
    T_EQ_INT(vocabdir_probe(file, &state, &d), ALS_EUSAGE);
    WANT("'%s' is not a directory", file);
    T_EQ_STR(d.msg, want);
}

TEST(lock_and_abandon)
{
    const char *dir = tpath("locked");
    struct vocabdir v;
    struct diag d;
    int state = -1;
    vocabdir_init(&v);
    T_OK(vocabdir_lock(&v, dir, &d));
    T_EQ_INT(v.made_dir, 1);
    T_EQ_INT(v.made_lock, 1);
    T_TRUE(v.lock_fd >= 0);
    T_EQ_STR(listing(dir), ".lock");
    T_OK(vocabdir_probe(dir, &state, &d));
    T_EQ_INT(state, VOCABDIR_EMPTY);
    /* A failed run leaves the file system as it was. */
    vocabdir_abandon(&v, dir);
    vocabdir_release(&v);
    T_OK(vocabdir_probe(dir, &state, &d));
    T_EQ_INT(state, VOCABDIR_ABSENT);

    /* Abandon never removes what the run did not create. */
    T_OK(mkdir(dir, 0777));
    vocabdir_init(&v);
    T_OK(vocabdir_lock(&v, dir, &d));
    T_EQ_INT(v.made_dir, 0);
    vocabdir_release(&v);
    vocabdir_init(&v);
    T_OK(vocabdir_lock(&v, dir, &d));
    T_EQ_INT(v.made_lock, 0);
    vocabdir_abandon(&v, dir);
    vocabdir_release(&v);
    T_EQ_STR(listing(dir), ".lock");
}

/* Write map.conf into dir (created if needed) and load it. */
static int
load_conf(const char *dir, const char *conf, struct diag *d)
{
    char p[600];
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/map.conf", dir);
    if (spit(p, conf, strlen(conf)) < 0)
        return -999;
    struct vocabdir v;
    vocabdir_init(&v);
    memset(d, 0, sizeof *d);
    int rc = vocabdir_load(&v, dir, 0, d);
    vocabdir_release(&v);
    return rc;
}

TEST(future_format_version)
{
    const char *dir = tpath("v2");
    struct diag d;
    T_EQ_INT(load_conf(dir, "# written by a newer als\nals-vocab 2\ngeneration 1\n", &d),
             ALS_EVERSION);
    WANT("%s/map.conf: vocabulary format 2, this program reads up to 1 (upgrade als)", dir);
    T_EQ_STR(d.msg, want);
}

TEST(malformed_lines)
{
    static const struct { const char *conf; int line; } bad[] = {
        { "als-vocab x\n", 1 },
        { "als-vocab 0\n", 1 },
        { "als-vocab 1\nnovalue\n", 2 },
        { "als-vocab 1\ngeneration x\n", 2 },
        { "als-vocab 1\ngeneration -1\n", 2 },
        { "# comment\n\nals-vocab 1\nheader maybe\n", 4 },
        { "als-vocab 1\ndelimiter tab\n", 2 },
        { "als-vocab 1\ndelimiter \"\"\n", 2 },
        { "als-vocab 1\ndelimiter \"123456789\"\n", 2 },
        { "als-vocab 1\ndelimiter \"a\n", 2 },
        { "als-vocab 1\nlevel \"a\"\nlevel \"a\"\n", 3 },
        { "als-vocab 1\nlevel \"\"\n", 2 },
        { "als-vocab 1\nlevel \"bad\\q\"\n", 2 },
        { "als-vocab 1\nlevel \"\\x4\"\n", 2 },
        { "als-vocab 1\nlevel \"\\xzz\"\n", 2 },
        { "als-vocab 1\nlevel \"ends in backslash\\\"\n", 2 },
        { "als-vocab 1\ntransform \"bogus\"\n", 2 },
        { "als-vocab 1\ntransform log1p\n", 2 },
        { "als-vocab 1\nusers ../x.vocab 3\n", 2 },
        { "als-vocab 1\nusers users.1.vocab\n", 2 },
        { "als-vocab 1\nitems items.1.vocab many\n", 2 },
        { "als-vocab 1\nuser-column unquoted\n", 2 },
        { "als-vocab 1\ntime-column \"\"\n", 2 },
    };
    const char *dir = tpath("bad");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct diag d;
        int rc = load_conf(dir, bad[i].conf, &d);
        WANT("%s/map.conf:%d: malformed line", dir, bad[i].line);
        if (rc != ALS_EFORMAT || strcmp(d.msg, want) != 0)
            printf("#   case %zu: %d '%s'\n", i, rc, d.msg);
        T_EQ_INT(rc, ALS_EFORMAT);
        T_EQ_STR(d.msg, want);
    }
}

/* What a command-line option would refuse as a usage error is damage when map.conf holds
 * it: the directory's fault, said with its line. */
TEST(stored_values_options_refuse)
{
    static const struct { const char *conf, *msg; int line; } bad[] = {
        { "als-vocab 1\nitem-column \"0\"\n", "item-column 0 is out of range (1-64)", 2 },
        { "als-vocab 1\n\nuser-column \"65\"\n", "user-column 65 is out of range (1-64)", 3 },
        { "als-vocab 1\ndelimiter \",\\\"\"\n", "delimiter with a quote or line break", 2 },
        { "als-vocab 1\ndelimiter \"\\n\"\n", "delimiter with a quote or line break", 2 },
    };
    const char *dir = tpath("stored");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct diag d;
        int rc = load_conf(dir, bad[i].conf, &d);
        WANT("%s/map.conf:%d: %s", dir, bad[i].line, bad[i].msg);
        if (rc != ALS_EFORMAT || strcmp(d.msg, want) != 0)
            printf("#   case %zu: %d '%s'\n", i, rc, d.msg);
        T_EQ_INT(rc, ALS_EFORMAT);
        T_EQ_STR(d.msg, want);
    }
    /* a name and an in-range number pass: only the missing users and items lines fail */
    struct diag d;
    T_EQ_INT(load_conf(dir, "als-vocab 1\nuser-column \"64\"\nitem-column \"0x\"\n", &d),
             ALS_EFORMAT);
    WANT("%s/map.conf: incomplete vocabulary description", dir);
    T_EQ_STR(d.msg, want);
}

TEST(incomplete_and_inconsistent)
{
    const char *dir = tpath("incomplete");
    struct diag d;
    T_EQ_INT(load_conf(dir, "als-vocab 1\ngeneration 1\n", &d), ALS_EFORMAT);
    WANT("%s/map.conf: incomplete vocabulary description", dir);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(load_conf(dir, "generation 1\nusers u.vocab 0\nitems i.vocab 0\n", &d),
             ALS_EFORMAT);
    T_EQ_STR(d.msg, want);

    /* A saved directory, then map.conf edited by hand. */
    const char *good = tpath("edited");
    struct vocabdir v;
    fill(&v, good);
    T_OK(vocabdir_save(&v, &d));
    vocabdir_release(&v);
    static const char head[] = "als-vocab 1\ngeneration 1\n";
    char conf[512];

    /* Unknown keys from a newer minor version are ignored. */
    snprintf(conf, sizeof conf, "%sfuture-key \"anything\"\nusers users.1.vocab 3\n"
             "items items.1.vocab 4\n", head);
    T_OK(load_conf(good, conf, &d));

    /* Counts that disagree with the files. */
    snprintf(conf, sizeof conf, "%susers users.1.vocab 2\nitems items.1.vocab 4\n", head);
    T_EQ_INT(load_conf(good, conf, &d), ALS_EFORMAT);
    WANT("%s: vocabulary sizes disagree with map.conf", good);
    T_EQ_STR(d.msg, want);

    /* A vocabulary file that is missing. */
    snprintf(conf, sizeof conf, "%susers users.9.vocab 3\nitems items.1.vocab 4\n", head);
    T_EQ_INT(load_conf(good, conf, &d), ALS_EIO);

    /* No map.conf at all. */
    struct vocabdir w;
    vocabdir_init(&w);
    T_EQ_INT(vocabdir_load(&w, tpath("nothing-here"), 0, &d), ALS_EIO);
    vocabdir_release(&w);
}
