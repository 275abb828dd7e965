/* SPDX-License-Identifier: MIT */
/* mapper: raw log records to index triples through a vocabulary directory, pipelined. */
#include "mapper.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "logread.h"
#include "ratemap.h"
#include "timefmt.h"
#include "xmem.h"
#include "zio.h"

/*
 * Two stages. The parser splits lines, checks and converts ratings and times, and copies
 * the two IDs of each record into a batch. The mapper looks the IDs up (prefetching a
 * chunk of lookups at a time, since random accesses into a vocabulary larger than the
 * cache dominate) and hands triples to the sink in input order. With two threads the
 * stages overlap through a ring of batches; with one they alternate.
 */
#define BATCH_RECORDS 4096
#define NBATCH 3

struct batch {
    size_t n;
    struct triple t[BATCH_RECORDS];
    double raw[BATCH_RECORDS];
    uint64_t line[BATCH_RECORDS];
    int input[BATCH_RECORDS];
    size_t off[2][BATCH_RECORDS], len[2][BATCH_RECORDS];
    char *arena;
    size_t used, cap;
    int last;   /* no batch follows this one */
    int status; /* with last: the parser's result */
    uint64_t pos, records; /* for progress: bytes of the inputs and records read so far */
    struct diag d;
};

struct pipe {
    struct vocabdir *vd;
    const char *const *inputs;
    int ninputs;
    const struct mapper_opts *mo;
    struct mapper_stats *st;
    struct batch *b[NBATCH];
    /* ring: full batches at [head, head + nfull), the parser fills b[(head+nfull)%N] */
    unsigned head, nfull;
    int stop; /* the mapper failed: the parser must give up */
    int threaded;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct logread r;
    int r_open, cur_input, started, has_time; /* parser's */
    uint64_t done_bytes;                       /* parser's: of the inputs closed */
    int reported;                              /* mapper's: on_start was called */
    uint64_t total;     /* the inputs' size for progress in bytes, or 0: in records */
    uint64_t pos, records; /* mapper's: the last batch's, for the final report */
};

static int
batch_add(struct batch *b, const struct logrec *rec, const struct triple *t, double raw,
          int input)
{
    for (int k = 0; k < 2; k++) {
        size_t need;
        if (xmem_add(b->used, rec->len[k], &need) < 0 ||
            xmem_grow((void **)&b->arena, &b->cap, need, 1) < 0)
            return ALS_ENOMEM;
        memcpy(b->arena + b->used, rec->f[k], rec->len[k]);
        b->off[k][b->n] = b->used;
        b->len[k][b->n] = rec->len[k];
        b->used = need;
    }
    b->t[b->n] = *t;
    b->raw[b->n] = raw;
    b->input[b->n] = input;
    b->line[b->n++] = rec->line;
    return 0;
}

/* A record's value and time; LOGREAD_BAD with d set when they are malformed. */
static int
convert(const struct vocabdir *vd, const struct logread *r, const struct logrec *rec,
        struct triple *t, double *raw, struct diag *d)
{
    const char *name = logread_name(r);
    unsigned long long line = (unsigned long long)rec->line;
    *raw = 1.0;
    t->time = 0;
    if (rec->f[LOG_RATING] &&
        ratemap_raw(&vd->rmap, rec->f[LOG_RATING], rec->len[LOG_RATING], raw, d) < 0) {
        diag_prefix(d, "%s:%llu: ", name, line);
        if (rec->line == 1 && !r->header && d->code == ALS_EFORMAT)
            strncat(d->msg, " (is line 1 a header? give -H)",
                    sizeof d->msg - strlen(d->msg) - 1);
        return LOGREAD_BAD;
    }
    if (rec->f[LOG_TIME] && timefmt_parse(rec->f[LOG_TIME], rec->len[LOG_TIME], &t->time) < 0) {
        size_t n = rec->len[LOG_TIME] > 40 ? 40 : rec->len[LOG_TIME];
        diag_set(d, ALS_EFORMAT, "%s:%llu: time '%.*s' is neither epoch seconds nor ISO 8601",
                 name, line, (int)n, rec->f[LOG_TIME]);
        return LOGREAD_BAD;
    }
    /* Before minmax is fitted it maps to 1: this still catches, with the line, a NaN
     * from the steps before it. */
    double v;
    if (ratemap_apply(&vd->rmap, *raw, &v, d) < 0) {
        diag_prefix(d, "%s:%llu: ", name, line);
        return LOGREAD_BAD;
    }
    t->value = (float)v;
    if (!isfinite(t->value)) {
        diag_set(d, ALS_ENUMERIC, "%s:%llu: rating %g overflows a 32-bit float", name, line, v);
        return LOGREAD_BAD;
    }
    return 0;
}

/* Fill b with up to BATCH_RECORDS records. Returns 1 when more may follow, 0 at the end
 * of the last input, <0 on error (d set; d->msg empty if already reported). */
