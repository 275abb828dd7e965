/* SPDX-License-Identifier: MIT */
/* test_diag: messages, codes, errno text, prefixes, truncation and NULL contexts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

#include "t.h"

TEST(set_formats_and_returns_code)
{
    struct diag d;
    memset(&d, 0x55, sizeof d);
    T_EQ_INT(diag_set(&d, ALS_EFORMAT, "'%s':%d: bad %s", "x.tsv", 12, "thing"), ALS_EFORMAT);
    T_EQ_STR(d.msg, "'x.tsv':12: bad thing");
    T_EQ_INT(d.code, ALS_EFORMAT);
    T_EQ_INT(d.sys_errno, 0);
    /* A NULL context is allowed: only the code comes back. */
    T_EQ_INT(diag_set(NULL, ALS_ERANGE, "ignored %d", 1), ALS_ERANGE);
    T_EQ_INT(diag_set(&d, ALS_OK, "fine"), 0);
}

TEST(set_errno_appends_strerror)
{
    struct diag d;
    char want[600];
    T_EQ_INT(diag_set_errno(&d, ALS_EIO, ENOENT, "cannot open '%s'", "a b"), ALS_EIO);
    snprintf(want, sizeof want, "cannot open 'a b': %s", strerror(ENOENT));
    T_EQ_STR(d.msg, want);
    T_EQ_INT(d.sys_errno, ENOENT);
    T_EQ_INT(d.code, ALS_EIO);
    /* A later diag_set clears the errno. */
    diag_set(&d, ALS_EFORMAT, "other");
    T_EQ_INT(d.sys_errno, 0);
    T_EQ_INT(diag_set_errno(NULL, ALS_EIO, EACCES, "x"), ALS_EIO);
}

TEST(long_messages_are_truncated_and_terminated)
{
    struct diag d;
    char big[2000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    diag_set(&d, ALS_EFORMAT, "%s", big);
    T_EQ_U64(strlen(d.msg), sizeof d.msg - 1);
    /* No room left for the errno text: the message stays terminated, the errno recorded. */
    diag_set_errno(&d, ALS_EIO, EPERM, "%s", big);
    T_EQ_U64(strlen(d.msg), sizeof d.msg - 1);
    T_EQ_INT(d.sys_errno, EPERM);
}

TEST(prefix)
{
    struct diag d;
    diag_set(&d, ALS_ECHECKSUM, "checksum mismatch");
    T_EQ_INT(diag_prefix(&d, "'%s': ", "f.csr"), ALS_ECHECKSUM);
    T_EQ_STR(d.msg, "'f.csr': checksum mismatch");
    T_EQ_INT(d.code, ALS_ECHECKSUM);
    T_EQ_INT(diag_prefix(&d, "%s:%d: ", "in", 3), ALS_ECHECKSUM);
    T_EQ_STR(d.msg, "in:3: 'f.csr': checksum mismatch");
    T_EQ_INT(diag_prefix(NULL, "x"), 0);

    /* A prefix on a full message keeps the prefix and cuts the old text. */
    char big[600];
    memset(big, 'o', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    diag_set(&d, ALS_EFORMAT, "%s", big);
    diag_prefix(&d, "HEAD: ");
    T_EQ_U64(strlen(d.msg), sizeof d.msg - 1);
    T_TRUE(strncmp(d.msg, "HEAD: ooo", 9) == 0);
    /* A prefix longer than the buffer is cut to it. */
    diag_set(&d, ALS_EFORMAT, "old");
    diag_prefix(&d, "%s", big);
    T_EQ_U64(strlen(d.msg), sizeof d.msg - 1);
    T_TRUE(d.msg[0] == 'o' && d.msg[sizeof d.msg - 2] == 'o');
}

TEST(code_strings_and_clear)
{
    static const int codes[] = { ALS_OK, ALS_ENOMEM, ALS_EIO, ALS_EFORMAT, ALS_EVERSION,
                                 ALS_ECHECKSUM, ALS_ERANGE, ALS_ENUMERIC, ALS_EUSAGE,
                                 ALS_EINTR };
    enum { N = sizeof codes / sizeof codes[0] };
    /* Every code has its own text, none is the fallback. */
    for (int i = 0; i < N; i++) {
        T_TRUE(strcmp(diag_code_str(codes[i]), "unknown error") != 0);
        for (int k = 0; k < i; k++)
            T_TRUE(strcmp(diag_code_str(codes[i]), diag_code_str(codes[k])) != 0);
    }
    T_EQ_STR(diag_code_str(ALS_ENOMEM), "out of memory");
    T_EQ_STR(diag_code_str(ALS_ECHECKSUM), "checksum mismatch");
    T_EQ_STR(diag_code_str(-100), "unknown error");
    T_EQ_STR(diag_code_str(1), "unknown error");

    struct diag d;
    diag_set_errno(&d, ALS_EIO, EIO, "x");
    diag_clear(&d);
    T_EQ_INT(d.code, 0);
    T_EQ_INT(d.sys_errno, 0);
    T_EQ_STR(d.msg, "");
    diag_clear(NULL);
}
