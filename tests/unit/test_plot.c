/* SPDX-License-Identifier: MIT */
/* test_plot: the SVG chart is well-formed XML (checked by a small parser here), has one
 * polyline and one marker per finite value at the coordinates worked out by hand, skips
 * NaN and infinity, copes with no points and no series, escapes text, and is written
 * atomically. */
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "plot.h"

#include "t.h"
#include "scratch.h"

/* ---- a minimal XML well-formedness check: balanced tags, quoted attributes, entities ---- */

static int
is_name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
}

/* At '&': one of the five predefined entities or a numeric reference; its length or 0. */
static size_t
entity_len(const char *s)
{
    static const char *const ents[] = { "&lt;", "&gt;", "&amp;", "&quot;", "&apos;" };
    for (size_t k = 0; k < sizeof ents / sizeof ents[0]; k++)
        if (strncmp(s, ents[k], strlen(ents[k])) == 0)
            return strlen(ents[k]);
    if (s[1] == '#') {
        size_t n = 2;
        while (s[n] >= '0' && s[n] <= '9')
            n++;
        return n > 2 && s[n] == ';' ? n + 1 : 0;
    }
    return 0;
}

/* NULL when s is one well-formed document (an optional <?xml ...?> prolog, one root
 * element), else what is wrong. */
static const char *
xml_error(const char *s)
{
    const char *stack[64];
    size_t slen[64];
    int depth = 0, roots = 0;
    if (strncmp(s, "<?xml ", 6) == 0) {
        const char *e = strstr(s, "?>");
        if (!e)
            return "unterminated prolog";
        s = e + 2;
    }
    while (*s) {
        if (*s != '<') {
            if (depth == 0 && *s != ' ' && *s != '\n' && *s != '\t' && *s != '\r')
                return "text outside the root element";
            if (*s == '&' && !entity_len(s))
                return "bare '&' in text";
            s++;
            continue;
        }
        if (s[1] == '/') { /* end tag */
            const char *n = s + 2, *e = n;
            while (is_name_char(*e, e == n))
                e++;
            if (depth == 0 || (size_t)(e - n) != slen[depth - 1] ||
                strncmp(n, stack[depth - 1], slen[depth - 1]) != 0)
                return "end tag does not match the open element";
            if (*e != '>')
                return "junk in an end tag";
            depth--;
            s = e + 1;
            continue;
        }
        const char *n = s + 1, *e = n;
        while (is_name_char(*e, e == n))
            e++;
        size_t nlen = (size_t)(e - n);
        if (nlen == 0)
            return "'<' not followed by a name";
        if (depth == 0 && roots++)
            return "more than one root element";
        for (;;) { /* attributes */
            int ws = 0;
            while (*e == ' ' || *e == '\n' || *e == '\t')
                e++, ws = 1;
            if (*e == '>' || (e[0] == '/' && e[1] == '>'))
                break;
            const char *a = e;
            while (is_name_char(*e, e == a))
                e++;
            if (e == a || !ws)
                return "bad attribute name";
            if (e[0] != '=' || (e[1] != '"' && e[1] != '\''))
                return "attribute value not quoted";
            char q = e[1];
            for (e += 2; *e != q; e++) {
                if (!*e || *e == '<')
                    return "'<' or end of text in an attribute value";
                if (*e == '&' && !entity_len(e))
                    return "bare '&' in an attribute value";
            }
            e++;
        }
        if (*e == '/') {
            s = e + 2;
            continue;
        }
        if (depth == (int)(sizeof stack / sizeof stack[0]))
            return "nested too deeply";
        stack[depth] = n;
        slen[depth++] = nlen;
        s = e + 1;
    }
    if (depth)
        return "unclosed element";
    return roots == 1 ? NULL : "no root element";
}

/* ---- picking the chart apart ---- */

/* 1 if needle (lower case) occurs in s, ignoring case. */
static int
has_ci(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && (s[i] | 0x20) == needle[i])
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* Occurrences of needle in s. */
static int
count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The value of attribute attr of the k-th (0-based) element "<tag " in s, copied into
 * out; NULL when there is no such element or attribute. */
