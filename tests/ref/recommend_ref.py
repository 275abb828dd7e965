#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# recommend_ref.py DIR COMMAND ...: brute-force references for tests/cli/40-als-recommend.bats
# (python3, no numpy).
import ast, codecs, json, math, random, struct, sys

D = sys.argv[1]
TOL = 1e-5  # two items whose double scores are closer than this may come in either order


from npy_ref import die, load_npy


def load_dump(path):
    """'index<TAB>id' lines: the ids as bytes, escaped as the TSV output escapes them."""
    ids = []
    for line in open(path, "rb"):
        i, raw = line.rstrip(b"\n").split(b"\t", 1)
        if int(i) != len(ids):
            die(path + ": indices out of order")
        ids.append(raw)
    return ids


def load_seen():
    seen = {}
    for line in open(D + "/seen.tsv", "rb"):
        u, i, _ = line.split(b"\t")
        seen.setdefault(int(u), set()).add(int(i))
    return seen


def id_list(path):
    return [l.rstrip(b"\n") for l in open(path, "rb") if l.rstrip(b"\n")]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def ranking(scores, cands):
    """cands sorted by (score desc, index asc)."""
    return sorted(cands, key=lambda i: (-scores[i], i))


def read_tsv(path, ncols=4):
    """Consecutive lines of one query as groups: [(query, [(item, score, rank), ...])]."""
    groups = []
    for n, line in enumerate(open(path, "rb"), 1):
        f = line.rstrip(b"\n").split(b"\t")
        if len(f) != ncols:
            die("%s:%d: %d fields, expected %d: %r" % (path, n, len(f), ncols, line))
        if not groups or groups[-1][0] != f[0]:
            groups.append((f[0], []))
        groups[-1][1].append((f[1], float(f[2]), int(f[3])))
    return groups


def compare(what, got, want, scores, item_index, items, k, tol=TOL):
    """got: [(item id, score, rank)]; want: ranked item indices (all candidates)."""
    exp = want[:k]
    if len(got) != len(exp):
        die("%s: %d items, expected %d" % (what, len(got), len(exp)),
            " got: %s" % [g[0] for g in got], " expected: %s" % [items[i] for i in exp])
    for r, (gid, gs, grank) in enumerate(got):
        if grank != r + 1:
            die("%s: rank %d printed as %d" % (what, r + 1, grank))
        if gid not in item_index:
            die("%s: unknown item %r" % (what, gid))
        g, w = item_index[gid], exp[r]
        if g != w and not (g in want and abs(scores[g] - scores[w]) < tol):
            die("%s rank %d: item %r (%.9g), expected %r (%.9g)" %
                (what, r + 1, gid, scores[g], items[w], scores[w]),
                " got: %s" % [x[0] for x in got], " expected: %s" % [items[i] for i in exp])
        if abs(gs - scores[g]) > tol * max(1.0, abs(scores[g])):
            die("%s rank %d: item %r score %r, reference %.9g" % (what, r + 1, gid, gs, scores[g]))
        if r and gs > got[r - 1][1]:
            die("%s rank %d: score %r above the one before" % (what, r + 1, gs))


