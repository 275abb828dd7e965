/* SPDX-License-Identifier: MIT */
/* hmap: the stable string hash and slot encoding of the persisted vocabulary index. */
#ifndef ALS_HMAP_H
#define ALS_HMAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * The hash is part of the vocabulary file format (als-formats(5)): changing it means a
 * new major version. Words are read little-endian, 8 bytes at a time, tail zero-padded.
 * A slot is 0 when empty, else (upper 32 bits of the hash) << 32 | (index + 1); the home
 * slot of a key is hash & (nslots - 1) and collisions probe linearly.
 */
static inline uint64_t
hmap_load_le64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline uint64_t
hmap_hash(const void *key, size_t n)
{
    const unsigned char *s = key;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        h = (h ^ hmap_load_le64(s)) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)s[i] << (8 * i);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

/* splitmix64's finaliser: a bijective 64-bit mix, for seeded keys (initial factors,
 * split choices) that must not depend on order or threads. */
static inline uint64_t
hmap_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static inline uint64_t
hmap_slot(uint64_t hash, uint64_t index)
{
    return (hash & 0xffffffff00000000ull) | (index + 1);
}

static inline uint64_t
hmap_slot_index(uint64_t slot) /* only for a non-empty slot */
{
    return (slot & 0xffffffffull) - 1;
}

static inline int
hmap_slot_tag_matches(uint64_t slot, uint64_t hash)
{
    return (slot >> 32) == (hash >> 32);
}

#endif
