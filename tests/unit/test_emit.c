/* SPDX-License-Identifier: MIT */
/* test_emit: JSON strings, TSV fields and numbers against hand-written expected text;
 * the buffer's growth, failure flag and flush. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "emit.h"
#include "zio.h"

#include "t.h"
#include "scratch.h"

/* The JSON text of the raw bytes s[0..n), NUL-terminated in a static buffer. */
static const char *
json_of(const char *s, size_t n)
{
    static char out[1024];
    struct emit_buf e;
    emit_init(&e);
    emit_json_string(&e, s, n);
    if (emit_error(&e) < 0 || e.len >= sizeof out)
        abort();
    memcpy(out, e.buf, e.len);
    out[e.len] = '\0';
    emit_release(&e);
    return out;
}

static const char *
tsv_of(const char *s, size_t n)
{
    static char out[1024];
    struct emit_buf e;
    emit_init(&e);
    emit_tsv_field(&e, s, n);
    if (emit_error(&e) < 0 || e.len >= sizeof out)
        abort();
    memcpy(out, e.buf, e.len);
    out[e.len] = '\0';
    emit_release(&e);
    return out;
}

/* A literal with its length (embedded NULs and bytes included). */
#define LIT(s) s, sizeof s - 1

TEST(json_plain_ascii_is_quoted_as_it_is)
{
    T_EQ_STR(json_of(LIT("item-42 /a b?")), "\"item-42 /a b?\"");
    T_EQ_STR(json_of(LIT("")), "\"\"");
}

TEST(json_quotes_and_backslashes_are_backslash_escaped)
{
    T_EQ_STR(json_of(LIT("q\"u\\ser")), "\"q\\\"u\\\\ser\"");
    T_EQ_STR(json_of(LIT("\"\\\"")), "\"\\\"\\\\\\\"\"");
}

TEST(json_control_bytes_and_del_are_u00xx)
{
    /* Tab and newline too: no short forms, every control byte the same way. */
    T_EQ_STR(json_of(LIT("a\tb\nc\rd")), "\"a\\u0009b\\u000ac\\u000dd\"");
    T_EQ_STR(json_of(LIT("\x01\x1f\x7f")), "\"\\u0001\\u001f\\u007f\"");
    T_EQ_STR(json_of(LIT("n\0ul")), "\"n\\u0000ul\"");
    T_EQ_STR(json_of(LIT("\x08\x0c")), "\"\\u0008\\u000c\"");
}

TEST(json_valid_multibyte_utf8_passes_through)
{
    T_EQ_STR(json_of(LIT("caf\xc3\xa9")), "\"caf\xc3\xa9\"");             /* U+00E9 */
    T_EQ_STR(json_of(LIT("\xc2\x80")), "\"\xc2\x80\"");                   /* U+0080 */
    T_EQ_STR(json_of(LIT("\xe2\x82\xac")), "\"\xe2\x82\xac\"");           /* U+20AC */
    T_EQ_STR(json_of(LIT("\xed\x9f\xbf")), "\"\xed\x9f\xbf\"");           /* U+D7FF */
    T_EQ_STR(json_of(LIT("\xee\x80\x80")), "\"\xee\x80\x80\"");           /* U+E000 */
    T_EQ_STR(json_of(LIT("\xf0\x9f\x98\x80")), "\"\xf0\x9f\x98\x80\"");   /* U+1F600 */
    T_EQ_STR(json_of(LIT("\xf4\x8f\xbf\xbf")), "\"\xf4\x8f\xbf\xbf\"");   /* U+10FFFF */
}

