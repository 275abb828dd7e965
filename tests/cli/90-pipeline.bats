#!/usr/bin/env bats
# The whole pipeline, als-gen-log -> als-map -> als-csr (split) -> als-train -> als-recommend ->
# als-eval, on a log with planted taste clusters, checking properties that hold only when
# the stages fit together: files and pipes give the same bytes, the same seed gives the
# same model and recommendations for any thread count, recommendations are keyed by the raw
# IDs of the vocabulary and never repeat the history given by -c, they mostly fall in the
# user's planted cluster, the model beats popularity and passes a gate at its level, and an
# impossible gate exits 3.
#
# The fixture (built once per file, well under a second): als-gen-log --lines 30000 --seed 11
# with 6 clusters (1200 visitors, 100 items) and its --truth, mapped with log1p durations
# into v, split 80/20 with --seed 5 into tr.csr and te.csr, trained with -k 8 -n 10 -a 1
# -l 1 --seed 3 into m.als (the parameters of 50-als-eval.bats; the defaults lose to
# popularity on this log), and all users' top 10 with -c tr.csr in recs.tsv.

bats_require_minimum_version 1.5.0
load helpers

T=$'\t'
TRAIN=(-k 8 -n 10 -a 1 -l 1 --seed 3)

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    als-gen-log --lines 30000 --seed 11 --clusters 6 --truth truth.tsv -o log.csv
    als-map -q -V v -u visitor_id -i content_id -r duration_s --transform log1p -o t.trp log.csv
    als-csr -q -V v -o tr.csr --test te.csr --test-fraction 0.2 --seed 5 t.trp
    als-train -q "${TRAIN[@]}" -j 1 -o m.als tr.csr
    als-recommend -q -m m.als -V v -c tr.csr --all -k 10 -j 1 >recs.tsv
    als-map --dump users -V v >users.tsv
    als-map --dump items -V v >items.tsv
    als-csr --dump tr.csr >seen.tsv
}

setup() {
    als_setup
    F=$BATS_FILE_TMPDIR
}

# seen_raw: the training history as 'raw user<TAB>raw item' lines
seen_raw() {
    awk -F '\t' 'FILENAME ~ /users/ { u[$1] = $2; next }
                 FILENAME ~ /items/ { i[$1] = $2; next }
                 { print u[$1] "\t" i[$2] }' "$F/users.tsv" "$F/items.tsv" "$F/seen.tsv"
}

# in_history RECS: the lines of RECS (als-recommend TSV) whose (user, item) is in the
# training history
in_history() {
    seen_raw | awk -F '\t' 'NR == FNR { s[$1 FS $2] = 1; next } ($1 FS $2) in s' - "$1"
}

# cluster_share RECS: the fraction of the lines of RECS whose item is in the user's cluster
cluster_share() {
    awk -F '\t' 'NR == FNR { c[$1 FS $2] = $3; next }
                 { n++; if (c["user" FS $1] == c["item" FS $2]) s++ }
                 END { printf "%.4f\n", n ? s / n : 0 }' "$F/truth.tsv" "$1"
}

# metric NAME COLUMN: column (2 model, 3 popularity, 4 lift) of a TSV report in $output
metric() {
    printf '%s\n' "$output" | awk -F '\t' -v m="$1" -v c="$2" '$1 == m { print $c }'
}

