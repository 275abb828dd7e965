#!/usr/bin/env bats
# als-csr: triples to one CSR file holding R and R^T, duplicate policies, seeded splits,
# --info/--dump, and every corruption and bad input the reader and writer must refuse.
#
# The small fixture: tests/data/csr-vocab.csv makes the vocabulary
#   users a b c d -> 0 1 2 3        items x y z w -> 0 1 2 3
# and tests/data/csr-small.csv, mapped with --frozen, gives these 11 triples:
#   (0,0,1) (0,1,2) (0,0,3) (1,0,0) (1,3,4) (2,1,5) (2,3,2) (1,1,2) (2,1,-1) (1,1,-2) (2,3,6)
# Duplicates: (0,0) = 1,3  (1,1) = 2,-2  (2,1) = 5,-1  (2,3) = 2,6; (1,0) is an explicit 0;
# user d (row 3) and item z (column 2) have no interaction. Expected values by hand below.

bats_require_minimum_version 1.5.0
load helpers

setup() {
    als_setup
}

T=$'\t'

# tsv LINE...: the lines joined with newlines, with '|' standing for a tab
tsv() {
    local l out=""
    for l in "$@"; do
        out+="${l//|/$T}"$'\n'
    done
    printf '%s' "${out%$'\n'}"
}

# The vocabulary v and the small fixture's triples as text (t.tsv) and binary (t.trp).
small_fixture() {
    als-map -q -V v "$DATA/csr-vocab.csv" >/dev/null &&
        als-map -q -V v --frozen --text "$DATA/csr-small.csv" >t.tsv &&
        als-map -q -V v --frozen -o t.trp "$DATA/csr-small.csv"
}

# 150 text triples 'user item value time' of 40 users x 25 items: user u has u % 9
# interactions (so 5 users each with 0, 1, 2 and 3, and 4 users each with 4..8), distinct
# items and distinct times per user.
split_fixture() {
    awk 'BEGIN { OFS = "\t"
                 for (u = 0; u < 40; u++)
                     for (k = 0; k < u % 9; k++)
                         print u, (u * 7 + k * 3) % 25, k + 1, 1000 + (u * 13 + k * 17) % 101 }' \
        >s.tsv
}

# sec_off FILE TAG: the offset of section TAG, from the section directory
sec_off() {
    python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack_from("<I", b, 64)[0]
for k in range(n):
    tag, _, off = struct.unpack_from("<4sIQ", b, 72 + 32 * k)
    if tag == sys.argv[2].encode():
        print(off)
' "$1" "$2"
}

# patch_header FILE OFFSET HEXBYTES: overwrite header bytes and recompute the header CRC
# (CRC-32 of bytes 0-59, little-endian at offset 60), so the edit reaches the field checks.
patch_header() {
    python3 -c '
import struct, sys, zlib
p, off, data = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
b = bytearray(open(p, "rb").read())
b[off:off + len(data)] = data
struct.pack_into("<I", b, 60, zlib.crc32(bytes(b[:60])) & 0xffffffff)
open(p, "wb").write(b)
' "$1" "$2" "$3"
}

