/* SPDX-License-Identifier: MIT */
/* test_zio: line input from plain and gzip files (members, long lines, truncation), raw
 * reads and peeks, and atomic output (commit, abort, temporary file, stdout). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "diag.h"
#include "zio.h"

#include "t.h"
#include "scratch.h"

/* gzip data into path with zlib's own writer (one member). */
static int
spit_gz(const char *path, const void *buf, size_t len)
{
    gzFile g = gzopen(path, "wb");
    if (!g)
        return -1;
    int ok = len == 0 || gzwrite(g, buf, (unsigned)len) == (int)len;
    return gzclose(g) == Z_OK && ok ? 0 : -1;
}

/* The gzip bytes of data (one member), via a scratch file. */
static unsigned char *
gz_bytes(const void *buf, size_t len, size_t *out_len)
{
    const char *p = tpath("gz-bytes.tmp.gz");
    if (spit_gz(p, buf, len) < 0)
        return NULL;
    return slurp(p, out_len);
}

/* Read every line of path; returns the number of lines or < 0 (the error code), and
 * joins the lines with '\n' into *all (malloc'd). */
static long
read_lines(const char *path, char **all, size_t *all_len, struct diag *d)
{
    struct zio_in *in = NULL;
    *all = NULL;
    *all_len = 0;
    int rc = zio_in_open(&in, path, d);
    if (rc < 0)
        return rc;
    size_t cap = 0;
    long n = 0;
    const char *line;
    size_t len;
    while ((rc = zio_in_getline(in, &line, &len, d)) == 1) {
        if (*all_len + len + 1 > cap) {
            cap = (*all_len + len + 1) * 2;
            char *nb = realloc(*all, cap);
            if (!nb) {
                rc = ALS_ENOMEM;
                break;
            }
            *all = nb;
        }
        memcpy(*all + *all_len, line, len);
        *all_len += len;
        (*all)[(*all_len)++] = '\n';
        n++;
        if (zio_in_lineno(in) != (uint64_t)n)
            rc = -999;
    }
    zio_in_close(in);
    return rc < 0 ? rc : n;
}

/* ---- input ---- */

static const char sample[] = "a\nbb\n\nccc"; /* 9 bytes, last line without '\n' */

static void
check_sample_lines(const char *path, int gz)
{
    struct zio_in *in = NULL;
    struct diag d;
    const char *line;
    size_t len;
    T_OK(zio_in_open(&in, path, &d));
    if (!in)
        return;
    T_EQ_INT(zio_in_is_gzip(in), gz);
    T_EQ_STR(zio_in_name(in), path);
    T_EQ_INT(zio_in_getline(in, &line, &len, &d), 1);
    T_EQ_MEM(line, len, "a", 1);
    T_EQ_U64(zio_in_lineno(in), 1);
    T_EQ_U64(zio_in_offset(in), 2);
    T_EQ_INT(zio_in_getline(in, &line, &len, &d), 1);
    T_EQ_MEM(line, len, "bb", 2);
    T_EQ_INT(zio_in_getline(in, &line, &len, &d), 1);
    T_EQ_U64(len, 0);
    T_EQ_INT(zio_in_getline(in, &line, &len, &d), 1);
    T_EQ_MEM(line, len, "ccc", 3);
    T_EQ_U64(zio_in_lineno(in), 4);
    T_EQ_U64(zio_in_offset(in), 9);
    T_EQ_INT(zio_in_getline(in, &line, &len, &d), 0);
    T_EQ_INT(zio_in_getline(in, &line, &len, &d), 0);
    T_EQ_U64(zio_in_lineno(in), 4);
    zio_in_close(in);
}

TEST(plain_lines)
{
    const char *p = tpath("sample.txt");
    T_OK(spit(p, sample, 9));
    check_sample_lines(p, 0);
}

TEST(gzip_lines)
{
    const char *p = tpath("sample.txt.gz");
    T_OK(spit_gz(p, sample, 9));
    check_sample_lines(p, 1);
    /* The name does not matter, only the magic bytes. */
    const char *q = tpath("sample-gz-without-suffix");
    T_OK(spit_gz(q, sample, 9));
    check_sample_lines(q, 1);
}

