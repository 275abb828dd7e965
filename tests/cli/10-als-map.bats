#!/usr/bin/env bats
# als-map: raw logs to dense-index triples and the vocabulary directory.
# Expected values are derived by hand from tiny fixtures (tests/data/map-*) and inline logs.

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

# expect_bad_record NAME LINE MESSAGE_PART: the log in file NAME fails at LINE, both into an
# absent vocabulary and with --append into an existing one: exit 1, 'als-map: NAME:LINE: '
# and MESSAGE_PART on stderr, no output file left, the directory exactly as it was.
expect_bad_record() {
    local name=$1 line=$2 part=$3 before
    run -1 --separate-stderr als-map -V v -o out.trp "$name"
    assert_contains "$stderr" "als-map: $name:$line: " || return 1
    assert_contains "$stderr" "$part" || return 1
    assert_empty "$output" "stdout"
    no_output_files || return 1
    assert_file_absent v || return 1

    als-map -q -V v -o base.trp "$DATA/map-basic.csv"
    before=$(state_of v)
    run -1 --separate-stderr als-map -V v --append -o out.trp "$name"
    assert_contains "$stderr" "als-map: $name:$line: " || return 1
    assert_contains "$stderr" "$part" || return 1
    no_output_files || return 1
    assert_eq "$before" "$(state_of v)" "vocabulary directory after the failed --append" ||
        return 1
    rm -rf v base.trp
}

# ---------------------------------------------------------------------------------------
# Dense indices, text output, dump, summary

@test "map: dense indices in first-seen order, --text lines and the summary" {
    run -0 --separate-stderr als-map -V v --text "$DATA/map-basic.csv"
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
    assert_stderr "als-map: 4 records read, 4 written, 0 skipped; users 3 new, 3 total; items 3 new, 3 total"
}

@test "map: --dump users|items prints index<TAB>raw_id" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    run -0 --separate-stderr als-map --dump users -V v
    assert_output "$(tsv '0|alice' '1|bob' '2|carol')"
    assert_empty "$stderr" "stderr"
    run -0 als-map --dump items -V v
    assert_output "$(tsv '0|i1' '1|i2' '2|i3')"
    run -0 als-map --dump=items --vocab v
    assert_output "$(tsv '0|i1' '1|i2' '2|i3')"
}

@test "map: --dump errors: bad WHICH, input files, absent DIR, no -V" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    run -2 --separate-stderr als-map --dump ratings -V v
    assert_contains "$stderr" "ratings"
    assert_empty "$output"
    run -2 --separate-stderr als-map --dump users -V v "$DATA/map-basic.csv"
    run -1 --separate-stderr als-map --dump users -V nonexistent
    assert_contains "$stderr" "nonexistent"
    assert_empty "$output"
    run -2 --separate-stderr als-map --dump users
}

@test "map: -q silences the summary, --quiet too; errors still print" {
    run -0 --separate-stderr als-map -q -V v --text "$DATA/map-basic.csv"
    assert_empty "$stderr" "stderr"
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
    run -0 --separate-stderr als-map --quiet -V v2 --text "$DATA/map-basic.csv"
    assert_empty "$stderr" "stderr"
    printf 'a,b,1\nc,d,x\n' >bad.csv
    run -1 --separate-stderr als-map -q -V v3 --text bad.csv
    assert_contains "$stderr" "als-map: bad.csv:2: rating 'x' is not a number"
}

@test "map: -V is required" {
    run -2 --separate-stderr als-map --text "$DATA/map-basic.csv"
    assert_contains "$stderr" "-V"
    assert_empty "$output"
}

# ---------------------------------------------------------------------------------------
# Columns

@test "map: columns by number -u -i -r -t and long options" {
    printf 'x,u1,y,i1,7,100\nx,u2,y,i1,8,200\nx,u1,y,i2,9,300\n' >c.csv
    run -0 als-map -q -V v --text -u 2 -i 4 -r 5 -t 6 c.csv
    assert_output "$(tsv '0|0|7|100' '1|0|8|200' '0|1|9|300')"
    run -0 als-map -q -V v2 --text --user 4 --item 2 --rating 6 --time 5 c.csv
    assert_output "$(tsv '0|0|100|7' '0|1|200|8' '1|0|300|9')"
}

@test "map: columns by header name with -H, and names imply a header" {
    run -0 als-map -q -V v --text -u user_id -i movie -r stars -t ts "$DATA/map-header.tsv"
    assert_output "$(tsv '0|0|4|1767225600' '1|0|2.5|1767225601' '0|1|3|1767225602')"
    run -0 als-map --dump users -V v
    assert_output "$(tsv '0|u9' '1|u8')"
    # -H with numbers: the header line is not a record
    run -0 --separate-stderr als-map -V v2 --text -H -t 4 "$DATA/map-header.tsv"
    assert_output "$(tsv '0|0|4|1767225600' '1|0|2.5|1767225601' '0|1|3|1767225602')"
    assert_contains "$stderr" "3 records read, 3 written"
    # names and numbers mixed, columns swapped
    run -0 als-map -q -V v3 --text -u movie -i 1 -r stars "$DATA/map-header.tsv"
    assert_output "$(tsv '0|0|4' '0|1|2.5' '1|0|3')"
}

@test "map: a header line without -H is a data error that hints at -H" {
    run -1 --separate-stderr als-map -V v --text "$DATA/map-header.tsv"
    assert_contains "$stderr" "als-map: $DATA/map-header.tsv:1: rating 'stars' is not a number"
    assert_contains "$stderr" "-H"
    assert_file_absent v
}

@test "map: -r none gives value 1; the default rating column is 3 if present, else none" {
    run -0 als-map -q -V v --text -r none "$DATA/map-basic.csv"
    assert_output "$(tsv '0|0|1' '1|1|1' '0|2|1' '2|0|1')"
    printf 'u1,i1\nu2,i1\nu1,i2\n' >two.csv
    run -0 als-map -q -V v2 --text two.csv
    assert_output "$(tsv '0|0|1' '1|0|1' '0|1|1')"
    run -0 grep -x 'rating-column "none"' v2/map.conf
    run -0 als-map -q -V v3 --text "$DATA/map-basic.csv"
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
}

@test "map: a missing named column exits 2 naming it; DIR is not created" {
    run -2 --separate-stderr als-map -V v --text -u user_id -i nosuchcol "$DATA/map-header.tsv"
    assert_contains "$stderr" "'nosuchcol'"
    assert_empty "$output"
    assert_file_absent v
    run -2 --separate-stderr als-map -V v --text -t when "$DATA/map-header.tsv"
    assert_contains "$stderr" "'when'"
    assert_file_absent v
}

@test "map: -H 0 headers and other column usage errors exit 2" {
    run -2 --separate-stderr als-map -V v --text -u 0 "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V v --text -u '' "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V v --text -u 1 -i 1 "$DATA/map-basic.csv"
    assert_file_absent v
}

# ---------------------------------------------------------------------------------------
# Delimiters

@test "map: delimiters tab, comma, semicolon, pipe and '::' are detected" {
    local d name want
    want=$(tsv '0|0|5' '1|1|3' '0|0|2')
    for d in $'\t' , ';' '|' '::'; do
        printf 'u1%si1%s5\nu2%si2%s3\nu1%si1%s2\n' "$d" "$d" "$d" "$d" "$d" "$d" >in.txt
        run -0 als-map -q -V "v$RANDOM" --text in.txt
        assert_eq "$want" "$output" "output for delimiter '$d'" || return 1
    done
}

@test "map: MovieLens-1M style '::' with a time column; the delimiter is remembered" {
    run -0 als-map -q -V v --text -t 4 "$DATA/map-ml1m.dat"
    assert_output "$(tsv '0|0|5|978300760' '0|1|3|978302109' '1|0|4|978298413')"
    run -0 grep -x 'delimiter "::"' v/map.conf
    run -0 als-map --dump items -V v
    assert_output "$(tsv '0|1193' '1|661')"
}

@test "map: -F names tab, comma, semicolon, pipe, space and literal delimiters" {
    local name d want
    want=$(tsv '0|0|5' '1|1|3')
    for name in tab comma semicolon pipe space; do
        case $name in
            tab) d=$'\t' ;; comma) d=, ;; semicolon) d=';' ;; pipe) d='|' ;; space) d=' ' ;;
        esac
        printf 'u1%si1%s5\nu2%si2%s3\n' "$d" "$d" "$d" "$d" >in.txt
        run -0 als-map -q -V "v-$name" --text -F "$name" in.txt
        assert_eq "$want" "$output" "output for -F $name" || return 1
    done
    printf 'u1::i1::5\nu2::i2::3\n' >in.txt
    run -0 als-map -q -V v-colons --text -F '::' in.txt
    assert_output "$want"
    printf 'u1~>i1~>5\nu2~>i2~>3\n' >in.txt
    run -0 als-map -q -V v-arrow --text --delimiter '~>' in.txt
    assert_output "$want"
    # a given delimiter wins over detection: commas are then part of the IDs
    printf 'a,b;i1;5\n' >in.txt
    run -0 als-map -q -V v-semi --text -F ';' in.txt
    assert_output "$(tsv '0|0|5')"
    run -0 als-map --dump users -V v-semi
    assert_output "$(tsv '0|a,b')"
}

@test "map: -F '\\t' is a tab; a literal delimiter may have 8 bytes" {
    printf 'u1\ti1\t5\n' >in.txt
    run -0 als-map -q -V v --text -F '\t' in.txt
    assert_output "$(tsv '0|0|5')"
    printf 'u1<<<<>>>>i1<<<<>>>>5\n' >in8.txt
    run -0 als-map -q -V v8 --text -F '<<<<>>>>' in8.txt
    assert_output "$(tsv '0|0|5')"
}

@test "map: delimiter detection: the most frequent wins, ties go to tab, comma, ..., '::'" {
    printf 'a;b,c;d,e;x\n' >semi.txt
    run -0 als-map -q -V v1 -r none --text semi.txt
    run -0 als-map --dump users -V v1
    assert_output "$(tsv '0|a')"
    printf 'a,b;c\n' >tie.txt
    run -0 als-map -q -V v2 -r none --text tie.txt
    run -0 als-map --dump users -V v2
    assert_output "$(tsv '0|a')"
    run -0 als-map --dump items -V v2
    assert_output "$(tsv '0|b;c')"
    printf 'a|b\tc\n' >tie2.txt
    run -0 als-map -q -V v3 -r none --text tie2.txt
    run -0 als-map --dump users -V v3
    assert_output "0${T}a|b"
    # delimiters inside quotes do not count
    printf '"a,b,c";d;e\n' >q.txt
    run -0 als-map -q -V v4 --text -r none q.txt
    run -0 als-map --dump users -V v4
    assert_output "$(tsv '0|a,b,c')"
}

