#!/usr/bin/env bats
# als-recommend: top-k by raw ID against a brute-force reference computed from the exported
# factors (every item scored, seen items dropped, sorted by score desc then index asc),
# every filter (--include-seen, --exclude, --only), -k above the candidates, --similar,
# exact ties (items with identical factors), JSON and TSV escaping of awkward IDs, --all,
# streaming from stdin in constant memory, the --cold policies, --history fold-in against
# a double-precision solve, --explain-source, mismatched and damaged files, and -o.
#
# The fixture (built once per file): als-gen-log --lines 20000 --seed 3 (800 visitors, 100
# items), mapped with log1p durations into the vocabulary v, split 80/20 into tr.csr and
# te.csr, trained with -k 16 -n 5 into m.als and exported to npy/. A second, bigger
# pipeline (v2, tr2.csr, m2.als) gives mismatched files; a tiny one (wv, w.csr, w.als)
# has IDs with tabs, newlines, quotes, backslashes and bytes that are not UTF-8.
#
# The reference is tests/ref/recommend_ref.py (python3, no numpy): it reads the .npy files
# with struct and the dumps of als-map and als-csr. Where the float32 scores of the program and the
# double scores of the reference disagree about two items closer than 1e-5, either order
# is accepted; every other difference in the items or their order fails.

bats_require_minimum_version 1.5.0
load helpers

T=$'\t'

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    als-gen-log --lines 20000 --seed 3 >log.csv
    als-map -q -V v -u visitor_id -i content_id -r duration_s --transform log1p -o t.trp log.csv
    als-csr -q -V v -o tr.csr --test te.csr --test-fraction 0.2 t.trp
    als-train -q -k 16 -n 5 -o m.als tr.csr
    als-train -q --export-npy npy m.als
    als-map --dump users -V v >users.tsv
    als-map --dump items -V v >items.tsv
    als-csr --dump tr.csr >seen.tsv
    cut -f2 users.tsv >users.txt
    # A bigger vocabulary (more users and items): its model and CSR do not fit v.
    als-gen-log --lines 6000 --seed 9 -u 1200 -i 160 >big.csv
    als-map -q -V v2 -u visitor_id -i content_id -r duration_s --transform log1p -o t2.trp big.csv
    als-csr -q -V v2 -o tr2.csr t2.trp
    als-train -q -k 4 -n 2 -o m2.als tr2.csr
    # Awkward IDs: a tiny explicit vocabulary of its own.
    python3 "$ALS_TOP/tests/ref/recommend_ref.py" weird-csv >w.csv
    als-map -q -H -V wv -u user -i item -r rating -o w.trp w.csv
    als-csr -q -V wv -o w.csr w.trp
    als-train -q -k 2 -o w.als w.csr
}

setup() {
    als_setup
    F=$BATS_FILE_TMPDIR
}

# rec ARGS...: als-recommend with the fixture's model and vocabulary
rec() {
    als-recommend -m "$F/m.als" -V "$F/v" "$@"
}

# ref ARGS...: the reference script
ref() {
    python3 "$ALS_TOP/tests/ref/recommend_ref.py" "$F" "$@"
}

# user_at N: the raw ID of user index N
user_at() {
    awk -F '\t' -v n="$1" '$1 == n { print $2 }' "$F/users.tsv"
}

# item_at N: the raw ID of item index N
item_at() {
    awk -F '\t' -v n="$1" '$1 == n { print $2 }' "$F/items.tsv"
}

# seen_of N: the raw item IDs user index N has in tr.csr, one per line
seen_of() {
    awk -F '\t' -v u="$1" 'NR == FNR { id[$1] = $2; next } $1 == u { print id[$2] }' \
        "$F/items.tsv" "$F/seen.tsv"
}

# ---- contract ----

@test "recommend: --help prints the usage on stdout, exit 0; --version is one line" {
    run --separate-stderr als-recommend --help
    [[ $status -eq 0 ]]
    assert_empty "$stderr" stderr
    assert_match "$(first_line "$output")" '^usage: als-recommend -m MODEL -V DIR'
    assert_contains "$output" "--cold POLICY"
    assert_contains "$output" "items per user (default 10)"
    run --separate-stderr als-recommend -h
    [[ $status -eq 0 ]]
    assert_match "$(first_line "$output")" '^usage: als-recommend '
    run --separate-stderr als-recommend --version
    [[ $status -eq 0 ]]
    assert_match "$output" '^als-recommend [0-9]+\.[0-9]+\.[0-9]+ \(libals [0-9.]+, zlib [^,]+, [^)]+\)$'
    assert_empty "$stderr" stderr
}

@test "recommend: bad options and a missing -m or -V are usage errors (2)" {
    local u
    u=$(user_at 0)
    run --separate-stderr als-recommend --bogus -m "$F/m.als" -V "$F/v" "$u"
    [[ $status -eq 2 ]]
    assert_empty "$output" stdout
    assert_contains "$stderr" "usage: als-recommend"
    run --separate-stderr als-recommend -V "$F/v" "$u"
    [[ $status -eq 2 ]]
    assert_contains "$stderr" "missing -m MODEL"
    assert_empty "$output" stdout
    run --separate-stderr als-recommend -m "$F/m.als" "$u"
    [[ $status -eq 2 ]]
    assert_contains "$stderr" "missing -V DIR"
    run --separate-stderr rec -k 0 "$u"
    [[ $status -eq 2 ]]
    run --separate-stderr rec --cold sometimes "$u"
    [[ $status -eq 2 ]]
    assert_contains "$stderr" "skip, popular or fail"
    run --separate-stderr rec --format xml "$u"
    [[ $status -eq 2 ]]
    run --separate-stderr rec --cold popular "$u"
    [[ $status -eq 2 ]]
    assert_contains "$stderr" "needs -c CSR"
    run --separate-stderr rec --similar -c "$F/tr.csr" "$(item_at 0)"
    [[ $status -eq 2 ]]
    run --separate-stderr rec --all "$u"
    [[ $status -eq 2 ]]
}

