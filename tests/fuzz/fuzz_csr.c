/* SPDX-License-Identifier: MIT */
/* fuzz_csr: csr_open (afile underneath) on untrusted files, with and without
 * AFILE_VERIFY, as given and with their checksums repaired; what it accepts must be a
 * well-formed matrix, save and open again to the same bytes, and transpose cleanly. */
#define _GNU_SOURCE
#include "fuzz.h"

#include "csr.h"

static int
in_map(const struct csr *c, const void *p, uint64_t bytes)
{
    const unsigned char *b = p, *lo = c->file.map;
    return b >= lo && b <= lo + c->file.size && bytes <= (uint64_t)(lo + c->file.size - b);
}

/* What csr_open promises: offsets monotone from 0 to nnz, indices in range and strictly
 * increasing in each row. */
static void
check_mat(const struct csr_mat *m)
{
    FUZZ_CHECK(m->ptr[0] == 0 && m->ptr[m->rows] == m->nnz);
    for (uint64_t r = 0; r < m->rows; r++) {
        FUZZ_CHECK(m->ptr[r] <= m->ptr[r + 1]);
        for (uint64_t k = m->ptr[r]; k < m->ptr[r + 1]; k++)
            FUZZ_CHECK(m->idx[k] < m->cols && (k == m->ptr[r] || m->idx[k] > m->idx[k - 1]));
    }
}

static int
same_mat(const struct csr_mat *a, const struct csr_mat *b)
{
    return a->rows == b->rows && a->cols == b->cols && a->nnz == b->nnz &&
           !memcmp(a->ptr, b->ptr, (a->rows + 1) * 8) &&
           (!a->nnz || (!memcmp(a->idx, b->idx, a->nnz * 4) &&
                        !memcmp(a->val, b->val, a->nnz * 4)));
}

static void
free_mat(struct csr_mat *m)
{
    free(m->ptr);
    free(m->idx);
    free(m->val);
    memset(m, 0, sizeof *m);
}

static void
check_open(const char *path, unsigned flags)
{
    struct csr *c = NULL, *back = NULL;
    struct diag d;
    int rc = csr_open(&c, path, flags, &d);
    if (rc < 0) {
        FUZZ_CHECK(rc == ALS_EFORMAT || rc == ALS_ECHECKSUM || rc == ALS_EVERSION ||
                   rc == ALS_EIO);
        FUZZ_CHECK(c == NULL && d.msg[0] != '\0');
        return;
    }
    /* ASan does not watch mmapped memory: check the arrays lie in the mapping by hand. */
    const struct csr_mat *m[2] = { &c->r, &c->t };
    for (int k = 0; k < 2; k++) {
        FUZZ_CHECK(in_map(c, m[k]->ptr, (m[k]->rows + 1) * 8));
        FUZZ_CHECK(in_map(c, m[k]->idx, m[k]->nnz * 4));
        FUZZ_CHECK(in_map(c, m[k]->val, m[k]->nnz * 4));
        check_mat(m[k]);
    }
    FUZZ_CHECK(c->r.rows == c->t.cols && c->r.cols == c->t.rows && c->r.nnz == c->t.nnz);
    FUZZ_CHECK(memchr(c->meta, '\0', sizeof c->meta) != NULL);
    FUZZ_CHECK(csr_equal(c, c));

    /* Save and open again: the same matrices, bit for bit. */
    char out[4200];
    snprintf(out, sizeof out, "%s/rt.csr", fuzz_dir());
    if (csr_save(c, out, &d) < 0) {
        fprintf(stderr, "csr_save: %s\n", d.msg);
        FUZZ_CHECK(!"an opened matrix saves");
    }
    if (csr_open(&back, out, AFILE_VERIFY, &d) < 0) {
        fprintf(stderr, "csr_open of the saved copy: %s\n", d.msg);
        FUZZ_CHECK(!"a saved matrix opens");
    }
    FUZZ_CHECK(csr_equal(c, back));
    csr_free(back);

    /* Transposing twice gives R back (small matrices: transposing allocates cols + 1). */
    if (c->r.rows + c->r.cols <= (1u << 16)) {
        struct csr_mat t, tt;
        FUZZ_CHECK(csr_transpose(&c->r, &t, &d) == 0);
        check_mat(&t);
        FUZZ_CHECK(csr_transpose(&t, &tt, &d) == 0);
        FUZZ_CHECK(same_mat(&c->r, &tt));
        free_mat(&t);
        free_mat(&tt);
    }
    csr_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    check_open(path, 0);
    check_open(path, AFILE_VERIFY);
    if (size >= 64 && memcmp(data, "ALSB", 4) == 0) {
        unsigned char *fixed = malloc(size);
        if (!fixed)
            FUZZ_DIE("out of memory");
        memcpy(fixed, data, size);
        if (fuzz_fix_afile(fixed, size)) {
            path = fuzz_file(fixed, size);
            check_open(path, 0);
            check_open(path, AFILE_VERIFY);
        }
        free(fixed);
    }
    return 0;
}
