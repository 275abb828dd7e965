#!/usr/bin/env bats
# als-recommend --score and --candidates against a naive reference over the factors of
# als-train --export-npy (tests/ref/pairs_ref.py: struct-read .npy, double dot products):
# scores equal to float tolerance, candidate rankings equal to sorting the reference
# scores (seen, excluded and repeated items left out, a user repeated later a new list),
# unknown users and items counted, an explicit model clipped, JSON beside TSV, escaped
# IDs, chunk boundaries and thread counts; then --item-names (quoted commas, doubled
# quotes, a name spanning lines, items without one, --name-column) and --header.
#
# The fixture: als-gen-log --lines 20000 --seed 3 mapped with log1p durations, split
# 80/20, trained implicit (-k 16) and explicit without biases (-k 8), both exported;
# 40,000 generated pairs (more than two chunks of 16,384) in lists of 1..40 per user.

bats_require_minimum_version 1.5.0
load helpers

T=$'\t'
# Item IDs are never in a variable named i: bats' run overwrites it.

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    als-gen-log --lines 20000 --seed 3 >log.csv
    als-map -q -V v -u visitor_id -i content_id -r duration_s --transform log1p -o t.trp log.csv
    als-csr -q -V v -o tr.csr --test te.csr --test-fraction 0.2 t.trp
    als-train -q -k 16 -n 5 -o m.als tr.csr
    als-train -q --export-npy npy m.als
    als-train -q --explicit --no-biases -k 8 -n 5 -o e.als tr.csr
    als-train -q --export-npy enpy e.als
    als-map --dump users -V v >users.tsv
    als-map --dump items -V v >items.tsv
    als-csr --dump tr.csr >seen.tsv
    python3 "$ALS_TOP/tests/ref/pairs_ref.py" gen-pairs users.tsv items.tsv 40000 1 >p.tsv
    # The training range the explicit model clips to: the CSR's lowest and highest value.
    awk -F '\t' 'NR == 1 { lo = hi = $3 } $3 < lo { lo = $3 } $3 > hi { hi = $3 }
                 END { print lo, hi }' seen.tsv >range.txt
}

setup() {
    als_setup
    F=$BATS_FILE_TMPDIR
}

rec() {
    als-recommend -m "$F/m.als" -V "$F/v" "$@"
}

# ref score|candidates NPY GOT ARGS...: the reference's check of GOT for the fixture's pairs
ref() {
    local cmd=$1 npy=$2 got=$3
    shift 3
    python3 "$ALS_TOP/tests/ref/pairs_ref.py" "$cmd" "$F/$npy" "$F/users.tsv" "$F/items.tsv" \
        "${PAIRS:-$F/p.tsv}" "$got" "$@"
}

user_at() {
    awk -F '\t' -v n="$1" '$1 == n { print $2 }' "$F/users.tsv"
}

item_at() {
    awk -F '\t' -v n="$1" '$1 == n { print $2 }' "$F/items.tsv"
}

# skipped_line PAIRS UU UI: the summary on stderr for PAIRS pairs read
skipped_line() {
    echo "als-recommend: $1 pairs read, $(($2 + $3)) skipped: $2 with a user unknown or" \
        "without factors, $3 with an item unknown or without factors"
}

# ---- --score ----

@test "pairs: --score: every known pair scored as the reference's dot product, in input order" {
    run --separate-stderr rec --score "$F/p.tsv"
    [[ $status -eq 0 ]]
    printf '%s\n' "$output" >got.tsv
    run ref score npy got.tsv
    [[ $status -eq 0 ]] || _fail "$output"
    local uu ui
    uu=$(sed -E 's/unknown_user=([0-9]+).*/\1/' <<<"$output")
    ui=$(sed -E 's/.*unknown_item=([0-9]+).*/\1/' <<<"$output")
    [[ $uu -gt 0 && $ui -gt 0 ]]
    # Unknown users and items: left out of the output, counted once at the end.
    assert_eq "$(skipped_line 40000 "$uu" "$ui")" "$stderr" stderr
    assert_eq $((40000 - uu - ui)) "$(wc -l <got.tsv)" lines
}

@test "pairs: --score from stdin, with -j 1 and -j 4, gives the same bytes as from a file" {
    rec -q --score "$F/p.tsv" >a.tsv
    rec -q --score -j 1 <"$F/p.tsv" >b.tsv
    rec -q --score -j 4 - <"$F/p.tsv" >c.tsv
    cmp a.tsv b.tsv
    cmp a.tsv c.tsv
    [[ -s a.tsv ]]
}

