/*
 * fs_dropin.h -- the drop-in directory of a policy file.
 *
 * Beside a policy file NAME.conf, the folder NAME.d/ (FILE.d/ for a FILE
 * not ending in ".conf") may hold drop-ins: every entry whose name ends in
 * ".conf" and does not start with '.' is one, read in byte order (C
 * locale) after the file; other entries are ignored (a Kubernetes
 * ConfigMap's ..data and ..TIMESTAMP entries among them).  A missing folder
 * is no drop-in at all; a drop-in entry that is not a regular file once
 * symlinks are followed is an error naming it.  The files themselves are
 * read later with the checks of fs_file.h, like the policy file.
 */
#ifndef FS_DROPIN_H
#define FS_DROPIN_H

#include <stdbool.h>
#include <stddef.h>

#include "fs_diag.h"

/* Most drop-ins one folder may hold. */
#define FS_DROPIN_MAX 256

/* The drop-in folder of policy_path ("NAME.d" for "NAME.conf", else
 * "FILE.d"); a heap string, NULL when out of memory. */
char *fs_dropin_dir(const char *policy_path);

/* The drop-in files of dir, as heap paths "dir/ENTRY" in byte order of the
 * entry names (*paths, *count; free with fs_dropin_free()).  Returns 0,
 * also when dir does not exist (*missing set; may be NULL).  On a problem
 * adds "PATH:0: reason" messages to d under key and returns -1; *paths
 * then still lists the good entries. */
int fs_dropin_list(const char *dir, char ***paths, size_t *count,
                   bool *missing, struct fs_diag *d, size_t key);

void fs_dropin_free(char **list, size_t count);

#endif /* FS_DROPIN_H */
