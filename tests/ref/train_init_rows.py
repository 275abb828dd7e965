#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# train_init_rows.py OLD NEW OLD_USERS NEW_USERS K: for tests/cli/30-als-train.bats, a model
# NEW trained with --init OLD and zero iterations keeps OLD's user factor rows byte for byte
# and has non-zero factors in the rows it added (python3, no numpy).
import struct, sys


def usrf(p):
    """(rows, k, bytes) of the USRF section of model file p (layout in man/als-formats.5)."""
    b = open(p, "rb").read()
    rows, cols, k = struct.unpack_from("<QQQ", b, 24)
    n = struct.unpack_from("<I", b, 64)[0]
    for s in range(n):
        tag, _, off, size = struct.unpack_from("<4sIQQ", b, 72 + 32 * s)
        if tag == b"USRF":
            return rows, k, b[off:off + size]
    sys.exit(p + ": no USRF section")


old_users, new_users, want_k = (int(a) for a in sys.argv[3:6])
ru, k, old = usrf(sys.argv[1])
rn, k2, new = usrf(sys.argv[2])
assert (ru, rn, k, k2) == (old_users, new_users, want_k, want_k), (ru, rn, k, k2)
assert new[:len(old)] == old, "old user rows changed"
assert new[len(old):] != bytes(len(new) - len(old)), "new user rows are all zero"
