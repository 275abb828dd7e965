#!/usr/bin/env bats
# als-train: a model from a CSR file; --info, determinism across threads and seeds, --loss,
# --validate, --progress=json, --export-npy, warm start over a grown vocabulary, and every
# error path (bad CSR, -k too large, bad options, unwritable output) with no file left.
#
# The fixture (built once per file): als-gen-log --lines 3000 --seed 5 (120 visitors, 100
# items), mapped with log1p durations into the vocabulary v, split 80/20 into tr.csr and
# te.csr. Training it takes a fraction of a second.

bats_require_minimum_version 1.5.0
load helpers

T=$'\t'

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    als-gen-log --lines 3000 --seed 5 >log.csv
    als-map -q -V v -u visitor_id -i content_id -r duration_s --transform log1p -o t.trp log.csv
    als-csr -q -V v -o tr.csr --test te.csr --test-fraction 0.2 t.trp
    # oneDAL's rank and iterations, given: the warm-start tests below rely on rank 10
    als-train -q -k 10 -n 5 -o base.model tr.csr
}

setup() {
    als_setup
    F=$BATS_FILE_TMPDIR
}

# info_field MODEL KEY: the value of KEY in `als-train --info MODEL`
info_field() {
    als-train --info "$1" | awk -F '\t' -v k="$2" '$1 == k { print $2 }'
}

# csr_field FILE KEY: the value of KEY in `als-csr --info FILE`
csr_field() {
    als-csr --info "$1" | awk -F '\t' -v k="$2" '$1 == k { print $2 }'
}

# npy_expected_size FILE N K: the size of a float32 .npy of N x K, with the header length
# read from FILE itself.
npy_expected_size() {
    local hlen
    hlen=$(od -An -tu2 -j8 -N2 "$1" | tr -d ' ')
    echo $((10 + hlen + $2 * $3 * 4))
}

# ---- contract ----

@test "train: --help prints the usage and the defaults on stdout, exit 0" {
    run --separate-stderr als-train --help
    [[ $status -eq 0 ]]
    assert_empty "$stderr" stderr
    assert_match "$(first_line "$output")" '^usage: als-train '
    assert_contains "$output" "--export-npy DIR MODEL"
    assert_contains "$output" "latent factors (default 64)"
    assert_contains "$output" "iterations (default 15)"
    assert_contains "$output" "(default 2 / mean f(r))"
    assert_contains "$output" "--confidence F     implicit f(r): linear |r| or log log(1 + |r|)"
    assert_contains "$output" "implicit 14 users^0.3/items^0.2"
    assert_contains "$output" "explicit 0.12"
    assert_contains "$output" "oneDAL's: -k 10 -n 5 -a 40 -l 0.01"
    assert_contains "$output" "--confidence linear)"
    run --separate-stderr als-train -h
    [[ $status -eq 0 ]]
    assert_match "$(first_line "$output")" '^usage: als-train '
}

@test "train: --version is one line" {
    run --separate-stderr als-train --version
    [[ $status -eq 0 ]]
    local re='^als-train [0-9]+\.[0-9]+\.[0-9]+ \(libals [0-9.]+, zlib [^,]+, [^)]+\)$'
    assert_match "$output" "$re"
    assert_empty "$stderr" stderr
}

@test "train: a bad option is a usage error (2) with the usage on stderr" {
    run --separate-stderr als-train --bogus "$F/tr.csr"
    [[ $status -eq 2 ]]
    assert_empty "$output" stdout
    assert_contains "$stderr" "usage: als-train"
    run --separate-stderr als-train --solver lu -o m.model "$F/tr.csr"
    [[ $status -eq 2 ]]
    assert_contains "$stderr" "cholesky or cg"
    run --separate-stderr als-train --implicit --explicit -o m.model "$F/tr.csr"
    [[ $status -eq 2 ]]
    run --separate-stderr als-train --implicit --biases -o m.model "$F/tr.csr"
    [[ $status -eq 2 ]]
    run --separate-stderr als-train --progress=yaml -o m.model "$F/tr.csr"
    [[ $status -eq 2 ]]
    assert_file_absent m.model
}

# ---- a model and what --info says about it ----

