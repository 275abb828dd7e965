/* SPDX-License-Identifier: MIT */
/* als-recommend: top-k items for users (or similar items) by raw ID, filtered, streaming. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "linalg.h"
#include "serve.h"
#include "zio.h"

static const char usage[] =
    "usage: als-recommend -m MODEL -V DIR [-c CSR] [-k N] [--include-seen]\n"
    "                     [--exclude FILE] [--only FILE] [--cold skip|popular|fail]\n"
    "                     [--history FILE] [--explain-source] [--item-names FILE]\n"
    "                     [--name-column N] [--header] [--format tsv|json] [-o FILE]\n"
    "                     [--verify] [-j N] [-q] [-v] (--all | USER ... | < USERS)\n"
    "       als-recommend --similar -m MODEL -V DIR [-k N] [--exclude FILE]\n"
    "                     [--only FILE] [--item-names FILE] [--name-column N] [--header]\n"
    "                     [--format tsv|json] [-o FILE] (ITEM ... | < ITEMS)\n"
    "       als-recommend --score -m MODEL -V DIR [--item-names FILE] [--name-column N]\n"
    "                     [--header] [--format tsv|json] [-o FILE] [-j N] [-q]\n"
    "                     (PAIRS | < PAIRS)\n"
    "       als-recommend --candidates -m MODEL -V DIR [-c CSR] [-k N] [--include-seen]\n"
    "                     [--exclude FILE] [--only FILE] [--item-names FILE]\n"
    "                     [--name-column N] [--header] [--format tsv|json] [-o FILE]\n"
    "                     [-j N] [-q] (PAIRS | < PAIRS)";

static const char help[] =
    "Recommend items to users given by raw ID (arguments, or one per line on stdin, or\n"
    "--all), with the model of als-train and the vocabulary directory of als-map.\n"
    "\n"
    "  -m, --model MODEL      the model file\n"
    "  -V, --vocab DIR        the vocabulary directory the model was trained with\n"
    "  -c, --csr CSR          the interaction history (als-csr): seen items are not\n"
    "                         recommended, and it gives the popularity list\n"
    "  -k, --count N          items per user (default 10)\n"
    "      --all              every user with factors, in index order (the nightly batch)\n"
    "      --include-seen     recommend items the user already interacted with too\n"
    "      --exclude FILE     raw item IDs never to recommend, one per line\n"
    "      --only FILE        recommend only these raw item IDs, one per line\n"
    "      --cold POLICY      a user unknown or without factors: skip (default, counted\n"
    "                         on stderr), popular (the most popular items), fail\n"
    "      --history FILE     a raw log (read as DIR remembers): the users in it get\n"
    "                         factors folded in from it, new users included\n"
    "      --explain-source   a last column: model, foldin or popular\n"
    "      --similar          inputs are raw item IDs: the N most similar items by cosine\n"
    "                         of the item factors, the item itself excluded\n"
    "      --score            inputs are 'user<TAB>item' lines (PAIRS, or stdin): write\n"
    "                         'user<TAB>item<TAB>score' for each, the model's score\n"
    "      --candidates       inputs are 'user<TAB>item' lines, consecutive lines of one\n"
    "                         user a list: the N best of each list, filtered as above\n"
    "      --item-names FILE  a CSV/TSV of raw item ID and label: each answer gets its\n"
    "                         item's label (TSV: a last column, JSON: \"name\")\n"
    "      --name-column N    the label is field N of --item-names (default 2)\n"
    "      --header           TSV: a first line naming the columns\n"
    "      --format F         tsv: 'user<TAB>item<TAB>score<TAB>rank' lines (default);\n"
    "                         json: one object per user per line\n"
    "  -o, --output FILE      write to FILE atomically (default stdout)\n"
    "      --verify           check every checksum of the model and CSR (slower start)\n"
    "  -j, --threads N        threads (default: all cores)\n"
    "      --progress         with --all: progress with rate and ETA even when stderr is\n"
    "                         not a terminal (where it shows by default after a second)\n"
    "  -q, --quiet            no summary, only errors\n"
    "  -v, --verbose          more detail\n"
    "  -h, --help             this help\n"
    "      --version          version and library versions\n"
    "\n"
    "Exit status: 0 success, 1 runtime or data error, 2 usage error. See als-recommend(1).\n";

enum {
    OPT_ALL = CLI_OPT_FIRST_PROGRAM,
    OPT_INCLUDE_SEEN,
    OPT_EXCLUDE,
    OPT_ONLY,
    OPT_COLD,
    OPT_HISTORY,
    OPT_EXPLAIN,
    OPT_SIMILAR,
    OPT_FORMAT,
    OPT_VERIFY,
    OPT_SCORE,
    OPT_CANDIDATES,
    OPT_ITEM_NAMES,
    OPT_NAME_COLUMN,
    OPT_HEADER
};

static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    { "model", required_argument, NULL, 'm' },
    { "vocab", required_argument, NULL, 'V' },
    { "csr", required_argument, NULL, 'c' },
    { "count", required_argument, NULL, 'k' },
    { "output", required_argument, NULL, 'o' },
    { "all", no_argument, NULL, OPT_ALL },
    { "include-seen", no_argument, NULL, OPT_INCLUDE_SEEN },
    { "exclude", required_argument, NULL, OPT_EXCLUDE },
    { "only", required_argument, NULL, OPT_ONLY },
    { "cold", required_argument, NULL, OPT_COLD },
    { "history", required_argument, NULL, OPT_HISTORY },
    { "explain-source", no_argument, NULL, OPT_EXPLAIN },
    { "similar", no_argument, NULL, OPT_SIMILAR },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "verify", no_argument, NULL, OPT_VERIFY },
    { "score", no_argument, NULL, OPT_SCORE },
    { "candidates", no_argument, NULL, OPT_CANDIDATES },
    { "item-names", required_argument, NULL, OPT_ITEM_NAMES },
    { "name-column", required_argument, NULL, OPT_NAME_COLUMN },
    { "header", no_argument, NULL, OPT_HEADER },
    { NULL, 0, NULL, 0 }
};

static struct cli cli = { .prog = "als-recommend", .usage = usage, .help = help };

/* In the order of SERVE_COLD_* and SERVE_TSV, SERVE_JSON. */
static const char *const cold_names[] = { "skip", "popular", "fail", NULL };
static const char *const format_names[] = { "tsv", "json", NULL };

