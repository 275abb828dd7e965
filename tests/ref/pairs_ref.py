#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# pairs_ref.py COMMAND ...: brute-force references for tests/cli/41-als-recommend-pairs.bats
# (python3, no numpy): the factors from the .npy files of als-train --export-npy (read with
# struct), raw IDs from the dumps of als-map (escaped as the TSV output escapes them).
#
#   score NPY USERS ITEMS PAIRS GOT [--clip LO HI] [--json]
#   candidates NPY USERS ITEMS PAIRS GOT K [--seen SEEN] [--exclude FILE] [--clip LO HI]
#              [--json]
#   gen-pairs USERS ITEMS N SEED: N 'user<TAB>item' lines in lists of 1..40 per user, a
#              user repeated later, repeated items, unknown users and items among them
#
# score/candidates compare GOT (the program's output) with the reference and print
# 'unknown_user=N unknown_item=M'; any difference fails, naming the line.
import ast, json, random, struct, sys

TOL = 1e-5


from npy_ref import die, load_npy


def load_dump(path):
    ids = {}
    for line in open(path, "rb"):
        i, raw = line.rstrip(b"\n").split(b"\t", 1)
        ids[raw] = int(i)
    return ids


def read_pairs(path):
    out = []
    for line in open(path, "rb"):
        line = line.rstrip(b"\n")
        if line:
            f = line.split(b"\t")
            out.append((f[0], f[1]))
    return out


class Ref:
    def __init__(self, npy, users, items, clip):
        self.U = load_npy(npy + "/user_factors.npy")
        self.V = load_npy(npy + "/item_factors.npy")
        self.users, self.items = load_dump(users), load_dump(items)
        self.clip = clip

    def user(self, raw):
        u = self.users.get(raw)
        if u is None or u >= len(self.U) or not any(self.U[u]):
            return None
        return u

    def item(self, raw):
        i = self.items.get(raw)
        return None if i is None or i >= len(self.V) else i

    def score(self, u, i):
        return sum(float(a) * float(b) for a, b in zip(self.U[u], self.V[i]))

    def shown(self, s):
        if self.clip:
            lo, hi = self.clip
            return min(max(s, lo), hi)
        return s


def opts(args, names):
    o = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--clip":
            o["clip"] = (float(args[i + 1]), float(args[i + 2]))
            i += 3
        elif a in names:
            o[a] = args[i + 1]
            i += 2
        elif a == "--json":
            o["json"] = True
            i += 1
        else:
            die("unknown option " + a)
    return o


def near(a, b):
    return abs(a - b) <= TOL * max(1.0, abs(b))


def read_got_scores(path, js):
    rows = []
    for n, line in enumerate(open(path, "rb"), 1):
        if js:
            o = json.loads(line)
            rows.append((o["user"], o["item"], float(o["score"])))
        else:
            f = line.rstrip(b"\n").split(b"\t")
            if len(f) != 3:
                die("%s:%d: %d fields, expected 3" % (path, n, len(f)))
            rows.append((f[0], f[1], float(f[2])))
    return rows


def jtext(b):
    """An escaped dump ID as the text JSON output carries (ASCII IDs only)."""
    return b.decode("utf-8")


def cmd_score(args):
    npy, users, items, pairs, got = args[:5]
    o = opts(args[5:], [])
    ref = Ref(npy, users, items, o.get("clip"))
    want, uu, ui = [], 0, 0
    clipped = 0
    for ur, ir in read_pairs(pairs):
        u = ref.user(ur)
        if u is None:
            uu += 1
            continue
        i = ref.item(ir)
        if i is None:
            ui += 1
            continue
        s = ref.score(u, i)
        clipped += ref.shown(s) != s
        want.append((ur, ir, ref.shown(s)))
    rows = read_got_scores(got, o.get("json"))
    if len(rows) != len(want):
        die("%d lines, expected %d" % (len(rows), len(want)))
    for n, (g, w) in enumerate(zip(rows, want), 1):
        wu, wi = (jtext(w[0]), jtext(w[1])) if o.get("json") else (w[0], w[1])
        if g[0] != wu or g[1] != wi or not near(g[2], w[2]):
            die("line %d: got %r, expected %r" % (n, g, w))
    print("unknown_user=%d unknown_item=%d clipped=%d" % (uu, ui, clipped))


