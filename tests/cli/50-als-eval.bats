#!/usr/bin/env bats
# als-eval: the shapes of its TSV, table and JSON reports, the SVG plot, the model against
# the popularity baseline on planted-cluster data, every gate (--min, --max, --baseline
# with --max-drop) and its exit status, explicit models (rmse and mae against the training
# mean, the fallback for cold items), and mismatched, missing and damaged inputs.
# The metrics themselves are checked by hand in tests/unit/test_evaluate.c.
#
# The fixture (built once per file, a fraction of a second): als-gen-log --lines 20000 --seed 3
# (800 visitors, 100 items, 8 taste clusters), mapped with log1p durations into the
# vocabulary v, split 80/20 into tr.csr and te.csr, trained into m.als (-k 8 -n 10 -a 1
# -l 1) and, as a deliberately bad model, into bad.als (-n 0: the random start). A second
# pipeline (v2: more visitors and items) gives files of another shape; the same log with
# its durations bucketed into 1..5 stars gives an explicit setup (sv, str.csr, ste.csr,
# e.als).

bats_require_minimum_version 1.5.0
load helpers

T=$'\t'
ML="$ALS_TOP/../shared/data/ml-100k"

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    als-gen-log --lines 20000 --seed 3 >log.csv
    als-map -q -V v -u visitor_id -i content_id -r duration_s --transform log1p -o t.trp log.csv
    als-csr -q -V v -o tr.csr --test te.csr --test-fraction 0.2 t.trp
    als-train -q -k 8 -n 10 -a 1 -l 1 -o m.als tr.csr
    als-train -q -k 8 -n 0 -o bad.als tr.csr
    # Another vocabulary: 1200 visitors and 160 items.
    als-gen-log --lines 6000 --seed 9 -u 1200 -i 160 >big.csv
    als-map -q -V v2 -u visitor_id -i content_id -r duration_s --transform log1p -o t2.trp big.csv
    als-csr -q -V v2 -o tr2.csr --test te2.csr --test-fraction 0.2 t2.trp
    als-train -q -k 4 -n 2 -o m2.als tr2.csr
    # Explicit: durations bucketed at about their quintiles into 1..5 stars.
    awk -F, 'BEGIN { print "user,item,stars" }
             NR > 1 { d = $3 + 0
                      s = d < 166 ? 1 : d < 381 ? 2 : d < 721 ? 3 : d < 1381 ? 4 : 5
                      print $1 "," $2 "," s }' log.csv >stars.csv
    als-map -q -V sv -u user -i item -r stars -o s.trp stars.csv
    als-csr -q -V sv --dup mean -o str.csr --test ste.csr --test-fraction 0.2 s.trp
    als-train -q --explicit -k 4 -n 5 -l 0.1 -o e.als str.csr
}

setup() {
    als_setup
    F=$BATS_FILE_TMPDIR
}

# ev ARGS...: als-eval with the fixture's model and training part
ev() {
    als-eval -m "$F/m.als" -c "$F/tr.csr" "$@"
}

# col METRIC COLUMN [TSV]: a column (2 model, 3 baseline, 4 lift, 5 previous) of the row of
# METRIC in a TSV report (default: $output)
col() {
    printf '%s\n' "${3-$output}" | awk -F '\t' -v m="$1" -v c="$2" '$1 == m { print $c }'
}

# ---- contract ----

@test "eval: --help prints the usage on stdout, exit 0" {
    run -0 --separate-stderr als-eval --help
    assert_empty "$stderr" stderr
    assert_match "$(first_line "$output")" '^usage: als-eval '
    assert_contains "$output" "TEST.CSR"
    assert_contains "$output" "--max-drop"
    assert_contains "$output" "Exit status: 0 success, 1 runtime or data error, 2 usage error, 3 quality gate not met."
    run -0 --separate-stderr als-eval -h
    assert_match "$(first_line "$output")" '^usage: als-eval '
}