@test "pipeline: pipes, stdin and gzip give the same vocabulary, triples and CSR bytes" {
    als-gen-log --lines 30000 --seed 11 --clusters 6 | gzip -c >log.csv.gz
    als-map -q -V vz -u visitor_id -i content_id -r duration_s --transform log1p -o t.trp \
        log.csv.gz
    cmp "$F/t.trp" t.trp
    als-gen-log --lines 30000 --seed 11 --clusters 6 |
        als-map -q -V vp -u visitor_id -i content_id -r duration_s --transform log1p |
        als-csr -q -V vp -o tr.csr --test te.csr --test-fraction 0.2 --seed 5
    cmp "$F/tr.csr" tr.csr
    cmp "$F/te.csr" te.csr
    for d in vz vp; do
        assert_eq "$(cat "$F/users.tsv")" "$(als-map --dump users -V $d)" "users of $d" || return 1
        assert_eq "$(cat "$F/items.tsv")" "$(als-map --dump items -V $d)" "items of $d" || return 1
    done
    # and another split seed gives another split (so the cmp above can fail)
    als-csr -q -V "$F/v" -o tr7.csr --test te7.csr --test-fraction 0.2 --seed 7 "$F/t.trp"
    run -1 cmp -s "$F/tr.csr" tr7.csr
}

@test "pipeline: the same seed gives the same model bytes and recommendations with -j 1 and -j 2" {
    # The model records the name of its training file: the same name for both.
    ln -s "$F/tr.csr" tr.csr
    als-train -q "${TRAIN[@]}" -j 1 -o m1.als tr.csr
    als-train -q "${TRAIN[@]}" -j 2 -o m2.als tr.csr
    cmp m1.als m2.als
    als-recommend -q -m m2.als -V "$F/v" -c "$F/tr.csr" --all -k 10 -j 2 >recs2.tsv
    cmp "$F/recs.tsv" recs2.tsv
    als-eval -m "$F/m.als" -c "$F/tr.csr" -k 5,10 -j 1 "$F/te.csr" >e1.tsv
    als-eval -m m2.als -c "$F/tr.csr" -k 5,10 -j 2 "$F/te.csr" >e2.tsv
    cmp e1.tsv e2.tsv
    # another seed, another model
    als-train -q -k 8 -n 10 -a 1 -l 1 --seed 4 -j 2 -o m4.als tr.csr
    run -1 cmp -s m2.als m4.als
}

@test "pipeline: recommendations are keyed by raw IDs of the vocabulary, 10 ranked per user" {
    local users items
    users=$(wc -l <"$F/users.tsv")
    items=$(wc -l <"$F/items.tsv")
    assert_eq 1200 "$users" "users in the vocabulary"
    assert_eq 100 "$items" "items in the vocabulary"
    # every user of the vocabulary (all have training items), 10 lines each
    assert_eq "$((users * 10))" "$(wc -l <"$F/recs.tsv")" "lines of recs.tsv"
    assert_eq "$(cut -f2 "$F/users.tsv")" "$(cut -f1 "$F/recs.tsv" | uniq)" \
        "users of recs.tsv, in index order"
    # every item is a raw ID from the items dump; ranks 1..10 with non-increasing scores
    run -0 awk -F '\t' 'NR == FNR { known[$2] = 1; next }
                        !($2 in known) { print "unknown item: " $0; bad = 1 }
                        NF != 4 { print "fields: " $0; bad = 1 }
                        $1 != u { u = $1; r = 0; prev = "" }
                        { if ($4 != ++r) { print "rank: " $0; bad = 1 }
                          if (prev != "" && $3 > prev) { print "score order: " $0; bad = 1 }
                          prev = $3 }
                        END { exit bad }' "$F/items.tsv" "$F/recs.tsv"
    assert_empty "$output" "bad lines"
    # no user gets an item twice
    assert_empty "$(cut -f1,2 "$F/recs.tsv" | sort | uniq -d)" "repeated (user, item)"
    # the user IDs are the log's: the first visitor of the log is user 0
    assert_eq "$(sed -n 2p "$F/log.csv" | cut -d, -f1)" "$(head -n 1 "$F/recs.tsv" | cut -f1)"
}

