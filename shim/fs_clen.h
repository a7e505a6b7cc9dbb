/*
 * fs_clen.h -- reading a request's CONTENT_LENGTH (see fs_clen.c).  No
 * Python headers: the unit tests and a fuzz target build it alone.
 */
#ifndef FS_CLEN_H
#define FS_CLEN_H

#include <stddef.h>

enum fs_clen {
    FS_CLEN_ABSENT,     /* no header, or an empty one */
    FS_CLEN_VALUE,      /* a plain decimal number: *value */
    FS_CLEN_UNKNOWN,    /* anything else: not to be trusted */
};

/* s[0..n): the CONTENT_LENGTH value as the server passed it. */
enum fs_clen fs_clen_parse(const char *s, size_t n, long long *value);

#endif /* FS_CLEN_H */
