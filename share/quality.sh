#!/bin/sh
# make quality: the model quality numbers on the real data sets in ../shared/data
# (MovieLens 100K, Last.fm 2K), with the exact commands; skipped when the data is absent.
#  1. explicit ALS on ml-100k folds u1..u5: test RMSE per fold, mean and spread;
#  2. implicit ALS on ml-100k and lastfm-2k, 80/20 split per user: ndcg@10, precision@10
#     and AUC against the popularity baseline.
set -eu
B=${1:-build}
top=$(pwd)
PATH="$top/$B:$PATH"
DATA=${ALS_DATA:-$top/../shared/data}
if ! [ -f "$DATA/ml-100k/u.data.gz" ] || ! [ -f "$DATA/lastfm-2k/user_artists.dat.gz" ]; then
    echo "quality: $DATA has no ml-100k or lastfm-2k: skipped" >&2
    exit 0
fi
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$w"
set -x
# 1. one vocabulary for all of ml-100k, then each fold mapped through it, frozen
als-map -q -V ml -t 4 -o /dev/null "$DATA/ml-100k/u.data.gz"
for f in 1 2 3 4 5; do
    als-map -q -V ml --frozen -o b.trp "$DATA/ml-100k/u$f.base.gz"
    als-map -q -V ml --frozen -o t.trp "$DATA/ml-100k/u$f.test.gz"
    als-csr -q -V ml -o b.csr b.trp
    als-csr -q -V ml -o t.csr t.trp
    als-train -q --explicit -k 60 -n 20 -l 0.12 -o u$f.als b.csr
    als-eval -m u$f.als -c b.csr --format tsv t.csr | awk -F'\t' '$1 == "rmse" { print $2 }' \
        > rmse$f.txt
done
{ set +x; } 2>/dev/null
cat rmse1.txt rmse2.txt rmse3.txt rmse4.txt rmse5.txt | awk '
    { r[NR] = $1; s += $1 }
    END { m = s / NR; for (i = 1; i <= NR; i++) v += (r[i] - m) ^ 2
          printf "ml-100k explicit, u1..u5 test RMSE: %s %s %s %s %s; mean %.4f, sd %.4f\n",
                 r[1], r[2], r[3], r[4], r[5], m, sqrt(v / (NR - 1)) }'
set -x
# 2. implicit: ml-100k (ratings as counts) and lastfm-2k (log1p of play counts)
als-map -q -V mli -o mli.trp "$DATA/ml-100k/u.data.gz"
als-csr -q -V mli -o mli-tr.csr --test mli-te.csr --test-fraction 0.2 --seed 1 mli.trp
als-train -q -k 64 -n 15 -a 1 -l 10 -o mli.als mli-tr.csr
als-map -q -H -V lf -r weight --transform log1p -o lf.trp \
    "$DATA/lastfm-2k/user_artists.dat.gz"
als-csr -q -V lf -o lf-tr.csr --test lf-te.csr --test-fraction 0.2 --seed 1 lf.trp
als-train -q -k 64 -n 15 -a 2 -l 30 -o lf.als lf-tr.csr
{ set +x; } 2>/dev/null
for d in mli lf; do
    als-eval -m $d.als -c $d-tr.csr --format tsv $d-te.csr | awk -F'\t' -v d=$d '
        $1 == "ndcg@10" || $1 == "precision@10" || $1 == "auc" {
            printf "%s implicit: %s model %.4f, popularity %.4f, lift %.2f\n", d, $1, $2, $3, $4 }'
done
