/* SPDX-License-Identifier: MIT */
/* test_search: the grid spec parser, the point count and the grid and sample orders. */
#include <string.h>

#include "search.h"

#include "t.h"

TEST(parse_keys_values_auto_and_budget)
{
    struct search_spec s;
    struct diag d = { 0 };
    T_OK(search_parse("k=32,64 alpha=0.5,auto;lambda=10 iterations=5 points=3 seconds=1.5", &s,
                      &d));
    T_EQ_U64(s.naxes, 4);
    T_EQ_INT(s.axis[0].key, SEARCH_K);
    T_EQ_U64(s.axis[0].n, 2);
    T_TRUE(s.axis[0].v[1] == 64);
    T_EQ_INT(s.axis[1].key, SEARCH_ALPHA);
    T_TRUE(s.axis[1].v[0] == 0.5 && !s.axis[1].is_auto[0] && s.axis[1].is_auto[1]);
    T_EQ_INT(s.axis[2].key, SEARCH_LAMBDA);
    T_EQ_INT(s.axis[3].key, SEARCH_ITERATIONS);
    T_EQ_U64(s.max_points, 3);
    T_TRUE(s.max_seconds == 1.5);
    T_EQ_U64(search_points(&s), 4); /* 2 x 2 x 1 x 1 */
    T_OK(search_parse("alpha=auto*0.5,auto*4", &s, &d));
    T_TRUE(s.axis[0].is_auto[0] && s.axis[0].v[0] == 0.5 && s.axis[0].v[1] == 4);
    T_OK(search_parse("factors=8 n=0 cg-steps=1,2,3", &s, &d));
    T_EQ_U64(search_points(&s), 3);
}

TEST(parse_refuses_what_it_cannot_use)
{
    static const char *const bad[][2] = {
        { "", "no parameters" },
        { "k", "is not KEY=LIST" },
        { "q=1", "is not KEY=LIST" },
        { "k=", "no values for k" },
        { "k=1.5", "k value '1.5' is not a whole number" },
        { "k=auto", "k value 'auto'" },
        { "alpha=-1", "alpha value '-1' is not a number" },
        { "lambda=1 lambda=2", "lambda given twice" },
        { "points=0", "'points=0' needs a whole number" },
        { "alpha=auto*", "'auto*' is not auto or auto*X" },
        { "lambda=autox", "'autox' is not auto or auto*X" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct search_spec s;
        struct diag d = { 0 };
        T_EQ_INT(search_parse(bad[i][0], &s, &d), ALS_EUSAGE);
        if (!strstr(d.msg, bad[i][1]))
            T_FAIL("'%s': message '%s' lacks '%s'", bad[i][0], d.msg, bad[i][1]);
    }
}

TEST(point_count_is_the_product_of_the_axes)
{
    struct search_spec s;
    memset(&s, 0, sizeof s);
    s.naxes = SEARCH_NKEYS;
    for (unsigned i = 0; i < SEARCH_NKEYS; i++)
        s.axis[i].n = SEARCH_MAX_VALUES;
    T_EQ_U64(search_points(&s), 32ull * 32 * 32 * 32 * 32);
}