@test "map: an invalid -F or an undetectable delimiter is an error" {
    run -2 --separate-stderr als-map -V v --text -F '' "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V v --text -F '"' "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V v --text -F '123456789' "$DATA/map-basic.csv"
    assert_file_absent v
    printf 'justoneword\n' >one.txt
    run -1 --separate-stderr als-map -V v --text one.txt
    assert_contains "$stderr" "one.txt:1:"
    assert_contains "$stderr" "-F"
    assert_file_absent v
}

@test "map: RFC 4180 quotes: embedded delimiter, \"\" escape, newline inside a field" {
    run -0 --separate-stderr als-map -V v --text -H "$DATA/map-quoted.csv"
    assert_output "$(tsv '0|0|4' '1|1|2' '0|2|3')"
    assert_contains "$stderr" "3 records read, 3 written, 0 skipped"
    run -0 als-map --dump users -V v
    assert_output "$(tsv '0|smith, j' '1|plain')"
    run -0 als-map --dump items -V v
    assert_output "$(tsv '0|the "best" item' '1|multi\nline' '2|plain')"
}

@test "map: a CR LF inside quotes is kept as one LF; a quote inside an unquoted field is data" {
    printf 'u,i,r\r\n"a\r\nb",x,1\r\nab"c,y"z,2\r\n' >q.csv
    run -0 als-map -q -V v --text -H q.csv
    assert_output "$(tsv '0|0|1' '1|1|2')"
    run -0 als-map --dump users -V v
    assert_output "$(tsv '0|a\nb' '1|ab"c')"
    run -0 als-map --dump items -V v
    assert_output "$(tsv '0|x' '1|y"z')"
}

@test "map: an error in a record that spans lines names its first line" {
    printf 'a,x,1\n"b\nc",y,bad\n' >q.csv
    run -1 --separate-stderr als-map -V v --text q.csv
    assert_contains "$stderr" "als-map: q.csv:2: rating 'bad'"
}

@test "map: empty lines are ignored but counted; the last line may lack its newline" {
    printf 'a,x,1\n\n\r\nb,y,2\n\nc,z,oops' >e.csv
    run -1 --separate-stderr als-map -V v --text e.csv
    assert_contains "$stderr" "als-map: e.csv:6: rating 'oops'"
    printf 'a,x,1\n\nb,y,2' >e2.csv
    run -0 --separate-stderr als-map -V v --text e2.csv
    assert_output "$(tsv '0|0|1' '1|1|2')"
    assert_contains "$stderr" "2 records read, 2 written"
}

@test "map: errors in standard input are reported as (stdin)" {
    printf 'a,x,1\nb,y,bad\n' | {
        run -1 --separate-stderr als-map -V v --text
        assert_contains "$stderr" "als-map: (stdin):2: rating 'bad'"
    }
    printf 'a,x,1\nb,y,bad\n' | {
        run -1 --separate-stderr als-map -V v --text -
        assert_contains "$stderr" "als-map: (stdin):2: rating 'bad'"
    }
}

@test "map: line numbers after a quoted newline count physical lines" {
    printf 'u,i,r\n"a","x\ny",1\nb,c,oops\n' >q.csv
    run -1 --separate-stderr als-map -V v --text -H q.csv
    assert_contains "$stderr" "als-map: q.csv:4: rating 'oops' is not a number"
}

@test "map: CRLF line ends" {
    printf 'user,item,r\r\nu1,i1,5\r\nu2,i1,3\r\n' >crlf.csv
    run -0 als-map -q -V v --text -u user -i item -r r crlf.csv
    assert_output "$(tsv '0|0|5' '1|0|3')"
    run -0 als-map --dump items -V v
    assert_output "$(tsv '0|i1')"
    printf 'u1,i1\r\nu2,i2\r\n' >crlf2.csv
    run -0 als-map -q -V v2 --text crlf2.csv
    assert_output "$(tsv '0|0|1' '1|1|1')"
    run -0 als-map --dump items -V v2
    assert_output "$(tsv '0|i1' '1|i2')"
}

@test "map: a UTF-8 BOM on the first line is ignored; the header name still matches" {
    printf '\xef\xbb\xbfuser,item,r\nu1,i1,2\n' >bom.csv
    run -0 als-map -q -V v --text -u user -i item -r r bom.csv
    assert_output "$(tsv '0|0|2')"
    printf '\xef\xbb\xbfu1,i1,2\n' >bom2.csv
    run -0 als-map -q -V v2 --text bom2.csv
    run -0 als-map --dump users -V v2
    assert_output "$(tsv '0|u1')"
    # every file of a run may start with one
    printf '\xef\xbb\xbfuser,item,r\nu2,i1,3\n' >bom3.csv
    run -0 als-map -q -V v3 --text -u user -i item -r r bom.csv bom3.csv
    assert_output "$(tsv '0|0|2' '1|0|3')"
}

# ---------------------------------------------------------------------------------------
# IDs are opaque bytes

@test "map: 20-digit IDs above 2^64 stay distinct" {
    printf '73786976294838206464,i,1\n73786976294838206465,i,1\n18446744073709551616,i,1\n073786976294838206464,i,1\n73786976294838206464,i,1\n' >big.csv
    run -0 als-map -q -V v --text big.csv
    assert_output "$(tsv '0|0|1' '1|0|1' '2|0|1' '3|0|1' '0|0|1')"
    run -0 als-map --dump users -V v
    assert_output "$(tsv '0|73786976294838206464' '1|73786976294838206465' '2|18446744073709551616' '3|073786976294838206464')"
}

@test "map: UUIDs and IDs with spaces are kept byte for byte" {
    printf '%s\n' \
        'john smith,3f2504e0-4f89-11d3-9a0c-0305e82c3301,1' \
        'john  smith,3F2504E0-4F89-11D3-9A0C-0305E82C3301,1' \
        ' john smith,3f2504e0-4f89-11d3-9a0c-0305e82c3301,1' \
        'é ü,x y ,1' >ids.csv
    run -0 als-map -q -V v --text ids.csv
    assert_output "$(tsv '0|0|1' '1|1|1' '2|0|1' '3|2|1')"
    run -0 als-map --dump users -V v
    assert_output "$(tsv '0|john smith' '1|john  smith' '2| john smith' '3|é ü')"
    run -0 als-map --dump items -V v
    assert_output "$(tsv '0|3f2504e0-4f89-11d3-9a0c-0305e82c3301' '1|3F2504E0-4F89-11D3-9A0C-0305E82C3301' '2|x y ')"
}

@test "map: IDs that are not UTF-8 (latin-1 bytes) are kept byte for byte" {
    printf 'Mis\xe9rables,i,1\nMis\xc3\xa9rables,i,1\n' >l1.csv
    run -0 als-map -q -V v --text l1.csv
    assert_output "$(tsv '0|0|1' '1|0|1')"
    als-map --dump users -V v >got
    printf '0\tMis\xe9rables\n1\tMis\xc3\xa9rables\n' >want
    cmp got want
}

@test "map: --dump escapes tab, backslash and newline in IDs" {
    printf '"a\tb",i1,1\nc\\d,i2,1\n"e\nf",i3,1\n' >esc.csv
    run -0 als-map -q -V v --text -F comma esc.csv
    assert_output "$(tsv '0|0|1' '1|1|1' '2|2|1')"
    run -0 als-map --dump users -V v
    assert_output "0${T}a\\tb"$'\n'"1${T}c\\\\d"$'\n'"2${T}e\\nf"
}

# ---------------------------------------------------------------------------------------
# Ratings

@test "map: ratings: ints, floats, exponents, negative, signs and spaces" {
    printf '%s\n' u,a,3 u,b,2.5 u,c,1e2 u,d,2.5E-1 u,e,-1 u,f,-0.5 u,g,+4 u,h,0 u,i,.5 \
        u,j,1e-3 'u,k, 7 ' u,l,1E+2 u,m,4. >r.csv
    run -0 als-map -q -V v --text r.csv
    assert_output "$(tsv '0|0|3' '0|1|2.5' '0|2|100' '0|3|0.25' '0|4|-1' '0|5|-0.5' '0|6|4' \
        '0|7|0' '0|8|0.5' '0|9|0.001' '0|10|7' '0|11|100' '0|12|4')"
}

@test "map: --levels maps labels to 1..n in order" {
    run -0 als-map -q -V v --text --levels hate,dislike,neutral,like,love "$DATA/map-levels.csv"
    assert_output "$(tsv '0|0|1' '0|1|5' '1|0|3' '2|2|4' '1|2|2')"
    run -0 grep -c '^level ' v/map.conf
    assert_output 5
    run -0 grep -x 'level "hate"' v/map.conf
}

@test "map: a label not in --levels is an error naming value, file and line" {
    printf 'u1,a,like\nu2,b,meh\n' >lv.csv
    run -1 --separate-stderr als-map -V v --text --levels hate,dislike,neutral,like,love lv.csv
    assert_contains "$stderr" "als-map: lv.csv:2: rating 'meh'"
    assert_empty "$output" "stdout"
    assert_file_absent v
}

@test "map: bad --levels lists exit 2" {
    run -2 --separate-stderr als-map -V v --text --levels a,,b "$DATA/map-levels.csv"
    run -2 --separate-stderr als-map -V v --text --levels a,b,a "$DATA/map-levels.csv"
    assert_contains "$stderr" "'a'"
    run -2 --separate-stderr als-map -V v --text --levels '' "$DATA/map-levels.csv"
}

@test "map: a non-numeric rating without --levels: 'FILE:LINE: rating 'x' is not a number', exit 1" {
    printf 'u1,i1,4\nu2,i2,4\nu3,i1,x\n' >nn.csv
    run -1 --separate-stderr als-map -V v --text nn.csv
    assert_contains "$stderr" "als-map: nn.csv:3: rating 'x' is not a number"
    assert_empty "$output" "stdout"
    assert_file_absent v
}

# ---------------------------------------------------------------------------------------
# Transforms

@test "map: --transform log1p" {
    printf 'u,a,0\nu,b,1\nu,c,3\n' >t.csv
    run -0 als-map -q -V v --text --transform log1p t.csv
    run -0 awk -F'\t' '{ printf "%s %s %.6f\n", $1, $2, $3 }' <<<"$output"
    assert_output "$(printf '0 0 0.000000\n0 1 0.693147\n0 2 1.386294')"
    run -0 grep -x 'transform "log1p"' v/map.conf
}