@test "pipeline: no recommended item is in the user's history given by -c" {
    assert_eq 0 "$(in_history "$F/recs.tsv" | wc -l)" "recommendations from the history"
    # Without -c nothing is filtered: on this data the top 10 then repeat the history, so
    # the check above can fail.
    als-recommend -q -m "$F/m.als" -V "$F/v" --all -k 10 >all.tsv
    (($(in_history all.tsv | wc -l) > 1000)) ||
        _fail "only $(in_history all.tsv | wc -l) recommendations from the history without -c"
    # The same through stdin, for a few users
    head -n 30 "$F/users.tsv" | cut -f2 >some.txt
    als-recommend -q -m "$F/m.als" -V "$F/v" -c "$F/tr.csr" -k 10 <some.txt >some.tsv
    assert_eq 300 "$(wc -l <some.tsv)" "lines for 30 users"
    cmp some.tsv <(head -n 300 "$F/recs.tsv")
}

@test "pipeline: most recommendations fall in the user's planted cluster" {
    # 6 clusters and an affinity of 0.8: about one item in six is in a given user's cluster,
    # so a share far above 1/6 means the factors found the clusters.
    local share
    share=$(cluster_share "$F/recs.tsv")
    awk -v s="$share" 'BEGIN { exit !(s > 0.6) }' ||
        _fail "share of recommendations in the user's cluster $share, expected > 0.6"
    # the random start (-n 0) does not find them
    als-train -q -k 8 -n 0 --seed 3 -o m0.als "$F/tr.csr"
    als-recommend -q -m m0.als -V "$F/v" -c "$F/tr.csr" --all -k 10 >recs0.tsv
    share=$(cluster_share recs0.tsv)
    awk -v s="$share" 'BEGIN { exit !(s < 0.4) }' ||
        _fail "share for the random start $share, expected < 0.4"
}

@test "pipeline: the model beats popularity, and a gate at popularity's level passes" {
    run -0 --separate-stderr als-eval -m "$F/m.als" -c "$F/tr.csr" -k 5,10 "$F/te.csr"
    local m p l
    for name in ndcg@10 hit@10 precision@5 map@10 mrr auc; do
        m=$(metric "$name" 2)
        p=$(metric "$name" 3)
        l=$(metric "$name" 4)
        awk -v m="$m" -v p="$p" -v l="$l" 'BEGIN { exit !(m > p && l > 1) }' ||
            _fail "$name: model $m, popularity $p, lift $l: expected the model to win" ||
            return 1
    done
    awk -v l="$(metric ndcg@10 4)" 'BEGIN { exit !(l > 1.5) }' ||
        _fail "ndcg@10 lift $(metric ndcg@10 4), expected > 1.5"
    p=$(metric ndcg@10 3)
    m=$(metric ndcg@10 2)
    run -0 --separate-stderr als-eval -q -m "$F/m.als" -c "$F/tr.csr" --min "ndcg@10=$p" \
        --min "hit@10=$(metric hit@10 3)" "$F/te.csr"
    assert_empty "$output" stdout
    assert_empty "$stderr" stderr
    # the random start falls below the same gate
    als-train -q -k 8 -n 0 --seed 3 -o m0.als "$F/tr.csr"
    run -3 --separate-stderr als-eval -q -m m0.als -c "$F/tr.csr" --min "ndcg@10=$p" "$F/te.csr"
    assert_match "$stderr" "^als-eval: gate: ndcg@10 = [0-9.]+ is below the minimum $p\$"
    # and the trained model passes a gate just below its own value, fails one just above
    run -0 als-eval -q -m "$F/m.als" -c "$F/tr.csr" --min "ndcg@10=$(awk -v m="$m" \
        'BEGIN { print m - 0.001 }')" "$F/te.csr"
    run -3 als-eval -q -m "$F/m.als" -c "$F/tr.csr" --min "ndcg@10=$(awk -v m="$m" \
        'BEGIN { print m + 0.001 }')" "$F/te.csr"
}

