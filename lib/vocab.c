/* SPDX-License-Identifier: MIT */
/* vocab: raw ID byte strings to dense indices 0..n-1, in first-seen order, persisted. */
#include "vocab.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "xmem.h"
#include "zio.h"

#define MIN_SLOTS 16

void
vocab_init(struct vocab *v)
{
    memset(v, 0, sizeof *v);
}

void
vocab_release(struct vocab *v)
{
    if (v->writable) {
        free(v->offs);
        free(v->bytes);
        free(v->slots);
    }
    afile_close(&v->file);
    vocab_init(v);
}

int
vocab_clear(struct vocab *v)
{
    vocab_release(v);
    v->offs = malloc(16 * sizeof *v->offs);
    v->slots = calloc(MIN_SLOTS, sizeof *v->slots);
    v->bytes = malloc(256);
    v->writable = 1;
    if (!v->offs || !v->slots || !v->bytes) {
        vocab_release(v);
        return ALS_ENOMEM;
    }
    v->offs_cap = 16;
    v->bytes_cap = 256;
    v->nslots = MIN_SLOTS;
    v->offs[0] = 0;
    return 0;
}

const char *
vocab_get(const struct vocab *v, uint64_t i, size_t *len)
{
    if (i >= v->n)
        return NULL;
    uint64_t a = v->offs[i], b = v->offs[i + 1];
    if (a > b || b > v->nbytes)
        return NULL;
    *len = (size_t)(b - a);
    return v->bytes + a;
}

/* Probe for key; returns the slot position where it is or where it would go. */
static uint64_t
probe(const struct vocab *v, const char *key, size_t len, uint64_t h, int *found, int *bad)
{
    uint64_t mask = v->nslots - 1, pos = h & mask;
    *found = 0;
    for (uint64_t step = 0; step < v->nslots; step++, pos = (pos + 1) & mask) {
        uint64_t s = v->slots[pos];
        if (s == 0)
            return pos;
        if (!hmap_slot_tag_matches(s, h))
            continue;
        size_t n;
        const char *p = vocab_get(v, hmap_slot_index(s), &n);
        if (!p) {
            *bad = 1;
            return pos;
        }
        if (n == len && memcmp(p, key, len) == 0) {
            *found = 1;
            return pos;
        }
    }
    *bad = 1; /* a full table only happens in a damaged file */
    return 0;
}

int
vocab_find(const struct vocab *v, const char *key, size_t len, uint32_t *idx)
{
    if (v->nslots == 0)
        return 0;
    int found, bad = 0;
    uint64_t pos = probe(v, key, len, hmap_hash(key, len), &found, &bad);
    if (bad)
        return ALS_EFORMAT;
    if (!found)
        return 0;
    *idx = (uint32_t)hmap_slot_index(v->slots[pos]);
    return 1;
}

static int
rehash(struct vocab *v, uint64_t nslots)
{
    uint64_t *ns = calloc(nslots, sizeof *ns);
    if (!ns)
        return ALS_ENOMEM;
    uint64_t mask = nslots - 1;
    for (uint64_t i = 0; i < v->n; i++) {
        uint64_t h = hmap_hash(v->bytes + v->offs[i], v->offs[i + 1] - v->offs[i]);
        uint64_t pos = h & mask;
        while (ns[pos])
            pos = (pos + 1) & mask;
        ns[pos] = hmap_slot(h, i);
    }
    free(v->slots);
    v->slots = ns;
    v->nslots = nslots;
    return 0;
}