@test "train: writes a model; --info shows users, items, factors, mode, solver, seed, checksum" {
    run --separate-stderr als-train -k 6 --seed 3 -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    assert_file_exists m.model
    no_temp_files .
    run --separate-stderr als-train --info m.model
    [[ $status -eq 0 ]]
    assert_contains "$output" "format${T}FAC1 1."
    assert_contains "$output" "users${T}$(csr_field "$F/tr.csr" rows)"
    assert_contains "$output" "items${T}$(csr_field "$F/tr.csr" cols)"
    assert_contains "$output" "users${T}120"
    assert_contains "$output" "items${T}100"
    assert_contains "$output" "factors${T}6"
    assert_contains "$output" "mode${T}implicit"
    assert_contains "$output" "solver${T}cg"
    assert_contains "$output" "seed${T}3"
    assert_contains "$output" "iterations${T}15"
    # alpha and lambda left to the data: 2 / mean f(r) and 14 users^0.3 / items^0.2, with
    # f(r) = log(1 + |r|) for the heavy tail of summed sessions
    assert_contains "$output" "confidence${T}log"
    local alpha lambda
    alpha=$(als-csr --dump "$F/tr.csr" | awk '{ s += log(1 + ($3 < 0 ? -$3 : $3)) } END { printf "%.9g", 2 * NR / s }')
    lambda=$(awk 'BEGIN { printf "%.9g", 14 * 120 ^ 0.3 / 100 ^ 0.2 }')
    assert_eq "$alpha" "$(info_field m.model alpha | awk '{ printf "%.9g", $1 }')"
    assert_eq "$lambda" "$(info_field m.model lambda | awk '{ printf "%.9g", $1 }')"
    assert_match "$output" "data_checksum${T}[0-9a-f]{8}"
    # The same data gives the same checksum; other data another.
    assert_eq "$(info_field "$F/base.model" data_checksum)" "$(info_field m.model data_checksum)"
    als-train -q -k 6 -o t.model "$F/te.csr"
    [[ "$(info_field t.model data_checksum)" != "$(info_field m.model data_checksum)" ]]
}

@test "train: --explicit: mode explicit, solver cholesky, biases, the global mean" {
    run --separate-stderr als-train --explicit -q -o e.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_empty "$stderr" stderr
    run als-train --info e.model
    assert_contains "$output" "mode${T}explicit"
    assert_contains "$output" "solver${T}cholesky"
    assert_contains "$output" "biases${T}yes"
    assert_match "$(info_field e.model mu)" '^[0-9]+\.[0-9]+'
    run als-train --info "$F/base.model"
    assert_contains "$output" "biases${T}no"
}

@test "train: -q prints nothing; default prints one summary line on stderr" {
    run --separate-stderr als-train -q -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    assert_empty "$stderr" stderr
    run --separate-stderr als-train -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    assert_match "$stderr" '^als-train: 120 users x 100 items, 64 factors, 15 iterations'
    # -v says what was chosen; given values are kept as given
    run --separate-stderr als-train -v -k 10 -n 5 -a 40 -l 0.01 -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_contains "$stderr" "als-train: trained with -k 10 -n 5 -a 40 -l 0.01 --confidence log"
    assert_eq 40 "$(info_field m.model alpha)"
    assert_eq 0.01 "$(info_field m.model lambda)"
}

@test "train: a default rank larger than the data shrinks to fit; a given one is an error" {
    printf 'u1,i1,1\nu1,i2,2\nu2,i2,1\nu3,i1,4\n' >tiny.csv
    als-map -q -V tv -o tiny.trp tiny.csv
    als-csr -q -V tv -o tiny.csr tiny.trp
    run --separate-stderr als-train -q -o tiny.model tiny.csr
    [[ $status -eq 0 ]]
    assert_eq 2 "$(info_field tiny.model factors)"
    run --separate-stderr als-train -q -k 3 -o tiny.model tiny.csr
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "3 factors is more than the 3 users or 2 items"
}

@test "train: a warm start keeps the rank, alpha and lambda of its --init model" {
    als-train -q -k 5 -n 2 -a 0.5 -l 7 -o w0.model "$F/tr.csr"
    run --separate-stderr als-train -q -n 1 --init w0.model -o w1.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_eq 5 "$(info_field w1.model factors)"
    assert_eq 0.5 "$(info_field w1.model alpha)"
    assert_eq 7 "$(info_field w1.model lambda)"
    als-train -q -n 1 -l 3 --init w0.model -o w2.model "$F/tr.csr"
    assert_eq 3 "$(info_field w2.model lambda)"
    # the mode, solver and biases too: an explicit Cholesky model continues as one
    als-train -q --explicit -k 3 -n 2 -l 0.2 -o e0.model "$F/tr.csr"
    run --separate-stderr als-train -q -n 1 --init e0.model -o e1.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_eq explicit "$(info_field e1.model mode)"
    assert_eq yes "$(info_field e1.model biases)"
    assert_eq cholesky "$(info_field e1.model solver)"
    assert_eq 0.2 "$(info_field e1.model lambda)"
    als-train -q -n 1 --solver cg --init e0.model -o e2.model "$F/tr.csr"
    assert_eq cg "$(info_field e2.model solver)"
    # a value given again that differs is an error naming the flag
    run --separate-stderr als-train -q -n 1 --implicit --init e0.model -o e3.model "$F/tr.csr"
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "(--implicit conflicts with it: leave it out to continue the model)"
    run --separate-stderr als-train -q -n 1 -k 4 --init e0.model -o e3.model "$F/tr.csr"
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "(-k conflicts with it"
    run --separate-stderr als-train -q -n 1 --no-biases --init e0.model -o e3.model "$F/tr.csr"
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "(--no-biases conflicts with it"
    assert_file_absent e3.model
}

