/* SPDX-License-Identifier: MIT */
/* test_vocab: interning in first-seen order, growth, the persisted hash index (mmapped
 * lookups, damage detection) and the pinned hash function of the file format. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "diag.h"
#include "hmap.h"
#include "vocab.h"
#include "zio.h"

#include "t.h"
#include "scratch.h"

/* ---- hmap ---- */

TEST(hmap_hash_is_pinned)
{
    /* The hash is part of the .vocab format: these values were computed once (and checked
     * against an independent Python implementation of the documented algorithm). A change
     * here means existing vocabulary files no longer open: a new major version. */
    T_EQ_U64(hmap_hash("", 0), 0x0a3f46e79293b578ull);
    T_EQ_U64(hmap_hash("a", 1), 0x939b6fa9740d20c2ull);
    T_EQ_U64(hmap_hash("user42", 6), 0xa2c0a55ef8cdf285ull);
    T_EQ_U64(hmap_hash("12345678", 8), 0x99f71361d5204aa2ull);
    T_EQ_U64(hmap_hash("123456789", 9), 0xa2712c720c9c6cb1ull);
    T_EQ_U64(hmap_hash("18446744073709551616", 20), 0xf9785ed88ee5ae00ull);
    T_EQ_U64(hmap_hash("a\0b\tc", 5), 0x67268527cb14a3b4ull);
    unsigned char b[17];
    for (int i = 0; i < 17; i++)
        b[i] = (unsigned char)i;
    T_EQ_U64(hmap_hash(b, 17), 0x93ed7fa9955a874dull);
}

TEST(hmap_hash_properties)
{
    /* The length takes part: a key and the key with a trailing NUL differ, as do the
     * zero-padded tails. */
    T_TRUE(hmap_hash("ab", 2) != hmap_hash("ab\0", 3));
    T_TRUE(hmap_hash("", 0) != hmap_hash("\0", 1));
    T_TRUE(hmap_hash("12345678", 8) != hmap_hash("12345678\0", 9));
    /* Only the key bytes are read, wherever they sit. */
    char buf[40];
    memcpy(buf + 3, "user42", 6);
    T_EQ_U64(hmap_hash(buf + 3, 6), hmap_hash("user42", 6));
}

TEST(hmap_slot_encoding)
{
    uint64_t h = 0x0123456789abcdefull;
    uint64_t s = hmap_slot(h, 0);
    T_EQ_U64(s, 0x0123456700000001ull);
    T_EQ_U64(hmap_slot_index(s), 0);
    T_TRUE(hmap_slot_tag_matches(s, h));
    T_TRUE(!hmap_slot_tag_matches(s, h ^ (1ull << 40)));
    T_TRUE(hmap_slot_tag_matches(s, h ^ 0xffffffffull)); /* low bits are not the tag */
    s = hmap_slot(h, 0xfffffffeull);
    T_EQ_U64(s, 0x01234567ffffffffull);
    T_EQ_U64(hmap_slot_index(s), 0xfffffffeull);
    /* A non-empty slot is never 0, even for a hash whose upper half is 0. */
    T_TRUE(hmap_slot(0, 0) != 0);
}

/* ---- vocab ---- */

TEST(intern_first_seen_order)
{
    struct vocab v;
    struct diag d;
    uint32_t idx = 99;
    int added = -1;
    size_t len;
    vocab_init(&v);
    T_OK(vocab_clear(&v));

    static const char *const seq[] = { "b", "a", "b", "c", "a", "d", "c" };
    static const uint32_t want[] = { 0, 1, 0, 2, 1, 3, 2 };
    static const int want_added[] = { 1, 1, 0, 1, 0, 1, 0 };
    for (int i = 0; i < 7; i++) {
        T_OK(vocab_intern(&v, seq[i], 1, &idx, &added, &d));
        T_EQ_U64(idx, want[i]);
        T_EQ_INT(added, want_added[i]);
    }
    T_EQ_U64(v.n, 4);
    T_EQ_U64(v.nbytes, 4);

    T_EQ_INT(vocab_find(&v, "c", 1, &idx), 1);
    T_EQ_U64(idx, 2);
    idx = 99;
    T_EQ_INT(vocab_find(&v, "e", 1, &idx), 0);
    T_EQ_INT(vocab_find(&v, "", 0, &idx), 0);
    T_EQ_INT(vocab_find(&v, "cc", 2, &idx), 0);
    T_EQ_U64(idx, 99);

    const char *p = vocab_get(&v, 3, &len);
    T_TRUE(p != NULL);
    T_EQ_MEM(p, len, "d", 1);
    T_TRUE(vocab_get(&v, 4, &len) == NULL);
    T_TRUE(vocab_get(&v, UINT64_MAX, &len) == NULL);

    /* The empty key is a key like any other. */
    T_OK(vocab_intern(&v, "", 0, &idx, &added, &d));
    T_EQ_U64(idx, 4);
    T_EQ_INT(added, 1);
    p = vocab_get(&v, 4, &len);
    T_TRUE(p != NULL && len == 0);
    T_EQ_INT(vocab_find(&v, "", 0, &idx), 1);
    T_EQ_U64(idx, 4);

    /* Clearing empties it and keeps it writable. */
    T_OK(vocab_clear(&v));
    T_EQ_U64(v.n, 0);
    T_EQ_INT(vocab_find(&v, "a", 1, &idx), 0);
    T_OK(vocab_intern(&v, "z", 1, &idx, &added, &d));
    T_EQ_U64(idx, 0);
    vocab_release(&v);
    T_EQ_U64(v.n, 0);

    /* An initialised, never-filled vocabulary finds nothing. */
    vocab_init(&v);
    T_EQ_INT(vocab_find(&v, "a", 1, &idx), 0);
    T_TRUE(vocab_get(&v, 0, &len) == NULL);
    vocab_release(&v);
}

