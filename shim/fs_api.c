/*
 * fs_api.c -- filling the C-API table (see fs_api.h).
 *
 * In the manner of sqlite's aSyscall[]: one table of every interpreter
 * function the library calls, resolved with dlsym(): the core when the
 * library attaches, the rest at the first import of a watched module.  A
 * missing symbol leaves the library inert in that process; nothing here
 * prints or allocates.
 */
#define FS_API_TABLE_ONLY
#include "fs_api.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fs_elf.h"

struct fs_api fs_api;
static void *fs_api_handle;
/* Set after their part of the table is stored (atomic: read without the
 * lock by every thread that asks whether the table is ready). */
static atomic_bool fs_api_core_ok, fs_api_full_ok;
static bool fs_api_gil_disabled;
bool fs_api_dict_versions;

/* Functions an older CPython exports under another name, with the same
 * signature: 3.8 has _PyInterpreterState_Get, 3.9 on PyInterpreterState_Get
 * (3.8 to 3.13 all have every other entry of the table under its own name:
 * tests/integration/test_interpreters.py checks each interpreter). */
static const char *const fs_api_aliases[][2] = {
    {"PyInterpreterState_Get", "_PyInterpreterState_Get"},
};
#define FS_API_NALIASES (sizeof(fs_api_aliases) / sizeof(fs_api_aliases[0]))

static void *
fs_api_sym(void *handle, const char *name)
{
    void *p = dlsym(handle, name);
    size_t i;

    for (i = 0; p == NULL && i < FS_API_NALIASES; i++) {
        if (strcmp(fs_api_aliases[i][0], name) == 0) {
            p = dlsym(handle, fs_api_aliases[i][1]);
        }
    }
    return p;
}

#define FS_API_LOOKUP(ret, name, params)                                    \
    *(void **)&t.name = fs_api_sym(handle, #name);                          \
    if (t.name == NULL) {                                                   \
        return false;                                                       \
    }
#define FS_API_DATA_LOOKUP(type, name)                                      \
    t.name = (type *)dlsym(handle, #name);                                  \
    if (t.name == NULL) {                                                   \
        return false;                                                       \
    }

/* Resolved entries are stored one by one, and only the part just looked
 * up: an entry another thread may be calling is never rewritten. */
#define FS_API_PUBLISH(ret, name, params) fs_api.name = t.name;
#define FS_API_DATA_PUBLISH(type, name) fs_api.name = t.name;

bool
fs_api_resolve(void *handle)
{
    struct fs_api t;

    memset(&t, 0, sizeof(t));
    FS_API_CORE(FS_API_LOOKUP)
    FS_API_CORE(FS_API_PUBLISH)
    fs_api_handle = handle;
    /* reference counting of a free-threaded build: the ELF probe, which
     * costs a few dozen instructions per loaded object where dlsym() would
     * fail expensively in every other Python process */
    fs_api_gil_disabled = fs_symbol_where("_Py_DecRefShared") != FS_NOWHERE;
    fs_api_core_ok = true;
    return true;
}

bool
fs_api_ready(void)
{
    return fs_api_core_ok;
}

bool
fs_api_free_threaded(void)
{
    return fs_api_gil_disabled;
}

long
fs_api_version(void)
{
    const char *v = fs_api.Py_GetVersion();
    char *end;
    long major = strtol(v, &end, 10);
    long minor = *end == '.' ? strtol(end + 1, NULL, 10) : 0;

    return major * 100 + minor;
}

bool
fs_api_full(void)
{
    struct fs_api t;
    void *handle = fs_api_handle;
    long version;

    if (fs_api_full_ok || !fs_api_core_ok) {
        return fs_api_full_ok;
    }
    memset(&t, 0, sizeof(t));
    FS_API_FUNCS(FS_API_LOOKUP)
    FS_API_DATA(FS_API_DATA_LOOKUP)
    FS_API_FUNCS(FS_API_PUBLISH)
    FS_API_DATA(FS_API_DATA_PUBLISH)
    /* 3.12 and 3.13 keep the tag, deprecated, beside the watcher bits in
     * its low bits; 3.14 drops it */
    version = fs_api_version();
    fs_api_dict_versions = !fs_api_gil_disabled && version >= 308
                           && version <= 313;
    fs_api_full_ok = true;
    return true;
}

void
fs_object_free(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    freefunc tp_free = (freefunc)fs_api.PyType_GetSlot(tp, Py_tp_free);

    if (tp_free != NULL) {
        tp_free(self);
    }
    else {
        fs_api.PyObject_Free(self);
    }
    fs_api.Py_DecRef((PyObject *)tp);
}

bool
fs_err_ordinary(void)
{
    return fs_api.PyErr_ExceptionMatches(*fs_api.PyExc_Exception)
           && !fs_api.PyErr_ExceptionMatches(*fs_api.PyExc_MemoryError)
           && !fs_api.PyErr_ExceptionMatches(*fs_api.PyExc_RecursionError);
}

bool
fs_err_clear(void)
{
    if (fs_api.PyErr_Occurred() == NULL) {
        return true;
    }
    if (fs_err_ordinary()) {
        fs_api.PyErr_Clear();
        return true;
    }
    return false;
}

int
fs_hasattr(PyObject *o, const char *name)
{
    PyObject *v = fs_api.PyObject_GetAttrString(o, name);

    if (v != NULL) {
        fs_api.Py_DecRef(v);
        return 1;
    }
    if (fs_api.PyErr_ExceptionMatches(*fs_api.PyExc_AttributeError)) {
        fs_api.PyErr_Clear();
        return 0;
    }
    return -1;
}

/* The `nitems` by which fs_object_alloc() knows the library's own calls:
 * CPython allocates instances of a type without items with 0
 * (object.__new__), never with a negative count. */
#define FS_OWN_ALLOC PY_SSIZE_T_MIN

PyObject *
fs_object_new(PyObject *type)
{
    allocfunc alloc = (allocfunc)fs_api.PyType_GetSlot((PyTypeObject *)type,
                                                       Py_tp_alloc);

    if (alloc != fs_object_alloc) {
        fs_api.PyErr_SetString(*fs_api.PyExc_TypeError,
                               "flaskshield: not a library type");
        return NULL;
    }
    return alloc((PyTypeObject *)type, FS_OWN_ALLOC);
}

PyObject *
fs_object_alloc(PyTypeObject *type, Py_ssize_t nitems)
{
    if (nitems != FS_OWN_ALLOC) {
        return fs_object_refuse_new(type, NULL, NULL);
    }
    return fs_api.PyType_GenericAlloc(type, 0);
}

PyObject *
fs_object_refuse_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)args;
    (void)kwargs;
    fs_api.PyErr_Format(*fs_api.PyExc_TypeError,
                        "cannot create '%s' instances", type->tp_name);
    return NULL;
}

PyObject *
fs_getattr_or(PyObject *self, PyObject *name, PyObject *inner)
{
    PyObject *r = fs_api.PyObject_GenericGetAttr(self, name);

    if (r == NULL && inner != NULL
        && fs_api.PyErr_ExceptionMatches(*fs_api.PyExc_AttributeError)) {
        fs_api.PyErr_Clear();
        r = fs_api.PyObject_GetAttr(inner, name);
    }
    return r;
}
