/* SPDX-License-Identifier: MIT */
/* guard: refuse an evaluation whose files do not belong together (test data seen in
 * training, swapped sides, sides of different splits). */
#ifndef ALS_GUARD_H
#define ALS_GUARD_H

#include "csr.h"
#include "diag.h"
#include "model.h"

/* What als-eval is given; paths only for the messages. baseline may be NULL. */
struct guard_files {
    const struct model *model, *baseline;
    const struct csr *train, *test;
    const char *model_path, *baseline_path, *train_path, *test_path;
};

/*
 * Check, in this order, from what the files record (csr_split_info, the model's
 * params: data_checksum, data_id, split_id, split_side) and from the entries themselves:
 *   1. train and test are not swapped sides of a split;
 *   2. when both are sides of splits, it is the same split;
 *   3. train holds none of test's entries (a direct count: -c ALL.CSR is caught);
 *   4. the model was trained on train (its file checksum or content), or on the training
 *      side of test's split or of a stable split of the same family (csr_split: an entry
 *      keeps its side in every night's split), and any warm start it continued was
 *      trained likewise (its init_split is not MODEL_INIT_OTHER);
 *   5. a baseline was not trained on test's matrix as a whole, on its test side, or on
 *      another split of any matrix (a split's training side holds entries another
 *      split's test side has). A baseline trained on older unsplit data is let through:
 *      what it saw can only make it look better, so the gate gets stricter, never looser.
 * The first failure is ALS_ELEAK with one line naming the files, what was found and the
 * fix.
 */
int guard_check(const struct guard_files *f, struct diag *d) ALS_MUSTCHECK;

#endif
