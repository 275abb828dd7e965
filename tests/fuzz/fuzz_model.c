/* SPDX-License-Identifier: MIT */
/* fuzz_model: model_open (afile underneath) on untrusted factor files, with and without
 * AFILE_VERIFY, as given and with their checksums repaired; what it accepts must have its
 * factors inside the mapping, META parsed into one-line pairs, and save and open again to the same numbers. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <math.h>

#include "model.h"

/* [p, p + count * 4) lies in the mapping, count computed without overflow. */
static int
floats_in_map(const struct model *m, const float *p, uint64_t a, uint64_t b)
{
    uint64_t n;
    if (__builtin_mul_overflow(a, b, &n) || __builtin_mul_overflow(n, 4, &n))
        return 0;
    const unsigned char *q = (const unsigned char *)p, *lo = m->file.map;
    return q >= lo && q <= lo + m->file.size && n <= (uint64_t)(lo + m->file.size - q);
}

/* Every recorded pair is one line: a key without '=', a value without a line break. */
static void
check_pair(const char *key, const char *value, void *ctx)
{
    (void)ctx;
    FUZZ_CHECK(!strchr(key, '=') && !strchr(key, '\n') && !strchr(value, '\n'));
}

static void
check_open(const char *path, unsigned flags)
{
    struct model *m = NULL, *back = NULL;
    struct diag d;
    int rc = model_open(&m, path, flags, &d);
    if (rc < 0) {
        FUZZ_CHECK(rc == ALS_EFORMAT || rc == ALS_ECHECKSUM || rc == ALS_EVERSION ||
                   rc == ALS_EIO);
        FUZZ_CHECK(m == NULL && d.msg[0] != '\0');
        return;
    }
    /* ASan does not watch mmapped memory: the factors must lie in the mapping. */
    FUZZ_CHECK(m->k >= 1 && m->k <= 65536);
    FUZZ_CHECK(floats_in_map(m, m->U, m->users, m->k));
    FUZZ_CHECK(floats_in_map(m, m->V, m->items, m->k));
    FUZZ_CHECK(!m->biases || (floats_in_map(m, m->ub, m->users, 1) &&
                              floats_in_map(m, m->ib, m->items, 1)));
    FUZZ_CHECK(m->biases || (!m->ub && !m->ib));
    FUZZ_CHECK(isfinite(m->mu));
    FUZZ_CHECK(memchr(m->params.train, '\0', sizeof m->params.train) != NULL);
    FUZZ_CHECK(memchr(m->params.init, '\0', sizeof m->params.init) != NULL);
    model_describe(m, check_pair, NULL);

    /* Save and open again: the same shape and numbers. */
    char out[4200];
    snprintf(out, sizeof out, "%s/rt.model", fuzz_dir());
    if (model_save(m, out, &d) < 0) {
        fprintf(stderr, "model_save: %s\n", d.msg);
        FUZZ_CHECK(!"an opened model saves");
    }
    if (model_open(&back, out, AFILE_VERIFY, &d) < 0) {
        fprintf(stderr, "model_open of the saved copy: %s\n", d.msg);
        FUZZ_CHECK(!"a saved model opens");
    }
    FUZZ_CHECK(back->users == m->users && back->items == m->items && back->k == m->k);
    FUZZ_CHECK(back->implicit == m->implicit && back->biases == m->biases);
    FUZZ_CHECK(!memcmp(back->U, m->U, m->users * m->k * 4));
    FUZZ_CHECK(!memcmp(back->V, m->V, m->items * m->k * 4));
    FUZZ_CHECK(!m->biases || (!memcmp(back->ub, m->ub, m->users * 4) &&
                              !memcmp(back->ib, m->ib, m->items * 4)));
    FUZZ_CHECK(back->mu == m->mu);
    const struct model_params *p = &m->params, *q = &back->params;
    FUZZ_CHECK(q->has == p->has);
    FUZZ_CHECK(q->iterations == p->iterations && q->cg_steps == p->cg_steps);
    FUZZ_CHECK(q->solver == p->solver && q->seed == p->seed);
    FUZZ_CHECK(q->train_nnz == p->train_nnz && q->data_checksum == p->data_checksum);
    FUZZ_CHECK(!strcmp(q->train, p->train) && !strcmp(q->init, p->init));
    FUZZ_CHECK(fabs(q->alpha - p->alpha) <= 1e-14 * fabs(p->alpha));
    FUZZ_CHECK(fabs(q->lambda - p->lambda) <= 1e-14 * fabs(p->lambda));
    model_free(back);
    model_free(m);
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
