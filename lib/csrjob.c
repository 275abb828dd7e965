/* SPDX-License-Identifier: MIT */
/* csrjob: the work of als-csr: build, split and write CSR files, describe and dump them. */
#include "csrjob.h"

#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "progress.h"
#include "triples.h"
#include "vocabdir.h"
#include "xmem.h"
#include "zio.h"

static const char *
in_name(const char *path)
{
    return strcmp(path, "-") ? path : "(stdin)";
}

/* Train and test change together or not at all (zio_out_commit_pair). */
static int
write_pair(const struct csr *train, const char *train_path, const struct csr *test,
           const char *test_path, struct diag *d)
{
    struct zio_out ot, oo;
    int rc = zio_out_open(&ot, test_path, d);
    if (rc < 0)
        return rc;
    if ((rc = zio_out_open(&oo, train_path, d)) >= 0) {
        if ((rc = csr_write(test, &ot, d)) >= 0 && (rc = csr_write(train, &oo, d)) >= 0)
            rc = zio_out_commit_pair(&ot, &oo, d);
        zio_out_abort(&oo);
    }
    zio_out_abort(&ot);
    return rc;
}

int
csrjob_run(const struct csrjob_opts *o, struct csrjob_stats *st, struct diag *d)
{
    struct csr_coo coo = { 0 };
    struct csr *all = NULL, *train = NULL, *test = NULL;
    int64_t *times = NULL;
    int by_time = o->test && o->split.by_time;
    uint64_t rows = 0, cols = 0;
    int rc, values = VOCAB_VALUES_UNKNOWN;

    struct progress pr;
    progress_init(&pr, o->progress, o->progress_ctx);
    memset(st, 0, sizeof *st);
    const char *outs[] = { o->output, o->test };
    if ((rc = zio_check_distinct(outs, 2, &o->input, 1, d)) < 0)
        goto out;
    if ((rc = triples_read_coo_progress(o->input, &coo, &rows, &cols, &pr, d)) < 0)
        goto out;
    if (o->vocab) {
        struct vocabdir vd;
        vocabdir_init(&vd);
        rc = vocabdir_load(&vd, o->vocab, 0, d);
        rows = vd.users.n;
        cols = vd.items.n;
        values = vd.values;
        vocabdir_release(&vd);
        if (rc < 0)
            goto out;
    }
    st->records = coo.n;
    /* Two 5-star reviews of one film are not a 10: ratings keep the latest (the triples
     * are in log order), counts and durations add up. */
    st->policy = o->policy >= 0 ? o->policy
                 : values == VOCAB_VALUES_RATINGS ? CSR_DUP_LAST : CSR_DUP_SUM;
    int has_time = coo.time != NULL;
    if ((rc = csr_build_progress(&coo, rows, cols, st->policy, o->drop_zeros, &all,
                                 by_time ? &times : NULL, &pr, d)) < 0) {
        if (o->vocab && rc == ALS_ERANGE)
            diag_prefix(d, "'%s' does not match the vocabulary '%s': ", in_name(o->input),
                        o->vocab);
        goto out;
    }
    if (by_time && !has_time) {
        rc = diag_set(d, ALS_EFORMAT, "--by-time needs triples with a time column (als-map -t)");
        goto out;
    }
    if (o->test) {
        if ((rc = csr_split_progress(all, times, &o->split, &train, &test, &pr, d)) < 0)
            goto out;
        if ((rc = write_pair(train, o->output, test, o->test, d)) < 0)
            goto out;
        st->train_nnz = train->r.nnz;
        st->test_nnz = test->r.nnz;
    } else if ((rc = csr_save(all, o->output, d)) < 0) {
        goto out;
    }
    st->rows = rows;
    st->cols = cols;
    st->nnz = all->r.nnz;
out:
    csr_coo_release(&coo);
    free(times);
    csr_free(all);
    csr_free(train);
    csr_free(test);
    return rc;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* min, median, max and empty count of the row degrees of m */
static int
degrees(const struct csr_mat *m, uint64_t out[4], struct diag *d)
{
    memset(out, 0, 4 * sizeof *out);
    if (m->rows == 0)
        return 0;
    uint64_t *deg = xmem_alloc_array((size_t)m->rows, sizeof *deg);
    if (!deg)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    for (uint64_t r = 0; r < m->rows; r++) {
        deg[r] = m->ptr[r + 1] - m->ptr[r];
        out[3] += deg[r] == 0;
    }
    qsort(deg, (size_t)m->rows, sizeof *deg, cmp_u64);
    out[0] = deg[0];
    out[1] = deg[(m->rows - 1) / 2];
    out[2] = deg[m->rows - 1];
    free(deg);
    return 0;
}

static void
print_degrees(FILE *out, const char *key, const uint64_t g[4])
{
    fprintf(out, "%s\tmin %llu\tmedian %llu\tmax %llu\tempty %llu\n", key,
            (unsigned long long)g[0], (unsigned long long)g[1], (unsigned long long)g[2],
            (unsigned long long)g[3]);
}

int
csrjob_describe(const char *path, FILE *out, struct diag *d)
{
    struct afile f;
    struct csr *c = NULL;
    uint64_t rd[4], cd[4];
    float lo, hi;
    int rc;

    if ((rc = afile_open(&f, path, CSR_KIND, CSR_MAJOR, 0, d)) < 0)
        return rc;
    rc = afile_verify_all(&f, d);
    afile_close(&f);
    if (rc < 0)
        goto out;
    if ((rc = csr_open(&c, path, 0, d)) < 0)
        goto out;
    if ((rc = degrees(&c->r, rd, d)) < 0 || (rc = degrees(&c->t, cd, d)) < 0)
        goto out;
    csr_value_range(&c->r, &lo, &hi);
    double cells = (double)c->r.rows * (double)c->r.cols;
    fprintf(out, "file\t%s\n", path);
    fprintf(out, "format\t%.4s %u.%u\n", c->file.h.kind, c->file.h.major, c->file.h.minor);
    fprintf(out, "rows\t%llu\ncols\t%llu\nnnz\t%llu\n", (unsigned long long)c->r.rows,
            (unsigned long long)c->r.cols, (unsigned long long)c->r.nnz);
    fprintf(out, "density\t%.6g\n", cells > 0 ? (double)c->r.nnz / cells : 0.0);
    print_degrees(out, "row_degree", rd);
    print_degrees(out, "col_degree", cd);
    if (c->r.nnz)
        fprintf(out, "values\tmin %.9g\tmax %.9g\n", (double)lo, (double)hi);
    else
        fprintf(out, "values\tnone\n");
    fprintf(out, "checksums\tok\n");
    /* META is "key=value" lines; a line without '=' is not shown. */
    for (const char *m = c->meta, *e; *m; m = e + 1) {
        e = strchr(m, '\n');
        if (!e)
            break;
        const char *eq = memchr(m, '=', (size_t)(e - m));
        if (eq)
            fprintf(out, "%.*s\t%.*s\n", (int)(eq - m), m, (int)(e - eq - 1), eq + 1);
    }
out:
    csr_free(c);
    return rc;
}

int
csrjob_dump(const char *path, int transpose, FILE *out, struct diag *d)
{
    struct csr *c;
    int rc = csr_open(&c, path, AFILE_VERIFY, d);
    if (rc < 0)
        return rc;
    const struct csr_mat *m = transpose ? &c->t : &c->r;
    for (uint64_t r = 0; r < m->rows; r++)
        for (uint64_t k = m->ptr[r]; k < m->ptr[r + 1]; k++)
            fprintf(out, "%llu\t%u\t%.9g\n", (unsigned long long)r, m->idx[k],
                    (double)m->val[k]);
    csr_free(c);
    return 0;
}