@test "train: --confidence log for heavy-tailed values, linear for log1p ones; kept by --init" {
    # raw watch seconds: the 99th percentile is far above ten times the median
    als-map -q -V vr -u visitor_id -i content_id -r duration_s -o raw.trp "$F/log.csv"
    als-csr -q -V vr -o raw.csr raw.trp
    run --separate-stderr als-train -v -k 4 -n 2 -o raw.model raw.csr
    [[ $status -eq 0 ]]
    assert_match "$stderr" "trained with -k 4 -n 2 -a [0-9.e-]+ -l [0-9.e+-]+ --confidence log"
    assert_eq log "$(info_field raw.model confidence)"
    # alpha is 2 over the mean of log(1 + |r|), computed here from the entries
    local want
    want=$(als-csr --dump raw.csr | awk -F '\t' '{ s += log(1 + ($3 < 0 ? -$3 : $3)); n++ }
        END { printf "%.6g", 2 / (s / n) }')
    assert_eq "$want" "$(info_field raw.model alpha | awk '{ printf "%.6g", $1 }')" "alpha"
    # log1p values of single sessions have no heavy tail (sums of many sessions would):
    # linear, alpha 2 over the mean |r|
    als-csr -q -V "$F/v" --dup last -o last.csr "$F/t.trp"
    als-train -q -k 4 -n 2 -o lin.model last.csr
    assert_eq linear "$(info_field lin.model confidence)"
    want=$(als-csr --dump last.csr | awk -F '\t' '{ s += ($3 < 0 ? -$3 : $3); n++ }
        END { printf "%.6g", 2 / (s / n) }')
    assert_eq "$want" "$(info_field lin.model alpha | awk '{ printf "%.6g", $1 }')" "alpha"
    # given, it is kept; the two give different models
    als-train -q -k 4 -n 2 --confidence linear -o raw-lin.model raw.csr
    assert_eq linear "$(info_field raw-lin.model confidence)"
    ! cmp -s raw.model raw-lin.model
    # a warm start continues with its model's confidence unless told otherwise
    als-train -q -n 1 --init raw.model -o raw2.model raw.csr
    assert_eq log "$(info_field raw2.model confidence)"
    als-train -q -n 1 --init raw.model --confidence linear -o raw3.model raw.csr
    assert_eq linear "$(info_field raw3.model confidence)"
    # explicit models have no confidence
    run --separate-stderr als-train -q --explicit --confidence log -o e.model raw.csr
    [[ $status -eq 2 ]]
    assert_contains "$stderr" "--confidence is for --implicit models"
    assert_file_absent e.model
    run --separate-stderr als-train -q --confidence square -o e.model raw.csr
    [[ $status -eq 2 ]]
    assert_file_absent e.model
}

# ---- determinism ----

@test "train: the same seed gives the same bytes with -j 1 and -j 2 (cg, cholesky, explicit)" {
    local args
    for args in "--solver cg" "--solver cholesky" "--explicit" "--explicit --solver cg" \
                "--explicit --no-biases"; do
        # shellcheck disable=SC2086
        als-train -q $args -k 8 -n 4 --seed 7 -j 1 -o a.model "$F/tr.csr"
        # shellcheck disable=SC2086
        als-train -q $args -k 8 -n 4 --seed 7 -j 2 -o b.model "$F/tr.csr"
        # shellcheck disable=SC2086
        als-train -q $args -k 8 -n 4 --seed 7 -j 3 -o c.model "$F/tr.csr"
        cmp a.model b.model || _fail "-j 1 and -j 2 differ for: $args"
        cmp a.model c.model || _fail "-j 1 and -j 3 differ for: $args"
    done
}

@test "train: a different seed gives a different model, the same data checksum" {
    als-train -q --seed 1 -o a.model "$F/tr.csr"
    als-train -q --seed 2 -o b.model "$F/tr.csr"
    als-train -q --seed 1 -o c.model "$F/tr.csr"
    run cmp -s a.model b.model
    [[ $status -ne 0 ]]
    cmp a.model c.model
    assert_eq "$(info_field a.model data_checksum)" "$(info_field b.model data_checksum)"
    assert_eq 2 "$(info_field b.model seed)"
}

# ---- progress, loss, validation ----

@test "train: --loss with cholesky: one line per iteration on stderr, never increasing" {
    run --separate-stderr als-train --solver cholesky -n 8 --loss -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    local losses
    losses=$(printf '%s\n' "$stderr" |
        sed -n 's/.*iteration [0-9]*\/8:.*, loss \([-0-9.e+]*\).*/\1/p')
    assert_eq 8 "$(printf '%s\n' "$losses" | grep -c .)" "loss lines"
    printf '%s\n' "$losses" | awk 'NR > 1 && $1 > prev * (1 + 1e-6) {
            printf "loss went up at iteration %d: %s after %s\n", NR, $1, prev; bad = 1 }
        { prev = $1 } END { exit bad }'
    # And it fell a lot from the first iteration to the last.
    printf '%s\n' "$losses" | awk 'NR == 1 { f = $1 } END { exit !($1 < f) }'
}

@test "train: --loss with explicit cholesky never increases either" {
    run --separate-stderr als-train --explicit -n 6 --loss -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    printf '%s\n' "$stderr" | sed -n 's/.*, loss \([-0-9.e+]*\).*/\1/p' |
        awk 'NR > 1 && $1 > prev * (1 + 1e-6) { bad = 1 } { prev = $1; n++ }
             END { exit bad || n != 6 }'
}

@test "train: --validate prints precision@10 and ndcg@10 (implicit) or rmse (explicit)" {
    run --separate-stderr als-train -n 3 --validate "$F/te.csr" -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    assert_eq 3 "$(printf '%s\n' "$stderr" | grep -c 'precision@10 [0-9.]* ndcg@10 [0-9.]*')"
    run --separate-stderr als-train --explicit -n 3 --validate "$F/te.csr" -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_eq 3 "$(printf '%s\n' "$stderr" | grep -c 'rmse [0-9.]*')"
    assert_not_contains "$stderr" "precision@10"
}

@test "train: --validate with a matrix of another shape is an error (1), no model" {
    printf '0\t0\t1\n1\t1\t1\n' >s.tsv
    als-csr -q -o small.csr s.tsv
    run --separate-stderr als-train --validate small.csr -o m.model "$F/tr.csr"
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "als-train: --validate 'small.csr'"
    assert_file_absent m.model
}

@test "train: --progress=json prints one JSON object per iteration" {
    run --separate-stderr als-train -n 4 --progress=json --loss --validate "$F/te.csr" \
        -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    printf '%s\n' "$stderr" | python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.stdin]
assert [o["iteration"] for o in objs] == [1, 2, 3, 4], objs
for o in objs:
    assert o["seconds"] >= 0 and "loss" in o and "precision@10" in o and "ndcg@10" in o, o
'
    # Without --loss and --validate: iteration and seconds only.
    run --separate-stderr als-train -n 2 --progress=json -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    printf '%s\n' "$stderr" | python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.stdin]