# flip_byte FILE OFFSET: xor one byte with 0x01 in place (printf + dd conv=notrunc)
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\$(printf '%03o' $((b ^ 1)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# ---------------------------------------------------------------------------------------
# Contract

@test "csr: --help on stdout exits 0, --version one line, bad option and bad --dup exit 2" {
    run -0 --separate-stderr als-csr --help
    assert_empty "$stderr" "stderr"
    assert_match "${lines[0]}" '^usage: als-csr '
    for opt in --output --vocab --dup --drop-zeros --test-fraction --leave-out --by-time \
               --test --seed --info --dump --transpose; do
        assert_contains "$output" "$opt" || return 1
    done
    run -0 als-csr --version
    assert_eq 1 "${#lines[@]}" "lines of --version"
    assert_match "$output" '^als-csr [0-9]'
    run -2 --separate-stderr als-csr --bogus
    assert_contains "$stderr" "usage: als-csr"
    run -2 --separate-stderr als-csr --dup median -o r.csr /dev/null
    assert_contains "$stderr" "'median'"
    assert_file_absent r.csr
    run -2 --separate-stderr als-csr --dump
    # --info and --dump take one file and nothing else
    run -2 --separate-stderr als-csr --info r.csr -o x.csr
    run -2 --separate-stderr als-csr --info r.csr --dup max
    run -2 --separate-stderr als-csr --dump r.csr -V v
    run -2 --separate-stderr als-csr --dump r.csr --seed 3
    run -2 --separate-stderr als-csr --info r.csr --transpose
    run -2 --separate-stderr als-csr --info r.csr --dump r.csr
    run -2 --separate-stderr als-csr --dump r.csr extra
    run -2 --separate-stderr als-csr --transpose -o x.csr t.tsv
    assert_file_absent x.csr
    run -2 --separate-stderr als-csr t.tsv
    assert_contains "$stderr" "-o"
}

# ---------------------------------------------------------------------------------------
# The small fixture, by hand

@test "csr: small fixture: --dump and --dump --transpose value for value (sum, zeros kept)" {
    small_fixture
    run -0 --separate-stderr als-csr -V v -o r.csr t.tsv
    assert_empty "$output" "stdout"
    assert_stderr "als-csr: 11 triples, 4 x 4, 7 nonzeros (4 combined)"
    run -0 --separate-stderr als-csr --dump r.csr
    assert_empty "$stderr" "stderr"
    assert_output "$(tsv '0|0|4' '0|1|2' '1|0|0' '1|1|0' '1|3|4' '2|1|4' '2|3|8')"
    # R^T: item x = (a 4, b 0), y = (a 2, b 0, c 4), z = none, w = (b 4, c 8)
    run -0 als-csr --dump r.csr --transpose
    assert_output "$(tsv '0|0|4' '0|1|0' '1|0|2' '1|1|0' '1|2|4' '3|1|4' '3|2|8')"
    run -0 als-csr --transpose --dump r.csr
    assert_output "$(tsv '0|0|4' '0|1|0' '1|0|2' '1|1|0' '1|2|4' '3|1|4' '3|2|8')"
    # -q silences the summary
    run -0 --separate-stderr als-csr -q -V v -o r2.csr t.tsv
    assert_empty "$stderr" "stderr"
    cmp r.csr r2.csr
}

@test "csr: binary and text triples, file and stdin, give the same bytes" {
    small_fixture
    als-csr -q -V v -o text.csr t.tsv
    als-csr -q -V v -o bin.csr t.trp
    als-csr -q -V v -o stdin.csr <t.trp
    als-csr -q -V v -o dash.csr - <t.tsv
    gzip -c t.tsv >t.tsv.gz
    als-csr -q -V v -o gz.csr t.tsv.gz
    cmp text.csr bin.csr
    cmp text.csr stdin.csr
    cmp text.csr dash.csr
    cmp text.csr gz.csr
}

@test "csr: dimensions from -V, else the end marker of binary triples, else max index + 1" {
    small_fixture
    als-csr -q -V v -o v.csr t.tsv
    run -0 als-csr --info v.csr
    assert_contains "$output" "rows${T}4"$'\n'"cols${T}4"$'\n'"nnz${T}7"
    # binary triples carry the vocabulary sizes in their end marker: row 3 is still there
    als-csr -q -o bin.csr t.trp
    cmp v.csr bin.csr
    # text triples have no end marker: user 3 never appears, item 3 does
    als-csr -q -o text.csr t.tsv
    run -0 als-csr --info text.csr
    assert_contains "$output" "rows${T}3"$'\n'"cols${T}4"$'\n'"nnz${T}7"
    # a stream of no records with -V is an all-empty 4 x 4 matrix
    als-map -q -V v --frozen -o none.trp /dev/null
    als-csr -q -V v -o empty.csr none.trp
    run -0 als-csr --info empty.csr
    assert_contains "$output" "rows${T}4"$'\n'"cols${T}4"$'\n'"nnz${T}0"
    assert_contains "$output" "values${T}none"
    run -0 --separate-stderr als-csr --dump empty.csr
    assert_empty "$output"
    # and so it is without -V: the end marker has the sizes
    als-csr -q -o empty2.csr none.trp
    cmp empty.csr empty2.csr
    # no bytes at all is not an empty stream but a failed producer (als-csr(1))
    run -1 --separate-stderr als-csr -V v -o nothing.csr /dev/null
    assert_stderr "als-csr: /dev/null: empty input, no triples stream"
    assert_file_absent nothing.csr
    run -1 --separate-stderr als-csr -V v -o nothing.csr </dev/null
    assert_stderr "als-csr: (stdin): empty input, no triples stream"
    assert_file_absent nothing.csr
}

@test "csr: --info on the small fixture, exact fields" {
    small_fixture
    als-csr -q -V v -o r.csr t.tsv
    run -0 --separate-stderr als-csr --info r.csr
    assert_empty "$stderr" "stderr"
    # row degrees 2 3 2 0, column degrees 2 3 0 2: sorted 0 2 2 3 both
    assert_output "$(tsv 'file|r.csr' 'format|CSR1 1.0' 'rows|4' 'cols|4' 'nnz|7' \
        'density|0.4375' \
        'row_degree|min 0|median 2|max 3|empty 1' \
        'col_degree|min 0|median 2|max 3|empty 1' \
        'values|min 0|max 8' 'checksums|ok' 'dup|sum' 'zeros|kept')"
    als-csr -q -V v --dup min --drop-zeros -o m.csr t.tsv
    run -0 als-csr --info m.csr
    # min: (0,0) 1, (0,1) 2, (1,1) -2, (1,3) 4, (2,1) -1, (2,3) 2; (1,0) = 0 dropped
    assert_contains "$output" "nnz${T}6"$'\n'"density${T}0.375"
    assert_contains "$output" "row_degree${T}min 0${T}median 2${T}max 2${T}empty 1"
    assert_contains "$output" "values${T}min -2${T}max 4"
    assert_contains "$output" "dup${T}min"$'\n'"zeros${T}dropped"
}

@test "csr: every --dup policy on the same duplicates, first/last in input order" {
    small_fixture
    local p
    declare -A want=(
        [sum]='0|0|4 0|1|2 1|0|0 1|1|0 1|3|4 2|1|4 2|3|8'
        [max]='0|0|3 0|1|2 1|0|0 1|1|2 1|3|4 2|1|5 2|3|6'
        [min]='0|0|1 0|1|2 1|0|0 1|1|-2 1|3|4 2|1|-1 2|3|2'
        [mean]='0|0|2 0|1|2 1|0|0 1|1|0 1|3|4 2|1|2 2|3|4'
        [first]='0|0|1 0|1|2 1|0|0 1|1|2 1|3|4 2|1|5 2|3|2'
        [last]='0|0|3 0|1|2 1|0|0 1|1|-2 1|3|4 2|1|-1 2|3|6'
    )
    for p in sum max min mean first last; do
        als-csr -q -V v --dup "$p" -o "$p.csr" t.tsv
        run -0 als-csr --dump "$p.csr"
        # shellcheck disable=SC2086
        assert_eq "$(tsv ${want[$p]})" "$output" "--dump after --dup $p" || return 1
        # the same policy on the binary stream gives the same file
        als-csr -q -V v --dup "$p" -o "$p-bin.csr" t.trp
        cmp "$p.csr" "$p-bin.csr" || return 1
        run -0 als-csr --info "$p.csr"
        assert_contains "$output" "dup${T}$p" || return 1
    done
    # --dup sum is the default
    als-csr -q -V v -o default.csr t.tsv
    cmp default.csr sum.csr
    # the order of the duplicates decides first/last: reversed input swaps them
    tac t.tsv >rev.tsv
    als-csr -q -V v --dup first -o rfirst.csr rev.tsv
    als-csr -q -V v --dup last -o rlast.csr rev.tsv
    run -0 als-csr --dump rfirst.csr
    assert_output "$(tsv '0|0|3' '0|1|2' '1|0|0' '1|1|-2' '1|3|4' '2|1|-1' '2|3|6')"
    run -0 als-csr --dump rlast.csr
    assert_output "$(tsv '0|0|1' '0|1|2' '1|0|0' '1|1|2' '1|3|4' '2|1|5' '2|3|2')"
}

@test "csr: explicit zeros kept by default, --drop-zeros drops them after combining" {
    small_fixture
    # sum: (1,0) is an explicit 0 and (1,1) = 2 + -2 combines to 0: both dropped
    als-csr -q -V v --drop-zeros -o sum.csr t.tsv
    run -0 als-csr --dump sum.csr
    assert_output "$(tsv '0|0|4' '0|1|2' '1|3|4' '2|1|4' '2|3|8')"
    run -0 als-csr --dump sum.csr --transpose
    assert_output "$(tsv '0|0|4' '1|0|2' '1|2|4' '3|1|4' '3|2|8')"
    # max: (1,1) = max(2, -2) = 2 stays, only the explicit zero (1,0) goes
    als-csr -q -V v --dup max --drop-zeros -o max.csr t.tsv
    run -0 als-csr --dump max.csr
    assert_output "$(tsv '0|0|3' '0|1|2' '1|1|2' '1|3|4' '2|1|5' '2|3|6')"
    # a zero record combined with a non-zero one is not dropped: 0 then 7 under sum is 7
    printf '0\t0\t0\n0\t0\t7\n0\t1\t0\n' >z.tsv
    als-csr -q --drop-zeros -o z.csr z.tsv
    run -0 als-csr --dump z.csr
    assert_output "$(tsv '0|0|7')"
    als-csr -q -o zk.csr z.tsv
    run -0 als-csr --dump zk.csr
    assert_output "$(tsv '0|0|7' '0|1|0')"
}

# ---------------------------------------------------------------------------------------
# Splits

@test "csr: split: train + test = all, disjoint, same shape, held-out count per user" {
    split_fixture
    als-csr -q -o all.csr s.tsv
    run -0 --separate-stderr als-csr --test-fraction 0.4 --seed 7 --test te.csr -o tr.csr s.tsv
    # round(0.4 n) for n = 2..8 is 1 1 2 2 2 3 3: 5 + 5 + 8 + 8 + 8 + 12 + 12 = 58
    assert_stderr "als-csr: 150 triples, 40 x 25, 150 nonzeros (0 combined); train 92, test 58"
    als-csr --dump all.csr | LC_ALL=C sort >all.txt
    als-csr --dump tr.csr >tr.txt
    als-csr --dump te.csr >te.txt
    LC_ALL=C sort tr.txt te.txt | cmp - all.txt
    assert_eq 0 "$(cut -f1,2 tr.txt te.txt | LC_ALL=C sort | uniq -d | wc -l)" "shared cells"
    assert_eq 58 "$(wc -l <te.txt)" "test entries"
    # the held-out count of each user: n = u % 9, k = round(0.4 n), never all of them
    run -0 awk -F'\t' '
        BEGIN { split("0 0 1 1 2 2 2 3 3", k, " ") }
        { held[$1]++ }
        END { for (u = 0; u < 40; u++)
                  if (held[u] + 0 != k[u % 9 + 1]) print "user", u, held[u] + 0 }
    ' te.txt
    assert_output ""
    # both halves keep the full 40 x 25 shape, and say what they are
    for f in tr.csr te.csr; do
        run -0 als-csr --info "$f"
        assert_contains "$output" "rows${T}40"$'\n'"cols${T}25" || return 1
    done
    assert_contains "$output" "split${T}test, fraction 0.4, random, seed 7"
    # R^T of each half is the transpose of its R
    for f in tr te; do
        als-csr --dump "$f.csr" --transpose | awk -F'\t' -v OFS='\t' '{ print $2, $1, $3 }' |
            LC_ALL=C sort >"$f.t.txt"
        LC_ALL=C sort "$f.txt" | cmp - "$f.t.txt" || return 1
    done
}

@test "csr: split: same seed gives identical bytes, another seed another split" {
    split_fixture
    als-csr -q --test-fraction 0.4 --seed 1 --test te1.csr -o tr1.csr s.tsv
    als-csr -q --test-fraction 0.4 --seed 1 --test te1b.csr -o tr1b.csr s.tsv
    cmp te1.csr te1b.csr
    cmp tr1.csr tr1b.csr
    # the same triples from stdin, reversed: the choice does not depend on the input order
    tac s.tsv | als-csr -q --test-fraction 0.4 --seed 1 --test te1r.csr -o tr1r.csr
    cmp te1.csr te1r.csr
    cmp tr1.csr tr1r.csr
    als-csr -q --test-fraction 0.4 --seed 2 --test te2.csr -o tr2.csr s.tsv
    run -1 cmp -s te1.csr te2.csr
    run -1 cmp -s tr1.csr tr2.csr
    # the entries differ, not just the seed written in META
    als-csr --dump te1.csr >te1.txt
    als-csr --dump te2.csr >te2.txt
    run -1 cmp -s te1.txt te2.txt
    # --seed 0 is the default
    als-csr -q --leave-out 2 --test d.csr -o dtr.csr s.tsv
    als-csr -q --leave-out 2 --seed 0 --test d0.csr -o d0tr.csr s.tsv
    cmp d.csr d0.csr
}

@test "csr: split --by-time holds out each user's latest interactions" {
    split_fixture
    als-csr -q --by-time --leave-out 2 --seed 3 --test te.csr -o tr.csr s.tsv
    als-csr --dump tr.csr >tr.txt
    als-csr --dump te.csr >te.txt
    # min(2, n - 1) per user: 5 users with n = 2 give 1, the other 25 with n >= 3 give 2
    assert_eq 55 "$(wc -l <te.txt)" "test entries"
    # every held-out time is later than every kept time of the same user
    run -0 awk -F'\t' '
        FILENAME == "s.tsv" { t[$1 "," $2] = $4; n[$1]++; next }
        FILENAME == "tr.txt" {
            x = t[$1 "," $2]; if (!($1 in kept) || x > kept[$1]) kept[$1] = x; next }
        { x = t[$1 "," $2]; held[$1]++; if (!($1 in first) || x < first[$1]) first[$1] = x }
        END {
            for (u in held)
                if (first[u] <= kept[u]) print "user", u, "held", first[u], "kept", kept[u]
            for (u in n)
                if (held[u] + 0 != (n[u] - 1 < 2 ? n[u] - 1 : 2)) print "user", u, "count", held[u]
        }' s.tsv tr.txt te.txt
    assert_output ""
    # by hand: user 3 has (21, t 1039), (24, t 1056), (2, t 1073): the last two are held out
    run -0 awk -F'\t' '$1 == 3' te.txt
    assert_output "$(tsv '3|2|3' '3|24|2')"
    # the seed does not matter when the times decide
    als-csr -q --by-time --leave-out 2 --seed 4 --test te4.csr -o tr4.csr s.tsv
    cmp <(als-csr --dump te.csr) <(als-csr --dump te4.csr)
    # --by-time with a fraction
    als-csr -q --by-time --test-fraction 0.4 --test tf.csr -o trf.csr s.tsv
    run -0 als-csr --dump tf.csr
    assert_eq 58 "${#lines[@]}" "test entries"
    # user 8: items 6 9 12 15 18 21 24 2 with times 1003 1020 1037 1054 1071 1088 1004 1021:
    # the 3 latest are items 21, 18, 15
    run -0 awk -F'\t' '$1 == 8 { print $2 }' <(als-csr --dump tf.csr)
    assert_output "$(printf '15\n18\n21')"
}

@test "csr: split --leave-out N, and a single-interaction user stays in train" {
    split_fixture
    als-csr -q --leave-out 3 --test te.csr -o tr.csr s.tsv
    als-csr --dump te.csr >te.txt
    als-csr --dump tr.csr >tr.txt
    run -0 awk -F'\t' '
        { held[$1]++ }
        END { for (u = 0; u < 40; u++) { n = u % 9; k = n < 2 ? 0 : (n - 1 < 3 ? n - 1 : 3)
                                         if (held[u] + 0 != k) print "user", u, held[u] + 0 } }
    ' te.txt
    assert_output ""
    # users 1, 10, 19, 28 and 37 have one interaction each: it is in train, not in test
    for u in 1 10 19 28 37; do
        assert_eq 1 "$(awk -F'\t' -v u=$u '$1 == u' tr.txt | wc -l)" "user $u in train" || return 1
        assert_eq 0 "$(awk -F'\t' -v u=$u '$1 == u' te.txt | wc -l)" "user $u in test" || return 1
    done
    # even --test-fraction 1 and --leave-out larger than anyone's history keep one in train
    als-csr -q --test-fraction 1 --test te1.csr -o tr1.csr s.tsv
    run -0 als-csr --info tr1.csr
    assert_contains "$output" "nnz${T}35"$'\n'   # the 35 users with n >= 1 keep one each
    assert_contains "$output" "row_degree${T}min 0${T}median 1${T}max 1${T}empty 5"
    als-csr -q --leave-out 100 --test te2.csr -o tr2.csr s.tsv
    cmp te1.csr te2.csr || cmp <(als-csr --dump te1.csr) <(als-csr --dump te2.csr)
    # a single record: train holds it, test is empty
    printf '0\t0\t5\n' >one.tsv
    als-csr -q --leave-out 1 --test t.csr -o r.csr one.tsv
    run -0 als-csr --dump r.csr
    assert_output "$(tsv '0|0|5')"
    run -0 als-csr --dump t.csr
    assert_output ""
}

@test "csr: a split that cannot write its training part leaves both files as they were" {
    als-gen-log -n 20000 -o log.csv
    als-map -q -H -V v -o t.trp log.csv
    als-csr -q --test-fraction 0.1 --seed 1 --test te.csr -o tr.csr t.trp
    cp te.csr te.old
    cp tr.csr tr.old
    local te tr lim
    te=$(stat -c %s te.csr)
    tr=$(stat -c %s tr.csr)
    # A file size limit between the two sizes (1 KiB units): the test part fits, the
    # training part cannot be written (EFBIG, SIGXFSZ ignored), as on a full disk.
    lim=$(((te + tr) / 2 / 1024))
    ((te < lim * 1024 && tr > lim * 1024)) || _fail "sizes $te and $tr do not bracket $lim KiB"
    run -1 --separate-stderr bash -c "trap '' XFSZ; ulimit -f $lim
        exec als-csr -q --test-fraction 0.1 --seed 2 --test te.csr -o tr.csr t.trp"
    assert_contains "$stderr" "tr.csr"
    cmp te.old te.csr
    cmp tr.old tr.csr
    no_temp_files .
    # Without the limit the same command replaces both.
    run -0 als-csr -q --test-fraction 0.1 --seed 2 --test te.csr -o tr.csr t.trp
    run -1 cmp -s te.old te.csr
    run -1 cmp -s tr.old tr.csr
    no_temp_files .
}

@test "csr: split usage errors exit 2 and write nothing; --by-time without times exits 1" {
    split_fixture
    run -2 --separate-stderr als-csr --test te.csr -o tr.csr s.tsv
    assert_contains "$stderr" "--test needs --test-fraction or --leave-out"
    run -2 --separate-stderr als-csr --test-fraction 0.2 -o tr.csr s.tsv
    assert_contains "$stderr" "--test"
    run -2 --separate-stderr als-csr --leave-out 1 -o tr.csr s.tsv
    run -2 --separate-stderr als-csr --by-time -o tr.csr s.tsv
    run -2 --separate-stderr als-csr --test-fraction 0.2 --leave-out 1 --test te.csr -o tr.csr s.tsv
    run -2 --separate-stderr als-csr --test-fraction 1.5 --test te.csr -o tr.csr s.tsv
    run -2 --separate-stderr als-csr --test-fraction x --test te.csr -o tr.csr s.tsv
    run -2 --separate-stderr als-csr --leave-out 0 --test te.csr -o tr.csr s.tsv
    run -2 --separate-stderr als-csr --leave-out 1 --test tr.csr -o tr.csr s.tsv
    assert_file_absent tr.csr
    assert_file_absent te.csr
    cut -f1-3 s.tsv >notime.tsv
    run -1 --separate-stderr als-csr --by-time --leave-out 1 --test te.csr -o tr.csr notime.tsv
    assert_contains "$stderr" "als-csr: --by-time needs triples with a time column"
    assert_file_absent tr.csr
    assert_file_absent te.csr
    no_temp_files .
}

@test "csr: a second operand that looks like the output (als-csr in.trp out.csr) hints -o" {
    small_fixture
    run -2 --separate-stderr als-csr t.trp out.csr
    assert_empty "$output" stdout
    assert_eq "als-csr: one TRIPLES input at most (to write 'out.csr', use -o out.csr)" \
        "$(first_line "$stderr")"
    assert_match "$(sed -n 2p <<<"$stderr")" '^usage: als-csr '
    # an existing .csr is never an input of als-csr, so it is an output too; so is a name
    # that does not exist
    als-csr -q -o old.csr t.trp
    cp old.csr before.csr
    run -2 --separate-stderr als-csr t.trp old.csr
    assert_eq "als-csr: one TRIPLES input at most (to write 'old.csr', use -o old.csr)" \
        "$(first_line "$stderr")"
    cmp before.csr old.csr
    run -2 --separate-stderr als-csr t.trp newname
    assert_eq "als-csr: one TRIPLES input at most (to write 'newname', use -o newname)" \
        "$(first_line "$stderr")"
    # two existing inputs: no hint; with -o, the old message
    run -2 --separate-stderr als-csr t.trp t.tsv
    assert_eq "als-csr: missing -o FILE" "$(first_line "$stderr")"
    run -2 --separate-stderr als-csr -o out.csr t.trp new.csr
    assert_eq "als-csr: one TRIPLES input at most (concatenate with als-map)" \
        "$(first_line "$stderr")"
    assert_file_absent out.csr
    assert_file_absent new.csr
    # as the hint says
    run -0 als-csr -q -o out.csr t.trp
    cmp old.csr out.csr
}

# ---------------------------------------------------------------------------------------
# MovieLens 100k and the pipeline

@test "csr: ml-100k: 943 x 1682, 100000 entries, R^T the transpose of R" {
    local data=$ALS_TOP/../shared/data/ml-100k/u.data.gz
    [[ -f $data ]] || skip "ml-100k not found at $data"
    als-map -q -V v -t 4 -o ml.trp "$data"
    als-csr -q -V v -o ml.csr ml.trp
    run -0 als-csr --info ml.csr
    assert_contains "$output" "rows${T}943"$'\n'"cols${T}1682"$'\n'"nnz${T}100000"$'\n'
    assert_contains "$output" "row_degree${T}min 20${T}"   # every ml-100k user rated >= 20
    assert_contains "$output" "values${T}min 1${T}max 5"$'\n'"checksums${T}ok"
    als-csr --dump ml.csr | awk -F'\t' -v OFS='\t' '{ print $2, $1, $3 }' | LC_ALL=C sort >r.txt
    als-csr --dump ml.csr --transpose | LC_ALL=C sort >t.txt
    assert_eq 100000 "$(wc -l <t.txt)" "lines of --dump --transpose"
    cmp r.txt t.txt
    # the same file straight from the gzip log through a pipe
    als-map -q -V v2 -t 4 "$data" | als-csr -q -V v2 -o ml2.csr
    cmp ml.csr ml2.csr
}

@test "csr: pipeline als-map -V v log | als-csr -V v: the vocabulary is read after the stream" {
    # v does not exist until als-map commits it at the end of the stream
    als-map -q -V v "$DATA/csr-vocab.csv" "$DATA/csr-small.csv" | als-csr -q -V v -o r.csr
    run -0 als-csr --dump r.csr
    # the vocab log adds (a,x,1) (b,y,1) (c,z,1) (d,w,1) ahead of the small log
    assert_output "$(tsv '0|0|5' '0|1|2' '1|0|0' '1|1|1' '1|3|4' '2|1|4' '2|2|1' '2|3|8' '3|3|1')"
    # appending a new user in the same run: the vocabulary grows and the shape follows it
    printf 'e,x,9\n' >more.csv
    als-map -q -V v --append more.csv | als-csr -q -V v -o r2.csr
    run -0 als-csr --info r2.csr
    assert_contains "$output" "rows${T}5"$'\n'"cols${T}4"$'\n'"nnz${T}1"
}

# ---------------------------------------------------------------------------------------
# Corrupt files

@test "csr: a flipped section byte: --dump and --info say checksum mismatch, exit 1" {
    small_fixture
    als-csr -q -V v -o r.csr t.tsv
    local off
    off=$(sec_off r.csr VALS)
    [[ $off -gt 0 ]]
    flip_byte r.csr $((off + 1))
    run -1 --separate-stderr als-csr --dump r.csr
    assert_empty "$output" "stdout"
    assert_stderr "als-csr: 'r.csr': section VALS checksum mismatch (file damaged)"
    # --info checks the checksums before anything else: nothing on stdout, the mismatch
    # on stderr, exit 1 (als-csr(1), Inspection)
    run -1 --separate-stderr als-csr --info r.csr
    assert_empty "$output" "stdout of --info"
    assert_stderr "als-csr: 'r.csr': section VALS checksum mismatch (file damaged)"
    # a flipped index or offset byte reads as damage too, not as a structure error
    als-csr -q -V v -o c.csr t.tsv
    flip_byte c.csr $(($(sec_off c.csr COLI) + 8))
    run -1 --separate-stderr als-csr --info c.csr
    assert_stderr "als-csr: 'c.csr': section COLI checksum mismatch (file damaged)"
    als-csr -q -V v -o p.csr t.tsv
    flip_byte p.csr $(($(sec_off p.csr ROWP) + 8))
    run -1 --separate-stderr als-csr --info p.csr
    assert_stderr "als-csr: 'p.csr': section ROWP checksum mismatch (file damaged)"
    run -1 --separate-stderr als-csr --dump p.csr
    assert_stderr "als-csr: 'p.csr': section ROWP checksum mismatch (file damaged)"
    # TVAL too
    als-csr -q -V v -o s.csr t.tsv
    flip_byte s.csr $(($(sec_off s.csr TVAL) + 2))
    run -1 --separate-stderr als-csr --dump s.csr --transpose
    assert_stderr "als-csr: 's.csr': section TVAL checksum mismatch (file damaged)"
}

@test "csr: flipped header or directory byte, truncated, wrong kind, future version: own messages" {
    small_fixture
    als-csr -q -V v -o good.csr t.tsv
    local size msgs=() m
    size=$(wc -c <good.csr)

    cp good.csr hdr.csr && flip_byte hdr.csr 30
    run -1 --separate-stderr als-csr --dump hdr.csr
    assert_stderr "als-csr: 'hdr.csr': header checksum mismatch (file damaged)"
    msgs+=("$stderr")

    cp good.csr dir.csr && flip_byte dir.csr 90
    run -1 --separate-stderr als-csr --dump dir.csr
    assert_stderr "als-csr: 'dir.csr': section directory checksum mismatch (file damaged)"
    msgs+=("$stderr")

    head -c $((size - 5)) good.csr >trunc.csr
    run -1 --separate-stderr als-csr --dump trunc.csr
    assert_stderr "als-csr: 'trunc.csr': truncated: header says $size bytes, file has $((size - 5))"
    msgs+=("$stderr")
    run -1 --separate-stderr als-csr --info trunc.csr
    assert_contains "$stderr" "truncated"

    head -c 40 good.csr >short.csr
    run -1 --separate-stderr als-csr --dump short.csr
    assert_stderr "als-csr: 'short.csr': not an als binary file (40 bytes, too short for a header)"

    cp good.csr kind.csr && patch_header kind.csr 4 "$(printf FAC1 | od -An -tx1 | tr -d ' ')"
    run -1 --separate-stderr als-csr --dump kind.csr
    assert_stderr "als-csr: 'kind.csr': is a FAC1 file, expected CSR1"
    msgs+=("$stderr")
    # a triples stream is a container of another kind too
    run -1 --separate-stderr als-csr --info t.trp
    assert_stderr "als-csr: 't.trp': is a TRP1 file, expected CSR1"

    cp good.csr future.csr && patch_header future.csr 8 0200
    run -1 --separate-stderr als-csr --dump future.csr
    assert_contains "$stderr" "als-csr: 'future.csr': format version 2.0"
    msgs+=("$stderr")
    run -1 --separate-stderr als-csr --info future.csr
    assert_contains "$stderr" "format version 2.0"
    # a newer minor is a compatible addition: still read
    cp good.csr minor.csr && patch_header minor.csr 10 0700
    run -0 als-csr --dump minor.csr
    assert_output "$(als-csr --dump good.csr)"

    # a must-understand flag nobody knows
    cp good.csr flag.csr && patch_header flag.csr 12 01000000
    run -1 --separate-stderr als-csr --dump flag.csr
    assert_contains "$stderr" "flag"
    msgs+=("$stderr")

    run -1 --separate-stderr als-csr --dump "$DATA/csr-small.csv"
    assert_contains "$stderr" "not an als binary file"
    msgs+=("$stderr")

    # every message its own
    assert_eq "${#msgs[@]}" "$(printf '%s\n' "${msgs[@]}" | sed 's/^[^:]*: [^:]*: //' |
        sort -u | wc -l)" "distinct messages"
}

# ---------------------------------------------------------------------------------------
# Bad input

@test "csr: an index beyond the -V dimensions names the record; exit 1, nothing written" {
    small_fixture
    printf '0\t0\t1\n1\t2\t1\n4\t0\t1\n' >big.tsv
    run -1 --separate-stderr als-csr -V v -o r.csr big.tsv
    assert_empty "$output" "stdout"
    assert_contains "$stderr" "als-csr: "
    assert_contains "$stderr" "record 3"
    assert_contains "$stderr" "(4, 0)"
    assert_contains "$stderr" "4 x 4"
    assert_file_absent r.csr
    printf '0\t4\t1\n' >bigcol.tsv
    run -1 --separate-stderr als-csr -V v -o r.csr bigcol.tsv
    assert_contains "$stderr" "record 1"
    assert_contains "$stderr" "(0, 4)"
    assert_file_absent r.csr
    no_temp_files .
}

# write_trp FILE USERS ITEMS U I V [U I V ...]: a binary TRP1 stream (no time) of the given
# records whose end marker declares USERS x ITEMS (layout in lib/triples.h)
write_trp() {
    python3 -c '
import struct, sys, zlib
a = sys.argv[1:]
path, users, items = a[0], int(a[1]), int(a[2])
recs = [(int(a[k]), int(a[k + 1]), float(a[k + 2])) for k in range(3, len(a), 3)]
h = bytearray(64)
h[0:4] = b"ALSB"; h[4:8] = b"TRP1"; struct.pack_into("<H", h, 8, 1)
struct.pack_into("<I", h, 60, zlib.crc32(bytes(h[:60])))
body = b"".join(struct.pack("<IIf", u, i, v) for u, i, v in recs)
blk = b"TBLK" + struct.pack("<III", len(recs), zlib.crc32(body), 0) + body if recs else b""
tail = struct.pack("<QQQ", len(recs), users, items)
end = b"TEND" + struct.pack("<III", 0, zlib.crc32(tail), 0) + tail
open(path, "wb").write(bytes(h) + blk + end)
' "$@"
}

@test "csr: binary triples: dimensions from the end marker; an index beyond them is an error" {
    write_trp ok.trp 3 5 0 1 2.5 2 4 1
    als-csr -q -o ok.csr ok.trp
    run -0 als-csr --info ok.csr
    assert_contains "$output" "rows${T}3"$'\n'"cols${T}5"$'\n'"nnz${T}2"
    run -0 als-csr --dump ok.csr
    assert_output "$(tsv '0|1|2.5' '2|4|1')"
    # user 3 in a stream that declares 3 users
    write_trp bad.trp 3 5 0 1 2.5 3 0 1
    run -1 --separate-stderr als-csr -o r.csr bad.trp
    assert_contains "$stderr" "als-csr: "
    assert_contains "$stderr" "bad.trp"
    assert_contains "$stderr" "end marker"
    assert_file_absent r.csr
    # -V (4 x 4) overrides the end marker (9 x 9) when the records fit it
    als-map -q -V v "$DATA/csr-vocab.csv" >/dev/null
    write_trp wide.trp 9 9 0 1 2.5 3 0 1
    als-csr -q -V v -o r.csr wide.trp
    run -0 als-csr --info r.csr
    assert_contains "$output" "rows${T}4"$'\n'"cols${T}4"$'\n'"nnz${T}2"
    run -0 als-csr --dump r.csr
    assert_output "$(tsv '0|1|2.5' '3|0|1')"
    rm r.csr
    write_trp wide2.trp 9 9 0 1 2.5 3 6 1
    run -1 --separate-stderr als-csr -V v -o r.csr wide2.trp
    assert_contains "$stderr" "record 2"
    assert_contains "$stderr" "(3, 6)"
    assert_file_absent r.csr
    # a NaN value in a binary stream
    write_trp nan.trp 3 5 0 1 nan
    run -1 --separate-stderr als-csr -o r2.csr nan.trp
    assert_contains "$stderr" "record 1"
    assert_contains "$stderr" "not finite"
    assert_file_absent r2.csr
    # an end marker that declares no users and no items cannot come with records either
    write_trp zero.trp 0 0 3 4 1
    run -1 --separate-stderr als-csr -o r3.csr zero.trp
    assert_contains "$stderr" "zero.trp"
    assert_file_absent r3.csr
}

@test "csr: NaN, inf and malformed text triples are data errors with file and line" {
    printf '0\t0\t1\n1\t1\tnan\n' >nan.tsv
    run -1 --separate-stderr als-csr -o r.csr nan.tsv
    assert_contains "$stderr" "als-csr: nan.tsv:2: "
    assert_contains "$stderr" "nan"
    assert_file_absent r.csr
    printf '0\t0\tinf\n' >inf.tsv
    run -1 --separate-stderr als-csr -o r.csr - <inf.tsv
    assert_contains "$stderr" "(stdin):1: "
    printf '0\t0\n' >two.tsv
    run -1 --separate-stderr als-csr -o r.csr two.tsv
    assert_contains "$stderr" "two.tsv:1: "
    printf '0\t-1\t3\n' >neg.tsv
    run -1 --separate-stderr als-csr -o r.csr neg.tsv
    assert_contains "$stderr" "neg.tsv:1: "
    # some lines with a time and some without
    printf '0\t0\t1\t100\n0\t1\t1\n' >mixed.tsv
    run -1 --separate-stderr als-csr -o r.csr mixed.tsv
    assert_contains "$stderr" "record 2"
    assert_file_absent r.csr
    no_temp_files .
    # the first record had a time: the message must not say it did not
    assert_not_contains "$stderr" "lacks a time column, the first did not"
}

@test "csr: a truncated binary triples stream is an error mentioning 'truncated'" {
    small_fixture
    local size n
    size=$(wc -c <t.trp)
    for n in 30 64 100 $((size - 1)); do
        head -c "$n" t.trp >cut.trp
        run -1 --separate-stderr als-csr -V v -o r.csr cut.trp
        assert_contains "$stderr" "truncated" || return 1
        assert_file_absent r.csr || return 1
        # and through a pipe
        run -1 --separate-stderr bash -c "head -c $n t.trp | als-csr -V v -o r.csr"
        assert_contains "$stderr" "truncated" || return 1
    done
    # a flipped record byte is a block checksum error
    cp t.trp bad.trp && flip_byte bad.trp 90
    run -1 --separate-stderr als-csr -V v -o r.csr bad.trp
    assert_contains "$stderr" "checksum mismatch"
    assert_file_absent r.csr
}

@test "csr: -o a symlink to a directory names the directory the link resolves to" {
    # The message used to be formatted from the resolved name after it was freed.
    small_fixture
    mkdir adir && ln -s adir link
    run -1 --separate-stderr als-csr -V v -o link t.tsv
    assert_stderr "als-csr: cannot write 'link': a link to the directory 'adir'"
    assert_eq "" "$(ls -A adir)" "files left in adir/"
    [[ -L link ]]
    no_temp_files .
}

@test "csr: an unwritable output leaves nothing behind; a failing run keeps the old file" {
    small_fixture
    run -1 --separate-stderr als-csr -V v -o nodir/r.csr t.tsv
    assert_contains "$stderr" "als-csr: cannot create 'nodir/r.csr': No such file or directory"
    assert_file_absent nodir
    touch plain
    run -1 --separate-stderr als-csr -V v -o plain/r.csr t.tsv
    assert_contains "$stderr" "plain/r.csr"
    # a read-only directory (meaningless as root, who may write anyway)
    mkdir ro && chmod 555 ro
    if [[ ! -w ro ]]; then
        run -1 --separate-stderr als-csr -V v -o ro/r.csr t.tsv
        assert_contains "$stderr" "ro/r.csr"
        assert_eq "" "$(ls -A ro)" "files left in ro/"
    fi
    chmod 755 ro
    # a split whose test or train output cannot be created writes neither
    run -1 --separate-stderr als-csr -V v --leave-out 1 --test nodir/te.csr -o tr.csr t.tsv
    assert_file_absent tr.csr
    run -1 --separate-stderr als-csr -V v --leave-out 1 --test te.csr -o nodir/tr.csr t.tsv
    assert_file_absent te.csr
    no_temp_files .

    # a failing run (bad input) keeps the previous output byte for byte
    als-csr -q -V v -o r.csr t.tsv
    cp r.csr r.old
    printf '0\t0\tnan\n' >nan.tsv
    run -1 als-csr -V v -o r.csr nan.tsv
    cmp r.csr r.old
    printf '9\t0\t1\n' >big.tsv
    run -1 als-csr -V v -o r.csr big.tsv
    cmp r.csr r.old
    head -c 100 t.trp >cut.trp
    run -1 als-csr -V v -o r.csr cut.trp
    cmp r.csr r.old
    # and a failing split keeps both previous files
    als-csr -q -V v --leave-out 1 --test te.csr -o tr.csr t.tsv
    cp te.csr te.old && cp tr.csr tr.old
    run -1 als-csr -V v --leave-out 1 --by-time --test te.csr -o tr.csr t.tsv
    run -1 als-csr -V v --leave-out 1 --test te.csr -o tr.csr big.tsv
    cmp te.csr te.old
    cmp tr.csr tr.old
    no_temp_files .
}

# ---- progress (ALS_PROGRESS_DELAY: see helpers.bash) ----

@test "csr: --progress off a terminal shows the triples read, the records sorted and the users split" {
    split_fixture
    als-csr -q -o ref.csr --test ref-te.csr --leave-out 1 s.tsv
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-csr --progress -o a.csr --test a-te.csr \
        --leave-out 1 s.tsv
    assert_progress "$stderr" als-csr "1.9 kB of 1.9 kB \(100%\), [0-9.]+ [kMGT]?B/s"
    assert_progress "$stderr" als-csr "150 of 150 records sorted \(100%\), [0-9.]+ [kMGT]?/s"
    assert_progress "$stderr" als-csr "40 of 40 users split \(100%\), [0-9.]+ [kMGT]?/s"
    assert_eq "als-csr: 150 triples, 40 x 25, 150 nonzeros (0 combined); train 120, test 30" \
        "$(printf '%s\n' "$stderr" | tail -n 1)" "the summary, last"
    cmp ref.csr a.csr
    cmp ref-te.csr a-te.csr
    # from a pipe: records, without a total
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-csr --progress -o b.csr < <(cat s.tsv)
    assert_progress "$stderr" als-csr "150 records, [0-9.]+ [kMGT]?/s"
}

@test "csr: no progress off a terminal without --progress, and -q with it leaves only the progress" {
    small_fixture
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-csr -o a.csr t.trp
    assert_stderr "als-csr: 11 triples, 4 x 4, 7 nonzeros (4 combined)"
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-csr -q --progress -o b.csr t.trp
    assert_progress "$stderr" als-csr "11 of 11 records sorted \(100%\), .*"
    assert_eq "$stderr" "$(progress_lines "$stderr" als-csr)" "only progress lines"
    cmp a.csr b.csr
}

# Duplicates by meaning (issue 11): what the values are is decided by als-map's first build
# and kept in the vocabulary; als-csr -V combines repeated pairs by it unless --dup says.
@test "csr: repeated star ratings keep the latest, repeated durations and events add up" {
    printf 'u1,m1,5\nu1,m1,5\nu1,m2,2\nu2,m1,4.5\nu1,m2,4\n' >stars.csv
    run -0 --separate-stderr als-map -v -V s -o s.trp stars.csv
    assert_contains "$stderr" "values are ratings in 's'"
    assert_eq 'values ratings' "$(grep '^values ' s/map.conf)"
    run -0 --separate-stderr als-csr -v -V s -o s.csr s.trp
    assert_contains "$stderr" "combined by --dup last (the vocabulary's values are ratings)"
    run -0 als-csr --dump s.csr
    assert_eq "$(tsv '0|0|5' '0|1|4' '1|0|4.5')" "$output" "two 5-star reviews stay a 5"
    run -0 als-csr --info s.csr
    assert_contains "$output" "dup${T}last"
    # --dup overrides the vocabulary
    als-csr -q -V s --dup mean -o m.csr s.trp
    assert_eq "$(tsv '0|0|5' '0|1|3' '1|0|4.5')" "$(als-csr --dump m.csr)" "--dup mean"

    printf 'u1,m1,300\nu1,m1,12\nu2,m1,40\n' >secs.csv
    als-map -q -V d -o d.trp secs.csv
    assert_eq 'values counts' "$(grep '^values ' d/map.conf)"
    als-csr -q -V d -o d.csr d.trp
    assert_eq "$(tsv '0|0|312' '1|0|40')" "$(als-csr --dump d.csr)" "seconds add up"

    printf 'u1,m1\nu1,m1\nu1,m2\n' >views.csv
    als-map -q -V e -o e.trp views.csv
    assert_eq 'values events' "$(grep '^values ' e/map.conf)"
    als-csr -q -V e -o e.csr e.trp
    assert_eq "$(tsv '0|0|2' '0|1|1')" "$(als-csr --dump e.csr)" "views are counted"
    # without a vocabulary nothing says what the values are: they add up, as before
    als-csr -q -o n.csr s.trp
    assert_eq "$(tsv '0|0|10' '0|1|6' '1|0|4.5')" "$(als-csr --dump n.csr)" "no -V: sum"
}

@test "map: --values is kept by --append nights and a contradicting one is an error (exit 2)" {
    # night 1 has play counts that happen to look like stars; the user says they are counts
    printf 'u1,a1,3\nu1,a2,1\n' >n1.csv
    als-map -q -V v --values counts -o /dev/null n1.csv
    assert_eq 'values counts' "$(grep '^values ' v/map.conf)"
    # night 2's values, on their own, would read as ratings: the directory decides
    printf 'u1,a1,2\nu2,a1,4\n' >n2.csv
    als-map -q -V v --append -o all.trp n1.csv n2.csv
    assert_eq 'values counts' "$(grep '^values ' v/map.conf)"
    als-csr -q -V v -o all.csr all.trp
    assert_eq "$(tsv '0|0|5' '0|1|1' '1|0|4')" "$(als-csr --dump all.csr)"
    cp v/map.conf before.conf
    run -2 --separate-stderr als-map -V v --append --values ratings -o x.trp n2.csv
    assert_contains "$stderr" "--values ratings contradicts the vocabulary 'v', whose values are counts"
    cmp before.conf v/map.conf
    assert_file_absent x.trp
    run -2 --separate-stderr als-map -V w --values stars -o x.trp n2.csv
    assert_contains "$stderr" "values"
}

@test "csr: -o and --test naming one file (./, a symlink, a hard link) exit 2 and change nothing" {
    mkdir w && cd w || return 1 # away from the files of run --separate-stderr
    als-gen-log -n 2000 -o log.csv
    als-map -q -H -V v -o t.trp log.csv
    # Absent, under two spellings.
    run -2 --separate-stderr als-csr -q --test-fraction 0.2 -o same.csr --test ./same.csr t.trp
    assert_contains "$stderr" "'same.csr' and './same.csr' are the same file"
    assert_file_absent same.csr
    # Existing: a dangling link, then the same name twice, a link to it, a hard link.
    ln -s later.csr dangling.csr
    run -2 --separate-stderr als-csr -q --test-fraction 0.2 -o later.csr --test dangling.csr t.trp
    assert_file_absent later.csr
    als-csr -q -o same.csr t.trp
    ln -s same.csr link.csr
    ln same.csr hard.csr
    local other before
    before=$(state_of .)
    for other in ./same.csr "$PWD/same.csr" link.csr hard.csr; do
        run -2 --separate-stderr als-csr -q --test-fraction 0.2 -o same.csr --test "$other" t.trp
        assert_contains "$stderr" "are the same file" || return 1
        run -2 --separate-stderr als-csr -q --test-fraction 0.2 -o "$other" --test same.csr t.trp
        assert_contains "$stderr" "are the same file" || return 1
    done
    assert_eq "$before" "$(state_of .)" "files after the refused splits"
    # The input is not an output either.
    cp t.trp t2.trp
    before=$(state_of .)
    run -2 --separate-stderr als-csr -q -o ./t2.trp t2.trp
    assert_contains "$stderr" "output './t2.trp' is the input 't2.trp'"
    assert_eq "$before" "$(state_of .)" "files after the refused runs"
    # Two different files are fine.
    run -0 als-csr -q --test-fraction 0.2 -o tr.csr --test te.csr t.trp
}

@test "csr: temporaries that killed runs left are removed by the next split, a locked one is kept" {
    als-gen-log -n 2000 -o log.csv
    als-map -q -H -V v -o t.trp log.csv
    # What kill -9 leaves: temporaries nobody holds a lock on. And one a live writer holds.
    printf half >tr.csr.als-tmp.dead01
    printf half >te.csr.als-tmp.dead02
    printf busy >tr.csr.als-tmp.live03
    printf mine >tr.csr.old
    mkfifo hold
    flock -x tr.csr.als-tmp.live03 cat hold >/dev/null &
    local holder=$!
    exec 5>hold # open once cat runs, so once flock holds the lock
    run -0 als-csr -q --test-fraction 0.2 --test te.csr -o tr.csr t.trp
    assert_file_absent tr.csr.als-tmp.dead01
    assert_file_absent te.csr.als-tmp.dead02
    assert_eq busy "$(cat tr.csr.als-tmp.live03)" "the live writer's temporary"
    assert_eq mine "$(cat tr.csr.old)" "a file of the user's"
    exec 5>&-
    wait "$holder"
    run -0 als-csr -q -o tr.csr t.trp
    assert_file_absent tr.csr.als-tmp.live03
    assert_eq mine "$(cat tr.csr.old)" "a file of the user's"
}

@test "csr: a read error on the triples (stdin closed, a directory, EIO) exits 1 with one line, no output" {
    run -1 --separate-stderr closed_stdin als-csr -o out.csr
    assert_stderr "als-csr: read error on '(stdin)': Bad file descriptor"
    assert_file_absent out.csr
    run -1 --separate-stderr als-csr -o out.csr --test te.csr --test-fraction 0.5 <.
    assert_stderr "als-csr: read error on '(stdin)': Is a directory"
    assert_file_absent out.csr
    assert_file_absent te.csr
    run -1 --separate-stderr als-csr -o out.csr /proc/self/mem
    assert_stderr "als-csr: read error on '/proc/self/mem': Input/output error"
    assert_file_absent out.csr
}

@test "csr: -o through a dangling symlink writes its target and keeps the link" {
    printf '0\t0\t1\n1\t1\t2\n' >t.tsv
    als-csr -q -o want.csr t.tsv
    mkdir sub
    ln -s sub/out.csr link
    run -0 --separate-stderr als-csr -q -o link t.tsv
    [[ -L link ]]
    [[ -f sub/out.csr && ! -L sub/out.csr ]]
    cmp want.csr sub/out.csr
    no_temp_files .
    no_temp_files sub
    # a link to a directory and a loop of links are errors; nothing is created
    ln -s sub dirlink
    run -1 --separate-stderr als-csr -q -o dirlink t.tsv
    assert_stderr "als-csr: cannot write 'dirlink': a link to the directory 'sub'"
    ln -s loop2 loop1
    ln -s loop1 loop2
    run -1 --separate-stderr als-csr -q -o loop1 t.tsv
    assert_stderr "als-csr: cannot write 'loop1': Too many levels of symbolic links"
    assert_eq "out.csr" "$(ls sub)" "sub"
    no_temp_files .
}

@test "csr: a NUL byte in text triples is said as a NUL, with file and line" {
    printf '0\t0\t1\n1\t1\t2\0007\n' >v.tsv
    run -1 --separate-stderr als-csr -o out.csr v.tsv
    assert_stderr "als-csr: v.tsv:2: NUL byte in the value field"
    assert_file_absent out.csr
    printf '0\t0\t1\n\n1\000\t1\t2\n' >u.tsv
    run -1 --separate-stderr als-csr -o out.csr u.tsv
    assert_stderr "als-csr: u.tsv:3: NUL byte in the user field"
    printf '0\t0\000\t1\n' >i.tsv
    run -1 --separate-stderr als-csr -o out.csr <i.tsv
    assert_stderr "als-csr: (stdin):1: NUL byte in the item field"
    printf '0\t0\t1\t17000\000\n' >t.tsv
    run -1 --separate-stderr als-csr -o out.csr t.tsv
    assert_stderr "als-csr: t.tsv:1: NUL byte in the time field"
    assert_file_absent out.csr
}

@test "csr: --test-fraction or --leave-out given twice: the last wins; the two together exit 2" {
    awk 'BEGIN { for (u = 0; u < 6; u++) for (i = 0; i < 8; i++) printf "%d\t%d\t%d\n", u, i, i + 1 }' >s.tsv
    als-csr -q --test-fraction 0.5 --test te.csr -o tr.csr s.tsv
    run -0 --separate-stderr als-csr -q --test-fraction 0.25 --test-fraction 0.5 --test te2.csr \
        -o tr2.csr s.tsv
    cmp te.csr te2.csr
    cmp tr.csr tr2.csr
    # the last one counts: 0.5 then 0.25 is not 0.5
    als-csr -q --test-fraction 0.5 --test-fraction 0.25 --test te3.csr -o tr3.csr s.tsv
    run -1 cmp -s te.csr te3.csr
    als-csr -q --leave-out 3 --test lte.csr -o ltr.csr s.tsv
    run -0 --separate-stderr als-csr -q --leave-out 1 --leave-out 3 --test lte2.csr -o ltr2.csr s.tsv
    cmp lte.csr lte2.csr
    run -2 --separate-stderr als-csr -q --test-fraction 0.5 --leave-out 3 --test x.csr -o y.csr s.tsv
    assert_eq "als-csr: --test-fraction and --leave-out exclude each other" \
        "$(head -n 1 <<<"$stderr")" "first line"
    assert_file_absent x.csr
    assert_file_absent y.csr
}

# Issue 14: under an address-space limit, OpenBLAS (when linked) fails to start its thread
# pool at load time and hung even --version. als-map and als-csr link no BLAS.
@test "map and csr: a pipeline under ulimit -v 150000 (150 MB) runs, --version included" {
    if ldd "$(command -v als-map)" | grep -q libasan; then
        skip "AddressSanitizer reserves terabytes of address space: no ulimit -v under ASan"
    fi
    als-gen-log -n 20000 --seed 3 -o log.csv
    run -0 --separate-stderr bash -c 'ulimit -v 150000 && timeout 60 als-map --version &&
        timeout 60 als-map -q -H -V v -o t.trp log.csv &&
        timeout 60 als-csr -q -V v -o tr.csr --test te.csr --test-fraction 0.2 t.trp'
    assert_empty "$stderr"
    assert_contains "$output" "als-map "
    assert_file_exists tr.csr
    assert_file_exists te.csr
}
