/* SPDX-License-Identifier: MIT */
/* fuzz_model: model_open (afile underneath) on untrusted factor files, with and without
 * AFILE_VERIFY, as given and with their checksums repaired; what it accepts must have its
 * factors inside the mapping, META lookups, and save and open again to the same numbers. */
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

static void
check_meta(const struct model *m, const char *key)
{
    char buf[32];
    memset(buf, 'x', sizeof buf);
    if (model_meta_get(m, key, buf, sizeof buf) == 0) {
        FUZZ_CHECK(memchr(buf, '\0', sizeof buf) != NULL);
        /* The value is a prefix of what follows "key=" at a line start. */
        size_t kl = strlen(key), vl = strlen(buf);
        int seen = 0;
        for (const char *p = m->meta; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
            if (!strncmp(p, key, kl) && p[kl] == '=' && !strncmp(p + kl + 1, buf, vl))
                seen = 1;
        FUZZ_CHECK(seen);
    }
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
    FUZZ_CHECK(memchr(m->meta, '\0', sizeof m->meta) != NULL);
    check_meta(m, "mu");
    check_meta(m, "lambda");
    check_meta(m, "");

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
