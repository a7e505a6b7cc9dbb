/*
 * fs_types.h -- the library's Python types, one set per interpreter.
 *
 * Every object the library hands to Python is an instance of a heap type
 * made from a PyType_Spec (DESIGN.md decision 10).  The set is created with
 * the interpreter's import finder and owned by it, so each sub-interpreter
 * has its own.  fs_type() finds the current interpreter's set through
 * sys.meta_path: meant for import-time work (patching), not for the request
 * path, which keeps what it needs in its own objects.
 */
#ifndef FS_TYPES_H
#define FS_TYPES_H

#include "fs_api.h"

enum fs_type_id {
    FS_T_LOADER,        /* fs_finder.c: the loader wrapper */
    FS_T_PATCH,         /* fs_patch.c: a patched callable */
    FS_T_APPSTATE,      /* fs_guard.c: per-Flask-app bookkeeping */
    FS_T_INPUT,         /* fs_input.c: the bounded wsgi.input */
    FS_T_LIMIT,         /* fs_limits.c: a capped Request attribute */
    FS_T_COUNT
};

extern PyType_Spec fs_loader_spec, fs_patch_spec, fs_appstate_spec,
    fs_input_spec, fs_limit_spec;

/* Borrowed reference to the current interpreter's type, or NULL (with an
 * exception set) when the finder is not installed. */
PyObject *fs_type(enum fs_type_id id);

#endif /* FS_TYPES_H */