@test "eval: --version is one line naming the program, exit 0" {
    run -0 --separate-stderr als-eval --version
    assert_empty "$stderr" stderr
    assert_eq 1 "${#lines[@]}" "number of lines"
    assert_match "$output" '^als-eval [0-9]+\.[0-9]+\.[0-9]+ \(libals '
}

@test "eval: bad options and arguments are usage errors (exit 2)" {
    run -2 --separate-stderr ev --bogus "$F/te.csr"
    assert_empty "$output" stdout
    assert_contains "$stderr" "usage: als-eval"
    run -2 --separate-stderr ev --format xml "$F/te.csr"
    assert_contains "$stderr" "xml"
    run -2 --separate-stderr ev -k 0 "$F/te.csr"
    run -2 --separate-stderr ev -k 5,x "$F/te.csr"
    run -2 --separate-stderr ev -k 5 -k 10 "$F/te.csr"
    run -2 --separate-stderr ev "$F/te.csr" "$F/te.csr"
    run -2 --separate-stderr als-eval -c "$F/tr.csr" "$F/te.csr"
    assert_contains "$stderr" "-m MODEL"
    run -2 --separate-stderr als-eval -m "$F/m.als" "$F/te.csr"
    assert_contains "$stderr" "-c TRAIN.CSR"
}

@test "eval: an empty element in -k (5,,6 or 5, or ,5) is a usage error (exit 2)" {
    local k
    for k in 5,,6 5, ,5 , 1,5,,; do
        run -2 --separate-stderr als-eval -m no.als -c no.csr -k "$k" no-test.csr
        assert_eq "als-eval: empty element in --cutoffs '$k'" "$(head -n 1 <<<"$stderr")" \
            "first line for -k $k"
        assert_empty "$output" stdout
    done
}

@test "eval: a missing TEST.CSR is a usage error (exit 2)" {
    run -2 --separate-stderr ev
    assert_empty "$output" stdout
    assert_contains "$stderr" "missing TEST.CSR"
}

# ---- report shapes ----

@test "eval: TSV (the default off a terminal): header, every metric at every cutoff, mrr, auc" {
    run -0 --separate-stderr ev -k 1,5,10 "$F/te.csr"
    assert_empty "$stderr" stderr
    assert_eq "metric${T}model${T}popularity${T}lift" "${lines[0]}" "header"
    local expected=() k m
    for k in 1 5 10; do
        for m in precision recall map ndcg hit coverage; do
            expected+=("$m@$k")
        done
    done
    expected+=(mrr auc)
    assert_eq "${#expected[@]}" "$((${#lines[@]} - 1))" "number of rows"
    assert_eq "$(printf '%s\n' "${expected[@]}")" "$(printf '%s\n' "$output" | tail -n +2 | cut -f1)" \
        "metric names in order"
    # every other field is a number; the ranking metrics lie in [0, 1]
    printf '%s\n' "$output" | python3 -c '
import sys
rows = [l.rstrip("\n").split("\t") for l in sys.stdin][1:]
for r in rows:
    assert len(r) == 4, r
    model, base, lift = (float(x) for x in r[1:])
    assert 0 <= model <= 1 and 0 <= base <= 1, r
'
    # the same report with the long option and the same cutoffs given out of order, twice
    run -0 ev --cutoffs 10,1,5,5 --format tsv "$F/te.csr"
    local again=$output
    run -0 ev -k 1,5,10 "$F/te.csr"
    assert_eq "$output" "$again" "-k 10,1,5,5 against -k 1,5,10"
}

@test "eval: the report does not depend on the thread count" {
    run -0 ev -k 1,5,10 -j 1 "$F/te.csr"
    local one=$output
    run -0 ev -k 1,5,10 -j 2 "$F/te.csr"
    assert_eq "$one" "$output" "-j 1 against -j 2"
    run -0 ev -k 1,5,10 -j 5 "$F/te.csr"
    assert_eq "$one" "$output" "-j 1 against -j 5"
}

