/* SPDX-License-Identifier: MIT */
/* guard: the pairing and leakage checks of an evaluation, from what the files record. */
#include "guard.h"

#include <inttypes.h>

static const char fix[] = " (pass --allow-leakage if this is meant)";

/* 1 when m was trained on exactly the matrix t (its file, or the same content). */
static int
trained_on(const struct model *m, const struct csr *t)
{
    const struct model_params *p = &m->params;
    if (p->has & MODEL_HAS_LINEAGE)
        return p->data_id == csr_content_id(t);
    /* A model from before the lineage was recorded: the checksum of its training file. */
    return (p->has & MODEL_HAS_TRAIN) && p->train_nnz == t->r.nnz &&
           p->data_checksum == afile_checksum(&t->file);
}

/* What the model is, for messages: "model 'x'" or "--baseline 'x'". */
static int
check_model(const struct guard_files *f, const struct model *m, const char *path, int base,
            const struct csr_split_info *te, struct diag *d)
{
    const char *what = base ? "--baseline" : "model";
    const struct model_params *p = &m->params;
    int lineage = (p->has & MODEL_HAS_LINEAGE) != 0;
    if (lineage && te->side && p->split_id == te->split_id && p->split_side == CSR_SIDE_TEST)
        return diag_set(d, ALS_ELEAK, "%s '%s' was trained on the test side of the split that "
                        "'%s' comes from: train it on the training side%s", what, path,
                        f->test_path, fix);
    if (lineage && te->source_id && p->data_id == te->source_id)
        return diag_set(d, ALS_ELEAK, "%s '%s' was trained on the whole matrix that '%s' was "
                        "split from, test entries included: train it on the training side%s",
                        what, path, f->test_path, fix);
    int train_side = lineage && p->split_side == CSR_SIDE_TRAIN &&
                     ((te->side && p->split_id == te->split_id) ||
                      (te->family && p->split_family == te->family));
    if (trained_on(m, f->train) || train_side) {
        if (!base && lineage && p->init_split == MODEL_INIT_OTHER)
            return diag_set(d, ALS_ELEAK, "model '%s' was warm-started (--init %s) from a model "
                            "not trained on this split's training side: it may carry what "
                            "that one learnt from test entries; warm-start from a model "
                            "trained on a training side of this split (a --stable split keeps "
                            "its sides across nights)%s", path, p->init, fix);
        return 0;
    }
    if (base) {
        if (!lineage || p->split_side == CSR_SIDE_NONE)
            return 0; /* older unsplit data: only ever makes the baseline look better */
        return diag_set(d, ALS_ELEAK, "--baseline '%s' was trained on another split (%016" PRIx64
                        ", '%s' is from %016" PRIx64 "), whose training side holds entries of "
                        "this test set: train the baseline on '%s', or split every night with "
                        "the same --stable --seed%s", path, p->split_id, f->test_path,
                        te->split_id, f->train_path, fix);
    }
    if (!(p->has & MODEL_HAS_TRAIN))
        return diag_set(d, ALS_ELEAK, "model '%s' records no training data, so it may have seen "
                        "the test entries of '%s': retrain it with this als-train%s", path,
                        f->test_path, fix);
    return diag_set(d, ALS_ELEAK, "model '%s' was trained on '%s' (%" PRIu64 " entries), not on "
                    "'-c %s': it may have seen test entries; train it on the training side of "
                    "the split%s", path, p->train, p->train_nnz, f->train_path, fix);
}

int
guard_check(const struct guard_files *f, struct diag *d)
{
    struct csr_split_info tr, te;
    csr_split_info(f->train, &tr);
    csr_split_info(f->test, &te);
    if (tr.side == CSR_SIDE_TEST || te.side == CSR_SIDE_TRAIN)
        return diag_set(d, ALS_ELEAK, "'-c %s' is a test side and '%s' a training side: swapped? "
                        "(als-eval -c TRAIN.CSR TEST.CSR)%s", f->train_path, f->test_path, fix);
    if (tr.side && te.side && tr.split_id != te.split_id)
        return diag_set(d, ALS_ELEAK, "'-c %s' and '%s' are sides of different splits (%016"
                        PRIx64 " and %016" PRIx64 "): use the two files of one als-csr run%s",
                        f->train_path, f->test_path, tr.split_id, te.split_id, fix);
    uint64_t common = csr_common_entries(&f->train->r, &f->test->r);
    if (common)
        return diag_set(d, ALS_ELEAK, "'-c %s' holds %" PRIu64 " of the %" PRIu64 " entries of "
                        "'%s': pass the training side of the split (als-csr --test)%s",
                        f->train_path, common, f->test->r.nnz, f->test_path, fix);
    int rc = check_model(f, f->model, f->model_path, 0, &te, d);
    if (rc == 0 && f->baseline)
        rc = check_model(f, f->baseline, f->baseline_path, 1, &te, d);
    return rc;
}
