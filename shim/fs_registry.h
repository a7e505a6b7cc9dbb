/*
 * fs_registry.h -- the modules the library waits for, and what it does
 * when each has been imported.
 *
 * The finder (fs_finder.c) consults this table on every import; an entry
 * whose module has just executed gets its callback once, with the module
 * object.  A callback returns 0, or -1 with a Python exception set; the
 * finder logs the failure (`patch.failed`) and clears it, so a patch that
 * meets an unknown Flask version never breaks the application's import.
 * Every entry also activates the library (policy read, `activate` logged).
 */
#ifndef FS_REGISTRY_H
#define FS_REGISTRY_H

#include "fs_api.h"

typedef int (*fs_hook_fn)(PyObject *module);

struct fs_hook {
    const char *module;         /* fully qualified module name */
    fs_hook_fn patch;           /* NULL: activation only */
};

extern const struct fs_hook fs_registry[];
extern const size_t fs_registry_count;

/* The entry for `name`, or NULL.  Cheap: called for every import. */
const struct fs_hook *fs_registry_find(const char *name, Py_ssize_t len);

/* Is name[0..len) a package with a watched module under it (flask,
 * werkzeug, werkzeug.wrappers, _flaskshield_probe)? */
bool fs_registry_holds(const char *name, Py_ssize_t len);

/* Is `fullname` (the module an `import` event names) in a package the
 * library watches, or `flaskshield` itself?  Uses only the core of the
 * C-API table: called for every import of every Python process. */
bool fs_registry_watches(PyObject *fullname);

/* How many times each entry's callback has run in this process (indexed
 * like fs_registry). */
extern unsigned fs_registry_runs[];

#endif /* FS_REGISTRY_H */