@test "pairs: --score with an explicit model: the predicted rating clipped to the training range" {
    als-recommend -q --score -m "$F/e.als" -V "$F/v" "$F/p.tsv" >got.tsv
    run ref score enpy got.tsv --clip $(cat "$F/range.txt")
    [[ $status -eq 0 ]] || _fail "$output"
    # Some scores were clipped, so the clipping was tested.
    assert_match "$output" 'clipped=[1-9]'
}

@test "pairs: --score --format json: one {user, item, score} object per pair" {
    rec -q --score --format json "$F/p.tsv" >got.json
    run ref score npy got.json --json
    [[ $status -eq 0 ]] || _fail "$output"
    local u iid
    u=$(user_at 3)
    iid=$(item_at 7)
    run rec -q --score --format json <<<"$u$T$iid"
    assert_match "$output" "^\{\"user\":\"$u\",\"item\":\"$iid\",\"score\":-?[0-9.e-]+\}$"
}

@test "pairs: --score: fields after the item are ignored, CRLF and empty lines are fine" {
    local uid iid
    uid=$(user_at 3)
    iid=$(item_at 7)
    run --separate-stderr rec --score <<<"$uid$T$iid"
    local want=$output
    [[ -n $want ]]
    printf '\n%s\t%s\t4.5\textra\r\n\n' "$uid" "$iid" >crlf.tsv
    run --separate-stderr rec --score crlf.tsv
    [[ $status -eq 0 ]]
    assert_output "$want"
    assert_empty "$stderr" stderr
}

@test "pairs: --score: escaped IDs (tabs, newlines, backslashes) are read as the dump writes them" {
    python3 "$ALS_TOP/tests/ref/recommend_ref.py" weird-csv >w.csv
    als-map -q -H -V wv -u user -i item -r rating -o w.trp w.csv
    als-csr -q -V wv -o w.csr w.trp
    als-train -q --no-biases -k 2 -o w.als w.csr
    als-train -q --export-npy wnpy w.als
    als-map --dump users -V wv >wu.tsv
    als-map --dump items -V wv >wi.tsv
    join -j 9 <(cut -f2 wu.tsv) <(cut -f2 wi.tsv) -t "$T" | cut -f2- >wp.tsv
    [[ $(wc -l <wp.tsv) -ge 4 ]]
    grep -qF '\' wp.tsv
    als-recommend -q --score -m w.als -V wv wp.tsv >got.tsv
    run python3 "$ALS_TOP/tests/ref/pairs_ref.py" score wnpy wu.tsv wi.tsv wp.tsv got.tsv
    [[ $status -eq 0 ]] || _fail "$output"
    assert_match "$output" '^unknown_user=0 unknown_item=0'
}

@test "pairs: a line without a tab or with a bad escape: FILE:LINE, exit 1, -o FILE intact" {
    local u
    u=$(user_at 0)
    printf '%s\t%s\n%s\n' "$u" "$(item_at 0)" "$u" >bad.tsv
    echo previous >out.tsv
    run --separate-stderr rec --score -o out.tsv bad.tsv
    [[ $status -eq 1 ]]
    assert_eq "als-recommend: bad.tsv:2: expected 'user<TAB>item'" "$stderr" stderr
    assert_eq previous "$(cat out.tsv)"
    printf '%s\tc-\\q\n' "$u" >esc.tsv
    run --separate-stderr rec --candidates esc.tsv
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "esc.tsv:1: bad escape"
    assert_empty "$output" stdout
}

@test "pairs: usage errors: --score with filters, with --candidates, --header with JSON" {
    run --separate-stderr rec --score -c "$F/tr.csr" "$F/p.tsv"
    [[ $status -eq 2 ]]
    assert_contains "$stderr" "--score scores every pair it is given"
    run --separate-stderr rec --score -k 3 "$F/p.tsv"
    [[ $status -eq 2 ]]
    run --separate-stderr rec --score --candidates "$F/p.tsv"
    [[ $status -eq 2 ]]
    run --separate-stderr rec --candidates --all
    [[ $status -eq 2 ]]
    run --separate-stderr rec --candidates --history "$F/log.csv" "$F/p.tsv"
    [[ $status -eq 2 ]]
    run --separate-stderr rec --score "$F/p.tsv" "$F/p.tsv"
    [[ $status -eq 2 ]]
    run --separate-stderr rec --score --header --format json "$F/p.tsv"
    [[ $status -eq 2 ]]
    assert_contains "$stderr" "--header is for TSV output"
    run --separate-stderr rec --name-column 3 "$(user_at 0)"
    [[ $status -eq 2 ]]
    run --separate-stderr rec --item-names x.csv --name-column 1 "$(user_at 0)"
    [[ $status -eq 2 ]]
}

