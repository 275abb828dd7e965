/* SPDX-License-Identifier: MIT */
/* als-map: raw interaction logs to dense-index triples, building the persisted vocabularies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "csv.h"
#include "logread.h"
#include "mapper.h"
#include "ratemap.h"
#include "triples.h"
#include "vocabdir.h"
#include "xmem.h"
#include "zio.h"

static const char usage[] =
    "usage: als-map -V DIR [-H | --no-header] [-F DELIM] [-u COL] [-i COL] [-r COL|none]\n"
    "               [-t COL|none]\n"
    "               [--append | --frozen [--strict] | --force] [--levels LIST]\n"
    "               [--transform LIST] [--on-error fail|skip] [--max-errors N]\n"
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
    "      --seed N, --progress  accepted for symmetry (nothing random here)\n"
    "  -h, --help             this help\n"
    "      --version          version and library versions\n"
    "\n"
    "Exit status: 0 success, 1 runtime or data error, 2 usage error. See als-map(1).\n";

enum {
    OPT_APPEND = CLI_OPT_FIRST_PROGRAM,
    OPT_FROZEN,
    OPT_STRICT,
    OPT_FORCE,
    OPT_LEVELS,
    OPT_TRANSFORM,
    OPT_TEXT,
    OPT_DUMP,
    OPT_ON_ERROR,
    OPT_MAX_ERRORS,
    OPT_NO_HEADER
};

static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    { "user", required_argument, NULL, 'u' },
    { "item", required_argument, NULL, 'i' },
    { "rating", required_argument, NULL, 'r' },
    { "time", required_argument, NULL, 't' },
    { "header", no_argument, NULL, 'H' },
    { "no-header", no_argument, NULL, OPT_NO_HEADER },
    { "delimiter", required_argument, NULL, 'F' },
    { "vocab", required_argument, NULL, 'V' },
    { "output", required_argument, NULL, 'o' },
    { "force-tty", no_argument, NULL, 'f' },
    { "append", no_argument, NULL, OPT_APPEND },
    { "frozen", no_argument, NULL, OPT_FROZEN },
    { "strict", no_argument, NULL, OPT_STRICT },
    { "force", no_argument, NULL, OPT_FORCE },
    { "levels", required_argument, NULL, OPT_LEVELS },
    { "transform", required_argument, NULL, OPT_TRANSFORM },
    { "text", no_argument, NULL, OPT_TEXT },
    { "dump", required_argument, NULL, OPT_DUMP },
    { "on-error", required_argument, NULL, OPT_ON_ERROR },
    { "max-errors", required_argument, NULL, OPT_MAX_ERRORS },
    { NULL, 0, NULL, 0 }
};

enum { MODE_CREATE, MODE_APPEND, MODE_FROZEN, MODE_FORCE };

#define SHOWN_ERRORS 5

struct opts {
    const char *vocab, *output, *dump, *levels, *transform;
    struct logspec spec; /* only what was given on the command line */
    int mode, mode_given, strict, text, force_tty, skip_bad;
    uint64_t max_errors;
};

/* Records buffered until a minmax transform is fitted (first build only). */
struct pending {
    struct triple *t;
    double *raw;
    size_t n, cap_t, cap_raw;
};

/* What the mapper's callbacks need. */
struct sink {
    struct vocabdir *vd;
    struct triples_writer tw;
    struct zio_out *out;
    int text, fitting, quiet;
    uint64_t bad_shown;
    struct pending pend;
};

static struct cli cli = { .prog = "als-map", .usage = usage, .help = help };

/* A run that exits before committing (usage error found late, write error) removes the
 * vocabulary directory and lock file it created: exit() runs this. */
static struct vocabdir *abandon_vd;
static const char *abandon_path;

static void
abandon_at_exit(void)
{
    if (abandon_vd)
        vocabdir_abandon(abandon_vd, abandon_path);
}

static int
dump_vocab(const struct opts *o)
{
    struct vocabdir vd;
    struct diag d = { 0 };
    vocabdir_init(&vd);
    if (vocabdir_load(&vd, o->vocab, 0, &d) < 0)
        cli_die_diag(&cli, &d);
    const struct vocab *v = strcmp(o->dump, "users") == 0 ? &vd.users : &vd.items;
    char *esc = NULL;
    size_t esc_cap = 0;
    for (uint64_t i = 0; i < v->n; i++) {
        size_t len;
        const char *id = vocab_get(v, i, &len);
        if (!id)
            cli_die(&cli, "'%s': damaged vocabulary at index %llu", o->vocab,
                    (unsigned long long)i);
        size_t need;
        if (xmem_mul(len + 1, 4, &need) < 0 || xmem_grow((void **)&esc, &esc_cap, need, 1) < 0)
            cli_die(&cli, "out of memory");
        size_t n = csv_escape_tsv(id, len, esc);
        printf("%llu\t%.*s\n", (unsigned long long)i, (int)n, esc);
    }
    free(esc);
    vocabdir_release(&vd);
    cli_close_stdout(&cli);
    return CLI_EXIT_OK;
}