@test "map: --transform minmax fits min->0 max->1 and stores the bounds" {
    printf 'u,a,2\nu,b,4\nu,c,6\nw,a,3\n' >t.csv
    run -0 als-map -q -V v --text --transform minmax t.csv
    assert_output "$(tsv '0|0|0' '0|1|0.5' '0|2|1' '1|0|0.25')"
    run -0 grep -x 'transform "minmax:2:6"' v/map.conf
}

@test "map: minmax bounds are reused by --append: values outside map outside [0,1]" {
    printf 'u,a,2\nu,b,6\n' >t.csv
    als-map -q -V v --text --transform minmax t.csv >/dev/null
    printf 'u,c,10\nx,a,0\nx,b,4\n' >t2.csv
    run -0 als-map -q -V v --append --text t2.csv
    assert_output "$(tsv '0|2|2' '1|0|-0.5' '1|1|0.5')"
    run -0 grep -x 'transform "minmax:2:6"' v/map.conf
    # the same chain given again agrees with the stored, fitted one
    run -0 als-map -q -V v --append --text --transform minmax t2.csv
    assert_output "$(tsv '0|2|2' '1|0|-0.5' '1|1|0.5')"
}

@test "map: minmax:LO:HI given directly; a constant column maps to 1" {
    printf 'u,a,5\nu,b,0\nu,c,12.5\n' >t.csv
    run -0 als-map -q -V v --text --transform minmax:0:10 t.csv
    assert_output "$(tsv '0|0|0.5' '0|1|0' '0|2|1.25')"
    run -0 grep -x 'transform "minmax:0:10"' v/map.conf
    printf 'u,a,3\nu,b,3\n' >c.csv
    run -0 als-map -q -V w --text --transform minmax c.csv
    assert_output "$(tsv '0|0|1' '0|1|1')"
}

@test "map: too many transforms or levels exit 2" {
    local chain levels i
    chain=scale:1
    for i in $(seq 16); do chain+=,scale:1; done
    run -2 --separate-stderr als-map -V v --text --transform "$chain" "$DATA/map-basic.csv"
    run -0 --separate-stderr als-map -q -V v --text --transform "${chain#scale:1,}" \
        "$DATA/map-basic.csv"
    levels=l0
    for i in $(seq 256); do levels+=,l$i; done
    run -2 --separate-stderr als-map -V w --text --levels "$levels" "$DATA/map-levels.csv"
    assert_file_absent w
}

@test "map: --transform clip:LO:HI, scale:X, binary" {
    printf 'u,a,0\nu,b,2.5\nu,c,9\nu,d,-3\n' >t.csv
    run -0 als-map -q -V v1 --text --transform clip:1:4 t.csv
    assert_output "$(tsv '0|0|1' '0|1|2.5' '0|2|4' '0|3|1')"
    run -0 als-map -q -V v2 --text --transform scale:2 t.csv
    assert_output "$(tsv '0|0|0' '0|1|5' '0|2|18' '0|3|-6')"
    run -0 als-map -q -V v3 --text --transform binary t.csv
    assert_output "$(tsv '0|0|0' '0|1|1' '0|2|1' '0|3|0')"
    run -0 grep -x 'transform "clip:1:4"' v1/map.conf
    run -0 grep -x 'transform "scale:2"' v2/map.conf
    run -0 grep -x 'transform "binary"' v3/map.conf
}

@test "map: transform chains apply in order (log1p,minmax; scale then clip)" {
    printf 'u,a,0\nu,b,1\nu,c,3\n' >t.csv
    run -0 als-map -q -V v --text --transform log1p,minmax t.csv
    assert_output "$(tsv '0|0|0' '0|1|0.5' '0|2|1')"
    run -0 grep -c '^transform "log1p,minmax:0:1\.386294361' v/map.conf
    assert_output 1
    run -0 als-map -q -V v2 --text --transform scale:2,clip:0:3 t.csv
    assert_output "$(tsv '0|0|0' '0|1|2' '0|2|3')"
    run -0 als-map -q -V v3 --text --transform clip:0:3,scale:2 t.csv
    assert_output "$(tsv '0|0|0' '0|1|2' '0|2|6')"
}

@test "map: an invalid --transform exits 2" {
    local t
    for t in bogus log1p:3 clip:4:1 clip:1 scale scale:x minmax:1 minmax:3:1 scale:inf \
        ',binary' 'log1p,,binary' LOG1P; do
        run -2 --separate-stderr als-map -V v --text --transform "$t" "$DATA/map-basic.csv"
        assert_empty "$output" "stdout for --transform '$t'" || return 1
        assert_contains "$stderr" "transform" || return 1
        assert_file_absent v || return 1
    done
}

@test "map: an empty --transform list or an empty element in it exits 2" {
    local t
    for t in '' 'log1p,' ','; do
        run --separate-stderr als-map -V v --text --transform "$t" "$DATA/map-basic.csv"
        ((status == 2)) || _fail "--transform '$t': exit $status, expected 2" || return 1
        assert_file_absent v || return 1
    done
}

@test "map: a rating that a transform makes infinite is an error with the line" {
    printf 'u,a,1\nu,b,-1\n' >t.csv
    run -1 --separate-stderr als-map -V v --text --transform log1p t.csv
    assert_contains "$stderr" "als-map: t.csv:2: "
    assert_file_absent v
}

# ---------------------------------------------------------------------------------------
# Time column

@test "map: time column: epoch seconds and ISO 8601 with Z and offsets" {
    printf '%s\n' \
        u,a,1,1767225600 \
        u,a,1,2026-01-01T00:00:00Z \
        u,a,1,2026-01-01T02:00:00+02:00 \
        u,a,1,2025-12-31T22:30:00-01:30 \
        u,a,1,2026-01-01T00:00:00+0000 \
        u,a,1,2026-01-01 \
        u,a,1,'2026-01-01 00:00:01Z' \
        u,a,1,2026-01-01T00:00:02.750Z \
        u,a,1,0 \
        u,a,1,1970-01-01T00:00:00Z \
        u,a,1,978300760 \
        u,a,1,1767225600.9 >t.csv
    run -0 als-map -q -V v --text -t 4 t.csv
    assert_output "$(tsv '0|0|1|1767225600' '0|0|1|1767225600' '0|0|1|1767225600' \
        '0|0|1|1767225600' '0|0|1|1767225600' '0|0|1|1767225600' '0|0|1|1767225601' \
        '0|0|1|1767225602' '0|0|1|0' '0|0|1|0' '0|0|1|978300760' '0|0|1|1767225600')"
    run -0 grep -x 'time-column "4"' v/map.conf
}

@test "map: times: 24:00, a leap second, a comma fraction, blanks, 8 digits are epoch seconds" {
    printf '%s\n' \
        'u,a,1,2025-12-31T24:00:00Z' \
        'u,a,1,2025-12-31T23:59:60Z' \
        'u,a,1,2026-01-01T00:00:00,9Z' \
        'u,a,1, 1767225600 ' \
        'u,a,1,20240102' \
        'u,a,1,-1.5' \
        'u,a,1,2024-02-29T12:00' >t.csv
    run -0 als-map -q -V v --text -t 4 t.csv
    assert_output "$(tsv '0|0|1|1767225600' '0|0|1|1767225600' '0|0|1|1767225600' \
        '0|0|1|1767225600' '0|0|1|20240102' '0|0|1|-2' '0|0|1|1709208000')"
}

@test "map: a bad time is an error with file and line" {
    local t
    for t in yesterday 2026-13-01T00:00:00Z 2026-02-30 2025-02-29 12:00 \
        2026-01-01T00:00:00+25:00 2026-01-01T24:01 1e9 ''; do
        printf 'u,a,1,1767225600\nu,b,1,%s\n' "$t" >t.csv
        run -1 --separate-stderr als-map -V v --text -t 4 t.csv
        assert_contains "$stderr" "als-map: t.csv:2: " || return 1
        assert_contains "$stderr" "time" || return 1
        assert_file_absent v || return 1
    done
}

# ---------------------------------------------------------------------------------------
# Vocabulary directory modes

@test "map: DIR is created when absent and used when empty" {
    mkdir parent
    run -0 als-map -q -V parent/new --text "$DATA/map-basic.csv"
    assert_file_exists parent/new/map.conf
    mkdir empty
    run -0 als-map -q -V empty --text "$DATA/map-basic.csv"
    assert_file_exists empty/map.conf
    run -0 als-map --dump users -V empty
    assert_output "$(tsv '0|alice' '1|bob' '2|carol')"
}

@test "map: an existing vocabulary needs a mode: exit 2 naming --append, --frozen, --force" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    local before
    before=$(state_of v)
    run -2 --separate-stderr als-map -V v --text "$DATA/map-basic.csv"
    assert_contains "$stderr" "--append"
    assert_contains "$stderr" "--frozen"
    assert_contains "$stderr" "--force"
    assert_empty "$output" "stdout"
    assert_eq "$before" "$(state_of v)" "DIR"
}

@test "map: the modes exclude each other" {
    run -2 --separate-stderr als-map -V v --append --frozen --text "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V v --force --append --text "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V v --frozen --force --text "$DATA/map-basic.csv"
    assert_file_absent v
}

@test "map: --append keeps every old index and adds new IDs at the end" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    local old_users old_items
    old_users=$(als-map --dump users -V v)
    old_items=$(als-map --dump items -V v)
    printf 'dave,i9,2\nbob,i1,4\nerin,i2,1\n' >more.csv
    run -0 --separate-stderr als-map -V v --append --text more.csv
    assert_output "$(tsv '3|3|2' '1|0|4' '4|1|1')"
    assert_stderr "als-map: 3 records read, 3 written, 0 skipped; users 2 new, 5 total; items 1 new, 4 total"
    run -0 als-map --dump users -V v
    assert_eq "$old_users" "${output:0:${#old_users}}" "old dump as prefix of the new"
    assert_output "$old_users"$'\n'"$(tsv '3|dave' '4|erin')"
    run -0 als-map --dump items -V v
    assert_output "$old_items"$'\n'"$(tsv '3|i9')"
}

@test "map: --append on an absent DIR creates it" {
    run -0 als-map -q -V v --append --text "$DATA/map-basic.csv"
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
    run -0 als-map --dump users -V v
    assert_output "$(tsv '0|alice' '1|bob' '2|carol')"
}

