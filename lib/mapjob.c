/* SPDX-License-Identifier: MIT */
/* mapjob: the work of als-map: lock, load, map, write and commit, or dump a vocabulary. */
#include "mapjob.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "csv.h"
#include "mapper.h"
#include "progress.h"
#include "triples.h"
#include "vocabdir.h"
#include "xmem.h"
#include "zio.h"

/* Records buffered until a minmax transform is fitted (first build only). */
struct pending {
    struct triple *t;
    double *raw;
    size_t n, cap_t, cap_raw;
};

/* What the mapper's callbacks need. */
struct sink {
    const struct mapjob_opts *o;
    struct vocabdir *vd;
    struct triples_writer tw;
    struct zio_out *out;
    int fitting;
    struct pending pend;
    struct mapjob_census census;
};

void
mapjob_census_add(struct mapjob_census *c, double raw)
{
    c->n++;
    double h = raw * 2.0;
    if (!(h >= 0.0 && h <= 20.0) || h != floor(h))
        c->off_scale = 1;
    else
        c->seen |= 1u << (unsigned)h;
}

int
mapjob_values_kind(const struct mapjob_census *c, int has_levels)
{
    if (has_levels)
        return VOCAB_VALUES_RATINGS;
    if (!c->n)
        return VOCAB_VALUES_UNKNOWN;
    /* One value throughout (all 1, say) is a count of events, not a scale. */
    int several = (c->seen & (c->seen - 1)) != 0;
    return !c->off_scale && several ? VOCAB_VALUES_RATINGS : VOCAB_VALUES_COUNTS;
}

static int
levels_equal(const struct ratemap *a, const struct ratemap *b)
{
    if (a->nlevels != b->nlevels)
        return 0;
    for (unsigned i = 0; i < a->nlevels; i++)
        if (a->level_len[i] != b->level_len[i] ||
            memcmp(a->levels[i], b->levels[i], a->level_len[i]) != 0)
            return 0;
    return 1;
}

/* "hate,dislike,like" into buf (for messages; cut when long) */
static const char *
levels_text(const struct ratemap *m, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < m->nlevels && n + 2 < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? "," : "", m->levels[i]);
    return m->nlevels ? buf : "(none)";
}