@test "eval: --format table: a users line, a header, one aligned row per metric" {
    run -0 --separate-stderr ev -k 5,10 --format table "$F/te.csr"
    assert_empty "$stderr" stderr
    assert_match "${lines[0]}" '^[0-9]+ users with test items$'
    assert_match "${lines[1]}" '^metric +model +popularity +lift$'
    assert_eq 16 "${#lines[@]}" "2 + 6 x 2 + 2 lines"
    assert_match "${lines[2]}" '^precision@5 +[0-9]+\.[0-9]{4} +[0-9]+\.[0-9]{4} +[0-9]+\.[0-9]{2}x$'
    assert_match "${lines[15]}" '^auc +[0-9]+\.[0-9]{4} +[0-9]+\.[0-9]{4} +[0-9]+\.[0-9]{2}x$'
    assert_contains "$output" "ndcg@10 "
    assert_contains "$output" "coverage@5 "
}

@test "eval: --format json is one object: users, and model, baseline, lift for every metric" {
    run -0 --separate-stderr ev -k 1,5,10 --format json "$F/te.csr"
    assert_empty "$stderr" stderr
    assert_eq 1 "${#lines[@]}" "number of lines"
    local tsv
    tsv=$(ev -k 1,5,10 "$F/te.csr")
    local table
    table=$(ev -k 1,5,10 --format table "$F/te.csr")
    local users=${table%% users*}
    printf '%s\n' "$output" | python3 "$ALS_TOP/tests/ref/eval_json_check.py" "$users" "$tsv"
}

@test "eval: on planted clusters the model beats popularity (ndcg@10, hit@10, auc lift > 1)" {
    run -0 ev -k 1,5,10 "$F/te.csr"
    local m p l
    for metric in ndcg@10 hit@10 precision@5 mrr auc; do
        m=$(col "$metric" 2)
        p=$(col "$metric" 3)
        l=$(col "$metric" 4)
        awk -v m="$m" -v p="$p" -v l="$l" 'BEGIN { exit !(m > p && l > 1) }' ||
            _fail "$metric: model $m, popularity $p, lift $l: expected the model to win" || return 1
    done
    # and clearly so on ndcg@10
    awk -v l="$(col ndcg@10 4)" 'BEGIN { exit !(l > 1.5) }' ||
        _fail "ndcg@10 lift $(col ndcg@10 4), expected > 1.5"
}

@test "eval: --include-seen ranks training items too (lower precision here)" {
    run -0 ev -k 10 "$F/te.csr"
    local excl
    excl=$(col precision@10 2)
    run -0 ev -k 10 --include-seen "$F/te.csr"
    awk -v a="$excl" -v b="$(col precision@10 2)" 'BEGIN { exit !(b < a) }' ||
        _fail "precision@10 with --include-seen $(col precision@10 2), without $excl"
}

@test "eval: --plot writes well-formed SVG with 4 polylines of one point per cutoff" {
    run -0 --separate-stderr ev -k 1,5,10,20 --plot pr.svg "$F/te.csr"
    assert_file_exists pr.svg
    no_temp_files .
    python3 "$ALS_TOP/tests/ref/eval_plot_check.py" pr.svg 4
    # -q: no report, the plot still written
    run -0 --separate-stderr ev -q -k 5 --plot q.svg "$F/te.csr"
    assert_empty "$output" stdout
    python3 -c 'import sys; from xml.dom import minidom; minidom.parse(sys.argv[1])' q.svg
    # an unwritable place: a runtime error naming it, and no half-reported run
    run -1 --separate-stderr ev -k 5 --plot nodir/x.svg "$F/te.csr"
    assert_contains "$stderr" "nodir/x.svg"
    assert_empty "$output" stdout
}