@test "map: --frozen changes nothing in DIR; unseen IDs are skipped and counted" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    local before
    before=$(state_of v)
    printf 'bob,i3,2\nzed,i1,5\nalice,i77,1\ncarol,i2,4\nzed,i77,3\n' >f.csv
    run -0 --separate-stderr als-map -V v --frozen --text f.csv
    assert_output "$(tsv '1|2|2' '2|1|4')"
    assert_contains "$stderr" "5 records read, 2 written, 3 skipped"
    assert_contains "$stderr" "unseen IDs: 2 users, 2 items"
    assert_contains "$stderr" "users 0 new, 3 total; items 0 new, 3 total"
    assert_eq "$before" "$(state_of v)" "DIR after --frozen"
    run -0 als-map -V v --frozen -q -o out.trp f.csv
    assert_eq "$before" "$(state_of v)" "DIR after --frozen -o"
}

@test "map: --frozen on an absent DIR or an empty DIR is an error" {
    run -1 --separate-stderr als-map -V v --frozen --text "$DATA/map-basic.csv"
    assert_contains "$stderr" "'v'"
    assert_file_absent v
    mkdir e
    run -1 --separate-stderr als-map -V e --frozen --text "$DATA/map-basic.csv"
    assert_eq "" "$(ls -A e)" "the empty DIR"
}

@test "map: --frozen --strict: an unseen ID exits 1 naming it and the line" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    local before
    before=$(state_of v)
    printf 'bob,i3,2\ncarol,i2,4\nzed,i1,5\n' >f.csv
    run -1 --separate-stderr als-map -V v --frozen --strict -o out.trp f.csv
    assert_contains "$stderr" "als-map: f.csv:3: "
    assert_contains "$stderr" "'zed'"
    no_output_files
    printf 'bob,i3,2\ncarol,nope,4\n' >g.csv
    run -1 --separate-stderr als-map -V v --frozen --strict --text g.csv
    assert_contains "$stderr" "als-map: g.csv:2: "
    assert_contains "$stderr" "'nope'"
    assert_eq "$before" "$(state_of v)" "DIR"
}

@test "map: --frozen --strict: an item ID in the user column hints at swapped columns" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    printf 'bob,i3,2\ni2,carol,4\n' >f.csv
    run -1 --separate-stderr als-map -V v --frozen --strict -o out.trp f.csv
    assert_empty "$output" stdout
    assert_stderr "als-map: f.csv:2: unknown user 'i2' (--frozen --strict): 'i2' is an item ID, \
not a user ID: swapped columns?" || return 1
    no_output_files
    printf 'bob,i3,2\nbob,alice,4\n' >g.csv
    run -1 --separate-stderr als-map -V v --frozen --strict --text g.csv
    assert_stderr "als-map: g.csv:2: unknown item 'alice' (--frozen --strict): 'alice' is a \
user ID, not an item ID: swapped columns?" || return 1
    # an ID that is in neither vocabulary gets no hint; known IDs map as before
    printf 'bob,i3,2\nzed,i1,5\n' >h.csv
    run -1 --separate-stderr als-map -V v --frozen --strict --text h.csv
    assert_stderr "als-map: h.csv:2: unknown user 'zed' (--frozen --strict)" || return 1
    printf 'bob,i3,2\ncarol,i1,5\n' >k.csv
    run -0 --separate-stderr als-map -q -V v --frozen --strict --text k.csv
    assert_output "$(printf '1\t2\t2\n2\t0\t5')"
}

@test "map: --strict without --frozen exits 2" {
    run -2 --separate-stderr als-map -V v --strict --text "$DATA/map-basic.csv"
    assert_contains "$stderr" "--frozen"
    assert_file_absent v
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    run -2 --separate-stderr als-map -V v --append --strict --text "$DATA/map-basic.csv"
}

@test "map: --force rebuilds: indices restart in the new first-seen order" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    printf 'carol,i3,1\nzed,i1,2\n' >n.csv
    run -0 --separate-stderr als-map -V v --force --text n.csv
    assert_output "$(tsv '0|0|1' '1|1|2')"
    assert_contains "$stderr" "users 2 new, 2 total; items 2 new, 2 total"
    run -0 als-map --dump users -V v
    assert_output "$(tsv '0|carol' '1|zed')"
    run -0 als-map --dump items -V v
    assert_output "$(tsv '0|i3' '1|i1')"
    # only the current generation is left
    run -0 bash -c 'ls v | grep -c "\.vocab$"'
    assert_output 2
}

@test "map: --force also forgets the stored format and transforms" {
    als-map -q -V v --text -t 4 --transform scale:10 "$DATA/map-ml1m.dat" >/dev/null
    run -0 als-map -q -V v --force --text "$DATA/map-basic.csv"
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
    run -1 grep -q '^transform' v/map.conf
    run -1 grep -q '^time-column' v/map.conf
}

@test "map: a non-empty directory that is not a vocabulary is refused and left untouched" {
    mkdir notvocab
    echo precious >notvocab/file.txt
    local before
    before=$(state_of notvocab)
    run -2 --separate-stderr als-map -V notvocab --text "$DATA/map-basic.csv"
    assert_contains "$stderr" "notvocab"
    assert_empty "$output" "stdout"
    assert_eq "$before" "$(state_of notvocab)" "the directory"
    local mode
    for mode in --append --force --frozen; do
        run --separate-stderr als-map -V notvocab $mode --text "$DATA/map-basic.csv"
        ((status == 2)) || _fail "$mode on a foreign directory: exit $status, expected 2" ||
            return 1
        assert_eq "$before" "$(state_of notvocab)" "the directory after $mode" || return 1
    done
    echo x >afile
    run -2 --separate-stderr als-map -V afile --text "$DATA/map-basic.csv"
    assert_eq x "$(cat afile)"
}

@test "map: DIR remembers header names and time column: --append with no column options" {
    als-map -q -V v --text -u user_id -i movie -r stars -t ts "$DATA/map-header.tsv" >/dev/null
    # same format, columns in another order: found again by name
    tsv 'ts|stars|movie|user_id' '1767225700|5|m3|u7' '1767225701|1|m1|u9' >more.tsv
    printf '\n' >>more.tsv
    run -0 als-map -q -V v --append --text more.tsv
    assert_output "$(tsv '2|2|5|1767225700' '0|0|1|1767225701')"
}

@test "map: DIR remembers the '::' delimiter and the time column" {
    als-map -q -V v --text -t 4 "$DATA/map-ml1m.dat" >/dev/null
    printf '3::661::2::978300000\n' >more.dat
    run -0 als-map -q -V v --append --text more.dat
    assert_output "$(tsv '2|1|2|978300000')"
    # an explicit option overrides the stored one
    printf '1,42,1,978300001\n' >more.csv
    run -0 als-map -q -V v --append --text -F comma more.csv
    assert_output "$(tsv '0|2|1|978300001')"
    run -0 als-map --dump items -V v
    assert_output "$(tsv '0|1193' '1|661' '2|42')"
    # ... and, with --append, stored for the next run
    run -0 grep -x 'delimiter ","' v/map.conf
    printf '2,661,4,978300002\n' >next.csv
    run -0 als-map -q -V v --append --text next.csv
    assert_output "$(tsv '1|1|4|978300002')"
}

@test "map: -t none drops a stored time column; --no-header overrides a stored -H" {
    als-map -q -V v --text -H -t 4 "$DATA/map-header.tsv" >/dev/null
    tsv 'u9|m1|5|1767225700' >more.tsv
    printf '\n' >>more.tsv
    run -0 als-map -q -V v --append --text --no-header -t none more.tsv
    assert_output "$(tsv '0|0|5')"
    run -0 grep -x 'header no' v/map.conf
    # both are remembered: the next run reads a headerless log without a time column
    run -0 als-map -q -V v --append --text more.tsv
    assert_output "$(tsv '0|0|5')"
    # a name without a header line is a usage error
    run -2 --separate-stderr als-map -V w --text --no-header -u user_id "$DATA/map-header.tsv"
    assert_file_absent w
    run -2 --separate-stderr als-map -V w --text -H --no-header "$DATA/map-header.tsv"
}

@test "map: -v prints the settled format of the log" {
    run -0 --separate-stderr als-map -v -V v --text -t 4 "$DATA/map-ml1m.dat"
    assert_contains "$stderr" "delimiter"
    assert_contains "$stderr" "::"
    run -0 --separate-stderr als-map -q -V w --text -t 4 "$DATA/map-ml1m.dat"
    assert_empty "$stderr"
}

@test "map: DIR remembers --levels and --transform" {
    als-map -q -V v --text --levels hate,dislike,neutral,like,love "$DATA/map-levels.csv" \
        >/dev/null
    printf 'u9,a,love\nu9,z,hate\n' >more.csv
    run -0 als-map -q -V v --append --text more.csv
    assert_output "$(tsv '3|0|5' '3|3|1')"
    run -0 als-map -q -V v --append --text --levels hate,dislike,neutral,like,love more.csv
    assert_output "$(tsv '3|0|5' '3|3|1')"
    als-map -q -V w --text --transform scale:2 "$DATA/map-basic.csv" >/dev/null
    run -0 als-map -q -V w --append --text "$DATA/map-basic.csv"
    assert_output "$(tsv '0|0|10' '1|1|6' '0|2|8' '2|0|2')"
}

@test "map: contradicting --levels, --transform or -r none exits 2 and leaves DIR as it was" {
    als-map -q -V v --text --levels hate,dislike,neutral,like,love "$DATA/map-levels.csv" \
        >/dev/null
    local before
    before=$(state_of v)
    run -2 --separate-stderr als-map -V v --append --text --levels bad,good "$DATA/map-levels.csv"
    assert_contains "$stderr" "--levels"
    run -2 --separate-stderr als-map -V v --append --text --levels love,like,neutral,dislike,hate \
        "$DATA/map-levels.csv"
    run -2 --separate-stderr als-map -V v --frozen --text --transform log1p "$DATA/map-levels.csv"
    assert_contains "$stderr" "log1p"
    run -2 --separate-stderr als-map -V v --append --text -r none "$DATA/map-levels.csv"
    assert_contains "$stderr" "none"
    assert_eq "$before" "$(state_of v)" "DIR"

    als-map -q -V w --text --transform scale:2 "$DATA/map-basic.csv" >/dev/null
    before=$(state_of w)
    run -2 --separate-stderr als-map -V w --append --text --transform scale:3 "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V w --append --text --transform scale:2,log1p \
        "$DATA/map-basic.csv"
    assert_eq "$before" "$(state_of w)" "DIR w"

    als-map -q -V n --text -r none "$DATA/map-basic.csv" >/dev/null
    before=$(state_of n)
    run -2 --separate-stderr als-map -V n --append --text -r 3 "$DATA/map-basic.csv"
    assert_eq "$before" "$(state_of n)" "DIR n"
}