# ---- the answers against the reference ----

@test "recommend: TSV lines user, item, score, rank: ranks 1..k, scores non-increasing" {
    run --separate-stderr rec -c "$F/tr.csr" -k 7 "$(user_at 0)" "$(user_at 5)" "$(user_at 799)"
    [[ $status -eq 0 ]]
    assert_empty "$stderr" stderr
    assert_eq 21 "$(printf '%s\n' "$output" | wc -l)" "lines"
    printf '%s\n' "$output" | awk -F '\t' '
        NF != 4 { print "line " NR ": " NF " fields"; bad = 1 }
        $1 != u { u = $1; r = 0; prev = "" }
        { r++ }
        $4 != r { print "line " NR ": rank " $4 ", expected " r; bad = 1 }
        $3 !~ /^-?[0-9.]+(e[-+][0-9]+)?$/ { print "line " NR ": score " $3; bad = 1 }
        prev != "" && $3 + 0 > prev + 0 { print "line " NR ": score rises"; bad = 1 }
        { prev = $3 } END { exit bad }'
    assert_eq "$(user_at 0)$T$(user_at 5)$T$(user_at 799)" \
        "$(printf '%s\n' "$output" | cut -f1 | uniq | paste -sd '\t' -)" "users in input order"
}

@test "recommend: --all equals the brute force for every user, in index order, k lines each" {
    run -0 rec -c "$F/tr.csr" --all -o all.tsv
    run -0 ref check all.tsv 10
    assert_eq "800 users checked" "$output"
    # every user once, in the order of als-map --dump users, exactly 10 lines each
    assert_eq "$(cat "$F/users.txt")" "$(cut -f1 all.tsv | uniq)" "user order"
    assert_eq 8000 "$(wc -l <all.tsv)" "lines"
    assert_eq "" "$(cut -f1 all.tsv | uniq -c | awk '$1 != 10')" "users without 10 lines"
}

@test "recommend: --all gives the same bytes with -j 1, -j 2 and -j 3" {
    rec -c "$F/tr.csr" --all -j 1 >j1.tsv
    rec -c "$F/tr.csr" --all -j 2 >j2.tsv
    rec -c "$F/tr.csr" --all -j 3 --format json >j3.json
    rec -c "$F/tr.csr" --all -j 1 --format json >j1.json
    cmp j1.tsv j2.tsv
    cmp j1.json j3.json
}

@test "recommend: users as arguments and on stdin give the same bytes; repeats answered again" {
    # 300 users: blocks of 64 as in --all, and a last block of 44
    head -n 300 "$F/users.txt" >some.txt
    # shellcheck disable=SC2046
    rec -c "$F/tr.csr" -j 2 $(cat some.txt) >args.tsv
    rec -c "$F/tr.csr" -j 2 <some.txt >stdin.tsv
    cmp args.tsv stdin.tsv
    # CRLF line ends and empty lines on stdin, gzip too
    sed 's/$/\r/' some.txt | awk '{ print } NR % 50 == 0 { print "" }' | gzip >some.gz
    rec -c "$F/tr.csr" -j 2 <some.gz >gz.tsv
    cmp args.tsv gz.tsv
    # every input is answered in turn, a repeated one as often as it appears
    local u
    u=$(user_at 9)
    run -0 rec -c "$F/tr.csr" -k 2 "$u" "$(user_at 10)" "$u"
    assert_eq "$u $u $(user_at 10) $(user_at 10) $u $u" \
        "$(printf '%s\n' "$output" | cut -f1 | paste -sd ' ' -)" "users"
}

@test "recommend: one user asked alone matches the brute force as inside --all" {
    # A user's scores may differ in the last digit with the users scored beside it (the
    # manual says so); the items and their order still follow the reference.
    local n
    for n in 0 1 63 64 65 399 799; do
        user_at "$n"
    done >some.txt
    : >one.tsv
    while IFS= read -r u; do
        rec -c "$F/tr.csr" -k 20 "$u" >>one.tsv
    done <some.txt
    run -0 ref check one.tsv 20 --users some.txt
    assert_eq "7 users checked" "$output"
}

@test "recommend: --include-seen keeps the items the user has seen" {
    head -n 80 "$F/users.txt" >some.txt
    rec -c "$F/tr.csr" --include-seen -k 15 <some.txt >inc.tsv
    run -0 ref check inc.tsv 15 --users some.txt --include-seen
    assert_eq "80 users checked" "$output"
    # without a CSR nothing is known to be seen: the same answers
    rec -k 15 <some.txt >nocsr.tsv
    cmp inc.tsv nocsr.tsv
    # and some seen items do come back for user 0 (45 is the top degree: a heavy user)
    local seen
    seen=$(seen_of 0)
    cut -f2 inc.tsv | head -n 15 | grep -qFxf <(printf '%s\n' "$seen") ||
        _fail "no seen item in user 0's answer with --include-seen"
    # without --include-seen, none
    rec -c "$F/tr.csr" -k 15 "$(user_at 0)" >exc.tsv
    assert_empty "$(cut -f2 exc.tsv | grep -Fxf <(printf '%s\n' "$seen"))" "seen items"
}

