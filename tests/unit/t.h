/* SPDX-License-Identifier: MIT */
/* t.h: a tiny TAP unit-test runner; each test_<mod>.c defines TEST()s and includes this. */
#ifndef ALS_T_H
#define ALS_T_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*t_fn)(void);
struct t_case { const char *name; t_fn fn; };

static struct t_case t_cases[512];
static int t_ncases, t_failed_here;

#define TEST(tname)                                                                     \
    static void test_##tname(void);                                                     \
    __attribute__((constructor)) static void t_register_##tname(void)                   \
    {                                                                                   \
        t_cases[t_ncases].name = #tname;                                                \
        t_cases[t_ncases++].fn = test_##tname;                                          \
    }                                                                                   \
    static void test_##tname(void)

#define T_FAIL(...)                                                                     \
    do {                                                                                \
        printf("#   %s:%d: ", __FILE__, __LINE__);                                      \
        printf(__VA_ARGS__);                                                            \
        printf("\n");                                                                   \
        t_failed_here = 1;                                                              \
    } while (0)
#define T_TRUE(c)                                                                       \
    do { if (!(c)) T_FAIL("expected true: %s", #c); } while (0)
#define T_OK(e)                                                                         \
    do { int t_rc_ = (e); if (t_rc_ != 0) T_FAIL("%s returned %d", #e, t_rc_); } while (0)
#define T_EQ_INT(a, b)                                                                  \
    do { long long t_a_ = (a), t_b_ = (b);                                              \
         if (t_a_ != t_b_) T_FAIL("%s == %lld, expected %lld", #a, t_a_, t_b_); } while (0)
#define T_EQ_U64(a, b)                                                                  \
    do { unsigned long long t_a_ = (a), t_b_ = (b);                                     \
         if (t_a_ != t_b_) T_FAIL("%s == %llu, expected %llu", #a, t_a_, t_b_); } while (0)
#define T_EQ_STR(a, b)                                                                  \
    do { const char *t_a_ = (a), *t_b_ = (b);                                           \
         if (!t_a_ || strcmp(t_a_, t_b_) != 0)                                          \
             T_FAIL("%s == \"%s\", expected \"%s\"", #a, t_a_ ? t_a_ : "(null)", t_b_); \
    } while (0)
#define T_EQ_MEM(a, alen, b, blen)                                                      \
    do { if ((size_t)(alen) != (size_t)(blen) || memcmp((a), (b), (blen)) != 0)         \
             T_FAIL("%s differs from %s", #a, #b); } while (0)
#define T_NEAR(a, b, tol)                                                               \
    do { double t_a_ = (double)(a), t_b_ = (double)(b);                                                 \
         if (!(fabs(t_a_ - t_b_) <= (tol)))                                             \
             T_FAIL("%s == %.9g, expected %.9g +- %g", #a, t_a_, t_b_, (double)(tol));  \
    } while (0)

int
main(void)
{
    int failed = 0;
    printf("1..%d\n", t_ncases);
    for (int i = 0; i < t_ncases; i++) {
        t_failed_here = 0;
        t_cases[i].fn();
        failed += t_failed_here;
        printf("%s %d - %s\n", t_failed_here ? "not ok" : "ok", i + 1, t_cases[i].name);
    }
    return failed ? 1 : 0;
}

#endif