def cmd_check(args):
    """check OUT K [--users FILE] [--include-seen] [--exclude FILE] [--only FILE]:
    OUT holds the answers for the users of FILE (default: every user, in index order)."""
    out, k = args[0], int(args[1])
    opts = args[2:]
    U = load_npy(D + "/npy/user_factors.npy")
    V = load_npy(D + "/npy/item_factors.npy")
    users, items = load_dump(D + "/users.tsv"), load_dump(D + "/items.tsv")
    uidx = {u: i for i, u in enumerate(users)}
    iidx = {x: i for i, x in enumerate(items)}
    seen = load_seen()
    include_seen = "--include-seen" in opts
    allowed = set(range(len(V)))

    def opt(name):
        return opts[opts.index(name) + 1] if name in opts else None

    if opt("--exclude"):
        allowed -= {iidx[x] for x in id_list(opt("--exclude")) if x in iidx}
    if opt("--only"):
        allowed &= {iidx[x] for x in id_list(opt("--only")) if x in iidx}
    qusers = id_list(opt("--users")) if opt("--users") else users
    groups = read_tsv(out)
    g = 0
    for raw in qusers:
        if raw not in uidx:
            continue
        u = uidx[raw]
        scores = [dot(U[u], y) for y in V]
        cands = [i for i in allowed if include_seen or i not in seen.get(u, ())]
        want = ranking(scores, cands)
        if not want:
            continue
        if g >= len(groups) or groups[g][0] != raw:
            die("user %r: expected next, got %r" % (raw, groups[g][0] if g < len(groups) else "EOF"))
        compare("user %r" % raw, groups[g][1], want, scores, iidx, items, k)
        g += 1
    if g != len(groups):
        die("unexpected answers from user %r on" % (groups[g][0],))
    print("%d users checked" % g)


def cmd_similar(args):
    """similar OUT K [--exclude FILE]: cosine of the item factors, the item itself out."""
    out, k = args[0], int(args[1])
    V = load_npy(D + "/npy/item_factors.npy")
    items = load_dump(D + "/items.tsv")
    iidx = {x: i for i, x in enumerate(items)}
    excl = set()
    if "--exclude" in args:
        excl = {iidx[x] for x in id_list(args[args.index("--exclude") + 1]) if x in iidx}
    norm = [math.sqrt(dot(y, y)) for y in V]
    n = 0
    for q, got in read_tsv(out):
        qi = iidx[q]
        scores = [dot(V[qi], y) / (norm[qi] * norm[i]) if norm[qi] and norm[i] else 0.0
                  for i, y in enumerate(V)]
        want = ranking(scores, [i for i in range(len(V)) if i != qi and i not in excl])
        compare("item %r" % q, got, want, scores, iidx, items, k)
        for gid, gs, _ in got:
            if gid == q:
                die("item %r: returned itself" % q)
            if gs > 1.0:
                die("item %r: cosine %r above 1" % (q, gs))
        n += 1
    print("%d items checked" % n)


def cholesky_solve(A, b):
    n = len(b)
    L = [[0.0] * n for _ in range(n)]
    for j in range(n):
        L[j][j] = math.sqrt(A[j][j] - sum(L[j][p] ** 2 for p in range(j)))
        for i in range(j + 1, n):
            L[i][j] = (A[i][j] - sum(L[i][p] * L[j][p] for p in range(j))) / L[j][j]
    y = [0.0] * n
    for i in range(n):
        y[i] = (b[i] - sum(L[i][p] * y[p] for p in range(i))) / L[i][i]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (y[i] - sum(L[p][i] * x[p] for p in range(i + 1, n))) / L[i][i]
    return x