TEST(cr_is_kept_and_final_newline_adds_no_line)
{
    const char *p = tpath("crlf.txt");
    char *all;
    size_t n;
    struct diag d;
    T_OK(spit(p, "x\r\ny\r\n", 6));
    T_EQ_INT(read_lines(p, &all, &n, &d), 2);
    T_EQ_MEM(all, n, "x\r\ny\r\n", 6);
    free(all);

    /* A lone "\n" is one empty line; an empty file has none. */
    T_OK(spit(p, "\n", 1));
    T_EQ_INT(read_lines(p, &all, &n, &d), 1);
    T_EQ_U64(n, 1);
    free(all);
    T_OK(spit(p, "", 0));
    T_EQ_INT(read_lines(p, &all, &n, &d), 0);
    free(all);
    T_OK(spit_gz(p, "", 0));
    T_EQ_INT(read_lines(p, &all, &n, &d), 0);
    free(all);
    /* One byte: too short for the magic, read as plain. */
    T_OK(spit(p, "\x1f", 1));
    T_EQ_INT(read_lines(p, &all, &n, &d), 1);
    T_EQ_MEM(all, n, "\x1f\n", 2);
    free(all);
}

TEST(concatenated_gzip_members)
{
    size_t l1, l2, l3;
    unsigned char *m1 = gz_bytes("ab", 2, &l1);
    unsigned char *m2 = gz_bytes("", 0, &l2);
    unsigned char *m3 = gz_bytes("c\nd\n", 4, &l3);
    T_TRUE(m1 && m2 && m3);
    if (!m1 || !m2 || !m3) {
        free(m1);
        free(m2);
        free(m3);
        return;
    }
    unsigned char *cat = malloc(l1 + l2 + l3);
    memcpy(cat, m1, l1);
    memcpy(cat + l1, m2, l2);
    memcpy(cat + l1 + l2, m3, l3);
    const char *p = tpath("members.gz");
    T_OK(spit(p, cat, l1 + l2 + l3));

    /* A line spans the member boundary: "ab" + "c\n" is one line. */
    char *all;
    size_t n;
    struct diag d;
    T_EQ_INT(read_lines(p, &all, &n, &d), 2);
    T_EQ_MEM(all, n, "abc\nd\n", 6);
    free(all);

    /* Garbage after the last member is an error, not silently ignored. */
    unsigned char *junk = malloc(l1 + 5);
    memcpy(junk, m1, l1);
    memcpy(junk + l1, "junk\n", 5);
    T_OK(spit(p, junk, l1 + 5));
    T_TRUE(read_lines(p, &all, &n, &d) < 0);
    free(all);
    free(junk);
    free(cat);
    free(m1);
    free(m2);
    free(m3);
}

/* 3 MiB of letters, '\n', "short" (no final newline). */
enum { LONG_LEN = 3 << 20 };

