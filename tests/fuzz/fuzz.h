/* SPDX-License-Identifier: MIT */
/* fuzz.h: helpers shared by the libFuzzer targets: input files, scratch dirs, CRC fix-ups. */
#ifndef ALS_FUZZ_H
#define ALS_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "afile.h"
#include "triples.h"
#include "vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the library's contract failed: abort, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: contract violated: %s\n", __FILE__, __LINE__, #cond);     \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* A harness problem (not a library bug): say so and stop. */
#define FUZZ_DIE(what)                                                                        \
    do {                                                                                      \
        fprintf(stderr, "fuzz harness: %s: %s\n", what, strerror(errno));                     \
        exit(3);                                                                              \
    } while (0)

/*
 * Known bugs: share/fuzz.sh lists in ALS_FUZZ_KNOWN (comma-separated) the tags of the
 * saved crashes (tests/fuzz/crashes/TARGET-TAG) that still reproduce, and the targets
 * step around those inputs, so that a pending fix does not stop the search for new bugs.
 */
static inline int
fuzz_known(const char *tag)
{
    const char *k = getenv("ALS_FUZZ_KNOWN");
    size_t n = strlen(tag);
    while (k && *k) {
        const char *c = strchr(k, ',');
        size_t m = c ? (size_t)(c - k) : strlen(k);
        if (m == n && memcmp(k, tag, n) == 0)
            return 1;
        k = c ? c + 1 : NULL;
    }
    return 0;
}

static inline int
fuzz_write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    off_t off = 0;
    while (n > 0) {
        ssize_t k = pwrite(fd, b, n, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        off += k;
        n -= (size_t)k;
    }
    return 0;
}

/*
 * The input as a file: one anonymous file per process (memfd, else an unlinked temporary
 * file), rewritten for every input and named by its /proc/self/fd path, so that the
 * readers open, read and mmap it as they would a real file and nothing is left behind.
 */
static inline const char *
fuzz_file(const void *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
#ifdef MFD_CLOEXEC
        fd = memfd_create("als-fuzz", MFD_CLOEXEC);
#endif
        if (fd < 0) {
            const char *t = getenv("TMPDIR");
            char tmpl[4096];
            snprintf(tmpl, sizeof tmpl, "%s/als-fuzz-XXXXXX", t && *t ? t : "/tmp");
            fd = mkstemp(tmpl);
            if (fd < 0)
                FUZZ_DIE("cannot create the input file");
            unlink(tmpl);
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) < 0 || fuzz_write_all(fd, data, size) < 0)
        FUZZ_DIE("cannot write the input file");
    return path;
}

/* ---- a scratch directory per process, removed at exit ---- */

static char fuzz_dir_path[4096];

static inline void
fuzz_rm_tree(const char *path, int depth)
{
    DIR *dir = opendir(path);
    if (dir) {
        for (struct dirent *e; (e = readdir(dir));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[4352];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            if (depth < 4 && lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                fuzz_rm_tree(p, depth + 1);
            else
                unlink(p);
        }
        closedir(dir);
    }
    rmdir(path);
}

static inline void
fuzz_dir_cleanup(void)
{
    if (fuzz_dir_path[0])
        fuzz_rm_tree(fuzz_dir_path, 0);
}

static inline const char *
fuzz_dir(void)
{
    if (!fuzz_dir_path[0]) {
        const char *t = getenv("TMPDIR");
        const char *base = t && *t && t[0] == '/' && strlen(t) < 1024 ? t : "/tmp";
        size_t n = strlen(base);
        memcpy(fuzz_dir_path, base, n);
        memcpy(fuzz_dir_path + n, "/als-fuzz-XXXXXX", sizeof "/als-fuzz-XXXXXX");
        if (!mkdtemp(fuzz_dir_path))
            FUZZ_DIE("cannot create a scratch directory");
        atexit(fuzz_dir_cleanup);
    }
    return fuzz_dir_path;
}

static inline void
fuzz_put_file(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || fuzz_write_all(fd, data, size) < 0)
        FUZZ_DIE(path);
    close(fd);
}

/* ---- the fixture vocabularies the vocabdir target and its seeds agree on ---- */

static const char *const fuzz_users[] = { "alice", "bob", "carol" };
static const char *const fuzz_items[] = { "i1", "i2", "i3", "i4" };
#define FUZZ_NUSERS 3
#define FUZZ_NITEMS 4

