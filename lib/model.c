/* SPDX-License-Identifier: MIT */
/* model: the factor file (user and item factors, biases, training parameters). */
#include "model.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "xmem.h"
#include "zio.h"

#define FLAG_IMPLICIT 0x10000u /* bits 16+: informative, a reader may ignore them */
#define META_MAX 2048

static const char *const side_names[] = { "none", "train", "test" }; /* CSR_SIDE_* order */
static const char *const init_names[] = { "none", "same", "other" };  /* MODEL_INIT_* order */

/* A 64-bit value written as 16 hexadecimal digits. */
static int
parse_hex64(const char *val, uint64_t *out)
{
    if (strlen(val) != 16 || strspn(val, "0123456789abcdefABCDEF") != 16)
        return ALS_EFORMAT;
    *out = (uint64_t)strtoull(val, NULL, 16);
    return 0;
}

/* The index of val in the three names, or ALS_EFORMAT. */
static int
parse_name(const char *val, const char *const names[3], int *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(val, names[i])) {
            *out = i;
            return 0;
        }
    return ALS_EFORMAT;
}

/*
 * META: "key=value" lines. mu comes first, so that a reader that keeps only the first
 * bytes of META does not lose it; the training parameters follow in a fixed order. A
 * model that records no parameters (has == 0) writes mu alone.
 */
static void
meta_format(const struct model *m, char *buf, size_t size)
{
    const struct model_params *p = &m->params;
    size_t n = (size_t)snprintf(buf, size, "mu=%.17g\n", m->mu);
#define META_ADD(...)                                                      \
    do {                                                                   \
        if (n < size)                                                      \
            n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__);         \
    } while (0)
    if (p->has) {
        META_ADD("mode=%s\nfactors=%u\n", m->implicit ? "implicit" : "explicit", m->k);
        if (p->has & MODEL_HAS_ITERATIONS)
            META_ADD("iterations=%u\n", p->iterations);
        if (p->has & MODEL_HAS_CONFIDENCE)
            META_ADD("confidence=%s\n", p->confidence == MODEL_CONF_LOG ? "log" : "linear");
        if (p->has & MODEL_HAS_ALPHA)
            META_ADD("alpha=%.15g\n", p->alpha);
        if (p->has & MODEL_HAS_LAMBDA)
            META_ADD("lambda=%.15g\n", p->lambda);
        if (p->has & MODEL_HAS_SOLVER)
            META_ADD("solver=%s\n", p->solver == MODEL_SOLVER_CG ? "cg" : "cholesky");
        if (p->has & MODEL_HAS_CG_STEPS)
            META_ADD("cg_steps=%u\n", p->cg_steps);
        META_ADD("biases=%s\n", m->biases ? "yes" : "no");
        if (p->has & MODEL_HAS_SEED)
            META_ADD("seed=%" PRIu64 "\n", p->seed);
        if (p->has & MODEL_HAS_TRAIN)
            META_ADD("train=%s\ntrain_nnz=%" PRIu64 "\ndata_checksum=%08x\n", p->train,
                     p->train_nnz, p->data_checksum);
        if (p->has & MODEL_HAS_INIT)
            META_ADD("init=%s\n", p->init);
        if (p->has & MODEL_HAS_RANGE)
            META_ADD("rating_min=%.9g\nrating_max=%.9g\n", p->rating_min, p->rating_max);
        if (p->has & MODEL_HAS_LINEAGE)
            META_ADD("data_id=%016" PRIx64 "\nsplit_id=%016" PRIx64 "\nsplit_side=%s\n"
                     "split_family=%016" PRIx64 "\ninit_split=%s\n", p->data_id, p->split_id,
                     side_names[p->split_side], p->split_family, init_names[p->init_split]);
    }
#undef META_ADD
}