@test "recommend: --exclude FILE drops those raw item IDs; the rest is the brute force" {
    # the 10 most recommended items overall, and an ID the vocabulary does not have
    rec -c "$F/tr.csr" --all | cut -f2 | sort | uniq -c | sort -k1,1nr -k2 | head -n 10 |
        awk '{ print $2 }' >excl.txt
    echo 'no-such-item' >>excl.txt
    head -n 100 "$F/users.txt" >some.txt
    run --separate-stderr rec -c "$F/tr.csr" --exclude excl.txt <some.txt
    [[ $status -eq 0 ]]
    assert_contains "$stderr" "'excl.txt': 1 item IDs not in the vocabulary, ignored"
    printf '%s\n' "$output" >out.tsv
    assert_empty "$(cut -f2 out.tsv | grep -Fxf excl.txt)" "excluded items"
    run -0 ref check out.tsv 10 --users some.txt --exclude excl.txt
    assert_eq "100 users checked" "$output"
}

@test "recommend: --only FILE keeps only those raw item IDs; the rest is the brute force" {
    awk -F '\t' '$1 % 3 == 0 { print $2 }' "$F/items.tsv" >only.txt
    head -n 100 "$F/users.txt" >some.txt
    rec -c "$F/tr.csr" --only only.txt <some.txt >out.tsv
    assert_empty "$(cut -f2 out.tsv | grep -vFxf only.txt)" "items not in --only"
    run -0 ref check out.tsv 10 --users some.txt --only only.txt
    assert_eq "100 users checked" "$output"
    # both: --exclude wins over --only
    head -n 5 only.txt >excl.txt
    rec -c "$F/tr.csr" --only only.txt --exclude excl.txt <some.txt >both.tsv
    run -0 ref check both.tsv 10 --users some.txt --only only.txt --exclude excl.txt
}

@test "recommend: -k larger than the candidates: every candidate once, no more" {
    local u
    u=$(user_at 3)
    # three items the user has not seen, with -k 10: three lines
    awk -F '\t' '{ print $2 }' "$F/items.tsv" | grep -vFxf <(seen_of 3) | head -n 3 >three.txt
    run -0 rec -c "$F/tr.csr" --only three.txt -k 10 "$u"
    assert_eq 3 "$(printf '%s\n' "$output" | wc -l)" "lines"
    assert_eq "$(sort three.txt)" "$(printf '%s\n' "$output" | cut -f2 | sort)" "items"
    assert_eq "1 2 3" "$(printf '%s\n' "$output" | cut -f4 | paste -sd ' ' -)" "ranks"
    # -k above the item count: every unseen item
    rec -c "$F/tr.csr" -k 1000 "$u" >all.tsv
    assert_eq $((100 - $(seen_of 3 | wc -l))) "$(wc -l <all.tsv)" "lines"
    printf '%s\n' "$u" >u.txt
    run -0 ref check all.tsv 1000 --users u.txt
}

@test "recommend: a user who has seen every allowed item gets no lines" {
    local u
    u=$(user_at 7)
    seen_of 7 >seen.txt
    [[ -s seen.txt ]]
    run --separate-stderr rec -c "$F/tr.csr" --only seen.txt -k 5 "$u"
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    # in JSON, the user is there with no items
    run -0 rec -c "$F/tr.csr" --only seen.txt -k 5 --format json "$u"
    assert_eq "{\"user\":\"$u\",\"items\":[]}" "$output"
    # with --include-seen they are the candidates again
    run --separate-stderr rec -c "$F/tr.csr" --only seen.txt --include-seen -k 1000 "$u"
    [[ $status -eq 0 ]]
    assert_eq "$(sort seen.txt)" "$(printf '%s\n' "$output" | cut -f2 | sort)" "items"
}

@test "recommend: --similar: cosine of the item factors, never the item itself" {
    awk -F '\t' '$1 % 7 == 0 { print $2 }' "$F/items.tsv" >q.txt
    rec --similar -k 8 <q.txt >sim.tsv
    assert_eq "$(cat q.txt)" "$(cut -f1 sim.tsv | uniq)" "queries in input order"
    assert_eq $((8 * $(wc -l <q.txt))) "$(wc -l <sim.tsv)" "lines"
    awk -F '\t' '$1 == $2 { print "itself: " $0; bad = 1 } $3 > 1 { print "above 1: " $0; bad = 1 }
                 END { exit bad }' sim.tsv
    run -0 ref similar sim.tsv 8
    # with exclusions, and an unknown item skipped (counted)
    head -n 4 q.txt >excl.txt
    run --separate-stderr rec --similar -k 5 --exclude excl.txt "$(item_at 1)" no-such-item "$(item_at 2)"
    [[ $status -eq 0 ]]
    assert_contains "$stderr" "1 skipped"
    printf '%s\n' "$output" >sim2.tsv
    run -0 ref similar sim2.tsv 5 --exclude excl.txt
    assert_eq "2 items checked" "$output"
}

@test "recommend: items with identical factors tie to the lower index, in every block" {
    # The documented order: higher score first, then the lower item index. Two items
    # rated alike by the same users get bit-identical factors and biases from Cholesky,
    # so twin-a (index 0) must come before twin-b (index 41) for every user.
    python3 "$ALS_TOP/tests/ref/recommend_ref.py" twin-csv >tie.csv
    als-map -q -H -V tv -o t.trp tie.csv
    als-csr -q -V tv -o t.csr t.trp
    als-train -q --explicit -k 16 -n 3 -o t.als t.csr
    als-train -q --export-npy npy t.als
    assert_eq "0${T}twin-a" "$(als-map --dump items -V tv | grep 'twin-a')"
    assert_eq "41${T}twin-b" "$(als-map --dump items -V tv | grep 'twin-b')"
    python3 - npy/item_factors.npy <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
d = b[10 + struct.unpack("<H", b[8:10])[0]:]
assert d[0:64] == d[41 * 64:42 * 64], "twin factors differ"
EOF
    als-recommend -m t.als -V tv --all --include-seen -k 100 >all.tsv
    run awk -F '\t' '$2 ~ /^twin-/ {
            if ($1 != u) { u = $1; first = $2; fs = $3 }
            else if (first == "twin-b") { print "user " u ": twin-b (" fs ") before twin-a (" $3 ")"; n++ }
        } END { exit n > 0 }' all.tsv
    [[ $status -eq 0 ]] || _fail "$output"
}

