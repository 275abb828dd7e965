/* SPDX-License-Identifier: MIT */
/* test_csv: record splitting (plain, quoted, multi-byte delimiters), delimiter detection
 * and naming, and TSV escaping of raw IDs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "diag.h"

#include "t.h"

/* Split a NUL-terminated record; fields go to a static table for the checks. */
static struct csv_field F[16];
static struct csv_scratch S;

__attribute__((destructor)) static void
t_release_scratch(void)
{
    csv_scratch_release(&S);
}

static int
split(const char *rec, const char *delim, unsigned maxf)
{
    memset(F, 0, sizeof F);
    return csv_split(rec, strlen(rec), delim, strlen(delim), F, maxf, &S);
}

/* Field i equals the C string want, byte for byte. */
#define T_FIELD(i, want) T_EQ_MEM(F[i].p, F[i].len, want, strlen(want))

TEST(plain_fields)
{
    T_EQ_INT(split("a,bb,ccc", ",", 16), 3);
    T_FIELD(0, "a");
    T_FIELD(1, "bb");
    T_FIELD(2, "ccc");

    /* Plain fields are slices of the record itself, not copies. */
    const char *rec = "u1\ti9\t4.5";
    T_EQ_INT(csv_split(rec, strlen(rec), "\t", 1, F, 16, &S), 3);
    T_TRUE(F[0].p == rec && F[1].p == rec + 3 && F[2].p == rec + 6);
    T_FIELD(2, "4.5");
}

TEST(empty_fields)
{
    /* An empty line is one empty field. */
    T_EQ_INT(csv_split("", 0, ",", 1, F, 16, &S), 1);
    T_EQ_U64(F[0].len, 0);

    /* A trailing delimiter ends with an empty last field. */
    T_EQ_INT(split("a,b,", ",", 16), 3);
    T_FIELD(0, "a");
    T_FIELD(1, "b");
    T_EQ_U64(F[2].len, 0);

    T_EQ_INT(split(",,", ",", 16), 3);
    T_EQ_U64(F[0].len + F[1].len + F[2].len, 0);

    T_EQ_INT(split(",x", ",", 16), 2);
    T_EQ_U64(F[0].len, 0);
    T_FIELD(1, "x");

    /* The same rules on the quoted path. */
    T_EQ_INT(split("\"a\",", ",", 16), 2);
    T_FIELD(0, "a");
    T_EQ_U64(F[1].len, 0);
    T_EQ_INT(split("\"\",x,", ",", 16), 3);
    T_EQ_U64(F[0].len, 0);
    T_FIELD(1, "x");
    T_EQ_U64(F[2].len, 0);
}

TEST(quoted_fields)
{
    /* An embedded delimiter is data. */
    T_EQ_INT(split("\"a,b\",c", ",", 16), 2);
    T_FIELD(0, "a,b");
    T_FIELD(1, "c");

    /* "" inside quotes is one quote. */
    T_EQ_INT(split("\"say \"\"hi\"\"\",x", ",", 16), 2);
    T_FIELD(0, "say \"hi\"");
    T_FIELD(1, "x");

    /* A field that is only an escaped quote. */
    T_EQ_INT(split("\"\"\"\"", ",", 16), 1);
    T_FIELD(0, "\"");

    /* A complete quoted field may hold a line break. */
    T_EQ_INT(split("1,\"two\nlines\",3", ",", 16), 3);
    T_FIELD(0, "1");
    T_FIELD(1, "two\nlines");
    T_FIELD(2, "3");

    /* Quotes inside an unquoted field are kept as data, also in a quoted record. */
    T_EQ_INT(split("a\"b,c", ",", 16), 2);
    T_FIELD(0, "a\"b");
    T_FIELD(1, "c");
    T_EQ_INT(split("x,a\"b,\"c,d\"", ",", 16), 3);
    T_FIELD(0, "x");
    T_FIELD(1, "a\"b");
    T_FIELD(2, "c,d");
}

