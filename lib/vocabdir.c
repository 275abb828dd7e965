/* SPDX-License-Identifier: MIT */
/* vocabdir: the vocabulary directory: user and item vocabularies, rating map, log format. */
#include "vocabdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "num.h"
#include "zio.h"

#define LOCK_NAME ".lock"

const char *const vocab_values_names[] = { "unknown", "events", "counts", "ratings", NULL };

void
vocabdir_init(struct vocabdir *v)
{
    memset(v, 0, sizeof *v);
    vocab_init(&v->users);
    vocab_init(&v->items);
    ratemap_init(&v->rmap);
    logspec_init(&v->spec);
    v->lock_fd = -1;
}

void
vocabdir_release(struct vocabdir *v)
{
    vocab_release(&v->users);
    vocab_release(&v->items);
    ratemap_release(&v->rmap);
    logspec_release(&v->spec);
    if (v->lock_fd >= 0)
        close(v->lock_fd);
    free(v->path);
    vocabdir_init(v);
}

/* Release everything but the lock, which outlives a reload. */
static void
release_keep_lock(struct vocabdir *v)
{
    int fd = v->lock_fd, md = v->made_dir, ml = v->made_lock;
    v->lock_fd = -1;
    vocabdir_release(v);
    v->lock_fd = fd;
    v->made_dir = md;
    v->made_lock = ml;
}

static char *
join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

static int is_stale(const char *name, uint64_t gen);

int
vocabdir_probe(const char *path, int *state, struct diag *d)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT) {
            *state = VOCABDIR_ABSENT;
            return 0;
        }
        return diag_set_errno(d, ALS_EIO, errno, "cannot access '%s'", path);
    }
    if (!S_ISDIR(st.st_mode))
        return diag_set(d, ALS_EUSAGE, "'%s' is not a directory", path);
    char *conf = join(path, VOCABDIR_CONF);
    if (!conf)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    int has_conf = access(conf, F_OK) == 0;
    free(conf);
    if (has_conf) {
        *state = VOCABDIR_PRESENT;
        return 0;
    }
    DIR *dir = opendir(path);
    if (!dir)
        return diag_set_errno(d, ALS_EIO, errno, "cannot open '%s'", path);
    /* A first build killed before its commit leaves vocabulary files but no map.conf:
     * such leftovers (removed by the next commit) still count as an empty directory. */
    int other = 0;
    for (struct dirent *e; (e = readdir(dir));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, LOCK_NAME) &&
            !is_stale(e->d_name, UINT64_MAX))
            other = 1;
    closedir(dir);
    if (other)
        return diag_set(d, ALS_EUSAGE, "'%s' is not empty and holds no vocabulary (%s "
                        "missing); refusing to use it", path, VOCABDIR_CONF);
    *state = VOCABDIR_EMPTY;
    return 0;
}

int
vocabdir_lock(struct vocabdir *v, const char *path, struct diag *d)
{
    if (mkdir(path, 0777) == 0)
        v->made_dir = 1;
    else if (errno != EEXIST)
        return diag_set_errno(d, ALS_EIO, errno, "cannot create '%s'", path);
    char *lp = join(path, LOCK_NAME);
    if (!lp)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    int fd = open(lp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0)
        v->made_lock = 1;
    else if (errno == EEXIST)
        fd = open(lp, O_RDWR | O_CLOEXEC);
    free(lp);
    if (fd < 0)
        return diag_set_errno(d, ALS_EIO, errno, "cannot lock '%s'", path);
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        int e = errno;
        close(fd);
        if (e == EACCES || e == EAGAIN)
            return diag_set(d, ALS_EIO, "'%s' is being written by another process", path);
        return diag_set_errno(d, ALS_EIO, e, "cannot lock '%s'", path);
    }
    v->lock_fd = fd;
    return 0;
}

void
vocabdir_abandon(struct vocabdir *v, const char *path)
{
    if (v->made_lock) {
        char *lp = join(path, LOCK_NAME);
        if (lp)
            unlink(lp);
        free(lp);
    }
    if (v->made_dir)
        rmdir(path);
    v->made_lock = v->made_dir = 0;
}

/* ---- map.conf values: double-quoted with C escapes for control bytes, \ and " ---- */

