/* SPDX-License-Identifier: MIT */
/* als-gen-log: write a deterministic, realistic viewing log with planted taste clusters. */

/*
 * Model.  Visitor u (0..U-1) is also its activity rank and content i (0..I-1) its popularity
 * rank: line weights follow about (u + 3.5)^-0.8 and 1 / (i + 2), so a few visitors and a
 * few items carry much of the log.  Visitors come from an inverse CDF in closed form, items
 * from alias tables; both are O(1) per line.  Items get clusters by shuffling 0..C-1 afresh
 * for each run of C consecutive ranks, so clusters are balanced, none is empty and each
 * holds its share of the popular head; visitors get theirs from a keyed hash of the index.
 * Neither depends on --users or --items.  With probability --affinity a line picks the
 * content from the visitor's own cluster (by popularity inside that cluster), otherwise
 * from the global popularity.  Watch time is a log-normal fraction of the item's length,
 * much larger inside the visitor's cluster, so durations carry the taste signal too.
 *
 * Raw IDs need no table: each one is computed from the index through a keyed Feistel
 * permutation (cycle-walking onto an exact range), whose output fills a fixed-width part
 * of the ID, so distinct indices give distinct IDs by construction.  Only the IDs of the
 * most frequent visitors and items are kept, formatted, in caches of bounded size.  Memory
 * is O(items) plus those caches: nothing per visitor, nothing that grows with --lines.
 */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "als-gen-log"
#ifndef ALS_VERSION /* the Makefile passes the project's version */
#define ALS_VERSION "unknown"
#endif

#define DEF_LINES 10000
#define DEF_CLUSTERS 8
#define DEF_AFFINITY 0.8
#define DEF_DAYS 60
#define DEF_START 1767225600 /* 2026-01-01T00:00:00Z */
#define LINES_PER_USER 25
#define LINES_PER_ITEM 400
#define MIN_USERS 50
#define MIN_ITEMS 100
#define MAX_DEF_USERS 100000000
#define MAX_DEF_ITEMS 10000000
#define MAX_LINES 1000000000000ULL
#define MAX_CLUSTERS 65535

#define USER_EXP 0.8 /* rank exponent of visitor activity; draw_user assumes 0.8 */
#define USER_OFF 2.0 /* softens the head so the top visitor is not a lone bot */
#define ITEM_OFF 1.0 /* popularity is 1 / (rank + 1 + ITEM_OFF): Zipf, exponent 1 */

#define PERM_ROUNDS 4
#define TEN18 1000000000000000000ULL
#define B62_7 3521614606208ULL /* 62^7 */

#define OUT_CAP (1u << 20)
/* Room kept free in the buffer for one line: 20 + 36 + 21 + 20 characters, 3 delimiters and a
 * newline, with slack because cached IDs are copied as whole slots. */
#define LINE_MAX_BYTES 160

enum user_style { USER_DIGITS, USER_ALNUM, USER_MIXED };
enum item_style { ITEM_DIGITS, ITEM_ALNUM, ITEM_UUID };

enum {
    OPT_SEED = 256,
    OPT_ID_SEED,
    OPT_TRUTH,
    OPT_NO_HEADER,
    OPT_USER_IDS,
    OPT_ITEM_IDS,
    OPT_DURATIONS,
    OPT_DAYS,
    OPT_START,
    OPT_VERSION,
};

struct opts {
    uint64_t lines, users, items, clusters, seed, id_seed, days, start;
    int has_id_seed;
    double affinity;
    char delim;
    int header, int_durations;
    enum user_style user_style;
    enum item_style item_style;
    const char *output, *truth;
};

/* A keyed bijection on [0, n), n <= 2^62: a balanced Feistel network on the smallest
 * even bit width covering n, walked until it lands back inside the range. */
struct perm {
    uint64_t n, mask;
    unsigned half;
    uint64_t key[PERM_ROUNDS];
};

struct alias {
    uint32_t n;
    uint32_t *prob; /* acceptance threshold out of 2^32 */
    uint32_t *alias;
};

/* Slot layouts: the ID from byte 0, copied as a whole COPY-byte block (a short fixed-size
 * memcpy is a few moves, where an odd size can become a slow 'rep movsb'), then for visitors
 * the cluster as a uint16 at byte 24, and the ID's length in the last byte. */
#define UCACHE_SLOT 32
#define UCACHE_COPY 24
#define UCACHE_CL 24
#define ICACHE_SLOT 48
#define ICACHE_COPY 40
#define UCACHE_MAX (1u << 16) /* 2 MiB: larger caches miss more than they save */
#define ICACHE_MAX (1u << 18)

struct idcache {
    uint32_t n;
    char *s; /* n slots of the layout above */
};