/* The big key set: the empty key, the 256 one-byte keys, then NKEYS keys of four shapes,
 * all distinct (different lengths or different leading bytes). */
enum { NKEYS = 200000, NFIRST = 257 };

static size_t
key_of(uint32_t i, char *buf)
{
    switch (i % 4) {
    case 0: /* 20 digits, 2^64 + i: no integer type holds it */
        return (size_t)sprintf(buf, "18446744073709%06u", 551616u + i);
    case 1: /* embedded NUL and tab bytes */
        buf[0] = '\0';
        buf[1] = '\t';
        memcpy(buf + 2, "\0\t", 2);
        buf[4] = (char)(i & 0xff);
        buf[5] = (char)((i >> 8) & 0xff);
        buf[6] = (char)(i >> 16);
        return 7;
    case 2: /* short: 3 bytes */
        buf[0] = (char)0xff;
        buf[1] = (char)((i / 4) & 0xff);
        buf[2] = (char)((i / 4) >> 8);
        return 3;
    default:
        return (size_t)sprintf(buf, "user-%u", i);
    }
}

static size_t
any_key(uint64_t k, char *buf)
{
    if (k == 0)
        return 0;
    if (k < NFIRST) {
        buf[0] = (char)(k - 1);
        return 1;
    }
    return key_of((uint32_t)(k - NFIRST), buf);
}

/* Every key k < n is found at index k and vocab_get gives its bytes back. */
static int
check_all(const struct vocab *v, uint64_t n)
{
    char buf[32] = { 0 };
    int bad = 0;
    for (uint64_t k = 0; k < n; k++) {
        size_t len = any_key(k, buf), glen = 0;
        uint32_t idx = 0xdeadbeef;
        if (vocab_find(v, buf, len, &idx) != 1 || idx != k) {
            if (bad++ < 3)
                printf("#   key %llu: find gave %u\n", (unsigned long long)k, idx);
            continue;
        }
        const char *p = vocab_get(v, k, &glen);
        if (!p || glen != len || memcmp(p, buf, len) != 0)
            if (bad++ < 3)
                printf("#   key %llu: get differs\n", (unsigned long long)k);
    }
    return bad;
}

/* Keys never interned: none may be found. */
static int
check_unknown(const struct vocab *v)
{
    static const char *const unk[] = {
        "user-200001", "user-", "18446744073709999999", "1844674407370955161",
        "\xff\x01\x00\x00", "nobody", "user-1 ", " user-3",
    };
    int bad = 0;
    uint32_t idx;
    for (size_t i = 0; i < sizeof unk / sizeof unk[0]; i++)
        bad += vocab_find(v, unk[i], strlen(unk[i]), &idx) != 0;
    /* A two-byte key: the one-byte keys must not match its prefix. */
    bad += vocab_find(v, "\0\0", 2, &idx) != 0;
    return bad;
}

static int
intern_range(struct vocab *v, uint64_t from, uint64_t to, struct diag *d)
{
    char buf[32] = { 0 };
    int bad = 0;
    for (uint64_t k = from; k < to; k++) {
        size_t len = any_key(k, buf);
        uint32_t idx = 0;
        int added = 0;
        if (vocab_intern(v, buf, len, &idx, &added, d) != 0 || idx != k || !added)
            if (bad++ < 3)
                printf("#   intern %llu gave %u (added %d)\n", (unsigned long long)k, idx,
                       added);
    }
    return bad;
}

