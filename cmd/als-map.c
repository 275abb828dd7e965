/* SPDX-License-Identifier: MIT */
/* als-map: raw interaction logs to dense-index triples, building the persisted vocabularies. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "csv.h"
#include "logread.h"
#include "mapjob.h"
#include "ratemap.h"
#include "vocabdir.h"
#include "zio.h"

static const char usage[] =
    "usage: als-map -V DIR [-H | --no-header] [-F DELIM] [-u COL] [-i COL] [-r COL|none]\n"
    "               [-t COL|none]\n"
    "               [--append | --frozen [--strict] | --force] [--levels LIST]\n"
    "               [--transform LIST] [--values counts|ratings]\n"
    "               [--on-error fail|skip] [--max-errors N]\n"
    "               [-o FILE] [--text] [-f] [-q] [-v] [FILE ...]\n"
    "       als-map --dump users|items -V DIR";

static const char help[] =
    "Map raw interaction logs (plain or gzip; FILE '-' or none is stdin) to triples of\n"
    "dense indices and persist the mappings in the vocabulary directory DIR.\n"
    "\n"
    "Columns (1-based numbers or header names):\n"
    "  -u, --user COL         user ID column (default 1)\n"
    "  -i, --item COL         item ID column (default 2)\n"
    "  -r, --rating COL|none  rating column (default 3 if the log has one, else none:\n"
    "                         every interaction counts 1)\n"
    "  -t, --time COL|none    timestamp column: epoch seconds or ISO 8601 (default none)\n"
    "  -H, --header           the first line names the columns (implied by names)\n"
    "      --no-header        the first line is data (overrides a stored -H)\n"
    "  -F, --delimiter D      tab, comma, semicolon, pipe, space or literal text such as\n"
    "                         '::' (default: detected from the first line)\n"
    "Vocabulary directory:\n"
    "  -V, --vocab DIR        created when absent or empty; an existing one needs:\n"
    "      --append           add unseen IDs at the end, keep every existing index\n"
    "      --frozen           change nothing; skip records with unseen IDs (counted)\n"
    "      --strict           with --frozen: an unseen ID is an error\n"
    "      --force            rebuild from scratch\n"
    "Ratings:\n"
    "      --levels LIST      ordinal labels, lowest first: hate,dislike,like,love -> 1..4\n"
    "      --transform LIST   applied in order: log1p, minmax (to [0,1], fitted on the\n"
    "                         first build, then frozen), clip:LO:HI, scale:X, binary\n"
    "      --values KIND      counts (repeated records add up in als-csr) or ratings\n"
    "                         (the latest counts); default: from the first build's values\n"
    "Output:\n"
    "  -o, --output FILE      binary triples to FILE (default stdout, never a terminal)\n"
    "      --text             'user<TAB>item<TAB>value[<TAB>time]' lines instead\n"
    "  -f, --force-tty        write binary triples to a terminal anyway\n"
    "      --dump WHICH       print 'index<TAB>raw_id' of the users or items of DIR\n"
    "Errors:\n"
    "      --on-error fail|skip  stop at the first bad record (default) or skip it\n"
    "      --max-errors N     with skip: fail after more than N bad records (default\n"
    "                         unlimited)\n"
    "Common:\n"
    "  -q, --quiet            no summary or warnings, only errors\n"
    "  -v, --verbose          more detail\n"
    "  -j, --threads N        1: parse and look up IDs on one thread; more (default):\n"
    "                         parse on a second thread (gzip input adds a third)\n"
    "      --progress         progress with rate and ETA even when stderr is not a\n"
    "                         terminal (where it shows by default after a second)\n"
    "      --seed N           accepted for symmetry (nothing random here)\n"
    "  -h, --help             this help\n"
    "      --version          version and library versions\n"
    "\n"
    "Exit status: 0 success, 1 runtime or data error, 2 usage error. See als-map(1).\n";

enum {
    OPT_APPEND = CLI_OPT_FIRST_PROGRAM, OPT_FROZEN, OPT_STRICT, OPT_FORCE, OPT_LEVELS,
    OPT_TRANSFORM, OPT_VALUES, OPT_TEXT, OPT_DUMP, OPT_ON_ERROR, OPT_MAX_ERRORS, OPT_NO_HEADER
};

static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    { "user", required_argument, NULL, 'u' }, { "item", required_argument, NULL, 'i' },
    { "rating", required_argument, NULL, 'r' }, { "time", required_argument, NULL, 't' },
    { "header", no_argument, NULL, 'H' }, { "no-header", no_argument, NULL, OPT_NO_HEADER },
    { "delimiter", required_argument, NULL, 'F' }, { "vocab", required_argument, NULL, 'V' },
    { "output", required_argument, NULL, 'o' }, { "force-tty", no_argument, NULL, 'f' },
    { "append", no_argument, NULL, OPT_APPEND }, { "frozen", no_argument, NULL, OPT_FROZEN },
    { "strict", no_argument, NULL, OPT_STRICT }, { "force", no_argument, NULL, OPT_FORCE },
    { "levels", required_argument, NULL, OPT_LEVELS },
    { "transform", required_argument, NULL, OPT_TRANSFORM },
    { "values", required_argument, NULL, OPT_VALUES },
    { "text", no_argument, NULL, OPT_TEXT }, { "dump", required_argument, NULL, OPT_DUMP },
    { "on-error", required_argument, NULL, OPT_ON_ERROR },
    { "max-errors", required_argument, NULL, OPT_MAX_ERRORS },
    { NULL, 0, NULL, 0 }
};

enum { MODE_CREATE, MODE_APPEND, MODE_FROZEN, MODE_FORCE };

#define SHOWN_ERRORS 5

struct opts {
    struct mapjob_opts jo;
    struct logspec spec; /* only what was given on the command line */
    int mode, mode_given, force_tty, dump;
};

