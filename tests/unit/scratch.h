/* SPDX-License-Identifier: MIT */
/* scratch.h: the unit tests' shared helpers: a scratch directory, whole files, seeded PRNGs. */
#ifndef ALS_SCRATCH_H
#define ALS_SCRATCH_H

/*
 * Everything here is static: each test program gets its own copy. The functions are marked
 * unused only so that a test which calls some of them is not warned about the others.
 */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- scratch directory: made on first use, removed with everything in it at exit ---- */

/* The scratch directory, "/tmp/test_<mod>-XXXXXX"; empty until the first tpath(). */
static char t_dir[64];
/* The paths tpath() has handed out: one stable string per name. */
static char scratch_paths[64][512];
static int scratch_npaths;

/* The test program's name: the base name of the .c file being compiled, without ".c". */
__attribute__((unused)) static void
scratch_name(const char **name, int *len)
{
#ifdef __BASE_FILE__
    const char *f = __BASE_FILE__, *slash = strrchr(f, '/');
#else
    const char *f = "unit", *slash = NULL;
#endif
    *name = slash ? slash + 1 : f;
    *len = (int)strlen(*name);
    if (*len > 2 && strcmp(*name + *len - 2, ".c") == 0)
        *len -= 2;
}

/* Remove path; a directory (not a link to one) goes with everything under it. Errors are
 * ignored: this is cleanup at exit. */
static void
scratch_remove(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    DIR *dir = opendir(path);
    if (dir) {
        for (struct dirent *e; (e = readdir(dir));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[1024];
            if (snprintf(p, sizeof p, "%s/%s", path, e->d_name) < (int)sizeof p)
                scratch_remove(p);
        }
        closedir(dir);
    }
    rmdir(path);
}

__attribute__((destructor)) static void
scratch_cleanup(void)
{
    if (t_dir[0])
        scratch_remove(t_dir);
}

/* The path of name inside the scratch directory, which is made on the first call (the
 * program exits if it cannot be). The string stays valid until exit; the same name gives
 * the same pointer. At most 64 different names per program. */
__attribute__((unused)) static const char *
tpath(const char *name)
{
    const char *prog;
    int plen;
    scratch_name(&prog, &plen);
    if (!t_dir[0]) {
        snprintf(t_dir, sizeof t_dir, "/tmp/%.*s-XXXXXX", plen < 40 ? plen : 40, prog);
        if (!mkdtemp(t_dir)) {
            perror("mkdtemp");
            t_dir[0] = '\0';
            exit(1);
        }
    }
    char p[512];
    snprintf(p, sizeof p, "%s/%s", t_dir, name);
    for (int i = 0; i < scratch_npaths; i++)
        if (strcmp(scratch_paths[i], p) == 0)
            return scratch_paths[i];
    if (scratch_npaths == (int)(sizeof scratch_paths / sizeof scratch_paths[0])) {
        fprintf(stderr, "%.*s: too many scratch files\n", plen, prog);
        exit(1);
    }
    strcpy(scratch_paths[scratch_npaths], p);
    return scratch_paths[scratch_npaths++];
}

/* ---- whole files ---- */

/* The contents of path in a malloc'd buffer (the caller frees it), followed by a NUL that
 * *len does not count. NULL with *len = 0 if path cannot be opened, NULL if it cannot be
 * read. */
__attribute__((unused)) static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    *len = 0;
    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        if (buf)
            buf[n] = '\0';
        *len = (size_t)n;
    }
    fclose(fp);
    return buf;
}

/* Create or truncate path and write the len bytes at buf to it: 0, or -1 on any error. */
__attribute__((unused)) static int
spit(const char *path, const void *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t w = len ? fwrite(buf, 1, len, fp) : 0;
    return fclose(fp) == 0 && w == len ? 0 : -1;
}

/* ---- fixed-seed PRNGs: the same seed gives the same numbers on every run ---- */

/* splitmix64: the next number from state *s. */
__attribute__((unused)) static uint64_t
rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* xorshift64*: the next number from state *s, which must not be 0. Its sequence differs
 * from rnd()'s, so the tests that use it keep it to see the same data as always. */
__attribute__((unused)) static uint64_t
rnd_xorshift(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

#endif