static const char *
attr_of(const char *s, const char *tag, int k, const char *attr, char *out, size_t size)
{
    char open[32], key[32];
    snprintf(open, sizeof open, "<%s ", tag);
    snprintf(key, sizeof key, " %s=\"", attr);
    const char *p = s;
    for (int i = 0; p && i <= k; i++)
        if ((p = strstr(p, open)))
            p += strlen(open) - 1;
    if (!p)
        return NULL;
    const char *end = strchr(p, '>'), *a = strstr(p, key);
    if (!a || a > end)
        return NULL;
    a += strlen(key);
    const char *q = strchr(a, '"');
    snprintf(out, size, "%.*s", (int)(q - a), a);
    return out;
}

/* The whitespace-separated "x,y" pairs of a points attribute, into xs/ys; their number. */
static int
parse_points(const char *pts, double *xs, double *ys, int max)
{
    int n = 0;
    for (const char *p = pts; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *e;
        double x = strtod(p, &e);
        if (*e != ',' || n == max)
            return -1;
        double y = strtod(e + 1, &e);
        if (*e && *e != ' ')
            return -1;
        xs[n] = x;
        ys[n++] = y;
        p = e;
    }
    return n;
}

/* The chart of the given data, written to name in the scratch directory and read back
 * (NULL if plot_svg failed). */
static char *
chart(const char *name, const double *x, size_t n, const struct plot_series *s, size_t ns)
{
    const char *p = tpath(name);
    struct diag d = { 0 };
    int rc = plot_svg(p, "Precision & recall <at k>", "k", "value", x, n, s, ns, &d);
    if (rc < 0) {
        printf("#   plot_svg: %d %s\n", rc, d.msg);
        return NULL;
    }
    size_t len;
    return (char *)slurp(p, &len);
}

/*
 * The canvas is 640 x 420 with the plot area at x 70..470 (400 wide) and y 40..360
 * (320 high). x runs from x[0] to x[n-1]; y from 0 to the top tick above the largest
 * finite value, ticks 1, 2 or 5 times a power of ten near a fifth of it. Here x 1, 5, 10
 * and the largest value 0.4 give ticks of 0.1 and a top of 0.4, so
 *   PX(x) = 70 + (x - 1) / 9 * 400:  70.0, 247.8, 470.0
 *   PY(y) = 360 - y / 0.4 * 320:     0.2 -> 200, 0.4 -> 40, 0.3 -> 120, 0.1 -> 280,
 *                                    0.05 -> 320
 */
static const double xs3[] = { 1, 5, 10 };

TEST(points_at_hand_computed_coordinates_nan_skipped)
{
    const double a[] = { 0.2, 0.4, 0.3 };
    const double b[] = { (double)NAN, 0.1, 0.05 };
    const struct plot_series s[] = { { "model", "#1f77b4", 0, a },
                                     { "popularity", "#ff7f0e", 1, b } };
    char *svg = chart("two.svg", xs3, 3, s, 2);
    T_TRUE(svg != NULL);
    if (!svg)
        return;
    const char *why = xml_error(svg);
    if (why)
        T_FAIL("not well-formed: %s", why);
    T_TRUE(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"420\"") !=
           NULL);
    T_EQ_INT(count(svg, "<polyline "), 2);
    T_EQ_INT(count(svg, "<circle "), 5); /* one marker per finite value */
    T_TRUE(!has_ci(svg, "nan"));

    char buf[512];
    double px[8], py[8];
    T_TRUE(attr_of(svg, "polyline", 0, "points", buf, sizeof buf) != NULL);
    T_EQ_INT(parse_points(buf, px, py, 8), 3);
    const double ax[] = { 70, 247.8, 470 }, ay[] = { 200, 40, 120 };
    for (int i = 0; i < 3; i++) {
        T_NEAR(px[i], ax[i], 1e-9);
        T_NEAR(py[i], ay[i], 1e-9);
    }
    T_TRUE(attr_of(svg, "polyline", 1, "points", buf, sizeof buf) != NULL);
    T_EQ_INT(parse_points(buf, px, py, 8), 2); /* the NaN is left out */
    T_NEAR(px[0], 247.8, 1e-9);
    T_NEAR(py[0], 280, 1e-9);
    T_NEAR(px[1], 470, 1e-9);
    T_NEAR(py[1], 320, 1e-9);
    /* colours and dashes per series; markers in the series' colour at the same places */
    T_EQ_STR(attr_of(svg, "polyline", 0, "stroke", buf, sizeof buf), "#1f77b4");
    T_TRUE(attr_of(svg, "polyline", 0, "stroke-dasharray", buf, sizeof buf) == NULL);
    T_EQ_STR(attr_of(svg, "polyline", 1, "stroke", buf, sizeof buf), "#ff7f0e");
    T_TRUE(attr_of(svg, "polyline", 1, "stroke-dasharray", buf, sizeof buf) != NULL);
    T_EQ_STR(attr_of(svg, "circle", 1, "cx", buf, sizeof buf), "247.8");
    T_EQ_STR(attr_of(svg, "circle", 1, "cy", buf, sizeof buf), "40.0");
    T_EQ_STR(attr_of(svg, "circle", 3, "cy", buf, sizeof buf), "280.0");
    T_EQ_STR(attr_of(svg, "circle", 3, "fill", buf, sizeof buf), "#ff7f0e");
    /* y ticks 0, 0.1, ..., 0.4 (grid lines and labels); one x label per point */
    T_EQ_INT(count(svg, "stroke=\"#ddd\""), 5);
    T_TRUE(strstr(svg, "text-anchor=\"end\">0.3</text>") != NULL);
    T_TRUE(strstr(svg, "text-anchor=\"end\">0.4</text>") != NULL);
    T_TRUE(strstr(svg, "text-anchor=\"end\">0.5</text>") == NULL);
    T_EQ_INT(count(svg, "text-anchor=\"middle\">"), 3 + 2); /* + x and y axis labels */
    T_TRUE(strstr(svg, "<text x=\"247.8\" y=\"378.0\" text-anchor=\"middle\">5</text>") != NULL);
    /* the legend names each series; the title is escaped */
    T_TRUE(strstr(svg, ">model</text>") && strstr(svg, ">popularity</text>"));
    T_TRUE(strstr(svg, ">Precision &amp; recall &lt;at k&gt;</text>") != NULL);
    free(svg);
}