# ---- formats and escaping ----

@test "recommend: --format json: one object per user per line, the same answers as TSV" {
    head -n 50 "$F/users.txt" >some.txt
    rec -c "$F/tr.csr" --format json <some.txt >out.json
    rec -c "$F/tr.csr" <some.txt >out.tsv
    run -0 ref json-vs-tsv out.json out.tsv
    assert_eq "50 lines agree" "$output"
    rec -c "$F/tr.csr" --format json --explain-source <some.txt >src.json
    rec -c "$F/tr.csr" --explain-source <some.txt >src.tsv
    run -0 ref json-vs-tsv src.json src.tsv --source
    # --similar in JSON names the query "item"
    run -0 rec --similar -k 2 --format json "$(item_at 0)"
    assert_match "$output" '^\{"item":"[^"]+","items":\[\{"item":'
}

@test "recommend: IDs with tabs, newlines, quotes, backslashes, control and non-UTF-8 bytes (TSV)" {
    als-map --dump users -V "$F/wv" >wusers.tsv
    als-map --dump items -V "$F/wv" >witems.tsv
    run -0 als-recommend -m "$F/w.als" -V "$F/wv" -c "$F/w.csr" --all --include-seen -k 50 -o w.tsv
    run -0 python3 "$ALS_TOP/tests/ref/recommend_ref.py" "$F" weird-tsv w.tsv .
    # a tab inside an ID is a backslash and a t; the line keeps four fields
    run -0 grep -c '^u\\tab1	' w.tsv
    assert_eq 13 "$output"
    # a raw ID with a tab given as an argument finds the user
    run -0 als-recommend -m "$F/w.als" -V "$F/wv" --include-seen -k 2 "$(printf 'u\tab2')"
    assert_match "$(first_line "$output")" '^u\\tab2	'
}

@test "recommend: IDs with awkward bytes in JSON: valid UTF-8 JSON that round-trips" {
    run -0 als-recommend -m "$F/w.als" -V "$F/wv" --all --include-seen -k 50 --format json -o w.json
    run --separate-stderr python3 "$ALS_TOP/tests/ref/recommend_ref.py" "$F" weird-json w.json
    [[ $status -eq 0 ]] || _fail "$stderr"
}

# ---- streaming ----

@test "recommend: 100,000 users on stdin stream in constant memory (--cold skip)" {
    local tm=/usr/bin/time
    [[ -x $tm ]] && "$tm" --version 2>&1 | grep -q GNU ||
        skip "GNU /usr/bin/time is not installed: peak memory not measured"
    # every 10th line an unknown ID, the others known users over and over
    awk -v n=100000 'NR == FNR { u[c++] = $0; next }
        END { for (i = 0; i < n; i++) print (i % 10 == 9 ? "unknown-" i : u[i % c]) }' \
        "$F/users.txt" /dev/null >in100k.txt
    head -n 10000 in100k.txt >in10k.txt
    # Under AddressSanitizer (make asan), freed memory waits in a quarantine of up to
    # 256 MB that would look like growth: measure without it.
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    "$tm" -f %M -o rss10k als-recommend -m "$F/m.als" -V "$F/v" -c "$F/tr.csr" --cold skip \
        <in10k.txt >out10k.tsv 2>err10k
    "$tm" -f %M -o rss100k als-recommend -m "$F/m.als" -V "$F/v" -c "$F/tr.csr" --cold skip \
        <in100k.txt >out100k.tsv 2>err100k
    assert_eq 900000 "$(wc -l <out100k.tsv)" "lines"
    assert_contains "$(cat err100k)" "90000 answered"
    assert_contains "$(cat err100k)" "10000 skipped"
    cmp out10k.tsv <(head -n 90000 out100k.tsv)
    local a b
    a=$(tail -n 1 rss10k)
    b=$(tail -n 1 rss100k)
    echo "# peak RSS: 10,000 lines $a KB, 100,000 lines $b KB" >&3
    ((b < a * 3 / 2 + 10240)) || _fail "peak RSS grew from $a KB to $b KB for 10x the lines"
}

# ---- cold users ----

@test "recommend: --cold skip: unknown users give no lines and a count on stderr" {
    run --separate-stderr rec -c "$F/tr.csr" -k 3 nobody "$(user_at 1)" nobody-else
    [[ $status -eq 0 ]]
    assert_eq 3 "$(printf '%s\n' "$output" | wc -l)" "lines"
    assert_eq "$(user_at 1)" "$(printf '%s\n' "$output" | cut -f1 | uniq)"
    assert_contains "$stderr" "1 answered"
    assert_contains "$stderr" "2 skipped"
    # the default is skip; -q silences the count
    run --separate-stderr rec -q -k 3 nobody
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    assert_empty "$stderr" stderr
    # nothing skipped: no summary, unless -v
    run --separate-stderr rec -c "$F/tr.csr" -k 3 "$(user_at 1)"
    assert_empty "$stderr" stderr
    run --separate-stderr rec -c "$F/tr.csr" -v -k 3 "$(user_at 1)"
    assert_contains "$stderr" "1 answered (0 folded in, 0 popular), 0 skipped"
}

