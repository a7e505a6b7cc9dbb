/*
 * fs_secret.h -- judging a Flask SECRET_KEY.
 *
 * Pure C, no Python: the request guard hands the key's bytes (str keys as
 * UTF-8) and gets back a verdict.  The verdict names a reason, never the key.
 * The built-in list holds every published value, in str and bytes forms
 * (docs/design.md, "Published keys"); the operator's weak list
 * (fs_weak_list.h) is a hash set with constant-time look-up.
 */
#ifndef FS_SECRET_H
#define FS_SECRET_H

#include <stddef.h>

#include "fs_weak_list.h"

enum fs_secret_verdict {
    FS_SECRET_OK = 0,
    FS_SECRET_MISSING,          /* absent, None, or empty */
    FS_SECRET_KNOWN,            /* a published / placeholder value */
    FS_SECRET_SHORT,            /* fewer than min_length bytes */
    FS_SECRET_LOW_VARIETY,      /* repeated pattern, sequential run, < 8
                                 * distinct bytes */
};

/* Judge key[0..len).  key == NULL means missing.  wl may be NULL. */
enum fs_secret_verdict fs_secret_check(const unsigned char *key, size_t len,
                                       size_t min_length,
                                       const struct fs_weak_list *wl);

/* "missing", "known value", "too short", "low variety", "ok". */
const char *fs_secret_verdict_name(enum fs_secret_verdict v);

#endif /* FS_SECRET_H */