static int
levels_equal(const struct ratemap *a, const struct ratemap *b)
{
    if (a->nlevels != b->nlevels)
        return 0;
    for (unsigned i = 0; i < a->nlevels; i++)
        if (a->level_len[i] != b->level_len[i] ||
            memcmp(a->levels[i], b->levels[i], a->level_len[i]) != 0)
            return 0;
    return 1;
}

/* "hate,dislike,like" (for messages; cut when long) */
static const char *
levels_text(const struct ratemap *m)
{
    static char buf[512];
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < m->nlevels && n + 2 < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "," : "", m->levels[i]);
    return m->nlevels ? buf : "(none)";
}

/* Command-line reading options override the stored ones; rating semantics must agree. */
static void
merge_settings(struct vocabdir *vd, const struct opts *o, const struct ratemap *given)
{
    if (o->spec.delim[0])
        memcpy(vd->spec.delim, o->spec.delim, sizeof vd->spec.delim);
    if (o->spec.header >= 0)
        vd->spec.header = o->spec.header;
    for (int c = 0; c < LOG_NCOLS; c++) {
        if (!o->spec.col[c])
            continue;
        int stored_none = c == LOG_RATING && vd->spec.col[c] && !strcmp(vd->spec.col[c], "none");
        int given_none = c == LOG_RATING && !strcmp(o->spec.col[c], "none");
        if (c == LOG_RATING && vd->spec.col[c] && stored_none != given_none)
            cli_usage_error(&cli, "-r %s contradicts the vocabulary, whose ratings %s",
                            o->spec.col[c], stored_none ? "are 'none' (every record counts 1)"
                                                        : "come from a column");
        if (logspec_set_col(&vd->spec, c, o->spec.col[c]) < 0)
            cli_die(&cli, "out of memory");
    }
    if ((o->levels || o->transform) && !ratemap_equal(given, &vd->rmap)) {
        if (o->levels && !levels_equal(given, &vd->rmap))
            cli_usage_error(&cli, "--levels '%s' contradicts the levels stored in '%s' "
                            "(lowest first: %s)", o->levels, o->vocab,
                            levels_text(&vd->rmap));
        char a[1024], b[1024];
        ratemap_format_transforms(given, a, sizeof a);
        ratemap_format_transforms(&vd->rmap, b, sizeof b);
        cli_usage_error(&cli, "--transform '%s' contradicts '%s' stored in '%s'", a,
                        b[0] ? b : "(none)", o->vocab);
    }
}

static void
on_bad(void *ctx, const struct diag *d)
{
    struct sink *k = ctx;
    if (++k->bad_shown <= SHOWN_ERRORS && !k->quiet)
        fprintf(stderr, "%s: %s (skipped)\n", cli.prog, d->msg);
}

static int
on_start(void *ctx, int has_time, struct diag *d)
{
    struct sink *k = ctx;
    const struct logspec *s = &k->vd->spec;
    int no_rating = !s->col[LOG_RATING] || !strcmp(s->col[LOG_RATING], "none");
    if (no_rating && (k->vd->rmap.nlevels || k->vd->rmap.nsteps))
        return diag_set(d, ALS_EUSAGE, "--levels and --transform need a rating column, and "
                        "this log has none (give -r COL)");
    if (cli.verbose && !cli.quiet)
        fprintf(stderr, "%s: delimiter '%s', header %s, columns: user %s, item %s, rating %s, "
                "time %s\n", cli.prog, strcmp(s->delim, "\t") ? s->delim : "\\t",
                s->header > 0 ? "yes" : "no", s->col[LOG_USER], s->col[LOG_ITEM],
                s->col[LOG_RATING] ? s->col[LOG_RATING] : "none",
                s->col[LOG_TIME] ? s->col[LOG_TIME] : "none");
    return triples_writer_start(&k->tw, k->out, has_time, k->text, d);
}

