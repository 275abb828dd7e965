#!/usr/bin/env bats
# als-eval's leakage and pairing guard: each bad pairing is built for real and refused
# with exit 1 and its one-line message; the right pairing passes; --allow-leakage lets the
# refused ones through. The fixture: one generated log, a seeded 80/20 split (tr, te), the
# whole matrix (all), another split of the same matrix (seed 2: tr2, te2), and models
# trained on each of them (small and fast: -k 4 -n 2).

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    als-gen-log --lines 6000 --seed 11 >log.csv
    als-map -q -V v -u visitor_id -i content_id -r duration_s --transform log1p -o t.trp log.csv
    als-csr -q -V v -o tr.csr --test te.csr --test-fraction 0.2 --seed 1 t.trp
    als-csr -q -V v -o tr2.csr --test te2.csr --test-fraction 0.2 --seed 2 t.trp
    als-csr -q -V v -o all.csr t.trp
    local c
    for c in tr te tr2 all; do
        als-train -q -k 4 -n 2 -o "m-$c.als" "$c.csr"
    done
}

setup() {
    als_setup
    F=$BATS_FILE_TMPDIR
}

# guard ARGS...: als-eval with TSV output in the fixture's directory
guard() {
    (cd "$F" && als-eval --format tsv "$@")
}

@test "guard: the model trained on the training side, with that side and the test side, passes" {
    run -0 --separate-stderr guard -m m-tr.als -c tr.csr te.csr
    assert_contains "$output" "ndcg@10"
    assert_empty "$stderr" stderr
}

@test "guard: train and test swapped: exit 1, 'swapped?'" {
    run -1 --separate-stderr guard -m m-tr.als -c te.csr tr.csr
    assert_stderr "als-eval: '-c te.csr' is a test side and 'tr.csr' a training side: swapped? (als-eval -c TRAIN.CSR TEST.CSR) (pass --allow-leakage if this is meant)"
    assert_empty "$output" stdout
}

@test "guard: sides of two different splits: exit 1, naming both splits" {
    run -1 --separate-stderr guard -m m-tr.als -c tr2.csr te.csr
    assert_match "$stderr" "^als-eval: '-c tr2.csr' and 'te.csr' are sides of different splits \([0-9a-f]{16} and [0-9a-f]{16}\): use the two files of one als-csr run"
}

@test "guard: -c with the whole matrix holds the test entries: exit 1, with the count" {
    local n
    n=$(als-csr --info "$F/te.csr" | awk -F '\t' '$1 == "nnz" { print $2 }')
    run -1 --separate-stderr guard -m m-tr.als -c all.csr te.csr
    assert_stderr "als-eval: '-c all.csr' holds $n of the $n entries of 'te.csr': pass the training side of the split (als-csr --test) (pass --allow-leakage if this is meant)"
    # said so, it runs (and finds nothing to hit: every test item is a training item)
    run -0 --separate-stderr guard --allow-leakage -m m-tr.als -c all.csr te.csr
    assert_contains "$output" "ndcg@10"
}

@test "guard: a model trained on the whole matrix: exit 1; it would pass a gate it should fail" {
    run -1 --separate-stderr guard -m m-all.als -c tr.csr --min ndcg@10=0 te.csr
    assert_stderr "als-eval: model 'm-all.als' was trained on the whole matrix that 'te.csr' was split from, test entries included: train it on the training side (pass --allow-leakage if this is meant)"
    # the leak is real: the leaked model scores far above the honest one
    local honest leaked
    honest=$(guard -m m-tr.als -c tr.csr te.csr | awk -F '\t' '$1 == "recall@10" { print $2 }')
    leaked=$(guard --allow-leakage -m m-all.als -c tr.csr te.csr |
        awk -F '\t' '$1 == "recall@10" { print $2 }')
    awk -v h="$honest" -v l="$leaked" 'BEGIN { exit !(l > h) }' ||
        _fail "leaked recall@10 $leaked is not above honest $honest"
}

@test "guard: a model trained on the test side: exit 1" {
    run -1 --separate-stderr guard -m m-te.als -c tr.csr te.csr
    assert_stderr "als-eval: model 'm-te.als' was trained on the test side of the split that 'te.csr' comes from: train it on the training side (pass --allow-leakage if this is meant)"
}

@test "guard: a model trained on another split's training side: exit 1, naming its data" {
    run -1 --separate-stderr guard -m m-tr2.als -c tr.csr te.csr
    assert_match "$stderr" "^als-eval: model 'm-tr2.als' was trained on 'tr2.csr' \([0-9]+ entries\), not on '-c tr.csr': it may have seen test entries"
}

@test "guard: --baseline trained on another split or on the whole matrix: exit 1" {
    run -1 --separate-stderr guard -m m-tr.als -c tr.csr --baseline m-tr2.als te.csr
    assert_match "$stderr" "^als-eval: --baseline 'm-tr2.als' was trained on another split \([0-9a-f]{16}, 'te.csr' is from [0-9a-f]{16}\), whose training side holds entries of this test set: train the baseline on 'tr.csr'"
    run -1 --separate-stderr guard -m m-tr.als -c tr.csr --baseline m-all.als te.csr
    assert_contains "$stderr" "--baseline 'm-all.als' was trained on the whole matrix that 'te.csr' was split from"
    # a baseline trained on the same training side is the fair comparison
    run -0 --separate-stderr guard -m m-tr.als -c tr.csr --baseline m-tr.als te.csr
}