TEST(open_quote_and_junk)
{
    /* The record ends inside quotes: the caller must join the next line. */
    T_EQ_INT(split("\"open", ",", 16), CSV_EOPEN);
    T_EQ_INT(split("a,\"open,b", ",", 16), CSV_EOPEN);
    T_EQ_INT(split("a,\"ends with escaped quote\"\"", ",", 16), CSV_EOPEN);
    T_EQ_INT(split("\"", ",", 16), CSV_EOPEN);

    /* Text between a closing quote and the delimiter. */
    T_EQ_INT(split("\"a\"b,c", ",", 16), CSV_EJUNK);
    T_EQ_INT(split("\"a\" ,c", ",", 16), CSV_EJUNK);
    T_EQ_INT(split("x,\"a\"b", ",", 16), CSV_EJUNK);
    /* With "::", a single ':' after the quote is junk too. */
    T_EQ_INT(split("\"a\":b", "::", 16), CSV_EJUNK);
}

TEST(multi_byte_delimiters)
{
    T_EQ_INT(split("1::1193::5::978300760", "::", 16), 4);
    T_FIELD(0, "1");
    T_FIELD(1, "1193");
    T_FIELD(2, "5");
    T_FIELD(3, "978300760");

    /* A lone ':' is data; ":::" splits at the first "::". */
    T_EQ_INT(split("a:b::c", "::", 16), 2);
    T_FIELD(0, "a:b");
    T_FIELD(1, "c");
    T_EQ_INT(split("a:::b", "::", 16), 2);
    T_FIELD(0, "a");
    T_FIELD(1, ":b");

    /* The delimiter's first byte occurs in the data: "xaaby" by "ab" is "xa", "y". */
    T_EQ_INT(split("xaaby", "ab", 16), 2);
    T_FIELD(0, "xa");
    T_FIELD(1, "y");
    /* A partial delimiter at the very end is data. */
    T_EQ_INT(split("xya", "ab", 16), 1);
    T_FIELD(0, "xya");
    T_EQ_INT(split("a::", "::", 16), 2);
    T_FIELD(0, "a");
    T_EQ_U64(F[1].len, 0);

    /* Quoted fields with a multi-byte delimiter. */
    T_EQ_INT(split("\"a::b\"::c::\"\"", "::", 16), 3);
    T_FIELD(0, "a::b");
    T_FIELD(1, "c");
    T_EQ_U64(F[2].len, 0);
    T_EQ_INT(split("a:b::\"q\"", "::", 16), 2);
    T_FIELD(0, "a:b");
    T_FIELD(1, "q");

    /* The longest delimiter allowed. */
    T_EQ_INT(split("1<-sep->2<-sep->3", "<-sep->", 16), 3);
    T_FIELD(2, "3");
}

TEST(maxf_stops_plain_counts_quoted)
{
    /* Unquoted: counting stops at maxf, and only maxf fields are stored. */
    struct csv_field g[3];
    memset(g, 0, sizeof g);
    g[2].p = "sentinel";
    T_EQ_INT(csv_split("a,b,c,d", 7, ",", 1, g, 2, &S), 2);
    T_EQ_MEM(g[0].p, g[0].len, "a", 1);
    T_EQ_MEM(g[1].p, g[1].len, "b", 1);
    T_EQ_STR(g[2].p, "sentinel");

    /* With a quote anywhere the whole record is scanned: the count exceeds maxf. */
    g[2].p = "sentinel";
    T_EQ_INT(csv_split("\"a\",b,c,d", 9, ",", 1, g, 2, &S), 4);
    T_EQ_MEM(g[0].p, g[0].len, "a", 1);
    T_EQ_MEM(g[1].p, g[1].len, "b", 1);
    T_EQ_STR(g[2].p, "sentinel");

    /* ... so a newline inside a quote in an unused column still asks for a join. */
    T_EQ_INT(csv_split("a,b,\"c", 6, ",", 1, g, 2, &S), CSV_EOPEN);

    /* maxf 0 stores nothing. */
    T_EQ_INT(csv_split("a,b", 3, ",", 1, g, 0, &S), 0);
}

TEST(scratch_survives_long_quoted_records)
{
    /* A quoted record longer than any before must grow the scratch buffer. */
    size_t n = 100000;
    char *rec = malloc(n + 8);
    T_TRUE(rec != NULL);
    if (!rec)
        return;
    rec[0] = '"';
    memset(rec + 1, 'q', n);
    memcpy(rec + 1 + n, "\",z", 4);
    T_EQ_INT(csv_split(rec, n + 4, ",", 1, F, 16, &S), 2);
    T_EQ_U64(F[0].len, n);
    T_TRUE(F[0].p[0] == 'q' && F[0].p[n - 1] == 'q');
    T_FIELD(1, "z");
    T_TRUE(S.cap >= n);
    free(rec);
}

