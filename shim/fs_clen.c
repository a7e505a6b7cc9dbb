/*
 * fs_clen.c -- a request's CONTENT_LENGTH, trusted only when plain.
 *
 * RFC 9110 makes Content-Length 1*DIGIT.  Python's int(), which Werkzeug
 * uses, accepts more: surrounding white space, a sign, underscores between
 * digits, any Unicode decimal digit.  A value the guard cannot read exactly
 * as Werkzeug will is not a length the library may trust to skip the
 * bounded stream, so anything but 1 to 18 ASCII digits (no overflow is
 * possible below 10^18) is FS_CLEN_UNKNOWN: the body is then read through
 * the bounded stream and counted, whatever Werkzeug makes of the header.
 */
#include "fs_clen.h"

enum fs_clen
fs_clen_parse(const char *s, size_t n, long long *value)
{
    long long v = 0;
    size_t i;

    *value = -1;
    if (n == 0) {
        return FS_CLEN_ABSENT;
    }
    if (n > 18) {
        return FS_CLEN_UNKNOWN;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return FS_CLEN_UNKNOWN;
        }
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return FS_CLEN_VALUE;
}
