/* SPDX-License-Identifier: MIT */
/* test_logread: header names, BOM, CRLF, delimiter detection, column defaults, and the
 * "FILE:LINE: reason" of every malformed record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "logread.h"

#include "t.h"
#include "scratch.h"

/* A log file holding the C string text. */
static const char *
log_file(const char *name, const char *text)
{
    const char *p = tpath(name);
    if (spit(p, text, strlen(text)) < 0) {
        printf("# cannot write %s\n", p);
        exit(1);
    }
    return p;
}

/* A spec: delim ("" = detect), header (-1/0/1), column specs or NULL. */
static void
mkspec(struct logspec *s, const char *delim, int header, const char *user, const char *item,
       const char *rating, const char *time)
{
    logspec_init(s);
    snprintf(s->delim, sizeof s->delim, "%s", delim);
    s->header = header;
    const char *c[LOG_NCOLS] = { user, item, rating, time };
    for (int i = 0; i < LOG_NCOLS; i++)
        if (logspec_set_col(s, i, c[i]) < 0)
            exit(1);
}

/* Field c of rec equals want (NULL: the column is not read). */
static int
field_is(const struct logrec *rec, int c, const char *want)
{
    if (!want)
        return rec->f[c] == NULL && rec->len[c] == 0;
    return rec->f[c] && rec->len[c] == strlen(want) && memcmp(rec->f[c], want, rec->len[c]) == 0;
}

#define T_REC(r, u, i, rt, tm)                                                             \
    do {                                                                                   \
        T_TRUE(field_is(r, LOG_USER, u));                                                  \
        T_TRUE(field_is(r, LOG_ITEM, i));                                                  \
        T_TRUE(field_is(r, LOG_RATING, rt));                                               \
        T_TRUE(field_is(r, LOG_TIME, tm));                                                 \
    } while (0)

static char want[1024];
#define WANT(...) snprintf(want, sizeof want, __VA_ARGS__)

TEST(header_names_any_order)
{
    const char *p = log_file("names.tsv", "ts\titem\tscore\tuser\n"
                                          "100\ti1\t5\tu1\n"
                                          "200\ti2\t3\tu2\n");
    struct logspec s;
    struct logread r;
    struct logrec rec;
    struct diag d;
    mkspec(&s, "", -1, "user", "item", "score", "ts");
    T_OK(logread_open(&r, p, &s, &d));
    /* The effective settings are written back: detected tab, a header because of names. */
    T_EQ_STR(s.delim, "\t");
    T_EQ_INT(s.header, 1);
    T_EQ_STR(s.col[LOG_USER], "user");
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u1", "i1", "5", "100");
    T_EQ_U64(rec.line, 2);
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u2", "i2", "3", "200");
    T_EQ_U64(rec.line, 3);
    T_EQ_INT(logread_next(&r, &rec, &d), 0);
    T_EQ_U64(r.records, 2);
    T_EQ_STR(logread_name(&r), p);
    logread_close(&r);
    logspec_release(&s);
}

TEST(quoted_header_names)
{
    const char *p = log_file("qnames.csv", "\"user id\",\"item,name\",rating\n"
                                           "a,b,1\n");
    struct logspec s;
    struct logread r;
    struct logrec rec;
    struct diag d;
    mkspec(&s, "", -1, "user id", "item,name", NULL, NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_STR(s.delim, ",");
    /* Default rating: the log has a third column. */
    T_EQ_STR(s.col[LOG_RATING], "3");
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "a", "b", "1", NULL);
    logread_close(&r);
    logspec_release(&s);
}