/* Each line of a META text: key and value, without the line break. */
static void
meta_each(const char *text, size_t len, void (*fn)(const char *, const char *, void *),
          void *ctx)
{
    char key[64], val[META_MAX];
    for (size_t i = 0; i < len;) {
        const char *line = text + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - line) : len - i;
        i += ll + 1;
        const char *eq = memchr(line, '=', ll);
        if (!eq || (size_t)(eq - line) >= sizeof key || ll - (size_t)(eq - line) > sizeof val)
            continue;
        memcpy(key, line, (size_t)(eq - line));
        key[eq - line] = '\0';
        size_t vl = ll - (size_t)(eq - line) - 1;
        memcpy(val, eq + 1, vl);
        val[vl] = '\0';
        fn(key, val, ctx);
    }
}

struct meta_parse_ctx {
    struct model *m;
    char bad[64]; /* the first key whose value did not parse */
    char bad_value[40];
};

static void
parse_one(const char *key, const char *val, void *ctx)
{
    struct meta_parse_ctx *c = ctx;
    struct model_params *p = &c->m->params;
    uint64_t u = 0;
    int rc = 0;
    static const struct {
        const char *key;
        unsigned bit;
    } known[] = { { "iterations", MODEL_HAS_ITERATIONS }, { "cg_steps", MODEL_HAS_CG_STEPS },
                  { "alpha", MODEL_HAS_ALPHA }, { "lambda", MODEL_HAS_LAMBDA },
                  { "solver", MODEL_HAS_SOLVER }, { "seed", MODEL_HAS_SEED },
                  { "train", MODEL_HAS_TRAIN }, { "init", MODEL_HAS_INIT },
                  { "confidence", MODEL_HAS_CONFIDENCE } };
    if (!strcmp(key, "mu")) {
        rc = num_parse_double(val, -HUGE_VAL, HUGE_VAL, &c->m->mu);
    } else if (!strcmp(key, "iterations") || !strcmp(key, "cg_steps")) {
        rc = num_parse_u64(val, 0, UINT32_MAX, &u);
        *(key[0] == 'i' ? &p->iterations : &p->cg_steps) = (uint32_t)u;
    } else if (!strcmp(key, "alpha")) {
        rc = num_parse_double(val, 0, HUGE_VAL, &p->alpha);
    } else if (!strcmp(key, "lambda")) {
        rc = num_parse_double(val, 0, HUGE_VAL, &p->lambda);
    } else if (!strcmp(key, "confidence")) {
        rc = !strcmp(val, "log") ? 0 : !strcmp(val, "linear") ? 0 : ALS_EFORMAT;
        p->confidence = !strcmp(val, "log") ? MODEL_CONF_LOG : MODEL_CONF_LINEAR;
    } else if (!strcmp(key, "solver")) {
        rc = !strcmp(val, "cg") ? 0 : !strcmp(val, "cholesky") ? 0 : ALS_EFORMAT;
        p->solver = !strcmp(val, "cg") ? MODEL_SOLVER_CG : MODEL_SOLVER_CHOLESKY;
    } else if (!strcmp(key, "seed")) {
        rc = num_parse_u64(val, 0, UINT64_MAX, &p->seed);
    } else if (!strcmp(key, "train")) {
        snprintf(p->train, sizeof p->train, "%s", val);
    } else if (!strcmp(key, "train_nnz")) {
        rc = num_parse_u64(val, 0, UINT64_MAX, &p->train_nnz);
    } else if (!strcmp(key, "data_checksum")) {
        char *end;
        unsigned long x = strtoul(val, &end, 16);
        rc = strlen(val) == 8 && !*end && strspn(val, "0123456789abcdefABCDEF") == 8
                 ? 0 : ALS_EFORMAT;
        p->data_checksum = (uint32_t)x;
    } else if (!strcmp(key, "init")) {
        snprintf(p->init, sizeof p->init, "%s", val);
    } else if (!strcmp(key, "rating_min")) {
        rc = num_parse_double(val, -HUGE_VAL, HUGE_VAL, &p->rating_min);
    } else if (!strcmp(key, "rating_max")) { /* written after rating_min, always with it */
        rc = num_parse_double(val, -HUGE_VAL, HUGE_VAL, &p->rating_max);
        p->has |= rc == 0 ? MODEL_HAS_RANGE : 0;
    } else if (!strcmp(key, "data_id")) {
        rc = parse_hex64(val, &p->data_id);
        p->has |= rc == 0 ? MODEL_HAS_LINEAGE : 0;
    } else if (!strcmp(key, "split_id")) {
        rc = parse_hex64(val, &p->split_id);
    } else if (!strcmp(key, "split_family")) {
        rc = parse_hex64(val, &p->split_family);
    } else if (!strcmp(key, "init_split")) {
        rc = parse_name(val, init_names, &p->init_split);
    } else if (!strcmp(key, "split_side")) {
        rc = parse_name(val, side_names, &p->split_side);
    }
    if (rc < 0) {
        if (!c->bad[0]) {
            snprintf(c->bad, sizeof c->bad, "%s", key);
            snprintf(c->bad_value, sizeof c->bad_value, "%s", val);
        }
        return;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(known[i].key, key))
            p->has |= known[i].bit;
}

