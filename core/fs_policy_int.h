/*
 * fs_policy_int.h -- policy functions shared inside flaskshield but not part
 * of the interface of fs_policy.h: the loader's entry for a buffer (used by
 * fs_policy_load() and the fuzz target), resolution from a given system
 * path (used by fs_policy_resolve() and the unit tests), app matching, pin
 * helpers, and the documented writer behind etc/policy.conf.
 */
#ifndef FS_POLICY_INT_H
#define FS_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs_policy.h"

/* Load a policy from memory.  name is used in messages and is the folder
 * base for relative @include paths; st is the fstat() of the file the data
 * came from (for include-cycle detection) or NULL.  Same contract as
 * fs_policy_load(); errs (may be NULL) is appended to. */
int fs_policy_load_buffer(const char *name, const char *data, size_t len,
                          const struct stat *st, struct fs_policy **out,
                          struct fs_policy_errors *errs);

/* fs_policy_load() that appends to errs and tells (*missing, may be NULL)
 * whether the file did not exist. */
int fs_policy_load_file(const char *path, struct fs_policy **out,
                        struct fs_policy_errors *errs, bool *missing);

/* fs_policy_resolve() with system_path in place of FS_DEFAULT_POLICY_PATH. */
int fs_policy_resolve_from(const char *system_path, struct fs_policy **out,
                           const char **path_used,
                           struct fs_policy_errors *errs);

/* Does the apps pattern match import_name?  "pkg.*" matches "pkg" and
 * "pkg.anything"; any other pattern matches itself only. */
bool fs_app_match(const char *pattern, const char *import_name);

/* Deep copy of settings (pins and strings included); 0 or -1 (out of
 * memory). */
int fs_app_settings_copy(struct fs_app_settings *dst,
                         const struct fs_app_settings *src);
void fs_app_settings_clear(struct fs_app_settings *s);

/* Set key to the value of pin (replacing an existing key in place, else
 * appending); pin's strings are copied.  0 or -1 (out of memory). */
int fs_pin_set(struct fs_app_settings *s, const struct fs_pin *pin);

bool fs_pin_equal(const struct fs_pin *a, const struct fs_pin *b);

/* Writer flags for fs_policy_write_ex(). */
#define FS_WRITE_DOC 0x01       /* documentation comments from fs_schema */
#define FS_WRITE_ORIGIN 0x02    /* where each setting was set (a comment) */

int fs_policy_write_ex(FILE *f, const struct fs_policy *p, const char *app,
                       unsigned flags);

#endif /* FS_POLICY_INT_H */