assert len(objs) == 2 and all(set(o) == {"iteration", "seconds"} for o in objs), objs
'
}

@test "train: --progress prints a line per iteration though stderr is not a terminal" {
    run --separate-stderr als-train -n 3 --progress -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
    assert_eq 3 "$(printf '%s\n' "$stderr" | grep -c '^als-train: iteration [1-3]/3: ')"
}

# ---- export ----

@test "train: --export-npy writes user and item factors of the right size" {
    als-train -q -k 7 -o m.model "$F/tr.csr"
    run --separate-stderr als-train --export-npy out m.model
    [[ $status -eq 0 ]]
    assert_file_exists out/user_factors.npy
    assert_file_exists out/item_factors.npy
    local u i
    u=out/user_factors.npy
    i=out/item_factors.npy
    assert_eq "$(npy_expected_size "$u" 120 7)" "$(stat -c %s "$u")" "user_factors.npy size"
    assert_eq "$(npy_expected_size "$i" 100 7)" "$(stat -c %s "$i")" "item_factors.npy size"
    assert_eq 0 $(( ($(od -An -tu2 -j8 -N2 "$u" | tr -d ' ') + 10) % 64 ))
    assert_eq "$(printf '\x93NUMPY')" "$(head -c 6 "$u")"
    assert_contains "$(head -c 128 "$u")" "'shape': (120, 7)"
    assert_contains "$(head -c 128 "$i")" "'descr': '<f4'"
    no_temp_files out
    # numpy agrees when it is there.
    if python3 -c 'import numpy' 2>/dev/null; then
        python3 -c 'import numpy as np; a = np.load("out/user_factors.npy")
assert a.shape == (120, 7) and a.dtype == np.float32'
    fi
    # A model that is not one.
    run --separate-stderr als-train --export-npy out2 "$F/tr.csr"
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "expected FAC1"
}