@test "map: two writers on one DIR: the second is refused while the first runs" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    mkfifo fifo
    als-map -q -V v --append -o out1.trp fifo 2>first.err &
    local pid=$!
    exec 4>fifo
    printf 'x,y,1\n' >&4
    local i
    for i in $(seq 50); do
        compgen -G 'out1.trp.*' >/dev/null && break
        sleep 0.1
    done
    run --separate-stderr als-map -V v --append -o out2.trp "$DATA/map-basic.csv"
    local st2=$status err2=$stderr
    # readers take no lock
    run -0 --separate-stderr als-map -V v --frozen --text "$DATA/map-basic.csv"
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
    run -0 als-map --dump items -V v
    exec 4>&-
    wait "$pid"
    ((st2 == 1)) || _fail "second writer: exit $st2, expected 1" "$err2"
    assert_contains "$err2" "'v'"
    assert_contains "$err2" "is being written by another process"
    assert_file_absent out2.trp
    run -0 als-map --dump users -V v
    assert_output "$(tsv '0|alice' '1|bob' '2|carol' '3|x')"
}

# ---------------------------------------------------------------------------------------
# Input

@test "map: several files in one run; with -H each has its own header" {
    printf 'u,i,r\na,x,1\nb,y,2\n' >a.csv
    printf 'u,i,r\nc,x,3\na,z,4\n' >b.csv
    run -0 --separate-stderr als-map -V v --text -H a.csv b.csv
    assert_output "$(tsv '0|0|1' '1|1|2' '2|0|3' '0|2|4')"
    assert_contains "$stderr" "4 records read, 4 written"
    # by name, the second file with its columns in another order
    printf 'r,i,u\n5,x,c\n' >c.csv
    run -0 als-map -q -V v2 --text -u u -i i -r r a.csv c.csv
    assert_output "$(tsv '0|0|1' '1|1|2' '2|0|5')"
    # without -H all lines are records
    printf 'a,x,1\n' >p.csv
    printf 'b,y,2\n' >q.csv
    run -0 als-map -q -V v3 --text p.csv q.csv p.csv
    assert_output "$(tsv '0|0|1' '1|1|2' '0|0|1')"
}

@test "map: an error in the second file names that file and its line" {
    printf 'a,x,1\nb,y,2\n' >a.csv
    printf 'c,x,3\nd,y,zz\n' >b.csv
    run -1 --separate-stderr als-map -V v -o out.trp a.csv b.csv
    assert_contains "$stderr" "als-map: b.csv:2: rating 'zz'"
    no_output_files
    assert_file_absent v
}

@test "map: a missing input file is an error; nothing is left behind" {
    run -1 --separate-stderr als-map -V v -o out.trp "$DATA/map-basic.csv" no-such.csv
    assert_contains "$stderr" "no-such.csv"
    no_output_files
    assert_file_absent v
}

@test "map: stdin with no file and with '-'" {
    run -0 --separate-stderr als-map -V v --text <"$DATA/map-basic.csv"
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
    assert_contains "$stderr" "4 records read"
    run -0 als-map -q -V v2 --text - <"$DATA/map-basic.csv"
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
    printf 'zed,i1,2\n' >z.csv
    run -0 als-map -q -V v3 --text z.csv - <"$DATA/map-basic.csv"
    assert_output "$(tsv '0|0|2' '1|0|5' '2|1|3' '1|2|4' '3|0|1')"
    # an empty input is a valid, empty run
    run -0 --separate-stderr als-map -V v4 --text </dev/null
    assert_empty "$output" "stdout"
    assert_contains "$stderr" "0 records read"
}

@test "map: gzip input, from a file and from stdin" {
    gzip -c "$DATA/map-basic.csv" >b.csv.gz
    run -0 als-map -q -V v --text b.csv.gz
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
    run -0 als-map -q -V v2 --text <b.csv.gz
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
    # the content decides, not the name
    cp b.csv.gz plain-name.csv
    run -0 als-map -q -V v3 --text plain-name.csv
    assert_output "$(tsv '0|0|5' '1|1|3' '0|2|4' '2|0|1')"
}

@test "map: concatenated gzip members are read to the end" {
    printf 'a,x,1\nb,y,2\n' | gzip -c >m1.gz
    printf 'c,x,3\n' | gzip -c >m2.gz
    cat m1.gz m2.gz >both.gz
    run -0 --separate-stderr als-map -V v --text both.gz
    assert_output "$(tsv '0|0|1' '1|1|2' '2|0|3')"
    assert_contains "$stderr" "3 records read"
}

@test "map: a truncated gzip file exits 1 ('truncated'), no output, DIR absent or unchanged" {
    awk 'BEGIN { for (i = 0; i < 2000; i++) printf "u%d,i%d,%d\n", i % 37, i % 91, i % 5 + 1 }' |
        gzip -c >full.gz
    head -c $(($(stat -c %s full.gz) / 2)) full.gz >cut.gz
    run -1 --separate-stderr als-map -V v -o out.trp cut.gz
    assert_contains "$stderr" "truncated"
    assert_contains "$stderr" "cut.gz"
    no_output_files
    assert_file_absent v
    # only the trailer is missing
    head -c $(($(stat -c %s full.gz) - 4)) full.gz >cut2.gz
    run -1 --separate-stderr als-map -V v -o out.trp cut2.gz
    assert_contains "$stderr" "truncated"
    no_output_files
    assert_file_absent v
    # into an existing vocabulary
    als-map -q -V w --text "$DATA/map-basic.csv" >/dev/null
    local before
    before=$(state_of w)
    run -1 --separate-stderr als-map -V w --append -o out.trp cut.gz
    assert_contains "$stderr" "truncated"
    no_output_files
    assert_eq "$before" "$(state_of w)" "DIR"
    # from stdin
    run -1 --separate-stderr als-map -V v -o out.trp <cut.gz
    assert_contains "$stderr" "truncated"
    no_output_files
    assert_file_absent v
}

@test "map: gzip corruption (a flipped byte) is an error, not garbage" {
    printf 'a,x,1\nb,y,2\n' | gzip -c >ok.gz
    cp ok.gz bad.gz
    printf '\xff' | dd of=bad.gz bs=1 seek=12 conv=notrunc status=none
    run -1 --separate-stderr als-map -V v -o out.trp bad.gz
    assert_contains "$stderr" "bad.gz"
    no_output_files
    assert_file_absent v
}

# ---------------------------------------------------------------------------------------
# Bad input with --on-error fail (the default)

@test "bad input: empty user field" {
    printf 'u1,i1,1\nu2,i2,2\n,i9,1\nu4,i4,4\n' >in.csv
    expect_bad_record in.csv 3 "user"
}

@test "bad input: empty item field" {
    printf 'u1,i1,1\nu2,i2,2\nu9,,1\n' >in.csv
    expect_bad_record in.csv 3 "item"
}

@test "bad input: empty quoted IDs count as empty" {
    printf 'u1,i1,1\nu2,i2,2\n"",i9,1\n' >in.csv
    expect_bad_record in.csv 3 "user"
}

@test "bad input: missing column" {
    printf 'u1,i1,1\nu2,i2,2\nu9,i9\n' >in.csv
    expect_bad_record in.csv 3 "column"
    printf 'u1,i1,1\nu2,i2,2\nu9\n' >in2.csv
    expect_bad_record in2.csv 3 "column"
}

@test "bad input: empty rating" {
    printf 'u1,i1,1\nu2,i2,2\nu9,i9,\n' >in.csv
    expect_bad_record in.csv 3 "rating"
}

@test "bad input: NaN rating" {
    printf 'u1,i1,1\nu2,i2,2\nu9,i9,nan\n' >in.csv
    expect_bad_record in.csv 3 "rating 'nan'"
    printf 'u1,i1,1\nu2,i2,2\nu9,i9,NaN\n' >in2.csv
    expect_bad_record in2.csv 3 "rating 'NaN'"
}

@test "bad input: infinite ratings (inf, -inf, 1e999)" {
    printf 'u1,i1,1\nu2,i2,2\nu9,i9,inf\n' >in.csv
    expect_bad_record in.csv 3 "rating 'inf'"
    printf 'u1,i1,1\nu2,i2,2\nu9,i9,-Infinity\n' >in2.csv
    expect_bad_record in2.csv 3 "rating '-Infinity'"
    printf 'u1,i1,1\nu2,i2,2\nu9,i9,1e999\n' >in3.csv
    expect_bad_record in3.csv 3 "rating '1e999'"
}

@test "bad input: a rating beyond float range (1e39) is not written as inf" {
    printf 'u1,i1,1\nu2,i2,2\nu9,i9,1e39\n' >in.csv
    expect_bad_record in.csv 3 "1e+39"
}

@test "bad input: an embedded NUL byte" {
    printf 'u1,i1,1\nu2,i2,2\nu9\0x,i9,1\n' >in.csv
    expect_bad_record in.csv 3 "NUL"
    printf 'u1,i1,1\nu2,i2,2\nu9,i9\0,1\n' >in2.csv
    expect_bad_record in2.csv 3 "NUL"
}

@test "bad input: a line longer than 64 MiB" {
    { printf 'u1,i1,1\nu2,i2,2\nu9,'
      head -c $((64 * 1024 * 1024 + 16)) /dev/zero | tr '\0' 'a'
      printf ',1\n'; } >long.csv
    expect_bad_record long.csv 3 "longer than"
}

@test "bad input: an unterminated quote" {
    printf 'u1,i1,1\nu2,i2,2\n"u9,i9,1\n' >in.csv
    expect_bad_record in.csv 3 "quote"
    printf 'u1,i1,1\nu2,i2,2\nu9,"i9,1\nu3,i3,3\n' >in2.csv
    expect_bad_record in2.csv 3 "quote"
}

@test "bad input: text after a closing quote" {
    printf 'u1,i1,1\nu2,i2,2\n"u9"x,i9,1\n' >in.csv
    expect_bad_record in.csv 3 "quote"
}

@test "bad input: a non-numeric rating" {
    printf 'u1,i1,1\nu2,i2,2\nu9,i9,five\n' >in.csv
    expect_bad_record in.csv 3 "rating 'five' is not a number"
    printf 'u1,i1,1\nu2,i2,2\nu9,i9,4stars\n' >in2.csv
    expect_bad_record in2.csv 3 "rating '4stars' is not a number"
}