# ---- --candidates ----

@test "pairs: --candidates -c: each list ranked as the sorted reference scores, seen left out" {
    run --separate-stderr rec --candidates -k 5 -c "$F/tr.csr" "$F/p.tsv"
    [[ $status -eq 0 ]]
    printf '%s\n' "$output" >got.tsv
    run ref candidates npy got.tsv 5 --seen "$F/seen.tsv"
    [[ $status -eq 0 ]] || _fail "$output"
    local uu ui
    uu=$(sed -E 's/unknown_user=([0-9]+).*/\1/' <<<"$output")
    ui=$(sed -E 's/.*unknown_item=([0-9]+).*/\1/' <<<"$output")
    assert_eq "$(skipped_line 40000 "$uu" "$ui")" "$stderr" stderr
}

@test "pairs: --candidates --include-seen, --exclude, --format json, -j 1 and an explicit model" {
    rec -q --candidates -k 3 --include-seen -c "$F/tr.csr" "$F/p.tsv" >a.tsv
    run ref candidates npy a.tsv 3
    [[ $status -eq 0 ]] || _fail "$output"
    for n in 0 1 2 3 4 5 6 7 8 9; do item_at $((n * 7)); done >ex.txt
    rec -q --candidates -k 4 -c "$F/tr.csr" --exclude ex.txt "$F/p.tsv" >b.tsv
    run ref candidates npy b.tsv 4 --seen "$F/seen.tsv" --exclude ex.txt
    [[ $status -eq 0 ]] || _fail "$output"
    rec -q --candidates -k 4 -c "$F/tr.csr" --format json -j 1 <"$F/p.tsv" >c.json
    run ref candidates npy c.json 4 --seen "$F/seen.tsv" --json
    [[ $status -eq 0 ]] || _fail "$output"
    als-recommend -q --candidates -m "$F/e.als" -V "$F/v" -k 6 -c "$F/tr.csr" "$F/p.tsv" >e.tsv
    run ref candidates enpy e.tsv 6 --seen "$F/seen.tsv" --clip $(cat "$F/range.txt")
    [[ $status -eq 0 ]] || _fail "$output"
}

@test "pairs: --candidates: a user again after another is a new list; repeated items count once" {
    local a b
    a=$(user_at 1)
    b=$(user_at 2)
    printf '%s\t%s\n' "$a" "$(item_at 3)" "$a" "$(item_at 4)" "$a" "$(item_at 3)" \
        "$b" "$(item_at 5)" "$a" "$(item_at 6)" >g.tsv
    run --separate-stderr rec --candidates --include-seen -k 10 g.tsv
    [[ $status -eq 0 ]]
    printf '%s\n' "$output" >got.tsv
    assert_eq "$a $a $b $a" "$(cut -f1 got.tsv | paste -sd ' ')" "users"
    assert_eq "1 2 1 1" "$(cut -f4 got.tsv | paste -sd ' ')" "ranks"
    PAIRS=g.tsv run ref candidates npy got.tsv 10
    [[ $status -eq 0 ]] || _fail "$output"
    assert_eq "unknown_user=0 unknown_item=0 lists=3" "$output"
    # The same pairs in one --score run: each scored as its list ranks it.
    rec -q --score g.tsv | sort -u >s.tsv
    cut -f1-3 got.tsv | sort -u >c.tsv
    cmp s.tsv c.tsv
}

@test "pairs: --candidates ranks a list as plain recommend with --only ranks the same items" {
    local u
    u=$(user_at 11)
    for n in 2 9 14 21 33 40 57 61 70 88; do item_at $n; done >only.txt
    sed "s/^/$u$T/" only.txt >one.tsv
    run rec -q --candidates -k 4 -c "$F/tr.csr" one.tsv
    local want
    want=$(rec -q -k 4 -c "$F/tr.csr" --only only.txt "$u")
    [[ -n $want ]]
    assert_output "$want"
}

# ---- --item-names and --header ----

