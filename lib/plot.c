/* SPDX-License-Identifier: MIT */
/* plot: a small self-contained SVG line chart, for als-eval's --plot. */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zio.h"

#define W 640
#define H 420
#define LEFT 70
#define RIGHT 170
#define TOP 40
#define BOTTOM 60

static void
put_escaped(FILE *f, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, f);
        }
}

/* A "nice" tick step near range / 5: 1, 2 or 5 times a power of ten. */
static double
tick_step(double range)
{
    if (!(range > 0))
        return 1;
    double raw = range / 5, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

int
plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
         const double *x, size_t n, const struct plot_series *s, size_t ns, struct diag *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    double x0 = n ? x[0] : 0, x1 = n ? x[n - 1] : 1, ymax = 0;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < n; i++)
            if (isfinite(s[k].y[i]) && s[k].y[i] > ymax)
                ymax = s[k].y[i];
    double ystep = tick_step(ymax > 0 ? ymax : 1);
    double y1 = ceil((ymax > 0 ? ymax : 1) / ystep) * ystep;
    if (x1 <= x0)
        x1 = x0 + 1;
    double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define PX(v) (LEFT + ((v) - x0) / (x1 - x0) * pw)
#define PY(v) (TOP + ph - (v) / y1 * ph)
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            W, H, W, H);
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">", LEFT);
    put_escaped(f, title);
    fputs("</text>\n", f);
    /* grid and y ticks */
    for (double v = 0; v <= y1 + ystep / 2; v += ystep) {
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                LEFT, PY(v), LEFT + pw, PY(v));
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", LEFT - 6,
                PY(v) + 4, v);
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", PX(x[i]),
                TOP + ph + 18, x[i]);
    fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", LEFT,
            TOP + ph, LEFT + pw, TOP + ph);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\"/>\n", LEFT, TOP,
            LEFT, TOP + ph);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", LEFT + pw / 2, H - 15);
    put_escaped(f, xlabel);
    fputs("</text>\n", f);
    fprintf(f, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">",
            TOP + ph / 2);
    put_escaped(f, ylabel);
    fputs("</text>\n", f);
    for (size_t k = 0; k < ns; k++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                s[k].color, s[k].dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (size_t i = 0; i < n; i++)
            if (isfinite(s[k].y[i]))
                fprintf(f, "%s%.1f,%.1f", i ? " " : "", PX(x[i]), PY(s[k].y[i]));
        fputs("\"/>\n", f);
        for (size_t i = 0; i < n; i++)
            if (isfinite(s[k].y[i]))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", PX(x[i]),
                        PY(s[k].y[i]), s[k].color);
        double ly = TOP + 10 + 22.0 * (double)k;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2\"%s/>\n",
                LEFT + pw + 15, ly, LEFT + pw + 40, ly, s[k].color,
                s[k].dashed ? " stroke-dasharray=\"6 4\"" : "");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", LEFT + pw + 46, ly + 4);
        put_escaped(f, s[k].name);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
#undef PX
#undef PY
    if (fclose(f) != 0) {
        free(buf);
        return diag_set(d, ALS_ENOMEM, "out of memory");
    }
    struct zio_out o;
    int rc = zio_out_open(&o, path, d);
    if (rc >= 0) {
        if ((rc = zio_out_write(&o, buf, len, d)) >= 0)
            rc = zio_out_commit(&o, d);
        zio_out_abort(&o);
    }
    free(buf);
    return rc;
}