@test "eval: a lift over a zero baseline is left out: empty in TSV, absent in JSON, '-' in the table" {
    # The training part as the test: every relevant item is a training item, so nothing
    # can be hit, by the model or by popularity (the guard would refuse it: allowed here).
    run -0 --separate-stderr ev -k 5 --allow-leakage "$F/tr.csr"
    assert_eq "precision@5${T}0.000000${T}0.000000${T}" "$(printf '%s\n' "$output" | grep '^precision@5')" \
        "the precision@5 row"
    assert_not_contains "$output" "nan"
    run -0 --separate-stderr ev -k 5 --allow-leakage --format json "$F/tr.csr"
    printf '%s\n' "$output" | python3 -c '
import json, sys
m = json.loads(sys.stdin.read())["metrics"]
assert "lift" not in m["ndcg@5"], m["ndcg@5"]
assert m["ndcg@5"]["model"] == 0 and m["ndcg@5"]["baseline"] == 0, m["ndcg@5"]
assert "lift" in m["coverage@5"], m["coverage@5"]
'
    run -0 --separate-stderr ev -k 5 --allow-leakage --format table "$F/tr.csr"
    assert_match "$(printf '%s\n' "$output" | grep '^ndcg@5')" '^ndcg@5 +0\.0000 +0\.0000 +-$'
}

@test "eval: a test CSR without entries: exit 1, nothing to evaluate" {
    als-csr -q -V "$F/v" -o x.csr --test empty.csr --test-fraction 0 "$F/t.trp"
    run -1 --separate-stderr ev empty.csr
    assert_empty "$output" stdout
    assert_contains "$stderr" "empty.csr"
    assert_contains "$stderr" "no test entries"
}

# ---- the gate ----

@test "eval: --min met exits 0; missed exits 3 with a 'gate:' line naming the metric" {
    run -0 --separate-stderr ev --min ndcg@10=0.0 "$F/te.csr"
    assert_empty "$stderr" stderr
    run -3 --separate-stderr ev --min ndcg@10=0.99 "$F/te.csr"
    assert_match "$stderr" 'gate:.*ndcg@10'
    assert_contains "$stderr" "0.99"
    # the report is still printed
    assert_eq "metric${T}model${T}popularity${T}lift" "${lines[0]}" "header"
    # -q: only the verdict
    run -3 --separate-stderr ev -q --min ndcg@10=0.99 "$F/te.csr"
    assert_empty "$output" stdout
    assert_match "$stderr" 'gate:.*ndcg@10'
}

@test "eval: --max: auc=0.1 exits 3, auc=1 exits 0; several gates all report" {
    run -3 --separate-stderr ev --max auc=0.1 "$F/te.csr"
    assert_match "$stderr" 'gate:.*auc'
    run -0 --separate-stderr ev --max auc=1 "$F/te.csr"
    run -3 --separate-stderr ev --max auc=0.1 --min mrr=0.99 --min hit@10=0 "$F/te.csr"
    assert_match "$stderr" 'gate:.*auc'
    assert_match "$stderr" 'gate:.*mrr'
    assert_not_contains "$stderr" "hit@10"
}

@test "eval: an unknown metric or a malformed gate is a usage error (exit 2)" {
    run -2 --separate-stderr ev --min bogus=1 "$F/te.csr"
    assert_contains "$stderr" "bogus"
    run -2 --separate-stderr ev --min foo@10=1 "$F/te.csr"
    assert_contains "$stderr" "foo@10"
    run -2 --separate-stderr ev --min ndcg=0.1 "$F/te.csr"
    run -2 --separate-stderr ev --min ndcg@0=0.1 "$F/te.csr"
    run -2 --separate-stderr ev --min ndcg@x=0.1 "$F/te.csr"
    run -2 --separate-stderr ev --min ndcg@10 "$F/te.csr"
    run -2 --separate-stderr ev --max auc=abc "$F/te.csr"
    run -2 --separate-stderr ev --max =1 "$F/te.csr"
}

