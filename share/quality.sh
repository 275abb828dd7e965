#!/bin/sh
# make quality: model quality with the defaults, beside the best of a search and popularity,
# on the real data in ../shared/data (skipped when absent) and on generated logs of other
# shapes, with the exact commands (set -x). Implicit sets: one seeded 80/20 split each;
# ndcg@10, precision@10 and recall@10 from als-eval. Two searches per set over the same
# grid (alpha and lambda from a quarter to four times the defaults, k 64):
#   honest:  chosen on a validation split of the training part, retrained on all of it and
#            measured on the test part (what a user who tunes would get);
#   ceiling: chosen on the test part itself (optimistic: the best the grid holds).
# Explicit: ml-100k folds u1..u5, test RMSE with the defaults (--explicit alone).
# With IMPLICIT=DIR (a build of the Python library implicit), its defaults and the best of
# a grid on each implicit set too (peer below).
set -eu
B=${1:-build}
top=$(pwd)
PATH="$top/$B:$PATH"
DATA=${ALS_DATA:-$top/../shared/data}
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$w"
GRID='alpha=auto*0.25,auto*0.5,auto,auto*2,auto*4 lambda=auto*0.25,auto*0.5,auto,auto*2,auto*4'

# metrics MODEL TRAIN TEST: "ndcg@10 p@10 recall@10" of the model, then of popularity
metrics() {
    als-eval --format tsv -m "$1" -c "$2" "$3" 2>/dev/null
}
row() { # row NAME METRICS-TSV COLUMN(2 model, 3 popularity)
    awk -F '\t' -v n="$1" -v c="$3" '$1 == "ndcg@10" { a = $c } $1 == "precision@10" { b = $c }
        $1 == "recall@10" { r = $c } END { printf "  %-28s ndcg@10 %.4f  p@10 %.4f  recall@10 %.4f\n", n, a, b, r }' "$2"
}

# one SET: the split in SET-tr.csr and SET-te.csr, vocabulary SET/
one() {
    s=$1
    set -x
    als-train -q -o "$s-default.als" "$s-tr.csr"
    als-csr --dump "$s-tr.csr" | als-csr -q -V "$s" -o "$s-fit.csr" --test "$s-va.csr" \
        --test-fraction 0.2 --seed 2
    als-train -q -k 64 --search "$GRID" --validate "$s-va.csr" -o "$s-va.als" "$s-fit.csr" \
        > "$s-va.tsv"
    als-train -q -k "$(awk -F '\t' '$9 == "best" { k = $2 } END { print k }' "$s-va.tsv")" \
        -a "$(awk -F '\t' '$9 == "best" { a = $4 } END { print a }' "$s-va.tsv")" \
        -l "$(awk -F '\t' '$9 == "best" { l = $5 } END { print l }' "$s-va.tsv")" \
        -o "$s-honest.als" "$s-tr.csr"
    als-train -q -k 64 --search "$GRID" --validate "$s-te.csr" -o "$s-ceiling.als" \
        "$s-tr.csr" > "$s-te.tsv"
    { set +x; } 2>/dev/null
    metrics "$s-default.als" "$s-tr.csr" "$s-te.csr" > d.tsv
    metrics "$s-honest.als" "$s-tr.csr" "$s-te.csr" > h.tsv
    metrics "$s-ceiling.als" "$s-tr.csr" "$s-te.csr" > c.tsv
    echo "$s ($(als-csr --info "$s-tr.csr" | awk -F '\t' '$1 == "rows" { r = $2 } $1 == "cols" { c = $2 }
        $1 == "nnz" { n = $2 } END { printf "%s x %s, %s training entries", r, c, n }')):"
    row "defaults" d.tsv 2
    row "search on validation" h.tsv 2
    row "search on test (ceiling)" c.tsv 2
    row "popularity" d.tsv 3
    awk -F '\t' 'FNR == 1 { f++ } $1 == "ndcg@10" { v[f] = $2 }
        END { printf "  defaults / ceiling: %.3f\n", v[1] / v[2] }' d.tsv c.tsv
    [ -n "${IMPLICIT:-}" ] && peer "$s"
    return 0
}