struct opts {
    struct serve_opts s;
    const char *output;
    int all, cold_given, k_given;
};

static void
parse_args(int argc, char **argv, struct opts *o)
{
    struct serve_opts *s = &o->s;
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "m:V:c:k:o:", longopts,
                              NULL)) != -1) {
        if (cli_common(&cli, opt, optarg))
            continue;
        switch (opt) {
        case 'm': s->model = optarg; break;
        case 'V': s->vocab = optarg; break;
        case 'c': s->csr = optarg; break;
        case 'k':
            s->k = (unsigned)cli_opt_u64(&cli, "count", optarg, 1, 100000);
            o->k_given = 1;
            break;
        case 'o': o->output = optarg; break;
        case OPT_ALL: o->all = 1; break;
        case OPT_INCLUDE_SEEN: s->include_seen = 1; break;
        case OPT_EXCLUDE: s->exclude = optarg; break;
        case OPT_ONLY: s->only = optarg; break;
        case OPT_COLD:
            o->cold_given = 1;
            s->cold = cli_choice(&cli, "cold", optarg, cold_names);
            break;
        case OPT_HISTORY: s->history = optarg; break;
        case OPT_EXPLAIN: s->explain = 1; break;
        case OPT_SIMILAR: s->similar = 1; break;
        case OPT_FORMAT: s->format = cli_choice(&cli, "format", optarg, format_names); break;
        case OPT_VERIFY: s->verify = 1; break;
        case OPT_SCORE:
        case OPT_CANDIDATES:
            if (s->pairs && s->pairs != (opt == OPT_SCORE ? SERVE_SCORE : SERVE_CANDIDATES))
                cli_usage_error(&cli, "--score and --candidates exclude each other");
            s->pairs = opt == OPT_SCORE ? SERVE_SCORE : SERVE_CANDIDATES;
            break;
        case OPT_ITEM_NAMES: s->item_names = optarg; break;
        case OPT_NAME_COLUMN:
            s->name_column = (unsigned)cli_opt_u64(&cli, "name-column", optarg, 2, 100000);
            break;
        case OPT_HEADER: s->header = 1; break;
        default: cli_usage_error(&cli, "unexpected option");
        }
    }
    if (!s->model || !s->vocab)
        cli_usage_error(&cli, "missing %s", !s->model ? "-m MODEL" : "-V DIR");
    if (o->all && optind < argc)
        cli_usage_error(&cli, "--all takes no IDs");
    if (s->similar && (o->all || s->history || s->csr || s->include_seen || s->explain ||
                       o->cold_given))
        cli_usage_error(&cli, "--similar takes none of --all, --history, -c, --include-seen, "
                        "--explain-source, --cold");
    if (s->pairs && (s->similar || o->all || s->history || s->explain || o->cold_given))
        cli_usage_error(&cli, "--score and --candidates take none of --similar, --all, "
                        "--history, --explain-source, --cold");
    if (s->pairs == SERVE_SCORE && (s->csr || o->k_given || s->include_seen || s->exclude ||
                                    s->only))
        cli_usage_error(&cli, "--score scores every pair it is given: it takes none of -c, "
                        "-k, --include-seen, --exclude, --only");
    if (s->pairs && argc - optind > 1)
        cli_usage_error(&cli, "--score and --candidates read one file of pairs (or stdin)");
    if (s->header && s->format == SERVE_JSON)
        cli_usage_error(&cli, "--header is for TSV output: JSON members name themselves");
    if (s->name_column && !s->item_names)
        cli_usage_error(&cli, "--name-column needs --item-names FILE");
    if (s->history && !strcmp(s->history, "-") && !o->all && optind == argc)
        cli_usage_error(&cli, "--history - reads stdin, so give the users as arguments or "
                        "--all");
    if (s->cold == SERVE_COLD_POPULAR && !s->csr)
        cli_usage_error(&cli, "--cold popular needs -c CSR (the popularity comes from it)");
}