static char *
long_content(size_t *len)
{
    char *s = malloc(LONG_LEN + 7);
    if (!s)
        return NULL;
    for (size_t i = 0; i < LONG_LEN; i++)
        s[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    memcpy(s + LONG_LEN, "\nshort", 6);
    *len = LONG_LEN + 6;
    return s;
}

static void
check_long(const char *path)
{
    size_t clen;
    char *c = long_content(&clen);
    struct zio_in *in = NULL;
    struct diag d;
    const char *line;
    size_t len;
    T_OK(zio_in_open(&in, path, &d));
    if (!in || !c) {
        free(c);
        zio_in_close(in);
        return;
    }
    T_EQ_INT(zio_in_getline(in, &line, &len, &d), 1);
    T_EQ_U64(len, LONG_LEN);
    T_TRUE(len == LONG_LEN && memcmp(line, c, LONG_LEN) == 0);
    T_EQ_INT(zio_in_getline(in, &line, &len, &d), 1);
    T_EQ_MEM(line, len, "short", 5);
    T_EQ_INT(zio_in_getline(in, &line, &len, &d), 0);
    T_EQ_U64(zio_in_offset(in), clen);
    zio_in_close(in);
    free(c);
}

TEST(line_longer_than_buffer)
{
    size_t clen;
    char *c = long_content(&clen);
    T_TRUE(c != NULL);
    if (!c)
        return;
    const char *p = tpath("long.txt");
    const char *q = tpath("long.txt.gz");
    T_OK(spit(p, c, clen));
    T_OK(spit_gz(q, c, clen));
    free(c);
    check_long(p);
    check_long(q);
}

TEST(truncated_gzip_at_every_offset)
{
    static const char text[] = "user\titem\t5\nuser2\titem2\t3\n";
    size_t glen;
    unsigned char *g = gz_bytes(text, sizeof text - 1, &glen);
    T_TRUE(g != NULL && glen > 20);
    if (!g)
        return;
    const char *p = tpath("trunc.gz");
    int bad = 0;
    for (size_t cut = 2; cut < glen; cut++) {
        T_OK(spit(p, g, cut));
        char *all;
        size_t n;
        struct diag d;
        memset(&d, 0, sizeof d);
        long rc = read_lines(p, &all, &n, &d);
        free(all);
        if (rc != ALS_EFORMAT || !strstr(d.msg, "truncated") || !strstr(d.msg, p)) {
            if (bad++ < 3)
                printf("#   cut at %zu of %zu: %ld '%s'\n", cut, glen, rc, d.msg);
        }
    }
    T_EQ_INT(bad, 0);

    /* The exact message for a cut in the middle. */
    T_OK(spit(p, g, glen / 2));
    char *all, want[600];
    size_t n;
    struct diag d;
    T_EQ_INT(read_lines(p, &all, &n, &d), ALS_EFORMAT);
    free(all);
    snprintf(want, sizeof want, "'%s': truncated gzip stream (unexpected end of file)", p);
    T_EQ_STR(d.msg, want);
    free(g);
}

TEST(corrupt_gzip)
{
    static const char text[] = "some text that compresses\nsome text that compresses\n";
    size_t glen;
    unsigned char *g = gz_bytes(text, sizeof text - 1, &glen);
    T_TRUE(g != NULL);
    if (!g)
        return;
    const char *p = tpath("corrupt.gz");
    char *all;
    size_t n;
    struct diag d;
    /* The CRC-32 in the trailer (the 8 bytes before the end hold CRC and size). */
    g[glen - 8] ^= 0x01;
    T_OK(spit(p, g, glen));
    T_EQ_INT(read_lines(p, &all, &n, &d), ALS_EFORMAT);
    T_TRUE(strstr(d.msg, "corrupt gzip stream") != NULL);
    free(all);
    free(g);
}

TEST(read_and_peek)
{
    const char *paths[2] = { tpath("digits.txt"), tpath("digits.gz") };
    T_OK(spit(paths[0], "0123456789", 10));
    T_OK(spit_gz(paths[1], "0123456789", 10));
    for (int k = 0; k < 2; k++) {
        struct zio_in *in = NULL;
        struct diag d;
        const void *p;
        char buf[32];
        size_t got;
        T_OK(zio_in_open(&in, paths[k], &d));
        if (!in)
            continue;
        T_OK(zio_in_peek(in, &p, 4, &got, &d));
        T_EQ_MEM(p, got, "0123", 4);
        T_OK(zio_in_peek(in, &p, 2, &got, &d)); /* peeking does not consume */
        T_EQ_MEM(p, got, "01", 2);
        T_OK(zio_in_read(in, buf, 3, &got, &d));
        T_EQ_MEM(buf, got, "012", 3);
        T_EQ_U64(zio_in_offset(in), 3);
        T_OK(zio_in_peek(in, &p, 100, &got, &d)); /* short at the end */
        T_EQ_MEM(p, got, "3456789", 7);
        /* A line after a raw read starts where the read stopped. */
        const char *line;
        size_t len;
        T_EQ_INT(zio_in_getline(in, &line, &len, &d), 1);
        T_EQ_MEM(line, len, "3456789", 7);
        T_OK(zio_in_read(in, buf, sizeof buf, &got, &d));
        T_EQ_U64(got, 0);
        T_OK(zio_in_peek(in, &p, 1, &got, &d));
        T_EQ_U64(got, 0);
        zio_in_close(in);
    }

    /* A peek asks for at most 4096 bytes. */
    char *big = malloc(10000);
    memset(big, 'p', 10000);
    const char *bp = tpath("peek.txt");
    T_OK(spit(bp, big, 10000));
    struct zio_in *in = NULL;
    struct diag d;
    const void *p;
    size_t got;
    T_OK(zio_in_open(&in, bp, &d));
    if (in) {
        T_OK(zio_in_peek(in, &p, 8000, &got, &d));
        T_EQ_U64(got, 4096);
        T_OK(zio_in_read(in, big, 10000, &got, &d));
        T_EQ_U64(got, 10000);
        zio_in_close(in);
    }
    free(big);
    zio_in_close(NULL);
}

TEST(open_errors)
{
    struct zio_in *in = (struct zio_in *)&in;
    struct diag d;
    const char *p = tpath("does-not-exist");
    T_EQ_INT(zio_in_open(&in, p, &d), ALS_EIO);
    T_TRUE(in == NULL);
    char want[600];
    snprintf(want, sizeof want, "cannot open '%s': %s", p, strerror(ENOENT));
    T_EQ_STR(d.msg, want);
    T_EQ_INT(d.sys_errno, ENOENT);

    in = (struct zio_in *)&in;
    T_TRUE(t_dir[0] != '\0'); /* made by tpath above */
    T_EQ_INT(zio_in_open(&in, t_dir, &d), ALS_EIO);
    T_TRUE(in == NULL);
    T_EQ_INT(d.sys_errno, EISDIR);
}

/* ---- output ---- */

static int
count_matches(const char *pattern)
{
    glob_t g;
    int rc = glob(pattern, 0, NULL, &g);
    int n = rc == 0 ? (int)g.gl_pathc : 0;
    if (rc == 0)
        globfree(&g);
    return n;
}

TEST(out_commit_via_temporary_beside_target)
{
    const char *p = tpath("out.txt");
    char pat[600];
    snprintf(pat, sizeof pat, "%s.als-tmp.??????", p);
    struct zio_out o;
    struct diag d;
    unlink(p);
    T_OK(zio_out_open(&o, p, &d));
    /* While open: one temporary "out.txt.als-tmp.XXXXXX" in the same directory, no target. */
    T_EQ_INT(count_matches(pat), 1);
    T_TRUE(o.tmp_path != NULL && strncmp(o.tmp_path, p, strlen(p)) == 0);
    T_TRUE(access(p, F_OK) != 0);
    T_OK(zio_out_write(&o, "hello ", 6, &d));
    T_OK(zio_out_write(&o, "world\n", 6, &d));
    T_EQ_U64(o.bytes, 12);
    T_OK(zio_out_commit(&o, &d));
    T_EQ_INT(count_matches(pat), 0);
    size_t len;
    unsigned char *b = slurp(p, &len);
    T_EQ_MEM(b, len, "hello world\n", 12);
    free(b);
    zio_out_abort(&o); /* a no-op after commit */
    zio_out_abort(&o);
    T_TRUE(access(p, F_OK) == 0);
}

/* What a SIGKILLed writer leaves: its temporary, no longer locked by anyone. */
TEST(out_open_removes_dead_writers_temporaries_only)
{
    const char *p = tpath("st.bin");
    const char *dead = tpath("st.bin.als-tmp.a1B2c3");
    const char *live = tpath("st.bin.als-tmp.zzzzzz");
    /* Not temporaries of st.bin: another target's, the old unlockable-by-name style, a
     * wrong length, a character outside the alphabet. */
    const char *others[] = { tpath("st.bin2.als-tmp.a1B2c3"), tpath("st.bin.a1B2c3"),
                             tpath("st.bin.als-tmp.a1B2c"), tpath("st.bin.als-tmp.a1B2c-"),
                             tpath("xst.bin.als-tmp.a1B2c3") };
    struct zio_out o;
    struct diag d;
    T_OK(spit(dead, "half", 4));
    T_OK(spit(live, "busy", 4));
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        T_OK(spit(others[i], "x", 1));
    /* A live writer holds its lock on its own open file description. */
    int lfd = open(live, O_RDONLY);
    T_TRUE(lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) == 0);

    T_OK(zio_out_open(&o, p, &d));
    T_TRUE(access(dead, F_OK) != 0);
    T_TRUE(access(live, F_OK) == 0);
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        T_TRUE(access(others[i], F_OK) == 0);
    /* Our own temporary is locked as well: a second writer of st.bin leaves it. */
    struct zio_out o2;
    T_OK(zio_out_open(&o2, p, &d));
    T_TRUE(access(o.tmp_path, F_OK) == 0);
    T_OK(zio_out_write(&o2, "two", 3, &d));
    T_OK(zio_out_commit(&o2, &d));
    T_TRUE(access(o.tmp_path, F_OK) == 0);
    T_OK(zio_out_write(&o, "one", 3, &d));
    T_OK(zio_out_commit(&o, &d));
    size_t len;
    unsigned char *b = slurp(p, &len);
    T_EQ_MEM(b, len, "one", 3);
    free(b);

    /* Once its writer is gone (the lock released), the next writer removes it. */
    close(lfd);
    T_TRUE(access(live, F_OK) == 0);
    T_OK(zio_out_open(&o, p, &d));
    zio_out_abort(&o);
    T_TRUE(access(live, F_OK) != 0);
    T_TRUE(access(p, F_OK) == 0);
}

