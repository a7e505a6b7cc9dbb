/*
 * fs_modname.c -- matching module names (see fs_modname.h).
 *
 * The audit hook runs these for every import of every Python process, on a
 * name that Python code chose (`__import__("flask\0")` is legal and
 * reaches the hook with its NUL), so they take a length, never trust a
 * terminator in `name`, and look at each watched entry only as far as its
 * own NUL.
 */
#include "fs_modname.h"

#include <string.h>

bool
fs_modname_spells(const char *entry, const char *name, size_t len,
                  bool dot_ends)
{
    return strnlen(entry, len) == len && memcmp(entry, name, len) == 0
           && (entry[len] == '\0' || (dot_ends && entry[len] == '.'));
}

size_t
fs_modname_top(const char *name, size_t len)
{
    const char *dot = memchr(name, '.', len);

    return dot != NULL ? (size_t)(dot - name) : len;
}