TEST(bom_and_crlf)
{
    const char *p = log_file("bom.csv", "\xef\xbb\xbfuser,item,rating\r\n"
                                        "u1,i1,4\r\n"
                                        "u2,i2,5\r\n");
    struct logspec s;
    struct logread r;
    struct logrec rec;
    struct diag d;
    mkspec(&s, "", -1, "user", "item", "rating", NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u1", "i1", "4", NULL); /* no '\r' on the last field */
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u2", "i2", "5", NULL);
    T_EQ_INT(logread_next(&r, &rec, &d), 0);
    logread_close(&r);
    logspec_release(&s);

    /* Without a header, the BOM is not part of the first user ID. */
    p = log_file("bom2.csv", "\xef\xbb\xbfu1,i1\r\nu2,i2\r\n");
    mkspec(&s, "", -1, NULL, NULL, NULL, NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_INT(s.header, 0);
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u1", "i1", NULL, NULL);
    T_EQ_U64(rec.line, 1);
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u2", "i2", NULL, NULL);
    T_EQ_U64(rec.line, 2);
    logread_close(&r);
    logspec_release(&s);
}

TEST(delimiter_detection)
{
    static const struct { const char *text, *delim; } cases[] = {
        { "1::1193::5::978300760\n2::661::4::978302109\n", "::" },
        { "u1\ti1\t5\nu2\ti2\t4\n", "\t" },
        { "u1;i1;5\nu2;i2;4\n", ";" },
        { "u1|i1|5\nu2|i2|4\n", "|" },
        { "u1,i1,5\nu2,i2,4\n", "," },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *p = log_file("detect.txt", cases[k].text);
        struct logspec s;
        struct logread r;
        struct logrec rec;
        struct diag d;
        mkspec(&s, "", -1, NULL, NULL, NULL, NULL);
        T_OK(logread_open(&r, p, &s, &d));
        T_EQ_STR(s.delim, cases[k].delim);
        T_EQ_INT(s.header, 0);
        T_EQ_INT(logread_next(&r, &rec, &d), 1);
        T_TRUE(rec.len[LOG_RATING] == 1 && (rec.f[LOG_RATING][0] == '5'));
        T_EQ_INT(logread_next(&r, &rec, &d), 1);
        T_TRUE(rec.len[LOG_RATING] == 1 && (rec.f[LOG_RATING][0] == '4'));
        T_EQ_INT(logread_next(&r, &rec, &d), 0);
        logread_close(&r);
        logspec_release(&s);
    }

    /* A given delimiter is used as it is, no detection. */
    const char *p = log_file("given.txt", "a,b;c,d\n");
    struct logspec s;
    struct logread r;
    struct logrec rec;
    struct diag d;
    mkspec(&s, ";", -1, NULL, NULL, NULL, NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_STR(s.delim, ";");
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "a,b", "c,d", NULL, NULL);
    logread_close(&r);
    logspec_release(&s);

    /* Nothing to detect. */
    p = log_file("nodelim.txt", "justoneword\n");
    mkspec(&s, "", -1, NULL, NULL, NULL, NULL);
    T_EQ_INT(logread_open(&r, p, &s, &d), ALS_EFORMAT);
    WANT("%s:1: cannot detect the delimiter (no tab, comma, semicolon, pipe or '::'); give -F",
         p);
    T_EQ_STR(d.msg, want);
    logspec_release(&s);
}

TEST(default_rating_column)
{
    /* Three columns: rating 3. Two columns: none, every record counts 1. */
    const char *p = log_file("three.csv", "u,i,2.5\n");
    struct logspec s;
    struct logread r;
    struct logrec rec;
    struct diag d;
    mkspec(&s, "", -1, NULL, NULL, NULL, NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_STR(s.col[LOG_USER], "1");
    T_EQ_STR(s.col[LOG_ITEM], "2");
    T_EQ_STR(s.col[LOG_RATING], "3");
    T_TRUE(s.col[LOG_TIME] == NULL);
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u", "i", "2.5", NULL);
    logread_close(&r);
    logspec_release(&s);

    p = log_file("two.csv", "u,i\nv,j\n");
    mkspec(&s, "", -1, NULL, NULL, NULL, NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_STR(s.col[LOG_RATING], "none");
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u", "i", NULL, NULL);
    logread_close(&r);
    logspec_release(&s);

    /* "none" given explicitly on a three-column log. */
    p = log_file("three2.csv", "u,i,9\n");
    mkspec(&s, "", -1, NULL, NULL, "none", NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u", "i", NULL, NULL);
    logread_close(&r);
    logspec_release(&s);

    /* "none" for the time column: no time, even when a column would be there. */
    p = log_file("time-none.csv", "u,i,3,1700000000\n");
    mkspec(&s, "", -1, NULL, NULL, NULL, "none");
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_INT(r.idx[LOG_TIME], -1);
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u", "i", "3", NULL);
    logread_close(&r);
    logspec_release(&s);

    /* Columns by number, in any order. */
    p = log_file("num.csv", "5,x,y,u,i\n");
    mkspec(&s, "", 0, "4", "5", "1", "2");
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u", "i", "5", "x");
    logread_close(&r);
    logspec_release(&s);
}

TEST(default_rating_when_first_record_spans_lines)
{
    /* The first record has three columns; its item holds a quoted line break. */
    const char *p = log_file("span1.csv", "u1,\"a\nb\",5\nu2,i2,4\n");
    struct logspec s;
    struct logread r;
    struct logrec rec;
    struct diag d;
    mkspec(&s, "", -1, NULL, NULL, NULL, NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_STR(s.col[LOG_RATING], "3");
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u1", "a\nb", "5", NULL);
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u2", "i2", "4", NULL);
    logread_close(&r);
    logspec_release(&s);
}

TEST(missing_column_is_bad_record_and_reader_goes_on)
{
    const char *p = log_file("missing.csv", "user,item,rating\n"
                                            "u1,i1,5\n"
                                            "u2,i2\n"
                                            "u3\n"
                                            "u4,i4,1\n");
    struct logspec s;
    struct logread r;
    struct logrec rec;
    struct diag d;
    mkspec(&s, "", 1, NULL, NULL, NULL, NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_EQ_INT(logread_next(&r, &rec, &d), LOGREAD_BAD);
    WANT("%s:3: missing rating column 3 (the line has 2 fields)", p);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(d.code, ALS_EFORMAT);
    T_EQ_INT(logread_next(&r, &rec, &d), LOGREAD_BAD);
    WANT("%s:4: missing item column 2 (the line has 1 field)", p);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u4", "i4", "1", NULL);
    T_EQ_U64(rec.line, 5);
    T_EQ_INT(logread_next(&r, &rec, &d), 0);
    T_EQ_U64(r.records, 2);
    logread_close(&r);
    logspec_release(&s);
}

TEST(empty_ids_nul_bytes_and_blank_lines)
{
    static const char text[] = "u1,i1\n"
                               ",i2\n"
                               "u3,\n"
                               "\n"
                               "u\0x,i5\n"
                               "u6,i\0\n"
                               "u7,i7\n";
    const char *p = tpath("ids.csv");
    T_OK(spit(p, text, sizeof text - 1));
    struct logspec s;
    struct logread r;
    struct logrec rec;
    struct diag d;
    mkspec(&s, ",", 0, NULL, NULL, NULL, NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_EQ_INT(logread_next(&r, &rec, &d), LOGREAD_BAD);
    WANT("%s:2: empty user ID (column 1)", p);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(logread_next(&r, &rec, &d), LOGREAD_BAD);
    WANT("%s:3: empty item ID (column 2)", p);
    T_EQ_STR(d.msg, want);
    /* Line 4 is blank and skipped. */
    T_EQ_INT(logread_next(&r, &rec, &d), LOGREAD_BAD);
    WANT("%s:5: NUL byte in the user field", p);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(logread_next(&r, &rec, &d), LOGREAD_BAD);
    WANT("%s:6: NUL byte in the item field", p);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u7", "i7", NULL, NULL);
    T_EQ_U64(rec.line, 7);
    T_EQ_INT(logread_next(&r, &rec, &d), 0);
    logread_close(&r);
    logspec_release(&s);
}

TEST(quoted_newline_joins_lines)
{
    const char *p = log_file("join.csv", "user,item,rating\n"
                                         "u1,\"first\nsecond\nthird\",5\n"
                                         "u2,\"x\"\"y\",4\r\n"
                                         "\"u\r\n3\",i3,3\r\n"
                                         "u4,i4,2\n");
    struct logspec s;
    struct logread r;
    struct logrec rec;
    struct diag d;
    mkspec(&s, "", -1, "user", "item", "rating", NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u1", "first\nsecond\nthird", "5", NULL);
    T_EQ_U64(rec.line, 2); /* the first line of the record */
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u2", "x\"y", "4", NULL);
    T_EQ_U64(rec.line, 5);
    /* A CRLF inside quotes joins as "\n": each line loses its '\r' first. */
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u\n3", "i3", "3", NULL);
    T_EQ_U64(rec.line, 6);
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u4", "i4", "2", NULL);
    T_EQ_U64(rec.line, 8);
    T_EQ_INT(logread_next(&r, &rec, &d), 0);
    logread_close(&r);
    logspec_release(&s);
}

TEST(bad_quoting)
{
    const char *p = log_file("badq.csv", "u1,i1\n"
                                         "\"u\"x,i2\n"
                                         "u3,i3\n"
                                         "u4,\"never closed\n"
                                         "more\n");
    struct logspec s;
    struct logread r;
    struct logrec rec;
    struct diag d;
    mkspec(&s, "", -1, NULL, NULL, NULL, NULL);
    T_OK(logread_open(&r, p, &s, &d));
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_EQ_INT(logread_next(&r, &rec, &d), LOGREAD_BAD);
    WANT("%s:2: unexpected text after a closing quote", p);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(logread_next(&r, &rec, &d), 1);
    T_REC(&rec, "u3", "i3", NULL, NULL);
    T_EQ_INT(logread_next(&r, &rec, &d), LOGREAD_BAD);
    WANT("%s:4: unterminated quoted field at end of input", p);
    T_EQ_STR(d.msg, want);
    T_EQ_INT(logread_next(&r, &rec, &d), 0);
    logread_close(&r);
    logspec_release(&s);
}

TEST(open_errors)
{
    struct logspec s;
    struct logread r;
    struct diag d;

    const char *p = log_file("hdr.csv", "user,item\nu,i\n");
    mkspec(&s, "", -1, "user", "product", NULL, NULL);
    T_EQ_INT(logread_open(&r, p, &s, &d), ALS_EUSAGE);
    WANT("%s:1: no column named 'product' in the header", p);
    T_EQ_STR(d.msg, want);
    logspec_release(&s);

    /* A log without its header line: the first line names none of the columns, so the
     * message says which header was expected (and with one name it cannot tell). */
    const char *nh = log_file("nohdr.csv", "u1,i1,5,9\nu2,i2,3,9\n");
    mkspec(&s, "", -1, "user", "item", "stars", "1");
    T_EQ_INT(logread_open(&r, nh, &s, &d), ALS_EUSAGE);
    WANT("%s:1: no header line with the columns user, item, stars (the first line names "
         "none of them)", nh);
    T_EQ_STR(d.msg, want);
    logspec_release(&s);
    mkspec(&s, "", -1, "1", "item", NULL, NULL);
    T_EQ_INT(logread_open(&r, nh, &s, &d), ALS_EUSAGE);
    WANT("%s:1: no column named 'item' in the header", nh);
    T_EQ_STR(d.msg, want);
    logspec_release(&s);

    /* Names need a header; -H no contradicts them. */
    mkspec(&s, "", 0, "user", "item", NULL, NULL);
    T_EQ_INT(logread_open(&r, p, &s, &d), ALS_EUSAGE);
    T_EQ_STR(d.msg, "columns given by name need a header line (-H)");
    logspec_release(&s);

    mkspec(&s, "", -1, "65", NULL, NULL, NULL);
    T_EQ_INT(logread_open(&r, p, &s, &d), ALS_EUSAGE);
    T_EQ_STR(d.msg, "--user column 65 is out of range (1-64)");
    logspec_release(&s);
    mkspec(&s, "", -1, "1", "0", NULL, NULL);
    T_EQ_INT(logread_open(&r, p, &s, &d), ALS_EUSAGE);
    T_EQ_STR(d.msg, "--item column 0 is out of range (1-64)");
    logspec_release(&s);

    mkspec(&s, "", 0, "2", NULL, NULL, NULL);
    T_EQ_INT(logread_open(&r, p, &s, &d), ALS_EUSAGE);
    T_EQ_STR(d.msg, "the user and item columns are the same column 2");
    logspec_release(&s);

    const char *e = log_file("empty.csv", "");
    /* An empty log with -H is a log with no records yet: -H and the names are kept for
     * the next log, unresolved. */
    struct logrec rec0;
    mkspec(&s, ";", 1, "user", "item", "rating", NULL);
    T_OK(logread_open(&r, e, &s, &d));
    T_EQ_INT(logread_next(&r, &rec0, &d), 0);
    T_EQ_STR(s.delim, ";");
    T_EQ_INT(s.header, 1);
    T_EQ_STR(s.col[LOG_USER], "user");
    T_EQ_STR(s.col[LOG_ITEM], "item");
    T_EQ_STR(s.col[LOG_RATING], "rating");
    T_TRUE(s.col[LOG_TIME] == NULL);
    logread_close(&r);
    logspec_release(&s);
    /* names alone imply the header */
    mkspec(&s, "", -1, "user", NULL, NULL, NULL);
    T_OK(logread_open(&r, e, &s, &d));
    T_EQ_INT(s.header, 1);
    T_EQ_STR(s.delim, "");
    logread_close(&r);
    logspec_release(&s);

    /* An empty log without a header is simply empty, and settles nothing that a later,
     * real log should decide: no delimiter, header or rating column is written back. */
    struct logrec rec;
    mkspec(&s, "", -1, NULL, NULL, NULL, NULL);
    T_OK(logread_open(&r, e, &s, &d));
    T_EQ_INT(logread_next(&r, &rec, &d), 0);
    T_EQ_STR(s.delim, "");
    T_EQ_INT(s.header, -1);
    T_TRUE(s.col[LOG_RATING] == NULL);
    logread_close(&r);
    logspec_release(&s);

    const char *q = log_file("qhdr.csv", "\"user,item\n");
    mkspec(&s, ",", 1, NULL, NULL, NULL, NULL);
    T_EQ_INT(logread_open(&r, q, &s, &d), ALS_EFORMAT);
    WANT("%s:1: malformed header line (bad quoting)", q);
    T_EQ_STR(d.msg, want);
    logspec_release(&s);

    mkspec(&s, "", -1, NULL, NULL, NULL, NULL);
    T_EQ_INT(logread_open(&r, tpath("absent.csv"), &s, &d), ALS_EIO);
    logspec_release(&s);
}

TEST(logspec_copy)
{
    struct logspec a, b;
    mkspec(&a, "::", 1, "u", NULL, "r", "t");
    logspec_init(&b);
    T_OK(logspec_set_col(&b, LOG_ITEM, "stale"));
    T_OK(logspec_copy(&b, &a));
    T_EQ_STR(b.delim, "::");
    T_EQ_INT(b.header, 1);
    T_EQ_STR(b.col[LOG_USER], "u");
    T_TRUE(b.col[LOG_ITEM] == NULL);
    T_EQ_STR(b.col[LOG_TIME], "t");
    T_TRUE(b.col[LOG_USER] != a.col[LOG_USER]); /* a copy, not shared */
    logspec_release(&a);
    logspec_release(&b);
    T_EQ_INT(b.header, -1);
}
