/*
 * fs_types.h -- the library's Python types, one set per interpreter.
 *
 * Every object the library hands to Python is an instance of a heap type
 * made from one of the PyType_Specs below (docs/design.md, "All of it in C").  Each
 * interpreter has its own set, owned by its state (fs_interp.h), made the
 * first time the library works in it.  No type can be instantiated from
 * Python, and each spec gets the library's tp_alloc (fs_interp.c), so a
 * spec lists only the type's own slots.
 *
 * fs_type() and fs_is_type() find the current interpreter's state with one
 * dict look-up: meant for import-time work (patching), not for the request
 * path, whose objects keep a reference to their state.
 */
#ifndef FS_TYPES_H
#define FS_TYPES_H

#include "fs_api.h"

enum fs_type_id {
    FS_T_LOADER,        /* fs_finder.c: the loader wrapper */
    FS_T_PATCH,         /* fs_patch.c: a patched callable */
    FS_T_APPSTATE,      /* fs_app.c: per-Flask-app bookkeeping */
    FS_T_INPUT,         /* fs_input.c: the bounded wsgi.input */
    FS_T_LIMIT,         /* fs_limits.c: a capped Request attribute */
    FS_T_FINDER,        /* fs_finder.c: the import finder */
    FS_T_PACKAGE,       /* fs_finder.c: a watched package's module type */
    FS_T_COUNT
};

extern PyType_Spec fs_loader_spec, fs_patch_spec, fs_appstate_spec,
    fs_input_spec, fs_limit_spec, fs_finder_spec, fs_package_spec;

/* Borrowed reference to the current interpreter's type (its state is made
 * on first use), or NULL with an exception set. */
PyObject *fs_type(enum fs_type_id id);

/* Is `o` an instance of the current interpreter's type `id`?  Compared by
 * type pointer; false when the interpreter has no state yet (then it has
 * no object of the library either).  Sets no exception. */
bool fs_is_type(PyObject *o, enum fs_type_id id);

#endif /* FS_TYPES_H */