@test "eval: a gate at a cutoff not in -k adds that cutoff (row present), before or after -k" {
    run -0 ev -k 1,5,10 --min ndcg@7=0 "$F/te.csr"
    [[ -n "$(col ndcg@7 2)" && -n "$(col precision@7 2)" ]] || _fail "no @7 rows:" "$output" || return 1
    assert_eq "1 5 7 10" "$(printf '%s\n' "$output" | awk -F '\t' '/^ndcg@/ { sub("ndcg@", "", $1); printf "%s%s", s, $1; s = " " }')" \
        "the cutoffs, in order"
    local after=$output
    run -0 ev --min ndcg@7=0 -k 1,5,10 "$F/te.csr"
    assert_eq "$after" "$output" "--min before -k"
    # without -k: the default 10 and 7
    run -0 ev --min hit@7=0 "$F/te.csr"
    assert_eq "7 10" "$(printf '%s\n' "$output" | awk -F '\t' '/^hit@/ { sub("hit@", "", $1); printf "%s%s", s, $1; s = " " }')" \
        "the cutoffs, in order"
}

@test "eval: gate cutoffs count once: 16 in -k plus a gate at one of them is fine, a 17th is not" {
    run -0 --separate-stderr ev -k 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 --min ndcg@10=0 \
        --max hit@16=1 "$F/te.csr"
    assert_eq 99 "${#lines[@]}" "1 + 6 x 16 + 2 lines"
    run -2 --separate-stderr ev -k 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 --min ndcg@17=0 \
        "$F/te.csr"
    assert_contains "$stderr" "16"
    run -2 --separate-stderr ev -k 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17 "$F/te.csr"
}

@test "eval: --baseline with the same model: a 'previous' column equal to the model, exit 0" {
    run -0 --separate-stderr ev -k 5,10 --baseline "$F/m.als" "$F/te.csr"
    assert_empty "$stderr" stderr
    assert_eq "metric${T}model${T}popularity${T}lift${T}previous" "${lines[0]}" "header"
    printf '%s\n' "$output" | awk -F '\t' 'NR > 1 && $2 != $5 { print; bad = 1 } END { exit bad }' ||
        _fail "previous differs from model" || return 1
    run -0 ev -k 5 --baseline "$F/m.als" --format json "$F/te.csr"
    printf '%s\n' "$output" | python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
for name, v in o["metrics"].items():
    assert v["previous"] == v["model"], (name, v)
'
}

@test "eval: a worse new model against a good --baseline exits 3 with 'fell from'" {
    run -3 --separate-stderr als-eval -m "$F/bad.als" -c "$F/tr.csr" --baseline "$F/m.als" "$F/te.csr"
    assert_match "$stderr" 'gate: ndcg@10 fell from'
    assert_contains "$stderr" "fell from"
    # the other way round (the new one better) passes
    run -0 --separate-stderr ev --baseline "$F/bad.als" "$F/te.csr"
    assert_not_contains "$stderr" "fell from"
    # --max-drop 100%: nothing can fall more than 100%
    run -0 --separate-stderr als-eval -m "$F/bad.als" -c "$F/tr.csr" --baseline "$F/m.als" \
        --max-drop 100% "$F/te.csr"
    assert_not_contains "$stderr" "fell from"
    run -0 als-eval -m "$F/bad.als" -c "$F/tr.csr" --baseline "$F/m.als" --max-drop 100 "$F/te.csr"
}

