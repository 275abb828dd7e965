#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Measure the peer library implicit's ALS on one als-csr split, with als-eval's metrics.

usage: peer-implicit.py TRAIN TEST --factors 64 --iterations 15 --alpha A1,A2,...
                        --reg R1,R2,... [--cg | --cholesky] [--shape ROWSxCOLS]

TRAIN and TEST are 'user<TAB>item<TAB>value' files as `als-csr --dump FILE.csr` prints
them, or the .csr files themselves (then als-csr, on PATH, dumps them and gives the
shape).  Prints 'alpha reg ndcg@10 precision@10 recall@10 seconds' per grid point, then
the best point by ndcg@10 with 'best' in front.  Run it as
    PYTHONPATH=DIR_OF_IMPLICIT OPENBLAS_NUM_THREADS=1 /usr/bin/python3 peer-implicit.py ...
The hidden option --factors-npy DIR scores DIR/user_factors.npy and item_factors.npy
(from `als-train --export-npy`) instead of training: it checks this evaluator against
als-eval on the same factors.
"""
import argparse, os, subprocess, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit's own threads are num_threads
import numpy as np, scipy.sparse as sp

K = 10  # the cutoff of every reported metric, als-eval's default


def load(path, shape):
    """A users x items CSR of float32 values; .csr files are read through als-csr."""
    if path.endswith(".csr"):
        text = subprocess.run(["als-csr", "--dump", path], check=True, capture_output=True,
                              text=True).stdout
        if shape is None:  # the dump has no shape and trailing empty rows/cols would be lost
            info = dict(l.split("\t", 1) for l in subprocess.run(
                ["als-csr", "--info", path], check=True, capture_output=True,
                text=True).stdout.splitlines() if "\t" in l)
            shape = (int(info["rows"]), int(info["cols"]))
        rows = [l.split("\t") for l in text.splitlines() if l]
    else:
        with open(path) as f:
            rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    # columns: user index, item index, value (a 4th, time, would be ignored)
    u = np.array([int(r[0]) for r in rows], dtype=np.int64)
    i = np.array([int(r[1]) for r in rows], dtype=np.int64)
    v = np.array([float(r[2]) for r in rows], dtype=np.float32)
    return u, i, v, shape


def to_csr(u, i, v, shape):
    X = sp.csr_matrix((v, (u, i)), shape=shape, dtype=np.float32)
    X.sum_duplicates()
    X.sort_indices()
    return X


def evaluate(U, V, train, test):
    """ndcg@K, precision@K, recall@K exactly as als-eval (lib/metrics.c) defines them."""
    rel = test.copy()
    rel.data = (rel.data > 0).astype(np.int8)  # relevance is binary: value > 0
    rel.eliminate_zeros()                      # a test value <= 0 (a dislike) is not relevant
    nrel = np.diff(rel.indptr)
    users = np.flatnonzero(nrel > 0)           # only users with a relevant test item count
    disc = 1.0 / np.log2(np.arange(K) + 2.0)
    idcg_cum = np.cumsum(disc)
    ni = V.shape[0]
    V64 = V.astype(np.float64)
    nd = pr = rc = 0.0
    for s in range(0, len(users), 512):
        b = users[s:s + 512]
        # als scores each pair as a double dot product rounded to float (exact_score)
        S = (U[b].astype(np.float64) @ V64.T).astype(np.float32)
        S[np.isnan(S)] = -np.inf                # NaN ranks below every number
        tr = train[b]
        S[np.repeat(np.arange(len(b)), np.diff(tr.indptr)), tr.indices] = -np.inf
        ncand = ni - np.diff(tr.indptr)         # training items are no candidates...
        # ...so only the first min(K, candidates) ranks are recommendations; ties: lower
        # item index first, hence a stable sort of the negated scores
        top = np.argsort(-S, axis=1, kind="stable")[:, :K]
        R = rel[b]
        hit = np.zeros(top.shape, dtype=bool)
        for j in range(len(b)):
            got = min(K, ncand[j])
            hit[j, :got] = np.isin(top[j, :got], R.indices[R.indptr[j]:R.indptr[j + 1]])
        h = hit.sum(1)
        n = nrel[b]
        nd += np.sum((hit * disc).sum(1) / idcg_cum[np.minimum(n, K) - 1])  # IDCG: min(|rel|,K)
        pr += np.sum(h / K)                     # divisor K even with fewer candidates
        rc += np.sum(h / n)                     # divisor |rel|
    m = len(users)
    return nd / m, pr / m, rc / m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train"); ap.add_argument("test")
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=15)
    ap.add_argument("--alpha", default="1.0")
    ap.add_argument("--reg", default="0.01")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--cg", dest="cg", action="store_true", default=True)
    g.add_argument("--cholesky", dest="cg", action="store_false")
    ap.add_argument("--shape", help="ROWSxCOLS (default: als-csr --info, else max index + 1)")
    ap.add_argument("--factors-npy", help=argparse.SUPPRESS)
    a = ap.parse_args()
    shape = tuple(int(x) for x in a.shape.lower().split("x")) if a.shape else None
    tu, ti, tv, shape = load(a.train, shape)
    eu, ei, ev, shape = load(a.test, shape)
    if shape is None and a.factors_npy:  # the model knows the full shape
        shape = (len(np.load(os.path.join(a.factors_npy, "user_factors.npy"), mmap_mode="r")),
                 len(np.load(os.path.join(a.factors_npy, "item_factors.npy"), mmap_mode="r")))
    if shape is None:  # both parts of one split share the shape: take it from both
        shape = (int(max(tu.max(), eu.max())) + 1, int(max(ti.max(), ei.max())) + 1)
    train, test = to_csr(tu, ti, tv, shape), to_csr(eu, ei, ev, shape)

    if a.factors_npy:
        U = np.load(os.path.join(a.factors_npy, "user_factors.npy"))
        V = np.load(os.path.join(a.factors_npy, "item_factors.npy"))
        print("ndcg@10\tprecision@10\trecall@10")
        print("%.6f\t%.6f\t%.6f" % evaluate(U, V, train, test))
        return

    from implicit.cpu.als import AlternatingLeastSquares
    print("# mean training value %.6g, %d x %d, nnz %d" % (train.data.mean(), *shape, train.nnz))
    print("alpha\treg\tndcg@10\tprecision@10\trecall@10\tseconds")
    best = None
    for alpha in (float(x) for x in a.alpha.split(",")):
        for reg in (float(x) for x in a.reg.split(",")):
            m = AlternatingLeastSquares(factors=a.factors, regularization=reg, alpha=alpha,
                                        iterations=a.iterations, use_cg=a.cg, random_state=0,
                                        num_threads=1, calculate_training_loss=False)
            t = time.perf_counter()
            m.fit(train, show_progress=False)  # implicit >= 0.5 takes users x items
            secs = time.perf_counter() - t
            r = evaluate(m.user_factors, m.item_factors, train, test)
            line = "%.6g\t%.6g\t%.6f\t%.6f\t%.6f\t%.2f" % (alpha, reg, *r, secs)
            print(line, flush=True)
            if best is None or r[0] > best[0]:
                best = (r[0], line)
    print("best\t" + best[1])


if __name__ == "__main__":
    main()