static void
put_quoted(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static int
hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Unquote in place; returns the length or -1 when malformed. */
static long
get_quoted(char *s)
{
    size_t n = strlen(s);
    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return -1;
    char *out = s;
    for (size_t i = 1; i < n - 1; i++) {
        char c = s[i];
        if (c != '\\') {
            *out++ = c;
            continue;
        }
        if (++i >= n - 1)
            return -1;
        switch (s[i]) {
        case 't': *out++ = '\t'; break;
        case 'n': *out++ = '\n'; break;
        case 'r': *out++ = '\r'; break;
        case '\\': *out++ = '\\'; break;
        case '"': *out++ = '"'; break;
        case 'x': {
            int h = i + 2 < n - 1 ? hexval(s[i + 1]) : -1, l = h >= 0 ? hexval(s[i + 2]) : -1;
            if (l < 0 || (h == 0 && l == 0))
                return -1; /* no NUL: every value is used as a C string */
            *out++ = (char)(h * 16 + l);
            i += 2;
            break;
        }
        default: return -1;
        }
    }
    *out = '\0';
    return (long)(out - s);
}

static const char *const col_key[LOG_NCOLS] = { "user-column", "item-column", "rating-column",
                                                "time-column" };

static int
load_once(struct vocabdir *v, const char *path, unsigned flags, struct diag *d)
{
    release_keep_lock(v);
    int rc = 0;
    char *conf = join(path, VOCABDIR_CONF), *up = NULL, *ip = NULL;
    char *line = NULL;
    size_t cap = 0;
    uint64_t nusers = UINT64_MAX, nitems = UINT64_MAX;
    v->path = strdup(path);
    FILE *f = conf && v->path ? fopen(conf, "r") : NULL;
    if (!conf || !v->path) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    if (!f) {
        rc = diag_set_errno(d, ALS_EIO, errno, "cannot open '%s'", conf);
        goto out;
    }
    unsigned long lineno = 0;
    int saw_format = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        char *val = strchr(line, ' ');
        if (!val)
            goto bad;
        *val++ = '\0';
        char name[64];
        uint64_t count;
        if (strcmp(line, "als-vocab") == 0) {
            uint64_t fmt;
            if (num_parse_u64(val, 1, UINT32_MAX, &fmt) < 0)
                goto bad;
            if (fmt > VOCABDIR_FORMAT) {
                rc = diag_set(d, ALS_EVERSION, "%s: vocabulary format %llu, this program reads "
                              "up to %d (upgrade als)", conf, (unsigned long long)fmt,
                              VOCABDIR_FORMAT);
                goto out;
            }
            saw_format = 1;
        } else if (strcmp(line, "generation") == 0) {
            if (num_parse_u64(val, 0, UINT64_MAX / 2, &v->generation) < 0)
                goto bad;
        } else if (strcmp(line, "users") == 0 || strcmp(line, "items") == 0) {
            char num[32];
            if (sscanf(val, "%63s %31s", name, num) != 2 || strchr(name, '/') ||
                num_parse_u64(num, 0, VOCAB_MAX_IDS, &count) < 0)
                goto bad;
            char **dst = line[0] == 'u' ? &up : &ip;
            free(*dst);
            *dst = join(path, name);
            if (!*dst) {
                rc = diag_set(d, ALS_ENOMEM, "out of memory");
                goto out;
            }
            *(line[0] == 'u' ? &nusers : &nitems) = count;
        } else if (strcmp(line, "delimiter") == 0) {
            long n = get_quoted(val);
            if (n < 1 || n > CSV_MAX_DELIM)
                goto bad;
            /* What -F refuses is damage here, not a usage error of today's command. */
            if (strpbrk(val, "\"\n\r")) {
                rc = diag_set(d, ALS_EFORMAT, "%s:%lu: delimiter with a quote or line break",
                              conf, lineno);
                goto out;
            }
            memcpy(v->spec.delim, val, (size_t)n + 1);
        } else if (strcmp(line, "header") == 0) {
            if (strcmp(val, "yes") && strcmp(val, "no"))
                goto bad;
            v->spec.header = strcmp(val, "yes") == 0;
        } else if (strcmp(line, "level") == 0) {
            long n = get_quoted(val);
            if (n < 1 || ratemap_add_level(&v->rmap, val, (size_t)n, d) < 0)
                goto bad;
        } else if (strcmp(line, "values") == 0) {
            int k;
            for (k = VOCAB_VALUES_EVENTS; vocab_values_names[k]; k++)
                if (strcmp(val, vocab_values_names[k]) == 0)
                    break;
            if (!vocab_values_names[k])
                goto bad;
            v->values = k;
        } else if (strcmp(line, "transform") == 0) {
            if (get_quoted(val) < 0 || ratemap_set_transforms(&v->rmap, val, d) < 0)
                goto bad;
        } else {
            int k;
            for (k = 0; k < LOG_NCOLS; k++)
                if (strcmp(line, col_key[k]) == 0)
                    break;
            if (k < LOG_NCOLS) {
                if (get_quoted(val) < 1)
                    goto bad;
                if (val[strspn(val, "0123456789")] == '\0' &&
                    num_parse_u64(val, 1, LOGREAD_MAX_COLUMN, &count) < 0) {
                    rc = diag_set(d, ALS_EFORMAT, "%s:%lu: %s %s is out of range (1-%d)", conf,
                                  lineno, col_key[k], val, LOGREAD_MAX_COLUMN);
                    goto out;
                }
                if (logspec_set_col(&v->spec, k, val) < 0)
                    goto bad;
            }
            /* other keys: written by a newer minor version; safe to ignore */
        }
        continue;
    bad:
        rc = diag_set(d, ALS_EFORMAT, "%s:%lu: malformed line", conf, lineno);
        goto out;
    }
    if (ferror(f)) {
        rc = diag_set_errno(d, ALS_EIO, errno, "cannot read '%s'", conf);
        goto out;
    }
    if (!saw_format || !up || !ip) {
        rc = diag_set(d, ALS_EFORMAT, "%s: incomplete vocabulary description", conf);
        goto out;
    }
    if ((rc = vocab_open(&v->users, up, flags, d)) < 0 ||
        (rc = vocab_open(&v->items, ip, flags, d)) < 0)
        goto out;
    if (v->users.n != nusers || v->items.n != nitems) {
        rc = diag_set(d, ALS_EFORMAT, "%s: vocabulary sizes disagree with %s", path,
                      VOCABDIR_CONF);
        goto out;
    }
out:
    if (f)
        fclose(f);
    free(line);
    free(conf);
    free(up);
    free(ip);
    if (rc < 0)
        release_keep_lock(v);
    return rc;
}

