/* SPDX-License-Identifier: MIT */
/* diag: error codes and the context message a failing library call leaves behind. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
diag_set(struct diag *d, int code, const char *fmt, ...)
{
    if (d) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
        d->code = code;
        d->sys_errno = 0;
    }
    return code;
}

int
diag_set_errno(struct diag *d, int code, int err, const char *fmt, ...)
{
    if (d) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof d->msg)
            snprintf(d->msg + n, sizeof d->msg - (size_t)n, ": %s", strerror(err));
        d->code = code;
        d->sys_errno = err;
    }
    return code;
}

int
diag_prefix(struct diag *d, const char *fmt, ...)
{
    if (!d)
        return 0;
    char head[sizeof d->msg], old[sizeof d->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, d->msg, sizeof old);
    size_t h = strlen(head), o = strlen(old);
    if (h + o >= sizeof d->msg)
        o = sizeof d->msg - 1 - h;
    memcpy(d->msg, head, h);
    memcpy(d->msg + h, old, o);
    d->msg[h + o] = '\0';
    return d->code;
}

const char *
diag_code_str(int code)
{
    switch (code) {
    case ALS_OK: return "success";
    case ALS_ENOMEM: return "out of memory";
    case ALS_EIO: return "input/output error";
    case ALS_EFORMAT: return "malformed input";
    case ALS_EVERSION: return "unsupported format version";
    case ALS_ECHECKSUM: return "checksum mismatch";
    case ALS_ERANGE: return "value out of range";
    case ALS_ENUMERIC: return "numerical failure";
    case ALS_EUSAGE: return "invalid usage";
    case ALS_EINTR: return "interrupted";
    case ALS_ELEAK: return "test data seen in training";
    }
    return "unknown error";
}

void
diag_clear(struct diag *d)
{
    if (d) {
        d->code = 0;
        d->sys_errno = 0;
        d->msg[0] = '\0';
    }
}
