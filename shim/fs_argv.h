/*
 * fs_argv.h -- CPython's choice of memory allocator, predicted from its
 * command line and environment (see fs_argv.c).  No Python headers: the
 * C unit tests and a fuzz target build it alone.
 */
#ifndef FS_ARGV_H
#define FS_ARGV_H

#include <stdbool.h>
#include <wchar.h>

/* getenv(), or a stand-in for tests. */
typedef const char *(*fs_getenv_fn)(const char *name);

/* Will a python executable started as argv[0..argc-1] (argv may end early
 * at a NULL) with this environment initialize with the debug memory
 * allocator?  debug_build: the interpreter is a Py_DEBUG build, whose
 * default allocator is the debug one. */
bool fs_argv_debug_allocator(int argc, char *const *argv,
                             fs_getenv_fn getenv_fn, bool debug_build);

/* The same for the wide-character argv that Py_Main() parses: 1 or 0, or
 * -1 when no memory was left for the copy (then there is no prediction). */
int fs_argv_debug_allocator_wide(int argc, wchar_t *const *argv,
                                 fs_getenv_fn getenv_fn, bool debug_build);

#endif /* FS_ARGV_H */
