#!/bin/sh
# The nightly job of als(7): retrain on the whole history, gate, promote, recommend.
# usage: nightly.sh [DIR]  (DIR holds logs/*.csv.gz with a header line; default: .)
# Exit status: 0 promoted and recommended; 3 the gate failed (nothing changed: the model
# and recommendations in production stay, new.als is left to look at); other: an error
# (nothing changed either: every step writes atomically).
set -eu
cd "${1:-.}"
# the whole history, new IDs appended, old indices unchanged (creates vocab the first night)
als-map -q -V vocab --append -H -o all.trp logs/*.csv.gz
# the same stable split every night: an entry keeps its side as the history grows, so the
# model in production has never seen tonight's test entries
als-csr -q -V vocab --test-fraction 0.1 --stable --seed 1 --test test.csr -o train.csr all.trp
if [ -e model.als ]; then
    # warm start (rank, alpha, lambda from model.als); gate against model.als, grown to
    # tonight's users and items by als-eval: at least ndcg@10 0.1, nowhere 2% worse
    als-train -q --init model.als -n 5 -o new.als train.csr
    als-eval -q -m new.als -c train.csr --min ndcg@10=0.1 --baseline model.als test.csr
else
    als-train -q -o new.als train.csr
    als-eval -q -m new.als -c train.csr --min ndcg@10=0.1 test.csr
fi
mv new.als model.als
# recommend with the whole history, so that nobody is offered what they already have (and
# the popular items to the few whose every entry fell on the test side: no factors)
als-csr -q -V vocab -o seen.csr all.trp
als-recommend -q -m model.als -V vocab -c seen.csr --cold popular --all -o top10.tsv