/* What serve_open ignored, in the order it read the files. */
static void
warn_ignored(const struct serve_opts *s, const struct serve_stats *st)
{
    if (st->exclude_unknown)
        cli_warn(&cli, "'%s': %" PRIu64 " item IDs not in the vocabulary, ignored", s->exclude,
                 st->exclude_unknown);
    if (st->only_unknown)
        cli_warn(&cli, "'%s': %" PRIu64 " item IDs not in the vocabulary, ignored", s->only,
                 st->only_unknown);
    if (st->history_unknown)
        cli_warn(&cli, "--history: %" PRIu64 " records with items the vocabulary does not "
                 "have, ignored", st->history_unknown);
    if (st->names_unknown && cli.verbose)
        cli_warn(&cli, "'%s': %" PRIu64 " lines whose first field is no item ID (a header?), "
                 "ignored", s->item_names, st->names_unknown);
    if (st->history_newer)
        cli_warn(&cli, "--history: %" PRIu64 " records with items newer than the model "
                 "(no factors yet), ignored", st->history_newer);
}

/* Cold queries that are IDs of the other vocabulary: the columns were probably swapped. */
static void
warn_swapped(const struct serve_opts *s, const struct serve_stats *st)
{
    const char *is = s->similar ? "a user ID, not an item ID" : "an item ID, not a user ID";
    const char *are = s->similar ? "user IDs, not item IDs" : "item IDs, not user IDs";
    if (st->swapped == 1)
        cli_warn(&cli, "'%s' is %s: swapped columns?", st->swapped_id, is);
    else if (st->swapped > 1)
        cli_warn(&cli, "'%s' and %" PRIu64 " more are %s: swapped columns?", st->swapped_id,
                 st->swapped - 1, are);
}