static inline void
fuzz_make_vocab(const char *path, const char *const *ids, size_t n)
{
    struct vocab v;
    struct diag d;
    vocab_init(&v);
    if (vocab_clear(&v) < 0)
        FUZZ_DIE("vocab_clear");
    for (size_t i = 0; i < n; i++) {
        uint32_t idx;
        int added;
        if (vocab_intern(&v, ids[i], strlen(ids[i]), &idx, &added, &d) < 0) {
            fprintf(stderr, "fuzz harness: vocab_intern: %s\n", d.msg);
            exit(3);
        }
    }
    if (vocab_save(&v, path, &d) < 0) {
        fprintf(stderr, "fuzz harness: vocab_save: %s\n", d.msg);
        exit(3);
    }
    vocab_release(&v);
}

/* ---- checksum fix-ups: let mutated binary inputs get past the CRCs ---- */

static inline uint32_t
fuzz_crc(const unsigned char *p, uint64_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/*
 * Make an afile container's checksums (and payload_len) agree with its bytes, so that
 * the fuzzer explores the checks behind them. Returns 1 when something changed.
 */
static inline int
fuzz_fix_afile(unsigned char *b, size_t n)
{
    if (n < AFILE_HEADER_SIZE || memcmp(b, "ALSB", 4) != 0)
        return 0;
    unsigned char old[AFILE_HEADER_SIZE];
    memcpy(old, b, sizeof old);
    int changed = 0;
    afile_put_le64(b + 16, (uint64_t)(n - AFILE_HEADER_SIZE));
    if (n >= AFILE_HEADER_SIZE + 8) {
        uint32_t nsec = afile_get_le32(b + AFILE_HEADER_SIZE);
        size_t dirlen = 8 + 32 * (size_t)(nsec > AFILE_MAX_SECTIONS ? 0 : nsec);
        if (nsec <= AFILE_MAX_SECTIONS && AFILE_HEADER_SIZE + dirlen <= n) {
            unsigned char *dir = b + AFILE_HEADER_SIZE;
            for (uint32_t i = 0; i < nsec; i++) {
                unsigned char *e = dir + 8 + 32 * (size_t)i;
                uint64_t off = afile_get_le64(e + 8), sz = afile_get_le64(e + 16);
                if (off <= n && sz <= n - off) {
                    uint32_t c = fuzz_crc(b + off, sz);
                    if (afile_get_le32(e + 24) != c) {
                        afile_put_le32(e + 24, c);
                        changed = 1;
                    }
                }
            }
            afile_put_le32(b + 52, fuzz_crc(dir, dirlen));
        }
    }
    afile_put_le32(b + 60, fuzz_crc(b, 60));
    return changed || memcmp(old, b, sizeof old) != 0;
}

/* The same for a binary triples stream: header, every block and the end marker. */
static inline int
fuzz_fix_triples(unsigned char *b, size_t n)
{
    if (n < AFILE_HEADER_SIZE || memcmp(b, "ALSB", 4) != 0)
        return 0;
    unsigned char old[AFILE_HEADER_SIZE];
    memcpy(old, b, sizeof old);
    int changed = 0;
    afile_put_le32(b + 60, fuzz_crc(b, 60));
    size_t rs = (afile_get_le32(b + 12) & TRIPLES_FLAG_TIME) ? 20 : 12;
    size_t pos = AFILE_HEADER_SIZE;
    while (n - pos >= 16) {
        unsigned char *h = b + pos;
        uint32_t c;
        if (memcmp(h, "TEND", 4) == 0) {
            if (n - pos >= 40 && afile_get_le32(h + 8) != (c = fuzz_crc(h + 16, 24))) {
                afile_put_le32(h + 8, c);
                changed = 1;
            }
            break;
        }
        uint32_t cnt = afile_get_le32(h + 4);
        if (memcmp(h, "TBLK", 4) != 0 || cnt == 0 || cnt > TRIPLES_BLOCK ||
            (n - pos - 16) / rs < cnt)
            break;
        if (afile_get_le32(h + 8) != (c = fuzz_crc(h + 16, cnt * rs))) {
            afile_put_le32(h + 8, c);
            changed = 1;
        }
        pos += 16 + cnt * rs;
    }
    return changed || memcmp(old, b, sizeof old) != 0;
}

/* Fold bytes into a value the optimiser cannot drop, so every byte is really read
 * (and ASan checks the read). */
static volatile unsigned fuzz_sink;

static inline void
fuzz_touch(const void *p, size_t n)
{
    const unsigned char *b = p;
    unsigned s = 0;
    for (size_t i = 0; i < n; i++)
        s += b[i];
    fuzz_sink += s;
}

#endif