/* Command-line reading options override the stored ones; rating semantics must agree. */
static int
merge_settings(struct vocabdir *vd, const struct mapjob_opts *o, struct mapjob_stats *st,
               struct diag *d)
{
    const struct logspec *spec = o->spec;
    const struct ratemap *given = o->rmap;
    if (spec->delim[0])
        memcpy(vd->spec.delim, spec->delim, sizeof vd->spec.delim);
    if (spec->header >= 0)
        vd->spec.header = spec->header;
    for (int c = 0; c < LOG_NCOLS; c++) {
        if (!spec->col[c])
            continue;
        int stored_none = c == LOG_RATING && vd->spec.col[c] && !strcmp(vd->spec.col[c], "none");
        int given_none = c == LOG_RATING && !strcmp(spec->col[c], "none");
        if (c == LOG_RATING && vd->spec.col[c] && stored_none != given_none) {
            st->usage = 1;
            return diag_set(d, ALS_EUSAGE, "-r %s contradicts the vocabulary, whose ratings %s",
                            spec->col[c], stored_none ? "are 'none' (every record counts 1)"
                                                      : "come from a column");
        }
        if (logspec_set_col(&vd->spec, c, spec->col[c]) < 0)
            return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    if (o->values && vd->values && o->values != vd->values) {
        st->usage = 1;
        return diag_set(d, ALS_EUSAGE, "--values %s contradicts the vocabulary '%s', whose "
                        "values are %s", vocab_values_names[o->values], o->vocab,
                        vocab_values_names[vd->values]);
    }
    if ((o->levels || o->transform) && !ratemap_equal(given, &vd->rmap)) {
        st->usage = 1;
        if (o->levels && !levels_equal(given, &vd->rmap)) {
            char lv[512];
            return diag_set(d, ALS_EUSAGE, "--levels '%s' contradicts the levels stored in "
                            "'%s' (lowest first: %s)", o->levels, o->vocab,
                            levels_text(&vd->rmap, lv, sizeof lv));
        }
        char a[1024], b[1024];
        ratemap_format_transforms(given, a, sizeof a);
        ratemap_format_transforms(&vd->rmap, b, sizeof b);
        return diag_set(d, ALS_EUSAGE, "--transform '%s' contradicts '%s' stored in '%s'", a,
                        b[0] ? b : "(none)", o->vocab);
    }
    return 0;
}

static void
on_bad(void *ctx, const struct diag *d)
{
    struct sink *k = ctx;
    if (k->o->on_bad)
        k->o->on_bad(k->o->ctx, d);
}

static int
on_start(void *ctx, int has_time, struct diag *d)
{
    struct sink *k = ctx;
    const struct logspec *s = &k->vd->spec;
    int no_rating = !s->col[LOG_RATING] || !strcmp(s->col[LOG_RATING], "none");
    if (no_rating && (k->vd->rmap.nlevels || k->vd->rmap.nsteps))
        return diag_set(d, ALS_EUSAGE, "--levels and --transform need a rating column, and "
                        "this log has none (give -r COL)");
    if (k->o->on_note) {
        /* Column names can be of any length: the note is as long as it needs to be. */
        static const char fmt[] = "delimiter '%s', header %s, columns: user %s, item %s, "
                                  "rating %s, time %s";
        const char *delim = strcmp(s->delim, "\t") ? s->delim : "\\t";
        const char *header = s->header > 0 ? "yes" : "no";
        const char *rating = s->col[LOG_RATING] ? s->col[LOG_RATING] : "none";
        const char *time = s->col[LOG_TIME] ? s->col[LOG_TIME] : "none";
        int n = snprintf(NULL, 0, fmt, delim, header, s->col[LOG_USER], s->col[LOG_ITEM],
                         rating, time);
        char *note = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (!note)
            return diag_set(d, ALS_ENOMEM, "out of memory");
        snprintf(note, (size_t)n + 1, fmt, delim, header, s->col[LOG_USER], s->col[LOG_ITEM],
                 rating, time);
        k->o->on_note(k->o->ctx, note);
        free(note);
    }
    return triples_writer_start(&k->tw, k->out, has_time, k->o->text, d);
}

static int
on_triple(void *ctx, const struct triple *t, double raw, struct diag *d)
{
    struct sink *k = ctx;
    mapjob_census_add(&k->census, raw);
    if (!k->fitting)
        return triples_put(&k->tw, t, d);
    struct pending *p = &k->pend;
    if (xmem_grow((void **)&p->t, &p->cap_t, p->n + 1, sizeof *p->t) < 0 ||
        xmem_grow((void **)&p->raw, &p->cap_raw, p->n + 1, sizeof *p->raw) < 0)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    p->t[p->n] = *t;
    p->raw[p->n++] = raw;
    return 0;
}

/* minmax is fitted on everything read, then the buffered records go out. */
static int
flush_pending(struct sink *k, struct diag *d)
{
    struct pending *p = &k->pend;
    ratemap_fit(&k->vd->rmap, p->raw, p->n);
    k->fitting = 0;
    int rc = 0;
    for (size_t i = 0; i < p->n && rc >= 0; i++) {
        double v;
        struct triple t = p->t[i];
        if ((rc = ratemap_apply(&k->vd->rmap, p->raw[i], &v, d)) >= 0) {
            t.value = (float)v;
            rc = triples_put(&k->tw, &t, d);
        }
    }
    return rc;
}

/* The vocabulary to map with: loaded and merged with the command line, or a new one
 * with the command line's settings. */
static int
prepare(struct vocabdir *vd, const struct mapjob_opts *o, struct mapjob_stats *st,
        struct diag *d)
{
    int rc;
    if (o->mode != MAPJOB_NEW) {
        if ((rc = vocabdir_load(vd, o->vocab, AFILE_VERIFY, d)) < 0)
            return rc;
        if ((rc = merge_settings(vd, o, st, d)) < 0)
            return rc;
        if (o->mode == MAPJOB_APPEND && ((rc = vocab_make_writable(&vd->users, d)) < 0 ||
                                         (rc = vocab_make_writable(&vd->items, d)) < 0))
            return rc;
    } else {
        vd->path = strdup(o->vocab);
        if (!vd->path || logspec_copy(&vd->spec, o->spec) < 0 || vocab_clear(&vd->users) < 0 ||
            vocab_clear(&vd->items) < 0)
            return diag_set(d, ALS_ENOMEM, "out of memory");
        vd->rmap = *o->rmap;
        ratemap_init(o->rmap);
    }
    if (o->spec->col[LOG_RATING] && !strcmp(o->spec->col[LOG_RATING], "none") &&
        (vd->rmap.nlevels || vd->rmap.nsteps)) {
        st->usage = 1;
        return diag_set(d, ALS_EUSAGE, "--levels and --transform need a rating column, not "
                        "-r none");
    }
    return 0;
}

int
mapjob_run(const struct mapjob_opts *o, struct mapjob_stats *st, struct diag *d)
{
    struct vocabdir vd;
    struct zio_out out;
    struct sink k = { .o = o, .vd = &vd, .out = &out };
    struct mapper_opts mo = {
        .mode = o->mode == MAPJOB_FROZEN ? MAPPER_FROZEN : MAPPER_BUILD,
        .strict = o->strict,
        .skip_bad = o->skip_bad,
        .max_errors = o->max_errors,
        .threads = o->threads,
        .on_bad = on_bad,
        .on_start = on_start,
        .sink = on_triple,
        .ctx = &k,
    };
    struct progress pr;
    progress_init(&pr, o->progress, o->progress_ctx);
    mo.progress = &pr;
    struct mapper_stats ms;
    uint64_t users0, items0;
    int out_open = 0, rc;

    memset(st, 0, sizeof *st);
    /* Replacing a log with its own triples would lose it. */
    if ((rc = zio_check_distinct(&o->output, 1, o->inputs, (size_t)o->ninputs, d)) < 0)
        return rc;
    vocabdir_init(&vd);
    /* A failed lock leaves what it made: the directory is removed only once it is ours. */
    if (o->mode != MAPJOB_FROZEN && (rc = vocabdir_lock(&vd, o->vocab, d)) < 0) {
        vocabdir_release(&vd);
        return rc;
    }
    if ((rc = prepare(&vd, o, st, d)) < 0)
        goto out;
    k.fitting = ratemap_needs_fit(&vd.rmap);
    users0 = vd.users.n;
    items0 = vd.items.n;
    if ((rc = zio_out_open(&out, o->output, d)) < 0)
        goto out;
    out_open = 1;
    rc = mapper_run(&vd, o->inputs, o->ninputs, &mo, &ms, d);
    if (rc >= 0 && k.fitting)
        rc = flush_pending(&k, d);
    if (rc >= 0 && !vd.values) {
        const char *rcol = vd.spec.col[LOG_RATING];
        if (o->values)
            vd.values = o->values;
        else if (k.census.n && (!rcol || !strcmp(rcol, "none")))
            vd.values = VOCAB_VALUES_EVENTS;
        else
            vd.values = mapjob_values_kind(&k.census, vd.rmap.nlevels > 0);
    }
    if (rc >= 0)
        rc = triples_writer_finish(&k.tw, vd.users.n, vd.items.n, d);
    /* The vocabulary commits before the output: triples never name indices that the
     * directory does not have. */
    if (rc >= 0 && o->mode != MAPJOB_FROZEN)
        rc = vocabdir_save(&vd, d);
    if (rc >= 0)
        rc = zio_out_commit(&out, d);
    if (rc >= 0) {
        st->read = ms.read;
        st->written = ms.written;
        st->bad = ms.bad;
        st->unknown_users = ms.unknown_users;
        st->unknown_items = ms.unknown_items;
        st->users = vd.users.n;
        st->items = vd.items.n;
        st->new_users = vd.users.n - users0;
        st->new_items = vd.items.n - items0;
        st->values = vd.values;
    }
out:
    free(k.pend.t);
    free(k.pend.raw);
    triples_writer_release(&k.tw);
    if (out_open)
        zio_out_abort(&out);
    /* Remove the lock file and directory this run made (a directory that a successful
     * vocabdir_save filled stays: rmdir refuses it). */
    if (rc < 0)
        vocabdir_abandon(&vd, o->vocab);
    vocabdir_release(&vd);
    return rc;
}

int
mapjob_dump(const char *vocab, int items, FILE *out, struct diag *d)
{
    struct vocabdir vd;
    const struct vocab *v;
    char *esc = NULL;
    size_t esc_cap = 0;
    int rc;

    vocabdir_init(&vd);
    /* Every checksum before the first line: a damaged body would otherwise be printed as
     * if valid, and half a dump is worse than none. */
    if ((rc = vocabdir_load(&vd, vocab, AFILE_VERIFY, d)) < 0)
        goto out;
    v = items ? &vd.items : &vd.users;
    for (uint64_t i = 0; i < v->n; i++) {
        size_t len, need;
        const char *id = vocab_get(v, i, &len);
        if (!id) {
            rc = diag_set(d, ALS_EFORMAT, "'%s': damaged vocabulary at index %llu", vocab,
                          (unsigned long long)i);
            goto out;
        }
        /* csv_escape_tsv needs room for 4 bytes per byte (\xHH). */
        if (xmem_mul(len + 1, 4, &need) < 0 || xmem_grow((void **)&esc, &esc_cap, need, 1) < 0) {
            rc = diag_set(d, ALS_ENOMEM, "out of memory");
            goto out;
        }
        size_t n = csv_escape_tsv(id, len, esc);
        fprintf(out, "%llu\t%.*s\n", (unsigned long long)i, (int)n, esc);
    }
out:
    free(esc);
    vocabdir_release(&vd);
    return rc;
}