int
main(int argc, char **argv)
{
    struct opts o = { .s = { .k = 10, .cold = SERVE_COLD_SKIP, .format = SERVE_TSV } };
    parse_args(argc, argv, &o);
    la_single_threaded();
    zio_install_signal_cleanup();
    o.s.threads = cli_threads(&cli);
    struct diag d = { 0 };
    struct serve_stats st = { 0 };
    /* --all only: a few queries are answered at once, a file of them as they come. */
    struct cli_progress pg;
    cli_progress_init(&pg, &cli, !o.output || !strcmp(o.output, "-"));
    if (pg.on && o.all) {
        o.s.progress = cli_progress_report;
        o.s.progress_ctx = &pg;
    }
    const char *pairs_in = o.s.pairs && optind < argc ? argv[optind] : "-";
    const char *ins[] = { o.s.model, o.s.csr, o.s.exclude, o.s.only, o.s.history,
                          o.s.item_names, o.s.pairs ? pairs_in : NULL };
    if (o.output && zio_check_distinct(&o.output, 1, ins, 7, &d) < 0)
        cli_die_diag(&cli, &d);
    struct serve *s;
    int rc = serve_open(&s, &o.s, &st, &d);
    warn_ignored(&o.s, &st);
    if (rc < 0)
        cli_die_diag(&cli, &d);
    struct zio_out out;
    if (zio_out_open(&out, o.output ? o.output : "-", &d) < 0)
        cli_die_diag(&cli, &d);
    struct serve_queries q = { .all = o.all,
                               .ids = (const char *const *)argv + optind,
                               .n = o.s.pairs ? 0 : (size_t)(argc - optind),
                               .path = o.s.pairs ? pairs_in : "-" };
    rc = serve_run(s, &q, &out, &st, &d);
    cli_progress_end(&pg);
    if (rc < 0 || zio_out_commit(&out, &d) < 0) {
        zio_out_abort(&out);
        cli_die_diag(&cli, &d);
    }
    zio_out_abort(&out);
    const struct pairs_stats *ps = &st.pairs;
    if (o.s.pairs && !cli.quiet && (ps->unknown_user || ps->unknown_item || cli.verbose))
        fprintf(stderr, "%s: %" PRIu64 " pairs read, %" PRIu64 " skipped: %" PRIu64
                " with a user unknown or without factors, %" PRIu64 " with an item "
                "unknown or without factors\n", cli.prog, ps->pairs,
                ps->unknown_user + ps->unknown_item, ps->unknown_user, ps->unknown_item);
    if (o.s.pairs && !cli.quiet && cli.verbose)
        fprintf(stderr, "%s: %" PRIu64 " %s written, %" PRIu64 " candidates left out as "
                "seen, excluded or repeated\n", cli.prog, ps->written,
                o.s.pairs == SERVE_SCORE ? "scores" : "lists", ps->filtered);
    if (!o.s.pairs && !cli.quiet && (st.skipped || cli.verbose))
        fprintf(stderr, "%s: %" PRIu64 " answered (%" PRIu64 " folded in, %" PRIu64
                " popular), %" PRIu64 " skipped: unknown or without factors\n", cli.prog,
                st.answered, st.foldin, st.popular, st.skipped);
    warn_swapped(&o.s, &st);
    if (!o.s.similar && o.s.pairs != SERVE_SCORE && !o.s.csr && !o.s.history &&
        !o.s.include_seen)
        cli_warn(&cli, "no history (-c ALL.CSR or --history LOG): answers may be items users "
                 "already have (--include-seen or -q: no such note)");
    serve_close(s);
    return CLI_EXIT_OK;
}
