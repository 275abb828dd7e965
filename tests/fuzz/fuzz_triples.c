/* SPDX-License-Identifier: MIT */
/* fuzz_triples: triples_reader_open/triples_read on binary and text streams, as given and
 * with their checksums repaired so that mutations reach the checks behind the CRCs; what
 * reads cleanly is written back with triples_writer (binary and text) and read again. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <math.h>

#include "triples.h"
#include "zio.h"

struct stream {
    struct triple *t;
    size_t n, cap;
    int has_time; /* -1: text lines with and without a time (the caller rejects it) */
    uint64_t users, items;
};

static void
push(struct stream *s, const struct triple *t)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->t = realloc(s->t, s->cap * sizeof *s->t);
        if (!s->t)
            FUZZ_DIE("out of memory");
    }
    s->t[s->n++] = *t;
}

/* Read path to its end; returns the final code and fills s. */
static int
read_all(const char *path, struct stream *s, int *text)
{
    struct triples_reader r;
    struct triple t;
    struct diag d;
    memset(s, 0, sizeof *s);
    int rc = triples_reader_open(&r, path, &d);
    if (rc < 0) {
        FUZZ_CHECK(rc == ALS_EFORMAT || rc == ALS_ECHECKSUM || rc == ALS_EVERSION ||
                   rc == ALS_EIO);
        FUZZ_CHECK(d.msg[0] != '\0');
        return rc;
    }
    *text = r.text;
    while ((rc = triples_read(&r, &t, &d)) == 1) {
        push(s, &t);
        FUZZ_CHECK(r.total == s->n);
        /* Text says per line whether it has a time. */
        if (s->n == 1)
            s->has_time = r.has_time;
        else if (s->has_time != r.has_time)
            s->has_time = -1;
        FUZZ_CHECK(r.has_time || t.time == 0);
        if (r.text)
            FUZZ_CHECK(isfinite(t.value)); /* text values are checked finite floats */
        else
            FUZZ_CHECK(r.pos <= r.n && r.n <= TRIPLES_BLOCK);
    }
    FUZZ_CHECK(rc == 0 || rc == ALS_EFORMAT || rc == ALS_ECHECKSUM || rc == ALS_EIO);
    if (rc < 0) {
        FUZZ_CHECK(d.msg[0] != '\0');
    } else if (!r.text) {
        /* A binary stream ends only at its end marker, whose count matched. */
        FUZZ_CHECK(r.ended && r.total == s->n);
    }
    if (!s->n)
        s->has_time = r.has_time;
    s->users = r.users;
    s->items = r.items;
    triples_reader_close(&r);
    return rc;
}

/* Write s as a binary or text stream, read it back: the same records. */
static void
round_trip(const struct stream *s, int text)
{
    char path[4200];
    struct zio_out o;
    struct triples_writer w;
    struct diag d;
    snprintf(path, sizeof path, "%s/rt-%d.trp", fuzz_dir(), text);
    if (zio_out_open(&o, path, &d) < 0)
        FUZZ_DIE("zio_out_open");
    FUZZ_CHECK(triples_writer_start(&w, &o, s->has_time, text, &d) == 0);
    for (size_t i = 0; i < s->n; i++)
        FUZZ_CHECK(triples_put(&w, &s->t[i], &d) == 0);
    FUZZ_CHECK(triples_writer_finish(&w, s->users, s->items, &d) == 0);
    FUZZ_CHECK(zio_out_commit(&o, &d) == 0);
    zio_out_abort(&o);
    triples_writer_release(&w);

    /* Text holds what text can say: finite values, times timefmt reads back. */
    for (size_t i = 0; text && i < s->n; i++)
        if (!isfinite(s->t[i].value) || llabs(s->t[i].time) > 1000000000000000LL)
            return;
    struct stream b;
    int btext = -1;
    int rc = read_all(path, &b, &btext);
    if (rc < 0)
        fprintf(stderr, "reading back the %s stream: %d\n", text ? "text" : "binary", rc);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(btext == text && b.n == s->n);
    FUZZ_CHECK(text || (b.has_time == s->has_time && b.users == s->users && b.items == s->items));
    for (size_t i = 0; i < s->n; i++) {
        const struct triple *x = &s->t[i], *y = &b.t[i];
        FUZZ_CHECK(x->user == y->user && x->item == y->item && x->time == y->time);
        if (text)
            FUZZ_CHECK(x->value == y->value); /* -0 may come back as 0 */
        else
            FUZZ_CHECK(memcmp(&x->value, &y->value, sizeof x->value) == 0);
    }
    free(b.t);
}

static void
one(const unsigned char *data, size_t size)
{
    struct stream s;
    int text = -1;
    /* Round trips of long streams find nothing short ones do not, at a high price. */
    if (read_all(fuzz_file(data, size), &s, &text) == 0 && s.has_time >= 0 && s.n <= 1024) {
        round_trip(&s, 0);
        round_trip(&s, 1);
    }
    free(s.t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    if (size >= 64 && memcmp(data, "ALSB", 4) == 0) {
        unsigned char *fixed = malloc(size);
        if (!fixed)
            FUZZ_DIE("out of memory");
        memcpy(fixed, data, size);
        if (fuzz_fix_triples(fixed, size))
            one(fixed, size);
        free(fixed);
    }
    return 0;
}
