# SPDX-License-Identifier: MIT
# als-gen-log, the sample-log generator that the demo, the tests and the benchmarks rely on.

bats_require_minimum_version 1.5.0

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
}

# A log and its ground truth, tab-separated so awk can read both with one FS.
gen_with_truth() {
    als-gen-log --delimiter tab --truth truth.tsv -o log.tsv "$@"
}

# Lines of stdin that do not match the extended regex $1 (grep, not awk: mawk lacks {m,n}).
count_bad() {
    grep -Evc "$1" || true
}

@test "--help lists every option on stdout and exits 0" {
    run -0 --separate-stderr als-gen-log --help
    [ -z "$stderr" ]
    [[ ${lines[0]} == "usage: als-gen-log "* ]]
    for opt in --lines --users --items --clusters --affinity --seed --id-seed --delimiter \
               --no-header --user-ids --item-ids --durations --days --start --output \
               --truth --help --version; do
        [[ $output == *"$opt"* ]] || { echo "missing $opt"; return 1; }
    done
    [[ $output == *"default 10000"* ]]
}

@test "--version prints one line" {
    run -0 als-gen-log --version
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == "als-gen-log "* ]]
    run -1 --separate-stderr bash -c 'als-gen-log --help > /dev/full'
    [ "$stderr" = "als-gen-log: write error: No space left on device" ]
}

@test "writes exactly N lines plus a header" {
    run -0 als-gen-log --lines 1234
    [ "${#lines[@]}" -eq 1235 ]
    [ "${lines[0]}" = "visitor_id,content_id,duration_s,timestamp" ]
    [ "$(als-gen-log --lines 1234 --no-header | wc -l)" -eq 1234 ]
    [ "$(als-gen-log --lines 1 --no-header | wc -l)" -eq 1 ]
    [ "$(als-gen-log | wc -l)" -eq 10001 ]
}

@test "every line has four fields of the expected shape" {
    als-gen-log --lines 5000 > log.csv
    run -0 awk -F, 'NR > 1 && (NF != 4 || $3 !~ /^[0-9]+\.[0-9]$/ || $4 !~ /^[0-9]+$/)' log.csv
    [ -z "$output" ]
    als-gen-log --lines 2000 --durations int > int.csv
    run -0 awk -F, 'NR > 1 && $3 !~ /^[1-9][0-9]*$/' int.csv
    [ -z "$output" ]
}

@test "delimiters by name and as a literal character" {
    [ "$(als-gen-log --lines 3 --delimiter tab | head -1)" = \
      "$(printf 'visitor_id\tcontent_id\tduration_s\ttimestamp')" ]
    [ "$(als-gen-log --lines 3 --delimiter semicolon | head -1)" = \
      "visitor_id;content_id;duration_s;timestamp" ]
    [ "$(als-gen-log --lines 3 -d pipe | head -1)" = "visitor_id|content_id|duration_s|timestamp" ]
    cmp <(als-gen-log --lines 500 -d ';') <(als-gen-log --lines 500 -d semicolon)
    run -0 awk -F'|' 'NF != 4' <(als-gen-log --lines 500 -d pipe)
    [ -z "$output" ]
}

@test "the same arguments give identical bytes, another seed different ones" {
    als-gen-log --lines 20000 --seed 7 > a.csv
    als-gen-log --lines 20000 --seed 7 > b.csv
    als-gen-log --lines 20000 --seed 8 > c.csv
    cmp a.csv b.csv
    run -1 cmp -s a.csv c.csv
    als-gen-log --lines 20000 --seed 7 -o d.csv
    cmp a.csv d.csv
    als-gen-log --lines 20000 --seed 7 --truth t1.tsv > /dev/null
    als-gen-log --lines 20000 --seed 7 --truth t2.tsv > /dev/null
    cmp t1.tsv t2.tsv
}

@test "-o leaves no temporary file behind" {
    als-gen-log --lines 1000 -o out.csv --truth truth.tsv
    run -0 ls
    [ "$output" = "$(printf 'out.csv\ntruth.tsv')" ]
}

@test "digit visitor IDs have 20 digits and some exceed 2^64" {
    als-gen-log --lines 20000 --user-ids digits --no-header > log.csv
    [ "$(cut -d, -f1 log.csv | count_bad '^[1-9][0-9]{19}$')" -eq 0 ]
    # Equal-length decimal strings compare like the numbers they spell.
    big=$(awk -F, '($1 "") > "18446744073709551615"' log.csv | wc -l)
    small=$(awk -F, '($1 "") <= "18446744073709551615"' log.csv | wc -l)
    [ "$big" -gt 1000 ]
    [ "$small" -gt 1000 ]
}

