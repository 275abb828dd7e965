#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# npy_ref.py: what the brute-force references share (python3, no numpy): a .npy reader for
# the float32 C-order factors of als-train --export-npy, read with struct, and die().
import ast, struct, sys


def die(*msg):
    for m in msg:
        sys.stderr.write(str(m) + "\n")
    sys.exit(1)


def load_npy(path):
    b = open(path, "rb").read()
    if b[:6] != b"\x93NUMPY":
        die(path + ": not a .npy file")
    if b[6] == 1:
        hl, off = struct.unpack("<H", b[8:10])[0], 10
    else:
        hl, off = struct.unpack("<I", b[8:12])[0], 12
    hdr = ast.literal_eval(b[off:off + hl].decode("latin-1"))
    if hdr["descr"] != "<f4" or hdr["fortran_order"]:
        die(path + ": not little-endian float32 in C order: " + repr(hdr))
    n, k = hdr["shape"]
    data = struct.unpack("<%df" % (n * k), b[off + hl:off + hl + 4 * n * k])
    return [data[i * k:(i + 1) * k] for i in range(n)]