# ---------------------------------------------------------------------------------------
# --on-error skip, --max-errors

@test "map: --on-error skip counts bad lines, reports the first few, writes the good ones" {
    printf 'a,x,1\n,x,1\nb,y,2\nc,z,bad\nd,x\n' >in.csv
    run -0 --separate-stderr als-map -V v --text --on-error skip in.csv
    assert_output "$(tsv '0|0|1' '1|1|2')"
    assert_contains "$stderr" "als-map: in.csv:2: "
    assert_contains "$stderr" "als-map: in.csv:4: rating 'bad'"
    assert_contains "$stderr" "als-map: in.csv:5: "
    run -0 grep -c '(skipped)$' <<<"$stderr"
    assert_output 3
    assert_contains "$stderr" "5 records read, 2 written, 3 skipped (3 bad)"
    run -0 als-map --dump users -V v
    assert_output "$(tsv '0|a' '1|b')"
}

@test "map: --on-error skip reports only the first few of many bad lines" {
    { echo a,x,1; for i in $(seq 20); do echo "u$i,i$i,bad"; done; echo b,y,2; } >in.csv
    run -0 --separate-stderr als-map -V v --text --on-error skip in.csv
    assert_output "$(tsv '0|0|1' '1|1|2')"
    local shown
    shown=$(grep -c '(skipped)' <<<"$stderr")
    ((shown >= 1 && shown < 20)) || _fail "reported $shown of 20 bad lines"
    assert_contains "$stderr" "in.csv:2: "
    assert_contains "$stderr" "22 records read, 2 written, 20 skipped (20 bad)"
    run -0 --separate-stderr als-map -q -V v2 --text --on-error skip in.csv
    assert_empty "$stderr" "stderr with -q"
}

@test "map: --max-errors N: exit 1 once more than N bad records, nothing left behind" {
    printf 'a,x,1\n,x,1\nb,y,2\nc,z,bad\nd,x\ne,y,3\n' >in.csv
    run -0 --separate-stderr als-map -V v --text --on-error skip --max-errors 3 in.csv
    assert_output "$(tsv '0|0|1' '1|1|2' '2|1|3')"
    run -1 --separate-stderr als-map -V w -o out.trp --on-error skip --max-errors 2 in.csv
    assert_contains "$stderr" "more than 2 bad records; giving up"
    no_output_files
    assert_file_absent w
    run -1 --separate-stderr als-map -V w -o out.trp --on-error skip --max-errors 0 in.csv
    no_output_files
    assert_file_absent w
    local before
    before=$(state_of v)
    run -1 --separate-stderr als-map -V v --append -o out.trp --on-error skip --max-errors 1 in.csv
    no_output_files
    assert_eq "$before" "$(state_of v)" "DIR"
}

@test "map: --max-errors without --on-error skip, and bad values, exit 2" {
    run -2 --separate-stderr als-map -V v --text --max-errors 3 "$DATA/map-basic.csv"
    assert_contains "$stderr" "skip"
    run -2 --separate-stderr als-map -V v --text --on-error fail --max-errors 3 "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V v --text --on-error skip --max-errors -1 "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V v --text --on-error skip --max-errors x "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V v --text --on-error ignore "$DATA/map-basic.csv"
    assert_file_absent v
}

# ---------------------------------------------------------------------------------------
# Output

@test "map: -o FILE writes a binary stream starting with ALSB TRP1" {
    run -0 --separate-stderr als-map -V v -o out.trp "$DATA/map-basic.csv"
    assert_empty "$output" "stdout"
    assert_eq "ALSBTRP1" "$(head -c 8 out.trp)" "magic"
    no_temp_files .
    # the same stream on stdout (not a terminal here)
    als-map -q -V v2 "$DATA/map-basic.csv" >stdout.trp
    cmp out.trp stdout.trp
    als-map -q -V v3 --output out3.trp "$DATA/map-basic.csv"
    cmp out.trp out3.trp
    # -o - is stdout
    als-map -q -V v4 -o - "$DATA/map-basic.csv" >dash.trp
    cmp out.trp dash.trp
}

@test "map: the binary records carry the same values as --text (TRP1 layout)" {
    als-map -q -V v -o out.trp "$DATA/map-basic.csv"
    # 64-byte header, a block 'TBLK' of 4 records (u32 user, u32 item, f32 value; LE),
    # then 'TEND' with the record, user and item counts
    assert_eq 168 "$(stat -c %s out.trp)" "file size"
    assert_eq "TBLK" "$(dd if=out.trp bs=1 skip=64 count=4 status=none)"
    assert_eq "04 00 00 00" "$(od -An -tx1 -j68 -N4 out.trp | xargs)" "block count"
    assert_eq "00 00 00 00 00 00 00 00 00 00 a0 40 01 00 00 00 01 00 00 00 00 00 40 40 00 00 00 00 02 00 00 00 00 00 80 40 02 00 00 00 00 00 00 00 00 00 80 3f" \
        "$(od -An -tx1 -v -j80 -N48 out.trp | xargs)" "records"
    assert_eq "TEND" "$(dd if=out.trp bs=1 skip=128 count=4 status=none)"
    assert_eq "04 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00" \
        "$(od -An -tx1 -v -j144 -N24 out.trp | xargs)" "end counts"
}

@test "map: common options -j, --seed, --progress, -v are accepted and change nothing" {
    als-map -q -V v1 -o a.trp "$DATA/map-basic.csv"
    run -0 --separate-stderr als-map -V v2 -o b.trp -j 2 --seed 7 --progress -v \
        "$DATA/map-basic.csv"
    cmp a.trp b.trp
    run -0 --separate-stderr als-map -V v3 -o c.trp --threads 1 "$DATA/map-basic.csv"
    cmp a.trp c.trp
    run -2 --separate-stderr als-map -V v4 -o d.trp -j 0 "$DATA/map-basic.csv"
    run -2 --separate-stderr als-map -V v4 -o d.trp --seed x "$DATA/map-basic.csv"
    assert_file_absent v4
}

@test "map: the same input gives the same bytes" {
    als-map -q -V v1 -o a.trp "$DATA/map-basic.csv"
    als-map -q -V v2 -o b.trp "$DATA/map-basic.csv"
    cmp a.trp b.trp
    cmp v1/map.conf v2/map.conf
}

@test "map: a binary stream with a time column differs from one without" {
    als-map -q -V v1 -o a.trp -t 4 "$DATA/map-ml1m.dat"
    als-map -q -V v2 -o b.trp "$DATA/map-ml1m.dat"
    assert_eq "ALSBTRP1" "$(head -c 8 a.trp)"
    run -1 cmp -s a.trp b.trp
    (($(stat -c %s a.trp) > $(stat -c %s b.trp)))
}

@test "map: binary triples to a terminal are refused (unless -f); --text is allowed" {
    command -v script >/dev/null || skip "script(1) is not installed: cannot give als-map a terminal"
    script -qec "als-map -V v $DATA/map-basic.csv" /dev/null >tty.out 2>&1 || status=$?
    ((${status:-0} == 2)) || _fail "exit ${status:-0}, expected 2" "$(cat tty.out)"
    assert_contains "$(cat tty.out)" "terminal"
    status=0
    script -qec "als-map -q -V v2 --text $DATA/map-basic.csv" /dev/null >tty2.out 2>&1 || status=$?
    ((status == 0)) || _fail "--text to a terminal: exit $status" "$(cat tty2.out)"
    assert_contains "$(cat tty2.out)" "2"$'\t'"0"$'\t'"1"
    status=0
    script -qec "als-map -q -V v3 -f $DATA/map-basic.csv" /dev/null >tty3.out 2>&1 || status=$?
    ((status == 0)) || _fail "-f to a terminal: exit $status" "$(cat tty3.out)"
    assert_contains "$(cat tty3.out)" "ALSB"
}

@test "map: refusing a terminal leaves no vocabulary behind" {
    command -v script >/dev/null || skip "script(1) is not installed: cannot give als-map a terminal"
    script -qec "als-map -V v $DATA/map-basic.csv" /dev/null >tty.out 2>&1 || true
    assert_file_absent v
}

@test "map: usage errors found after start leave no vocabulary directory behind" {
    run -2 --separate-stderr als-map -V v --text -r none --levels a,b "$DATA/map-basic.csv"
    assert_file_absent v
    run -2 --separate-stderr als-map -V v2 --text -r none --transform log1p "$DATA/map-basic.csv"
    assert_file_absent v2
    run -2 --separate-stderr als-map -V v3 --text -u nosuch "$DATA/map-header.tsv"
    assert_file_absent v3
}

@test "map: an unwritable output directory exits 1, leaves no file, DIR unchanged" {
    run -1 --separate-stderr als-map -V v -o nodir/out.trp "$DATA/map-basic.csv"
    assert_contains "$stderr" "nodir/out.trp"
    assert_file_absent nodir
    assert_file_absent v
    als-map -q -V w --text "$DATA/map-basic.csv" >/dev/null
    local before
    before=$(state_of w)
    printf 'new,ids,1\n' >n.csv
    run -1 --separate-stderr als-map -V w --append -o nodir/out.trp n.csv
    assert_eq "$before" "$(state_of w)" "DIR"
    if (($(id -u) != 0)); then
        mkdir ro
        chmod 555 ro
        run -1 --separate-stderr als-map -V w --append -o ro/out.trp n.csv
        chmod 755 ro
        assert_eq "" "$(ls -A ro)" "read-only directory"
        assert_eq "$before" "$(state_of w)" "DIR"
    fi
}

@test "map: a write error on stdout is an error (/dev/full)" {
    [[ -w /dev/full ]] || skip "/dev/full is not available"
    run -1 --separate-stderr bash -c 'als-map -V v --text "$1" >/dev/full' _ "$DATA/map-basic.csv"
    assert_contains "$stderr" "als-map: "
}

@test "map: a previous output file stays intact when a later run fails" {
    als-map -q -V v -o out.trp "$DATA/map-basic.csv"
    cp out.trp saved.trp
    printf 'a,x,1\nb,y,nope\n' >bad.csv
    run -1 --separate-stderr als-map -V v --append -o out.trp bad.csv
    cmp out.trp saved.trp
    run -1 --separate-stderr als-map -V w -o out.trp bad.csv
    cmp out.trp saved.trp
    no_temp_files .
}