TEST(growth_save_open_and_grow_again)
{
    struct vocab v;
    struct diag d;
    const uint64_t total = NFIRST + NKEYS;
    vocab_init(&v);
    T_OK(vocab_clear(&v));

    /* Through many rehashes: 16 slots at the start, at least 2n at the end. */
    T_EQ_INT(intern_range(&v, 0, total, &d), 0);
    T_EQ_U64(v.n, total);
    T_TRUE((v.nslots & (v.nslots - 1)) == 0);
    T_TRUE(v.nslots >= 2 * total);
    T_EQ_U64(v.nslots, 1u << 19); /* 2 * 200257 = 400514 rounds up to 2^19 */
    T_EQ_INT(check_all(&v, total), 0);
    T_EQ_INT(check_unknown(&v), 0);

    /* Interning again adds nothing. */
    char buf[32];
    int again = 0;
    for (uint64_t k = 0; k < total; k += 97) {
        size_t len = any_key(k, buf);
        uint32_t idx;
        int added = 1;
        if (vocab_intern(&v, buf, len, &idx, &added, &d) != 0 || added || idx != k)
            again++;
    }
    T_EQ_INT(again, 0);
    T_EQ_U64(v.n, total);

    /* Save, then open the mapping: same indices, nothing rebuilt. */
    const char *p = tpath("big.vocab");
    T_OK(vocab_save(&v, p, &d));
    uint64_t nslots = v.nslots;
    vocab_release(&v);

    struct vocab m;
    vocab_init(&m);
    T_OK(vocab_open(&m, p, 0, &d));
    T_EQ_INT(m.writable, 0);
    T_EQ_U64(m.n, total);
    T_EQ_U64(m.nslots, nslots);
    T_EQ_INT(check_all(&m, total), 0);
    T_EQ_INT(check_unknown(&m), 0);
    T_OK(vocab_open(&m, p, AFILE_VERIFY, &d)); /* releases the first mapping */
    T_EQ_U64(m.n, total);

    /* Writable again: old indices stay, new keys continue the numbering. */
    T_OK(vocab_make_writable(&m, &d));
    T_EQ_INT(m.writable, 1);
    T_EQ_INT(intern_range(&m, total, total + 5000, &d), 0);
    T_EQ_INT(check_all(&m, total + 5000), 0);
    T_OK(vocab_save(&m, p, &d));
    vocab_release(&m);

    T_OK(vocab_open(&m, p, AFILE_VERIFY, &d));
    T_EQ_U64(m.n, total + 5000);
    T_EQ_INT(check_all(&m, total + 5000), 0);
    T_EQ_INT(check_unknown(&m), 0);
    vocab_release(&m);
}

TEST(make_writable_small_and_empty)
{
    struct vocab v;
    struct diag d;
    uint32_t idx;
    int added;
    const char *p = tpath("small.vocab");

    /* Empty vocabulary: saved, opened, grown. */
    vocab_init(&v);
    T_OK(vocab_clear(&v));
    T_OK(vocab_save(&v, p, &d));
    vocab_release(&v);
    T_OK(vocab_open(&v, p, AFILE_VERIFY, &d));
    T_EQ_U64(v.n, 0);
    T_EQ_INT(vocab_find(&v, "x", 1, &idx), 0);
    T_OK(vocab_make_writable(&v, &d));
    T_OK(vocab_intern(&v, "x", 1, &idx, &added, &d));
    T_EQ_U64(idx, 0);
    T_EQ_INT(added, 1);
    T_OK(vocab_make_writable(&v, &d)); /* already writable: no-op */
    T_EQ_INT(vocab_find(&v, "x", 1, &idx), 1);
    vocab_release(&v);

    /* A few IDs, reopened, grown across a rehash of the copied table. */
    vocab_init(&v);
    T_OK(vocab_clear(&v));
    T_EQ_INT(intern_range(&v, 0, 7, &d), 0);
    T_OK(vocab_save(&v, p, &d));
    vocab_release(&v);
    T_OK(vocab_open(&v, p, 0, &d));
    T_EQ_U64(v.nslots, 16);
    T_OK(vocab_make_writable(&v, &d));
    T_EQ_INT(intern_range(&v, 7, 300, &d), 0);
    T_EQ_INT(check_all(&v, 300), 0);
    vocab_release(&v);
}

/* Offset and size of section tag in the vocabulary file at path. */
static int
section_at(const char *path, const char *tag, uint64_t *off, uint64_t *size)
{
    struct afile f;
    struct diag d;
    if (afile_open(&f, path, VOCAB_KIND, VOCAB_MAJOR, 0, &d) != 0)
        return -1;
    int rc = -1;
    for (unsigned i = 0; i < f.nsec; i++)
        if (memcmp(f.sec[i].tag, tag, 4) == 0) {
            *off = f.sec[i].offset;
            *size = f.sec[i].size;
            rc = 0;
        }
    afile_close(&f);
    return rc;
}

