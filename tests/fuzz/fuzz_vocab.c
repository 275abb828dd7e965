/* SPDX-License-Identifier: MIT */
/* fuzz_vocab: vocab_open (afile underneath) on untrusted files, with and without
 * AFILE_VERIFY, lookups on what it accepts, and a build/save/open round trip. */
#define _GNU_SOURCE
#include "fuzz.h"

#include "vocab.h"

#define MAX_KEYS 64

struct keys {
    const char *p[MAX_KEYS];
    size_t len[MAX_KEYS];
    size_t n;
};

/* Keys from the input: its '\n'-separated pieces (at most MAX_KEYS). */
static void
split_keys(const unsigned char *data, size_t size, struct keys *k)
{
    const char *p = (const char *)data, *end = p + size;
    k->n = 0;
    while (p < end && k->n < MAX_KEYS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        k->p[k->n] = p;
        k->len[k->n++] = (size_t)(e - p);
        p = nl ? nl + 1 : end;
    }
}

static int
in_map(const struct vocab *v, const void *p, uint64_t bytes)
{
    const unsigned char *b = p, *lo = v->file.map;
    return b >= lo && b <= lo + v->file.size && bytes <= (uint64_t)(lo + v->file.size - b);
}

/* find agrees with get: a key it finds is the bytes of the index it names. */
static void
check_find(const struct vocab *v, const char *key, size_t len)
{
    uint32_t idx = UINT32_MAX;
    int rc = vocab_find(v, key, len, &idx);
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == ALS_EFORMAT);
    if (rc == 1) {
        size_t n;
        const char *p = vocab_get(v, idx, &n);
        FUZZ_CHECK(idx < v->n && p && n == len && memcmp(p, key, len) == 0);
    }
}

static void
check_batch(const struct vocab *v, const struct keys *k)
{
    uint32_t idx[MAX_KEYS];
    unsigned char found[MAX_KEYS];
    int rc = vocab_find_batch(v, k->p, k->len, k->n, idx, found);
    FUZZ_CHECK(rc == 0 || rc == ALS_EFORMAT);
    int any_bad = 0;
    for (size_t i = 0; i < k->n; i++) {
        uint32_t one = UINT32_MAX;
        int r1 = vocab_find(v, k->p[i], k->len[i], &one);
        if (r1 < 0) {
            any_bad = 1;
            break;
        }
        if (rc == 0) {
            FUZZ_CHECK(found[i] == r1);
            FUZZ_CHECK(!r1 || idx[i] == one);
        }
    }
    FUZZ_CHECK((rc == ALS_EFORMAT) == any_bad);
}

static void
check_open(const char *path, unsigned flags, const struct keys *k)
{
    struct vocab v;
    struct diag d;
    vocab_init(&v);
    int rc = vocab_open(&v, path, flags, &d);
    if (rc < 0) {
        FUZZ_CHECK(rc == ALS_EFORMAT || rc == ALS_ECHECKSUM || rc == ALS_EVERSION ||
                   rc == ALS_EIO);
        FUZZ_CHECK(d.msg[0] != '\0');
        FUZZ_CHECK(v.file.map == NULL);
        vocab_release(&v);
        return;
    }
    /* Every array the reader hands out lies inside the mapping (ASan does not watch
     * mmapped memory, so this is checked by hand). */
    FUZZ_CHECK(!v.writable);
    FUZZ_CHECK(in_map(&v, v.offs, (v.n + 1) * 8));
    FUZZ_CHECK(in_map(&v, v.bytes, v.nbytes));
    FUZZ_CHECK(in_map(&v, v.slots, v.nslots * 8));
    FUZZ_CHECK(v.nslots >= 16 && (v.nslots & (v.nslots - 1)) == 0);
    for (uint64_t i = 0; i <= v.n; i++) {
        size_t len = 0;
        const char *p = vocab_get(&v, i, &len);
        if (i == v.n) {
            FUZZ_CHECK(p == NULL);
            break;
        }
        /* Verified offsets are monotone, so every ID is there. */
        FUZZ_CHECK(p || !(flags & AFILE_VERIFY));
        if (!p)
            continue;
        FUZZ_CHECK(p >= v.bytes && len <= v.nbytes && (uint64_t)(p - v.bytes) <= v.nbytes - len);
        if (i < 64)
            check_find(&v, p, len);
    }
    for (size_t i = 0; i < k->n; i++)
        check_find(&v, k->p[i], k->len[i]);
    check_batch(&v, k);

    /* als-map's append mode: make it writable and add IDs, the input's and enough more
     * to make the table grow (rehash), however the vocabulary was opened. */
    uint64_t n0 = v.n;
    if (vocab_make_writable(&v, &d) == 0) {
        FUZZ_CHECK(v.writable && v.n == n0 && v.file.map == NULL);
        for (size_t i = 0; i < k->n + 40; i++) {
            char extra[32];
            const char *key = extra;
            size_t klen;
            if (i < k->n) {
                key = k->p[i];
                klen = k->len[i];
            } else {
                klen = (size_t)snprintf(extra, sizeof extra, "fuzz-extra-%zu", i - k->n);
            }
            uint32_t before = UINT32_MAX, idx = UINT32_MAX;
            int had = vocab_find(&v, key, klen, &before), added = -1;
            rc = vocab_intern(&v, key, klen, &idx, &added, &d);
            if (rc < 0) {
                FUZZ_CHECK(rc == ALS_EFORMAT && had == ALS_EFORMAT);
                break;
            }
            FUZZ_CHECK(had >= 0);
            FUZZ_CHECK(added == !had);
            FUZZ_CHECK(had ? idx == before : idx == v.n - 1);
            check_find(&v, key, klen);
        }
    }
    vocab_release(&v);
}

