/* SPDX-License-Identifier: MIT */
/* zio: buffered plain-or-gzip input from files or stdin, and atomic file output. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "zio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "xmem.h"

#define ZIO_BUF (1u << 20)   /* parse buffer; grows for long lines up to ZIO_MAX_LINE */
#define ZIO_RAW (256u << 10) /* compressed read size */
#define ZIO_NBLK 4           /* decompressed blocks in flight between the two threads */
#define ZIO_BLK (1u << 20)

/*
 * Decompression runs on a producer thread that fills a ring of ZIO_NBLK blocks; the
 * parsing thread copies from them into its line buffer. The copy is cheap next to
 * inflate (tens of GB/s against ~300 MB/s) and keeps the line logic identical for plain
 * and gzip input.
 */
struct zio_blk {
    unsigned char *data;
    size_t len;
};

struct zio_gz {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct zio_blk blk[ZIO_NBLK];
    unsigned head, count; /* ring of filled blocks */
    size_t pos;           /* consumed bytes of blk[head] */
    int done;             /* producer finished (eof or error) */
    int stop;             /* consumer asks producer to quit */
    int err;              /* ALS_* code when the producer failed */
    int err_errno;
    char err_msg[160];
    unsigned char *raw; /* compressed bytes already read when gzip was detected */
    size_t raw_len;
    uint64_t inflated; /* compressed bytes behind the published blocks (for progress) */
};

struct zio_in {
    int fd;
    int own_fd;
    int eof;
    char name[256];
    unsigned char *buf;
    size_t cap, pos, end;
    uint64_t lineno, consumed;
    struct zio_gz *gz;
};