TEST(json_invalid_utf8_bytes_are_latin1_u00xx_one_by_one)
{
    /* Latin-1 bytes and a lone 0xff. */
    T_EQ_STR(json_of(LIT("lat\xe9\xff")), "\"lat\\u00e9\\u00ff\"");
    /* A continuation byte alone; 0xc0 and 0xc1 only start overlong forms. */
    T_EQ_STR(json_of(LIT("\x80\xc0\xaf\xc1\xbf")),
             "\"\\u0080\\u00c0\\u00af\\u00c1\\u00bf\"");
    /* Overlong three-byte '/' (e0 80 af): every byte escaped. */
    T_EQ_STR(json_of(LIT("ovl\xe0\x80\xaf")), "\"ovl\\u00e0\\u0080\\u00af\"");
    /* A surrogate (U+D800 as ed a0 80). */
    T_EQ_STR(json_of(LIT("sur\xed\xa0\x80")), "\"sur\\u00ed\\u00a0\\u0080\"");
    /* Above U+10FFFF (f4 90 80 80), and f5 that starts nothing. */
    T_EQ_STR(json_of(LIT("\xf4\x90\x80\x80")), "\"\\u00f4\\u0090\\u0080\\u0080\"");
    T_EQ_STR(json_of(LIT("\xf5\x80")), "\"\\u00f5\\u0080\"");
    /* Overlong four-byte (f0 80 ...). */
    T_EQ_STR(json_of(LIT("\xf0\x80\x80\x80")), "\"\\u00f0\\u0080\\u0080\\u0080\"");
}

TEST(json_truncated_sequences_escape_only_the_broken_bytes)
{
    /* A sequence cut by the end of the string. */
    T_EQ_STR(json_of(LIT("cut\xe2\x82")), "\"cut\\u00e2\\u0082\"");
    /* Cut by an ASCII byte: the ASCII byte is kept. */
    T_EQ_STR(json_of(LIT("\xe2\x82x")), "\"\\u00e2\\u0082x\"");
    /* A broken lead, then a valid sequence right after. */
    T_EQ_STR(json_of(LIT("\xc3\xc3\xa9")), "\"\\u00c3\xc3\xa9\"");
    /* A quote right after a lead byte. */
    T_EQ_STR(json_of(LIT("\xc3\"")), "\"\\u00c3\\\"\"");
}

TEST(tsv_field_escapes_as_the_dumps_do)
{
    T_EQ_STR(tsv_of(LIT("plain id")), "plain id");
    T_EQ_STR(tsv_of(LIT("u\tab")), "u\\tab");
    T_EQ_STR(tsv_of(LIT("nl\nline\r")), "nl\\nline\\r");
    T_EQ_STR(tsv_of(LIT("back\\slash")), "back\\\\slash");
    T_EQ_STR(tsv_of(LIT("\x01\x1f\x7f")), "\\x01\\x1f\\x7f");
    T_EQ_STR(tsv_of(LIT("n\0ul")), "n\\x00ul");
    /* Quotes and bytes >= 0x80 are data in TSV. */
    T_EQ_STR(tsv_of(LIT("q\"u\xe9\xc3\xa9")), "q\"u\xe9\xc3\xa9");
    /* The worst case takes four bytes per input byte. */
    T_EQ_STR(tsv_of(LIT("\x01\x02\x03")), "\\x01\\x02\\x03");
}

static const char *
num_of(double v, int json)
{
    static char out[64];
    struct emit_buf e;
    emit_init(&e);
    if (json)
        emit_json_number(&e, v);
    else
        emit_tsv_number(&e, v);
    if (emit_error(&e) < 0 || e.len >= sizeof out)
        abort();
    memcpy(out, e.buf, e.len);
    out[e.len] = '\0';
    emit_release(&e);
    return out;
}

TEST(numbers_integral_plain_others_six_significant_digits)
{
    for (int json = 0; json < 2; json++) {
        T_EQ_STR(num_of(0.0, json), "0");
        T_EQ_STR(num_of(17.0, json), "17");
        T_EQ_STR(num_of(-3.0, json), "-3");
        T_EQ_STR(num_of(123456789.0, json), "123456789");
        T_EQ_STR(num_of(0.5, json), "0.5");
        T_EQ_STR(num_of(1.0 / 3.0, json), "0.333333");
        T_EQ_STR(num_of(-2.718281828, json), "-2.71828");
        T_EQ_STR(num_of(1234567.5, json), "1.23457e+06");
        T_EQ_STR(num_of(1.5e-7, json), "1.5e-07");
        T_EQ_STR(num_of((double)0.1f, json), "0.1");
        /* Integral up to the float nearest 1e15 (excluded): a float score prints the
         * same whether it comes as a float or a double. */
        T_EQ_STR(num_of(999999986991103.0, json), "999999986991103");
        T_EQ_STR(num_of((double)1e15f, json), "1e+15");
        T_EQ_STR(num_of(-(double)1e15f, json), "-1e+15");
        T_EQ_STR(num_of(4e15, json), "4e+15");
    }
}

