#!/bin/sh
# make bench: als-map throughput on a generated log, beside the machine's floors
# (cat and gzip -dc of the same file). Medians of REPEAT runs; peak RSS from GNU time.
# Environment: BENCH_LINES (default 20000000), REPEAT (default 3), BENCH_DIR (bench-out).
set -eu
B=${1:-build}
top=$(pwd)
PATH="$top/$B:$PATH"
LINES=${BENCH_LINES:-20000000}
REPEAT=${REPEAT:-3}
DIR=${BENCH_DIR:-bench-out}
mkdir -p "$DIR"
cd "$DIR"

if ! [ -x /usr/bin/time ]; then
    if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
    else
        echo "bench: needs GNU time (apt-get install time)" >&2
        exit 1
    fi
fi

log=log-$LINES.csv
if ! [ -s "$log" ]; then
    echo "generating $LINES lines (alphanumeric visitor IDs, 20-digit content IDs)..." >&2
    als-gen-log --lines "$LINES" --seed 7 --user-ids alnum --item-ids digits > "$log.tmp"
    mv "$log.tmp" "$log"
fi
if ! [ -s "$log.gz" ]; then
    echo "compressing with gzip -1..." >&2
    gzip -1 -c "$log" > "$log.gz.tmp"
    mv "$log.gz.tmp" "$log.gz"
fi
bytes=$(wc -c < "$log")
gzbytes=$(wc -c < "$log.gz")

# run NAME CMD...: REPEAT timed runs; prints the median seconds and the max peak RSS (KB)
run() {
    name=$1
    shift
    : > times.txt
    i=0
    while [ "$i" -lt "$REPEAT" ]; do
        sync # earlier steps' dirty pages must not be written back during this one
        /usr/bin/time -f '%e %M' -o one.txt sh -c "$*" >/dev/null 2>&1
        cat one.txt >> times.txt
        i=$((i + 1))
    done
    med=$(sort -n times.txt | awk '{ t[NR] = $1; if ($2 > m) m = $2 } END { print t[int((NR + 1) / 2)], m }')
    echo "$name $med"
}

echo "# als-map bench: $LINES lines, $bytes bytes plain, $gzbytes bytes gzip -1; median of $REPEAT"
{
    run cat "cat $log > /dev/null"
    run cat-pipe "cat $log | cat > /dev/null"
    run wc-l "wc -l $log"
    run map-plain "rm -rf v && als-map -q -H -V v -o out.trp $log"
    run map-plain-null "rm -rf v && als-map -q -H -V v -o /dev/null $log"
    run map-plain-1thread "rm -rf v && als-map -q -H -j 1 -V v -o out.trp $log"
    run gzip-dc "gzip -dc $log.gz > /dev/null"
    run map-gzip "rm -rf v && als-map -q -H -V v -o out.trp $log.gz"
    run csr "als-csr -q -V v -o out.csr out.trp"
    run map-csr-pipe "rm -rf v && als-map -q -H -V v $log | als-csr -q -V v -o out.csr"
} > results.txt
awk -v lines="$LINES" -v bytes="$bytes" '
    { t[$1] = $2; rss[$1] = $3 }
    END {
        printf "%-18s %9s %12s %9s %10s\n", "step", "seconds", "Mlines/s", "MB/s", "peak MB"
        n = split("cat cat-pipe wc-l map-plain map-plain-null map-plain-1thread gzip-dc map-gzip csr map-csr-pipe", k, " ")
        for (i = 1; i <= n; i++) {
            s = t[k[i]]; if (s <= 0) s = 0.001
            printf "%-18s %9.2f %12.2f %9.0f %10.1f\n", k[i], s, lines / s / 1e6,
                   bytes / s / 1e6, rss[k[i]] / 1024
        }
        printf "\nratios: map-plain / cat-pipe = %.2f, map-gzip / gzip-dc = %.2f, " \
               "map|csr / wc-l = %.2f\n", t["map-plain"] / t["cat-pipe"],
               t["map-gzip"] / t["gzip-dc"], t["map-csr-pipe"] / t["wc-l"]
        printf "(peak MB of map-csr-pipe is the larger of the two processes)\n"
    }' results.txt

# Memory follows distinct IDs, not lines: the same population, a quarter of the lines.
q=$((LINES / 4))
als-gen-log --lines "$q" --seed 7 --user-ids alnum --item-ids digits \
    --users $((LINES / 25)) --items $((LINES / 400)) > quarter.csv
rm -rf v
/usr/bin/time -f '%M' -o rss.txt als-map -q -H -V v -o /dev/null quarter.csv
users_q=$(als-map --dump users -V v | wc -l)
rm -rf v
/usr/bin/time -f '%M' -o rss-full.txt als-map -q -H -V v -o /dev/null "$log"
users_f=$(als-map --dump users -V v | wc -l)
echo "memory: $q lines ($users_q users) peak $(($(cat rss.txt) / 1024)) MB;" \
     "$LINES lines ($users_f users) peak $(($(cat rss-full.txt) / 1024)) MB"
als-csr --info out.csr | head -n 6
rm -f quarter.csv out.trp out.csr one.txt times.txt

# The training benchmark (issue: als-train speed) runs after the mapping one.
cd "$top"
sh share/bench-train.sh "$B"