@test "recommend: without a history, one note that seen items are not filtered" {
    run --separate-stderr rec -k 3 "$(user_at 1)" "$(user_at 2)"
    [[ $status -eq 0 ]]
    assert_stderr "als-recommend: no history (-c ALL.CSR or --history LOG): answers may be items users already have (--include-seen or -q: no such note)"
    # the note is true: without -c, some answers are items the user has
    local u seen hits=0
    for u in 1 2 3 4 5 6 7 8; do
        seen=$(seen_of "$u")
        while IFS=$'\t' read -r _ item _; do
            grep -qxF "$item" <<<"$seen" && hits=$((hits + 1))
        done < <(rec -q -k 10 "$(user_at "$u")")
    done
    ((hits > 0)) || _fail "no seen item recommended without -c: the note would be wrong"
    run --separate-stderr rec -q -k 3 "$(user_at 1)"
    assert_empty "$stderr" stderr
    run --separate-stderr rec --include-seen -k 3 "$(user_at 1)"
    assert_empty "$stderr" stderr
    run --separate-stderr rec -c "$F/tr.csr" -k 3 "$(user_at 1)"
    assert_empty "$stderr" stderr
}

@test "recommend: an explicit model's predicted ratings are clipped to the training range" {
    # stars 1..5 from 40 users on 30 items, little regularisation: predictions overshoot
    awk 'BEGIN { srand(7); print "user,item,stars"
                 for (u = 0; u < 40; u++) for (i = 0; i < 30; i++)
                     if (rand() < 0.4) printf "u%d,i%d,%d\n", u, i, 1 + int(rand() * 5) }' >stars.csv
    als-map -q -H -V sv -o stars.trp stars.csv
    als-csr -q -V sv -o stars.csr stars.trp
    als-train -q --explicit -k 8 -n 10 -l 0.0001 -o ex.als stars.csr
    assert_eq 1 "$(als-train --info ex.als | awk -F '\t' '$1 == "rating_min" { print $2 }')"
    assert_eq 5 "$(als-train --info ex.als | awk -F '\t' '$1 == "rating_max" { print $2 }')"
    run -0 --separate-stderr als-recommend -m ex.als -V sv -c stars.csr -k 20 --all
    printf '%s\n' "$output" | awk -F '\t' '$3 < 1 || $3 > 5 { bad++ } END { exit bad > 0 }' ||
        _fail "a score outside [1, 5]"
    # some predictions pass the top: they show as 5 (and the rest below it)
    printf '%s\n' "$output" | awk -F '\t' '$3 == 5 { n++ } END { exit !(n > 0) }' ||
        _fail "no prediction reached 5: the test does not test clipping"
}

@test "recommend: a user the vocabulary gained after training is cold" {
    cp -R "$F/v" v3
    { head -n 1 "$F/log.csv"; echo "late-visitor,$(item_at 0),12.0,1767225600"; } >late.csv
    als-map -q --append -V v3 late.csv
    run --separate-stderr als-recommend -m "$F/m.als" -V v3 -c "$F/tr.csr" -k 2 late-visitor
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    assert_contains "$stderr" "1 skipped"
    run -0 als-recommend -m "$F/m.als" -V v3 -c "$F/tr.csr" -k 2 --cold popular \
        --explain-source late-visitor
    assert_eq "popular popular" "$(printf '%s\n' "$output" | cut -f5 | paste -sd ' ' -)"
    # and --all stays with the users of the model
    run -0 als-recommend -m "$F/m.als" -V v3 -c "$F/tr.csr" -k 1 --all
    assert_eq 800 "$(printf '%s\n' "$output" | wc -l)"
    assert_not_contains "$output" "late-visitor"
}

@test "recommend: --cold popular: items by training count desc, index asc (from the CSR)" {
    ref popular >pop.tsv
    run --separate-stderr rec -c "$F/tr.csr" --cold popular -k 12 nobody
    [[ $status -eq 0 ]]
    assert_eq "$(head -n 12 pop.tsv | awk -F '\t' '{ print "nobody\t" $1 "\t" $2 "\t" NR }')" \
        "$output" "popular list"
    # the counts are those of als-csr --dump
    assert_eq "$(cut -f2 "$F/seen.tsv" | sort -n | uniq -c | sort -k1,1nr -k2,2n | head -n 12 |
        awk '{ print $1 }')" "$(printf '%s\n' "$output" | cut -f3)" "counts"
    # filters apply: the most popular item excluded moves the list up by one
    head -n 1 pop.tsv | cut -f1 >excl.txt
    run -0 rec -c "$F/tr.csr" --cold popular -k 11 --exclude excl.txt nobody
    assert_eq "$(sed -n '2,12p' pop.tsv | cut -f1)" "$(printf '%s\n' "$output" | cut -f2)"
    # known users keep their model answers
    run -0 rec -c "$F/tr.csr" --cold popular --explain-source -k 2 "$(user_at 2)" nobody
    assert_eq "model model popular popular" "$(printf '%s\n' "$output" | cut -f5 | paste -sd ' ' -)"
}

@test "recommend: --cold fail: exit 1 naming the unknown user" {
    run --separate-stderr rec -c "$F/tr.csr" --cold fail "$(user_at 1)" stranger-42
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "'stranger-42'"
    assert_contains "$stderr" "--cold fail"
    # with -o, nothing is left behind
    run --separate-stderr rec -c "$F/tr.csr" --cold fail -o out.tsv "$(user_at 1)" stranger-42
    [[ $status -eq 1 ]]
    assert_file_absent out.tsv
    no_temp_files .
}