def cmd_foldin(args):
    """foldin HIST OUT USER ALPHA LAMBDA [CONFIDENCE]: the answer of USER in OUT (5 columns)
    against implicit fold-in in double: the log's rows of USER, log1p of column 3 summed per
    item, (Y^T Y + sum alpha f(r) y y^T + lambda I) x = sum_{r>0} (1 + alpha f(r)) y, with
    f(r) = |r| (CONFIDENCE linear, the default) or log(1 + |r|) (log); seen = the CSR row
    (a known user) and the history's items."""
    hist, out, user, alpha, lam = args[0], args[1], args[2].encode(), float(args[3]), float(args[4])
    conf = args[5] if len(args) > 5 else "linear"
    strength = (lambda v: math.log1p(abs(v))) if conf == "log" else abs
    V = load_npy(D + "/npy/item_factors.npy")
    items, users = load_dump(D + "/items.tsv"), load_dump(D + "/users.tsv")
    iidx = {x: i for i, x in enumerate(items)}
    uidx = {x: i for i, x in enumerate(users)}
    r = {}
    for n, line in enumerate(open(hist, "rb")):
        f = line.rstrip(b"\n").split(b",")
        if n and f[0] == user and f[1] in iidx:
            r[iidx[f[1]]] = r.get(iidx[f[1]], 0.0) + math.log1p(float(f[2]))
    k = len(V[0])
    A = [[sum(y[a] * y[c] for y in V) + (lam if a == c else 0.0) for c in range(k)]
         for a in range(k)]
    b = [0.0] * k
    for i, v in r.items():
        y = V[i]
        for a in range(k):
            if v > 0:
                b[a] += (1 + alpha * strength(v)) * y[a]
            for c in range(k):
                A[a][c] += alpha * strength(v) * y[a] * y[c]
    x = cholesky_solve(A, b)
    scores = [dot(x, y) for y in V]
    seen = set(r) | (load_seen().get(uidx[user], set()) if user in uidx else set())
    want = ranking(scores, [i for i in range(len(V)) if i not in seen])
    got = [g for g in read_tsv(out, 5) if g[0] == user]
    if len(got) != 1:
        die("user %r: %d answers" % (user, len(got)))
    # float32 Cholesky against double: 1e-4
    compare("fold-in of %r" % user, got[0][1], want, scores, iidx, items, len(got[0][1]), 1e-4)
    print("fold-in of %s checked" % user.decode())


def cmd_popular(args):
    """popular: 'item<TAB>count' for every item by training count desc, index asc."""
    items = load_dump(D + "/items.tsv")
    cnt = [0] * len(items)
    for line in open(D + "/seen.tsv", "rb"):
        cnt[int(line.split(b"\t")[1])] += 1
    for i in sorted(range(len(items)), key=lambda i: (-cnt[i], i)):
        sys.stdout.buffer.write(items[i] + b"\t%d\n" % cnt[i])


def cmd_json_vs_tsv(args):
    """json-vs-tsv JSON TSV [--source]: the same answers, one object per user per line."""
    tsv = read_tsv(args[1], 5 if "--source" in args else 4)
    src = {}
    if "--source" in args:
        for line in open(args[1], "rb"):
            f = line.rstrip(b"\n").split(b"\t")
            src[f[0]] = f[4].decode()
    lines = open(args[0], "rb").read().split(b"\n")
    if lines[-1] != b"":
        die("JSON output does not end with a newline")
    objs = [json.loads(l.decode("utf-8")) for l in lines[:-1]]
    if len(objs) != len(tsv):
        die("%d JSON lines, %d users in the TSV" % (len(objs), len(tsv)))
    for o, (u, got) in zip(objs, tsv):
        if o["user"].encode() != u:
            die("JSON user %r, TSV %r" % (o["user"], u))
        if src and o.get("source") != src[u]:
            die("user %r: JSON source %r, TSV %r" % (u, o.get("source"), src[u]))
        its = [(x["item"].encode(), float(x["score"]), int(x["rank"])) for x in o["items"]]
        if its != got:
            die("user %r: JSON %r, TSV %r" % (u, its, got))
    print("%d lines agree" % len(objs))


# ---- awkward IDs ----

W_USERS = [b"u\tab1", b"u\tab2", b'q"u\\ser', b"lat\xe9-user", b"ctl\x01user", b"uni\xc3\xa9"]
W_ITEMS = [b"plain", b"it\tem", b'q"uote\\back', b"nl\nline", b"lat\xe9\xff", b"caf\xc3\xa9",
           b"sur\xed\xa0\x80", b"ovl\xe0\x80\xaf", b"big\xf4\x90\x80\x80", b"f5\xf5\x80\x80\x80",
           b"cut\xe2\x82", b"ctl\x01\x7f", b"emoji\xf0\x9f\x98\x80"]


def cmd_twin_csv(args):
    """An explicit log where twin-a (item 0) and twin-b (item 41, seen last) have the same
    ratings from the same users: Cholesky gives them identical factors and biases."""
    rnd = random.Random(1)
    out, late = ["user,item,rating"], []
    for u in range(200):
        if u % 3 == 0:
            r = rnd.randint(1, 5)
            out.append("u%d,twin-a,%d" % (u, r))
            late.append("u%d,twin-b,%d" % (u, r))
        for i in range(40):
            if rnd.random() < 0.3:
                out.append("u%d,i%02d,%d" % (u, i, rnd.randint(1, 5)))
    sys.stdout.write("\n".join(out + late) + "\n")