static const char *const dump_names[] = { "users", "items", NULL };
static const char *const values_names[] = { "counts", "ratings", NULL };
static const char *const on_error_names[] = { "fail", "skip", NULL };
static const char col_opts[] = "uirt"; /* in LOG_USER, LOG_ITEM, LOG_RATING, LOG_TIME order */

static struct cli cli = { .prog = "als-map", .usage = usage, .help = help };

/* The first few skipped records are shown; the summary counts them all. */
static void
on_bad(void *ctx, const struct diag *d)
{
    uint64_t *shown = ctx;
    if (++*shown <= SHOWN_ERRORS)
        cli_warn(&cli, "%s (skipped)", d->msg);
}

static void
on_note(void *ctx, const char *note)
{
    (void)ctx;
    cli_warn(&cli, "%s", note);
}

static void
parse_args(int argc, char **argv, struct opts *o, struct ratemap *given)
{
    struct mapjob_opts *jo = &o->jo;
    struct diag d = { 0 };
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "u:i:r:t:HF:V:o:f", longopts,
                              NULL)) != -1) {
        if (cli_common(&cli, opt, optarg))
            continue;
        switch (opt) {
        case 'u':
        case 'i':
        case 'r':
        case 't':
            if (!*optarg)
                cli_usage_error(&cli, "empty column for -%c", opt);
            if (logspec_set_col(&o->spec, (int)(strchr(col_opts, opt) - col_opts), optarg) < 0)
                cli_die(&cli, "out of memory");
            break;
        case 'H':
        case OPT_NO_HEADER:
            if (o->spec.header >= 0 && o->spec.header != (opt == 'H'))
                cli_usage_error(&cli, "-H and --no-header exclude each other");
            o->spec.header = opt == 'H';
            break;
        case 'F':
            if (csv_parse_delim(optarg, o->spec.delim) < 0)
                cli_usage_error(&cli, "invalid delimiter '%s' (1 to %d characters, no quote or "
                                "line break)", optarg, CSV_MAX_DELIM);
            break;
        case 'V': jo->vocab = optarg; break;
        case 'o': jo->output = optarg; break;
        case 'f': o->force_tty = 1; break;
        case OPT_APPEND:
        case OPT_FROZEN:
        case OPT_FORCE: {
            int m = opt == OPT_APPEND ? MODE_APPEND : opt == OPT_FROZEN ? MODE_FROZEN
                                                                        : MODE_FORCE;
            if (o->mode_given && o->mode != m)
                cli_usage_error(&cli, "--append, --frozen and --force exclude each other");
            o->mode = m;
            o->mode_given = 1;
            break;
        }
        case OPT_STRICT: jo->strict = 1; break;
        case OPT_LEVELS:
        case OPT_TRANSFORM:
            if ((opt == OPT_LEVELS ? ratemap_set_levels(given, optarg, &d)
                                   : ratemap_set_transforms(given, optarg, &d)) < 0)
                cli_usage_error(&cli, "%s", d.msg);
            *(opt == OPT_LEVELS ? &jo->levels : &jo->transform) = optarg;
            break;
        case OPT_VALUES:
            jo->values = cli_choice(&cli, "values", optarg, values_names) == 0
                             ? VOCAB_VALUES_COUNTS
                             : VOCAB_VALUES_RATINGS;
            break;
        case OPT_TEXT: jo->text = 1; break;
        case OPT_DUMP: o->dump = cli_choice(&cli, "dump", optarg, dump_names); break;
        case OPT_ON_ERROR:
            jo->skip_bad = cli_choice(&cli, "on-error", optarg, on_error_names);
            break;
        case OPT_MAX_ERRORS:
            jo->max_errors = cli_opt_u64(&cli, "max-errors", optarg, 0, UINT64_MAX);
            break;
        default: cli_usage_error(&cli, "unexpected option");
        }
    }
    if (!jo->vocab)
        cli_usage_error(&cli, "missing -V DIR (the vocabulary directory)");
    if (jo->strict && o->mode != MODE_FROZEN)
        cli_usage_error(&cli, "--strict needs --frozen");
    if (jo->max_errors != UINT64_MAX && !jo->skip_bad)
        cli_usage_error(&cli, "--max-errors needs --on-error skip");
}