static void
gz_fail(struct zio_gz *g, int code, int err, const char *msg)
{
    pthread_mutex_lock(&g->mu);
    g->err = code;
    g->err_errno = err;
    snprintf(g->err_msg, sizeof g->err_msg, "%s", msg);
    g->done = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Wait for a free block; returns its index or -1 when the consumer stopped. */
static int
gz_acquire(struct zio_gz *g)
{
    pthread_mutex_lock(&g->mu);
    while (g->count == ZIO_NBLK && !g->stop)
        pthread_cond_wait(&g->cv, &g->mu);
    int idx = g->stop ? -1 : (int)((g->head + g->count) % ZIO_NBLK);
    pthread_mutex_unlock(&g->mu);
    return idx;
}

static void
gz_publish(struct zio_gz *g, size_t len, uint64_t inflated)
{
    pthread_mutex_lock(&g->mu);
    g->blk[(g->head + g->count) % ZIO_NBLK].len = len;
    g->inflated = inflated;
    g->count++;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

struct gz_args {
    struct zio_gz *g;
    int fd;
};

static void *
gz_main(void *arg)
{
    struct zio_gz *g = ((struct gz_args *)arg)->g;
    int fd = ((struct gz_args *)arg)->fd;
    free(arg);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    unsigned char *raw = malloc(ZIO_RAW);
    if (!raw || inflateInit2(&zs, 15 + 16) != Z_OK) {
        free(raw);
        gz_fail(g, ALS_ENOMEM, 0, "out of memory");
        return NULL;
    }
    /* The opener already read the first bytes to recognise the magic: inflate those
     * first, then read on into raw. */
    zs.next_in = g->raw;
    zs.avail_in = (uInt)g->raw_len;
    uint64_t fed = g->raw_len; /* compressed bytes handed to inflate so far */
    int in_eof = 0, member_done = 0;
    for (;;) {
        int idx = gz_acquire(g);
        if (idx < 0)
            break;
        struct zio_blk *b = &g->blk[idx];
        zs.next_out = b->data;
        zs.avail_out = ZIO_BLK;
        int finished = 0;
        while (zs.avail_out > 0) {
            if (zs.avail_in == 0 && !in_eof) {
                ssize_t n;
                do
                    n = read(fd, raw, ZIO_RAW);
                while (n < 0 && errno == EINTR);
                if (n < 0) {
                    gz_fail(g, ALS_EIO, errno, "read error");
                    goto out;
                }
                if (n == 0)
                    in_eof = 1;
                fed += (uint64_t)n;
                zs.next_in = raw;
                zs.avail_in = (uInt)n;
            }
            if (zs.avail_in == 0 && in_eof) {
                if (!member_done) {
                    gz_fail(g, ALS_EFORMAT, 0, "truncated gzip stream (unexpected end of file)");
                    goto out;
                }
                finished = 1;
                break;
            }
            member_done = 0;
            int rc = inflate(&zs, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) {
                /* Another gzip member may follow (pigz, cat a.gz b.gz). */
                member_done = 1;
                if (inflateReset(&zs) != Z_OK) {
                    gz_fail(g, ALS_EFORMAT, 0, "corrupt gzip stream");
                    goto out;
                }
            } else if (rc == Z_BUF_ERROR) {
                continue; /* needs more input; the loop reads it */
            } else if (rc != Z_OK) {
                char m[160];
                snprintf(m, sizeof m, "corrupt gzip stream (%s)", zs.msg ? zs.msg : "inflate");
                gz_fail(g, ALS_EFORMAT, 0, m);
                goto out;
            }
        }
        gz_publish(g, ZIO_BLK - zs.avail_out, fed - zs.avail_in);
        if (finished) {
            pthread_mutex_lock(&g->mu);
            g->done = 1;
            pthread_cond_broadcast(&g->cv);
            pthread_mutex_unlock(&g->mu);
            break;
        }
    }
out:
    inflateEnd(&zs);
    free(raw);
    return NULL;
}

/* Copy up to n decompressed bytes into dst; *got 0 means end of input. */
static int
gz_take(struct zio_in *in, unsigned char *dst, size_t n, size_t *got, struct diag *d)
{
    struct zio_gz *g = in->gz;
    *got = 0;
    pthread_mutex_lock(&g->mu);
    while (*got < n) {
        while (g->count == 0 && !g->done)
            pthread_cond_wait(&g->cv, &g->mu);
        if (g->count == 0) {
            if (g->err) {
                int code = g->err;
                if (g->err_errno)
                    diag_set_errno(d, code, g->err_errno, "'%s': %s", in->name, g->err_msg);
                else
                    diag_set(d, code, "'%s': %s", in->name, g->err_msg);
                pthread_mutex_unlock(&g->mu);
                return code;
            }
            break;
        }
        struct zio_blk *b = &g->blk[g->head];
        size_t k = b->len - g->pos;
        if (k > n - *got)
            k = n - *got;
        pthread_mutex_unlock(&g->mu);
        memcpy(dst + *got, b->data + g->pos, k);
        pthread_mutex_lock(&g->mu);
        *got += k;
        g->pos += k;
        if (g->pos == b->len) {
            g->pos = 0;
            g->head = (g->head + 1) % ZIO_NBLK;
            g->count--;
            pthread_cond_broadcast(&g->cv);
        }
    }
    pthread_mutex_unlock(&g->mu);
    return 0;
}

/* Refill the buffer after pos..end, growing it when full. Sets in->eof. */
static int
fill(struct zio_in *in, struct diag *d)
{
    if (in->pos > 0) {
        memmove(in->buf, in->buf + in->pos, in->end - in->pos);
        in->end -= in->pos;
        in->pos = 0;
    }
    if (in->end == in->cap) {
        if (in->cap >= ZIO_MAX_LINE)
            return diag_set(d, ALS_EFORMAT, "%s:%llu: line longer than %u MiB", in->name,
                            (unsigned long long)in->lineno + 1, ZIO_MAX_LINE >> 20);
        size_t ncap = in->cap * 2;
        unsigned char *nb = realloc(in->buf, ncap + 1);
        if (!nb)
            return diag_set(d, ALS_ENOMEM, "out of memory");
        in->buf = nb;
        in->cap = ncap;
    }
    size_t got = 0;
    if (in->gz) {
        int rc = gz_take(in, in->buf + in->end, in->cap - in->end, &got, d);
        if (rc < 0)
            return rc;
    } else {
        ssize_t n;
        do
            n = read(in->fd, in->buf + in->end, in->cap - in->end);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return diag_set_errno(d, ALS_EIO, errno, "read error on '%s'", in->name);
        got = (size_t)n;
    }
    if (got == 0)
        in->eof = 1;
    in->end += got;
    return 0;
}

int
zio_in_open(struct zio_in **out, const char *path, struct diag *d)
{
    *out = NULL;
    struct zio_in *in = calloc(1, sizeof *in);
    if (!in)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    int rc = 0;
    if (!path || strcmp(path, "-") == 0) {
        in->fd = 0;
        snprintf(in->name, sizeof in->name, "(stdin)");
    } else {
        snprintf(in->name, sizeof in->name, "%s", path);
        in->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (in->fd < 0) {
            rc = diag_set_errno(d, ALS_EIO, errno, "cannot open '%s'", path);
            free(in);
            return rc;
        }
        in->own_fd = 1;
        struct stat st;
        if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = diag_set_errno(d, ALS_EIO, EISDIR, "cannot read '%s'", path);
            goto out;
        }
#ifdef POSIX_FADV_SEQUENTIAL
        (void)posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    in->cap = ZIO_BUF;
    in->buf = malloc(in->cap + 1);
    if (!in->buf) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    /* Read at least two bytes (or to EOF) to recognise the gzip magic. */
    while (in->end < 2 && !in->eof)
        if ((rc = fill(in, d)) < 0)
            goto out;
    if (in->end >= 2 && in->buf[0] == 0x1f && in->buf[1] == 0x8b) {
        struct zio_gz *g = calloc(1, sizeof *g);
        struct gz_args *a = malloc(sizeof *a);
        if (!g || !a) {
            free(g);
            free(a);
            rc = diag_set(d, ALS_ENOMEM, "out of memory");
            goto out;
        }
        in->gz = g;
        pthread_mutex_init(&g->mu, NULL);
        pthread_cond_init(&g->cv, NULL);
        for (int i = 0; i < ZIO_NBLK; i++)
            if (!(g->blk[i].data = malloc(ZIO_BLK))) {
                free(a);
                rc = diag_set(d, ALS_ENOMEM, "out of memory");
                goto out;
            }
        g->raw = in->buf; /* read only by the producer at its start; freed at close */
        g->raw_len = in->end;
        in->buf = malloc(in->cap + 1);
        if (!in->buf) {
            in->buf = g->raw;
            g->raw = NULL;
            free(a);
            rc = diag_set(d, ALS_ENOMEM, "out of memory");
            goto out;
        }
        in->end = 0;
        in->eof = 0;
        a->g = g;
        a->fd = in->fd;
        if (pthread_create(&g->thread, NULL, gz_main, a) != 0) {
            free(a);
            free(g->raw);
            g->raw = NULL;
            for (int i = 0; i < ZIO_NBLK; i++)
                free(g->blk[i].data);
            pthread_mutex_destroy(&g->mu);
            pthread_cond_destroy(&g->cv);
            free(g);
            in->gz = NULL;
            rc = diag_set(d, ALS_ENOMEM, "cannot start the decompression thread");
            goto out;
        }
    }
    *out = in;
    return 0;
out:
    zio_in_close(in);
    return rc;
}

int
zio_in_getline(struct zio_in *in, const char **line, size_t *len, struct diag *d)
{
    size_t scan = in->pos;
    for (;;) {
        unsigned char *nl = scan < in->end ? memchr(in->buf + scan, '\n', in->end - scan) : NULL;
        if (nl) {
            *line = (const char *)in->buf + in->pos;
            *len = (size_t)(nl - (in->buf + in->pos));
            in->consumed += *len + 1;
            in->pos = (size_t)(nl - in->buf) + 1;
            in->lineno++;
            return 1;
        }
        if (in->eof) {
            if (in->pos == in->end)
                return 0;
            *line = (const char *)in->buf + in->pos;
            *len = in->end - in->pos;
            in->consumed += *len;
            in->pos = in->end;
            in->lineno++;
            return 1;
        }
        size_t seen = in->end - in->pos;
        int rc = fill(in, d);
        if (rc < 0)
            return rc;
        scan = in->pos + seen;
    }
}

int
zio_in_read(struct zio_in *in, void *buf, size_t n, size_t *got, struct diag *d)
{
    unsigned char *dst = buf;
    *got = 0;
    while (*got < n) {
        if (in->pos == in->end) {
            if (in->eof)
                break;
            int rc = fill(in, d);
            if (rc < 0)
                return rc;
            continue;
        }
        size_t k = in->end - in->pos;
        if (k > n - *got)
            k = n - *got;
        memcpy(dst + *got, in->buf + in->pos, k);
        in->pos += k;
        *got += k;
    }
    in->consumed += *got;
    return 0;
}

int
zio_in_peek(struct zio_in *in, const void **p, size_t n, size_t *got, struct diag *d)
{
    if (n > 4096)
        n = 4096;
    while (in->end - in->pos < n && !in->eof) {
        int rc = fill(in, d);
        if (rc < 0)
            return rc;
    }
    *p = in->buf + in->pos;
    *got = in->end - in->pos < n ? in->end - in->pos : n;
    return 0;
}

uint64_t
zio_in_lineno(const struct zio_in *in)
{
    return in->lineno;
}

uint64_t
zio_in_offset(const struct zio_in *in)
{
    return in->consumed;
}

uint64_t
zio_in_raw_offset(struct zio_in *in)
{
    struct zio_gz *g = in->gz;
    if (!g)
        return in->consumed;
    pthread_mutex_lock(&g->mu);
    uint64_t n = g->inflated;
    pthread_mutex_unlock(&g->mu);
    return n;
}

uint64_t
zio_path_size(const char *path)
{
    struct stat st;
    off_t at = 0;
    if (!strcmp(path, "-")) {
        if (fstat(0, &st) != 0 || !S_ISREG(st.st_mode) || (at = lseek(0, 0, SEEK_CUR)) < 0)
            return 0;
    } else if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }
    return st.st_size > at ? (uint64_t)(st.st_size - at) : 0;
}

const char *
zio_in_name(const struct zio_in *in)
{
    return in->name;
}

int
zio_in_is_gzip(const struct zio_in *in)
{
    return in->gz != NULL;
}

void
zio_in_close(struct zio_in *in)
{
    if (!in)
        return;
    if (in->gz) {
        struct zio_gz *g = in->gz;
        pthread_mutex_lock(&g->mu);
        g->stop = 1;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
        for (int i = 0; i < ZIO_NBLK; i++)
            free(g->blk[i].data);
        free(g->raw);
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        free(g);
    }
    if (in->own_fd)
        close(in->fd);
    free(in->buf);
    free(in);
}

/* ---- atomic output ---- */

/* Temporary paths a signal handler must unlink. Fixed storage: the handler may only
 * call async-signal-safe functions, so it reads these arrays and calls unlink(). */
#define ZIO_MAX_TMP 16
static char zio_tmp_paths[ZIO_MAX_TMP][PATH_MAX];
static volatile sig_atomic_t zio_tmp_used[ZIO_MAX_TMP];
/* Set while zio_out_commit_pair renames: a handler running on another thread (the
 * committing one blocks the signals) waits for the pair to be done or undone. */
static volatile sig_atomic_t zio_pair_busy;

static void
block_signals(sigset_t *old)
{
    sigset_t all;
    sigemptyset(&all);
    sigaddset(&all, SIGINT);
    sigaddset(&all, SIGTERM);
    sigaddset(&all, SIGHUP);
    sigaddset(&all, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &all, old);
}

static int
tmp_register(const char *path)
{
    sigset_t old;
    int slot = -1;
    if (strlen(path) >= PATH_MAX)
        return -1;
    block_signals(&old);
    for (int i = 0; i < ZIO_MAX_TMP; i++)
        if (!zio_tmp_used[i]) {
            strcpy(zio_tmp_paths[i], path);
            __sync_synchronize(); /* the name is complete before a handler can see it */
            zio_tmp_used[i] = 1;
            slot = i;
            break;
        }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return slot;
}

static void
tmp_unregister(int slot)
{
    if (slot < 0)
        return;
    sigset_t old;
    block_signals(&old);
    zio_tmp_used[slot] = 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
on_fatal_signal(int sig)
{
    while (zio_pair_busy)
        __sync_synchronize();
    for (int i = 0; i < ZIO_MAX_TMP; i++)
        if (zio_tmp_used[i])
            unlink(zio_tmp_paths[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void
zio_install_signal_cleanup(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa, old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue; /* nohup and friends asked us to ignore it: keep that */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

/* ---- temporaries: TARGET.als-tmp.XXXXXX, held by their writer's flock ---- */

static const char tmp_digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* ZIO_TMP_RANDOM characters and a NUL at rnd, different on every call. */
static void
tmp_random(char *rnd)
{
    static unsigned long counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    x = (x ^ ++counter) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    for (int i = 0; i < ZIO_TMP_RANDOM; i++)
        rnd[i] = tmp_digits[(x >> (6 * i)) % 62];
    rnd[ZIO_TMP_RANDOM] = '\0';
}

static int
same_inode(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Lock a just-created temporary and check that the name is still that file: a writer
 * cleaning up may have locked and removed it between our open and our flock (it cannot
 * tell a new file from a dead writer's). 1: held; 0: lost, try another name; -1: errno. */
static int
claim_temp(int fd, const char *tmp_path)
{
    struct stat mine, named;
    int rc;
    while ((rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
        ;
    if (rc < 0 || fstat(fd, &mine) < 0)
        return -1;
    if (lstat(tmp_path, &named) < 0)
        return errno == ENOENT ? 0 : -1;
    return same_inode(&mine, &named) ? 1 : 0;
}

int
zio_is_temp_of(const char *name, const char *base)
{
    size_t b = strlen(base), k = strlen(ZIO_TMP_INFIX);
    if (strncmp(name, base, b) != 0 || strncmp(name + b, ZIO_TMP_INFIX, k) != 0)
        return 0;
    const char *r = name + b + k;
    if (strlen(r) != ZIO_TMP_RANDOM)
        return 0;
    for (; *r; r++)
        if (!memchr(tmp_digits, *r, sizeof tmp_digits - 1))
            return 0;
    return 1;
}

/* Remove the temporaries of path that killed writers left: a live writer holds the
 * flock on its temporary until it is renamed, and the kernel drops it when the process
 * dies, so whatever we can lock has no writer. Best effort: an error leaves the file. */
static void
remove_stale_temps(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *dname = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    DIR *dir = dname ? opendir(dname) : NULL;
    free(dname);
    if (!dir)
        return;
    int dfd = dirfd(dir);
    for (struct dirent *e; (e = readdir(dir));) {
        if (!zio_is_temp_of(e->d_name, base))
            continue;
        int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat held, named;
        if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0
            && fstatat(dfd, e->d_name, &named, AT_SYMLINK_NOFOLLOW) == 0
            && same_inode(&held, &named))
            unlinkat(dfd, e->d_name, 0);
        close(fd); /* drops the lock */
    }
    closedir(dir);
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * The file a chain of symbolic links ends at, which need not exist yet: a link is
 * followed, never replaced, so that the temporary lands beside the final target and the
 * rename replaces it (as git's lockfiles do). realpath() cannot do this: it fails on a
 * dangling link, whose target is exactly the file to create. *out is malloc'd.
 */
#define ZIO_MAX_LINKS 40 /* the kernel's own limit, MAXSYMLINKS */
static int
resolve_links(const char *path, char **out, struct diag *d)
{
    char *cur = strdup(path);
    if (!cur)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    for (int hop = 0;; hop++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) {
            *out = cur; /* not there yet, or not a link: the target */
            return 0;
        }
        if (hop == ZIO_MAX_LINKS) {
            int rc = diag_set_errno(d, ALS_EIO, ELOOP, "cannot write '%s'", path);
            free(cur);
            return rc;
        }
        char buf[PATH_MAX];
        ssize_t n = readlink(cur, buf, sizeof buf);
        if (n < 0 || (size_t)n >= sizeof buf) {
            int rc = diag_set_errno(d, ALS_EIO, n < 0 ? errno : ENAMETOOLONG,
                                    "cannot follow the link '%s'", cur);
            free(cur);
            return rc;
        }
        buf[n] = '\0';
        /* A relative target is relative to the directory holding the link. */
        const char *slash = strrchr(cur, '/');
        size_t dlen = buf[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
        char *next = malloc(dlen + (size_t)n + 1);
        if (!next) {
            free(cur);
            return diag_set(d, ALS_ENOMEM, "out of memory");
        }
        memcpy(next, cur, dlen);
        memcpy(next + dlen, buf, (size_t)n + 1);
        free(cur);
        cur = next;
    }
}

int
zio_out_open(struct zio_out *o, const char *path, struct diag *d)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->slot = -1;
    o->cap = 1u << 20;
    o->buf = malloc(o->cap);
    o->path = strdup(path);
    if (!o->buf || !o->path) {
        zio_out_abort(o);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    if (strcmp(path, "-") == 0) {
        o->fd = 1;
        o->is_stdout = 1;
        return 0;
    }
    struct stat st;
    char *target = NULL;
    int rc0 = resolve_links(path, &target, d);
    if (rc0 < 0) {
        zio_out_abort(o);
        return rc0;
    }
    if (stat(target, &st) == 0 && S_ISDIR(st.st_mode)) {
        int rc = strcmp(o->path, target)
                     ? diag_set(d, ALS_EIO, "cannot write '%s': a link to the directory '%s'",
                                o->path, target)
                     : diag_set_errno(d, ALS_EIO, EISDIR, "cannot write '%s'", target);
        free(target);
        zio_out_abort(o);
        return rc;
    }
    free(o->path);
    o->path = target;
    path = target;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* /dev/null, a FIFO, a terminal: nothing to replace atomically, write in place. */
        o->fd = open(path, O_WRONLY | O_CLOEXEC);
        if (o->fd < 0) {
            int rc = diag_set_errno(d, ALS_EIO, errno, "cannot open '%s'", path);
            zio_out_abort(o); /* frees path when it is the resolved link: message first */
            return rc;
        }
        o->is_stdout = 1; /* i.e. not atomic */
        o->own_fd = 1;
        return 0;
    }
    size_t n = strlen(path);
    o->tmp_path = malloc(n + ZIO_TMP_SUFFIX_LEN + 1);
    if (!o->tmp_path) {
        zio_out_abort(o);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    remove_stale_temps(path);
    /* The temporary name is registered for the signal handler before the file exists,
     * so that no moment leaves a file the handler does not know (unlinking a name that
     * does not exist yet is harmless). Hence our own names instead of mkstemp(). */
    memcpy(o->tmp_path, path, n);
    memcpy(o->tmp_path + n, ZIO_TMP_INFIX, strlen(ZIO_TMP_INFIX));
    char *rnd = o->tmp_path + n + strlen(ZIO_TMP_INFIX);
    mode_t mask = umask(0);
    umask(mask);
    int err = EEXIST;
    for (int attempt = 0; attempt < 100; attempt++) {
        tmp_random(rnd);
        o->slot = tmp_register(o->tmp_path);
        o->fd = open(o->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666 & ~mask);
        err = errno;
        if (o->fd >= 0) {
            int held = claim_temp(o->fd, o->tmp_path);
            if (held > 0)
                break;
            err = held < 0 ? errno : EEXIST;
            close(o->fd);
            o->fd = -1;
            if (held < 0) {
                unlink(o->tmp_path); /* still ours: flock itself failed */
                break;
            }
            /* Another writer took it for a dead one's between our open and our lock and
             * removed it; the name may already be someone else's: try another. */
        } else if (err != EEXIST) {
            break;
        }
        tmp_unregister(o->slot); /* someone else's file: never unlink it */
        o->slot = -1;
    }
    if (o->fd < 0) {
        int rc = diag_set_errno(d, ALS_EIO, err, "cannot create '%s'", path);
        tmp_unregister(o->slot);
        o->slot = -1;
        free(o->tmp_path);
        o->tmp_path = NULL;
        zio_out_abort(o); /* frees path when it is the resolved link: message first */
        return rc;
    }
    return 0;
}

static int
flush_buf(struct zio_out *o, struct diag *d)
{
    if (o->len && write_all(o->fd, o->buf, o->len) < 0)
        return diag_set_errno(d, ALS_EIO, errno, "cannot write '%s'", o->path);
    o->len = 0;
    return 0;
}

int
zio_out_write(struct zio_out *o, const void *p, size_t n, struct diag *d)
{
    const unsigned char *s = p;
    o->bytes += n;
    if (o->len + n <= o->cap) {
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        return 0;
    }
    int rc = flush_buf(o, d);
    if (rc < 0)
        return rc;
    if (n >= o->cap) {
        if (write_all(o->fd, s, n) < 0)
            return diag_set_errno(d, ALS_EIO, errno, "cannot write '%s'", o->path);
        return 0;
    }
    memcpy(o->buf, s, n);
    o->len = n;
    return 0;
}

int
zio_out_pad(struct zio_out *o, size_t align, struct diag *d)
{
    static const unsigned char zeros[64];
    while (o->bytes % align) {
        size_t k = align - (size_t)(o->bytes % align);
        if (k > sizeof zeros)
            k = sizeof zeros;
        int rc = zio_out_write(o, zeros, k, d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void
fsync_parent_dir(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Everything but the rename: flushed, on disk, closed (its lock kept on a duplicate). */
static int
commit_prepare(struct zio_out *o, struct diag *d)
{
    int rc = flush_buf(o, d);
    if (rc < 0 || o->is_stdout)
        return rc;
    if (fsync(o->fd) < 0 && errno != EINVAL)
        return diag_set_errno(d, ALS_EIO, errno, "cannot write '%s'", o->path);
    /* The lock lives on a duplicate through the rename: between close and rename the
     * temporary would look abandoned to another writer of the same target. */
    int keep = fcntl(o->fd, F_DUPFD_CLOEXEC, 0);
    if (keep < 0)
        return diag_set_errno(d, ALS_EIO, errno, "cannot write '%s'", o->path);
    if (close(o->fd) < 0) {
        o->fd = keep;
        return diag_set_errno(d, ALS_EIO, errno, "cannot write '%s'", o->path);
    }
    o->fd = keep;
    return 0;
}

static int
commit_rename(struct zio_out *o, struct diag *d)
{
    if (o->is_stdout)
        return 0;
    if (rename(o->tmp_path, o->path) < 0)
        return diag_set_errno(d, ALS_EIO, errno, "cannot rename '%s' to '%s'", o->tmp_path,
                              o->path);
    return 0;
}

/* After the rename: the directory synced, the lock dropped, the memory released. */
static void
commit_finish(struct zio_out *o)
{
    o->committed = 1;
    if (o->is_stdout)
        return; /* its fd is closed by zio_out_abort, or is stdout's */
    close(o->fd);
    o->fd = -1;
    tmp_unregister(o->slot);
    o->slot = -1;
    fsync_parent_dir(o->path);
    zio_out_abort(o); /* releases memory only, now that it is committed */
    o->committed = 1;
}

int
zio_out_commit(struct zio_out *o, struct diag *d)
{
    int rc;
    if ((rc = commit_prepare(o, d)) < 0 || (rc = commit_rename(o, d)) < 0)
        return rc;
    commit_finish(o);
    return 0;
}

/* Keep the file at path under a new temporary name of it (a hard link), locked like a
 * writer's temporary so that nobody removes it while we may still need it, and so that
 * the next writer of path removes it if we die. *bak stays NULL when there is no file. */
static int
keep_backup(const char *path, char **bak, int *bak_fd, struct diag *d)
{
    struct stat st;
    *bak = NULL;
    *bak_fd = -1;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return diag_set_errno(d, ALS_EIO, errno, "cannot keep the previous '%s'", path);
    }
    size_t n = strlen(path);
    char *name = malloc(n + ZIO_TMP_SUFFIX_LEN + 1);
    if (!name)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    memcpy(name, path, n);
    memcpy(name + n, ZIO_TMP_INFIX, strlen(ZIO_TMP_INFIX));
    char *rnd = name + n + strlen(ZIO_TMP_INFIX);
    int err = EEXIST;
    for (int attempt = 0; attempt < 100; attempt++) {
        tmp_random(rnd);
        if (link(path, name) < 0) {
            err = errno;
            if (err == EEXIST)
                continue;
            break;
        }
        int fd = open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        int held = fd >= 0 ? claim_temp(fd, name) : -1;
        err = errno;
        if (held > 0) {
            *bak = name;
            *bak_fd = fd;
            return 0;
        }
        if (fd >= 0)
            close(fd);
        if (held < 0) {
            unlink(name);
            break;
        }
    }
    free(name);
    return diag_set_errno(d, ALS_EIO, err, "cannot keep the previous '%s' (a hard link beside it)",
                          path);
}

int
zio_out_commit_pair(struct zio_out *a, struct zio_out *b, struct diag *d)
{
    char *bak = NULL;
    int bak_fd = -1, rc;
    sigset_t old;
    if ((rc = commit_prepare(a, d)) < 0 || (rc = commit_prepare(b, d)) < 0)
        return rc;
    /* An interrupt between the two renames would leave one new file and one old: the
     * cleanup signals wait until both are done or undone, here by the mask and on other
     * threads by zio_pair_busy. From the backup on, so that none is left behind. */
    block_signals(&old);
    zio_pair_busy = 1;
    __sync_synchronize();
    if (!a->is_stdout && (rc = keep_backup(a->path, &bak, &bak_fd, d)) < 0)
        goto out;
    if ((rc = commit_rename(a, d)) < 0)
        goto out;
    /* a's temporary name is gone now: its abort must not remove what may be another's. */
    tmp_unregister(a->slot);
    a->slot = -1;
    free(a->tmp_path);
    a->tmp_path = NULL;
    if ((rc = commit_rename(b, d)) < 0) {
        /* Undo the first: the previous file goes back by one rename, or the new one goes
         * away when there was none. */
        int undo = a->is_stdout ? 0 : bak ? rename(bak, a->path) : unlink(a->path);
        if (undo < 0) {
            int e = errno;
            char first[512];
            snprintf(first, sizeof first, "%s", d ? d->msg : "");
            if (bak)
                diag_set_errno(d, ALS_EIO, e, "%s; '%s' is new and its previous version is '%s'",
                               first, a->path, bak);
            else
                diag_set_errno(d, ALS_EIO, e, "%s; '%s' is new and could not be removed", first,
                               a->path);
            free(bak); /* the file stays, for the user */
            bak = NULL;
        } else if (bak) {
            free(bak); /* renamed back into place */
            bak = NULL;
        }
        fsync_parent_dir(a->path);
        goto out;
    }
    commit_finish(a);
    commit_finish(b);
out:
    if (bak_fd >= 0)
        close(bak_fd);
    if (bak) /* the previous a: committed over, or never replaced */
        unlink(bak);
    free(bak);
    __sync_synchronize();
    zio_pair_busy = 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void
zio_out_abort(struct zio_out *o)
{
    if (!o)
        return;
    if ((!o->is_stdout || o->own_fd) && o->fd >= 0)
        close(o->fd);
    if (o->tmp_path && !o->committed)
        unlink(o->tmp_path);
    tmp_unregister(o->slot);
    free(o->tmp_path);
    free(o->path);
    free(o->buf);
    int committed = o->committed;
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->slot = -1;
    o->committed = committed;
}

/* ---- outputs that are another output or an input under another spelling ---- */

enum { ID_NONE, ID_INODE, ID_PATH, ID_STDOUT };

struct file_id {
    int kind;
    dev_t dev;
    ino_t ino;
    char *path; /* ID_PATH: the directory resolved, then the base name */
};

/* The directory of p resolved (realpath) with p's base name; NULL when the directory
 * cannot be resolved (then nothing can be written there either). */
static char *
resolve_absent(const char *p)
{
    const char *slash = strrchr(p, '/');
    const char *base = slash ? slash + 1 : p;
    char *dir = slash ? strndup(p, (size_t)(slash - p) + (slash == p)) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL;
    char *out = NULL;
    if (real && (out = malloc(strlen(real) + strlen(base) + 2)))
        sprintf(out, "%s/%s", real, base);
    free(dir);
    free(real);
    return out;
}

/* What a path names: an existing regular file by its inode, an absent one (or a
 * dangling link's target) by its resolved path, "-" among outputs as stdout. Anything
 * else (a device, a FIFO, standard input) has no identity to compare. */
static int
file_id_of(struct file_id *id, const char *path, int output)
{
    struct stat st;
    char *p = NULL;
    memset(id, 0, sizeof *id);
    if (!path || (!output && strcmp(path, "-") == 0))
        return 0;
    if (strcmp(path, "-") == 0) {
        id->kind = ID_STDOUT;
        return 0;
    }
    if (stat(path, &st) == 0) {
        if (S_ISREG(st.st_mode)) {
            id->kind = ID_INODE;
            id->dev = st.st_dev;
            id->ino = st.st_ino;
        }
        return 0;
    }
    /* Absent: follow a dangling link by hand to the name that would be created. */
    if (!(p = strdup(path)))
        return -1;
    for (int hops = 0; hops < 40 && lstat(p, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
        char target[PATH_MAX];
        ssize_t n = readlink(p, target, sizeof target - 1);
        if (n < 0)
            break;
        target[n] = '\0';
        const char *slash = strrchr(p, '/');
        char *next;
        if (target[0] == '/' || !slash) {
            next = strdup(target);
        } else {
            size_t dl = (size_t)(slash - p) + 1;
            next = malloc(dl + (size_t)n + 1);
            if (next) {
                memcpy(next, p, dl);
                memcpy(next + dl, target, (size_t)n + 1);
            }
        }
        free(p);
        if (!(p = next))
            return -1;
    }
    id->path = resolve_absent(p);
    free(p);
    if (id->path)
        id->kind = ID_PATH;
    return 0;
}

static int
file_id_equal(const struct file_id *a, const struct file_id *b)
{
    if (a->kind == ID_NONE || a->kind != b->kind)
        return 0;
    if (a->kind == ID_INODE)
        return a->dev == b->dev && a->ino == b->ino;
    if (a->kind == ID_PATH)
        return strcmp(a->path, b->path) == 0;
    return 1; /* stdout twice */
}

int
zio_check_distinct(const char *const *outs, size_t nouts, const char *const *ins, size_t nins,
                   struct diag *d)
{
    size_t n = nouts + nins;
    struct file_id *id = calloc(n ? n : 1, sizeof *id);
    int rc = 0;
    if (!id)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++)
        if (file_id_of(&id[i], i < nouts ? outs[i] : ins[i - nouts], i < nouts) < 0)
            rc = diag_set(d, ALS_ENOMEM, "out of memory");
    for (size_t i = 0; i < nouts && rc == 0; i++)
        for (size_t j = i + 1; j < n && rc == 0; j++) {
            if (!file_id_equal(&id[i], &id[j]))
                continue;
            if (j < nouts)
                rc = diag_set(d, ALS_EUSAGE,
                              "'%s' and '%s' are the same file: two outputs cannot share it",
                              outs[i], outs[j]);
            else
                rc = diag_set(d, ALS_EUSAGE,
                              "output '%s' is the input '%s': writing it would lose that input",
                              outs[i], ins[j - nouts]);
        }
    for (size_t i = 0; i < n; i++)
        free(id[i].path);
    free(id);
    return rc;
}
