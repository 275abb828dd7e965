/* SPDX-License-Identifier: MIT */
/* model: the factor file (user and item factors, biases, training parameters). */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"
#include "zio.h"

#define FLAG_IMPLICIT 0x10000u /* bits 16+: informative, a reader may ignore them */

int
model_new(struct model **out, uint64_t users, uint64_t items, uint32_t k, int implicit,
          int biases, struct diag *d)
{
    *out = NULL;
    struct model *m = calloc(1, sizeof *m);
    size_t nu, ni;
    if (!m || xmem_mul((size_t)users, k, &nu) < 0 || xmem_mul((size_t)items, k, &ni) < 0 ||
        nu > SIZE_MAX / 4 || ni > SIZE_MAX / 4) {
        free(m);
        return diag_set(d, ALS_ENOMEM, "out of memory for a %llu x %llu model of rank %u",
                        (unsigned long long)users, (unsigned long long)items, k);
    }
    m->users = users;
    m->items = items;
    m->k = k;
    m->implicit = implicit;
    m->biases = biases;
    m->owned = 1;
    m->U = xmem_alloc_aligned(nu * 4);
    m->V = xmem_alloc_aligned(ni * 4);
    if (biases) {
        m->ub = xmem_alloc_aligned((size_t)users * 4);
        m->ib = xmem_alloc_aligned((size_t)items * 4);
    }
    if (!m->U || !m->V || (biases && (!m->ub || !m->ib))) {
        model_free(m);
        return diag_set(d, ALS_ENOMEM, "out of memory for a %llu x %llu model of rank %u",
                        (unsigned long long)users, (unsigned long long)items, k);
    }
    memset(m->U, 0, nu * 4);
    memset(m->V, 0, ni * 4);
    if (biases) {
        memset(m->ub, 0, (size_t)users * 4);
        memset(m->ib, 0, (size_t)items * 4);
    }
    *out = m;
    return 0;
}

int
model_has_factors(const struct model *m, int side, uint64_t row)
{
    if (row >= (side ? m->items : m->users))
        return 0;
    const float *x = (side ? m->V : m->U) + row * m->k;
    for (uint32_t j = 0; j < m->k; j++)
        if (x[j] != 0.0f)
            return 1;
    return 0;
}

void
model_free(struct model *m)
{
    if (!m)
        return;
    if (m->owned) {
        free(m->U);
        free(m->V);
        free(m->ub);
        free(m->ib);
    }
    afile_close(&m->file);
    free(m);
}

int
model_save(const struct model *m, const char *path, struct diag *d)
{
    struct afile_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.kind, MODEL_KIND, 4);
    h.major = MODEL_MAJOR;
    h.flags = m->implicit ? FLAG_IMPLICIT : 0;
    h.rows = m->users;
    h.cols = m->items;
    h.nnz = m->k;
    h.dtype = AFILE_DT_F32;
    /* mu first: a reader that keeps only the first bytes of META must not lose it. */
    char meta[sizeof m->meta + 64];
    snprintf(meta, sizeof meta, "mu=%.17g\n%s", m->mu, m->meta);
    struct afile_wsec secs[5];
    unsigned n = 0;
    secs[n++] = (struct afile_wsec){ "USRF", AFILE_DT_F32, m->U, m->users * m->k * 4 };
    secs[n++] = (struct afile_wsec){ "ITMF", AFILE_DT_F32, m->V, m->items * m->k * 4 };
    if (m->biases) {
        secs[n++] = (struct afile_wsec){ "UBIA", AFILE_DT_F32, m->ub, m->users * 4 };
        secs[n++] = (struct afile_wsec){ "IBIA", AFILE_DT_F32, m->ib, m->items * 4 };
    }
    secs[n++] = (struct afile_wsec){ "META", AFILE_DT_BYTES, meta, strlen(meta) };
    return afile_save(path, &h, secs, n, d);
}

int
model_meta_get(const struct model *m, const char *key, char *buf, size_t size)
{
    size_t kl = strlen(key);
    for (const char *p = m->meta; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            snprintf(buf, size, "%.*s", (int)(len - kl - 1), p + kl + 1);
            return 0;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return -1;
}

int
model_open(struct model **out, const char *path, unsigned flags, struct diag *d)
{
    *out = NULL;
    struct model *m = calloc(1, sizeof *m);
    if (!m)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    int rc = afile_open(&m->file, path, MODEL_KIND, MODEL_MAJOR, flags, d);
    if (rc < 0) {
        free(m);
        return rc;
    }
    const struct afile_header *h = &m->file.h;
    m->users = h->rows;
    m->items = h->cols;
    m->implicit = (h->flags & FLAG_IMPLICIT) != 0;
    const void *u, *v, *meta, *ub = NULL, *ib = NULL;
    uint64_t nu, nv, nmeta, nub = 0, nib = 0;
    if ((rc = afile_section(&m->file, "USRF", AFILE_DT_F32, &u, &nu, d)) < 0 ||
        (rc = afile_section(&m->file, "ITMF", AFILE_DT_F32, &v, &nv, d)) < 0 ||
        (rc = afile_section(&m->file, "META", AFILE_DT_BYTES, &meta, &nmeta, d)) < 0)
        goto out;
    for (unsigned s = 0; s < m->file.nsec; s++)
        if (!memcmp(m->file.sec[s].tag, "UBIA", 4))
            m->biases = 1;
    if (m->biases && ((rc = afile_section(&m->file, "UBIA", AFILE_DT_F32, &ub, &nub, d)) < 0 ||
                      (rc = afile_section(&m->file, "IBIA", AFILE_DT_F32, &ib, &nib, d)) < 0))
        goto out;
    /* Dimensions bounded first, so that the products below cannot overflow. */
    if (h->nnz == 0 || h->nnz > 65536 || h->rows > UINT32_MAX + 1ull ||
        h->cols > UINT32_MAX + 1ull || nu != h->rows * h->nnz || nv != h->cols * h->nnz ||
        (m->biases && (nub != h->rows || nib != h->cols))) {
        rc = diag_set(d, ALS_EFORMAT, "'%s': section sizes disagree with %llu users, %llu "
                      "items and rank %llu", path, (unsigned long long)h->rows,
                      (unsigned long long)h->cols, (unsigned long long)h->nnz);
        goto out;
    }
    m->k = (uint32_t)h->nnz;
    m->U = (float *)u;
    m->V = (float *)v;
    m->ub = (float *)ub;
    m->ib = (float *)ib;
    size_t ml = nmeta < sizeof m->meta - 1 ? (size_t)nmeta : sizeof m->meta - 1;
    memcpy(m->meta, meta, ml);
    m->meta[ml] = '\0';
    char buf[64];
    m->mu = model_meta_get(m, "mu", buf, sizeof buf) == 0 ? strtod(buf, NULL) : 0.0;
    if (!isfinite(m->mu))
        m->mu = 0.0;
    *out = m;
    return 0;
out:
    afile_close(&m->file);
    free(m);
    return rc;
}