@test "map: a successful run replaces the output file atomically" {
    echo old >out.trp
    als-map -q -V v -o out.trp "$DATA/map-basic.csv"
    assert_eq "ALSBTRP1" "$(head -c 8 out.trp)"
    no_temp_files .
    no_temp_files v
}

# ---------------------------------------------------------------------------------------
# Generated and real data

@test "map: a generated log (als-gen-log) maps every line" {
    command -v als-gen-log >/dev/null || skip "als-gen-log is not built"
    als-gen-log --lines 5000 --seed 3 >log.csv
    run -0 --separate-stderr als-map -V v -H -o log.trp log.csv
    assert_contains "$stderr" "5000 records read, 5000 written, 0 skipped"
    local users items
    users=$(tail -n +2 log.csv | cut -d, -f1 | sort -u | wc -l)
    items=$(tail -n +2 log.csv | cut -d, -f2 | sort -u | wc -l)
    assert_contains "$stderr" "users $users new, $users total; items $items new, $items total"
    assert_eq "$users" "$(als-map --dump users -V v | wc -l)" "dumped users"
    als-gen-log --lines 5000 --seed 3 | als-map -q -V v2 -H -o log2.trp
    cmp log.trp log2.trp
}

@test "map: ml-100k (../shared/data) has 943 users, 1682 items, 100000 records" {
    local f="$ALS_TOP/../shared/data/ml-100k/u.data.gz"
    [[ -f "$f" ]] || skip "data missing: $f not found (ml-100k is not in this checkout)"
    run -0 --separate-stderr als-map -V v -t 4 -o u.trp "$f"
    assert_stderr "als-map: 100000 records read, 100000 written, 0 skipped; users 943 new, 943 total; items 1682 new, 1682 total"
    assert_eq 943 "$(als-map --dump users -V v | wc -l)" "users"
    assert_eq 1682 "$(als-map --dump items -V v | wc -l)" "items"
    # the first line of u.data is '196<TAB>242<TAB>3<TAB>881250949'
    run -0 bash -c "als-map -q -V v --frozen --text -t 4 '$f' | head -n 1"
    assert_output "$(tsv '0|0|3|881250949')"
}

# ---------------------------------------------------------------------------------------
# Kill safety

@test "map: a run killed while reading leaves DIR loadable and unchanged, no temp files" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    local old pid i
    old=$(als-map --dump users -V v)
    mkdir out
    mkfifo fifo
    als-map -q -V v --append -o out/out.trp fifo 2>err.txt &
    pid=$!
    exec 4>fifo
    awk 'BEGIN { for (i = 0; i < 100000; i++) printf "nu%d,ni%d,1\n", i, i % 1000 }' >&4
    for i in $(seq 100); do
        compgen -G 'out/out.trp.*' >/dev/null && break
        sleep 0.05
    done
    kill -TERM "$pid"
    local st=0
    wait "$pid" || st=$?
    exec 4>&-
    ((st != 0)) || _fail "als-map was not interrupted"
    run -0 als-map --dump users -V v
    assert_output "$old"
    no_temp_files out
    no_temp_files v
    assert_file_absent out/out.trp
    # and the next --append works
    run -0 als-map -q -V v --append --text "$DATA/map-basic.csv"
}

# start_slow_map OUT DIR: als-map -V DIR -o OUT reading the FIFO 'fifo' (fd 4 held open, a
# first block written), in the background (pid in $slow_pid) once its temporary exists.
start_slow_map() {
    local i
    [[ -p fifo ]] || mkfifo fifo
    als-map -q -V "$2" -o "$1" fifo 2>/dev/null &
    slow_pid=$!
    exec 4>fifo
    printf 'u1,i1,1\nu2,i2,1\n' >&4
    for i in $(seq 200); do
        compgen -G "$1.als-tmp.??????" >/dev/null && return 0
        sleep 0.05
    done
    _fail "als-map made no temporary of '$1'"
}

@test "map: a SIGKILLed run's temporary is removed by the next writer of that output" {
    als-map -q -V ref -o ref.trp "$DATA/map-basic.csv"
    local st=0
    start_slow_map out.trp v || return 1
    kill -KILL "$slow_pid"
    wait "$slow_pid" || st=$?
    exec 4>&-
    assert_eq 137 "$st" "exit status of the killed run"
    # What kill -9 leaves: one temporary of out.trp, nothing else (no vocabulary yet).
    run -0 compgen -G 'out.trp.als-tmp.??????'
    assert_eq 1 "${#lines[@]}" "temporaries left by the killed run"
    assert_file_absent out.trp
    run -0 als-map -q -V v -o out.trp "$DATA/map-basic.csv"
    no_temp_files .
    no_temp_files v
    cmp ref.trp out.trp
    run -0 als-map --dump users -V v
    assert_eq "$(als-map --dump users -V ref)" "$output"
}

@test "map: a live writer's temporary is never removed; both writers commit whole" {
    start_slow_map out.trp v1 || return 1
    local tmp
    tmp=$(compgen -G 'out.trp.als-tmp.??????')
    # A second writer of the same output commits while the first is still reading.
    run -0 als-map -q -V v2 -o out.trp "$DATA/map-basic.csv"
    assert_file_exists "$tmp"
    als-map -q -V r2 -o r2.trp "$DATA/map-basic.csv"
    cmp r2.trp out.trp
    # The first one ends normally and replaces it with its own whole output.
    printf 'u3,i1,1\n' >&4
    exec 4>&-
    local st=0
    wait "$slow_pid" || st=$?
    assert_eq 0 "$st" "exit status of the first writer"
    assert_file_absent "$tmp"
    no_temp_files .
    printf 'u1,i1,1\nu2,i2,1\nu3,i1,1\n' >r1.csv
    als-map -q -V r1 -o r1.trp r1.csv
    cmp r1.trp out.trp
}

# kill_when FILE PID: kill -TERM PID as soon as FILE exists (or when PID has ended anyway)
kill_when() {
    while [[ ! -e "$1" ]] && kill -0 "$2" 2>/dev/null; do :; done
    kill -TERM "$2" 2>/dev/null || true
}

