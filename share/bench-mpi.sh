#!/bin/sh
# make bench MPI=1: als-train-mpi on one machine, beside als-train on the same matrix.
# For (ranks, threads per rank) = (1,2), (2,1), (4,1) at k = 64: seconds per iteration
# (median over iterations), rank 0's seconds in MPI, the fastest and slowest rank's solve
# seconds, and the bytes exchanged per iteration; every model compared with als-train's.
# Then, from the measured one-rank iteration, the exchange on paper at 10, 25 and 100 GbE
# and the rank count past which it would take longer than the solves.
# Usage: share/bench-mpi.sh BUILD-DIR TRAIN.CSR (bench-train.sh calls it with its matrix)
# Environment: ITERS (15), K (64).
set -eu
B=$1
csr=$2
ITERS=${ITERS:-15}
K=${K:-64}
command -v mpirun >/dev/null || { echo "bench-mpi: no mpirun (apt-get install openmpi-bin)" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_btl=self,vader # shared memory only: the ranks share this machine

# median of the "seconds" of the --progress=json iteration lines in FILE
median_iter() {
    grep -o '"seconds":[0-9.]*' "$1" | cut -d: -f2 | sort -n |
        awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}

als-train -j 2 -k "$K" -n "$ITERS" --progress=json -o mpi-ref.model "$csr" 2> ref.txt
ref=$(median_iter ref.txt)
echo "# als-train-mpi bench: k $K, $ITERS iterations; als-train -j 2: $ref s/iter"
printf '%5s %7s %8s %9s %13s %13s %12s %6s\n' ranks threads s/iter "MPI s" \
    "fastest s" "slowest s" "bytes/iter" model
for pt in 1:2 2:1 4:1; do
    p=${pt%:*}
    t=${pt#*:}
    mpirun --quiet --oversubscribe -np "$p" als-train-mpi -v -j "$t" -k "$K" -n "$ITERS" \
        --progress=json -o mpi.model "$csr" 2> mpi.txt
    sec=$(median_iter mpi.txt)
    same=differs
    cmp -s mpi-ref.model mpi.model && same=same
    sed -n 's/.*ranks exchanged [0-9]* bytes, \([0-9]*\) per iteration; rank 0: [0-9.]* s solving, \([0-9.]*\) s in MPI; solving: fastest rank \([0-9]*\) \([0-9.]*\) s, slowest rank \([0-9]*\) \([0-9.]*\) s$/\1 \2 \3 \4 \5 \6/p' mpi.txt |
        awk -v p="$p" -v t="$t" -v sec="$sec" -v same="$same" '{
            printf "%5d %7d %8.3f %9.3f %6.3f (r%-3d) %6.3f (r%-3d) %12d %6s\n",
                   p, t, sec, $2, $4, $3, $6, $5, $1, same }'
done
info=$(als-csr --info "$csr")
U=$(echo "$info" | awk -F'\t' '$1 == "rows" { print $2 }')
I=$(echo "$info" | awk -F'\t' '$1 == "cols" { print $2 }')
# One rank per node, each with this machine's one-rank iteration time T1: an iteration
# takes T1 / P + (P - 1) / P V / B, V = (U + I) k 4 bytes (a ring all-gather); the
# exchange outgrows the solves (T1 / P) once P - 1 > T1 B / V.
awk -v U="$U" -v I="$I" -v k="$K" -v t1="$ref" 'BEGIN {
    v = (U + I) * k * 4
    printf "on paper, one rank per node of this machine (T1 %.3f s), V = (U+I) k 4 = %.1f MB:\n", t1, v / 1e6
    n = split("10 25 100", g, " ")
    for (i = 1; i <= n; i++) {
        bw = g[i] * 1e9 / 8
        printf "  %3d GbE: the exchange %.1f ms per iteration at large P; it exceeds the solves past P = %d\n",
               g[i], 1e3 * v / bw, int(1 + t1 * bw / v)
    }
}'
rm -f mpi.model mpi-ref.model mpi.txt ref.txt