@test "alnum visitor IDs are 8 to 16 alphanumerics; mixed gives both kinds" {
    alnum='^[A-Za-z][0-9A-Za-z]{7,15}$'
    [ "$(als-gen-log --lines 5000 --user-ids alnum --no-header | cut -d, -f1 |
         count_bad "$alnum")" -eq 0 ]
    als-gen-log --lines 20000 --truth truth.tsv > /dev/null
    grep '^user' truth.tsv | cut -f2 > users
    [ "$(grep -Ec '^[1-9][0-9]{19}$' users)" -gt 100 ]
    [ "$(grep -Ec "$alnum" users)" -gt 100 ]
    [ "$(count_bad "^[1-9][0-9]{19}\$|$alnum" < users)" -eq 0 ]
}

@test "content IDs: alnum, digits and canonical lowercase UUIDs" {
    [ "$(als-gen-log --lines 3000 --no-header | cut -d, -f2 | count_bad '^c-[0-9a-z]{6}$')" -eq 0 ]
    [ "$(als-gen-log --lines 3000 --no-header --item-ids digits | cut -d, -f2 |
         count_bad '^[1-9][0-9]{19}$')" -eq 0 ]
    uuid='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
    [ "$(als-gen-log --lines 3000 --no-header --item-ids uuid | cut -d, -f2 |
         count_bad "$uuid")" -eq 0 ]
}

@test "distinct indices get distinct IDs in every style" {
    for style in "--user-ids digits --item-ids digits" "--user-ids alnum --item-ids uuid" \
                 "--user-ids mixed --item-ids alnum"; do
        # shellcheck disable=SC2086
        als-gen-log --lines 1000 --users 30000 --items 30000 --truth truth.tsv $style > /dev/null
        [ "$(grep -c '^user' truth.tsv)" -eq 30000 ]
        [ "$(grep -c '^item' truth.tsv)" -eq 30000 ]
        [ "$(cut -f1,2 truth.tsv | sort -u | wc -l)" -eq 60000 ]
    done
}

@test "--truth names every visitor and item of the log with a cluster" {
    gen_with_truth --lines 20000 --clusters 5
    [ "$(grep -c '^user' truth.tsv)" -eq 800 ]   # default: lines / 25
    [ "$(grep -c '^item' truth.tsv)" -eq 100 ]   # default: max(100, lines / 400)
    run -0 awk -F'\t' '$3 !~ /^[0-4]$/' truth.tsv
    [ -z "$output" ]
    run -0 awk -F'\t' 'FNR == NR { k[$1 "\t" $2] = 1; next }
                       FNR > 1 && (!(("user\t" $1) in k) || !(("item\t" $2) in k))' \
        truth.tsv log.tsv
    [ -z "$output" ]
}

@test "--truth agrees with the log beyond the ID caches (65536 visitors, 262144 items)" {
    gen_with_truth --lines 30000 --users 200000 --items 300000 --clusters 4 --item-ids uuid
    run -0 awk -F'\t' 'FNR == NR { c[$1 "\t" $2] = $3; next }
                       FNR > 1 { n++; u = "user\t" $1; i = "item\t" $2
                                 if (!(u in c) || !(i in c)) bad++
                                 if (c[u] == c[i]) s++ }
                       END { printf "%d %d\n", bad, 1000 * s / n }' truth.tsv log.tsv
    echo "missing, same-cluster per mille: $output"
    [ "${output% *}" -eq 0 ]
    [ "${output#* }" -ge 810 ]   # expected 850
    [ "${output#* }" -le 890 ]
}

@test "logs with one --id-seed share visitors, items and clusters" {
    als-gen-log --lines 20000 --seed 42 --truth a.tsv > a.csv
    als-gen-log --lines 5000 --seed 43 --id-seed 42 --users 1000 --items 300 --truth b.tsv > b.csv
    run -1 cmp -s a.csv b.csv
    # Same indices, same IDs and clusters, whatever --users and --items say.
    cmp <(grep '^user' a.tsv) <(grep '^user' b.tsv | head -n 800)
    cmp <(grep '^item' a.tsv) <(grep '^item' b.tsv | head -n 100)
    # --id-seed defaults to --seed.
    cmp <(als-gen-log --lines 3000 --seed 9) <(als-gen-log --lines 3000 --seed 9 --id-seed 9)
}

@test "timestamps start at 2026-01-01, never decrease and span about --days" {
    als-gen-log --lines 50000 --no-header > log.csv
    [ "$(head -1 log.csv | cut -d, -f4)" = 1767225600 ]
    run -0 awk -F, 'NR > 1 && $4 < prev { print NR; exit } { prev = $4 }' log.csv
    [ -z "$output" ]
    days=$(tail -1 log.csv | awk -F, '{ printf "%d", ($4 - 1767225600) / 86400 }')
    [ "$days" -ge 50 ]
    [ "$days" -le 70 ]
    days=$(als-gen-log --lines 5000 --days 10 | tail -1 |
           awk -F, '{ printf "%d", ($4 - 1767225600) / 86400 }')
    [ "$days" -ge 7 ]
    [ "$days" -le 13 ]
    [ "$(als-gen-log --lines 1 --no-header --start 1000 | cut -d, -f4)" = 1000 ]
}