static int
intern_hashed(struct vocab *v, const char *key, size_t len, uint64_t h, uint32_t *idx,
              int *added, struct diag *d)
{
    int found, bad = 0;
    uint64_t pos = probe(v, key, len, h, &found, &bad);
    *added = 0;
    if (bad)
        return diag_set(d, ALS_EFORMAT, "vocabulary index is damaged");
    if (found) {
        *idx = (uint32_t)hmap_slot_index(v->slots[pos]);
        return 0;
    }
    if (v->n >= VOCAB_MAX_IDS)
        return diag_set(d, ALS_ERANGE, "more than %llu distinct IDs",
                        (unsigned long long)VOCAB_MAX_IDS);
    /* Keep the load factor at most 1/2 so probes stay short. */
    if ((v->n + 1) * 2 > v->nslots) {
        if (rehash(v, v->nslots * 2) < 0)
            return diag_set(d, ALS_ENOMEM, "out of memory");
        pos = probe(v, key, len, h, &found, &bad);
    }
    size_t need;
    if (xmem_add((size_t)v->nbytes, len, &need) < 0 ||
        xmem_grow((void **)&v->bytes, &v->bytes_cap, need, 1) < 0 ||
        xmem_grow((void **)&v->offs, &v->offs_cap, (size_t)v->n + 2, sizeof *v->offs) < 0)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    memcpy(v->bytes + v->nbytes, key, len);
    v->nbytes += len;
    v->offs[v->n + 1] = v->nbytes;
    v->slots[pos] = hmap_slot(h, v->n);
    *idx = (uint32_t)v->n++;
    *added = 1;
    return 0;
}

int
vocab_intern(struct vocab *v, const char *key, size_t len, uint32_t *idx, int *added,
             struct diag *d)
{
    return intern_hashed(v, key, len, hmap_hash(key, len), idx, added, d);
}

/* Touch, without waiting, the home slot of each key, then the offsets and bytes of the
 * IDs those slots name: three rounds of independent cache misses instead of three
 * dependent misses per key. Only hints: the probes that follow decide. */
static void
prefetch_batch(const struct vocab *v, const char *const *keys, const size_t *lens, size_t n,
               uint64_t *h)
{
    uint64_t mask = v->nslots - 1;
    for (size_t i = 0; i < n; i++) {
        h[i] = hmap_hash(keys[i], lens[i]);
        __builtin_prefetch(&v->slots[h[i] & mask]);
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t s = v->slots[h[i] & mask];
        if (s && hmap_slot_tag_matches(s, h[i]) && hmap_slot_index(s) < v->n)
            __builtin_prefetch(&v->offs[hmap_slot_index(s)]);
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t s = v->slots[h[i] & mask];
        if (s && hmap_slot_tag_matches(s, h[i]) && hmap_slot_index(s) < v->n) {
            uint64_t off = v->offs[hmap_slot_index(s)];
            if (off < v->nbytes)
                __builtin_prefetch(v->bytes + off);
        }
    }
}

int
vocab_intern_batch(struct vocab *v, const char *const *keys, const size_t *lens, size_t n,
                   uint32_t *idx, uint64_t *added, struct diag *d)
{
    uint64_t h[VOCAB_BATCH];
    assert(n <= VOCAB_BATCH);
    prefetch_batch(v, keys, lens, n, h);
    for (size_t i = 0; i < n; i++) {
        int a;
        int rc = intern_hashed(v, keys[i], lens[i], h[i], &idx[i], &a, d);
        if (rc < 0)
            return rc;
        *added += (uint64_t)a;
    }
    return 0;
}

int
vocab_find_batch(const struct vocab *v, const char *const *keys, const size_t *lens, size_t n,
                 uint32_t *idx, unsigned char *found)
{
    uint64_t h[VOCAB_BATCH];
    assert(n <= VOCAB_BATCH);
    if (v->nslots == 0) {
        memset(found, 0, n);
        return 0;
    }
    prefetch_batch(v, keys, lens, n, h);
    for (size_t i = 0; i < n; i++) {
        int f, bad = 0;
        uint64_t pos = probe(v, keys[i], lens[i], h[i], &f, &bad);
        if (bad)
            return ALS_EFORMAT;
        found[i] = (unsigned char)f;
        if (f)
            idx[i] = (uint32_t)hmap_slot_index(v->slots[pos]);
    }
    return 0;
}