TEST(out_is_temp_of)
{
    T_TRUE(zio_is_temp_of("a.csr.als-tmp.Zz09aQ", "a.csr"));
    T_TRUE(!zio_is_temp_of("a.csr.als-tmp.Zz09a", "a.csr"));
    T_TRUE(!zio_is_temp_of("a.csr.als-tmp.Zz09aQQ", "a.csr"));
    T_TRUE(!zio_is_temp_of("a.csr.als-tmp.Zz0.aQ", "a.csr"));
    T_TRUE(!zio_is_temp_of("a.csr.als-tmp.Zz09aQ", "a.cs"));
    T_TRUE(!zio_is_temp_of("a.csr", "a.csr"));
    T_TRUE(!zio_is_temp_of("a.csr.Zz09aQ", "a.csr"));
}

/* The n-th rename from now fails (EXDEV), 0: none. This definition takes the place of
 * libc's for libals.a too, so zio's own renames are the ones counted. */
static int fail_rename_at;

int
rename(const char *from, const char *to)
{
    if (fail_rename_at > 0 && --fail_rename_at == 0) {
        errno = EXDEV;
        return -1;
    }
    return renameat(AT_FDCWD, from, AT_FDCWD, to);
}

/* Commit "A1"/"B1" over a and b (absent when old_a is NULL) with the n-th rename failing. */
static int
pair_with_failure(const char *a, const char *b, const char *old_a, int n, struct diag *d)
{
    struct zio_out oa, ob;
    int rc;
    unlink(a);
    if (old_a)
        T_OK(spit(a, old_a, strlen(old_a)));
    T_OK(spit(b, "B0", 2));
    T_OK(zio_out_open(&oa, a, d));
    T_OK(zio_out_open(&ob, b, d));
    T_OK(zio_out_write(&oa, "A1", 2, d));
    T_OK(zio_out_write(&ob, "B1", 2, d));
    fail_rename_at = n;
    rc = zio_out_commit_pair(&oa, &ob, d);
    fail_rename_at = 0;
    zio_out_abort(&ob);
    zio_out_abort(&oa);
    return rc;
}