struct gen {
    const struct opts *o;
    uint32_t nusers, nitems, nclusters;
    struct alias items;
    double ulo, uhi;    /* visitor activity: inverse CDF bounds, see gen_init */
    uint32_t *cl_off;   /* nclusters + 1 offsets into cl_items */
    uint32_t *cl_items; /* items grouped by cluster, by rank inside each group */
    uint32_t *cl_prob;  /* per-cluster alias tables over local positions, concatenated */
    uint32_t *cl_alias;
    uint16_t *icluster;
    uint64_t k_ucl; /* visitor cluster: a keyed hash of the index, see user_cluster */
    float *ilen;    /* content length in seconds */
    struct perm p_udig, p_ualn, p_idig, p_ialn, p_iuuid;
    uint64_t k_user, k_item; /* keys for the cosmetic, non-identifying parts of IDs */
    unsigned ialn_len;
    double inv_rate[1440]; /* 1 / diurnal intensity for each minute of the day */
    /* The IDs of the most active visitors and most popular items, formatted once: they
     * make most lines, and formatting an ID costs more than the rest of a line. */
    struct idcache ucache, icache;
};

struct out {
    int fd;
    const char *path; /* NULL for stdout */
    char *tmp;
    char *buf;
    size_t len;
};

static char *volatile tmp_paths[2];

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
static const char hex[] = "0123456789abcdef";

static void
usage(FILE *f)
{
    fputs("usage: als-gen-log [-n N] [-u N] [-i N] [-c N] [-a P] [-d DELIM] [-o FILE]\n"
          "                   [--seed N] [--id-seed N] [--truth FILE] [--no-header]\n"
          "                   [--user-ids digits|alnum|mixed] [--item-ids digits|alnum|uuid]\n"
          "                   [--durations decimal|int] [--days N] [--start EPOCH]\n",
          f);
}

static void
help(void)
{
    usage(stdout);
    printf("\nWrite a deterministic, realistic viewing log with planted taste clusters:\n"
           "one session per line, columns visitor_id, content_id, duration_s, timestamp.\n"
           "\n"
           "  -n, --lines N      lines to write, 1..%llu (default %d)\n"
           "  -u, --users N      visitors (default max(%d, lines/%d), at most %d)\n"
           "  -i, --items N      items (default max(%d, lines/%d), at most %d)\n"
           "  -c, --clusters N   taste clusters, 1..min(items, %d) (default %d)\n"
           "  -a, --affinity P   chance a line stays in the visitor's cluster"
           " (default %.1f)\n"
           "      --seed N       random seed (default 1); same arguments, same bytes\n"
           "      --id-seed N    seed of the IDs and clusters (default: --seed); logs\n"
           "                     that share it share visitors and items\n"
           "  -d, --delimiter D  tab, comma, semicolon, pipe or one character\n"
           "                     (default comma)\n"
           "      --no-header    omit the header line\n"
           "      --user-ids S   digits (20 digits, many above 2^64), alnum (8-16\n"
           "                     characters) or mixed (default mixed)\n"
           "      --item-ids S   digits (20 digits), alnum (c-xxxxxx) or uuid\n"
           "                     (default alnum)\n"
           "      --durations F  decimal (one decimal place) or int (default decimal)\n"
           "      --days N       approximate span of the log, 1..3650 days (default %d)\n"
           "      --start EPOCH  first timestamp in unix seconds\n"
           "                     (default %d, 2026-01-01T00:00:00Z)\n"
           "  -o, --output FILE  write the log to FILE atomically (default stdout)\n"
           "      --truth FILE   also write 'user|item TAB id TAB cluster' lines for\n"
           "                     every visitor and content item\n"
           "  -h, --help         show this help and exit\n"
           "      --version      show the version and exit\n"
           "\nExit status: 0 success, 1 write or system error, 2 usage error.\n",
           (unsigned long long)MAX_LINES, DEF_LINES, MIN_USERS, LINES_PER_USER, MAX_DEF_USERS,
           MIN_ITEMS, LINES_PER_ITEM, MAX_DEF_ITEMS, MAX_CLUSTERS, DEF_CLUSTERS, DEF_AFFINITY,
           DEF_DAYS, DEF_START);
}

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static _Noreturn void die_usage(const char *fmt, ...) PRINTF_LIKE(1, 2);

static _Noreturn void
die_usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage(stderr);
    exit(2);
}

/* After --help or --version: success only if stdout really took the text. */
static _Noreturn void
exit_flushed(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROG ": write error: %s\n", strerror(errno));
        exit(1);
    }
    exit(0);
}

static uint64_t
parse_u64(const char *name, const char *s, uint64_t lo, uint64_t hi)
{
    char *end = NULL;
    unsigned long long v = 0;

    /* strtoull accepts leading blanks and a minus sign; a count never has either. */
    if (s[0] >= '0' && s[0] <= '9') {
        errno = 0;
        v = strtoull(s, &end, 10);
    }
    if (!end || errno || *end || v < lo || v > hi)
        die_usage("invalid %s '%s' (expected an integer from %llu to %llu)", name, s,
                  (unsigned long long)lo, (unsigned long long)hi);
    return v;
}

static double
parse_prob(const char *name, const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= 0.0 && v <= 1.0))
        die_usage("invalid %s '%s' (expected a number from 0 to 1)", name, s);
    return v;
}