int
main(int argc, char **argv)
{
    struct opts o = { .dump = -1, .jo.max_errors = UINT64_MAX, .jo.output = "-" };
    struct mapjob_opts *jo = &o.jo;
    struct ratemap given;
    struct diag d = { 0 };
    logspec_init(&o.spec);
    ratemap_init(&given);
    parse_args(argc, argv, &o, &given);
    if (o.dump >= 0) {
        if (optind < argc)
            cli_usage_error(&cli, "--dump takes no input files");
        if (mapjob_dump(jo->vocab, o.dump == 1, stdout, &d) < 0)
            cli_die_diag(&cli, &d);
        cli_close_stdout(&cli);
        return CLI_EXIT_OK;
    }
    /* Process-wide: a signal unlinks the job's temporary outputs. Every other failure
     * returns from mapjob_run, which has removed what it created, so no exit handler. */
    zio_install_signal_cleanup();

    /* Refused here, in this order, before the job creates anything. */
    int state;
    if (vocabdir_probe(jo->vocab, &state, &d) < 0)
        cli_die_diag(&cli, &d);
    if (state == VOCABDIR_PRESENT && !o.mode_given)
        cli_usage_error(&cli, "'%s' already holds a vocabulary: give --append, --frozen or "
                        "--force", jo->vocab);
    /* --append on nothing creates, so a cron job can run the same command every night. */
    if (state != VOCABDIR_PRESENT && o.mode == MODE_FROZEN)
        cli_die(&cli, "'%s' holds no vocabulary to use with --frozen", jo->vocab);
    cli_refuse_tty(&cli, jo->output, jo->text || o.force_tty, "binary triples",
                   "use -o FILE, --text or -f");

    uint64_t shown = 0;
    static const char *const stdin_only[] = { "-" };
    jo->mode = state != VOCABDIR_PRESENT || o.mode == MODE_FORCE ? MAPJOB_NEW
               : o.mode == MODE_FROZEN                            ? MAPJOB_FROZEN
                                                                  : MAPJOB_APPEND;
    jo->threads = cli_threads(&cli);
    jo->spec = &o.spec;
    jo->rmap = &given;
    jo->inputs = optind < argc ? (const char *const *)argv + optind : stdin_only;
    jo->ninputs = optind < argc ? argc - optind : 1;
    jo->on_bad = on_bad;
    jo->on_note = cli.verbose ? on_note : NULL;
    jo->ctx = &shown;
    struct cli_progress pg;
    cli_progress_init(&pg, &cli, !strcmp(jo->output, "-"));
    if (pg.on) {
        jo->progress = cli_progress_report;
        jo->progress_ctx = &pg;
    }
    struct mapjob_stats st;
    int rc = mapjob_run(jo, &st, &d);
    cli_progress_end(&pg);
    ratemap_release(&given);
    logspec_release(&o.spec);
    if (rc < 0) {
        if (st.usage)
            cli_usage_error(&cli, "%s", d.msg);
        if (d.msg[0])
            fprintf(stderr, "%s: %s\n", cli.prog, d.msg);
        return rc == ALS_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    if (!cli.quiet) {
        fprintf(stderr, "%s: %llu records read, %llu written, %llu skipped", cli.prog,
                (unsigned long long)st.read, (unsigned long long)st.written,
                (unsigned long long)(st.read - st.written));
        if (st.bad)
            fprintf(stderr, " (%llu bad)", (unsigned long long)st.bad);
        if (st.unknown_users || st.unknown_items)
            fprintf(stderr, " (unseen IDs: %llu users, %llu items)",
                    (unsigned long long)st.unknown_users, (unsigned long long)st.unknown_items);
        fprintf(stderr, "; users %llu new, %llu total; items %llu new, %llu total\n",
                (unsigned long long)st.new_users, (unsigned long long)st.users,
                (unsigned long long)st.new_items, (unsigned long long)st.items);
        if (cli.verbose && st.values)
            fprintf(stderr, "%s: values are %s in '%s': repeated (user, item) records %s in "
                    "als-csr -V\n", cli.prog, vocab_values_names[st.values], jo->vocab,
                    st.values == VOCAB_VALUES_RATINGS ? "keep the latest" : "add up");
    }
    if (!strcmp(jo->output, "-"))
        cli_close_stdout(&cli);
    return CLI_EXIT_OK;
}