@test "map: a run killed while committing its vocabulary: the same command runs again" {
    awk 'BEGIN { for (i = 0; i < 300000; i++) printf "user%d,item%d,1\n", i % 100000, i % 3000 }' >big.csv
    local i pid st left
    for i in 1 2 3; do
        # a first build (the nightly --append on an absent DIR), killed once users.1.vocab
        # is in place but before map.conf commits it
        rm -rf v out.trp
        als-map -q -V v --append -o out.trp big.csv 2>/dev/null &
        pid=$!
        kill_when v/users.1.vocab "$pid"
        st=0
        wait "$pid" || st=$?
        left=$(ls -A v 2>/dev/null | tr '\n' ' ')
        run --separate-stderr als-map -q -V v --append -o out.trp big.csv
        ((status == 0)) ||
            _fail "rerun after a first build killed (exit $st) leaving '$left': exit $status" \
                "$stderr" || return 1
        no_temp_files v || return 1
    done
    # the same for a later generation: DIR stays the old one and the next run works
    als-map -q -V w --text "$DATA/map-basic.csv" >/dev/null
    local old
    old=$(als-map --dump users -V w)
    als-map -q -V w --append -o out2.trp big.csv 2>/dev/null &
    pid=$!
    kill_when w/users.2.vocab "$pid"
    st=0
    wait "$pid" || st=$?
    if ((st != 0)); then
        # killed before map.conf was renamed: the old generation; after it (the kill can
        # land between the rename and the exit): the whole new one, the old as its prefix
        run -0 als-map --dump users -V w
        [[ "$output" == "$old" || ( ${#output} -gt ${#old} && "${output:0:${#old}}" == "$old" ) ]] ||
            _fail "a killed run left a vocabulary that is neither the old nor a grown one"
    fi
    run -0 --separate-stderr als-map -q -V w --append -o out2.trp big.csv
    run -0 als-map --dump users -V w
    assert_eq "$old" "${output:0:${#old}}" "old dump as prefix of the new"
}

@test "map: runs killed at various moments leave DIR old or complete, never damaged" {
    awk 'BEGIN { for (i = 0; i < 600000; i++) printf "user%d,item%d,%d\n", i % 200000, i % 5000, i % 5 + 1 }' >big.csv
    local mode
    for mode in --append --force; do
        kill_at_various_moments "$mode" || return 1
    done
}

# kill_at_various_moments MODE: als-map MODE on big.csv into a vocabulary built from
# map-basic.csv, killed at fractions of the time a whole run takes (so that some kills land
# while the vocabulary and the output are being committed)
kill_at_various_moments() {
    local mode=$1 new old f delay pid st t0 t1
    rm -rf ref v v0 out
    als-map -q -V ref --text "$DATA/map-basic.csv" >/dev/null
    t0=$(date +%s%N)
    als-map -q -V ref "$mode" -o ref.trp big.csv
    t1=$(date +%s%N)
    new=$(als-map --dump users -V ref | sha256sum)
    als-map -q -V v0 --text "$DATA/map-basic.csv" >/dev/null
    old=$(als-map --dump users -V v0 | sha256sum)
    mkdir out
    for f in 0.3 0.6 0.8 0.85 0.9 0.93 0.96 1.0 1.03 1.06 1.1 1.15; do
        delay=$(awk -v f="$f" -v t=$((t1 - t0)) 'BEGIN { printf "%.3f", f * t / 1e9 }')
        rm -rf v
        cp -a v0 v
        als-map -q -V v "$mode" -o out/out.trp big.csv 2>/dev/null &
        pid=$!
        sleep "$delay"
        kill -TERM "$pid" 2>/dev/null || true
        st=0
        wait "$pid" || st=$?
        output=$(als-map --dump users -V v | sha256sum) ||
            _fail "DIR does not load after $mode killed at ${delay}s (exit $st)" || return 1
        if [[ "$output" != "$old" ]]; then
            assert_eq "$new" "$output" "users after $mode killed at ${delay}s (exit $st)" ||
                return 1
        fi
        no_temp_files out || return 1
        no_temp_files v || return 1
        if [[ -e out/out.trp ]]; then
            cmp out/out.trp ref.trp || return 1
        fi
        rm -f out/out.trp
    done
    # the next run works
    run -0 als-map -q -V v --append -o /dev/null "$DATA/map-basic.csv"
}

# ---- progress (ALS_PROGRESS_DELAY: see helpers.bash) ----

@test "map: --progress off a terminal prints the bytes read with a rate; the output is the same" {
    als-map -q -V v0 -o ref.trp "$DATA/map-basic.csv"
    size=$(wc -c <"$DATA/map-basic.csv")
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-map --progress -V v -o out.trp \
        "$DATA/map-basic.csv"
    assert_progress "$stderr" als-map "$size B of $size B \(100%\), [0-9.]+ [kMGT]?B/s"
    assert_eq "als-map: 0 B of $size B (0%)" "$(first_line "$stderr")" "the first line"
    assert_eq "als-map: 4 records read, 4 written, 0 skipped; users 3 new, 3 total; items 3 new, 3 total" \
        "$(printf '%s\n' "$stderr" | tail -n 1)" "the summary, last"
    cmp ref.trp out.trp
    assert_eq "$(als-map --dump users -V v0)" "$(als-map --dump users -V v)" "the users"
}

@test "map: --progress counts records, without a total, when the input is a pipe" {
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-map --progress -V v --text \
        < <(cat "$DATA/map-basic.csv")
    assert_progress "$stderr" als-map "4 records, [0-9.]+ ?[kMGT]?/s"
    assert_eq "$(als-map -q -V v2 --text <"$DATA/map-basic.csv")" "$output" "stdout"
}

@test "map: no progress off a terminal without --progress; -q with --progress only the progress" {
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-map -V v -o out.trp "$DATA/map-basic.csv"
    assert_stderr "als-map: 4 records read, 4 written, 0 skipped; users 3 new, 3 total; items 3 new, 3 total"
    # --progress wins over -q (cli_show_progress), and -q still drops the summary
    ALS_PROGRESS_DELAY=0 run -0 --separate-stderr als-map -q --progress -V v2 -o out2.trp \
        "$DATA/map-basic.csv"
    assert_progress "$stderr" als-map "[0-9]+ B of [0-9]+ B \(100%\), .*"
    assert_eq "$stderr" "$(progress_lines "$stderr" als-map)" "only progress lines"
    cmp out.trp out2.trp
}

@test "map: on a terminal one line redrawn with CR and erased; nothing for a short run or -q" {
    cp "$DATA/map-basic.csv" log.csv
    on_terminal "ALS_PROGRESS_DELAY=0 als-map -V v -o out.trp log.csv"
    assert_match "$output" $'^\rals-map: 0 B of 42 B \\(0%\\)\rals-map: 42 B of 42 B \\(100%\\), [0-9.]+ [kMGT]?B/s\r +\rals-map: 4 records read'
    assert_not_contains "$output" $'\n'"als-map: 0 B" # one line, never a new one
    # the default delay of a second: a short run shows nothing, and -q nothing at all
    on_terminal "als-map -V v2 -o out2.trp log.csv"
    assert_eq "als-map: 4 records read, 4 written, 0 skipped; users 3 new, 3 total; items 3 new, 3 total"$'\r' \
        "$output" "a short run on a terminal"
    on_terminal "ALS_PROGRESS_DELAY=0 als-map -q -V v3 -o out3.trp log.csv"
    assert_empty "$output" "-q on a terminal"
    cmp out.trp out3.trp
}

# flip_byte FILE OFFSET: invert every bit of one byte in place
flip_byte() {
    local b
    b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
    printf "\\x$(printf %02x $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

@test "map: --dump verifies every checksum first: a flipped byte in any section is exit 1, nothing printed" {
    als-map -q -V v --text "$DATA/map-basic.csv" >/dev/null
    local f=users.1.vocab nsec tried=0 sec off size pos
    assert_file_exists "v/$f"
    # The section ranges from the file's own directory (als-formats(5)): entries of 32
    # bytes at 72, offset and size as u64 at +8 and +16.
    nsec=$(od -An -tu4 -j64 -N4 "v/$f" | tr -d ' ')
    assert_eq 3 "$nsec" "sections in a vocabulary"
    for ((sec = 0; sec < nsec; sec++)); do
        read -r off size < <(od -An -tu8 -j$((72 + 32 * sec + 8)) -N16 "v/$f")
        for ((pos = off; pos < off + size; pos++)); do
            rm -rf w && cp -r v w
            flip_byte "w/$f" "$pos"
            run -1 --separate-stderr als-map --dump users -V w
            assert_empty "$output" "output with byte $pos flipped" || return 1
            assert_contains "$stderr" "w/$f" || return 1
            tried=$((tried + 1))
        done
    done
    assert_eq 173 "$tried" "bytes flipped"
}

@test "map: -o naming one of the input logs (another spelling, a link) exits 2 and changes nothing" {
    mkdir w && cd w || return 1 # away from the files of run --separate-stderr
    cp "$DATA/map-basic.csv" log.csv
    ln -s log.csv link.csv
    local before out
    before=$(state_of .)
    for out in log.csv ./log.csv link.csv "$PWD/log.csv"; do
        run -2 --separate-stderr als-map -q -V v -o "$out" "$DATA/map-basic.csv" log.csv
        assert_contains "$stderr" "is the input 'log.csv'" || return 1
        assert_file_absent v || return 1
    done
    assert_eq "$before" "$(state_of .)" "files after the refused runs"
    run -0 als-map -q -V v -o out.trp log.csv
}

# A broken input is not an empty log: a cron job whose pipe broke must not "succeed".
@test "map: a read error (stdin closed, stdin a directory, EIO) exits 1 with one line, creates nothing" {
    run -1 --separate-stderr closed_stdin als-map -V v -o out.trp
    assert_stderr "als-map: read error on '(stdin)': Bad file descriptor"
    no_output_files
    assert_file_absent v
    run -1 --separate-stderr closed_stdin als-map -V v --text
    assert_stderr "als-map: read error on '(stdin)': Bad file descriptor"
    assert_empty "$output" "stdout"
    assert_file_absent v
    run -1 --separate-stderr als-map -V v -o out.trp <.
    assert_stderr "als-map: read error on '(stdin)': Is a directory"
    no_output_files
    assert_file_absent v
    # reading /proc/self/mem at offset 0 fails with EIO
    run -1 --separate-stderr als-map -V v -o out.trp /proc/self/mem
    assert_stderr "als-map: read error on '/proc/self/mem': Input/output error"
    no_output_files
    assert_file_absent v
    # into an existing vocabulary: unchanged
    als-map -q -V v -o base.trp "$DATA/map-basic.csv"
    local before
    before=$(state_of v)
    run -1 --separate-stderr closed_stdin als-map -V v --append -o out.trp
    assert_stderr "als-map: read error on '(stdin)': Bad file descriptor"
    assert_file_absent out.trp
    assert_eq "$before" "$(state_of v)" "DIR"
}

# Empty lines are ignored everywhere, before the first record or header too.
@test "map: empty lines before the first line are ignored by detection, header and column count" {
    printf '\nalice,i1,5\n\r\nbob,i2,3\n' >lead.csv
    local want
    want=$(tsv '0|0|5' '1|1|3')
    run -0 --separate-stderr als-map -V a --text lead.csv
    assert_output "$want"
    assert_contains "$stderr" "2 records read, 2 written"
    # with -F given, the rating column is still counted from the first record
    run -0 --separate-stderr als-map -V b -F , --text lead.csv
    assert_output "$want"
    # the stored format is the one of the first record: three columns, a rating
    run -0 --separate-stderr als-map -V b --append --text lead.csv
    assert_output "$want"
    # a header after empty lines is the header; errors name its line
    printf '\r\n\nuser,item,rating\nalice,i1,5\n\nbob,i2,3\n' >head.csv
    run -0 --separate-stderr als-map -V c -r rating --text head.csv
    assert_output "$want"
    run -2 --separate-stderr als-map -V d -r ratin --text head.csv
    assert_eq "als-map: head.csv:3: no column named 'ratin' in the header" \
        "$(head -n 1 <<<"$stderr")" "first line of stderr"
    assert_file_absent d
    # a byte-order mark on an empty first line
    printf '\xef\xbb\xbf\nalice\ti1\t5\nbob\ti2\t3\n' >bom.tsv
    run -0 --separate-stderr als-map -V e --text bom.tsv
    assert_output "$want"
}

# A first night with no records yet records what it was told; the next night reads its log
# as a build told the same from the start would.
@test "map: an empty first build records -F, -H, -u, -i, -r and -t for the next run" {
    : >empty.csv
    printf 'ts;rating;user;item\n100;4;alice;i1\n200;2;bob;i2\n' >night2.csv
    als-map -q -V fresh -F ';' -u user -i item -r rating -t ts --text night2.csv >want.tsv
    assert_eq "$(tsv '0|0|4|100' '1|1|2|200')" "$(cat want.tsv)"
    # a zero-byte log with -H and names
    run -0 --separate-stderr als-map -V v -H -F ';' -u user -i item -r rating -t ts --text empty.csv
    assert_empty "$output" "stdout"
    run -0 --separate-stderr als-map -V v --append --text night2.csv
    assert_output "$(cat want.tsv)"
    # by number, without a header, from an empty stdin
    printf '100|4|alice|i1\n200|2|bob|i2\n' >night2.psv
    run -0 --separate-stderr als-map -V w --no-header -F '|' -u 3 -i 4 -r 2 -t 1 --text </dev/null
    assert_empty "$output" "stdout"
    run -0 --separate-stderr als-map -V w --append --text night2.psv
    assert_output "$(cat want.tsv)"
    # -r none: the third column is not a rating
    run -0 --separate-stderr als-map -V n -F , -r none --text empty.csv
    printf 'alice,i1,7\n' >night2.csv
    run -0 --separate-stderr als-map -V n --append --text night2.csv
    assert_output "$(tsv '0|0|1')"
}

@test "map: a map.conf storing column 0 or a delimiter with a quote is damage: exit 1, map.conf:LINE" {
    als-map -q -V v -o base.trp "$DATA/map-basic.csv"
    sed -i 's/^item-column "2"$/item-column "0"/' v/map.conf
    local line before
    line=$(grep -n '^item-column' v/map.conf | cut -d: -f1)
    before=$(state_of v)
    run -1 --separate-stderr als-map -V v --append -o out.trp "$DATA/map-basic.csv"
    assert_stderr "als-map: v/map.conf:$line: item-column 0 is out of range (1-64)"
    assert_eq "$before" "$(state_of v)" "DIR"
    no_output_files
    sed -i 's/^item-column "0"$/item-column "2"/; s/^delimiter ","$/delimiter ",\\""/' v/map.conf
    line=$(grep -n '^delimiter' v/map.conf | cut -d: -f1)
    run -1 --separate-stderr als-map -V v --append -o out.trp "$DATA/map-basic.csv"
    assert_stderr "als-map: v/map.conf:$line: delimiter with a quote or line break"
    no_output_files
}