int
vocab_open(struct vocab *v, const char *path, unsigned flags, struct diag *d)
{
    vocab_release(v);
    int rc = afile_open(&v->file, path, VOCAB_KIND, VOCAB_MAJOR, flags, d);
    if (rc < 0)
        return rc;
    const void *offs, *bytes, *slots;
    uint64_t noffs, nbytes, nslots;
    if ((rc = afile_section(&v->file, "OFFS", AFILE_DT_U64, &offs, &noffs, d)) < 0 ||
        (rc = afile_section(&v->file, "BYTE", AFILE_DT_BYTES, &bytes, &nbytes, d)) < 0 ||
        (rc = afile_section(&v->file, "HASH", AFILE_DT_U64, &slots, &nslots, d)) < 0)
        goto out;
    uint64_t n = v->file.h.rows;
    if (noffs != n + 1 || n > VOCAB_MAX_IDS || nslots < MIN_SLOTS ||
        (nslots & (nslots - 1)) != 0 || nslots < n * 2 || v->file.h.cols != nslots ||
        v->file.h.nnz != nbytes) {
        rc = diag_set(d, ALS_EFORMAT, "'%s': inconsistent vocabulary dimensions", path);
        goto out;
    }
    v->n = n;
    v->offs = (uint64_t *)offs;
    v->bytes = (char *)bytes;
    v->slots = (uint64_t *)slots;
    v->nslots = nslots;
    v->nbytes = nbytes;
    if (v->offs[0] != 0 || v->offs[n] != nbytes) {
        rc = diag_set(d, ALS_EFORMAT, "'%s': inconsistent vocabulary offsets", path);
        goto out;
    }
    if (flags & AFILE_VERIFY)
        for (uint64_t i = 0; i < n; i++)
            if (v->offs[i] > v->offs[i + 1]) {
                rc = diag_set(d, ALS_EFORMAT, "'%s': inconsistent vocabulary offsets", path);
                goto out;
            }
    return 0;
out:
    vocab_release(v);
    return rc;
}

int
vocab_make_writable(struct vocab *v, struct diag *d)
{
    if (v->writable)
        return 0;
    if (!v->offs) /* nothing opened: an empty vocabulary */
        return vocab_clear(v) < 0 ? diag_set(d, ALS_ENOMEM, "out of memory") : 0;
    /* A file opened without AFILE_VERIFY has unchecked offsets; growing it rehashes
     * every ID, so check them all now (the copy below is O(n) anyway). */
    for (uint64_t i = 0; i < v->n; i++)
        if (v->offs[i] > v->offs[i + 1])
            return diag_set(d, ALS_EFORMAT, "'%s': inconsistent vocabulary offsets",
                            v->file.path);
    size_t n = (size_t)v->n, ob, sb;
    if (xmem_mul(n + 1, sizeof *v->offs, &ob) < 0 ||
        xmem_mul((size_t)v->nslots, sizeof *v->slots, &sb) < 0)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    uint64_t *offs = malloc(ob);
    uint64_t *slots = malloc(sb);
    char *bytes = malloc(v->nbytes ? (size_t)v->nbytes : 1);
    if (!offs || !slots || !bytes) {
        free(offs);
        free(slots);
        free(bytes);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    memcpy(offs, v->offs, ob);
    memcpy(slots, v->slots, sb);
    memcpy(bytes, v->bytes, (size_t)v->nbytes);
    afile_close(&v->file);
    v->offs = offs;
    v->slots = slots;
    v->bytes = bytes;
    v->offs_cap = n + 1;
    v->bytes_cap = v->nbytes ? (size_t)v->nbytes : 1;
    v->writable = 1;
    return 0;
}

int
vocab_save(const struct vocab *v, const char *path, struct diag *d)
{
    struct afile_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.kind, VOCAB_KIND, 4);
    h.major = VOCAB_MAJOR;
    h.rows = v->n;
    h.cols = v->nslots;
    h.nnz = v->nbytes;
    h.dtype = AFILE_DT_BYTES;
    struct afile_wsec secs[] = {
        { "OFFS", AFILE_DT_U64, v->offs, (v->n + 1) * sizeof *v->offs },
        { "BYTE", AFILE_DT_BYTES, v->bytes, v->nbytes },
        { "HASH", AFILE_DT_U64, v->slots, v->nslots * sizeof *v->slots },
    };
    return afile_save(path, &h, secs, 3, d);
}