# ---- warm start ----

# A second log that shares the first one's IDs (--id-seed 5) and has 40 more visitors,
# appended to the vocabulary: v2 has 160 users, the first 120 unchanged.
grown_fixture() {
    cp -r "$F/v" v2
    als-gen-log --lines 3000 --seed 6 --id-seed 5 --users 160 >log2.csv
    als-map -q -V v2 --append -u visitor_id -i content_id -r duration_s --transform log1p \
        -o t2.trp log2.csv
    als-csr -q -V v2 -o tr2.csr t2.trp
}

@test "train: warm start with --init over a grown vocabulary" {
    grown_fixture
    assert_eq 160 "$(csr_field tr2.csr rows)"
    run --separate-stderr als-train -v --init "$F/base.model" -o new.model tr2.csr
    [[ $status -eq 0 ]]
    assert_contains "$stderr" "40 new users"
    assert_eq 160 "$(info_field new.model users)"
    assert_eq 100 "$(info_field new.model items)"
    assert_eq "$F/base.model" "$(info_field new.model init)"
    # Deterministic across threads too.
    als-train -q -j 1 --init "$F/base.model" -o a.model tr2.csr
    als-train -q -j 2 --init "$F/base.model" -o b.model tr2.csr
    cmp a.model b.model
    # Zero iterations: only the new rows are folded in, the old ones are the old model's.
    als-train -q -n 0 --init "$F/base.model" -o z.model tr2.csr
    python3 "$ALS_TOP/tests/ref/train_init_rows.py" "$F/base.model" z.model 120 160 10
}

@test "train: --init a model of another rank, mode or a bigger shape is an error (1)" {
    grown_fixture
    als-train -q -o new.model tr2.csr
    run --separate-stderr als-train -k 8 --init "$F/base.model" -o m.model tr2.csr
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "als-train: --init '$F/base.model'"
    assert_contains "$stderr" "rank 10"
    assert_contains "$stderr" "rank 8"
    assert_file_absent m.model
    run --separate-stderr als-train --explicit --init "$F/base.model" -o m.model tr2.csr
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "explicit"
    run --separate-stderr als-train --init new.model -o m.model "$F/tr.csr"
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "160 users"
    run --separate-stderr als-train --init "$F/tr.csr" -o m.model tr2.csr
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "expected FAC1"
    run --separate-stderr als-train --init missing.model -o m.model tr2.csr
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "cannot open 'missing.model'"
    assert_file_absent m.model
    no_temp_files .
}

# ---- errors ----

@test "train: a text file as TRAIN.CSR is an error (1) with the reader's message" {
    run --separate-stderr als-train -o m.model "$F/log.csv"
    [[ $status -eq 1 ]]
    assert_empty "$output" stdout
    assert_eq "als-train: '$F/log.csv': not an als binary file (bad magic)" "$stderr"
    echo tiny >tiny.csr
    run --separate-stderr als-train -o m.model tiny.csr
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "als-train: 'tiny.csr': not an als binary file"
    assert_file_absent m.model
}

@test "train: a truncated or damaged CSR is an error (1) with the reader's message" {
    local size
    size=$(stat -c %s "$F/tr.csr")
    head -c $((size - 100)) "$F/tr.csr" >cut.csr
    run --separate-stderr als-train -o m.model cut.csr
    [[ $status -eq 1 ]]
    assert_eq "als-train: 'cut.csr': truncated: header says $size bytes, file has $((size - 100))" \
        "$stderr"
    # One flipped byte in the last section: the CRC check catches it.
    cp "$F/tr.csr" flip.csr
    printf '\x55' | dd of=flip.csr bs=1 seek=$((size - 3)) conv=notrunc status=none
    run --separate-stderr als-train -o m.model flip.csr
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "checksum mismatch"
    assert_file_absent m.model
}