int
vocabdir_load(struct vocabdir *v, const char *path, unsigned flags, struct diag *d)
{
    /* Readers take no lock: a writer may commit a new generation and delete the files of
     * the one just read from map.conf. Reading map.conf again then finds the new one. */
    int rc = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        rc = load_once(v, path, flags, d);
        if (!(rc == ALS_EIO && d && d->sys_errno == ENOENT))
            break;
    }
    return rc;
}

/* users.G.vocab / items.G.vocab of another generation, or a temporary file left by a
 * killed run: safe to delete once the new map.conf is in place. */
static int
is_stale(const char *name, uint64_t gen)
{
    char want_u[48], want_i[48];
    snprintf(want_u, sizeof want_u, "users.%" PRIu64 ".vocab", gen);
    snprintf(want_i, sizeof want_i, "items.%" PRIu64 ".vocab", gen);
    if (!strcmp(name, want_u) || !strcmp(name, want_i))
        return 0;
    size_t n = strlen(name);
    int vocab_like = (!strncmp(name, "users.", 6) || !strncmp(name, "items.", 6)) &&
                     (n > 6 && strstr(name, ".vocab"));
    int conf_tmp = !strncmp(name, VOCABDIR_CONF ".", strlen(VOCABDIR_CONF) + 1);
    return vocab_like || conf_tmp;
}

/* The highest generation any file in the directory carries: a rebuild (--force) must
 * not reuse the number of the generation that is still current. */
