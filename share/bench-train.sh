#!/bin/sh
# Training benchmark: implicit ALS on a generated matrix shaped like MovieLens-20M
# (138,493 users x 26,744 items, about 20M nonzeros, power-law degrees), k = 64 and 128,
# both solvers, ITERS iterations on 2 threads. Reports seconds per iteration (median over
# iterations), peak RSS, GFLOP/s by the FLOP model of ../shared/MACHINE.md section 5, and
# that rate as a fraction of OpenBLAS sgemm measured in the same run.
# Environment: ITERS (15), KS ("64 128"), SOLVERS ("cg cholesky"), BENCH_DIR (bench-out),
# TRAIN_LINES (42000000 log lines, which give about 20M distinct pairs).
set -eu
B=${1:-build}
top=$(pwd)
PATH="$top/$B:$PATH"
ITERS=${ITERS:-15}
KS=${KS:-"64 128"}
SOLVERS=${SOLVERS:-"cg cholesky"}
LINES=${TRAIN_LINES:-42000000}
DIR=${BENCH_DIR:-bench-out}
mkdir -p "$DIR"
cd "$DIR"
csr=ml20m-shape-$LINES.csr
if ! [ -s "$csr" ]; then
    echo "generating the MovieLens-20M-shaped matrix ($LINES log lines)..." >&2
    rm -rf v20
    als-gen-log --lines "$LINES" --users 138493 --items 26744 --seed 20 --no-header \
        --user-ids alnum --item-ids alnum | als-map -q -r none -V v20 |
        als-csr -q -V v20 -o "$csr.tmp"
    mv "$csr.tmp" "$csr"
    rm -rf v20
fi
info=$(als-csr --info "$csr")
U=$(echo "$info" | awk -F'\t' '$1 == "rows" { print $2 }')
I=$(echo "$info" | awk -F'\t' '$1 == "cols" { print $2 }')
N=$(echo "$info" | awk -F'\t' '$1 == "nnz" { print $2 }')
sg1=$(bench-sgemm 2048 1)
sg2=$(bench-sgemm 2048 2)
echo "# als-train bench: $U users x $I items, $N nonzeros, $ITERS iterations, 2 threads"
echo "# OpenBLAS sgemm 2048^3 in this run: $sg1 GFLOP/s (1 thread), $sg2 GFLOP/s (2 threads)"
printf '%-9s %4s %10s %9s %9s %11s\n' solver k "s/iter" "GFLOP/s" "% sgemm" "peak MB"
for s in $SOLVERS; do
    for k in $KS; do
        /usr/bin/time -f '%M' -o rss.txt als-train -j 2 --progress=json --solver "$s" \
            -k "$k" -n "$ITERS" -o bench.model "$csr" 2> progress.txt
        rss=$(tail -n 1 rss.txt)
        [ "$s" = cg ] && [ "$k" = 64 ] && cp bench.model bench64.model
        # the median of the per-iteration seconds
        sec=$(grep -o '"seconds":[0-9.]*' progress.txt | cut -d: -f2 | sort -n |
            awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')
        awk -v s="$s" -v k="$k" -v U="$U" -v I="$I" -v N="$N" -v sec="$sec" \
            -v sg="$sg2" -v rss="$rss" 'BEGIN {
            if (s == "cg")
                f = 8 * (U + I) * k * k + 32 * N * k + 35 * (U + I) * k + (U + I) * k * (k + 1)
            else
                f = 2 * N * k * (k + 1) + 4 * N * k + (U + I) * (k * k * k / 3 + 2 * k * k) \
                    + 1.5 * (U + I) * k * (k + 1)
            g = f / sec / 1e9
            printf "%-9s %4d %10.3f %9.1f %8.1f%% %11.0f\n", s, k, sec, g, 100 * g / sg, rss / 1024
        }'
    done
done
csr_mb=$(($(wc -c < "$csr") / 1048576))
echo "(the CSR file, R and its transpose, is $csr_mb MB; factors are (U+I) k 4 bytes)"

# als-recommend --all with the k = 64 model: top 10, seen items filtered, 2 threads.
if [ -s bench64.model ]; then
    # a vocabulary of the right shape for the raw IDs (index numbers as IDs)
    rm -rf vrec
    awk -v u="$U" -v i="$I" 'BEGIN { n = u > i ? u : i; for (x = 0; x < n; x++)
        printf "u%d\ti%d\n", (x < u ? x : u - 1), (x < i ? x : i - 1) }' |
        als-map -q -F tab -r none -V vrec -o /dev/null
    # With the environment's OpenBLAS core, and, when OPENBLAS_CORETYPE pins one, also
    # with OpenBLAS's own detection (the AVX-512 kernels on a CPU that has them).
    for core in env detect; do
        [ "$core" = detect ] && [ -z "${OPENBLAS_CORETYPE:-}" ] && continue
        run_env=""
        [ "$core" = detect ] && run_env="env -u OPENBLAS_CORETYPE"
        : > times.txt
        for r in 1 2 3; do
            /usr/bin/time -f '%e %M' -o one.txt $run_env als-recommend -j 2 -m bench64.model \
                -V vrec -c "$csr" --all -k 10 -o rec.tsv
            cat one.txt >> times.txt
        done
        lines=$(wc -l < rec.tsv)
        label="OpenBLAS core ${OPENBLAS_CORETYPE:-detected}"
        [ "$core" = detect ] && label="OpenBLAS core detected"
        sort -n times.txt | awk -v U="$U" -v I="$I" -v sg="$sg2" -v lines="$lines" \
            -v label="$label" '
            { t[NR] = $1; if ($2 > m) m = $2 }
            END { s = t[2]; g = 2 * U * I * 64 / s / 1e9
                  printf "recommend --all k=64 top 10 (%s): %.2f s (median of 3), " \
                         "%.0f users/s, scoring %.1f GFLOP/s = %.1f%% of sgemm, peak %.0f MB, " \
                         "%d lines\n", label, s, U / s, g, 100 * g / sg, m / 1024, lines }'
    done
    rm -rf vrec rec.tsv one.txt times.txt bench64.model
fi
rm -f bench.model rss.txt progress.txt

# make bench MPI=1: the distributed trainer on the same matrix
if [ -x "$top/$B/als-train-mpi" ]; then
    sh "$top/share/bench-mpi.sh" "$B" "$csr"
fi