@test "recommend: an item ID given as a user (or a user ID to --similar): swapped columns?" {
    local i0 i1 u0 P="als-recommend:" N=$'\n' skip="unknown or without factors"
    local is="is an item ID, not a user ID: swapped columns?"
    i0=$(item_at 0) i1=$(item_at 1) u0=$(user_at 0)
    run --separate-stderr rec -c "$F/tr.csr" -k 2 "$(user_at 1)" "$i0" nobody
    [[ $status -eq 0 ]]
    assert_eq 2 "$(printf '%s\n' "$output" | wc -l)" "lines"
    assert_stderr "$P 1 answered (0 folded in, 0 popular), 2 skipped: $skip$N$P '$i0' $is" \
        || return 1
    # the whole item column fed as users: one hint, with the count
    cut -f2 "$F/items.tsv" >items.txt
    run --separate-stderr rec -c "$F/tr.csr" -k 2 <items.txt
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    assert_stderr "$P 0 answered (0 folded in, 0 popular), 100 skipped: $skip$N$P '$i0' and 99 \
more are item IDs, not user IDs: swapped columns?" || return 1
    # --cold fail names it; --cold popular answers it and still says so; -q is silent
    run --separate-stderr rec -k 2 --cold fail "$(user_at 1)" "$i1"
    [[ $status -eq 1 ]]
    assert_stderr "$P user '$i1' is unknown (--cold fail): '$i1' $is" || return 1
    run --separate-stderr rec -k 2 -c "$F/tr.csr" --cold popular "$i1"
    [[ $status -eq 0 ]]
    assert_eq 2 "$(printf '%s\n' "$output" | wc -l)" "lines"
    assert_stderr "$P '$i1' $is" || return 1
    run --separate-stderr rec -q -k 2 "$i1"
    assert_empty "$stderr" stderr
    # --similar with a user ID
    run --separate-stderr rec --similar -k 2 "$i0" "$u0"
    [[ $status -eq 0 ]]
    assert_eq "$i0 $i0" "$(printf '%s\n' "$output" | cut -f1 | paste -sd ' ' -)"
    assert_stderr "$P 1 answered (0 folded in, 0 popular), 1 skipped: $skip$N$P '$u0' is a \
user ID, not an item ID: swapped columns?" || return 1
    # an ID in neither vocabulary stays a plain unknown
    run --separate-stderr rec -k 2 --cold fail nobody
    assert_stderr "$P user 'nobody' is unknown or has no factors (--cold fail)"
}

# ---- sources and fold-in ----

@test "recommend: --explain-source: a last column model, popular or foldin" {
    run -0 rec -c "$F/tr.csr" --explain-source -k 2 "$(user_at 0)"
    assert_eq "model model" "$(printf '%s\n' "$output" | cut -f5 | paste -sd ' ' -)"
    printf '%s\n' "$output" | awk -F '\t' 'NF != 5 { exit 1 }'
}

@test "recommend: --history: known and brand-new users get folded-in factors" {
    local u
    u=$(user_at 0)
    { head -n 1 "$F/log.csv"
      grep "^$u," "$F/log.csv" | head -n 6
      grep "^$u," "$F/log.csv" | head -n 6 | sed "s/^$u,/brand-new-visitor,/"; } >hist.csv
    state_of "$F/v" >before
    run --separate-stderr rec -c "$F/tr.csr" --history hist.csv --explain-source -k 5 \
        "$u" brand-new-visitor "$(user_at 1)"
    [[ $status -eq 0 ]]
    printf '%s\n' "$output" >out.tsv
    assert_eq "$u foldin
brand-new-visitor foldin
$(user_at 1) model" "$(cut -f1,5 out.tsv | uniq | tr '\t' ' ')" "sources"
    # the history's items are not recommended back, nor the known user's CSR items
    cut -d, -f2 hist.csv | tail -n +2 | sort -u >hist_items.txt
    # (user 1 answers from the model: the history is not its own)
    assert_empty "$(awk -F '\t' -v o="$(user_at 1)" '$1 != o { print $2 }' out.tsv |
        grep -Fxf hist_items.txt)" "history items"
    assert_empty "$(awk -F '\t' -v u="$u" '$1 == u { print $2 }' out.tsv | grep -Fxf <(seen_of 0))" \
        "seen items"
    # the factors are the exact solve of the training system with the model's alpha and
    # lambda, against the reference in double
    local alpha lambda conf
    alpha=$(als-train --info "$F/m.als" | awk -F '\t' '$1 == "alpha" { print $2 }')
    lambda=$(als-train --info "$F/m.als" | awk -F '\t' '$1 == "lambda" { print $2 }')
    conf=$(als-train --info "$F/m.als" | awk -F '\t' '$1 == "confidence" { print $2 }')
    rec -c "$F/tr.csr" --history hist.csv --explain-source -k 30 "$u" brand-new-visitor >k30.tsv
    run -0 ref foldin hist.csv k30.tsv brand-new-visitor "$alpha" "$lambda" "$conf"
    run -0 ref foldin hist.csv k30.tsv "$u" "$alpha" "$lambda" "$conf"
    # the same history gives the same factors: equal scores for the items both got
    join -t "$T" <(awk -F '\t' -v u="$u" '$1 == u { print $2 "\t" $3 }' out.tsv | sort) \
        <(awk -F '\t' '$1 == "brand-new-visitor" { print $2 "\t" $3 }' out.tsv | sort) |
        awk -F '\t' '$2 != $3 { print "score differs: " $0; bad = 1 } END { exit bad }'
    # the vocabulary on disk is untouched
    state_of "$F/v" >after
    cmp before after
    # without --history the new visitor is unknown
    run --separate-stderr rec -c "$F/tr.csr" brand-new-visitor
    [[ $status -eq 0 ]]
    assert_empty "$output" stdout
    # --history - reads the log from stdin: the users come as arguments
    run -0 rec -c "$F/tr.csr" --history - --explain-source -k 5 "$u" brand-new-visitor <hist.csv
    assert_eq "$(head -n 10 out.tsv)" "$output"
    run --separate-stderr rec --history - <hist.csv
    [[ $status -eq 2 ]]
}

