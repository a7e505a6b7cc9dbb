/*
 * fs_weak_list.h -- the operator's list of weak keys (see fs_weak_list.c):
 * one key a line, tens of thousands of lines, loaded into a hash set for
 * constant-time look-up.
 */
#ifndef FS_WEAK_LIST_H
#define FS_WEAK_LIST_H

#include <stddef.h>

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

/* Is key[0..len) in the list, byte for byte? */
int fs_weak_list_contains(const struct fs_weak_list *wl,
                          const unsigned char *key, size_t len);

#endif /* FS_WEAK_LIST_H */