@test "eval: a --baseline from before the vocabulary grew is evaluated on today's shape" {
    # yesterday: the first 2000 lines; today: the whole log appended to the same vocabulary
    head -n 2001 "$F/log.csv" >half.csv
    als-map -q -V vg -u visitor_id -i content_id -r duration_s --transform log1p -o h.trp half.csv
    als-csr -q -V vg -o h.csr h.trp
    als-train -q -k 8 -n 10 -a 1 -l 1 -o old.als h.csr
    als-map -q -V vg --append -u visitor_id -i content_id -r duration_s --transform log1p \
        -o g.trp "$F/log.csv"
    als-csr -q -V vg -o gtr.csr --test gte.csr --test-fraction 0.2 g.trp
    als-train -q -k 8 -n 10 -a 1 -l 1 -o new.als gtr.csr
    [[ $(als-train --info old.als | awk -F '\t' '$1 == "users" { print $2 }') -lt 800 ]] ||
        _fail "the old model should have fewer users than today's 800" || return 1
    run -0 --separate-stderr als-eval -m new.als -c gtr.csr --baseline old.als --max-drop 100 -k 5 gte.csr
    assert_eq "metric${T}model${T}popularity${T}lift${T}previous" "${lines[0]}" "header"
    # the old model knew fewer visitors: its ndcg is lower, but it is a number
    awk -v o="$(col ndcg@5 5)" -v n="$(col ndcg@5 2)" 'BEGIN { exit !(o > 0 && o < n) }' ||
        _fail "ndcg@5: old $(col ndcg@5 5), new $(col ndcg@5 2)" || return 1
    # a bigger model is no older version of this one
    run -1 --separate-stderr als-eval -m old.als -c gtr.csr --baseline new.als gte.csr
    assert_contains "$stderr" "old.als"
}

@test "eval: --max-drop needs --baseline and a percentage in [0, 100] (exit 2)" {
    run -2 --separate-stderr ev --max-drop 5 "$F/te.csr"
    assert_contains "$stderr" "--baseline"
    run -2 --separate-stderr ev --baseline "$F/m.als" --max-drop 101 "$F/te.csr"
    run -2 --separate-stderr ev --baseline "$F/m.als" --max-drop -1 "$F/te.csr"
    run -2 --separate-stderr ev --baseline "$F/m.als" --max-drop '' "$F/te.csr"
    run -2 --separate-stderr ev --baseline "$F/m.als" --max-drop x% "$F/te.csr"
}

@test "eval: a gate on rmse or mae cannot pass silently for an implicit model (no such row)" {
    # An implicit model has no rmse row; a gate that cannot be checked must not pass.
    run --separate-stderr ev --max rmse=0.5 "$F/te.csr"
    [[ $status -ne 0 ]] || _fail "exit 0: the rmse gate passed without an rmse to check" || return 1
    assert_contains "$stderr" "rmse"
}

# ---- explicit models ----