@test "train: a missing TRAIN.CSR file is an error (1)" {
    run --separate-stderr als-train -o m.model nothere.csr
    [[ $status -eq 1 ]]
    assert_eq "als-train: cannot open 'nothere.csr': No such file or directory" "$stderr"
    assert_file_absent m.model
}

@test "train: -k larger than the users or items is an error (1): lower -k" {
    run --separate-stderr als-train -k 101 -o m.model "$F/tr.csr"
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "101 factors is more than the 120 users or 100 items"
    assert_contains "$stderr" "lower -k"
    assert_file_absent m.model
    run --separate-stderr als-train -k 100 -n 1 -q -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
}

@test "train: -l -1 and other bad numbers are usage errors (2)" {
    local bad
    for bad in "-l -1" "-l x" "-l 1e999" "-k 0" "-k 4097" "-k 5x" "-n -1" "-a -1" \
               "--cg-steps 0" "-j 0" "--seed -3"; do
        # shellcheck disable=SC2086
        run --separate-stderr als-train $bad -o m.model "$F/tr.csr"
        [[ $status -eq 2 ]] || _fail "'$bad' gave $status, expected 2" "$stderr"
    done
    run --separate-stderr als-train -l -1 -o m.model "$F/tr.csr"
    assert_contains "$stderr" "lambda"
    assert_file_absent m.model
    # lambda 0 is allowed
    run --separate-stderr als-train -q -l 0 -n 1 -o m.model "$F/tr.csr"
    [[ $status -eq 0 ]]
}

@test "train: missing TRAIN.CSR, missing -o or two inputs are usage errors (2)" {
    run --separate-stderr als-train -o m.model
    [[ $status -eq 2 ]]
    assert_contains "$stderr" "missing TRAIN.CSR"
    run --separate-stderr als-train "$F/tr.csr"
    [[ $status -eq 2 ]]
    assert_contains "$stderr" "missing -o"
    run --separate-stderr als-train -o m.model "$F/tr.csr" "$F/te.csr"
    [[ $status -eq 2 ]]
    run --separate-stderr als-train --info
    [[ $status -eq 2 ]]
    run --separate-stderr als-train --info "$F/base.model" -o m.model
    [[ $status -eq 2 ]]
    assert_file_absent m.model
}

@test "train: als-train A.csr B.model (-o forgotten) says to use -o B.model" {
    local ext
    for ext in model als fac; do
        run -2 --separate-stderr als-train "$F/tr.csr" "m.$ext"
        assert_empty "$output" stdout
        assert_eq "als-train: one TRAIN.CSR only (to write 'm.$ext', use -o m.$ext)" \
            "$(first_line "$stderr")" || return 1
        assert_match "$(sed -n 2p <<<"$stderr")" '^usage: als-train '
        assert_file_absent "m.$ext"
    done
    # an existing model to be overwritten: the same hint, the model untouched
    cp "$F/base.model" old.model
    run -2 --separate-stderr als-train "$F/tr.csr" old.model
    assert_eq "als-train: one TRAIN.CSR only (to write 'old.model', use -o old.model)" \
        "$(first_line "$stderr")"
    cmp "$F/base.model" old.model
    # a name that does not exist, whatever it ends in
    run -2 --separate-stderr als-train "$F/tr.csr" out
    assert_eq "als-train: one TRAIN.CSR only (to write 'out', use -o out)" \
        "$(first_line "$stderr")"
    # a second existing CSR, or -o given: the plain message
    run -2 --separate-stderr als-train "$F/tr.csr" "$F/te.csr"
    assert_eq "als-train: one TRAIN.CSR only" "$(first_line "$stderr")"
    run -2 --separate-stderr als-train -o m.model "$F/tr.csr" other.model
    assert_eq "als-train: one TRAIN.CSR only" "$(first_line "$stderr")"
    assert_file_absent m.model
    # as the hint says
    run -0 als-train -q -k 4 -n 1 -o m.model "$F/tr.csr"
    assert_file_exists m.model
}