/* Build a vocabulary from the input's lines, save it, open it: the same IDs, in order. */
static void
round_trip(const struct keys *k)
{
    struct vocab w, r;
    struct diag d;
    char path[4200];
    uint32_t idx[MAX_KEYS];
    vocab_init(&w);
    vocab_init(&r);
    if (vocab_clear(&w) < 0)
        FUZZ_DIE("vocab_clear");
    size_t half = k->n / 2;
    for (size_t i = 0; i < half; i++) {
        int added;
        FUZZ_CHECK(vocab_intern(&w, k->p[i], k->len[i], &idx[i], &added, &d) == 0);
    }
    uint64_t added_batch = 0;
    FUZZ_CHECK(vocab_intern_batch(&w, k->p + half, k->len + half, k->n - half, idx + half,
                                  &added_batch, &d) == 0);
    FUZZ_CHECK(w.n <= k->n);
    snprintf(path, sizeof path, "%s/rt.vocab", fuzz_dir());
    if (vocab_save(&w, path, &d) < 0) {
        fprintf(stderr, "vocab_save: %s\n", d.msg);
        FUZZ_CHECK(!"vocab_save of a built vocabulary");
    }
    if (vocab_open(&r, path, AFILE_VERIFY, &d) < 0) {
        fprintf(stderr, "vocab_open: %s\n", d.msg);
        FUZZ_CHECK(!"vocab_open of a saved vocabulary");
    }
    FUZZ_CHECK(r.n == w.n && r.nbytes == w.nbytes);
    for (size_t i = 0; i < k->n; i++) {
        uint32_t j = UINT32_MAX;
        size_t len;
        FUZZ_CHECK(vocab_find(&r, k->p[i], k->len[i], &j) == 1 && j == idx[i]);
        const char *p = vocab_get(&r, j, &len);
        FUZZ_CHECK(p && len == k->len[i] && memcmp(p, k->p[i], len) == 0);
    }
    vocab_release(&w);
    vocab_release(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keys k;
    int binary = size >= 4 && memcmp(data, "ALSB", 4) == 0;
    /* Keys to look up: the tail of a binary file, the lines of anything else. */
    if (binary && size > 64)
        split_keys(data + size - (size - 64 < 256 ? size - 64 : 256),
                   size - 64 < 256 ? size - 64 : 256, &k);
    else
        split_keys(data, size, &k);
    const char *path = fuzz_file(data, size);
    check_open(path, 0, &k);
    check_open(path, AFILE_VERIFY, &k);
    if (binary && size >= 64) {
        unsigned char *fixed = malloc(size);
        if (!fixed)
            FUZZ_DIE("out of memory");
        memcpy(fixed, data, size);
        if (fuzz_fix_afile(fixed, size)) {
            path = fuzz_file(fixed, size);
            check_open(path, 0, &k);
            check_open(path, AFILE_VERIFY, &k);
        }
        free(fixed);
    }
    if (!binary)
        round_trip(&k);
    return 0;
}