@test "eval: explicit: rmse and mae rows against the training mean; --max rmse gates" {
    local e=(als-eval -m "$F/e.als" -c "$F/str.csr")
    run -0 --separate-stderr "${e[@]}" -v -k 5 "$F/ste.csr"
    assert_eq "rmse mae" "$(printf '%s\n' "$output" | tail -n 2 | cut -f1 | tr '\n' ' ' | sed 's/ $//')" \
        "the last two rows"
    assert_contains "$stderr" "the training mean"
    # the baseline column: the errors of the training mean, recomputed from the dumps
    local want
    want=$(als-csr --dump "$F/str.csr" | cat - <(echo SPLIT) <(als-csr --dump "$F/ste.csr") |
        awk -F '\t' '$0 == "SPLIT" { test = 1; mu = s / n; next }
                     !test { s += $3; n++ }
                     test { e = $3 - mu; se += e * e; ae += (e < 0 ? -e : e); m++ }
                     END { printf "%.6f %.6f\n", sqrt(se / m), ae / m }')
    assert_eq "$want" "$(col rmse 3) $(col mae 3)" "rmse and mae of the training mean"
    # the model beats the mean, and lift = baseline / model for these lower-is-better rows
    awk -v m="$(col rmse 2)" -v b="$(col rmse 3)" -v l="$(col rmse 4)" \
        'BEGIN { exit !(m > 0 && m < b && (l - b / m) < 1e-3 && (b / m - l) < 1e-3) }' ||
        _fail "rmse: model $(col rmse 2), mean $(col rmse 3), lift $(col rmse 4)" || return 1
    local rmse
    rmse=$(col rmse 2)
    run -0 --separate-stderr "${e[@]}" --max "rmse=$rmse" --max mae=5 "$F/ste.csr"
    run -3 --separate-stderr "${e[@]}" --max rmse=0.01 "$F/ste.csr"
    assert_match "$stderr" 'gate:.*rmse'
    run -3 --separate-stderr "${e[@]}" --min mae=4 "$F/ste.csr"
    assert_match "$stderr" 'gate:.*mae'
    # JSON carries them too
    run -0 "${e[@]}" --format json "$F/ste.csr"
    printf '%s\n' "$output" | python3 -c '
import json, sys
m = json.loads(sys.stdin.read())["metrics"]
for k in ("rmse", "mae"):
    assert set(m[k]) == {"model", "baseline", "lift"}, m[k]
'
    # with --baseline, rmse can fall too: the random start is far worse
    als-train -q --explicit -k 4 -n 0 -o e0.als "$F/str.csr"
    run -3 --separate-stderr als-eval -m e0.als -c "$F/str.csr" --baseline "$F/e.als" "$F/ste.csr"
    assert_match "$stderr" 'gate: rmse fell from'
}

@test "eval: explicit on MovieLens u1: cold test items use the fallback and are counted" {
    [[ -r "$ML/u1.base.gz" && -r "$ML/u1.test.gz" ]] ||
        skip "no MovieLens 100K at $ML (see shared/data/README.md)"
    als-map -q -V mv -o b.trp "$ML/u1.base.gz"
    als-map -q -V mv --append -o t.trp "$ML/u1.test.gz"
    als-csr -q -V mv -o b.csr b.trp
    als-csr -q -V mv -o t.csr t.trp
    als-train -q --explicit -k 8 -n 5 -l 0.1 -o ml.als b.csr
    run -0 --separate-stderr als-eval -m ml.als -c b.csr -k 10 t.csr
    # 32 of u1.test's rows are for items u1.base never saw (shared/data/README.md)
    assert_contains "$stderr" "32 test entries whose user or item has no factors"
    local m b
    m=$(col rmse 2)
    b=$(col rmse 3)
    awk -v m="$m" -v b="$b" 'BEGIN { exit !(m > 0.85 && m < 1.05 && b > 1.1 && b < 1.2) }' ||
        _fail "rmse: model $m (expected about 0.94), training mean $b (about 1.15)" || return 1
    run -0 als-eval -m ml.als -c b.csr --max rmse=1.05 t.csr
    run -3 --separate-stderr als-eval -q -m ml.als -c b.csr --max rmse=0.5 t.csr
    assert_match "$stderr" 'gate:.*rmse'
    # -q also silences the fallback note
    assert_not_contains "$stderr" "no factors"
    # without biases, the cold items get the training mean alone
    als-train -q --explicit --no-biases -k 8 -n 5 -l 0.1 -o nb.als b.csr
    run -0 --separate-stderr als-eval -m nb.als -c b.csr -k 10 t.csr
    assert_contains "$stderr" "32 test entries whose user or item has no factors"
    assert_not_contains "$stderr" "biases"
    [[ -n "$(col rmse 2)" ]] || _fail "no rmse row" "$output"
}

# ---- inputs that do not fit ----

@test "eval: a train and a test CSR of different vocabularies: exit 1 naming both" {
    run -1 --separate-stderr ev "$F/te2.csr"
    assert_empty "$output" stdout
    assert_contains "$stderr" "$F/tr.csr"
    assert_contains "$stderr" "$F/te2.csr"
}

@test "eval: a model from another pipeline: exit 1 naming the model and the CSR" {
    run -1 --separate-stderr als-eval -m "$F/m2.als" -c "$F/tr.csr" "$F/te.csr"
    assert_empty "$output" stdout
    assert_contains "$stderr" "$F/m2.als"
    assert_contains "$stderr" "$F/tr.csr"
    run -1 --separate-stderr ev --baseline "$F/m2.als" "$F/te.csr"
    assert_contains "$stderr" "$F/m2.als"
    # both files of the other pipeline, the model of this one
    run -1 --separate-stderr als-eval -m "$F/m.als" -c "$F/tr2.csr" "$F/te2.csr"
    assert_contains "$stderr" "$F/m.als"
}

@test "eval: missing files: exit 1 naming them" {
    run -1 --separate-stderr ev nope.csr
    assert_contains "$stderr" "nope.csr"
    run -1 --separate-stderr als-eval -m nope.als -c "$F/tr.csr" "$F/te.csr"
    assert_contains "$stderr" "nope.als"
    run -1 --separate-stderr ev --baseline nope.als "$F/te.csr"
    assert_contains "$stderr" "nope.als"
    # a file of the wrong kind
    run -1 --separate-stderr als-eval -m "$F/tr.csr" -c "$F/tr.csr" "$F/te.csr"
    assert_contains "$stderr" "$F/tr.csr"
}

# flip_byte FILE OFFSET: invert the bits of the byte at OFFSET
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

@test "eval: a damaged CSR or model: exit 1 'checksum mismatch'; a truncated one: 'truncated'" {
    cp "$F/te.csr" bad.csr
    flip_byte bad.csr $(($(stat -c %s bad.csr) / 2))
    run -1 --separate-stderr ev bad.csr
    assert_empty "$output" stdout
    assert_contains "$stderr" "bad.csr"
    assert_contains "$stderr" "checksum mismatch"
    cp "$F/tr.csr" badtr.csr
    flip_byte badtr.csr $(($(stat -c %s badtr.csr) / 2))
    run -1 --separate-stderr als-eval -m "$F/m.als" -c badtr.csr "$F/te.csr"
    assert_contains "$stderr" "checksum mismatch"
    cp "$F/m.als" bad.als
    flip_byte bad.als $(($(stat -c %s bad.als) / 2))
    run -1 --separate-stderr als-eval -m bad.als -c "$F/tr.csr" "$F/te.csr"
    assert_contains "$stderr" "bad.als"
    assert_contains "$stderr" "checksum mismatch"
    head -c 1000 "$F/te.csr" >cut.csr
    run -1 --separate-stderr ev cut.csr
    assert_contains "$stderr" "cut.csr"
    assert_contains "$stderr" "truncated"
}

# ---- progress (ALS_PROGRESS_DELAY: see helpers.bash) ----

@test "eval: --progress off a terminal shows the users of each ranking; the report is the same" {
    ev "$F/te.csr" >ref.tsv
    users=$(ev --format table "$F/te.csr" | head -n 1)
    users=${users%% users*}
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr ev --progress --baseline "$F/bad.als" \
        "$F/te.csr"
    assert_progress "$stderr" als-eval "$users of $users users \(100%\), [0-9.]+ [kMGT]?/s"
    assert_progress "$stderr" als-eval "$users of $users baseline users \(100%\), .*"
    assert_progress "$stderr" als-eval "$users of $users previous-model users \(100%\), .*"
    assert_eq "$stderr" "$(progress_lines "$stderr" als-eval)" "only progress lines"
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr ev --progress "$F/te.csr"
    assert_eq "$(cat ref.tsv)" "$output" "the report"
    # without --progress off a terminal: nothing
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr ev "$F/te.csr"
    assert_empty "$stderr" "stderr"
}

@test "eval: --plot naming the model or a CSR exits 2 and changes nothing" {
    mkdir w && cd w || return 1 # away from the files of run --separate-stderr
    cp "$F/m.als" m.als
    cp "$F/te.csr" te.csr
    local before
    before=$(state_of .)
    run -2 --separate-stderr als-eval -m m.als -c "$F/tr.csr" --plot ./te.csr te.csr
    assert_contains "$stderr" "output './te.csr' is the input 'te.csr'"
    run -2 --separate-stderr als-eval -m m.als -c "$F/tr.csr" --plot ./m.als te.csr
    assert_contains "$stderr" "is the input 'm.als'"
    assert_eq "$before" "$(state_of .)" "files after the refused runs"
    run -0 als-eval -m m.als -c "$F/tr.csr" --plot p.svg te.csr
}