TEST(numbers_not_finite_are_words_in_tsv_and_null_in_json)
{
    T_EQ_STR(num_of((double)NAN, 0), "nan");
    T_EQ_STR(num_of((double)INFINITY, 0), "inf");
    T_EQ_STR(num_of(-(double)INFINITY, 0), "-inf");
    T_EQ_STR(num_of((double)NAN, 1), "null");
    T_EQ_STR(num_of((double)INFINITY, 1), "null");
    T_EQ_STR(num_of(-(double)INFINITY, 1), "null");
}

TEST(appends_compose_and_grow)
{
    struct emit_buf e;
    emit_init(&e);
    emit_str(&e, "{\"user\":");
    emit_json_string(&e, LIT("a\tb"));
    emit_char(&e, ',');
    emit_u64(&e, 0);
    emit_char(&e, ',');
    emit_u64(&e, 18446744073709551615ull);
    emit_bytes(&e, "}\n", 2);
    T_OK(emit_error(&e));
    static const char want[] = "{\"user\":\"a\\u0009b\",0,18446744073709551615}\n";
    T_EQ_MEM(e.buf, e.len, want, sizeof want - 1);
    /* Many appends: the buffer grows and keeps every byte. */
    emit_reset(&e);
    for (int i = 0; i < 100000; i++)
        emit_char(&e, (char)('a' + i % 26));
    T_EQ_U64(e.len, 100000);
    int good = 1;
    for (int i = 0; i < 100000; i++)
        good &= e.buf[i] == (char)('a' + i % 26);
    T_TRUE(good);
    emit_release(&e);
    T_TRUE(e.buf == NULL && e.len == 0);
}

TEST(a_failed_append_sticks_and_flush_writes_nothing)
{
    struct emit_buf e;
    struct diag d = { 0 };
    struct zio_out o;
    const char *path = tpath("failed.txt");
    emit_init(&e);
    emit_str(&e, "kept?");
    /* An append that cannot fit in memory (its size overflows): the buffer fails. */
    emit_tsv_field(&e, "x", SIZE_MAX / 2);
    T_EQ_INT(emit_error(&e), ALS_ENOMEM);
    emit_str(&e, "more");
    T_EQ_U64(e.len, 5);
    T_OK(zio_out_open(&o, path, &d));
    T_EQ_INT(emit_flush(&e, &o, &d), ALS_ENOMEM);
    T_EQ_STR(d.msg, "out of memory");
    T_OK(zio_out_commit(&o, &d));
    zio_out_abort(&o);
    size_t len;
    unsigned char *got = slurp(path, &len);
    T_TRUE(got != NULL);
    T_EQ_U64(len, 0);
    free(got);
    emit_release(&e);
    T_OK(emit_error(&e));
}

TEST(flush_writes_and_empties)
{
    struct emit_buf e;
    struct diag d = { 0 };
    struct zio_out o;
    const char *path = tpath("flush.txt");
    emit_init(&e);
    T_OK(zio_out_open(&o, path, &d));
    emit_str(&e, "one\t");
    T_OK(emit_flush(&e, &o, &d));
    T_EQ_U64(e.len, 0);
    T_OK(emit_flush(&e, &o, &d)); /* empty: nothing */
    emit_tsv_field(&e, LIT("t\two\n"));
    T_OK(emit_flush(&e, &o, &d));
    T_OK(zio_out_commit(&o, &d));
    zio_out_abort(&o);
    size_t len;
    unsigned char *got = slurp(path, &len);
    static const char want[] = "one\tt\\two\\n";
    T_EQ_MEM(got, len, want, sizeof want - 1);
    free(got);
    emit_release(&e);
}