static uint64_t
max_generation(const char *path, uint64_t known)
{
    DIR *dir = opendir(path);
    if (!dir)
        return known;
    for (struct dirent *e; (e = readdir(dir));) {
        const char *n = e->d_name;
        if (strncmp(n, "users.", 6) && strncmp(n, "items.", 6))
            continue;
        char *end;
        unsigned long long g = strtoull(n + 6, &end, 10);
        if (end != n + 6 && strncmp(end, ".vocab", 6) == 0 && g > known && g < UINT64_MAX / 2)
            known = g;
    }
    closedir(dir);
    return known;
}

int
vocabdir_save(struct vocabdir *v, struct diag *d)
{
    uint64_t gen = max_generation(v->path, v->generation) + 1;
    char uname[48], iname[48];
    snprintf(uname, sizeof uname, "users.%" PRIu64 ".vocab", gen);
    snprintf(iname, sizeof iname, "items.%" PRIu64 ".vocab", gen);
    char *up = join(v->path, uname), *ip = join(v->path, iname);
    char *conf = join(v->path, VOCABDIR_CONF);
    char *buf = NULL;
    size_t blen = 0;
    FILE *mf = NULL;
    struct zio_out o;
    int rc = 0, o_open = 0;
    if (!up || !ip || !conf) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    if (mkdir(v->path, 0777) < 0 && errno != EEXIST) {
        rc = diag_set_errno(d, ALS_EIO, errno, "cannot create '%s'", v->path);
        goto out;
    }
    if ((rc = vocab_save(&v->users, up, d)) < 0 || (rc = vocab_save(&v->items, ip, d)) < 0)
        goto out;
    mf = open_memstream(&buf, &blen);
    if (!mf) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    fprintf(mf, "# als vocabulary directory (see als-formats(5)), written by als-map %s\n",
            ALS_VERSION);
    fprintf(mf, "als-vocab %d\ngeneration %" PRIu64 "\n", VOCABDIR_FORMAT, gen);
    fprintf(mf, "users %s %" PRIu64 "\nitems %s %" PRIu64 "\n", uname, v->users.n, iname,
            v->items.n);
    if (v->spec.delim[0]) { /* not yet known when every input so far was empty */
        fputs("delimiter ", mf);
        put_quoted(mf, v->spec.delim, strlen(v->spec.delim));
        fputc('\n', mf);
    }
    if (v->spec.header >= 0)
        fprintf(mf, "header %s\n", v->spec.header > 0 ? "yes" : "no");
    for (int k = 0; k < LOG_NCOLS; k++)
        if (v->spec.col[k]) {
            fprintf(mf, "%s ", col_key[k]);
            put_quoted(mf, v->spec.col[k], strlen(v->spec.col[k]));
            fputc('\n', mf);
        }
    for (unsigned i = 0; i < v->rmap.nlevels; i++) {
        fputs("level ", mf);
        put_quoted(mf, v->rmap.levels[i], v->rmap.level_len[i]);
        fputc('\n', mf);
    }
    if (v->values != VOCAB_VALUES_UNKNOWN)
        fprintf(mf, "values %s\n", vocab_values_names[v->values]);
    if (v->rmap.nsteps) {
        char chain[1024];
        ratemap_format_transforms(&v->rmap, chain, sizeof chain);
        fputs("transform ", mf);
        put_quoted(mf, chain, strlen(chain));
        fputc('\n', mf);
    }
    if (fclose(mf) != 0) {
        mf = NULL;
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    mf = NULL;
    if ((rc = zio_out_open(&o, conf, d)) < 0)
        goto out;
    o_open = 1;
    if ((rc = zio_out_write(&o, buf, blen, d)) < 0 || (rc = zio_out_commit(&o, d)) < 0)
        goto out;
    v->generation = gen;
    /* Committed. Remove what the previous generations and killed runs left. */
    DIR *dir = opendir(v->path);
    if (dir) {
        for (struct dirent *e; (e = readdir(dir));)
            if (is_stale(e->d_name, gen)) {
                char *p = join(v->path, e->d_name);
                if (p)
                    unlink(p);
                free(p);
            }
        closedir(dir);
    }
out:
    if (o_open)
        zio_out_abort(&o);
    if (mf)
        fclose(mf);
    if (rc < 0) {
        /* The new generation never became current: do not leave its files behind. */
        if (up)
            unlink(up);
        if (ip)
            unlink(ip);
    }
    free(buf);
    free(up);
    free(ip);
    free(conf);
    return rc;
}
