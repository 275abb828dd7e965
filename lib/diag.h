/* SPDX-License-Identifier: MIT */
/* diag: error codes and the context message a failing library call leaves behind. */
#ifndef ALS_DIAG_H
#define ALS_DIAG_H

#if defined(__GNUC__) || defined(__clang__)
#define ALS_MUSTCHECK __attribute__((warn_unused_result))
#define ALS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ALS_NORETURN __attribute__((noreturn))
#else
#define ALS_MUSTCHECK
#define ALS_PRINTF(f, a)
#define ALS_NORETURN
#endif

/* Hot kernels are compiled for AVX-512, AVX2 and baseline x86-64 and picked when the
 * program loads: one binary runs everywhere and uses the widest vectors the CPU has. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define ALS_HOT_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ALS_HOT_CLONES
#endif

/* Every fallible libals function returns 0 or one of these negative codes. */
enum {
    ALS_OK = 0,
    ALS_ENOMEM = -1,    /* allocation failed or a size overflowed */
    ALS_EIO = -2,       /* the operating system refused (sys_errno says why) */
    ALS_EFORMAT = -3,   /* malformed file or input record */
    ALS_EVERSION = -4,  /* a binary file of an unknown major version */
    ALS_ECHECKSUM = -5, /* a CRC-32 did not match */
    ALS_ERANGE = -6,    /* a value outside what the format or option allows */
    ALS_ENUMERIC = -7,  /* NaN, infinity or a failed factorisation */
    ALS_EUSAGE = -8,    /* the caller asked for something contradictory */
    ALS_EINTR = -9,     /* interrupted by a signal */
    ALS_ELEAK = -10     /* files that do not belong together: test data seen in training */
};

/* The context of the last failure: a lowercase message with no program name
 * (the CLI prefixes it) and the errno of the system call that failed, or 0. */
struct diag {
    int code;
    int sys_errno;
    char msg[512];
};

/* Record code and a formatted message in d (which may be NULL); returns code so
 * callers can write `return diag_set(d, ALS_EFORMAT, ...)`. */
int diag_set(struct diag *d, int code, const char *fmt, ...) ALS_PRINTF(3, 4);

/* Like diag_set, and appends ": strerror(err)"; records err as sys_errno. */
int diag_set_errno(struct diag *d, int code, int err, const char *fmt, ...) ALS_PRINTF(4, 5);

/* Prefix the existing message with more context ("'file': " + old message). */
int diag_prefix(struct diag *d, const char *fmt, ...) ALS_PRINTF(2, 3);

/* A short generic description of a code ("out of memory", ...). */
const char *diag_code_str(int code);

void diag_clear(struct diag *d);

#endif
