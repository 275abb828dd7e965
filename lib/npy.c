/* SPDX-License-Identifier: MIT */
/* npy: NumPy .npy files, so that Python users can numpy.load what als writes. */
#include "npy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"
#include "zio.h"

int
npy_save_f32(const char *path, const float *data, uint64_t rows, uint64_t cols,
             struct diag *d)
{
    /* Magic, version 1.0, a little-endian u16 header length, then a Python dict literal
     * padded with spaces and ending in '\n' so that the data starts 64-byte aligned. */
    char dict[256];
    int n = snprintf(dict, sizeof dict,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%" PRIu64 ", %" PRIu64
                     "), }",
                     rows, cols);
    size_t head = 10 + (size_t)n + 1, total = (head + 63) / 64 * 64;
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };
    uint16_t hlen = (uint16_t)(total - 10);
    pre[8] = (unsigned char)hlen;
    pre[9] = (unsigned char)(hlen >> 8);
    memset(dict + n, ' ', total - head);
    dict[total - 11] = '\n';
    struct zio_out o;
    int rc = zio_out_open(&o, path, d);
    if (rc < 0)
        return rc;
    if ((rc = zio_out_write(&o, pre, sizeof pre, d)) >= 0 &&
        (rc = zio_out_write(&o, dict, total - 10, d)) >= 0 &&
        (rc = zio_out_write(&o, data, (size_t)(rows * cols * sizeof *data), d)) >= 0)
        rc = zio_out_commit(&o, d);
    zio_out_abort(&o);
    return rc;
}

int
npy_export_model(const struct model *m, const char *dir, struct diag *d)
{
    if (mkdir(dir, 0777) < 0 && errno != EEXIST)
        return diag_set_errno(d, ALS_EIO, errno, "cannot create '%s'", dir);
    char up[4096], ip[4096];
    snprintf(up, sizeof up, "%s/user_factors.npy", dir);
    snprintf(ip, sizeof ip, "%s/item_factors.npy", dir);
    int rc = npy_save_f32(up, m->U, m->users, m->k, d);
    if (rc >= 0)
        rc = npy_save_f32(ip, m->V, m->items, m->k, d);
    return rc;
}