TEST(damaged_hash_section)
{
    struct vocab v;
    struct diag d;
    const char *p = tpath("damaged.vocab");
    vocab_init(&v);
    T_OK(vocab_clear(&v));
    T_EQ_INT(intern_range(&v, 0, 100, &d), 0);
    T_OK(vocab_save(&v, p, &d));
    vocab_release(&v);

    uint64_t off = 0, size = 0;
    T_OK(section_at(p, "HASH", &off, &size));
    T_EQ_U64(size, 256 * 8); /* 100 keys: 2 * 101 > 128 slots, so 256 */
    size_t len;
    unsigned char *b = slurp(p, &len);
    T_TRUE(b != NULL && off + size <= len);
    if (!b || off + size > len) {
        free(b);
        return;
    }
    /* The first used slot: make its index point far outside the table (byte 3 of the
     * little-endian index half), and nothing else. */
    uint64_t k = 0;
    while (k < size / 8 && afile_get_le64(b + off + 8 * k) == 0)
        k++;
    T_TRUE(k < size / 8);
    uint64_t slot = afile_get_le64(b + off + 8 * k);
    uint64_t victim = hmap_slot_index(slot);
    b[off + 8 * k + 3] ^= 0x80;
    T_OK(spit(p, b, len));

    /* A verified open catches it by the section CRC. */
    memset(&d, 0, sizeof d);
    T_EQ_INT(vocab_open(&v, p, AFILE_VERIFY, &d), ALS_ECHECKSUM);
    T_TRUE(strstr(d.msg, "section HASH checksum mismatch") != NULL);
    T_EQ_U64(v.n, 0);

    /* An O(1) open does not read the section; the lookup that meets the bad slot says the
     * index is damaged instead of returning a wrong ID or reading out of bounds. */
    T_OK(vocab_open(&v, p, 0, &d));
    char buf[32];
    size_t klen = any_key(victim, buf);
    uint32_t idx;
    T_EQ_INT(vocab_find(&v, buf, klen, &idx), ALS_EFORMAT);
    vocab_release(&v);
    free(b);
}

TEST(damaged_offsets_section)
{
    struct vocab v;
    struct diag d;
    const char *p = tpath("offs.vocab");
    vocab_init(&v);
    T_OK(vocab_clear(&v));
    T_EQ_INT(intern_range(&v, 0, 40, &d), 0);
    T_OK(vocab_save(&v, p, &d));
    vocab_release(&v);

    uint64_t off = 0, size = 0;
    T_OK(section_at(p, "OFFS", &off, &size));
    T_EQ_U64(size, 41 * 8);
    size_t len;
    unsigned char *b = slurp(p, &len);
    T_TRUE(b != NULL);
    if (!b)
        return;
    /* offs[20] far beyond the bytes: a verified open sees the CRC, an unverified one
     * must not hand out bytes outside the mapping. */
    b[off + 20 * 8 + 6] ^= 0x10;
    T_OK(spit(p, b, len));
    T_EQ_INT(vocab_open(&v, p, AFILE_VERIFY, &d), ALS_ECHECKSUM);
    T_OK(vocab_open(&v, p, 0, &d));
    size_t glen;
    T_TRUE(vocab_get(&v, 19, &glen) == NULL);
    T_TRUE(vocab_get(&v, 20, &glen) == NULL);
    T_TRUE(vocab_get(&v, 21, &glen) != NULL);
    vocab_release(&v);
    free(b);
}

TEST(open_errors)
{
    struct vocab v;
    struct diag d;
    vocab_init(&v);
    const char *missing = tpath("missing.vocab");
    T_EQ_INT(vocab_open(&v, missing, 0, &d), ALS_EIO);

    /* A container of another kind. */
    const char *other = tpath("other.bin");
    struct zio_out o;
    struct afile_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.kind, "CSR1", 4);
    h.major = 1;
    T_OK(zio_out_open(&o, other, &d));
    T_OK(afile_write(&o, &h, NULL, 0, &d));
    T_OK(zio_out_commit(&o, &d));
    zio_out_abort(&o);
    T_EQ_INT(vocab_open(&v, other, 0, &d), ALS_EFORMAT);
    char want[600];
    snprintf(want, sizeof want, "'%s': is a CSR1 file, expected VOC1", other);
    T_EQ_STR(d.msg, want);

    /* The right kind without the sections. */
    memcpy(h.kind, VOCAB_KIND, 4);
    T_OK(zio_out_open(&o, other, &d));
    T_OK(afile_write(&o, &h, NULL, 0, &d));
    T_OK(zio_out_commit(&o, &d));
    zio_out_abort(&o);
    T_EQ_INT(vocab_open(&v, other, 0, &d), ALS_EFORMAT);
    snprintf(want, sizeof want, "'%s': missing section OFFS", other);
    T_EQ_STR(d.msg, want);
    vocab_release(&v);
}
