/* SPDX-License-Identifier: MIT */
/* test_ratemap: exact number parsing (against strtod), ordinal levels, transforms, fitting,
 * and the persisted transform syntax. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "ratemap.h"

#include "t.h"
#include "scratch.h"

/* ---- ratemap_parse_number ---- */

static int
parse(const char *s, double *out)
{
    return ratemap_parse_number(s, strlen(s), out);
}

/* s parses and gives exactly the bits strtod gives for it (blanks trimmed for strtod). */
static int
same_as_strtod(const char *s)
{
    char core[600];
    const char *p = s, *e = s + strlen(s);
    while (*p == ' ' || *p == '\t')
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if ((size_t)(e - p) >= sizeof core)
        return 0;
    memcpy(core, p, (size_t)(e - p));
    core[e - p] = '\0';
    char *end;
    double want = strtod(core, &end);
    double got = 12345.678;
    if (*end != '\0' || parse(s, &got) != 0) {
        printf("#   '%s' did not parse\n", s);
        return 0;
    }
    if (memcmp(&got, &want, sizeof got) != 0) {
        printf("#   '%s': got %.17g, strtod %.17g\n", s, got, want);
        return 0;
    }
    return 1;
}

TEST(parse_number_hand_picked_exact)
{
    static const char *const cases[] = {
        "0", "1", "5", "-5", "+5", "007", "42", "-0", "-0.0", "+0.0", "0.1", "0.2", "0.3",
        "0.30000000000000004", "2.5e-3", "2.5E-3", "1e0", "1e+2", "1E22", "1e23", "1e-22",
        "1e-23", "123.456e2", ".5", "5.", "-.25", "3.14159265358979323846",
        "123456789012345678901234", "12345678901234567890", "9007199254740992",
        "9007199254740993", "9007199254740991", "18446744073709551615",
        "18446744073709551616", "4.9406564584124654e-324", "2.2250738585072011e-308",
        "2.2250738585072014e-308", "1.7976931348623157e308", "1e-400", "-1e-400",
        "0.000000000000000000000000001e30", "100000000000000000000000", "1e308",
        "8.98846567431158e307", "7.038531e-26", "1448997445238699", "0.1e-20",
        "  7 ", "\t-3.25\t", " +1e5", "4.35", "0.0000001", "1.00000000000000011102230246251565",
        "123456789012345.6789", "0.999999999999999999999999999",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        T_TRUE(same_as_strtod(cases[i]));

    /* A few values by hand as well, so a broken strtod cannot hide a bug. */
    double v = 0;
    T_OK(parse("2.5e-3", &v));
    T_TRUE(v == 0.0025);
    T_OK(parse("1E22", &v));
    T_TRUE(v == 1e22);
    T_OK(parse(" -7.5 ", &v));
    T_TRUE(v == -7.5);
    T_OK(parse("-0", &v));
    T_TRUE(v == 0 && signbit(v));
}

TEST(parse_number_random_decimals_match_strtod)
{
    uint64_t seed = 0x0123456789abcdefull;
    int bad = 0;
    for (int it = 0; it < 200000 && bad < 10; it++) {
        char s[96];
        size_t n = 0;
        uint64_t r = rnd_xorshift(&seed);
        if (r & 1)
            s[n++] = ' ';
        if (r & 2)
            s[n++] = (r & 4) ? '-' : '+';
        /* Short mantissas take the fast path, long ones (up to 30 digits) fall back. */
        int ni = (int)(rnd_xorshift(&seed) % ((r & 8) ? 30 : 8));
        int nf = (int)(rnd_xorshift(&seed) % ((r & 16) ? 25 : 6));
        if (ni == 0 && nf == 0)
            ni = 1;
        for (int i = 0; i < ni; i++)
            s[n++] = (char)('0' + rnd_xorshift(&seed) % 10);
        if (nf || (r & 32)) {
            s[n++] = '.';
            for (int i = 0; i < nf; i++)
                s[n++] = (char)('0' + rnd_xorshift(&seed) % 10);
        }
        if (r & 64) {
            s[n++] = (r & 128) ? 'e' : 'E';
            int e = (int)(rnd_xorshift(&seed) % 61) - 30; /* -30..30: never overflows */
            n += (size_t)snprintf(s + n, sizeof s - n, (r & 256) ? "%+d" : "%d", e);
        }
        if (r & 512)
            s[n++] = '\t';
        s[n] = '\0';
        if (!same_as_strtod(s))
            bad++;
    }
    T_EQ_INT(bad, 0);
}

TEST(parse_number_rejects)
{
    static const char *const bad[] = {
        "", " ", "1.2.3", "0x10", "0X1p3", "1e", "1e+", "1E-", "abc", "-", "+", ".", "-.",
        "--1", "+-1", "1 2", "1,5", "e5", ".e5", "1e5.5", "12a", "5 %", "nan(1)",
        "info", "in", "1_000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 99;
        int rc = ratemap_parse_number(bad[i], strlen(bad[i]), &v);
        if (rc != ALS_EFORMAT)
            printf("#   '%s' gave %d\n", bad[i], rc);
        T_EQ_INT(rc, ALS_EFORMAT);
        T_TRUE(v == 99);
    }
    /* The length is the caller's: an embedded NUL byte is not the end of the field. */
    double v = 99;
    T_EQ_INT(ratemap_parse_number("1\0", 2, &v), ALS_EFORMAT);
    T_OK(ratemap_parse_number("12", 1, &v));
    T_TRUE(v == 1);
}

TEST(parse_number_long_plain_decimal)
{
    /* "1." and 600 zeros is a plain decimal number equal to 1, and "0.", 600 zeros, "5e601"
     * is 5: neither is "not a number" (the contract's only reason for ALS_EFORMAT). */
    char s[700];
    double v = 99;
    memcpy(s, "1.", 2);
    memset(s + 2, '0', 600);
    s[602] = '\0';
    T_OK(parse(s, &v));
    T_TRUE(v == 1);
    memcpy(s, "0.", 2);
    memset(s + 2, '0', 600);
    memcpy(s + 602, "5e601", 6);
    v = 99;
    T_OK(parse(s, &v));
    T_TRUE(v == 5); /* 5e-601 * 1e601 */
}

TEST(parse_number_non_finite)
{
    static const char *const nf[] = {
        "nan", "NaN", "NAN", "-nan", "inf", "-inf", "+INF", "Infinity", "-infinity",
        " inf ", "1e999", "-1e999", "1e309",
        /* DBL_MAX + 2^970, halfway to 2^1024: the tie rounds to the even 2^1024, inf */
        "179769313486231580793728971405303415079934132710037826936173778980444968"
        "292764750946649017977587207096330286416692887910946555547851940402630657"
        "488671505820681908902000708383676273854845817711531764475730270069855571"
        "366959622842914819860834936475292719074168444365510704342711559699508093"
        "042880177904174497792",
        /* 2^1024 */
        "179769313486231590772930519078902473361797697894230657273430081157732675"
        "805500963132708477322407536021120113879871393357658789768814416622492847"
        "430639474124377767893424865485276302219601246094119453082952085005768838"
        "150682342462881473913110540827237163350510684586298239947245938479716304"
        "835356329624224137216",
    };
    for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++) {
        double v = 99;
        T_EQ_INT(parse(nf[i], &v), ALS_ENUMERIC);
        T_TRUE(v == 99);
    }
    /* The largest finite double written out in full is finite. */
    double v;
    T_OK(parse("179769313486231570814527423731704356798070567525844996598917476803157260"
                "780028538760589558632766878171540458953514382464234321326889464182768467"
                "546703537516986049910576551282076245490090389328944075868508455133942304"
                "583236903222948165808559332123348274797826204144723168738177180919299881"
                "250404026184124858368",
                &v));
    T_TRUE(v == 1.7976931348623157e308);
    /* One below the halfway point still rounds down to DBL_MAX. */
    T_OK(parse("179769313486231580793728971405303415079934132710037826936173778980444968"
                "292764750946649017977587207096330286416692887910946555547851940402630657"
                "488671505820681908902000708383676273854845817711531764475730270069855571"
                "366959622842914819860834936475292719074168444365510704342711559699508093"
                "042880177904174497791",
                &v));
    T_TRUE(v == 1.7976931348623157e308);
}

