#!/bin/sh
# make demo: the pipeline on a generated sample log, in ./demo (no network, no ../shared).
set -eu
B=${1:-build}
PATH="$(pwd)/$B:$PATH"
rm -rf demo
mkdir demo
cd demo
echo "== generating a sample log: 200000 viewing sessions, 8 taste clusters"
als-gen-log --lines 200000 --seed 42 --truth truth.tsv > log.csv
head -n 4 log.csv
echo
echo "== als-map: raw IDs to dense indices, vocabulary in ./vocab"
als-map -V vocab -u visitor_id -i content_id -r duration_s -t timestamp \
    --transform log1p -o ratings.trp log.csv
echo
echo "== the vocabulary directory remembers how the log was read:"
cat vocab/map.conf
echo
echo "== first users and items:"
als-map --dump users -V vocab | head -n 3
als-map --dump items -V vocab | head -n 3
echo
echo "== a nightly run appends new visitors; old indices stay put"
als-gen-log --lines 20000 --seed 43 --id-seed 42 --users 9000 --items 550 \
    --start 1772409600 --days 1 > tonight.csv
als-map -V vocab --append -o tonight.trp tonight.csv
echo
echo "== first triples (user, item, log1p(duration), time):"
als-map -q -V vocab --frozen --text tonight.csv | head -n 3
echo
echo "== als-csr: the ratings matrix and its transpose, with a 20% test split per visitor"
als-csr -V vocab -o train.csr --test test.csr --test-fraction 0.2 --seed 1 ratings.trp
als-csr --info train.csr
echo
echo "== als-train: implicit ALS (confidence 1 + alpha * log1p(seconds)), 8 factors"
als-train -k 8 -n 15 -a 1 -l 1 --validate test.csr -o model.als train.csr
als-train --info model.als
echo
echo "== als-recommend: top 5 for three sample visitors, by raw ID (seen items excluded:"
echo "   the whole history, not the training part, says what they have seen)"
als-csr -q -V vocab -o seen.csr ratings.trp
als-map --dump users -V vocab | sed -n '1p;2p;3p' | cut -f2 |
    als-recommend -m model.als -V vocab -c seen.csr -k 5 --explain-source
echo
echo "== items most similar to the first content item"
als-recommend --similar -m model.als -V vocab -k 3 "$(als-map --dump items -V vocab | head -n 1 | cut -f2)"
echo
echo "== als-eval: the model against the popularity baseline on the held-out 20%"
als-eval -m model.als -c train.csr -k 1,5,10,20 --format table --plot metrics.svg \
    --min ndcg@10=0.25 test.csr
echo "(precision and recall against k: demo/metrics.svg)"