@test "guard: a baseline trained on older unsplit data (yesterday's production model) passes" {
    # yesterday: the first 4000 lines, unsplit; today: all of them, split
    head -n 4001 "$F/log.csv" >old.csv
    als-map -q -V "$F/v" --frozen -o old.trp old.csv
    als-csr -q -V "$F/v" -o old.csr old.trp
    als-train -q -k 4 -n 2 -o prod.als old.csr
    run -0 --separate-stderr als-eval --format tsv -m "$F/m-tr.als" -c "$F/tr.csr" \
        --baseline prod.als --max-drop 100 "$F/te.csr"
    assert_contains "$output" "previous"
}

@test "guard: a split of a matrix grown by another night is another split" {
    cd "$F"
    als-gen-log --lines 800 --seed 12 --id-seed 11 >night2.csv
    cp -r v v2
    als-map -q -V v2 --append -o n2.trp night2.csv
    als-map -q -V v2 --frozen -o both.trp log.csv night2.csv
    als-csr -q -V v2 -o n2-tr.csr --test n2-te.csr --test-fraction 0.2 --seed 1 both.trp
    # night 1's model against night 2's split: another split, refused
    run -1 --separate-stderr als-eval -m m-tr.als -c n2-tr.csr n2-te.csr
    assert_contains "$stderr" "model 'm-tr.als' was trained on 'tr.csr'"
    local a b
    a=$(als-csr --info te.csr | awk -F '\t' '$1 == "split_id" { print $2 }')
    b=$(als-csr --info n2-te.csr | awk -F '\t' '$1 == "split_id" { print $2 }')
    [[ -n "$a" && -n "$b" && "$a" != "$b" ]] || _fail "split ids: '$a' and '$b'"
    # the same split made again is the same split
    als-csr -q -V v -o again-tr.csr --test again-te.csr --test-fraction 0.2 --seed 1 t.trp
    assert_eq "$a" "$(als-csr --info again-te.csr | awk -F '\t' '$1 == "split_id" { print $2 }')"
    cmp -s te.csr again-te.csr || _fail "the same split gave other bytes"
}

@test "guard: two files split by hand (no split recorded) pass when they share no entry" {
    printf 'u,i,r\nu1,a,1\nu1,b,2\nu2,a,1\nu2,c,3\nu3,b,1\nu3,c,2\n' >base.csv
    printf 'u,i,r\nu1,c,1\nu2,b,2\nu3,a,1\n' >test.csv
    # u1,a is in base, u3,a is not: one shared entry
    printf 'u,i,r\nu1,a,1\nu3,a,1\n' >overlap.csv
    als-map -q -H -V hv -o base.trp base.csv
    als-map -q -V hv --frozen -o test.trp test.csv
    als-map -q -V hv --frozen -o overlap.trp overlap.csv
    als-csr -q -V hv -o base.csr base.trp
    als-csr -q -V hv -o test.csr test.trp
    als-csr -q -V hv -o overlap.csr overlap.trp
    als-train -q -k 2 -n 2 -o h.als base.csr
    run -0 --separate-stderr als-eval --format tsv -m h.als -c base.csr test.csr
    run -1 --separate-stderr als-eval --format tsv -m h.als -c base.csr overlap.csr
    assert_stderr "als-eval: '-c base.csr' holds 1 of the 2 entries of 'overlap.csr': pass the training side of the split (als-csr --test) (pass --allow-leakage if this is meant)"
}

@test "guard: a warm start from a model that saw the whole matrix carries it: exit 1" {
    cd "$F"
    als-train -q -n 1 --init m-all.als -o warm-all.als tr.csr
    assert_eq other "$(als-train --info warm-all.als | awk -F '\t' '$1 == "init_split" { print $2 }')"
    run -1 --separate-stderr als-eval -m warm-all.als -c tr.csr te.csr
    assert_contains "$stderr" "model 'warm-all.als' was warm-started (--init m-all.als) from a model not trained on this split's training side"
    # from a model of the same training side: clean
    als-train -q -n 1 --init m-tr.als -o warm-tr.als tr.csr
    assert_eq same "$(als-train --info warm-tr.als | awk -F '\t' '$1 == "init_split" { print $2 }')"
    run -0 --separate-stderr als-eval --format tsv -m warm-tr.als -c tr.csr te.csr
}

@test "guard: --stable splits of two nights: last night's model is a fair baseline and start" {
    cd "$F"
    als-csr -q -V v -o s1-tr.csr --test s1-te.csr --test-fraction 0.2 --stable --seed 5 t.trp
    als-train -q -k 4 -n 2 -o s1.als s1-tr.csr
    als-gen-log --lines 900 --seed 13 --id-seed 11 >night2b.csv
    cp -r v vs
    als-map -q -V vs --append -o /dev/null night2b.csv
    als-map -q -V vs --frozen -o both2.trp log.csv night2b.csv
    als-csr -q -V vs -o s2-tr.csr --test s2-te.csr --test-fraction 0.2 --stable --seed 5 both2.trp
    # not one of last night's training entries is in tonight's test side
    local common
    common=$(join -t$'\t' <(als-csr --dump s1-tr.csr | cut -f1,2 | tr '\t' ':' | sort) \
        <(als-csr --dump s2-te.csr | cut -f1,2 | tr '\t' ':' | sort) | wc -l)
    assert_eq 0 "$common" "last night's training entries on tonight's test side"
    als-train -q -n 2 --init s1.als -o s2.als s2-tr.csr
    run -0 --separate-stderr als-eval --format tsv -m s2.als -c s2-tr.csr --baseline s1.als \
        --max-drop 100 s2-te.csr
    assert_contains "$output" "previous"
    # the same with ordinary splits is refused
    als-csr -q -V vs -o r2-tr.csr --test r2-te.csr --test-fraction 0.2 --seed 1 both2.trp
    run -1 --separate-stderr als-eval -m s2.als -c r2-tr.csr r2-te.csr
}
