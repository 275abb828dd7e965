#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# eval_json_check.py USERS TSV < JSON: for tests/cli/50-als-eval.bats, the JSON report of
# als-eval (stdin) is one object with USERS users and, for every metric of the TSV report
# TSV (the text itself) in its order, model, baseline and lift equal to the TSV's numbers.
import json, sys

users, tsv = int(sys.argv[1]), sys.argv[2]
o = json.loads(sys.stdin.read())
assert isinstance(o, dict), o
assert o["users"] == users, (o["users"], users)
assert 0 < users <= 800, users
m = o["metrics"]
names = [l.split("\t")[0] for l in tsv.splitlines()[1:]]
assert list(m) == names, (list(m), names)
for name, v in m.items():
    assert set(v) == {"model", "baseline", "lift"}, (name, v)
    for x in v.values():
        assert isinstance(x, float), (name, v)
    assert abs(v["lift"] - v["model"] / v["baseline"]) < 1e-3, (name, v)
# the same numbers as the TSV, to its 6 decimals
for l in tsv.splitlines()[1:]:
    f = l.split("\t")
    v = m[f[0]]
    assert abs(v["model"] - float(f[1])) < 1e-6 and abs(v["baseline"] - float(f[2])) < 1e-6, l
