/* SPDX-License-Identifier: MIT */
/* fuzz_vocabdir: map.conf parsing by vocabdir_load, and the save/load round trip of what
 * it accepts. */
#define _GNU_SOURCE
#include "fuzz.h"

#include "vocabdir.h"

/*
 * One scratch directory per process holds the valid vocabularies a map.conf can name:
 * users.1.vocab (3 IDs), items.1.vocab (4 IDs), empty.vocab (0 IDs), bad.vocab (not a
 * vocabulary) and a subdirectory. The input becomes DIR/load/map.conf; what loads is
 * saved to DIR/save and loaded back.
 */
static char load_dir[4200], save_dir[4200];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *top = fuzz_dir();
    char p[4300];
    snprintf(load_dir, sizeof load_dir, "%s/load", top);
    snprintf(save_dir, sizeof save_dir, "%s/save", top);
    if (mkdir(load_dir, 0777) < 0 || mkdir(save_dir, 0777) < 0)
        FUZZ_DIE("mkdir");
    snprintf(p, sizeof p, "%s/users.1.vocab", load_dir);
    fuzz_make_vocab(p, fuzz_users, FUZZ_NUSERS);
    snprintf(p, sizeof p, "%s/items.1.vocab", load_dir);
    fuzz_make_vocab(p, fuzz_items, FUZZ_NITEMS);
    snprintf(p, sizeof p, "%s/empty.vocab", load_dir);
    fuzz_make_vocab(p, NULL, 0);
    snprintf(p, sizeof p, "%s/bad.vocab", load_dir);
    fuzz_put_file(p, "ALSBVOC1 not really", 19);
    snprintf(p, sizeof p, "%s/sub", load_dir);
    if (mkdir(p, 0777) < 0)
        FUZZ_DIE("mkdir");
    return 0;
}

static int
same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char conf[4300];
    struct vocabdir v, w;
    struct diag d;
    snprintf(conf, sizeof conf, "%s/map.conf", load_dir);
    fuzz_put_file(conf, data, size);
    vocabdir_init(&v);
    vocabdir_init(&w);
    int rc = vocabdir_load(&v, load_dir, 0, &d);
    if (rc < 0) {
        FUZZ_CHECK(rc == ALS_EFORMAT || rc == ALS_EVERSION || rc == ALS_ECHECKSUM ||
                   rc == ALS_EIO || rc == ALS_EUSAGE);
        FUZZ_CHECK(d.msg[0] != '\0');
        goto out;
    }
    FUZZ_CHECK(strlen(v.spec.delim) <= CSV_MAX_DELIM);
    FUZZ_CHECK(v.rmap.nlevels <= RATEMAP_MAX_LEVELS && v.rmap.nsteps <= RATEMAP_MAX_STEPS);
    for (uint64_t i = 0; i < v.users.n; i++) {
        size_t n;
        const char *p = vocab_get(&v.users, i, &n);
        FUZZ_CHECK(p != NULL);
        uint32_t j;
        FUZZ_CHECK(vocab_find(&v.users, p, n, &j) == 1 && j == i);
    }
    /* Save into another directory and load it back: the same settings. */
    free(v.path);
    v.path = strdup(save_dir);
    if (!v.path)
        FUZZ_DIE("out of memory");
    if (vocabdir_save(&v, &d) < 0) {
        fprintf(stderr, "vocabdir_save: %s\n", d.msg);
        FUZZ_CHECK(!"a loaded vocabulary directory saves");
    }
    if (vocabdir_load(&w, save_dir, AFILE_VERIFY, &d) < 0) {
        fprintf(stderr, "reloading the saved map.conf: %s\n", d.msg);
        FUZZ_CHECK(!"a saved vocabulary directory loads");
    }
    FUZZ_CHECK(strcmp(v.spec.delim, w.spec.delim) == 0);
    FUZZ_CHECK((v.spec.header > 0) == (w.spec.header > 0));
    for (int c = 0; c < LOG_NCOLS; c++)
        FUZZ_CHECK(same_str(v.spec.col[c], w.spec.col[c]));
    FUZZ_CHECK(ratemap_equal(&v.rmap, &w.rmap));
    FUZZ_CHECK(v.users.n == w.users.n && v.items.n == w.items.n);
out:
    vocabdir_release(&v);
    vocabdir_release(&w);
    return 0;
}