# peer SET: the Python library implicit (IMPLICIT=DIR, built by ../shared/peers/
# build-implicit.sh) on the same split, scored as als-eval scores (share/peer-implicit.py
# checks that): its defaults, then the best of alpha = c / mean r, c 0.25 to 16, and
# regularization 0.01 to 100, with its CG solver, k 64, 15 iterations
peer() {
    s=$1
    m=$(als-csr --dump "$s-tr.csr" | awk -F '\t' '{ t += $3; n++ } END { printf "%.9g", t / n }')
    al=$(echo 0.25 0.5 1 2 4 8 16 | tr ' ' '\n' | awk -v m="$m" '{ printf "%s%.6g", NR > 1 ? "," : "", $1 / m }')
    set -x
    PYTHONPATH=$IMPLICIT /usr/bin/python3 "$top/share/peer-implicit.py" "$s-tr.csr" "$s-te.csr" \
        --factors 64 --iterations 15 --alpha 1 --reg 0.01 --cg > "$s-peer-default.tsv"
    PYTHONPATH=$IMPLICIT /usr/bin/python3 "$top/share/peer-implicit.py" "$s-tr.csr" "$s-te.csr" \
        --factors 64 --iterations 15 --alpha "$al" --reg 0.01,0.1,1,3,10,30,100 --cg \
        > "$s-peer-grid.tsv"
    { set +x; } 2>/dev/null
    for f in default grid; do
        awk -F '\t' -v n="implicit $f$([ $f = grid ] && echo ' (ceiling)')" '$1 == "best" {
            printf "  %-28s ndcg@10 %.4f  p@10 %.4f  recall@10 %.4f  (alpha %s, reg %s)\n",
                   n, $4, $5, $6, $2, $3 }' "$s-peer-$f.tsv"
    done
}

if [ -f "$DATA/ml-100k/u.data.gz" ] && [ -f "$DATA/lastfm-2k/user_artists.dat.gz" ]; then
    set -x
    als-map -q -V mli -o mli.trp "$DATA/ml-100k/u.data.gz"
    als-csr -q -V mli -o mli-tr.csr --test mli-te.csr --test-fraction 0.2 --seed 1 mli.trp
    als-map -q -H -V lf -r weight -o lf.trp "$DATA/lastfm-2k/user_artists.dat.gz"
    als-csr -q -V lf -o lf-tr.csr --test lf-te.csr --test-fraction 0.2 --seed 1 lf.trp
    als-map -q -H -V lfl -r weight --transform log1p -o lfl.trp \
        "$DATA/lastfm-2k/user_artists.dat.gz"
    als-csr -q -V lfl -o lfl-tr.csr --test lfl-te.csr --test-fraction 0.2 --seed 1 lfl.trp
    { set +x; } 2>/dev/null
    one mli
    one lf
    one lfl
    # explicit: one vocabulary for all of ml-100k, then each fold mapped through it, frozen
    set -x
    als-map -q -V ml -t 4 -o /dev/null "$DATA/ml-100k/u.data.gz"
    for f in 1 2 3 4 5; do
        als-map -q -V ml --frozen -o b.trp "$DATA/ml-100k/u$f.base.gz"
        als-map -q -V ml --frozen -o t.trp "$DATA/ml-100k/u$f.test.gz"
        als-csr -q -V ml -o b.csr b.trp
        als-csr -q -V ml -o t.csr t.trp
        als-train -q --explicit -o u$f.als b.csr
        als-eval --format tsv -m u$f.als -c b.csr t.csr 2>/dev/null |
            awk -F'\t' '$1 == "rmse" { print $2, $3 }' > rmse$f.txt
    done
    { set +x; } 2>/dev/null
    cat rmse1.txt rmse2.txt rmse3.txt rmse4.txt rmse5.txt | awk '
        { r[NR] = $1; s += $1; b += $2 }
        END { m = s / NR; for (i = 1; i <= NR; i++) v += (r[i] - m) ^ 2
              printf "ml-100k explicit, defaults, u1..u5 test RMSE: %s %s %s %s %s; mean %.4f, sd %.4f (training mean: %.4f)\n",
                     r[1], r[2], r[3], r[4], r[5], m, sqrt(v / (NR - 1)), b / NR }'
else
    echo "quality: $DATA has no ml-100k or lastfm-2k: real data skipped" >&2
fi

# generated logs of other shapes: many users on few items, a median of one interaction per
# user, and a long tail of items
set -x
als-gen-log -n 200000 --seed 5 > g1.csv
als-gen-log -n 100000 -u 60000 -i 2000 --seed 6 > g2.csv
als-gen-log -n 300000 -u 5000 -i 20000 -c 32 --seed 7 > g3.csv
als-map -q -V g1 -u visitor_id -i content_id -r duration_s -o g1.trp g1.csv
als-map -q -V g2 -u visitor_id -i content_id -r duration_s --transform log1p -o g2.trp g2.csv
als-map -q -V g3 -u visitor_id -i content_id -r duration_s -o g3.trp g3.csv
for g in g1 g2 g3; do
    als-csr -q -V $g -o $g-tr.csr --test $g-te.csr --test-fraction 0.2 --seed 1 $g.trp
done
{ set +x; } 2>/dev/null
for g in g1 g2 g3; do one $g; done