static int
on_triple(void *ctx, const struct triple *t, double raw, struct diag *d)
{
    struct sink *k = ctx;
    if (!k->fitting)
        return triples_put(&k->tw, t, d);
    struct pending *p = &k->pend;
    if (xmem_grow((void **)&p->t, &p->cap_t, p->n + 1, sizeof *p->t) < 0 ||
        xmem_grow((void **)&p->raw, &p->cap_raw, p->n + 1, sizeof *p->raw) < 0)
        return diag_set(d, ALS_ENOMEM, "out of memory");
    p->t[p->n] = *t;
    p->raw[p->n++] = raw;
    return 0;
}

/* minmax is fitted on everything read, then the buffered records go out. */
static int
flush_pending(struct sink *k, struct diag *d)
{
    struct pending *p = &k->pend;
    ratemap_fit(&k->vd->rmap, p->raw, p->n);
    k->fitting = 0;
    int rc = 0;
    for (size_t i = 0; i < p->n && rc >= 0; i++) {
        double v;
        struct triple t = p->t[i];
        if ((rc = ratemap_apply(&k->vd->rmap, p->raw[i], &v, d)) >= 0) {
            t.value = (float)v;
            rc = triples_put(&k->tw, &t, d);
        }
    }
    return rc;
}

static void
parse_args(int argc, char **argv, struct opts *o, struct ratemap *given)
{
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
        case 't': {
            int c = opt == 'u' ? LOG_USER : opt == 'i' ? LOG_ITEM : opt == 'r' ? LOG_RATING
                                                                               : LOG_TIME;
            if (!*optarg)
                cli_usage_error(&cli, "empty column for -%c", opt);
            if (logspec_set_col(&o->spec, c, optarg) < 0)
                cli_die(&cli, "out of memory");
            break;
        }
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
        case 'V': o->vocab = optarg; break;
        case 'o': o->output = optarg; break;
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
        case OPT_STRICT: o->strict = 1; break;
        case OPT_LEVELS:
            o->levels = optarg;
            if (ratemap_set_levels(given, optarg, &d) < 0)
                cli_usage_error(&cli, "%s", d.msg);
            break;
        case OPT_TRANSFORM:
            o->transform = optarg;
            if (ratemap_set_transforms(given, optarg, &d) < 0)
                cli_usage_error(&cli, "%s", d.msg);
            break;
        case OPT_TEXT: o->text = 1; break;
        case OPT_DUMP:
            if (strcmp(optarg, "users") && strcmp(optarg, "items"))
                cli_usage_error(&cli, "--dump takes 'users' or 'items', not '%s'", optarg);
            o->dump = optarg;
            break;
        case OPT_ON_ERROR:
            if (strcmp(optarg, "fail") && strcmp(optarg, "skip"))
                cli_usage_error(&cli, "--on-error takes 'fail' or 'skip', not '%s'", optarg);
            o->skip_bad = strcmp(optarg, "skip") == 0;
            break;
        case OPT_MAX_ERRORS:
            o->max_errors = cli_opt_u64(&cli, "max-errors", optarg, 0, UINT64_MAX);
            break;
        default: cli_usage_error(&cli, "unexpected option");
        }
    }
    if (!o->vocab)
        cli_usage_error(&cli, "missing -V DIR (the vocabulary directory)");
    if (o->strict && o->mode != MODE_FROZEN)
        cli_usage_error(&cli, "--strict needs --frozen");
    if (o->max_errors != UINT64_MAX && !o->skip_bad)
        cli_usage_error(&cli, "--max-errors needs --on-error skip");
}