static char
parse_delim(const char *s)
{
    static const struct {
        const char *name;
        char c;
    } names[] = {{"tab", '\t'}, {"comma", ','}, {"semicolon", ';'}, {"pipe", '|'}};

    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(s, names[k].name) == 0)
            return names[k].c;
    /* Characters that occur inside IDs or numbers would make the columns ambiguous. */
    if (s[0] && !s[1] && !strchr("0123456789-.\"\r\n", s[0]) &&
        !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return s[0];
    die_usage("invalid --delimiter '%s' (expected tab, comma, semicolon, pipe or one "
              "character that cannot occur in a field)",
              s);
}

static int
parse_word(const char *name, const char *s, const char *const *words, int nwords)
{
    for (int k = 0; k < nwords; k++)
        if (strcmp(s, words[k]) == 0)
            return k;
    die_usage("invalid %s '%s'", name, s);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"lines", required_argument, NULL, 'n'},
        {"users", required_argument, NULL, 'u'},
        {"items", required_argument, NULL, 'i'},
        {"clusters", required_argument, NULL, 'c'},
        {"affinity", required_argument, NULL, 'a'},
        {"delimiter", required_argument, NULL, 'd'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"id-seed", required_argument, NULL, OPT_ID_SEED},
        {"truth", required_argument, NULL, OPT_TRUTH},
        {"no-header", no_argument, NULL, OPT_NO_HEADER},
        {"user-ids", required_argument, NULL, OPT_USER_IDS},
        {"item-ids", required_argument, NULL, OPT_ITEM_IDS},
        {"durations", required_argument, NULL, OPT_DURATIONS},
        {"days", required_argument, NULL, OPT_DAYS},
        {"start", required_argument, NULL, OPT_START},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    static const char *const user_words[] = {"digits", "alnum", "mixed"};
    static const char *const item_words[] = {"digits", "alnum", "uuid"};
    static const char *const dur_words[] = {"decimal", "int"};
    int c;

    *o = (struct opts){.lines = DEF_LINES,
                       .clusters = DEF_CLUSTERS,
                       .seed = 1,
                       .days = DEF_DAYS,
                       .start = DEF_START,
                       .affinity = DEF_AFFINITY,
                       .delim = ',',
                       .header = 1,
                       .user_style = USER_MIXED,
                       .item_style = ITEM_ALNUM};
    opterr = 0; /* our own messages carry the program name, not argv[0] */
    while ((c = getopt_long(argc, argv, ":n:u:i:c:a:d:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            o->lines = parse_u64("--lines", optarg, 1, MAX_LINES);
            break;
        case 'u':
            o->users = parse_u64("--users", optarg, 1, UINT32_MAX);
            break;
        case 'i':
            o->items = parse_u64("--items", optarg, 1, UINT32_MAX);
            break;
        case 'c':
            o->clusters = parse_u64("--clusters", optarg, 1, MAX_CLUSTERS);
            break;
        case 'a':
            o->affinity = parse_prob("--affinity", optarg);
            break;
        case 'd':
            o->delim = parse_delim(optarg);
            break;
        case 'o':
            o->output = strcmp(optarg, "-") == 0 ? NULL : optarg;
            break;
        case 'h':
            help();
            exit_flushed();
        case OPT_VERSION:
            printf(PROG " " ALS_VERSION "\n");
            exit_flushed();
        case OPT_SEED:
            o->seed = parse_u64("--seed", optarg, 0, UINT64_MAX);
            break;
        case OPT_ID_SEED:
            o->id_seed = parse_u64("--id-seed", optarg, 0, UINT64_MAX);
            o->has_id_seed = 1;
            break;
        case OPT_TRUTH:
            o->truth = optarg;
            break;
        case OPT_NO_HEADER:
            o->header = 0;
            break;
        case OPT_USER_IDS:
            o->user_style = (enum user_style)parse_word("--user-ids", optarg, user_words, 3);
            break;
        case OPT_ITEM_IDS:
            o->item_style = (enum item_style)parse_word("--item-ids", optarg, item_words, 3);
            break;
        case OPT_DURATIONS:
            o->int_durations = parse_word("--durations", optarg, dur_words, 2);
            break;
        case OPT_DAYS:
            o->days = parse_u64("--days", optarg, 1, 3650);
            break;
        case OPT_START:
            o->start = parse_u64("--start", optarg, 0, 100000000000ULL);
            break;
        case ':':
            die_usage("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt)
                die_usage("unknown option '-%c'", optopt);
            die_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        die_usage("unexpected argument '%s'", argv[optind]);
    if (!o->has_id_seed)
        o->id_seed = o->seed;

    if (!o->users) {
        uint64_t u = o->lines / LINES_PER_USER;
        o->users = u < MIN_USERS ? MIN_USERS : u > MAX_DEF_USERS ? MAX_DEF_USERS : u;
    }
    if (!o->items) {
        uint64_t i = o->lines / LINES_PER_ITEM;
        o->items = i < MIN_ITEMS ? MIN_ITEMS : i > MAX_DEF_ITEMS ? MAX_DEF_ITEMS : i;
    }
    if (o->clusters > o->items) {
        die_usage("--clusters %llu exceeds the number of items (%llu)",
                  (unsigned long long)o->clusters, (unsigned long long)o->items);
    }
}

static void *
xmalloc(size_t n, size_t size)
{
    void *p;

    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        p = NULL;
    } else {
        p = malloc(n * size > 0 ? n * size : 1);
    }
    if (!p) {
        fprintf(stderr, PROG ": out of memory: %s\n", strerror(errno));
        exit(1);
    }
    return p;
}

/* ---- randomness ---------------------------------------------------------------------- */

static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t
splitmix64(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ULL;
    return mix64(*state);
}

struct rng {
    uint64_t s[4];
};

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna): fast, and ours, so no libc can change the stream. */
static uint64_t
rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform on (0, 1]: never 0, so log() is always finite. */
static double
unit_open(uint64_t x)
{
    return (double)((x >> 11) + 1) * 0x1p-53;
}

static double
normal_from(uint64_t a, uint64_t b)
{
    return sqrt(-2.0 * log(unit_open(a))) * cos(6.283185307179586 * unit_open(b));
}

static void
perm_init(struct perm *p, uint64_t n, uint64_t key)
{
    unsigned bits = 2;

    assert(n >= 1 && n <= (1ULL << 62));
    while ((1ULL << bits) < n)
        bits += 2;
    p->n = n;
    p->half = bits / 2;
    p->mask = (1ULL << p->half) - 1;
    for (int k = 0; k < PERM_ROUNDS; k++)
        p->key[k] = splitmix64(&key);
}

static uint64_t
perm_apply(const struct perm *p, uint64_t x)
{
    assert(x < p->n);
    /* Cycle-walking: the Feistel network permutes [0, 2^bits); following x's cycle until it
     * re-enters [0, n) restricts that permutation to a permutation of [0, n). */
    do {
        uint64_t l = x >> p->half, r = x & p->mask;
        for (int k = 0; k < PERM_ROUNDS; k++) {
            uint64_t t = l ^ (mix64(r ^ p->key[k]) & p->mask);
            l = r;
            r = t;
        }
        x = l << p->half | r;
    } while (x >= p->n);
    return x;
}

/* ---- alias tables (Vose) ------------------------------------------------------------- */

/* Fills prob/alias (n entries each) for weights w; work needs 2n uint32 and w is clobbered. */
static void
alias_fill(uint32_t *prob, uint32_t *alias, double *w, uint32_t n, uint32_t *work)
{
    uint32_t *small = work, *large = work + n;
    uint32_t ns = 0, nl = 0;
    double sum = 0.0;

    for (uint32_t j = 0; j < n; j++)
        sum += w[j];
    for (uint32_t j = 0; j < n; j++) {
        w[j] *= (double)n / sum;
        if (w[j] < 1.0)
            small[ns++] = j;
        else
            large[nl++] = j;
    }
    while (ns && nl) {
        uint32_t s = small[--ns], l = large[nl - 1];

        prob[s] = (uint32_t)(w[s] * 4294967296.0);
        alias[s] = l;
        w[l] -= 1.0 - w[s];
        if (w[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* Whatever is left holds probability 1 up to rounding. */
    while (nl) {
        uint32_t l = large[--nl];
        prob[l] = UINT32_MAX;
        alias[l] = l;
    }
    while (ns) {
        uint32_t s = small[--ns];
        prob[s] = UINT32_MAX;
        alias[s] = s;
    }
}

static uint32_t
alias_draw(const uint32_t *prob, const uint32_t *alias, uint32_t n, uint64_t r)
{
    uint32_t j = (uint32_t)(((r >> 32) * n) >> 32);

    return (uint32_t)r < prob[j] ? j : alias[j];
}

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif
#define LOOKAHEAD 16

static void
prefetch_user(const struct gen *g, uint32_t u)
{
    if (u < g->ucache.n)
        PREFETCH(g->ucache.s + (size_t)u * UCACHE_SLOT);
}

static uint32_t
draw_user(const struct gen *g, uint64_t r)
{
    double y = g->ulo + (double)(r >> 11) * 0x1p-53 * (g->uhi - g->ulo);
    double x = y * y * y * y * y - (1.0 + USER_OFF); /* 5 = 1 / (1 - USER_EXP) */

    if (x <= 0.0)
        return 0;
    return x < (double)g->nusers ? (uint32_t)x : g->nusers - 1;
}

/* ---- raw IDs ------------------------------------------------------------------------- */

static char *
put_u64(char *p, uint64_t v)
{
    char t[20];
    int k = 20;

    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        t[--k] = digit_pairs[d + 1];
        t[--k] = digit_pairs[d];
    }
    if (v >= 10) {
        t[--k] = digit_pairs[v * 2 + 1];
        t[--k] = digit_pairs[v * 2];
    } else {
        t[--k] = (char)('0' + v);
    }
    memcpy(p, t + k, (size_t)(20 - k));
    return p + 20 - k;
}

/* Exactly 18 digits, zero padded. */
static char *
put_18(char *p, uint64_t v)
{
    uint32_t hi = (uint32_t)(v / 1000000000), lo = (uint32_t)(v % 1000000000);

    for (int k = 8; k >= 0; k--) {
        p[k] = (char)('0' + hi % 10);
        p[9 + k] = (char)('0' + lo % 10);
        hi /= 10;
        lo /= 10;
    }
    return p + 18;
}

static char *
put_user_id(char *p, const struct gen *g, uint32_t u)
{
    uint64_t h = mix64(u ^ g->k_user);
    enum user_style st = g->o->user_style;

    if (st == USER_MIXED)
        st = (h & 0xff) < 102 ? USER_DIGITS : USER_ALNUM; /* about 40 % digits */
    h >>= 8;
    if (st == USER_DIGITS) {
        /* Two leading digits, then 18 that are a bijection of the index.  Half of the
         * leads are 10..17 (above int64, inside uint64), half 19..99 (above uint64). */
        unsigned lead = (h & 1) ? 10 + (unsigned)((h >> 1) % 8) : 19 + (unsigned)((h >> 1) % 81);
        *p++ = digit_pairs[lead * 2];
        *p++ = digit_pairs[lead * 2 + 1];
        return put_18(p, perm_apply(&g->p_udig, u));
    }
    /* A letter, seven base-62 digits that are a bijection of the index, 0..8 padding. */
    uint64_t v = perm_apply(&g->p_ualn, u);
    unsigned pad = (unsigned)(h % 9);
    h /= 9;
    *p++ = b62[10 + h % 52];
    h /= 52;
    for (int k = 6; k >= 0; k--) {
        p[k] = b62[v % 62];
        v /= 62;
    }
    p += 7;
    h = mix64(h ^ g->k_user);
    for (unsigned k = 0; k < pad; k++) {
        *p++ = b62[h % 62];
        h /= 62;
    }
    return p;
}

static char *
put_item_id(char *p, const struct gen *g, uint32_t i)
{
    uint64_t h = mix64(i ^ g->k_item), v;

    switch (g->o->item_style) {
    case ITEM_DIGITS: {
        unsigned lead = 10 + (unsigned)(h % 90);
        *p++ = digit_pairs[lead * 2];
        *p++ = digit_pairs[lead * 2 + 1];
        return put_18(p, perm_apply(&g->p_idig, i));
    }
    case ITEM_ALNUM:
        v = perm_apply(&g->p_ialn, i);
        *p++ = 'c';
        *p++ = '-';
        for (int k = (int)g->ialn_len - 1; k >= 0; k--) {
            p[k] = b36[v % 36];
            v /= 36;
        }
        return p + g->ialn_len;
    case ITEM_UUID: {
        /* Version 4 layout; the low 62 bits are a bijection of the index. */
        uint64_t hi = (h & ~0xf000ULL) | 0x4000ULL;
        uint64_t lo = perm_apply(&g->p_iuuid, i) | 0x8000000000000000ULL;
        int pos = 0;
        for (int k = 0; k < 32; k++) {
            uint64_t w = k < 16 ? hi : lo;
            int sh = 60 - 4 * (k % 16);
            if (k == 8 || k == 12 || k == 16 || k == 20)
                p[pos++] = '-';
            p[pos++] = hex[(w >> sh) & 0xf];
        }
        return p + pos;
    }
    }
    return p;
}

static uint16_t
user_cluster(const struct gen *g, uint32_t u)
{
    /* A hash rather than a permutation of [0, U), unlike items, so that a visitor keeps its
     * cluster in logs made with another --users; multiply-shift maps it onto [0, C). */
    return (uint16_t)(((mix64(u ^ g->k_ucl) >> 32) * g->nclusters) >> 32);
}

/* ---- output -------------------------------------------------------------------------- */

static void
on_signal(int sig)
{
    for (int k = 0; k < 2; k++)
        if (tmp_paths[k])
            unlink(tmp_paths[k]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int
out_open(struct out *w, const char *path, int slot)
{
    w->path = path;
    w->tmp = NULL;
    w->len = 0;
    w->buf = xmalloc(OUT_CAP, 1);
    if (!path) {
        w->fd = STDOUT_FILENO;
        return 0;
    }
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* A device, a FIFO or a symlink (/dev/null, /dev/stdout) is written in place:
         * renaming over it would replace the node or the link itself. */
        w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (w->fd < 0) {
            fprintf(stderr, PROG ": cannot open '%s': %s\n", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    /* A temporary name in the same directory, renamed at the end, so an interrupted run
     * never leaves a truncated file that make would take for up to date. */
    size_t n = strlen(path);
    w->tmp = xmalloc(n + 8, 1);
    memcpy(w->tmp, path, n);
    memcpy(w->tmp + n, ".XXXXXX", 8);
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        fprintf(stderr, PROG ": cannot create '%s': %s\n", path, strerror(errno));
        free(w->tmp);
        w->tmp = NULL;
        return -1;
    }
    tmp_paths[slot] = w->tmp;
    mode_t m = umask(0);
    umask(m);
    fchmod(w->fd, 0666 & ~m); /* mkstemp's 0600 would surprise; failure is harmless */
    return 0;
}

static int
out_flush(struct out *w)
{
    const char *p = w->buf;
    size_t n = w->len;

    while (n) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    w->len = 0;
    return 0;
}

static void
out_fail(const struct out *w)
{
    if (w->path)
        fprintf(stderr, PROG ": cannot write '%s': %s\n", w->path, strerror(errno));
    else
        fprintf(stderr, PROG ": write error: %s\n", strerror(errno));
}

static int
out_finish(struct out *w)
{
    if (out_flush(w) < 0)
        return -1;
    if (!w->path)
        return 0;
    /* fsync fails with EINVAL on devices and FIFOs, where it has nothing to do. */
    if ((w->tmp && fsync(w->fd) < 0) || close(w->fd) < 0) {
        w->fd = -1;
        return -1;
    }
    w->fd = -1;
    return 0;
}

static int
out_commit(struct out *w, int slot)
{
    if (w->tmp && rename(w->tmp, w->path) < 0) {
        fprintf(stderr, PROG ": cannot rename to '%s': %s\n", w->path, strerror(errno));
        return -1;
    }
    tmp_paths[slot] = NULL;
    return 0;
}

static void
out_abort(struct out *w, int slot)
{
    if (w->path && w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (w->tmp && tmp_paths[slot]) {
        tmp_paths[slot] = NULL;
        unlink(w->tmp);
    }
}

/* ---- the model ----------------------------------------------------------------------- */

static void
gen_init(struct gen *g, const struct opts *o)
{
    uint64_t ks = o->id_seed ^ 0x6a09e667f3bcc909ULL; /* fixed salt: seed 0 is fine too */
    uint32_t U, I, C, *work;
    double *w;

    memset(g, 0, sizeof *g);
    g->o = o;
    U = g->nusers = (uint32_t)o->users;
    I = g->nitems = (uint32_t)o->items;
    C = g->nclusters = (uint32_t)o->clusters;

    /* IDs depend only on --id-seed and the index, never on --lines, --users or --items, so
     * logs made with other --seed values but one --id-seed share visitors and items. */
    perm_init(&g->p_udig, TEN18, splitmix64(&ks));
    perm_init(&g->p_ualn, B62_7, splitmix64(&ks));
    perm_init(&g->p_idig, TEN18, splitmix64(&ks));
    g->ialn_len = 6;
    uint64_t span = 2176782336ULL; /* 36^6 */
    while (span < I) {
        span *= 36;
        g->ialn_len++;
    }
    perm_init(&g->p_ialn, span, splitmix64(&ks));
    perm_init(&g->p_iuuid, 1ULL << 62, splitmix64(&ks));
    g->k_user = splitmix64(&ks);
    g->k_item = splitmix64(&ks);

    w = xmalloc(I, sizeof *w);
    work = xmalloc(I, 2 * sizeof *work);

    /* Activity needs no table: the continuous law x^-0.8 on [1 + off, U + 1 + off) has
     * the CDF inverse x = y^5 with y uniform on [lo^0.2, hi^0.2), and floor(x) - 1 - off is
     * the visitor.  A table would be hit at random on every line, which is what made the
     * alias method the slowest part for large populations. */
    g->ulo = pow(1.0 + USER_OFF, 1.0 - USER_EXP);
    g->uhi = pow((double)U + 1.0 + USER_OFF, 1.0 - USER_EXP);

    g->items.n = I;
    g->items.prob = xmalloc(I, sizeof(uint32_t));
    g->items.alias = xmalloc(I, sizeof(uint32_t));
    for (uint32_t i = 0; i < I; i++)
        w[i] = 1.0 / ((double)i + 1.0 + ITEM_OFF);
    alias_fill(g->items.prob, g->items.alias, w, I, work);

    /* Item clusters: a keyed shuffle of 0..C-1 for every block of C ranks (see the top). */
    g->icluster = xmalloc(I, sizeof *g->icluster);
    uint64_t kcl = splitmix64(&ks);
    for (uint64_t base = 0; base < I; base += C) {
        uint64_t st = mix64(base ^ kcl);
        for (uint32_t j = 0; j < C; j++)
            work[j] = j;
        for (uint32_t j = C - 1; j > 0; j--) { /* Fisher-Yates */
            uint32_t k = (uint32_t)(((splitmix64(&st) >> 32) * (j + 1)) >> 32), t = work[j];
            work[j] = work[k];
            work[k] = t;
        }
        for (uint32_t j = 0; j < C && base + j < I; j++)
            g->icluster[base + j] = (uint16_t)work[j];
    }

    g->cl_off = xmalloc((size_t)C + 1, sizeof *g->cl_off);
    memset(g->cl_off, 0, ((size_t)C + 1) * sizeof *g->cl_off);
    for (uint32_t i = 0; i < I; i++)
        g->cl_off[g->icluster[i] + 1]++;
    for (uint32_t c = 0; c < C; c++)
        g->cl_off[c + 1] += g->cl_off[c];
    g->cl_items = xmalloc(I, sizeof *g->cl_items);
    for (uint32_t c = 0; c < C; c++)
        work[c] = g->cl_off[c];
    for (uint32_t i = 0; i < I; i++) /* ascending i keeps each group in rank order */
        g->cl_items[work[g->icluster[i]]++] = i;
    g->cl_prob = xmalloc(I, sizeof *g->cl_prob);
    g->cl_alias = xmalloc(I, sizeof *g->cl_alias);
    for (uint32_t c = 0; c < C; c++) {
        uint32_t off = g->cl_off[c], n = g->cl_off[c + 1] - off;
        assert(n > 0);
        for (uint32_t j = 0; j < n; j++)
            w[j] = 1.0 / ((double)g->cl_items[off + j] + 1.0 + ITEM_OFF);
        alias_fill(g->cl_prob + off, g->cl_alias + off, w, n, work);
    }

    /* Content length: log-normal around 15 minutes, from 20 s clips to 4 h films. */
    g->ilen = xmalloc(I, sizeof *g->ilen);
    for (uint32_t i = 0; i < I; i++) {
        uint64_t h = mix64(i ^ g->k_item ^ 0x5851f42d4c957f2dULL);
        double len = exp(log(900.0) + 0.9 * normal_from(h, mix64(h)));
        g->ilen[i] = (float)(len < 20.0 ? 20.0 : len > 14400.0 ? 14400.0 : len);
    }

    g->ucache.n = U < UCACHE_MAX ? U : UCACHE_MAX;
    g->ucache.s = xmalloc(g->ucache.n, UCACHE_SLOT);
    for (uint32_t u = 0; u < g->ucache.n; u++) {
        char *slot = g->ucache.s + (size_t)u * UCACHE_SLOT;
        uint16_t cl = user_cluster(g, u);
        slot[UCACHE_SLOT - 1] = (char)(put_user_id(slot, g, u) - slot);
        memcpy(slot + UCACHE_CL, &cl, sizeof cl);
    }
    g->icache.n = I < ICACHE_MAX ? I : ICACHE_MAX;
    g->icache.s = xmalloc(g->icache.n, ICACHE_SLOT);
    for (uint32_t i = 0; i < g->icache.n; i++) {
        char *slot = g->icache.s + (size_t)i * ICACHE_SLOT;
        slot[ICACHE_SLOT - 1] = (char)(put_item_id(slot, g, i) - slot);
    }

    /* Diurnal activity, 1 +- 0.5 with its peak at 20:00 UTC; gaps scale by 1 / intensity. */
    for (int m = 0; m < 1440; m++) {
        double ph = 6.283185307179586 * ((double)m + 0.5) / 1440.0;
        double rate = 1.0 + 0.5 * sin(ph - 7.0 * 3.141592653589793 / 6.0);
        g->inv_rate[m] = 1.0 / rate;
    }

    free(w);
    free(work);
}

static void
gen_free(struct gen *g)
{
    free(g->items.prob);
    free(g->items.alias);
    free(g->cl_off);
    free(g->cl_items);
    free(g->cl_prob);
    free(g->cl_alias);
    free(g->icluster);
    free(g->ilen);
    free(g->ucache.s);
    free(g->icache.s);
}

static int
write_truth(const struct gen *g, struct out *w)
{
    for (uint32_t u = 0; u < g->nusers; u++) {
        char *p = w->buf + w->len;
        memcpy(p, "user\t", 5);
        p = put_user_id(p + 5, g, u);
        *p++ = '\t';
        p = put_u64(p, user_cluster(g, u));
        *p++ = '\n';
        w->len = (size_t)(p - w->buf);
        if (w->len > OUT_CAP - LINE_MAX_BYTES && out_flush(w) < 0)
            return -1;
    }
    for (uint32_t i = 0; i < g->nitems; i++) {
        char *p = w->buf + w->len;
        memcpy(p, "item\t", 5);
        p = put_item_id(p + 5, g, i);
        *p++ = '\t';
        p = put_u64(p, g->icluster[i]);
        *p++ = '\n';
        w->len = (size_t)(p - w->buf);
        if (w->len > OUT_CAP - LINE_MAX_BYTES && out_flush(w) < 0)
            return -1;
    }
    return 0;
}

/* Watch fraction of an item's length: log-normal, median 0.55 inside the visitor's cluster
 * and 0.12 outside, capped at 1 (watched to the end). */
#define MU_IN (-0.5978370007556204) /* log(0.55) */
#define MU_OUT (-2.120263536200091) /* log(0.12) */
#define SD_IN 0.6
#define SD_OUT 0.9
#define BOUNCE 0.04 /* sessions abandoned within seconds, whatever the taste */

static int
write_log(const struct gen *g, struct out *w)
{
    const struct opts *o = g->o;
    struct rng rng, urng;
    uint64_t ks = o->seed ^ 0xbb67ae8584caa73bULL;
    uint32_t ahead[LOOKAHEAD];
    uint64_t aff = (uint64_t)(o->affinity * 0x1p53);
    uint64_t bounce = (uint64_t)(BOUNCE * 0x1p53);
    /* Lines fall where the intensity is high, so the mean factor 1 / intensity per line is
     * 1 and the log spans about --days whatever the number of lines. */
    double gap = (double)o->days * 86400.0 / (double)o->lines;
    double t = 0.0;
    char d = o->delim;

    for (int k = 0; k < 4; k++)
        rng.s[k] = splitmix64(&ks);
    for (int k = 0; k < 4; k++)
        urng.s[k] = splitmix64(&ks);
    /* Visitors come from their own stream, drawn LOOKAHEAD lines early so that their cache
     * slots can be prefetched: a slot read at random is the main cost of a line. */
    for (int k = 0; k < LOOKAHEAD; k++) {
        ahead[k] = draw_user(g, rng_next(&urng));
        prefetch_user(g, ahead[k]);
    }

    if (o->header) {
        static const char *const cols[] = {"visitor_id", "content_id", "duration_s", "timestamp"};
        char *p = w->buf;
        for (int k = 0; k < 4; k++) {
            size_t n = strlen(cols[k]);
            memcpy(p, cols[k], n);
            p += n;
            *p++ = k < 3 ? d : '\n';
        }
        w->len = (size_t)(p - w->buf);
    }

    for (uint64_t line = 0; line < o->lines; line++) {
        uint32_t u = ahead[line % LOOKAHEAD], it;
        const char *uslot = u < g->ucache.n ? g->ucache.s + (size_t)u * UCACHE_SLOT : NULL;
        uint16_t cu;
        double dur;
        char *p;

        ahead[line % LOOKAHEAD] = draw_user(g, rng_next(&urng));
        prefetch_user(g, ahead[line % LOOKAHEAD]);
        if (uslot)
            memcpy(&cu, uslot + UCACHE_CL, sizeof cu);
        else
            cu = user_cluster(g, u);

        if ((rng_next(&rng) >> 11) < aff) {
            uint32_t off = g->cl_off[cu], n = g->cl_off[cu + 1] - off;
            uint32_t j = alias_draw(g->cl_prob + off, g->cl_alias + off, n, rng_next(&rng));
            it = g->cl_items[off + j];
        } else {
            it = alias_draw(g->items.prob, g->items.alias, g->nitems, rng_next(&rng));
        }

        uint64_t r1 = rng_next(&rng), r2 = rng_next(&rng);
        if ((r2 >> 11) < bounce) {
            dur = 1.0 + 14.0 * unit_open(r1);
        } else {
            double z = normal_from(r1, r2);
            double f = g->icluster[it] == cu ? exp(MU_IN + SD_IN * z) : exp(MU_OUT + SD_OUT * z);
            dur = (double)g->ilen[it] * (f < 1.0 ? f : 1.0);
            if (dur < 1.0)
                dur = 1.0;
        }

        p = w->buf + w->len;
        if (uslot) {
            memcpy(p, uslot, UCACHE_COPY);
            p += (unsigned char)uslot[UCACHE_SLOT - 1];
        } else {
            p = put_user_id(p, g, u);
        }
        *p++ = d;
        if (it < g->icache.n) {
            const char *slot = g->icache.s + (size_t)it * ICACHE_SLOT;
            memcpy(p, slot, ICACHE_COPY);
            p += (unsigned char)slot[ICACHE_SLOT - 1];
        } else {
            p = put_item_id(p, g, it);
        }
        *p++ = d;
        if (o->int_durations) {
            p = put_u64(p, (uint64_t)(dur + 0.5));
        } else {
            uint64_t t10 = (uint64_t)(dur * 10.0 + 0.5);
            p = put_u64(p, t10 / 10);
            *p++ = '.';
            *p++ = (char)('0' + t10 % 10);
        }
        *p++ = d;
        p = put_u64(p, o->start + (uint64_t)t);
        *p++ = '\n';
        w->len = (size_t)(p - w->buf);

        /* The first line is at --start; then exponential gaps, shorter at busy hours. */
        uint32_t minute = (uint32_t)((uint64_t)t / 60 % 1440);
        t += -log(unit_open(rng_next(&rng))) * gap * g->inv_rate[minute];
        if (w->len > OUT_CAP - LINE_MAX_BYTES && out_flush(w) < 0)
            return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct opts o;
    struct gen g;
    struct out log = {.fd = -1}, truth = {.fd = -1};
    int rc = 1;

    parse_args(argc, argv, &o);
    if (o.output || o.truth) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
    }
    gen_init(&g, &o);

    if (o.truth) {
        if (out_open(&truth, o.truth, 1) < 0)
            goto out;
        if (write_truth(&g, &truth) < 0 || out_finish(&truth) < 0) {
            out_fail(&truth);
            goto out;
        }
    }
    if (out_open(&log, o.output, 0) < 0)
        goto out;
    if (write_log(&g, &log) < 0 || out_finish(&log) < 0) {
        out_fail(&log);
        goto out;
    }
    if ((o.truth && out_commit(&truth, 1) < 0) || out_commit(&log, 0) < 0)
        goto out;
    rc = 0;
out:
    out_abort(&log, 0);
    out_abort(&truth, 1);
    free(log.buf);
    free(log.tmp);
    free(truth.buf);
    free(truth.tmp);
    gen_free(&g);
    return rc;
}