# names.csv: MovieLens-shaped 'item_id,title,genres' with quoted commas and doubled quotes;
# item 1 has a name that spans two lines, every 7th item has none. names.tsv: the expected
# label of every item by raw ID, as TSV escapes it.
make_names() {
    python3 - "$F/items.tsv" <<'PY'
import sys
with open("names.csv", "w") as c, open("names.tsv", "w") as t:
    c.write("item_id,title,genres\n")
    for line in open(sys.argv[1]):
        i, raw = line.rstrip("\n").split("\t", 1)
        i = int(i)
        if i % 7 == 6:
            t.write("%s\t\n" % raw)
            continue
        if i == 1:
            c.write('%s,"First line,\nsecond line",Drama\n' % raw)
            t.write("%s\tFirst line,\\nsecond line\n" % raw)
            continue
        c.write('%s,"Title %d, The (""%d"")",G%d|Comedy\n' % (raw, i, i, i))
        t.write('%s\tTitle %d, The ("%d")\n' % (raw, i, i))
PY
}

# check_names GOT COL: column COL of each line of GOT (item in column 2) is its label
check_names() {
    awk -F '\t' -v col="$2" 'NR == FNR { name[$1] = $2; n++; next }
        !($2 in name) { print "line " FNR ": unknown item " $2; bad = 1 }
        NF != col || $col != name[$2] { print "line " FNR ": " $0 ", expected " name[$2]; bad = 1 }
        END { exit bad || n == 0 }' names.tsv "$1"
}

@test "pairs: --item-names: each answer's label from a quoted CSV, empty for items without one" {
    make_names
    rec -q -k 20 -c "$F/tr.csr" --item-names names.csv $(for n in 0 1 2 3 4 5; do user_at $n; done) >r.tsv
    check_names r.tsv 5
    # The name spanning lines, and an empty one, both show.
    [[ -n $(awk -F '\t' '$5 == ""' r.tsv) ]]
    rec -q --score --item-names names.csv "$F/p.tsv" | head -500 >s.tsv
    check_names s.tsv 4
    rec -q --candidates -k 40 --include-seen --item-names names.csv "$F/p.tsv" >c.tsv
    check_names c.tsv 5
    grep -qF 'First line,\nsecond line' c.tsv
    rec -q --similar --item-names names.csv "$(item_at 0)" >m.tsv
    check_names m.tsv 5
}

@test "pairs: --item-names in JSON: a \"name\" member after \"item\"; --name-column 3" {
    make_names
    local i1 i5 u
    i1=$(item_at 1)
    i5=$(item_at 5)
    u=$(user_at 0)
    run rec -q --score --format json --item-names names.csv <<<"$u$T$i1"
    assert_match "$output" "\"item\":\"$i1\",\"name\":\"First line,\\\\u000asecond line\",\"score\":"
    run rec -q --score --format json --item-names names.csv <<<"$u$T$i5"
    assert_match "$output" "\"item\":\"$i5\",\"name\":\"Title 5, The \(\\\\\"5\\\\\"\)\",\"score\":"
    run rec -q --candidates --format json --item-names names.csv <<<"$u$T$i5"
    assert_match "$output" "^\{\"user\":\"$u\",\"items\":\[\{\"item\":\"$i5\",\"name\":\"Title 5"
    run rec -q --score --item-names names.csv --name-column 3 <<<"$u$T$i5"
    assert_match "$output" "^$u$T$i5$T[-0-9.e]+${T}G5\|Comedy$"
    run --separate-stderr rec -q --score --item-names names.csv --name-column 4 <<<"$u$T$i5"
    [[ $status -eq 1 ]]
    assert_eq "als-recommend: names.csv:1: 3 fields, the name is field 4" "$stderr" stderr
}

@test "pairs: --header: the exact first line of each TSV mode" {
    make_names
    local u iid
    u=$(user_at 0)
    iid=$(item_at 0)
    run rec -q --header -c "$F/tr.csr" -k 1 "$u"
    assert_eq "user${T}item${T}score${T}rank" "${lines[0]}"
    [[ ${#lines[@]} -eq 2 ]]
    run rec -q --header --explain-source --item-names names.csv -c "$F/tr.csr" -k 1 "$u"
    assert_eq "user${T}item${T}score${T}rank${T}source${T}name" "${lines[0]}"
    run rec -q --header --similar -k 1 "$iid"
    assert_eq "item${T}similar${T}score${T}rank" "${lines[0]}"
    run rec -q --header --score <<<"$u$T$iid"
    assert_eq "user${T}item${T}score" "${lines[0]}"
    [[ ${#lines[@]} -eq 2 ]]
    run rec -q --header --candidates --item-names names.csv <<<"$u$T$iid"
    assert_eq "user${T}item${T}score${T}rank${T}name" "${lines[0]}"
    # No answers: the header alone.
    run rec -q --header --score <<<"nobody$T$iid"
    assert_output "user${T}item${T}score"
}
