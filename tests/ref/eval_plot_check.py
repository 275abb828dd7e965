#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# eval_plot_check.py SVG POINTS: for tests/cli/50-als-eval.bats, the --plot of als-eval is
# well-formed SVG with 4 polylines (model and popularity, precision and recall) of POINTS
# points each inside the 640 x 420 canvas, and a legend naming the four.
import sys
from xml.dom import minidom

npoints = int(sys.argv[2])
doc = minidom.parse(sys.argv[1])
svg = doc.documentElement
assert svg.tagName == "svg", svg.tagName
assert svg.getAttribute("xmlns") == "http://www.w3.org/2000/svg"
lines = doc.getElementsByTagName("polyline")
assert len(lines) == 4, len(lines)
for p in lines:
    pts = p.getAttribute("points").split()
    assert len(pts) == npoints, pts
    for xy in pts:
        x, y = (float(v) for v in xy.split(","))
        assert 0 <= x <= 640 and 0 <= y <= 420, xy
text = " ".join(t.firstChild.data for t in doc.getElementsByTagName("text") if t.firstChild)
for name in ("model precision", "model recall", "popularity precision", "popularity recall"):
    assert name in text, name