static const char *
detect(const char *line)
{
    static char out[16]; /* larger than CSV_MAX_DELIM + 1: room for the error texts */
    memset(out, 'X', sizeof out);
    int rc = csv_detect_delim(line, strlen(line), out);
    return rc == 0 ? out : rc == ALS_EFORMAT ? "(EFORMAT)" : "(other)";
}

TEST(detect_each_delimiter)
{
    T_EQ_STR(detect("user\titem\trating"), "\t");
    T_EQ_STR(detect("user,item,rating"), ",");
    T_EQ_STR(detect("user;item;rating"), ";");
    T_EQ_STR(detect("user|item|rating"), "|");
    T_EQ_STR(detect("1::1193::5::978300760"), "::");
    T_EQ_STR(detect("just-one-field"), "(EFORMAT)");
    T_EQ_STR(detect("a:b:c"), "(EFORMAT)");
    T_EQ_STR(detect(""), "(EFORMAT)");
}

TEST(detect_most_frequent_and_ties)
{
    /* The most frequent wins: 1 comma against 2 semicolons. */
    T_EQ_STR(detect("a,b;c;d"), ";");
    T_EQ_STR(detect("a|b|c|d,e;f"), "|");
    /* Ties go in the order tab, comma, semicolon, pipe. */
    T_EQ_STR(detect("a,b\tc"), "\t");
    T_EQ_STR(detect("a;b,c"), ",");
    T_EQ_STR(detect("a|b;c"), ";");
    /* ":::" counts one "::". */
    T_EQ_STR(detect("a:::b,c,d"), ",");
}

TEST(detect_double_colon_wins_ties)
{
    /* csv.h: "::" wins ties.
     * MovieLens movies.dat has 2 "::" and 2 "|" in
     * "1::Toy Story (1995)::Animation|Children's|Comedy". */
    T_EQ_STR(detect("1::Toy Story (1995)::Animation|Children's|Comedy"), "::");
    T_EQ_STR(detect("a::b,c"), "::");
    T_EQ_STR(detect("a::b,c,d"), ",");
}

TEST(detect_ignores_quoted_text)
{
    /* Three commas inside quotes do not count against one tab. */
    T_EQ_STR(detect("\"x,y,z,w\"\tb"), "\t");
    T_EQ_STR(detect("\"a|b|c\";\"d|e\";f"), ";");
    /* Only quoted candidates: none counts. */
    T_EQ_STR(detect("\"a,b\""), "(EFORMAT)");
    /* A doubled quote inside a quoted field is data: the comma after it is still inside. */
    T_EQ_STR(detect("\"a\"\",b\"|c"), "|");
    /* A quote opens a quoted field only at the start of a field (as csv_split reads
     * it): in '5" screen' it is data, so the commas after it count (2 against 1 pipe). */
    T_EQ_STR(detect("5\" screen,tv,1|2"), ",");
    T_EQ_STR(detect("a,\"b|c|d\",e"), ",");
}

static const char *
pdelim(const char *name)
{
    static char out[16]; /* larger than CSV_MAX_DELIM + 1: room for the error texts */
    memset(out, 'X', sizeof out);
    return csv_parse_delim(name, out) == 0 ? out : "(EFORMAT)";
}

TEST(parse_delim_names)
{
    T_EQ_STR(pdelim("tab"), "\t");
    T_EQ_STR(pdelim("\\t"), "\t");
    T_EQ_STR(pdelim("comma"), ",");
    T_EQ_STR(pdelim("semicolon"), ";");
    T_EQ_STR(pdelim("pipe"), "|");
    T_EQ_STR(pdelim("space"), " ");
    T_EQ_STR(pdelim("::"), "::");
    T_EQ_STR(pdelim(","), ",");
    T_EQ_STR(pdelim("\t"), "\t");
    T_EQ_STR(pdelim("12345678"), "12345678"); /* CSV_MAX_DELIM bytes */
    T_EQ_STR(pdelim("123456789"), "(EFORMAT)");
    T_EQ_STR(pdelim(""), "(EFORMAT)");
    T_EQ_STR(pdelim("\""), "(EFORMAT)");
    T_EQ_STR(pdelim("a\"b"), "(EFORMAT)");
    T_EQ_STR(pdelim("\n"), "(EFORMAT)");
    T_EQ_STR(pdelim("x\r"), "(EFORMAT)");
}