static int
meta_parse(struct model *m, const char *text, uint64_t len, const char *path, struct diag *d)
{
    struct meta_parse_ctx c = { .m = m };
    memset(&m->params, 0, sizeof m->params);
    m->mu = 0.0;
    meta_each(text, (size_t)len, parse_one, &c);
    if (c.bad[0])
        return diag_set(d, ALS_EFORMAT, "'%s': META: bad %s '%s'", path, c.bad, c.bad_value);
    return 0;
}

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
    char meta[META_MAX];
    meta_format(m, meta, sizeof meta);
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
model_open(struct model **out, const char *path, unsigned flags, struct diag *d)
{
    *out = NULL;
    struct model *m = calloc(1, sizeof *m);
    if (!m)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    int rc = afile_open(&m->file, path, MODEL_KIND, MODEL_MAJOR, flags | AFILE_PRIVATE, d);
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
    if ((rc = meta_parse(m, meta, nmeta, path, d)) < 0)
        goto out;
    *out = m;
    return 0;
out:
    afile_close(&m->file);
    free(m);
    return rc;
}

/* A path as a META value: one line, at most MODEL_PATH_MAX bytes (the tail, which names
 * the file). */
static void
set_path(char *dst, size_t size, const char *path)
{
    size_t n = strlen(path);
    const char *p = n > MODEL_PATH_MAX ? path + n - MODEL_PATH_MAX : path;
    snprintf(dst, size, "%s%s", n > MODEL_PATH_MAX ? "..." : "", p);
    for (char *q = dst; *q; q++)
        if (*q == '\n' || *q == '\r')
            *q = '?';
}

void
model_set_source(struct model *m, const char *train_path, uint64_t train_nnz,
                 uint32_t data_checksum, const char *init_path)
{
    set_path(m->params.train, sizeof m->params.train, train_path);
    m->params.train_nnz = train_nnz;
    m->params.data_checksum = data_checksum;
    set_path(m->params.init, sizeof m->params.init, init_path ? init_path : "none");
    m->params.has |= MODEL_HAS_TRAIN | MODEL_HAS_INIT;
}

void
model_describe(const struct model *m, void (*fn)(const char *, const char *, void *),
               void *ctx)
{
    const void *text;
    uint64_t len;
    if (m->file.map && afile_section(&m->file, "META", AFILE_DT_BYTES, &text, &len, NULL) == 0) {
        meta_each(text, (size_t)len, fn, ctx);
        return;
    }
    char buf[META_MAX];
    meta_format(m, buf, sizeof buf);
    meta_each(buf, strlen(buf), fn, ctx);
}

int
model_grow(struct model **out, const struct model *old, uint64_t users, uint64_t items,
           struct diag *d)
{
    *out = NULL;
    assert(users >= old->users && items >= old->items);
    struct model *g;
    int rc = model_new(&g, users, items, old->k, old->implicit, old->biases, d);
    if (rc < 0)
        return rc;
    memcpy(g->U, old->U, old->users * old->k * sizeof *g->U);
    memcpy(g->V, old->V, old->items * old->k * sizeof *g->V);
    if (old->biases) {
        memcpy(g->ub, old->ub, old->users * sizeof *g->ub);
        memcpy(g->ib, old->ib, old->items * sizeof *g->ib);
    }
    g->mu = old->mu;
    g->params = old->params;
    *out = g;
    return 0;
}