static void
check_content(const char *path, const char *want)
{
    size_t len;
    unsigned char *b = slurp(path, &len);
    T_TRUE(b != NULL);
    if (b)
        T_EQ_MEM(b, len, want, strlen(want));
    free(b);
}

TEST(out_commit_pair_changes_both_or_neither)
{
    const char *a = tpath("pa.csr"), *b = tpath("pb.csr");
    char pat[600];
    snprintf(pat, sizeof pat, "%s/p?.csr.*", t_dir);
    struct diag d;

    /* The second rename fails: the first is put back. */
    T_EQ_INT(pair_with_failure(a, b, "A0", 2, &d), ALS_EIO);
    check_content(a, "A0");
    check_content(b, "B0");
    T_TRUE(strstr(d.msg, "pb.csr") != NULL);
    T_EQ_INT(count_matches(pat), 0);
    /* The first fails: nothing was replaced. */
    T_EQ_INT(pair_with_failure(a, b, "A0", 1, &d), ALS_EIO);
    check_content(a, "A0");
    check_content(b, "B0");
    T_EQ_INT(count_matches(pat), 0);
    /* No previous first file: the new one goes away again. */
    T_EQ_INT(pair_with_failure(a, b, NULL, 2, &d), ALS_EIO);
    T_TRUE(access(a, F_OK) != 0);
    check_content(b, "B0");
    T_EQ_INT(count_matches(pat), 0);
    /* No failure: both new, the backup gone. */
    T_OK(pair_with_failure(a, b, "A0", 0, &d));
    check_content(a, "A1");
    check_content(b, "B1");
    T_EQ_INT(count_matches(pat), 0);
}

