/* SPDX-License-Identifier: MIT */
/* fuzz_triples: triples_reader_open/triples_read on binary and text streams, as given and
 * with their checksums repaired so that mutations reach the checks behind the CRCs. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <math.h>

#include "triples.h"

static void
read_all(const unsigned char *data, size_t size)
{
    struct triples_reader r;
    struct triple t;
    struct diag d;
    int rc = triples_reader_open(&r, fuzz_file(data, size), &d);
    if (rc < 0) {
        FUZZ_CHECK(rc == ALS_EFORMAT || rc == ALS_ECHECKSUM || rc == ALS_EVERSION ||
                   rc == ALS_EIO);
        FUZZ_CHECK(d.msg[0] != '\0');
        return;
    }
    int text = r.text;
    uint64_t got = 0;
    while ((rc = triples_read(&r, &t, &d)) == 1) {
        got++;
        FUZZ_CHECK(r.total == got);
        if (text) {
            /* Text values were checked to be finite floats. */
            FUZZ_CHECK(isfinite(t.value));
            FUZZ_CHECK(r.has_time || t.time == 0);
        } else {
            FUZZ_CHECK(r.has_time || t.time == 0);
            FUZZ_CHECK(r.pos <= r.n && r.n <= TRIPLES_BLOCK);
        }
    }
    FUZZ_CHECK(rc == 0 || rc == ALS_EFORMAT || rc == ALS_ECHECKSUM || rc == ALS_EIO);
    if (rc < 0) {
        FUZZ_CHECK(d.msg[0] != '\0');
    } else if (!text) {
        /* A binary stream ends only at its end marker, whose count matched. */
        FUZZ_CHECK(r.ended);
        FUZZ_CHECK(r.total == got);
    }
    triples_reader_close(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_all(data, size);
    if (size >= 64 && memcmp(data, "ALSB", 4) == 0) {
        unsigned char *fixed = malloc(size);
        if (!fixed)
            FUZZ_DIE("out of memory");
        memcpy(fixed, data, size);
        if (fuzz_fix_triples(fixed, size))
            read_all(fixed, size);
        free(fixed);
    }
    return 0;
}