TEST(escape_tsv)
{
    char out[64];
    size_t n;

    n = csv_escape_tsv("plain-id 42", 11, out);
    T_EQ_MEM(out, n, "plain-id 42", 11);

    static const char raw[] = "a\tb\nc\rd\\e";
    n = csv_escape_tsv(raw, sizeof raw - 1, out);
    T_EQ_MEM(out, n, "a\\tb\\nc\\rd\\\\e", 13);

    /* Other control bytes and DEL as \xHH (lowercase), the NUL byte included. */
    static const char ctl[] = { 0x00, 0x01, 0x1f, 0x7f };
    n = csv_escape_tsv(ctl, 4, out);
    T_EQ_MEM(out, n, "\\x00\\x01\\x1f\\x7f", 16);

    /* Bytes >= 0x80 (UTF-8) pass through. */
    static const char utf8[] = "caf\xc3\xa9";
    n = csv_escape_tsv(utf8, 5, out);
    T_EQ_MEM(out, n, utf8, 5);

    /* The documented bound 4 * n is reached by control bytes only. */
    char all[16];
    memset(all, 0x02, sizeof all);
    n = csv_escape_tsv(all, sizeof all, out);
    T_EQ_U64(n, 4 * sizeof all);

    T_EQ_U64(csv_escape_tsv("", 0, out), 0);
}

TEST(escape_tsv_output_never_breaks_a_line)
{
    /* Property: for every byte value, the escaped text has no tab, CR or LF. */
    char in[256], out[1024];
    for (int i = 0; i < 256; i++)
        in[i] = (char)i;
    size_t n = csv_escape_tsv(in, 256, out);
    T_TRUE(memchr(out, '\t', n) == NULL);
    T_TRUE(memchr(out, '\n', n) == NULL);
    T_TRUE(memchr(out, '\r', n) == NULL);
    T_TRUE(memchr(out, '\0', n) == NULL);
    /* 33 control bytes (0x00-0x1f, 0x7f) minus the three two-byte escapes take 4 bytes,
     * tab/LF/CR/backslash take 2, the other 222 bytes 1: 30 * 4 + 4 * 2 + 222 * 1 = 350. */
    T_EQ_U64(n, 30 * 4 + 4 * 2 + 222);
}

TEST(unescape_tsv_inverts_escape_for_every_byte)
{
    char in[256], esc[1024], back[1024];
    for (int i = 0; i < 256; i++)
        in[i] = (char)(255 - i);
    size_t n = csv_escape_tsv(in, 256, esc), m = 0;
    T_OK(csv_unescape_tsv(esc, n, back, &m));
    T_EQ_U64(m, 256);
    T_TRUE(memcmp(in, back, 256) == 0);
    /* Upper-case hex is read too; the bytes between escapes stay as they are. */
    T_OK(csv_unescape_tsv("a\\x1Fb\\\\", 8, back, &m));
    T_EQ_U64(m, 4);
    T_TRUE(memcmp(back, "a\x1f" "b\\", 4) == 0);
}

TEST(unescape_tsv_rejects_unknown_and_cut_escapes)
{
    char out[16];
    size_t m;
    T_EQ_U64((uint64_t)-csv_unescape_tsv("a\\q", 3, out, &m), (uint64_t)-ALS_EFORMAT);
    T_EQ_U64((uint64_t)-csv_unescape_tsv("a\\", 2, out, &m), (uint64_t)-ALS_EFORMAT);
    T_EQ_U64((uint64_t)-csv_unescape_tsv("\\x4", 3, out, &m), (uint64_t)-ALS_EFORMAT);
    T_EQ_U64((uint64_t)-csv_unescape_tsv("\\xg0", 4, out, &m), (uint64_t)-ALS_EFORMAT);
}
