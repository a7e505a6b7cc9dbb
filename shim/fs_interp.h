/*
 * fs_interp.h -- the library's state in one interpreter.
 *
 * The process has one `fs_state` (fs_state.h: policy, activation); each
 * interpreter in it -- the main one and every sub-interpreter of mod_wsgi
 * or uWSGI -- has one `fs_interp`: its types (fs_types.h) and the interned
 * names the patched callables use on every call (fs_patch.h).  Objects made
 * from it (patches, the finder) hold a reference to it, so the request
 * path reaches it through a field, with no look-up.  See fs_interp.c for
 * where it lives and why.
 */
#ifndef FS_INTERP_H
#define FS_INTERP_H

#include "fs_api.h"
#include "fs_patch.h"
#include "fs_types.h"

struct fs_interp {
    PyObject_HEAD
    PyObject *types[FS_T_COUNT];    /* fs_types.h, by enum fs_type_id */
    PyObject *names[FS_N_COUNT];    /* interned fs_names, by enum fs_name */
    int finder;                     /* fs_finder.c: enum fs_finder_place */
};

/* The current interpreter's state, made on first use: a borrowed
 * reference (the interpreter keeps it until it is finalized; keep your own
 * reference to hold it longer), or NULL with an exception set.  Under the
 * GIL, at import time. */
struct fs_interp *fs_interp_get(void);

#endif /* FS_INTERP_H */
