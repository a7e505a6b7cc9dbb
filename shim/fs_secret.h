/*
 * fs_secret.h -- judging a Flask SECRET_KEY.
 *
 * Pure C, no Python: the request guard hands the key's bytes (str keys as
 * UTF-8) and gets back a verdict.  The verdict names a reason, never the key.
 * The built-in list holds every published value named in FLASK-SURFACE.md
 * (str and bytes forms); an optional weak-list file (one key a line, tens of
 * thousands of lines) is loaded into a hash set for constant-time look-up.
 */
#ifndef FS_SECRET_H
#define FS_SECRET_H

#include <stddef.h>

enum fs_secret_verdict {
    FS_SECRET_OK = 0,
    FS_SECRET_MISSING,          /* absent, None, or empty */
    FS_SECRET_KNOWN,            /* a published / placeholder value */
    FS_SECRET_SHORT,            /* fewer than min_length bytes */
    FS_SECRET_LOW_VARIETY,      /* repeated pattern, sequential run, < 8
                                 * distinct bytes */
};

struct fs_weak_list;            /* opaque hash set */

/* Load a weak-list file (one key a line, "\n" or "\r\n"; empty lines
 * ignored).  The file must pass the policy file's checks (fs_file_check:
 * regular, not writable by group or others, owned by root or the
 * effective user) and hold at most FS_WEAK_MAX_FILE bytes and
 * FS_WEAK_MAX_KEYS keys, which bounds the memory it takes in every process
 * (about 40 MiB at most).  Returns NULL and writes the reason into
 * why[0..whylen) on failure (why may be NULL). */
#define FS_WEAK_MAX_FILE (16LL << 20)
#define FS_WEAK_MAX_KEYS 1000000
struct fs_weak_list *fs_weak_list_load(const char *path, char *why,
                                       size_t whylen);
void fs_weak_list_free(struct fs_weak_list *wl);
size_t fs_weak_list_size(const struct fs_weak_list *wl);

/* Judge key[0..len).  key == NULL means missing.  wl may be NULL. */
enum fs_secret_verdict fs_secret_check(const unsigned char *key, size_t len,
                                       size_t min_length,
                                       const struct fs_weak_list *wl);

/* "missing", "known value", "too short", "low variety", "ok". */
const char *fs_secret_verdict_name(enum fs_secret_verdict v);

#endif /* FS_SECRET_H */