@test "train: an unwritable output is an error (1) and leaves no file" {
    run --separate-stderr als-train -o nodir/m.model "$F/tr.csr"
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "nodir/m.model"
    assert_contains "$stderr" "No such file or directory"
    assert_file_absent nodir
    # The output is a directory: the temporary file must go too. (In w/: bats keeps its
    # stderr files in the test directory.)
    mkdir -p w/adir
    run --separate-stderr als-train -q -o w/adir "$F/tr.csr"
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "adir"
    assert_eq "adir" "$(ls -A w)"
    assert_empty "$(ls -A w/adir)"
    # A full device.
    if [[ -w /dev/full ]]; then
        run --separate-stderr als-train -q -o /dev/full "$F/tr.csr"
        [[ $status -eq 1 ]]
        assert_contains "$stderr" "No space left on device"
    fi
    # A read-only directory (meaningless as root, who may write anyway).
    if [[ $(id -u) -ne 0 ]]; then
        mkdir ro && chmod 555 ro
        run --separate-stderr als-train -q -o ro/m.model "$F/tr.csr"
        chmod 755 ro
        [[ $status -eq 1 ]]
        assert_empty "$(ls -A ro)"
    fi
}

@test "train: a previous model stays intact when a later run fails" {
    mkdir w
    als-train -q -o w/m.model "$F/tr.csr"
    local before
    before=$(state_of w)
    run --separate-stderr als-train -k 101 -o w/m.model "$F/tr.csr"
    [[ $status -eq 1 ]]
    run --separate-stderr als-train --init "$F/base.model" -k 4 -o w/m.model "$F/tr.csr"
    [[ $status -eq 1 ]]
    run --separate-stderr als-train -o w/m.model "$F/log.csv"
    [[ $status -eq 1 ]]
    run --separate-stderr als-train --validate "$F/log.csv" -o w/m.model "$F/tr.csr"
    [[ $status -eq 1 ]]
    run --separate-stderr als-train -o w/m.model/x "$F/tr.csr"
    [[ $status -eq 1 ]]
    assert_eq "$before" "$(state_of w)" "directory state"
    als-train --info w/m.model >/dev/null
}

# A model's parameters live in META; a long TRAIN.CSR path must not push mu (the explicit
# prediction's global mean) or the data checksum out of it.
@test "train: a long TRAIN.CSR path keeps mu and data_checksum in the model" {
    local d=. seg
    seg=$(printf 'd%.0s' {1..200})
    for _ in 1 2 3 4 5 6 7 8 9 10; do d=$d/$seg; done
    mkdir -p "$d"
    cp "$F/tr.csr" "$d/tr.csr"
    als-train -q --explicit -n 1 -o short.model "$F/tr.csr"
    als-train -q --explicit -n 1 -o long.model "$d/tr.csr"
    assert_eq "$(info_field short.model mu)" "$(info_field long.model mu)" "mu"
    assert_eq "$(info_field short.model data_checksum)" \
        "$(info_field long.model data_checksum)" "data_checksum"
}

# ---- real data ----

@test "train: ml-100k u1 explicit, k 40, 20 iterations: test RMSE below 0.94" {
    local data=$ALS_TOP/../shared/data/ml-100k
    [[ -f $data/u1.base.gz && -f $data/u1.test.gz && -f $data/u.data.gz ]] ||
        skip "ml-100k not found at $data"
    als-map -q -V mv -F tab -u 1 -i 2 -r 3 -o all.trp "$data/u.data.gz"
    als-map -q -V mv --frozen -o u1b.trp "$data/u1.base.gz"
    als-map -q -V mv --frozen -o u1t.trp "$data/u1.test.gz"
    als-csr -q -V mv -o u1b.csr u1b.trp
    als-csr -q -V mv -o u1t.csr u1t.trp
    run --separate-stderr als-train --explicit -k 40 -n 20 -l 0.12 --validate u1t.csr \
        -o u1.model u1b.csr
    [[ $status -eq 0 ]]
    local rmse
    rmse=$(printf '%s\n' "$stderr" | sed -n 's/.*iteration 20\/20:.*test rmse \([0-9.]*\).*/\1/p')
    echo "# last test rmse: $rmse" >&3
    [[ -n $rmse ]]
    awk -v r="$rmse" 'BEGIN { exit !(r < 0.94) }' || _fail "test rmse $rmse, expected < 0.94"
}

# ---- --search ----