TEST(check_distinct_by_inode_or_resolved_path)
{
    const char *a = tpath("cd_a"), *absent = tpath("cd_absent");
    char dotted[600];
    struct diag d;
    T_OK(spit(a, "x", 1));
    snprintf(dotted, sizeof dotted, "%s/./cd_absent", t_dir);
    const char *two_absent[] = { absent, dotted };
    T_EQ_INT(zio_check_distinct(two_absent, 2, NULL, 0, &d), ALS_EUSAGE);
    const char *dev_null[] = { "/dev/null", "/dev/null" };
    T_OK(zio_check_distinct(dev_null, 2, NULL, 0, &d));
    const char *stdout_twice[] = { "-", "-" };
    T_EQ_INT(zio_check_distinct(stdout_twice, 2, NULL, 0, &d), ALS_EUSAGE);
    const char *stdin_in[] = { "-", NULL, a };
    const char *out_a[] = { absent };
    T_OK(zio_check_distinct((const char *const[]){ "-" }, 1, stdin_in, 2, &d));
    T_OK(zio_check_distinct(out_a, 1, stdin_in, 3, &d));
    out_a[0] = a;
    T_EQ_INT(zio_check_distinct(out_a, 1, stdin_in, 3, &d), ALS_EUSAGE);
}

TEST(out_abort_keeps_previous_file)
{
    const char *p = tpath("keep.txt");
    char pat[600];
    snprintf(pat, sizeof pat, "%s.als-tmp.??????", p);
    struct zio_out o;
    struct diag d;
    T_OK(spit(p, "old\n", 4));
    T_OK(zio_out_open(&o, p, &d));
    T_OK(zio_out_write(&o, "new\n", 4, &d));
    T_EQ_INT(count_matches(pat), 1);
    zio_out_abort(&o);
    T_EQ_INT(count_matches(pat), 0);
    size_t len;
    unsigned char *b = slurp(p, &len);
    T_EQ_MEM(b, len, "old\n", 4);
    free(b);

    /* Abort on a new path leaves nothing at all. */
    const char *q = tpath("never.txt");
    snprintf(pat, sizeof pat, "%s*", q);
    T_OK(zio_out_open(&o, q, &d));
    T_OK(zio_out_write(&o, "x", 1, &d));
    zio_out_abort(&o);
    T_EQ_INT(count_matches(pat), 0);

    /* Commit replaces the previous file. */
    T_OK(zio_out_open(&o, p, &d));
    T_OK(zio_out_write(&o, "newer\n", 6, &d));
    T_OK(zio_out_commit(&o, &d));
    b = slurp(p, &len);
    T_EQ_MEM(b, len, "newer\n", 6);
    free(b);
}

TEST(out_large_writes_and_pad)
{
    /* Writes smaller than, equal to and larger than the 1 MiB buffer, interleaved. */
    size_t total = 0, sizes[] = { 10, (1u << 20) - 5, 7, 1u << 20, 3, (5u << 20) / 2, 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        total += sizes[i];
    unsigned char *want = malloc(total + 64);
    for (size_t i = 0; i < total; i++)
        want[i] = (unsigned char)(i * 131 + (i >> 12));
    const char *p = tpath("large.bin");
    struct zio_out o;
    struct diag d;
    T_OK(zio_out_open(&o, p, &d));
    size_t at = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        T_OK(zio_out_write(&o, want + at, sizes[i], &d));
        at += sizes[i];
    }
    /* total = 10 + 1048571 + 7 + 1048576 + 3 + 2621440 + 1 = 4718608 = 64 * 73728 + 16:
     * padding to 64 adds 48 zero bytes. */
    const size_t padn = 48;
    T_EQ_U64(total, 4718608);
    T_OK(zio_out_pad(&o, 64, &d));
    T_EQ_U64(o.bytes, total + padn);
    T_OK(zio_out_pad(&o, 64, &d)); /* already aligned: nothing */
    T_EQ_U64(o.bytes, total + padn);
    T_OK(zio_out_commit(&o, &d));
    memset(want + total, 0, padn);
    size_t len;
    unsigned char *b = slurp(p, &len);
    T_EQ_U64(len, total + padn);
    T_TRUE(b && len == total + padn && memcmp(b, want, len) == 0);
    free(b);
    free(want);
}