int
main(int argc, char **argv)
{
    struct opts o;
    memset(&o, 0, sizeof o);
    logspec_init(&o.spec);
    o.max_errors = UINT64_MAX;
    struct ratemap given;
    ratemap_init(&given);
    parse_args(argc, argv, &o, &given);
    if (o.dump) {
        if (optind < argc)
            cli_usage_error(&cli, "--dump takes no input files");
        return dump_vocab(&o);
    }
    zio_install_signal_cleanup();

    struct diag d = { 0 };
    struct vocabdir vd;
    vocabdir_init(&vd);
    int state;
    if (vocabdir_probe(o.vocab, &state, &d) < 0)
        cli_die_diag(&cli, &d);
    if (state == VOCABDIR_PRESENT && !o.mode_given)
        cli_usage_error(&cli, "'%s' already holds a vocabulary: give --append, --frozen or "
                        "--force", o.vocab);
    /* --append on nothing creates, so a cron job can run the same command every night. */
    if (state != VOCABDIR_PRESENT && o.mode == MODE_FROZEN)
        cli_die(&cli, "'%s' holds no vocabulary to use with --frozen", o.vocab);
    const char *out_path = o.output ? o.output : "-";
    if (!strcmp(out_path, "-") && !o.text && !o.force_tty && isatty(1))
        cli_usage_error(&cli, "refusing to write binary triples to a terminal (use -o FILE, "
                        "--text or -f)");
    if (o.mode != MODE_FROZEN && vocabdir_lock(&vd, o.vocab, &d) < 0)
        cli_die_diag(&cli, &d);
    abandon_vd = &vd;
    abandon_path = o.vocab;
    atexit(abandon_at_exit);

    if (state == VOCABDIR_PRESENT && o.mode != MODE_FORCE) {
        if (vocabdir_load(&vd, o.vocab, AFILE_VERIFY, &d) < 0)
            cli_die_diag(&cli, &d);
        merge_settings(&vd, &o, &given);
        if (o.mode == MODE_APPEND && (vocab_make_writable(&vd.users, &d) < 0 ||
                                      vocab_make_writable(&vd.items, &d) < 0))
            cli_die_diag(&cli, &d);
    } else {
        vd.path = strdup(o.vocab);
        if (!vd.path || logspec_copy(&vd.spec, &o.spec) < 0 || vocab_clear(&vd.users) < 0 ||
            vocab_clear(&vd.items) < 0)
            cli_die(&cli, "out of memory");
        vd.rmap = given;
        ratemap_init(&given);
    }
    if (o.spec.col[LOG_RATING] && !strcmp(o.spec.col[LOG_RATING], "none") &&
        (vd.rmap.nlevels || vd.rmap.nsteps))
        cli_usage_error(&cli, "--levels and --transform need a rating column, not -r none");

    struct zio_out out;
    struct sink k = { .vd = &vd, .out = &out, .text = o.text, .quiet = cli.quiet };
    k.fitting = ratemap_needs_fit(&vd.rmap);
    uint64_t users0 = vd.users.n, items0 = vd.items.n;
    int rc = zio_out_open(&out, out_path, &d);
    if (rc < 0)
        cli_die_diag(&cli, &d);
    struct mapper_opts mo = {
        .mode = o.mode == MODE_FROZEN ? MAPPER_FROZEN : MAPPER_BUILD,
        .strict = o.strict,
        .skip_bad = o.skip_bad,
        .max_errors = o.max_errors,
        .threads = cli_threads(&cli),
        .on_bad = on_bad,
        .on_start = on_start,
        .sink = on_triple,
        .ctx = &k,
    };
    struct mapper_stats st;
    const char *stdin_only[] = { "-" };
    const char *const *inputs = optind < argc ? (const char *const *)argv + optind : stdin_only;
    rc = mapper_run(&vd, inputs, optind < argc ? argc - optind : 1, &mo, &st, &d);
    if (rc >= 0 && k.fitting)
        rc = flush_pending(&k, &d);
    free(k.pend.t);
    free(k.pend.raw);
    if (rc >= 0)
        rc = triples_writer_finish(&k.tw, vd.users.n, vd.items.n, &d);
    /* The vocabulary commits before the output: triples never name indices that the
     * directory does not have. */
    if (rc >= 0 && o.mode != MODE_FROZEN) {
        rc = vocabdir_save(&vd, &d);
        if (rc >= 0)
            abandon_vd = NULL; /* committed: the directory is ours to keep */
    }
    if (rc >= 0)
        rc = zio_out_commit(&out, &d);
    triples_writer_release(&k.tw);
    zio_out_abort(&out);
    if (rc < 0) {
        if (d.msg[0])
            fprintf(stderr, "%s: %s\n", cli.prog, d.msg);
        vocabdir_abandon(&vd, o.vocab);
        abandon_vd = NULL;
        vocabdir_release(&vd);
        ratemap_release(&given);
        logspec_release(&o.spec);
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
                (unsigned long long)(vd.users.n - users0), (unsigned long long)vd.users.n,
                (unsigned long long)(vd.items.n - items0), (unsigned long long)vd.items.n);
    }
    abandon_vd = NULL;
    vocabdir_release(&vd);
    ratemap_release(&given);
    logspec_release(&o.spec);
    if (!o.output || !strcmp(o.output, "-"))
        cli_close_stdout(&cli);
    return CLI_EXIT_OK;
}