@test "activity and popularity follow a power law" {
    als-gen-log --lines 100000 --no-header > log.csv
    # 4000 visitors by default: the top 1% (40) hold far more than 1% of the lines.
    share=$(cut -d, -f1 log.csv | sort | uniq -c | sort -rn |
            awk '{ n += $1 } NR <= 40 { top += $1 } END { printf "%d", 100 * top / n }')
    echo "top 1% of visitors: $share%"
    [ "$share" -gt 10 ]
    # Yet most visitors are light: the median active visitor has a handful of lines.
    median=$(cut -d, -f1 log.csv | sort | uniq -c | sort -n |
             awk '{ c[NR] = $1 } END { print c[int((NR + 1) / 2)] }')
    echo "median lines per visitor: $median"
    [ "$median" -le 25 ]
    # 250 items: the top 1% (2) hold far more than 1% of the lines.
    share=$(cut -d, -f2 log.csv | sort | uniq -c | sort -rn |
            awk '{ n += $1 } NR <= 2 { top += $1 } END { printf "%d", 100 * top / n }')
    echo "top 1% of items: $share%"
    [ "$share" -gt 5 ]
}

@test "planted clusters: visitors mostly watch their own cluster, and longer" {
    gen_with_truth --lines 50000 --clusters 8 --affinity 0.8
    # Expected: affinity + (1 - affinity) * 1/C = 0.825; by chance alone it would be 1/C.
    run -0 awk -F'\t' 'FNR == NR { c[$1 "\t" $2] = $3; next }
                       FNR > 1 { n++; if (c["user\t" $1] == c["item\t" $2]) s++ }
                       END { printf "%d\n", 1000 * s / n }' truth.tsv log.tsv
    echo "same-cluster per mille: $output"
    [ "$output" -ge 785 ]
    [ "$output" -le 865 ]
    # The durations carry the taste: sessions inside the cluster run clearly longer.
    run -0 awk -F'\t' 'FNR == NR { c[$1 "\t" $2] = $3; next }
                       FNR > 1 { if (c["user\t" $1] == c["item\t" $2]) { si += $3; ni++ }
                                 else { so += $3; no++ } }
                       END { printf "%d\n", (si / ni) / (so / no) }' truth.tsv log.tsv
    echo "mean duration ratio in/out: $output"
    [ "$output" -ge 2 ]
    gen_with_truth --lines 50000 --clusters 8 --affinity 0
    run -0 awk -F'\t' 'FNR == NR { c[$1 "\t" $2] = $3; next }
                       FNR > 1 { n++; if (c["user\t" $1] == c["item\t" $2]) s++ }
                       END { printf "%d\n", 1000 * s / n }' truth.tsv log.tsv
    echo "same-cluster per mille without affinity: $output"
    [ "$output" -le 250 ]
}

@test "bad options and numbers exit 2 with one message and the usage" {
    for args in "--lines 12x" "--lines 0" "--lines -3" "--lines=" "--bogus" "-x" "--lines" \
                "--users 0" "--affinity 1.5" "--affinity x" "--clusters 0" \
                "--clusters 200 --items 100" "--user-ids hex" "--item-ids alnum2" \
                "--durations float" "--delimiter xx" "--delimiter a" "--days 0" \
                "--seed 18446744073709551616" "stray"; do
        # shellcheck disable=SC2086
        run -2 --separate-stderr als-gen-log $args
        [ -z "$output" ]
        [[ ${stderr_lines[0]} == "als-gen-log: "* ]] || { echo "$args: $stderr"; return 1; }
        [[ ${stderr_lines[1]} == "usage: als-gen-log "* ]]
    done
    run -2 --separate-stderr als-gen-log --lines 12x
    [ "${stderr_lines[0]}" = \
      "als-gen-log: invalid --lines '12x' (expected an integer from 1 to 1000000000000)" ]
}

@test "write errors exit 1 with a message" {
    run -1 --separate-stderr bash -c 'als-gen-log --lines 1000 > /dev/full'
    [ "$stderr" = "als-gen-log: write error: No space left on device" ]
    run -1 --separate-stderr als-gen-log --lines 10 -o no/such/dir/log.csv
    [[ $stderr == "als-gen-log: cannot create 'no/such/dir/log.csv': No such file or directory" ]]
    [ ! -e no ]
}