def csv_quote(b):
    return b'"' + b.replace(b'"', b'""') + b'"'


def cmd_weird_csv(args):
    out = [b"user,item,rating"]
    for u, uid in enumerate(W_USERS):
        for i, iid in enumerate(W_ITEMS):
            out.append(b"%s,%s,%d" % (csv_quote(uid), csv_quote(iid), 1 + (u * 7 + i * 3) % 5))
    sys.stdout.buffer.write(b"\n".join(out) + b"\n")


def tsv_escape(b):
    o = bytearray()
    for c in b:
        if c in (9, 10, 13, 92):
            o += {9: b"\\t", 10: b"\\n", 13: b"\\r", 92: b"\\\\"}[c]
        elif c < 0x20 or c == 0x7f:
            o += b"\\x%02x" % c
        else:
            o.append(c)
    return bytes(o)


# JSON: valid UTF-8 as it is; every byte not part of valid UTF-8 as \u00XX (Latin-1).
codecs.register_error("bytes-as-latin1",
                      lambda e: ("".join(chr(c) for c in e.object[e.start:e.end]), e.end))


def json_text(b):
    return b.decode("utf-8", "bytes-as-latin1")


def cmd_weird_tsv(args):
    """weird-tsv OUT: every user gets every item, each ID escaped as tsv_escape says."""
    want_u = [tsv_escape(u) for u in W_USERS]
    want_i = sorted(tsv_escape(i) for i in W_ITEMS)
    groups = read_tsv(args[0])
    if [g[0] for g in groups] != want_u:
        die("users %r, expected %r" % ([g[0] for g in groups], want_u))
    for u, got in groups:
        if sorted(g[0] for g in got) != want_i:
            die("user %r: items %r, expected %r" % (u, sorted(g[0] for g in got), want_i))
    for path, want in (("/wusers.tsv", W_USERS), ("/witems.tsv", W_ITEMS)):
        dump = load_dump(args[1] + path)
        if dump != [tsv_escape(x) for x in want]:
            die("als-map --dump %s: %r, expected %r" % (path, dump, [tsv_escape(x) for x in want]))
    print("%d users checked" % len(groups))


def cmd_weird_json(args):
    """weird-json OUT: each line strict UTF-8 and JSON; the IDs round-trip."""
    n = 0
    users = []
    for ln, line in enumerate(open(args[0], "rb"), 1):
        try:
            text = line.decode("utf-8")  # strict: no encoded surrogates, no overlongs
        except UnicodeDecodeError as e:
            die("line %d is not valid UTF-8 (%s), so not JSON: %r" % (ln, e, line))
        o = json.loads(text)
        users.append(o["user"])
        got = sorted(x["item"] for x in o["items"])
        want = sorted(json_text(i) for i in W_ITEMS)
        if got != want:
            die("line %d: items %r, expected %r" % (ln, got, want))
        n += 1
    if users != [json_text(u) for u in W_USERS]:
        die("users %r, expected %r" % (users, [json_text(u) for u in W_USERS]))
    print("%d lines checked" % n)


CMDS = {"check": cmd_check, "similar": cmd_similar, "popular": cmd_popular, "foldin": cmd_foldin,
        "json-vs-tsv": cmd_json_vs_tsv, "weird-csv": cmd_weird_csv,
        "weird-tsv": cmd_weird_tsv, "weird-json": cmd_weird_json}

if __name__ == "__main__":
    if sys.argv[1] == "weird-csv":
        cmd_weird_csv([])
    elif sys.argv[1] == "twin-csv":
        cmd_twin_csv([])
    else:
        CMDS[sys.argv[2]](sys.argv[3:])