TEST(infinite_values_are_skipped_and_do_not_set_the_scale)
{
    const double a[] = { (double)INFINITY, 0.4, -(double)INFINITY };
    const struct plot_series s[] = { { "m", "red", 0, a } };
    char *svg = chart("inf.svg", xs3, 3, s, 1);
    T_TRUE(svg != NULL);
    if (!svg)
        return;
    T_TRUE(xml_error(svg) == NULL);
    char buf[256];
    double px[4], py[4];
    T_TRUE(attr_of(svg, "polyline", 0, "points", buf, sizeof buf) != NULL);
    T_EQ_INT(parse_points(buf, px, py, 4), 1);
    T_NEAR(px[0], 247.8, 1e-9);
    T_NEAR(py[0], 40, 1e-9); /* 0.4 is still the top */
    T_TRUE(!has_ci(svg, "inf"));
    free(svg);
}

TEST(no_points_and_no_series_are_still_well_formed)
{
    /* No points: an x range of 0..1, a y range of 0..1 with ticks of 0.2 (6 grid lines),
     * an empty polyline per series and no markers. */
    const double none[1] = { 0 };
    const struct plot_series s[] = { { "empty", "blue", 1, none } };
    char *svg = chart("empty.svg", none, 0, s, 1);
    T_TRUE(svg != NULL);
    if (svg) {
        T_TRUE(xml_error(svg) == NULL);
        T_EQ_INT(count(svg, "<polyline "), 1);
        T_TRUE(strstr(svg, "points=\"\"") != NULL);
        T_EQ_INT(count(svg, "<circle "), 0);
        T_EQ_INT(count(svg, "stroke=\"#ddd\""), 6);
        T_TRUE(strstr(svg, "text-anchor=\"end\">1</text>") != NULL);
        free(svg);
    }
    /* All values NaN: the same scale, nothing drawn. */
    const double nan2[] = { (double)NAN, (double)NAN };
    const struct plot_series sn[] = { { "nan", "blue", 0, nan2 } };
    svg = chart("allnan.svg", xs3, 2, sn, 1);
    T_TRUE(svg != NULL);
    if (svg) {
        T_TRUE(xml_error(svg) == NULL);
        T_TRUE(strstr(svg, "points=\"\"") != NULL);
        T_EQ_INT(count(svg, "<circle "), 0);
        T_EQ_INT(count(svg, "stroke=\"#ddd\""), 6);
        T_TRUE(!has_ci(svg, "nan\"") && !has_ci(svg, ",nan"));
        free(svg);
    }
    /* No series at all: axes only. */
    svg = chart("noseries.svg", xs3, 3, NULL, 0);
    T_TRUE(svg != NULL);
    if (svg) {
        T_TRUE(xml_error(svg) == NULL);
        T_EQ_INT(count(svg, "<polyline "), 0);
        T_EQ_INT(count(svg, "<circle "), 0);
        free(svg);
    }
}