@test "train: --search trains every grid point, prints a line each and keeps the best" {
    run -0 --separate-stderr als-train -q --search 'k=3,5 lambda=1,auto iterations=4' \
        --validate "$F/te.csr" -o best.model "$F/tr.csr"
    assert_eq 5 "$(printf '%s\n' "$output" | wc -l)" "header and 4 points"
    assert_eq "point${T}k${T}iterations${T}alpha${T}lambda${T}ndcg@10${T}precision@10${T}seconds${T}best" \
        "$(first_line "$output")"
    # grid order: the last key fastest
    assert_eq "3 3 5 5" "$(printf '%s\n' "$output" | awk -F '\t' 'NR > 1 { printf "%s%s", s, $2; s = " " }')"
    # the best is the point with the highest ndcg@10 (the first of equals)
    local want
    want=$(printf '%s\n' "$output" | awk -F '\t' 'NR > 1 && $6 > b { b = $6; k = $2; l = $5 } END { print k, l }')
    assert_eq "$want" "$(als-train --info best.model | awk -F '\t' '$1 == "factors" { k = $2 } $1 == "lambda" { l = $2 } END { printf "%s %.6g", k, l }')"
    # the best model is the model plain training with its values gives, byte for byte
    read -r k l <<<"$want"
    als-train -q -k "$k" -l "$l" -n 4 -o plain.model "$F/tr.csr"
    cmp best.model plain.model || _fail "the best model differs from plain training"
    # its values are recorded, so a warm start continues with them
    als-train -q -n 1 --init best.model -o next.model "$F/tr.csr"
    assert_eq "$k" "$(info_field next.model factors)"
    assert_eq "$l" "$(info_field next.model lambda | awk '{ printf "%.6g", $1 }')"
}

@test "train: --search is the same for any thread count; a sample is seeded" {
    local spec='k=2,3,4 alpha=0.5,1 lambda=1,3 iterations=3 points=4'
    als-train -q -j 1 --seed 4 --search "$spec" --validate "$F/te.csr" -o a.model "$F/tr.csr" >a.tsv
    als-train -q -j 2 --seed 4 --search "$spec" --validate "$F/te.csr" -o b.model "$F/tr.csr" >b.tsv
    cmp a.model b.model || _fail "models differ between -j 1 and -j 2"
    assert_eq "$(cut -f1-7 a.tsv)" "$(cut -f1-7 b.tsv)" "the tables without the times"
    assert_eq 5 "$(wc -l <a.tsv)" "header and 4 sampled points"
    # 4 distinct points of the 12
    assert_eq 4 "$(awk -F '\t' 'NR > 1 { print $2, $4, $5 }' a.tsv | sort -u | wc -l)"
    # another seed, another sample (of 12 choose 4 orders, these two seeds differ)
    als-train -q -j 1 --seed 5 --search "$spec" --validate "$F/te.csr" -o c.model "$F/tr.csr" >c.tsv
    [[ "$(cut -f2-5 a.tsv)" != "$(cut -f2-5 c.tsv)" ]] || _fail "seeds 4 and 5 sampled the same"
}

@test "train: --search needs --validate and a spec that parses (exit 2)" {
    run -2 --separate-stderr als-train --search 'k=2' -o m.model "$F/tr.csr"
    assert_contains "$stderr" "--search needs --validate TEST.CSR"
    run -2 --separate-stderr als-train --search 'k=2 bogus=1' --validate "$F/te.csr" -o m.model "$F/tr.csr"
    assert_contains "$stderr" "--search: 'bogus=1' is not KEY=LIST"
    run -2 --separate-stderr als-train --search 'k=0' --validate "$F/te.csr" -o m.model "$F/tr.csr"
    assert_contains "$stderr" "--search: k value '0' is not a whole number in range"
    run -2 --separate-stderr als-train --search 'k=2 k=3' --validate "$F/te.csr" -o m.model "$F/tr.csr"
    assert_contains "$stderr" "--search: k given twice"
    assert_file_absent m.model
}

@test "train: -o equal to TRAIN.CSR or --validate exits 2; equal to --init is a warm start" {
    mkdir w && cd w || return 1 # away from the files of run --separate-stderr
    cp "$F/tr.csr" tr.csr
    cp "$F/te.csr" te.csr
    cp "$F/base.model" m.model
    ln tr.csr hard.csr
    local before
    before=$(state_of .)
    run -2 --separate-stderr als-train -q -k 10 -n 1 -o ./tr.csr tr.csr
    assert_contains "$stderr" "output './tr.csr' is the input 'tr.csr'"
    run -2 --separate-stderr als-train -q -k 10 -n 1 -o hard.csr tr.csr
    assert_contains "$stderr" "is the input 'tr.csr'"
    run -2 --separate-stderr als-train -q -k 10 -n 1 --validate te.csr -o ./te.csr tr.csr
    assert_contains "$stderr" "is the input 'te.csr'"
    assert_eq "$before" "$(state_of .)" "files after the refused runs"
    run -0 als-train -q -k 10 -n 1 --init m.model -o ./m.model tr.csr
    run -0 als-train --info m.model
    run -1 cmp -s m.model "$F/base.model"
}