def cmd_candidates(args):
    npy, users, items, pairs, got, k = args[:6]
    k = int(k)
    o = opts(args[6:], ["--seen", "--exclude"])
    ref = Ref(npy, users, items, o.get("clip"))
    seen = {}
    if "--seen" in o:
        for line in open(o["--seen"], "rb"):
            u, i, _ = line.split(b"\t")
            seen.setdefault(int(u), set()).add(int(i))
    excl = set()
    if "--exclude" in o:
        excl = {ref.items[l.rstrip(b"\n")] for l in open(o["--exclude"], "rb")
                if l.rstrip(b"\n") in ref.items}
    inv = {i: raw for raw, i in ref.items.items()}
    groups = []
    for ur, ir in read_pairs(pairs):
        if not groups or groups[-1][0] != ur:
            groups.append((ur, []))
        groups[-1][1].append(ir)
    want, uu, ui = [], 0, 0
    for ur, its in groups:
        u = ref.user(ur)
        if u is None:
            uu += len(its)
            continue
        cand = set()
        for ir in its:
            i = ref.item(ir)
            if i is None:
                ui += 1
            elif i not in excl and i not in seen.get(u, ()):
                cand.add(i)
        sc = {i: ref.score(u, i) for i in cand}
        ranked = sorted(cand, key=lambda i: (-sc[i], i))[:k]
        want.append((ur, [(inv[i], sc[i]) for i in ranked], sc))
    gotl = []
    if o.get("json"):
        for line in open(got, "rb"):
            ob = json.loads(line)
            gotl.append((ob["user"], [(it["item"], float(it["score"]), it["rank"])
                                      for it in ob["items"]]))
    else:
        for n, line in enumerate(open(got, "rb"), 1):
            f = line.rstrip(b"\n").split(b"\t")
            if len(f) != 4:
                die("%s:%d: %d fields, expected 4" % (got, n, len(f)))
            r = int(f[3])
            if r == 1:
                gotl.append((f[0], []))
            elif not gotl or gotl[-1][0] != f[0]:
                die("%s:%d: rank %d does not continue a list" % (got, n, r))
            gotl[-1][1].append((f[1], float(f[2]), r))
        # A list that came out empty writes no TSV line.
        want = [w for w in want if w[1]]
    if len(gotl) != len(want):
        die("%d lists, expected %d" % (len(gotl), len(want)))
    for n, (g, w) in enumerate(zip(gotl, want), 1):
        wu = jtext(w[0]) if o.get("json") else w[0]
        if g[0] != wu or len(g[1]) != len(w[1]):
            die("list %d: got %r, expected %r" % (n, g, w[:2]))
        for r, ((gid, gsc, grank), (wid, wsc)) in enumerate(zip(g[1], w[1]), 1):
            key = gid.encode() if o.get("json") else gid
            if grank != r:
                die("list %d: rank %r at position %d" % (n, grank, r))
            # Items whose exact scores lie within TOL may come in either order.
            if key != wid:
                gi = ref.items.get(key)
                if gi not in w[2] or not near(w[2][gi], wsc):
                    die("list %d rank %d: got %r, expected %r" % (n, r, gid, wid))
            if not near(gsc, ref.shown(wsc)):
                die("list %d rank %d: score %r, expected %r" % (n, r, gsc, ref.shown(wsc)))
    print("unknown_user=%d unknown_item=%d lists=%d" % (uu, ui, len(want)))


def cmd_gen_pairs(args):
    users, items, n, seed = args[0], args[1], int(args[2]), int(args[3])
    us = [l.rstrip(b"\n").split(b"\t", 1)[1] for l in open(users, "rb")]
    its = [l.rstrip(b"\n").split(b"\t", 1)[1] for l in open(items, "rb")]
    rnd = random.Random(seed)
    out, used = [], []
    while len(out) < n:
        r = rnd.random()
        u = (b"no-such-user-%d" % rnd.randrange(5)) if r < 0.03 else \
            (rnd.choice(used) if used and r < 0.08 else rnd.choice(us))
        used.append(u)
        for _ in range(rnd.randrange(1, 41)):
            i = (b"no-such-item-%d" % rnd.randrange(5)) if rnd.random() < 0.02 else \
                rnd.choice(its)
            out.append(u + b"\t" + i)
    sys.stdout.buffer.write(b"\n".join(out[:n]) + b"\n")


CMDS = {"score": cmd_score, "candidates": cmd_candidates, "gen-pairs": cmd_gen_pairs}

if __name__ == "__main__":
    CMDS[sys.argv[1]](sys.argv[2:])
