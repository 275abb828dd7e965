/* SPDX-License-Identifier: MIT */
/* names: a label for each item (a title from a CSV/TSV such as MovieLens movies.csv). */
#include "names.h"

#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "xmem.h"
#include "zio.h"

void
names_init(struct names *nm)
{
    memset(nm, 0, sizeof *nm);
}

void
names_release(struct names *nm)
{
    free(nm->buf);
    free(nm->off);
    free(nm->len);
    names_init(nm);
}

const char *
names_get(const struct names *nm, uint64_t i, size_t *len)
{
    if (!nm || i >= nm->n || !nm->len[i]) {
        *len = 0;
        return "";
    }
    *len = nm->len[i];
    return nm->buf + nm->off[i];
}

/* Append p[0..n) to the growable *b (used *used, capacity *cap). */
static int
grow_append(char **b, size_t *used, size_t *cap, const char *p, size_t n)
{
    if (*used + n > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *used + n)
            c *= 2;
        char *nb = realloc(*b, c);
        if (!nb)
            return ALS_ENOMEM;
        *b = nb;
        *cap = c;
    }
    memcpy(*b + *used, p, n);
    *used += n;
    return 0;
}

int
names_load(struct names *nm, const struct vocab *items, const char *path, unsigned col,
           struct diag *d)
{
    struct zio_in *in = NULL;
    struct csv_scratch sc = { 0 };
    struct csv_field *f = NULL;
    char *rec = NULL, delim[CSV_MAX_DELIM + 1];
    size_t reccap = 0, bufcap = 0, bufused = 0;
    int rc;
    names_init(nm);
    nm->n = items->n;
    if (!(nm->off = xmem_alloc_array(nm->n + 1, sizeof *nm->off)) ||
        !(nm->len = calloc(nm->n + 1, sizeof *nm->len)) ||
        !(f = xmem_alloc_array(col, sizeof *f))) {
        rc = diag_set(d, ALS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = zio_in_open(&in, path, d)) < 0)
        goto out;
    const char *line;
    size_t len;
    int first = 1;
    while ((rc = zio_in_getline(in, &line, &len, d)) > 0) {
        uint64_t lineno = zio_in_lineno(in);
        if (len && line[len - 1] == '\r')
            len--;
        if (!len)
            continue;
        if (first && csv_detect_delim(line, len, delim) < 0) {
            rc = diag_set(d, ALS_EFORMAT, "%s:%llu: no delimiter (tab, ',', ';', '|' or "
                          "'::') between an item ID and its name", zio_in_name(in),
                          (unsigned long long)lineno);
            goto out;
        }
        first = 0;
        size_t dlen = strlen(delim), used = 0;
        int n = csv_split(line, len, delim, dlen, f, col, &sc);
        /* A quoted field running past the line: the newline is data, join the next. */
        if (n == CSV_EOPEN && (rc = grow_append(&rec, &used, &reccap, line, len)) < 0)
            goto oom;
        while (n == CSV_EOPEN) {
            if ((rc = zio_in_getline(in, &line, &len, d)) < 0)
                goto out;
            if (rc == 0) {
                rc = diag_set(d, ALS_EFORMAT, "%s:%llu: unterminated quoted field at end "
                              "of input", zio_in_name(in), (unsigned long long)lineno);
                goto out;
            }
            if (len && line[len - 1] == '\r')
                len--;
            if ((rc = grow_append(&rec, &used, &reccap, "\n", 1)) < 0 ||
                (rc = grow_append(&rec, &used, &reccap, line, len)) < 0)
                goto oom;
            n = csv_split(rec, used, delim, dlen, f, col, &sc);
        }
        if (n == ALS_ENOMEM)
            goto oom;
        if (n < 0) {
            rc = diag_set(d, ALS_EFORMAT, "%s:%llu: characters after a closing quote",
                          zio_in_name(in), (unsigned long long)lineno);
            goto out;
        }
        if ((unsigned)n < col) {
            rc = diag_set(d, ALS_EFORMAT, "%s:%llu: %d fields, the name is field %u",
                          zio_in_name(in), (unsigned long long)lineno, n, col);
            goto out;
        }
        uint32_t idx;
        int found = vocab_find(items, f[0].p, f[0].len, &idx);
        if (found <= 0 || idx >= nm->n) {
            nm->unknown++;
            continue;
        }
        nm->named++;
        const struct csv_field *lab = &f[col - 1];
        if (nm->len[idx] || !lab->len)
            continue;
        if (lab->len > UINT32_MAX) {
            rc = diag_set(d, ALS_EFORMAT, "%s:%llu: name longer than 4 GiB", zio_in_name(in),
                          (unsigned long long)lineno);
            goto out;
        }
        nm->off[idx] = bufused;
        if ((rc = grow_append(&nm->buf, &bufused, &bufcap, lab->p, lab->len)) < 0)
            goto oom;
        nm->len[idx] = (uint32_t)lab->len;
    }
    if (rc < 0)
        goto out;
    rc = 0;
    goto out;
oom:
    rc = diag_set(d, ALS_ENOMEM, "out of memory");
out:
    zio_in_close(in);
    csv_scratch_release(&sc);
    free(rec);
    free(f);
    if (rc < 0)
        names_release(nm);
    return rc;
}