@test "pipeline: an impossible gate exits 3, still printing the report" {
    run -3 --separate-stderr als-eval -m "$F/m.als" -c "$F/tr.csr" --min ndcg@10=1.01 \
        "$F/te.csr"
    assert_eq "metric${T}model${T}popularity${T}lift" "${lines[0]}" "header"
    assert_match "$stderr" '^als-eval: gate: ndcg@10 = [0-9.]+ is below the minimum 1\.01$'
    run -3 --separate-stderr als-eval -q -m "$F/m.als" -c "$F/tr.csr" --max auc=0 "$F/te.csr"
    assert_empty "$output" stdout
    assert_match "$stderr" 'gate: auc'
}

@test "pipeline: '-' or a gzipped file for a mapped input (CSR, model) says why, every program" {
    local csr="a CSR file must be a regular file (it is mapped), not standard input"
    local model="a model file must be a regular file (it is mapped), not standard input"
    run -2 --separate-stderr als-train -q -o m.als - <"$F/tr.csr"
    assert_stderr "als-train: '-': $csr" || return 1
    run -2 --separate-stderr als-train -q -o m.als --init - "$F/tr.csr" <"$F/m.als"
    assert_stderr "als-train: '-': $model" || return 1
    run -2 --separate-stderr als-train --info - <"$F/m.als"
    assert_stderr "als-train: '-': $model" || return 1
    run -2 --separate-stderr als-csr --info - <"$F/tr.csr"
    assert_stderr "als-csr: '-': $csr" || return 1
    run -2 --separate-stderr als-csr --dump - <"$F/tr.csr"
    assert_stderr "als-csr: '-': $csr" || return 1
    run -2 --separate-stderr als-recommend -m - -V "$F/v" --all <"$F/m.als"
    assert_stderr "als-recommend: '-': $model" || return 1
    run -2 --separate-stderr als-recommend -m "$F/m.als" -V "$F/v" -c - --all <"$F/tr.csr"
    assert_stderr "als-recommend: '-': $csr" || return 1
    run -2 --separate-stderr als-eval -m - -c "$F/tr.csr" "$F/te.csr" <"$F/m.als"
    assert_stderr "als-eval: '-': $model" || return 1
    run -2 --separate-stderr als-eval -m "$F/m.als" -c "$F/tr.csr" - <"$F/te.csr"
    assert_stderr "als-eval: '-': $csr" || return 1
    assert_file_absent m.als
    # gzip model.als, or a .csr.gz: the gzip magic where "ALSB" belongs
    gzip -c "$F/tr.csr" >tr.csr.gz
    gzip -c "$F/m.als" >m.als.gz
    run -1 --separate-stderr als-train -q -o m.als tr.csr.gz
    assert_stderr "als-train: 'tr.csr.gz': gzip-compressed: decompress it first (gzip -d)" \
        || return 1
    run -1 --separate-stderr als-csr --info tr.csr.gz
    assert_stderr "als-csr: 'tr.csr.gz': gzip-compressed: decompress it first (gzip -d)" \
        || return 1
    run -1 --separate-stderr als-recommend -m m.als.gz -V "$F/v" --all
    assert_stderr "als-recommend: 'm.als.gz': gzip-compressed: decompress it first (gzip -d)" \
        || return 1
    run -1 --separate-stderr als-eval -m m.als.gz -c "$F/tr.csr" "$F/te.csr"
    assert_stderr "als-eval: 'm.als.gz': gzip-compressed: decompress it first (gzip -d)" \
        || return 1
    assert_file_absent m.als
    # as the hint says: decompressed, they work; a file really named '-' works as ./-
    gzip -d tr.csr.gz m.als.gz
    als-csr --info tr.csr >/dev/null
    als-recommend -q -m m.als -V "$F/v" --all -k 10 -c tr.csr -j 1 >recs.tsv
    cmp "$F/recs.tsv" recs.tsv
    cp "$F/tr.csr" ./-
    assert_eq "$(als-csr --info "$F/tr.csr" | tail -n +2)" "$(als-csr --info ./- | tail -n +2)" \
        "--info ./-"
}

@test "pipeline: no stage left a temporary file" {
    no_temp_files "$F"
    no_temp_files "$F/v"
}
