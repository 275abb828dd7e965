/* SPDX-License-Identifier: MIT */
/* plot: a small self-contained SVG line chart, for als-eval's --plot. */
#ifndef ALS_PLOT_H
#define ALS_PLOT_H

#include <stddef.h>

#include "diag.h"

struct plot_series {
    const char *name;
    const char *color; /* an SVG colour such as "#1f77b4" */
    int dashed;
    const double *y; /* one value per x */
};

/* Write a chart of the series against x[0..n) (increasing) to path atomically: axes with
 * ticks, one polyline with markers per series, a legend, title and axis labels. Text is
 * XML-escaped, so the file is always well-formed. */
int plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
             const double *x, size_t n, const struct plot_series *s, size_t ns, struct diag *d)
    ALS_MUSTCHECK;

#endif
