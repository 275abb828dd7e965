#!/usr/bin/env bats
# tests/layering.sh, the layering check of make check (rules in lib/README), on small fake
# trees: a clean one passes, and each kind of violation fails its own rule, naming the
# file and line. (make check runs it on the real tree.)

bats_require_minimum_version 1.5.0
load helpers

setup() {
    als_setup
    mkdir -p top/lib top/cmd top/share top/tests/unit
    printf '#include <cblas.h>\n#include <lapacke.h>\nvoid la_f(void) { cblas_sgemm(); }\n' \
        >top/lib/linalg.c
    printf '#include "model.h"\nstatic const char *k = "train_nnz=%%u\\ncg_steps=%%u";\n' \
        >top/lib/model.c
    printf '#include "diag.h"\nint model_meta_get(void);\n' >top/lib/model.h
    printf '#include "diag.h"\n' >top/lib/diag.h
    printf '#include "cli.h"\n#include "model.h"\n' >top/cmd/als-x.c
    printf '/* cli */\n' >top/cmd/cli.h
    printf '#include <cblas.h>\nint main(void) { cblas_sgemm(); }\n' >top/share/bench-sgemm.c
    # tests may do anything
    printf '#include "cli.h"\n#include <cblas.h>\nx = model_meta_get("cg_steps");\n' \
        >top/tests/unit/test_x.c
}

layering() {
    run sh "$ALS_TOP/tests/layering.sh" "$PWD/top"
}

@test "layering: a tree that keeps the rules passes all four" {
    layering
    ((status == 0)) || _fail "exit $status" "$output"
    assert_eq 5 "${#lines[@]}" "lines"
    assert_eq "1..4" "${lines[0]}"
    assert_eq 4 "$(printf '%s\n' "$output" | grep -c '^ok [1-4] - layering: ')" "ok lines"
}

@test "layering: a lib file including a header from cmd/ breaks rule 1" {
    printf '#include "diag.h"\n#include "cli.h"\n' >top/lib/csv.c
    printf 'int x;\n#  include "../cmd/als-x.h"\n' >top/lib/topk.h
    layering
    ((status == 1)) || _fail "exit $status" "$output"
    assert_contains "$output" $'not ok 1 - layering: no file in lib/ includes a header from cmd/\n#   lib/csv.c:2: #include "cli.h"\n#   lib/topk.h:2: #  include "../cmd/als-x.h"'
    # cli.h from lib/ is also rule 2
    assert_contains "$output" $'not ok 2 - layering: only cmd/ includes cli.h\n#   lib/csv.c:2: #include "cli.h"'
    assert_contains "$output" "ok 3 - "
    # a name in lib/ as well as in cmd/ is found in lib/ first: no violation
    rm top/lib/topk.h top/lib/csv.c
    printf '/* lib */\n' >top/lib/cli2.h
    printf '/* cmd */\n' >top/cmd/cli2.h
    printf '#include "cli2.h"\n' >top/lib/csv.c
    layering
    ((status == 0)) || _fail "exit $status" "$output"
}

@test "layering: cli.h outside cmd/ breaks rule 2" {
    printf '#include <stdio.h>\n\n#include <cli.h>\n' >top/share/als-gen-log.c
    layering
    ((status == 1)) || _fail "exit $status" "$output"
    assert_contains "$output" $'not ok 2 - layering: only cmd/ includes cli.h\n#   share/als-gen-log.c:3: #include <cli.h>'
    assert_contains "$output" "ok 1 - "
}

@test "layering: BLAS outside lib/linalg.c breaks rule 3" {
    printf '#include "diag.h"\n#include <lapacke.h>\n' >top/lib/als.c
    printf 'int main(void)\n{\n    return LAPACKE_spotrf(1);\n}\n' >top/cmd/als-y.c
    layering
    ((status == 1)) || _fail "exit $status" "$output"
    assert_contains "$output" $'not ok 3 - layering: only lib/linalg.c includes cblas.h / lapacke.h\n#   cmd/als-y.c:3: return LAPACKE_spotrf(1);\n#   lib/als.c:2: #include <lapacke.h>'
}

@test "layering: META keys or model_meta_get outside lib/model.[ch] break rule 4" {
    printf 'if (model_meta_get(m, "seed", b, 9) == 0)\n' >top/cmd/als-z.c
    printf 'static const char *k =\n    "mode=x\\ndata_checksum=%%08x\\n";\n' >top/lib/topk.c
    printf 'const char *a = "cg_steps";\nint cg_steps_max;\n' >top/lib/als.c
    layering
    ((status == 1)) || _fail "exit $status" "$output"
    assert_contains "$output" "$(printf '%s\n' \
        'not ok 4 - layering: only lib/model.c and lib/model.h know the model META keys (train_nnz data_checksum cg_steps)' \
        '#   cmd/als-z.c:1: if (model_meta_get(m, "seed", b, 9) == 0)' \
        '#   lib/als.c:1: const char *a = "cg_steps";' \
        '#   lib/topk.c:2: "mode=x\ndata_checksum=%08x\n";')"
    assert_not_contains "$output" "cg_steps_max"
}