static int
parse_records(struct pipe *p, struct batch *b, struct diag *d)
{
    const struct mapper_opts *mo = p->mo;
    b->n = 0;
    b->used = 0;
    while (b->n < BATCH_RECORDS) {
        if (!p->r_open) {
            if (p->cur_input == p->ninputs)
                return 0;
            int rc = logread_open(&p->r, p->inputs[p->cur_input], &p->vd->spec, d);
            if (rc < 0)
                return rc;
            p->r_open = 1;
            if (!p->started) {
                p->started = 1;
                p->has_time = p->r.idx[LOG_TIME] >= 0;
            }
        }
        struct logrec rec;
        int rc = logread_next(&p->r, &rec, d);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if (p->total)
                p->done_bytes += zio_in_raw_offset(p->r.in);
            logread_close(&p->r);
            p->r_open = 0;
            p->cur_input++;
            continue;
        }
        p->st->read++;
        struct triple t = { 0 };
        double raw = 0;
        if (rc == LOGREAD_BAD || (rc = convert(p->vd, &p->r, &rec, &t, &raw, d)) != 0) {
            if (!mo->skip_bad)
                return ALS_EFORMAT;
            p->st->bad++;
            if (mo->on_bad)
                mo->on_bad(mo->ctx, d);
            if (p->st->bad > mo->max_errors)
                return diag_set(d, ALS_EFORMAT, "more than %llu bad records; giving up",
                                (unsigned long long)mo->max_errors);
            continue;
        }
        if (batch_add(b, &rec, &t, raw, p->cur_input) < 0)
            return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    return 1;
}

/* parse_records, then note how far the inputs are read for the progress reports. */
static int
parse_batch(struct pipe *p, struct batch *b, struct diag *d)
{
    int rc = parse_records(p, b, d);
    b->records = p->st->read;
    b->pos = p->done_bytes + (p->total && p->r_open ? zio_in_raw_offset(p->r.in) : 0);
    return rc;
}

/* After a batch is mapped: on the calling thread, as lib/progress.h promises. */
static void
tick(struct pipe *p, const struct batch *b)
{
    p->pos = b->pos;
    p->records = b->records;
    if (p->total)
        progress_tick(p->mo->progress, b->pos, p->total, "bytes");
    else
        progress_tick(p->mo->progress, b->records, 0, "records");
}

/* The inputs' total size when each is a regular file, else 0: progress counts records. */
static uint64_t
inputs_size(const char *const *inputs, int ninputs)
{
    uint64_t total = 0;
    for (int i = 0; i < ninputs; i++) {
        uint64_t n = zio_path_size(inputs[i]);
        if (!n)
            return 0;
        total += n;
    }
    return total;
}

/* Look up (or add) the IDs of b in record order, then hand the records to the sink. */
static int
map_batch(struct pipe *p, struct batch *b, struct diag *d)
{
    const struct mapper_opts *mo = p->mo;
    struct vocab *vv[2] = { &p->vd->users, &p->vd->items };
    for (size_t s = 0; s < b->n; s += VOCAB_BATCH) {
        size_t n = b->n - s < VOCAB_BATCH ? b->n - s : VOCAB_BATCH;
        const char *keys[2][VOCAB_BATCH];
        uint32_t idx[2][VOCAB_BATCH];
        unsigned char found[2][VOCAB_BATCH];
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0; i < n; i++)
                keys[k][i] = b->arena + b->off[k][s + i];
            if (mo->mode == MAPPER_FROZEN && !(k == 0 && mo->grow_users)) {
                if (vocab_find_batch(vv[k], keys[k], &b->len[k][s], n, idx[k], found[k]) < 0)
                    return diag_set(d, ALS_EFORMAT, "'%s': damaged vocabulary index",
                                    p->vd->path ? p->vd->path : "vocabulary");
            } else {
                uint64_t added = 0;
                int rc = vocab_intern_batch(vv[k], keys[k], &b->len[k][s], n, idx[k], &added, d);
                if (rc < 0)
                    return rc;
                memset(found[k], 1, n);
            }
        }
        for (size_t i = 0; i < n; i++) {
            size_t r = s + i;
            if (!found[0][i] || !found[1][i]) {
                p->st->unknown_users += !found[0][i];
                p->st->unknown_items += !found[1][i];
                if (mo->strict) {
                    int k = found[0][i] ? 1 : 0;
                    size_t len = b->len[k][r] > 60 ? 60 : b->len[k][r];
                    const char *in = p->inputs[b->input[r]];
                    uint32_t oi;
                    /* A user ID that is a known item (or the reverse): columns mixed up. */
                    if (vocab_find(vv[!k], keys[k][i], b->len[k][r], &oi) > 0)
                        return diag_set(d, ALS_EFORMAT,
                                        "%s:%llu: unknown %s '%.*s' (--frozen --strict): "
                                        "'%.*s' is %s ID, not %s ID: swapped columns?",
                                        strcmp(in, "-") ? in : "(stdin)",
                                        (unsigned long long)b->line[r], k ? "item" : "user",
                                        (int)len, keys[k][i], (int)len, keys[k][i],
                                        k ? "a user" : "an item", k ? "an item" : "a user");
                    return diag_set(d, ALS_EFORMAT,
                                    "%s:%llu: unknown %s '%.*s' (--frozen --strict)",
                                    strcmp(in, "-") ? in : "(stdin)",
                                    (unsigned long long)b->line[r], k ? "item" : "user",
                                    (int)len, keys[k][i]);
                }
                continue;
            }
            b->t[r].user = idx[0][i];
            b->t[r].item = idx[1][i];
            int rc = mo->sink(mo->ctx, &b->t[r], b->raw[r], d);
            if (rc < 0)
                return rc;
            p->st->written++;
        }
    }
    return 0;
}

