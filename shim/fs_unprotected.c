/*
 * fs_unprotected.c -- the one notice on a CPython the library cannot
 * protect because it has no audit hooks (PEP 578): 3.6 and 3.7.
 *
 * Without an audit hook the library cannot see Flask being imported, so it
 * patches nothing there; it must still not stay silent.  The library
 * defines PyImport_ImportModuleLevelObject, the function an `import`
 * statement ends in, in place of libpython's: where the interpreter's calls
 * into its libpython are bound at run time (pyenv's and python.org's shared
 * builds) they come here.  On an interpreter with audit hooks the function
 * only forwards to the real one (an indirect call, about ten instructions
 * an import statement; the first call also looks the real one up).  On one
 * without, it looks at the absolute name of each import statement until
 * the first that imports Flask (or a submodule of it), then writes one
 * `python.unsupported` line and only forwards.  A static python (Debian's /usr/bin/python3)
 * binds its own calls at link time: nothing passes here, and it has audit
 * hooks anyway.  The C API used here is looked up by name on the real
 * function's object, not through the library's table, which such an
 * interpreter cannot fill.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "fs_elf.h"
#include "fs_state.h"

typedef void *(*fs_import_fn)(void *, void *, void *, void *, int);
typedef const char *(*fs_utf8_fn)(void *, ssize_t *);
typedef void (*fs_clear_fn)(void);
typedef const char *(*fs_version_fn)(void);

enum { FS_WATCH_UNKNOWN, FS_WATCH_ON, FS_WATCH_OFF };

static _Atomic(fs_import_fn) fs_import_real;
static atomic_int fs_watch = FS_WATCH_UNKNOWN;
static fs_utf8_fn fs_as_utf8;
static fs_clear_fn fs_err_clear_raw;
static char fs_reason[64];

/* The real function, and whether to watch (first call; the GIL is held,
 * but a second interpreter thread of an embedder may race: every store is
 * of the same values). */
static fs_import_fn
fs_import_resolve(void)
{
    void *h = NULL;
    fs_import_fn real = (fs_import_fn)fs_real(
        "PyImport_ImportModuleLevelObject", &h);
    fs_version_fn version;
    int major, minor;

    if (real == NULL) {
        return NULL;
    }
    if (atomic_load(&fs_watch) == FS_WATCH_UNKNOWN) {
        fs_as_utf8 = (fs_utf8_fn)dlsym(h, "PyUnicode_AsUTF8AndSize");
        fs_err_clear_raw = (fs_clear_fn)dlsym(h, "PyErr_Clear");
        version = (fs_version_fn)dlsym(h, "Py_GetVersion");
        if (version == NULL || sscanf(version(), "%d.%d", &major, &minor) != 2) {
            major = minor = 0;
        }
        snprintf(fs_reason, sizeof(fs_reason),
                 "CPython %d.%d has no audit hooks (PEP 578)", major, minor);
        atomic_store(&fs_watch, dlsym(h, "PySys_AddAuditHook") == NULL
                                && fs_as_utf8 != NULL
                                && fs_err_clear_raw != NULL
                                ? FS_WATCH_ON : FS_WATCH_OFF);
    }
    atomic_store_explicit(&fs_import_real, real, memory_order_release);
    return real;
}

/* Is `name` (an import statement's absolute module name) Flask's? */
static int
fs_import_is_flask(void *name)
{
    ssize_t len = 0;
    const char *s = fs_as_utf8(name, &len);

    if (s == NULL) {
        fs_err_clear_raw();     /* not a str, or not encodable: not Flask */
        return 0;
    }
    return (len == 5 || (len > 5 && s[5] == '.'))
           && memcmp(s, "flask", 5) == 0;
}

FS_EXPORT void *
PyImport_ImportModuleLevelObject(void *name, void *globals, void *locals,
                                 void *fromlist, int level)
{
    fs_import_fn real = atomic_load_explicit(&fs_import_real,
                                             memory_order_acquire);
    void *module;
    int flask;

    if (real == NULL && (real = fs_import_resolve()) == NULL) {
        return NULL;            /* no libpython loaded: cannot be called */
    }
    if (atomic_load_explicit(&fs_watch, memory_order_relaxed) != FS_WATCH_ON) {
        return real(name, globals, locals, fromlist, level);
    }
    flask = level == 0 && name != NULL && fs_import_is_flask(name);
    module = real(name, globals, locals, fromlist, level);
    if (flask && module != NULL
        && atomic_exchange(&fs_watch, FS_WATCH_OFF) == FS_WATCH_ON) {
        fs_note_unsupported(fs_reason);
    }
    return module;
}
