/* SPDX-License-Identifier: MIT */
/* npy: NumPy .npy files, so that Python users can numpy.load what als writes. */
#ifndef ALS_NPY_H
#define ALS_NPY_H

#include <stdint.h>

#include "diag.h"

struct model;

/* Write a rows x cols float32 C-order array to path atomically (.npy format 1.0). */
int npy_save_f32(const char *path, const float *data, uint64_t rows, uint64_t cols,
                 struct diag *d) ALS_MUSTCHECK;

/* Create dir if it does not exist and write m's factors to dir/user_factors.npy and
 * dir/item_factors.npy (npy_save_f32). ALS_EIO when dir cannot be created. */
int npy_export_model(const struct model *m, const char *dir, struct diag *d) ALS_MUSTCHECK;

#endif