static void *
parser_main(void *arg)
{
    struct pipe *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->nfull == NBATCH - 1 && !p->stop) /* one batch is the mapper's */
            pthread_cond_wait(&p->cv, &p->mu);
        int stop = p->stop;
        struct batch *b = p->b[(p->head + p->nfull) % NBATCH];
        pthread_mutex_unlock(&p->mu);
        if (stop)
            return NULL;
        diag_clear(&b->d);
        int rc = parse_batch(p, b, &b->d);
        b->last = rc <= 0;
        b->status = rc < 0 ? rc : 0;
        pthread_mutex_lock(&p->mu);
        p->nfull++;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (b->last)
            return NULL;
    }
}

static int
start_once(struct pipe *p, struct diag *d)
{
    if (p->reported)
        return 0;
    p->reported = 1;
    return p->mo->on_start ? p->mo->on_start(p->mo->ctx, p->started ? p->has_time : 0, d) : 0;
}

static int
run_threaded(struct pipe *p, struct diag *d)
{
    pthread_t th;
    if (pthread_create(&th, NULL, parser_main, p) != 0)
        return diag_set(d, ALS_ENOMEM, "cannot start the parsing thread");
    int rc = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->nfull == 0)
            pthread_cond_wait(&p->cv, &p->mu);
        struct batch *b = p->b[p->head];
        pthread_mutex_unlock(&p->mu);
        /* p->started and p->has_time were written before this batch was published. */
        if (b->n || b->last)
            rc = start_once(p, d);
        if (rc >= 0)
            rc = map_batch(p, b, d);
        if (rc >= 0)
            tick(p, b);
        int last = b->last;
        if (rc >= 0 && last && b->status < 0) {
            rc = b->status;
            *d = b->d;
        }
        pthread_mutex_lock(&p->mu);
        p->head = (p->head + 1) % NBATCH;
        p->nfull--;
        if (rc < 0)
            p->stop = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (rc < 0 || last)
            break;
    }
    pthread_join(th, NULL);
    return rc;
}

static int
run_inline(struct pipe *p, struct diag *d)
{
    struct batch *b = p->b[0];
    for (;;) {
        int prc = parse_batch(p, b, d);
        int rc = (b->n || prc <= 0) ? start_once(p, d) : 0;
        if (rc >= 0)
            rc = map_batch(p, b, d);
        if (rc < 0)
            return rc;
        tick(p, b);
        if (prc <= 0)
            return prc;
    }
}

int
mapper_run(struct vocabdir *vd, const char *const *inputs, int ninputs,
           const struct mapper_opts *mo, struct mapper_stats *st, struct diag *d)
{
    struct pipe p;
    memset(&p, 0, sizeof p);
    memset(st, 0, sizeof *st);
    p.vd = vd;
    p.inputs = inputs;
    p.ninputs = ninputs;
    p.mo = mo;
    p.st = st;
    p.threaded = mo->threads >= 2;
    if (progress_wanted(mo->progress))
        p.total = inputs_size(inputs, ninputs);
    const char *unit = p.total ? "bytes" : "records";
    progress_report(mo->progress, 0, p.total, unit);
    int rc = 0;
    for (int i = 0; i < (p.threaded ? NBATCH : 1); i++)
        if (!(p.b[i] = calloc(1, sizeof *p.b[i]))) {
            rc = diag_set(d, ALS_ENOMEM, "out of memory");
            goto out;
        }
    if (p.threaded) {
        pthread_mutex_init(&p.mu, NULL);
        pthread_cond_init(&p.cv, NULL);
        rc = run_threaded(&p, d);
        pthread_mutex_destroy(&p.mu);
        pthread_cond_destroy(&p.cv);
    } else {
        rc = run_inline(&p, d);
    }
    if (rc >= 0)
        progress_report(mo->progress, p.total ? p.pos : p.records, p.total, unit);
out:
    if (p.r_open)
        logread_close(&p.r);
    for (int i = 0; i < NBATCH; i++) {
        if (p.b[i])
            free(p.b[i]->arena);
        free(p.b[i]);
    }
    return rc;
}
