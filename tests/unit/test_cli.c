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

/* ---- the progress printer ---- */

static double fake_now;

static double
fake_clock(void)
{
    return fake_now;
}

/* The line cli_progress_format makes, for comparing. */
static const char *
line(uint64_t done, uint64_t total, const char *unit, double rate)
{
    static char buf[256];
    cli_progress_format(buf, sizeof buf, "als-x", done, total, unit, rate);
    return buf;
}

TEST(progress_lines_sizes_counts_rates_and_eta)
{
    T_EQ_STR(line(1200000000, 3100000000u, "bytes", 410e6),
             "als-x: 1.2 GB of 3.1 GB (38%), 410 MB/s, ETA 0:05");
    T_EQ_STR(line(12400000, 0, "records", 3.1e6), "als-x: 12,400,000 records, 3.1 M/s");
    T_EQ_STR(line(1200, 5000, "users", 3100), "als-x: 1,200 of 5,000 users (24%), 3.1 k/s, "
                                              "ETA 0:02");
    T_EQ_STR(line(76000000, 0, "bytes", 126e6), "als-x: 76 MB, 126 MB/s");
    /* no rate yet: neither rate nor ETA */
    T_EQ_STR(line(0, 211000000, "bytes", -1), "als-x: 0 B of 211 MB (0%)");
    T_EQ_STR(line(0, 0, "records", -1), "als-x: 0 records");
    /* done: no ETA; small rates and sizes */
    T_EQ_STR(line(5000, 5000, "users", 850), "als-x: 5,000 of 5,000 users (100%), 850/s");
    T_EQ_STR(line(3, 7, "users", 2.5), "als-x: 3 of 7 users (42%), 2.5/s, ETA 0:02");
    T_EQ_STR(line(999, 1000, "bytes", 999.4), "als-x: 999 B of 1.0 kB (99%), 999 B/s, ETA 0:01");
    T_EQ_STR(line(9960000, 999600000, "bytes", 0.5e6),
             "als-x: 10 MB of 1.0 GB (0%), 500 kB/s, ETA 33:00");
    /* hours, and one count per thousand separator */
    T_EQ_STR(line(1, 7201, "entries", 1), "als-x: 1 of 7,201 entries (0%), 1.0/s, ETA 2:00:00");
    T_EQ_STR(line(1234567, 12345678, "previous-model users", 31000),
             "als-x: 1,234,567 of 12,345,678 previous-model users (9%), 31 k/s, ETA 5:59");
    T_EQ_STR(line(999, 0, "rows", 1e9), "als-x: 999 rows, 1.0 G/s");
    /* cut to the buffer, with the length it wanted */
    char small[12];
    T_EQ_INT(cli_progress_format(small, sizeof small, "als-x", 5, 0, "users", -1), 14);
    T_EQ_STR(small, "als-x: 5 us");
}

/* A printer writing to a scratch file on the fake clock, as plain lines or a terminal's. */
static FILE *
fake_printer(struct cli_progress *p, struct cli *c, int tty)
{
    memset(c, 0, sizeof *c);
    c->prog = "als-x";
    c->progress = 1;
    fake_now = 100;
    cli_progress_init(p, c, 0);
    T_EQ_INT(p->on, 1);
    p->clock = fake_clock;
    p->t0 = fake_now;
    p->delay = 1;
    p->interval = 5;
    p->tty = tty;
    p->out = tmpfile();
    if (!p->out)
        abort();
    return p->out;
}

/* What the printer wrote. */
static const char *
written(FILE *f)
{
    static char buf[4096];
    size_t n = (size_t)ftell(f);
    rewind(f);
    n = fread(buf, 1, n < sizeof buf - 1 ? n : sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

TEST(progress_plain_lines_wait_a_second_then_one_per_interval)
{
    struct cli c;
    struct cli_progress p;
    FILE *f = fake_printer(&p, &c, 0);
    cli_progress_update(&p, 0, 1000, "users"); /* the phase begins */
    fake_now = 100.5;
    cli_progress_update(&p, 50, 1000, "users"); /* before the delay: nothing */
    fake_now = 101;
    cli_progress_update(&p, 100, 1000, "users"); /* the first line */
    fake_now = 103;
    cli_progress_update(&p, 300, 1000, "users"); /* within the interval: none */
    fake_now = 106;
    cli_progress_update(&p, 600, 1000, "users"); /* 5 s after the last */
    fake_now = 107;
    cli_progress_update(&p, 0, 40, "records sorted"); /* a new phase, its rate its own */
    fake_now = 109;
    cli_progress_update(&p, 40, 40, "records sorted");
    cli_progress_end(&p); /* the last state, still due */
    cli_progress_update(&p, 1, 40, "records sorted"); /* off after the end */
    T_EQ_STR(written(f), "als-x: 100 of 1,000 users (10%), 100/s, ETA 0:09\n"
                         "als-x: 600 of 1,000 users (60%), 100/s, ETA 0:04\n"
                         "als-x: 40 of 40 records sorted (100%), 20/s\n");
}

TEST(progress_short_runs_print_nothing)
{
    struct cli c;
    struct cli_progress p;
    for (int tty = 0; tty <= 1; tty++) {
        FILE *f = fake_printer(&p, &c, tty);
        cli_progress_update(&p, 0, 10, "bytes");
        fake_now = 100.9;
        cli_progress_update(&p, 10, 10, "bytes");
        cli_progress_end(&p);
        T_EQ_STR(written(f), "");
    }
}

TEST(progress_on_a_terminal_redraws_one_line_and_erases_it)
{
    struct cli c;
    struct cli_progress p;
    FILE *f = fake_printer(&p, &c, 1);
    cli_progress_update(&p, 0, 0, "records");
    fake_now = 101;
    cli_progress_update(&p, 12000, 0, "records");
    fake_now = 102;
    cli_progress_update(&p, 24000, 0, "records");
    fake_now = 104;
    cli_progress_update(&p, 24000, 0, "records"); /* a slower rate: a longer line */
    cli_progress_update(&p, 0, 0, "rows"); /* a shorter one: spaces over the rest */
    cli_progress_end(&p);
    T_EQ_STR(written(f), "\rals-x: 12,000 records, 12 k/s"
                         "\rals-x: 24,000 records, 12 k/s"
                         "\rals-x: 24,000 records, 6.0 k/s"
                         "\rals-x: 0 rows                 \rals-x: 0 rows"
                         "\r             \r");
}

TEST(progress_is_on_as_cli_show_progress_says_and_the_delay_is_overridable)
{
    struct cli c;
    struct cli_progress p;
    memset(&c, 0, sizeof c);
    c.prog = "als-x";
    c.quiet = 1;
    cli_progress_init(&p, &c, 0);
    T_EQ_INT(p.on, 0); /* -q */
    cli_progress_update(&p, 1, 1, "users");
    cli_progress_end(&p);
    c.progress = 1; /* --progress wins over -q */
    unsetenv("ALS_PROGRESS_DELAY");
    cli_progress_init(&p, &c, 0);
    T_EQ_INT(p.on, 1);
    T_TRUE(p.delay == 1 && p.interval == 5);
    setenv("ALS_PROGRESS_DELAY", "0", 1);
    cli_progress_init(&p, &c, 0);
    T_TRUE(p.delay == 0 && p.interval == 0);
    setenv("ALS_PROGRESS_DELAY", "soon", 1); /* not a number: the defaults */
    cli_progress_init(&p, &c, 0);
    T_TRUE(p.delay == 1 && p.interval == 5);
    unsetenv("ALS_PROGRESS_DELAY");
}
