/*
 * fs_registry.c -- the table of watched modules (see fs_registry.h).
 *
 * Add a patch by adding its module and callback here.  `_flaskshield_probe`
 * is the library's self-test: its callback records that it ran (and
 * `_flaskshield_probe_fail`'s always fails), which lets `flaskshield doctor`
 * and the tests prove that the finder works in a given interpreter.
 */
#include "fs_registry.h"
#include "fs_patches.h"

#include <string.h>

#include "fs_modname.h"

static int
fs_probe_ok(PyObject *module)
{
    PyObject *runs = PyObject_GetAttrString(module, "flaskshield_runs");
    long long n = 0;
    PyObject *v;
    int rc;

    if (runs == NULL) {
        PyErr_Clear();
    }
    else {
        n = PyLong_AsLongLong(runs);
        FS_DECREF(runs);
        if (n == -1 && PyErr_Occurred()) {
            return -1;
        }
    }
    v = PyLong_FromLongLong(n + 1);
    if (v == NULL) {
        return -1;
    }
    rc = PyObject_SetAttrString(module, "flaskshield_runs", v);
    FS_DECREF(v);
    return rc;
}

static int
fs_probe_fail(PyObject *module)
{
    (void)module;
    PyErr_SetString(FS_ExcRuntimeError, "self-test failure");
    return -1;
}

const struct fs_hook fs_registry[] = {
    {"flask", NULL},
    {"werkzeug", NULL},
    {"_flaskshield_probe", fs_probe_ok},
    {"_flaskshield_probe.sub", fs_probe_ok},
    {"_flaskshield_probe_fail", fs_probe_fail},
    FS_PATCH_HOOKS
};

const size_t fs_registry_count = sizeof(fs_registry) / sizeof(fs_registry[0]);
unsigned fs_registry_runs[sizeof(fs_registry) / sizeof(fs_registry[0])];

const struct fs_hook *
fs_registry_find(const char *name, Py_ssize_t len)
{
    size_t i;

    /* Every name starts with 'f', 'w' or '_': most imports stop here. */
    if (name[0] != 'f' && name[0] != 'w' && name[0] != '_') {
        return NULL;
    }
    for (i = 0; i < fs_registry_count; i++) {
        const char *m = fs_registry[i].module;
        if (fs_modname_spells(m, name, (size_t)len, false)) {
            return &fs_registry[i];
        }
    }
    return NULL;
}

bool
fs_registry_holds(const char *name, Py_ssize_t len)
{
    size_t i;

    for (i = 0; i < fs_registry_count; i++) {
        const char *m = fs_registry[i].module;
        if (fs_modname_spells(m, name, (size_t)len, true)
            && m[len] == '.') {
            return true;
        }
    }
    return false;
}

bool
fs_registry_watches(PyObject *fullname)
{
    const char *name;
    Py_ssize_t len;
    size_t top;
    size_t i;

    if (!fs_is_str(fullname)) {
        return false;
    }
    name = PyUnicode_AsUTF8AndSize(fullname, &len);
    if (name == NULL) {
        PyErr_Clear();
        return false;
    }
    if (name[0] != 'f' && name[0] != 'w' && name[0] != '_') {
        return false;
    }
    top = fs_modname_top(name, (size_t)len);
    if (top == 11 && strncmp(name, "flaskshield", 11) == 0) {
        return true;
    }
    for (i = 0; i < fs_registry_count; i++) {
        const char *m = fs_registry[i].module;
        if (fs_modname_spells(m, name, top, true)) {
            return true;
        }
    }
    return false;
}
