/*
 * fs_module.c -- the `flaskshield` module (see fs_module.h).
 */
#include "fs_module.h"

#include <unistd.h>

#include "fs_registry.h"
#include "fs_state.h"
#include "fs_build.h"

/* d[key] = value, stealing value; false (exception set) on error. */
static bool
fs_set(PyObject *d, const char *key, PyObject *value)
{
    int rc;

    if (value == NULL) {
        return false;
    }
    rc = PyDict_SetItemString(d, key, value);
    FS_DECREF(value);
    return rc == 0;
}

static PyObject *
fs_str_or_none(const char *s)
{
    return s != NULL ? PyUnicode_FromString(s) : fs_new_ref(FS_None);
}

static PyObject *
fs_status_policy(void)
{
    PyObject *d = PyDict_New();
    const struct fs_policy *p = fs_state.policy;

    if (d == NULL) {
        return NULL;
    }
    if (!fs_set(d, "path", fs_str_or_none(fs_state.policy_path))
        || !fs_set(d, "from_file",
                   PyBool_FromLong(p != NULL && p->from_file))
        || !fs_set(d, "mode", fs_str_or_none(p != NULL ? fs_global_mode()
                                                        : NULL))
        || !fs_set(d, "digest", fs_str_or_none(p != NULL ? p->digest
                                                          : NULL))
        || !fs_set(d, "generation",
                   PyLong_FromLongLong((long long)fs_state.generation))) {
        FS_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *
fs_status_patches(void)
{
    PyObject *list = PyList_New(0);
    size_t i;

    for (i = 0; list != NULL && i < fs_state.npatches; i++) {
        PyObject *d = PyDict_New();
        bool ok = d != NULL
            && fs_set(d, "module",
                      PyUnicode_FromString(fs_state.patches[i].module))
            && fs_set(d, "target",
                      PyUnicode_FromString(fs_state.patches[i].target))
            && PyList_Append(list, d) == 0;
        FS_XDECREF(d);
        if (!ok) {
            FS_CLEAR(list);
        }
    }
    return list;
}

static PyObject *
fs_status_hooks(void)
{
    PyObject *d = PyDict_New();
    size_t i;

    for (i = 0; d != NULL && i < fs_registry_count; i++) {
        if (fs_registry[i].patch != NULL
            && !fs_set(d, fs_registry[i].module,
                       PyLong_FromLong((long)fs_registry_runs[i]))) {
            FS_CLEAR(d);
        }
    }
    return d;
}

static PyObject *
fs_status(PyObject *module, PyObject *unused)
{
    PyObject *d = PyDict_New();

    (void)module;
    (void)unused;
    if (d == NULL) {
        return NULL;
    }
    if (!fs_set(d, "version", PyUnicode_FromString(FS_VERSION))
        || !fs_set(d, "attach", fs_str_or_none(fs_state.attach))
        || !fs_set(d, "python", PyUnicode_FromString(Py_GetVersion()))
        || !fs_set(d, "pid", PyLong_FromLong((long)getpid()))
        || !fs_set(d, "activated", PyBool_FromLong(fs_state.activated))
        || !fs_set(d, "policy", fs_status_policy())
        || !fs_set(d, "patches", fs_status_patches())
        || !fs_set(d, "hooks", fs_status_hooks())) {
        FS_DECREF(d);
        return NULL;
    }
    return d;
}

static PyMethodDef fs_module_methods[] = {
    {"status", fs_status, METH_NOARGS,
     "status() -> dict: how flaskshield is attached and what it enforces."},
    {NULL, NULL, 0, NULL},
};

PyObject *
fs_module_create(void)
{
    PyObject *m = PyModule_New("flaskshield");
    PyObject *version = PyUnicode_FromString(FS_VERSION);
    int rc;

    if (m == NULL || version == NULL) {
        FS_XDECREF(m);
        FS_XDECREF(version);
        return NULL;
    }
    rc = PyModule_AddFunctions(m, fs_module_methods);
    if (rc == 0) {
        rc = PyObject_SetAttrString(m, "__version__", version);
    }
    FS_DECREF(version);
    if (rc < 0) {
        FS_DECREF(m);
        return NULL;
    }
    return m;
}