/* ---- levels ---- */

TEST(levels_map_to_ranks)
{
    struct ratemap m;
    struct diag d;
    double v;
    ratemap_init(&m);
    T_OK(ratemap_set_levels(&m, "hate,dislike,like,love", &d));
    T_EQ_U64(m.nlevels, 4);
    static const char *const lab[4] = { "hate", "dislike", "like", "love" };
    for (int i = 0; i < 4; i++) {
        T_OK(ratemap_raw(&m, lab[i], strlen(lab[i]), &v, &d));
        T_TRUE(v == i + 1);
    }
    /* Numbers still parse; other words name the levels in the message. */
    T_OK(ratemap_raw(&m, "2.5", 3, &v, &d));
    T_TRUE(v == 2.5);
    T_EQ_INT(ratemap_raw(&m, "meh", 3, &v, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, "rating 'meh' is neither a number nor one of the --levels");
    /* A label must match whole: a prefix or different case is not a label. */
    T_EQ_INT(ratemap_raw(&m, "lov", 3, &v, &d), ALS_EFORMAT);
    T_EQ_INT(ratemap_raw(&m, "Love", 4, &v, &d), ALS_EFORMAT);
    ratemap_release(&m);
    T_EQ_U64(m.nlevels, 0);
}

TEST(levels_take_precedence_over_numbers)
{
    struct ratemap m;
    struct diag d;
    double v;
    ratemap_init(&m);
    T_OK(ratemap_set_levels(&m, "10,20", &d));
    T_OK(ratemap_raw(&m, "10", 2, &v, &d));
    T_TRUE(v == 1);
    T_OK(ratemap_raw(&m, "20", 2, &v, &d));
    T_TRUE(v == 2);
    T_OK(ratemap_raw(&m, "15", 2, &v, &d));
    T_TRUE(v == 15);
    ratemap_release(&m);
}

TEST(levels_rejects_empty_and_duplicates)
{
    static const char *const bad[] = { "", "a,,b", "a,", ",a", "a,b,a", "x,x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ratemap m;
        struct diag d;
        ratemap_init(&m);
        T_EQ_INT(ratemap_set_levels(&m, bad[i], &d), ALS_EUSAGE);
        ratemap_release(&m);
    }
    struct ratemap m;
    struct diag d;
    ratemap_init(&m);
    T_EQ_INT(ratemap_set_levels(&m, "good,bad,good", &d), ALS_EUSAGE);
    T_EQ_STR(d.msg, "label 'good' appears twice in --levels");
    ratemap_release(&m);

    /* At most RATEMAP_MAX_LEVELS labels. */
    ratemap_init(&m);
    char lab[16];
    for (int i = 0; i < RATEMAP_MAX_LEVELS; i++) {
        int n = snprintf(lab, sizeof lab, "l%d", i);
        T_OK(ratemap_add_level(&m, lab, (size_t)n, &d));
    }
    T_EQ_INT(ratemap_add_level(&m, "one-more", 8, &d), ALS_EUSAGE);
    T_EQ_U64(m.nlevels, RATEMAP_MAX_LEVELS);
    double v;
    T_OK(ratemap_raw(&m, "l255", 4, &v, &d));
    T_TRUE(v == 256);
    ratemap_release(&m);
}

TEST(raw_messages)
{
    struct ratemap m;
    struct diag d;
    double v = 99;
    ratemap_init(&m);
    T_EQ_INT(ratemap_raw(&m, "", 0, &v, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, "empty rating");
    T_EQ_INT(ratemap_raw(&m, "good", 4, &v, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, "rating 'good' is not a number (use --levels for labels)");
    T_EQ_INT(ratemap_raw(&m, "nan", 3, &v, &d), ALS_ENUMERIC);
    T_EQ_STR(d.msg, "rating 'nan' is not a finite number");
    /* Long values are cut at 40 bytes in the message. */
    const char *longv = "x123456789012345678901234567890123456789012345";
    T_EQ_INT(ratemap_raw(&m, longv, strlen(longv), &v, &d), ALS_EFORMAT);
    T_EQ_STR(d.msg, "rating 'x123456789012345678901234567890123456789...' is not a number "
                    "(use --levels for labels)");
    T_TRUE(v == 99);
    ratemap_release(&m);
}

/* ---- transforms ---- */

/* log1p at run time, as the library computes it: a constant argument would let the
 * compiler fold it with a correctly rounded log1p that may differ from libm's by 1 ulp. */
static double
rt_log1p(double x)
{
    volatile double v = x;
    return log1p(v);
}

/* A map with chain, fitted on v[0..n) when it needs fitting. */
static int
mk(struct ratemap *m, const char *chain, const double *v, size_t n)
{
    struct diag d;
    ratemap_init(m);
    int rc = ratemap_set_transforms(m, chain, &d);
    if (rc == 0 && ratemap_needs_fit(m))
        ratemap_fit(m, v, n);
    return rc;
}

static double
ap(const struct ratemap *m, double x)
{
    struct diag d;
    double y = -12345;
    if (ratemap_apply(m, x, &y, &d) != 0)
        return -99999;
    return y;
}

TEST(single_transforms)
{
    struct ratemap m;

    T_OK(mk(&m, "log1p", NULL, 0));
    T_EQ_U64(m.nsteps, 1);
    T_TRUE(ap(&m, 0) == 0);
    T_NEAR(ap(&m, 1), 0.69314718055994531, 1e-16);       /* ln 2 */
    T_NEAR(ap(&m, 3), 1.3862943611198906, 1e-15);        /* ln 4 */
    T_NEAR(ap(&m, -0.5), -0.69314718055994531, 1e-16);   /* ln 0.5 */
    ratemap_release(&m);

    T_OK(mk(&m, "clip:0:1", NULL, 0));
    T_TRUE(ap(&m, -0.5) == 0);
    T_TRUE(ap(&m, 0.25) == 0.25);
    T_TRUE(ap(&m, 7) == 1);
    T_TRUE(ap(&m, 1) == 1);
    ratemap_release(&m);

    T_OK(mk(&m, "scale:2", NULL, 0));
    T_TRUE(ap(&m, 3) == 6);
    T_TRUE(ap(&m, -1.25) == -2.5);
    ratemap_release(&m);

    T_OK(mk(&m, "scale:-0.5", NULL, 0));
    T_TRUE(ap(&m, 3) == -1.5);
    ratemap_release(&m);

    T_OK(mk(&m, "binary", NULL, 0));
    T_TRUE(ap(&m, 0) == 0);
    T_TRUE(ap(&m, -1) == 0);
    T_TRUE(ap(&m, 1e-300) == 1);
    T_TRUE(ap(&m, 5) == 1);
    ratemap_release(&m);

    /* A pre-fitted minmax needs no fit: (x - 2) / (10 - 2). */
    T_OK(mk(&m, "minmax:2:10", NULL, 0));
    T_EQ_INT(ratemap_needs_fit(&m), 0);
    T_TRUE(ap(&m, 2) == 0);
    T_TRUE(ap(&m, 6) == 0.5);
    T_TRUE(ap(&m, 10) == 1);
    T_TRUE(ap(&m, 12) == 1.25); /* minmax does not clip */
    ratemap_release(&m);

    /* No chain is the identity. */
    ratemap_init(&m);
    T_EQ_U64(m.nsteps, 0);
    T_TRUE(ap(&m, 3.5) == 3.5);
    ratemap_release(&m);
}

TEST(chains)
{
    struct ratemap m;
    /* clip to [1,5], halve, binary: 0 -> 1 -> 0.5 -> 1. */
    T_OK(mk(&m, "clip:1:5,scale:0.5,binary", NULL, 0));
    T_EQ_U64(m.nsteps, 3);
    T_TRUE(ap(&m, 0) == 1);
    ratemap_release(&m);

    /* Order matters: negate then binary. 3 -> -3 -> 0; -2 -> 2 -> 1. */
    T_OK(mk(&m, "scale:-1,binary", NULL, 0));
    T_TRUE(ap(&m, 3) == 0);
    T_TRUE(ap(&m, -2) == 1);
    ratemap_release(&m);

    /* log1p(3) = ln 4, times 2 = ln 16 = 2.772588722239781. */
    T_OK(mk(&m, "log1p,scale:2", NULL, 0));
    T_NEAR(ap(&m, 3), 2.7725887222397811, 1e-15);
    ratemap_release(&m);

    /* scale 10 then clip [0, 25]: 2 -> 20, 3 -> 30 -> 25, -1 -> -10 -> 0. */
    T_OK(mk(&m, "scale:10,clip:0:25", NULL, 0));
    T_TRUE(ap(&m, 2) == 20);
    T_TRUE(ap(&m, 3) == 25);
    T_TRUE(ap(&m, -1) == 0);
    ratemap_release(&m);
}

TEST(fit_then_apply)
{
    struct ratemap m;
    static const double v[] = { 4, 2, 10, 6 };
    ratemap_init(&m);
    struct diag d;
    T_OK(ratemap_set_transforms(&m, "minmax", &d));
    T_EQ_INT(ratemap_needs_fit(&m), 1);
    ratemap_fit(&m, v, 4);
    T_EQ_INT(ratemap_needs_fit(&m), 0);
    T_TRUE(m.step[0].a == 2 && m.step[0].b == 10);
    T_TRUE(ap(&m, 2) == 0);
    T_TRUE(ap(&m, 10) == 1);
    T_TRUE(ap(&m, 4) == 0.25);
    /* Fitting again changes nothing: the bounds are frozen. */
    static const double w[] = { -100, 100 };
    ratemap_fit(&m, w, 2);
    T_TRUE(m.step[0].a == 2 && m.step[0].b == 10);
    ratemap_release(&m);

    /* Each minmax sees the values after the steps before it: scale 2 gives 2, 6, so
     * (x * 2 - 2) / 4 and 2 -> 0.5. */
    static const double u[] = { 1, 3 };
    T_OK(mk(&m, "scale:2,minmax", u, 2));
    T_TRUE(m.step[1].a == 2 && m.step[1].b == 6);
    T_TRUE(ap(&m, 2) == 0.5);
    T_TRUE(ap(&m, 1) == 0);
    ratemap_release(&m);

    /* Two minmax steps in one chain: the second sees [0, 1] from the first. */
    T_OK(mk(&m, "minmax,scale:3,minmax", v, 4));
    T_TRUE(m.step[0].a == 2 && m.step[0].b == 10);
    T_TRUE(m.step[2].a == 0 && m.step[2].b == 3);
    T_TRUE(ap(&m, 6) == 0.5);
    ratemap_release(&m);

    /* log1p then minmax: bounds are log1p of the extremes. */
    T_OK(mk(&m, "log1p,minmax", v, 4));
    T_TRUE(m.step[1].a == rt_log1p(2) && m.step[1].b == rt_log1p(10));
    T_TRUE(ap(&m, 10) == 1);
    T_TRUE(ap(&m, 2) == 0);
    ratemap_release(&m);
}

TEST(fit_constant_and_empty)
{
    struct ratemap m;
    /* A constant column carries presence only: every value maps to 1. */
    static const double c[] = { 5, 5, 5 };
    T_OK(mk(&m, "minmax", c, 3));
    T_TRUE(m.step[0].a == 5 && m.step[0].b == 5);
    T_TRUE(ap(&m, 5) == 1);
    T_TRUE(ap(&m, 7) == 1);
    ratemap_release(&m);

    /* No values: bounds 0 and 1. */
    ratemap_init(&m);
    struct diag d;
    T_OK(ratemap_set_transforms(&m, "minmax", &d));
    ratemap_fit(&m, NULL, 0);
    T_TRUE(m.step[0].fitted && m.step[0].a == 0 && m.step[0].b == 1);
    T_TRUE(ap(&m, 0.75) == 0.75);
    ratemap_release(&m);

    /* Values that are not finite after the earlier steps are left out of the fit:
     * log1p(-1) = -inf, so the bounds come from 0 and 3 alone. */
    static const double e[] = { -1, 0, 3 };
    T_OK(mk(&m, "log1p,minmax", e, 3));
    T_TRUE(m.step[1].a == 0 && m.step[1].b == rt_log1p(3));
    ratemap_release(&m);
}

TEST(transform_syntax_errors)
{
    static const char *const bad[] = {
        "bogus", "log1p:1", "binary:0", "clip", "clip:1", "clip:2:1", "clip:a:b",
        "scale", "scale:", "scale:abc", "scale:inf", "scale:nan", "scale:1e999", "scale:1:2",
        "minmax:1", "minmax:5:1", "minmax:1:2:3", "log1p,,binary", ",log1p", "log1p,", "",
        "LOG1P", "log1p ", " log1p",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ratemap m;
        struct diag d;
        ratemap_init(&m);
        int rc = ratemap_set_transforms(&m, bad[i], &d);
        if (rc != ALS_EUSAGE)
            printf("#   '%s' gave %d\n", bad[i], rc);
        T_EQ_INT(rc, ALS_EUSAGE);
        ratemap_release(&m);
    }
    struct ratemap m;
    struct diag d;
    ratemap_init(&m);
    T_EQ_INT(ratemap_set_transforms(&m, "log1p,clip:3:1", &d), ALS_EUSAGE);
    T_EQ_STR(d.msg, "invalid transform 'clip:3:1' (expected log1p, minmax, clip:LO:HI, "
                    "scale:X or binary)");
    ratemap_release(&m);

    /* At most RATEMAP_MAX_STEPS steps. */
    char chain[256] = "";
    for (int i = 0; i < RATEMAP_MAX_STEPS; i++)
        strcat(chain, i ? ",binary" : "binary");
    ratemap_init(&m);
    T_OK(ratemap_set_transforms(&m, chain, &d));
    T_EQ_U64(m.nsteps, RATEMAP_MAX_STEPS);
    ratemap_release(&m);
    strcat(chain, ",binary");
    ratemap_init(&m);
    T_EQ_INT(ratemap_set_transforms(&m, chain, &d), ALS_EUSAGE);
    ratemap_release(&m);
}

TEST(format_round_trip)
{
    struct ratemap a, b;
    struct diag d;
    char buf[512], buf2[512];

    /* Unfitted chains come back as written. */
    static const char *const chains[] = {
        "log1p", "minmax", "binary", "clip:0:1", "scale:2",
        "log1p,minmax,clip:0:1,scale:2,binary", "scale:-0.5,clip:-1:1",
    };
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
        ratemap_init(&a);
        T_OK(ratemap_set_transforms(&a, chains[i], &d));
        ratemap_format_transforms(&a, buf, sizeof buf);
        T_EQ_STR(buf, chains[i]);
        ratemap_release(&a);
    }

    /* Fitted bounds and awkward parameters survive bit for bit (%.17g). */
    static const double v[] = { 0.1, 1.0 / 3.0, 0.7 };
    ratemap_init(&a);
    T_OK(ratemap_set_transforms(&a, "scale:0.1,log1p,minmax,clip:0.30000000000000004:0.9",
                                &d));
    ratemap_fit(&a, v, 3);
    ratemap_format_transforms(&a, buf, sizeof buf);
    ratemap_init(&b);
    T_OK(ratemap_set_transforms(&b, buf, &d));
    T_EQ_INT(ratemap_needs_fit(&b), 0);
    T_EQ_U64(b.nsteps, 4);
    for (unsigned i = 0; i < 4; i++) {
        T_EQ_INT(b.step[i].op, a.step[i].op);
        T_EQ_MEM(&b.step[i].a, sizeof(double), &a.step[i].a, sizeof(double));
        T_EQ_MEM(&b.step[i].b, sizeof(double), &a.step[i].b, sizeof(double));
    }
    /* The fitted bounds: log1p(0.1 * 0.1) and log1p(0.1 * 0.7). */
    T_TRUE(a.step[2].a == rt_log1p(0.1 * 0.1) && a.step[2].b == rt_log1p(0.1 * 0.7));
    T_TRUE(ratemap_equal(&a, &b));
    ratemap_format_transforms(&b, buf2, sizeof buf2);
    T_EQ_STR(buf2, buf);
    ratemap_release(&a);
    ratemap_release(&b);

    /* A short buffer is cut, never overrun, and stays terminated. */
    ratemap_init(&a);
    T_OK(ratemap_set_transforms(&a, "log1p,binary,log1p", &d));
    char small[8];
    memset(small, 'Z', sizeof small);
    ratemap_format_transforms(&a, small, 6);
    T_EQ_STR(small, "log1p");
    T_TRUE(small[6] == 'Z');
    ratemap_release(&a);
}

TEST(equal)
{
    struct ratemap a, b;
    struct diag d;
#define PAIR(la, ca, lb, cb)                                                               \
    do {                                                                                   \
        ratemap_init(&a);                                                                  \
        ratemap_init(&b);                                                                  \
        if (*(la)) T_OK(ratemap_set_levels(&a, la, &d));                                   \
        if (*(lb)) T_OK(ratemap_set_levels(&b, lb, &d));                                   \
        if (*(ca)) T_OK(ratemap_set_transforms(&a, ca, &d));                               \
        if (*(cb)) T_OK(ratemap_set_transforms(&b, cb, &d));                               \
    } while (0)
#define DONE() do { ratemap_release(&a); ratemap_release(&b); } while (0)

    PAIR("", "", "", "");
    T_TRUE(ratemap_equal(&a, &b));
    DONE();
    PAIR("lo,hi", "log1p,scale:2", "lo,hi", "log1p,scale:2");
    T_TRUE(ratemap_equal(&a, &b));
    DONE();
    PAIR("lo,hi", "", "hi,lo", "");
    T_TRUE(!ratemap_equal(&a, &b));
    DONE();
    PAIR("lo,hi", "", "lo,hi,top", "");
    T_TRUE(!ratemap_equal(&a, &b));
    DONE();
    PAIR("lo,hi", "", "lo,hj", "");
    T_TRUE(!ratemap_equal(&a, &b));
    DONE();
    PAIR("", "scale:2", "", "scale:3");
    T_TRUE(!ratemap_equal(&a, &b));
    DONE();
    PAIR("", "clip:0:1", "", "clip:0:2");
    T_TRUE(!ratemap_equal(&a, &b));
    DONE();
    PAIR("", "log1p", "", "binary");
    T_TRUE(!ratemap_equal(&a, &b));
    DONE();
    PAIR("", "log1p", "", "log1p,log1p");
    T_TRUE(!ratemap_equal(&a, &b));
    DONE();
    /* An unfitted minmax agrees with any fitted one; two fitted ones must match. */
    PAIR("", "minmax", "", "minmax:1:5");
    T_TRUE(ratemap_equal(&a, &b));
    T_TRUE(ratemap_equal(&b, &a));
    DONE();
    PAIR("", "minmax:1:5", "", "minmax:1:5");
    T_TRUE(ratemap_equal(&a, &b));
    DONE();
    PAIR("", "minmax:1:5", "", "minmax:1:6");
    T_TRUE(!ratemap_equal(&a, &b));
    DONE();
#undef PAIR
#undef DONE
}

TEST(apply_non_finite)
{
    struct ratemap m;
    struct diag d;
    double y = 77;
    /* log1p(-2) is NaN, log1p(-1) is -inf. */
    T_OK(mk(&m, "log1p", NULL, 0));
    T_EQ_INT(ratemap_apply(&m, -2, &y, &d), ALS_ENUMERIC);
    T_EQ_STR(d.msg, "rating -2 is not finite after transform 1 (log1p)");
    T_EQ_INT(ratemap_apply(&m, -1, &y, &d), ALS_ENUMERIC);
    T_TRUE(y == 77);
    ratemap_release(&m);

    /* Overflow in scale: 10 * 1e308 = inf, at step 2. */
    T_OK(mk(&m, "clip:0:100,scale:1e308", NULL, 0));
    T_EQ_INT(ratemap_apply(&m, 10, &y, &d), ALS_ENUMERIC);
    T_EQ_STR(d.msg, "rating 10 is not finite after transform 2 (scale)");
    T_TRUE(y == 77);
    ratemap_release(&m);
}
