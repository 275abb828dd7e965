/* SPDX-License-Identifier: MIT */
/* test_cli: the common options that do not exit, the checked option parsers and choices. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#include "t.h"
#include "scratch.h"

TEST(common_options_that_return)
{
    struct cli c;
    memset(&c, 0, sizeof c);
    c.prog = "als-test";
    T_EQ_INT(cli_common(&c, 'q', NULL), 1);
    T_EQ_INT(c.quiet, 1);
    T_EQ_INT(cli_common(&c, 'v', NULL), 1);
    T_EQ_INT(cli_common(&c, 'v', NULL), 1);
    T_EQ_INT(c.verbose, 2);
    T_EQ_INT(cli_common(&c, 'j', "4"), 1);
    T_EQ_U64(c.threads, 4);
    T_EQ_U64(cli_threads(&c), 4);
    T_EQ_INT(cli_common(&c, CLI_OPT_SEED, "18446744073709551615"), 1);
    T_EQ_U64(c.seed, UINT64_MAX);
    T_EQ_INT(c.seed_given, 1);
    T_EQ_INT(cli_common(&c, CLI_OPT_PROGRESS, NULL), 1);
    T_EQ_INT(c.progress, 1);
    T_EQ_INT(cli_show_progress(&c), 1); /* --progress wins over -q */
    /* Not a common option: the program handles it. */
    T_EQ_INT(cli_common(&c, 'x', "whatever"), 0);
    T_EQ_INT(cli_common(&c, CLI_OPT_FIRST_PROGRAM, NULL), 0);

    /* -q without --progress: never. 0 threads: the online CPU count, at least 1. */
    c.progress = 0;
    T_EQ_INT(cli_show_progress(&c), 0);
    c.threads = 0;
    T_TRUE(cli_threads(&c) >= 1);
}

TEST(opt_parsers_return_valid_values)
{
    struct cli c;
    memset(&c, 0, sizeof c);
    c.prog = "als-test";
    T_EQ_U64(cli_opt_u64(&c, "k", "64", 1, 1024), 64);
    T_TRUE(cli_opt_double(&c, "lambda", "0.05", 0, 1e6) == 0.05);
}

TEST(choice_returns_the_index)
{
    struct cli c;
    memset(&c, 0, sizeof c);
    c.prog = "als-test";
    static const char *const names[] = { "table", "tsv", "json", NULL };
    T_EQ_INT(cli_choice(&c, "format", "table", names), 0);
    T_EQ_INT(cli_choice(&c, "format", "json", names), 2);
}

TEST(looks_like_output_absent_or_by_extension)
{
    static const char *const exts[] = { ".als", ".model", NULL };
    const char *in = tpath("in.csr"), *model = tpath("old.model");
    T_OK(spit(in, "x", 1));
    T_OK(spit(model, "x", 1));
    T_EQ_INT(cli_looks_like_output(in, exts), 0);               /* an existing input */
    T_EQ_INT(cli_looks_like_output(model, exts), 1);            /* exists, a model's name */
    T_EQ_INT(cli_looks_like_output(tpath("new.csr"), exts), 1); /* absent, any name */
}
