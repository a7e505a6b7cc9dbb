/*
 * fs_modname.h -- matching an imported module's name against a watched
 * one (see fs_modname.c).  No Python headers: the C unit tests and a fuzz
 * target build it alone.
 */
#ifndef FS_MODNAME_H
#define FS_MODNAME_H

#include <stdbool.h>
#include <stddef.h>

/* Do the first `len` bytes of `name` (which may hold NUL bytes: Python
 * names can) equal the first `len` characters of the C string `entry`,
 * with entry[len] being its end or, when `dot_ends` is true, a '.'?
 * `entry` is never read past its terminating NUL. */
bool fs_modname_spells(const char *entry, const char *name, size_t len,
                       bool dot_ends);

/* The length of the top-level package in name[0..len): up to the first
 * '.', or len. */
size_t fs_modname_top(const char *name, size_t len);

#endif /* FS_MODNAME_H */