TEST(out_mode_follows_umask)
{
    const char *p = tpath("mode.txt");
    struct zio_out o;
    struct diag d;
    struct stat st;
    unlink(p);
    mode_t old = umask(022);
    T_OK(zio_out_open(&o, p, &d));
    T_OK(zio_out_commit(&o, &d));
    T_OK(stat(p, &st));
    T_EQ_INT(st.st_mode & 0777, 0644);
    umask(027);
    T_OK(zio_out_open(&o, p, &d));
    T_OK(zio_out_commit(&o, &d));
    T_OK(stat(p, &st));
    T_EQ_INT(st.st_mode & 0777, 0640);
    umask(old);
}

TEST(out_through_symlink_replaces_the_target)
{
    /* As git's lockfiles do: the file the link points to is replaced, the link stays. */
    const char *real = tpath("real.txt");
    const char *link = tpath("link.txt");
    struct zio_out o;
    struct diag d;
    struct stat st;
    T_OK(spit(real, "old\n", 4));
    unlink(link);
    T_OK(symlink("real.txt", link));
    T_OK(zio_out_open(&o, link, &d));
    T_OK(zio_out_write(&o, "new\n", 4, &d));
    T_OK(zio_out_commit(&o, &d));
    T_OK(lstat(link, &st));
    T_TRUE(S_ISLNK(st.st_mode));
    size_t len;
    unsigned char *b = slurp(real, &len);
    T_EQ_MEM(b, len, "new\n", 4);
    free(b);
    b = slurp(link, &len);
    T_EQ_MEM(b, len, "new\n", 4);
    free(b);
}

TEST(out_into_missing_directory)
{
    char p[600];
    (void)tpath("unused"); /* makes the scratch directory */
    snprintf(p, sizeof p, "%s/no-such-dir/out.txt", t_dir);
    struct zio_out o;
    struct diag d;
    T_EQ_INT(zio_out_open(&o, p, &d), ALS_EIO);
    char want[700];
    snprintf(want, sizeof want, "cannot create '%s': %s", p, strerror(ENOENT));
    T_EQ_STR(d.msg, want);
    T_EQ_INT(d.sys_errno, ENOENT);
    zio_out_abort(&o); /* safe after a failed open */
}

TEST(out_to_device_is_written_in_place)
{
    struct zio_out o;
    struct diag d;
    struct stat st;
    T_OK(zio_out_open(&o, "/dev/null", &d));
    T_EQ_INT(o.is_stdout, 1);
    T_TRUE(o.tmp_path == NULL);
    T_OK(zio_out_write(&o, "discard", 7, &d));
    T_OK(zio_out_commit(&o, &d));
    zio_out_abort(&o);
    T_OK(stat("/dev/null", &st));
    T_TRUE(S_ISCHR(st.st_mode));
}

TEST(out_dash_is_stdout)
{
    const char *p = tpath("stdout.txt");
    struct zio_out o;
    struct diag d;
    fflush(stdout);
    int saved = dup(1);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    T_TRUE(saved >= 0 && fd >= 0);
    if (saved < 0 || fd < 0)
        return;
    dup2(fd, 1);
    close(fd);
    int rc1 = zio_out_open(&o, "-", &d);
    int rc2 = rc1 ? rc1 : zio_out_write(&o, "to stdout\n", 10, &d);
    int rc3 = rc2 ? rc2 : zio_out_commit(&o, &d);
    int is_stdout = o.is_stdout;
    zio_out_abort(&o); /* must not close fd 1 */
    int still_open = fcntl(1, F_GETFD) != -1;
    dup2(saved, 1);
    close(saved);
    T_OK(rc1);
    T_OK(rc2);
    T_OK(rc3);
    T_EQ_INT(is_stdout, 1);
    T_TRUE(still_open);
    size_t len;
    unsigned char *b = slurp(p, &len);
    T_EQ_MEM(b, len, "to stdout\n", 10);
    free(b);
}

/* A link to a directory is refused by the name given, saying where it leads; nothing is
 * created. The message is made before zio_out_open frees what it resolved (ASan:
 * heap-use-after-free once). */
TEST(out_through_symlink_to_directory_fails_with_its_name)
{
    const char *dir = tpath("a-dir");
    const char *link = tpath("link-to-dir");
    struct zio_out o;
    struct diag d;
    T_OK(mkdir(dir, 0700));
    T_OK(symlink("a-dir", link));
    T_EQ_INT(zio_out_open(&o, link, &d), ALS_EIO);
    char want[1200];
    snprintf(want, sizeof want, "cannot write '%s': a link to the directory '%s'", link, dir);
    T_EQ_STR(d.msg, want);
    zio_out_abort(&o); /* safe after a failed open */
    char pat[600];
    snprintf(pat, sizeof pat, "%s/*", dir);
    T_EQ_INT(count_matches(pat), 0);
}