@test "recommend: --history: records with items the vocabulary lacks are counted and ignored" {
    { head -n 1 "$F/log.csv"
      echo "brand-new-visitor,$(item_at 3),100.0,1767225600"
      echo "brand-new-visitor,no-such-item,100.0,1767225600"
      echo "brand-new-visitor,$(item_at 4),50.0,1767225600"; } >hist.csv
    run --separate-stderr rec --history hist.csv --explain-source -k 3 brand-new-visitor
    [[ $status -eq 0 ]]
    assert_contains "$stderr" "--history: 1 records with items the vocabulary does not have, ignored"
    assert_eq 3 "$(printf '%s\n' "$output" | wc -l)"
    assert_eq "foldin" "$(printf '%s\n' "$output" | cut -f5 | sort -u)"
    # the two known items are seen: not recommended back
    assert_empty "$(printf '%s\n' "$output" | cut -f2 | grep -Fx -e "$(item_at 3)" -e "$(item_at 4)")"
}

@test "recommend: --history without the header line the vocabulary expects names the columns" {
    local u
    u=$(user_at 0)
    grep "^$u," "$F/log.csv" | head -n 6 >nohdr.csv
    run -2 --separate-stderr rec --history nohdr.csv -k 3 "$u"
    assert_empty "$output" stdout
    assert_stderr "als-recommend: nohdr.csv:1: no header line with the columns visitor_id, \
content_id, duration_s (the first line names none of them)" || return 1
    # from stdin too
    run -2 --separate-stderr rec --history - -k 3 "$u" <nohdr.csv
    assert_stderr "als-recommend: (stdin):1: no header line with the columns visitor_id, \
content_id, duration_s (the first line names none of them)" || return 1
    # a header with one of the names wrong is named as before
    { head -n 1 "$F/log.csv" | sed 's/content_id/content/'; cat nohdr.csv; } >typo.csv
    run -2 --separate-stderr rec --history typo.csv -k 3 "$u"
    assert_stderr "als-recommend: typo.csv:1: no column named 'content_id' in the header" \
        || return 1
    # with the header line put back, the user is folded in
    { head -n 1 "$F/log.csv"; cat nohdr.csv; } >hist.csv
    run -0 --separate-stderr rec --history hist.csv --explain-source -k 3 "$u"
    assert_eq "foldin" "$(printf '%s\n' "$output" | cut -f5 | sort -u)"
}

# ---- files that do not belong together, damaged files ----

@test "recommend: a model from a bigger vocabulary is refused, naming both files" {
    run --separate-stderr als-recommend -m "$F/m2.als" -V "$F/v" "$(user_at 0)"
    [[ $status -eq 1 ]]
    assert_empty "$output" stdout
    assert_contains "$stderr" "$F/m2.als"
    assert_contains "$stderr" "$F/v"
    assert_contains "$stderr" "not made together"
}

@test "recommend: a CSR that does not fit the vocabulary or the model is refused, naming them" {
    run --separate-stderr rec -c "$F/tr2.csr" "$(user_at 0)"
    [[ $status -eq 1 ]]
    assert_empty "$output" stdout
    assert_contains "$stderr" "$F/tr2.csr"
    assert_contains "$stderr" "$F/v"
    # a CSR with fewer items than the model
    run --separate-stderr als-recommend -m "$F/m2.als" -V "$F/v2" -c "$F/tr.csr" x
    [[ $status -eq 1 ]]
    assert_contains "$stderr" "$F/tr.csr"
    assert_contains "$stderr" "$F/m2.als"
}

@test "recommend: --verify rejects a flipped byte in the factors: checksum mismatch, exit 1" {
    # find the user factors in the model by the first 64 bytes of the exported .npy
    python3 - "$F/npy/user_factors.npy" "$F/m.als" bad.als <<'EOF'
import struct, sys
npy = open(sys.argv[1], "rb").read()
hl = struct.unpack("<H", npy[8:10])[0]
m = bytearray(open(sys.argv[2], "rb").read())
pos = m.find(npy[10 + hl:10 + hl + 64])
assert pos > 0
m[pos + 1000] ^= 0x10
open(sys.argv[3], "wb").write(m)
EOF
    run --separate-stderr als-recommend -m bad.als -V "$F/v" --verify "$(user_at 0)"
    [[ $status -eq 1 ]]
    assert_empty "$output" stdout
    assert_contains "$stderr" "bad.als"
    assert_contains "$stderr" "checksum mismatch"
    run -0 als-recommend -m "$F/m.als" -V "$F/v" -c "$F/tr.csr" --verify "$(user_at 0)"
}

# ---- output ----