TEST(one_point_gets_a_unit_x_range)
{
    /* x0 == x1: the range becomes x0..x0+1, so the point sits on the left axis. */
    const double x[] = { 7 }, y[] = { 3 };
    const struct plot_series s[] = { { "one", "green", 0, y } };
    char *svg = chart("one.svg", x, 1, s, 1);
    T_TRUE(svg != NULL);
    if (!svg)
        return;
    T_TRUE(xml_error(svg) == NULL);
    char buf[128];
    /* 3 / 5 = 0.6: ticks of 0.5, top 3.0, so 3 is at the top edge, y 40 */
    T_EQ_STR(attr_of(svg, "polyline", 0, "points", buf, sizeof buf), "70.0,40.0");
    T_EQ_INT(count(svg, "stroke=\"#ddd\""), 7); /* 0, 0.5, ..., 3 */
    free(svg);
}

TEST(awkward_text_is_escaped_and_control_bytes_dropped)
{
    const double y[] = { 0.5, 0.25, 0.125 };
    const struct plot_series s[] = { { "a \"quoted\" <b>&\x01\x1f name", "#000", 0, y } };
    const char *p = tpath("escape.svg");
    struct diag d = { 0 };
    T_OK(plot_svg(p, "t\x02itle & <more>", "x \"label\"", "y's", xs3, 3, s, 1, &d));
    size_t len;
    char *svg = (char *)slurp(p, &len);
    T_TRUE(svg != NULL);
    if (!svg)
        return;
    const char *why = xml_error(svg);
    if (why)
        T_FAIL("not well-formed: %s", why);
    T_TRUE(strstr(svg, ">a &quot;quoted&quot; &lt;b&gt;&amp; name</text>") != NULL);
    T_TRUE(strstr(svg, ">title &amp; &lt;more&gt;</text>") != NULL);
    T_TRUE(strstr(svg, ">x &quot;label&quot;</text>") != NULL);
    T_TRUE(strstr(svg, ">y's</text>") != NULL);
    T_TRUE(memchr(svg, '\x01', len) == NULL && memchr(svg, '\x02', len) == NULL);
    free(svg);
}

TEST(the_checker_rejects_what_is_not_well_formed)
{
    /* The check above must be able to fail. */
    T_TRUE(xml_error("<svg><g></svg>") != NULL);
    T_TRUE(xml_error("<svg a=\"1\"><text>a & b</text></svg>") != NULL);
    T_TRUE(xml_error("<svg a=1/>") != NULL);
    T_TRUE(xml_error("<svg a=\"<\"/>") != NULL);
    T_TRUE(xml_error("<svg/><svg/>") != NULL);
    T_TRUE(xml_error("<svg>") != NULL);
    T_TRUE(xml_error("<?xml version=\"1.0\"?>\n<svg x=\"&amp;\"><a/>t&lt;</svg>\n") == NULL);
}

static int
count_matches(const char *pattern)
{
    glob_t g;
    int rc = glob(pattern, 0, NULL, &g);
    int n = rc == 0 ? (int)g.gl_pathc : 0;
    if (rc == 0)
        globfree(&g);
    return n;
}

TEST(written_atomically_and_errors_name_the_path)
{
    const double y[] = { 0.1, 0.2, 0.3 };
    const struct plot_series s[] = { { "m", "red", 0, y } };
    const char *p = tpath("atomic.svg");
    struct diag d = { 0 };
    T_OK(spit(p, "old", 3));
    T_OK(plot_svg(p, "t", "x", "y", xs3, 3, s, 1, &d));
    char pat[600];
    snprintf(pat, sizeof pat, "%s.*", p);
    T_EQ_INT(count_matches(pat), 0);
    size_t len;
    char *svg = (char *)slurp(p, &len);
    T_TRUE(svg && len > 3 && strncmp(svg, "<?xml", 5) == 0);
    T_TRUE(svg && len > 7 && strcmp(svg + len - 7, "</svg>\n") == 0);
    free(svg);

    char bad[600], want[700];
    snprintf(bad, sizeof bad, "%s/no-such-dir/x.svg", t_dir);
    T_EQ_INT(plot_svg(bad, "t", "x", "y", xs3, 3, s, 1, &d), ALS_EIO);
    snprintf(want, sizeof want, "cannot create '%s': %s", bad, strerror(ENOENT));
    T_EQ_STR(d.msg, want);
}