/* A dangling link names the file to create: the target is written, the link stays a link
 * (the temporary goes beside the target, the rename replaces the target). */
TEST(out_through_dangling_symlink_creates_the_target)
{
    const char *target = tpath("not-yet.txt");
    const char *link = tpath("dangling.txt");
    struct zio_out o;
    struct diag d;
    struct stat st;
    unlink(target);
    T_OK(symlink("not-yet.txt", link));
    T_OK(zio_out_open(&o, link, &d));
    T_TRUE(o.tmp_path != NULL && strncmp(o.tmp_path, target, strlen(target)) == 0);
    T_OK(zio_out_write(&o, "made\n", 5, &d));
    T_OK(zio_out_commit(&o, &d));
    T_OK(lstat(link, &st));
    T_TRUE(S_ISLNK(st.st_mode));
    T_OK(lstat(target, &st));
    T_TRUE(S_ISREG(st.st_mode));
    size_t len;
    unsigned char *b = slurp(target, &len);
    T_EQ_MEM(b, len, "made\n", 5);
    free(b);
}

/* A chain: link -> sub/mid (relative to the link's directory) -> ../end.txt (relative to
 * sub/), dangling at its end. Only end.txt is written; every link stays. */
TEST(out_through_symlink_chain_follows_each_relative_link)
{
    const char *sub = tpath("chain-sub");
    const char *end = tpath("end.txt");
    const char *link = tpath("chain-start");
    char mid[600];
    struct zio_out o;
    struct diag d;
    struct stat st;
    T_OK(mkdir(sub, 0700));
    snprintf(mid, sizeof mid, "%s/mid", sub);
    T_OK(symlink("../end.txt", mid));
    T_OK(symlink("chain-sub/mid", link));
    unlink(end);
    T_OK(zio_out_open(&o, link, &d));
    T_OK(zio_out_write(&o, "end\n", 4, &d));
    T_OK(zio_out_commit(&o, &d));
    T_OK(lstat(link, &st));
    T_TRUE(S_ISLNK(st.st_mode));
    T_OK(lstat(mid, &st));
    T_TRUE(S_ISLNK(st.st_mode));
    size_t len;
    unsigned char *b = slurp(end, &len);
    T_EQ_MEM(b, len, "end\n", 4);
    free(b);
}

/* Two links pointing at each other: ELOOP by the name given, nothing created. */
TEST(out_through_symlink_loop_fails)
{
    const char *a = tpath("loop-a");
    const char *b = tpath("loop-b");
    struct zio_out o;
    struct diag d;
    T_OK(symlink("loop-b", a));
    T_OK(symlink("loop-a", b));
    T_EQ_INT(zio_out_open(&o, a, &d), ALS_EIO);
    char want[700];
    snprintf(want, sizeof want, "cannot write '%s': %s", a, strerror(ELOOP));
    T_EQ_STR(d.msg, want);
    T_EQ_INT(d.sys_errno, ELOOP);
    zio_out_abort(&o);
    char pat[600];
    snprintf(pat, sizeof pat, "%s/loop-?.??????", t_dir);
    T_EQ_INT(count_matches(pat), 0);
}

/* The same on the other error path: the link's target is a regular file, but no temporary
 * can be created beside it. /proc refuses new files even to root; where /proc/version is
 * not a regular file the case cannot be built and is skipped. */
TEST(out_through_symlink_into_unwritable_directory_names_the_target)
{
    struct stat st;
    if (stat("/proc/version", &st) != 0 || !S_ISREG(st.st_mode)) {
        printf("# skip: /proc/version is not a regular file here\n");
        return;
    }
    const char *link = tpath("link-to-proc");
    struct zio_out o;
    struct diag d;
    T_OK(symlink("/proc/version", link));
    int rc = zio_out_open(&o, link, &d);
    T_EQ_INT(rc, ALS_EIO);
    if (rc == 0) {
        zio_out_abort(&o);
        return;
    }
    char want[700];
    snprintf(want, sizeof want, "cannot create '/proc/version': %s", strerror(d.sys_errno));
    T_EQ_STR(d.msg, want);
    T_TRUE(d.sys_errno != 0);
}