@test "recommend: -o FILE writes atomically what stdout gets, no temporary files left" {
    head -n 200 "$F/users.txt" >some.txt
    mkdir d
    rec -c "$F/tr.csr" -o d/out.tsv <some.txt
    rec -c "$F/tr.csr" <some.txt >stdout.tsv
    cmp d/out.tsv stdout.tsv
    no_temp_files d
    assert_eq "out.tsv" "$(ls -A d)"
    # replacing an existing file
    rec -c "$F/tr.csr" -k 2 -o d/out.tsv "$(user_at 0)"
    assert_eq 2 "$(wc -l <d/out.tsv)"
    no_temp_files d
    # into a missing directory: exit 1, nothing created
    run --separate-stderr rec -o nodir/out.tsv "$(user_at 0)"
    [[ $status -eq 1 ]]
    assert_file_absent nodir
}

# ---- progress (ALS_PROGRESS_DELAY: see helpers.bash) ----

@test "recommend: --all --progress off a terminal shows the users answered; the answers are the same" {
    als-recommend -m "$F/m.als" -V "$F/v" -c "$F/tr.csr" --all >ref.tsv
    n=$(($(wc -l <"$F/users.txt"))) # 800: no thousands separator
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-recommend --progress -m "$F/m.als" \
        -V "$F/v" -c "$F/tr.csr" --all -o out.tsv
    assert_progress "$stderr" als-recommend "$n of $n users \(100%\), [0-9.]+ [kMGT]?/s"
    assert_eq "$stderr" "$(progress_lines "$stderr" als-recommend)" "only progress lines"
    cmp ref.tsv out.tsv
    # to standard output as well
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-recommend --progress -m "$F/m.als" \
        -V "$F/v" -c "$F/tr.csr" --all
    assert_eq "$(cat ref.tsv)" "$output" "stdout"
    # queries by ID, and --all without --progress off a terminal: no progress
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-recommend --progress -m "$F/m.als" \
        -V "$F/v" -c "$F/tr.csr" "$(head -n 1 "$F/users.txt")"
    assert_empty "$stderr" "stderr of queries by ID"
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-recommend -m "$F/m.als" -V "$F/v" \
        -c "$F/tr.csr" --all -o out2.tsv
    assert_empty "$stderr" "stderr without --progress"
    cmp ref.tsv out2.tsv
}

@test "recommend: -o naming the model, the history CSR or an item list exits 2 and changes nothing" {
    mkdir w && cd w || return 1 # away from the files of run --separate-stderr
    cp "$F/m.als" m.als
    cp "$F/tr.csr" tr.csr
    head -n 3 "$F/items.tsv" | cut -f2 >only.txt
    local u before
    u=$(head -n 1 "$F/users.txt")
    before=$(state_of .)
    run -2 --separate-stderr als-recommend -V "$F/v" -m m.als -o ./m.als "$u"
    assert_contains "$stderr" "output './m.als' is the input 'm.als'"
    run -2 --separate-stderr als-recommend -V "$F/v" -m m.als -c tr.csr -o "$PWD/tr.csr" "$u"
    assert_contains "$stderr" "is the input 'tr.csr'"
    run -2 --separate-stderr als-recommend -V "$F/v" -m m.als --only only.txt -o ./only.txt "$u"
    assert_contains "$stderr" "is the input 'only.txt'"
    assert_eq "$before" "$(state_of .)" "files after the refused runs"
    run -0 als-recommend -V "$F/v" -m m.als -o out.tsv "$u"
}

@test "recommend: a read error on the ID list, --history or --exclude exits 1 with one line, no output" {
    run -1 --separate-stderr closed_stdin rec -o out.tsv
    assert_stderr "als-recommend: read error on '(stdin)': Bad file descriptor"
    assert_file_absent out.tsv
    run -1 --separate-stderr rec -o out.tsv <.
    assert_stderr "als-recommend: read error on '(stdin)': Is a directory"
    assert_file_absent out.tsv
    run -1 --separate-stderr closed_stdin rec --similar -o out.tsv
    assert_stderr "als-recommend: read error on '(stdin)': Bad file descriptor"
    assert_file_absent out.tsv
    local u
    u=$(user_at 0)
    run -1 --separate-stderr rec -c "$F/tr.csr" --history /proc/self/mem -o out.tsv "$u"
    assert_stderr "als-recommend: read error on '/proc/self/mem': Input/output error"
    assert_file_absent out.tsv
    run -1 --separate-stderr closed_stdin rec -c "$F/tr.csr" --history - -o out.tsv "$u"
    assert_stderr "als-recommend: read error on '(stdin)': Bad file descriptor"
    assert_file_absent out.tsv
    run -1 --separate-stderr rec --exclude /proc/self/mem -o out.tsv "$u"
    assert_stderr "als-recommend: read error on '/proc/self/mem': Input/output error"
    assert_file_absent out.tsv
}

@test "recommend: --history: empty lines before the header and between records are ignored" {
    local u
    u=$(user_at 0)
    { head -n 1 "$F/log.csv"; grep "^$u," "$F/log.csv" | head -n 6; } >hist.csv
    { printf '\n\r\n'; head -n 1 hist.csv; echo; tail -n +2 hist.csv | sed 'a\
'; } >blank.csv
    assert_eq 9 "$(grep -c '^.\?$' blank.csv)" "empty lines in blank.csv"
    rec -c "$F/tr.csr" --history hist.csv --explain-source -k 5 "$u" >want.tsv
    assert_eq "foldin" "$(cut -f5 want.tsv | sort -u)"
    run -0 --separate-stderr rec -c "$F/tr.csr" --history blank.csv --explain-source -k 5 "$u"
    assert_eq "$(cat want.tsv)" "$output"
    run -0 --separate-stderr rec -c "$F/tr.csr" --history - --explain-source -k 5 "$u" <blank.csv
    assert_eq "$(cat want.tsv)" "$output"
}
