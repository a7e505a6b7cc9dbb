/*
 * fs_finder.c -- the import finder and the loader wrapper.
 *
 * For a watched module (fs_registry.h) the finder asks the rest of
 * sys.meta_path for the real spec, replaces spec.loader by a
 * `flaskshield.Loader` that delegates to the real loader, and returns it.
 * After the real exec_module() has run, the wrapper puts the real loader
 * back on the module (so __loader__ and __spec__.loader look as without the
 * library) and runs the module's callback.  For every other name find_spec
 * returns None after a one-byte test and a short table scan.
 *
 * The finder is a heap type made per interpreter from a PyType_Spec, and
 * owns that interpreter's other types (fs_types.h).  Callbacks never raise into the import:
 * a failure is logged once as `patch.failed` and cleared.  A module whose
 * callback ran carries `__flaskshield__ = True`, so a finder installed
 * again (after someone removed it from sys.meta_path) does not re-run it.
 */
#include "fs_finder.h"

#include <string.h>

#include "fs_log.h"
#include "fs_module.h"
#include "fs_registry.h"
#include "fs_state.h"
#include "fs_types.h"

#define FS_FINDER_NAME "flaskshield.Finder"

typedef struct {
    PyObject_HEAD
    PyObject *types[FS_T_COUNT];    /* this interpreter's types */
} fs_finder;

typedef struct {
    PyObject_HEAD
    PyObject *orig;                 /* the real loader */
    const struct fs_hook *hook;
} fs_loader;

/* Run a module's callback, log and clear a failure. */
static void
fs_run_hook(const struct fs_hook *hook, PyObject *module)
{
    PyObject *t, *v, *tb;

    fs_activate();
    if (PyObject_SetAttrString(module, "__flaskshield__", FS_True) < 0) {
        PyErr_Clear();
    }
    if (hook->patch == NULL) {
        return;
    }
    fs_registry_runs[hook - fs_registry]++;
    if (hook->patch(module) == 0) {
        return;
    }
    PyErr_Fetch(&t, &v, &tb);
    {
        struct fs_logline l;
        PyObject *s = v != NULL ? PyObject_Str(v) : NULL;
        const char *msg = s != NULL ? PyUnicode_AsUTF8AndSize(s, NULL) : NULL;

        if (msg == NULL) {
            PyErr_Clear();
        }
        fs_log_begin(&l, FS_ERROR, "patch.failed", NULL, fs_global_mode());
        fs_log_str(&l, "module", hook->module);
        fs_log_str(&l, "error", msg);
        fs_log_str(&l, "effect", "module left unpatched");
        fs_log_end(&l);
        FS_XDECREF(s);
    }
    FS_XDECREF(t);
    FS_XDECREF(v);
    FS_XDECREF(tb);
}

/* ---- flaskshield.Loader ------------------------------------------------ */

static void
fs_loader_dealloc(PyObject *self)
{
    FS_XDECREF(((fs_loader *)self)->orig);
    fs_object_free(self);
}

static PyObject *
fs_loader_getattro(PyObject *self, PyObject *name)
{
    return fs_getattr_or(self, name, ((fs_loader *)self)->orig);
}

static PyObject *
fs_loader_create_module(PyObject *self, PyObject *spec)
{
    PyObject *orig = ((fs_loader *)self)->orig;

    if (!PyObject_HasAttrString(orig, "create_module")) {
        FS_RETURN_NONE;
    }
    return PyObject_CallMethod(orig, "create_module", "O", spec);
}

/* Put the real loader back where importlib left the wrapper. */
static void
fs_loader_restore(PyObject *self, PyObject *module)
{
    PyObject *orig = ((fs_loader *)self)->orig;
    PyObject *spec;

    if (PyObject_SetAttrString(module, "__loader__", orig) < 0) {
        PyErr_Clear();
    }
    spec = PyObject_GetAttrString(module, "__spec__");
    if (spec == NULL || PyObject_SetAttrString(spec, "loader", orig) < 0) {
        PyErr_Clear();
    }
    FS_XDECREF(spec);
}

static PyObject *
fs_loader_exec_module(PyObject *self, PyObject *module)
{
    PyObject *r = PyObject_CallMethod(((fs_loader *)self)->orig,
                                      "exec_module", "O", module);

    if (r == NULL) {
        return NULL;            /* the module's own error, as without us */
    }
    FS_DECREF(r);
    fs_loader_restore(self, module);
    fs_run_hook(((fs_loader *)self)->hook, module);
    FS_RETURN_NONE;
}

static PyMethodDef fs_loader_methods[] = {
    {"create_module", fs_loader_create_module, METH_O, NULL},
    {"exec_module", fs_loader_exec_module, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot fs_loader_slots[] = {
    {Py_tp_dealloc, (void *)fs_loader_dealloc},
    {Py_tp_new, (void *)fs_object_refuse_new},
    {Py_tp_getattro, (void *)fs_loader_getattro},
    {Py_tp_methods, fs_loader_methods},
    {0, NULL},
};

PyType_Spec fs_loader_spec = {
    "flaskshield.Loader", sizeof(fs_loader), 0, Py_TPFLAGS_DEFAULT,
    fs_loader_slots,
};

/* ---- flaskshield.Finder ------------------------------------------------ */

static void
fs_finder_dealloc(PyObject *self)
{
    int i;

    for (i = 0; i < FS_T_COUNT; i++) {
        FS_XDECREF(((fs_finder *)self)->types[i]);
    }
    fs_object_free(self);
}

static bool
fs_is_finder(PyObject *o)
{
    return Py_TYPE(o)->tp_dealloc == fs_finder_dealloc;
}

PyObject *
fs_type(enum fs_type_id id)
{
    PyObject *meta_path = PySys_GetObject("meta_path");
    Py_ssize_t i;

    for (i = 0; meta_path != NULL && i < PyList_Size(meta_path); i++) {
        PyObject *f = PyList_GetItem(meta_path, i);
        if (f != NULL && fs_is_finder(f)) {
            return ((fs_finder *)f)->types[id];
        }
    }
    PyErr_SetString(FS_ExcRuntimeError, "flaskshield finder not installed");
    return NULL;
}

/* The spec the rest of sys.meta_path gives for `name`, or None. */
static PyObject *
fs_find_real_spec(PyObject *self, PyObject *args)
{
    PyObject *meta_path = PySys_GetObject("meta_path");   /* borrowed */
    Py_ssize_t i;

    if (meta_path == NULL || !fs_is_list(meta_path)) {
        FS_RETURN_NONE;
    }
    for (i = 0; i < PyList_Size(meta_path); i++) {
        PyObject *f = PyList_GetItem(meta_path, i);
        PyObject *find, *spec;

        if (f == self) {
            continue;
        }
        FS_INCREF(f);
        find = PyObject_GetAttrString(f, "find_spec");
        FS_DECREF(f);
        if (find == NULL) {
            PyErr_Clear();
            continue;
        }
        spec = PyObject_CallObject(find, args);
        FS_DECREF(find);
        if (spec != FS_None) {
            return spec;        /* a spec, or NULL with the error */
        }
        FS_DECREF(spec);
    }
    FS_RETURN_NONE;
}

static PyObject *
fs_builtin_spec(PyObject *self, PyObject *name)
{
    PyObject *modules = PySys_GetObject("modules");
    PyObject *bootstrap, *module_spec, *spec;

    bootstrap = modules != NULL
                ? PyDict_GetItemString(modules, "_frozen_importlib") : NULL;
    if (bootstrap == NULL) {
        FS_RETURN_NONE;
    }
    module_spec = PyObject_GetAttrString(bootstrap, "ModuleSpec");
    if (module_spec == NULL) {
        return NULL;
    }
    spec = PyObject_CallFunctionObjArgs(module_spec, name, self, NULL);
    FS_DECREF(module_spec);
    return spec;
}

/* find_spec(fullname, path, target=None) */
static PyObject *
fs_finder_find_spec(PyObject *self, PyObject *args)
{
    PyObject *fullname, *spec, *loader, *wrapper;
    const struct fs_hook *hook;
    const char *name;
    Py_ssize_t len;

    if (PyTuple_Size(args) < 1) {
        PyErr_SetString(FS_ExcTypeError, "find_spec() needs a name");
        return NULL;
    }
    fullname = PyTuple_GetItem(args, 0);
    name = fs_is_str(fullname) ? PyUnicode_AsUTF8AndSize(fullname, &len)
                               : NULL;
    if (name == NULL) {
        PyErr_Clear();
        FS_RETURN_NONE;
    }
    hook = fs_registry_find(name, len);
    if (hook == NULL) {
        if (strcmp(name, "flaskshield") == 0) {
            return fs_builtin_spec(self, fullname);
        }
        FS_RETURN_NONE;
    }
    spec = fs_find_real_spec(self, args);
    if (spec == NULL || spec == FS_None) {
        return spec;
    }
    loader = PyObject_GetAttrString(spec, "loader");
    if (loader == NULL) {
        PyErr_Clear();
        return spec;
    }
    if (loader == FS_None || !PyObject_HasAttrString(loader, "exec_module")) {
        FS_DECREF(loader);
        return spec;            /* nothing we can wrap: leave it alone */
    }
    wrapper = fs_object_new(((fs_finder *)self)->types[FS_T_LOADER]);
    if (wrapper == NULL) {
        PyErr_Clear();
        FS_DECREF(loader);
        return spec;
    }
    ((fs_loader *)wrapper)->orig = loader;          /* steals */
    ((fs_loader *)wrapper)->hook = hook;
    if (PyObject_SetAttrString(spec, "loader", wrapper) < 0) {
        PyErr_Clear();
    }
    FS_DECREF(wrapper);
    return spec;
}

/* The finder is also the loader of the built-in `flaskshield` module. */
static PyObject *
fs_finder_create_module(PyObject *self, PyObject *spec)
{
    (void)self;
    (void)spec;
    return fs_module_create();
}

static PyObject *
fs_finder_exec_module(PyObject *self, PyObject *module)
{
    (void)self;
    (void)module;
    FS_RETURN_NONE;
}

static PyMethodDef fs_finder_methods[] = {
    {"find_spec", fs_finder_find_spec, METH_VARARGS, NULL},
    {"create_module", fs_finder_create_module, METH_O, NULL},
    {"exec_module", fs_finder_exec_module, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot fs_finder_slots[] = {
    {Py_tp_dealloc, (void *)fs_finder_dealloc},
    {Py_tp_new, (void *)fs_object_refuse_new},
    {Py_tp_methods, fs_finder_methods},
    {0, NULL},
};

static PyType_Spec fs_finder_spec = {
    FS_FINDER_NAME, sizeof(fs_finder), 0, Py_TPFLAGS_DEFAULT,
    fs_finder_slots,
};

static PyObject *
fs_finder_new(void)
{
    static PyType_Spec *const specs[FS_T_COUNT] = {
        [FS_T_LOADER] = &fs_loader_spec,
        [FS_T_PATCH] = &fs_patch_spec,
        [FS_T_APPSTATE] = &fs_appstate_spec,
        [FS_T_INPUT] = &fs_input_spec,
        [FS_T_LIMIT] = &fs_limit_spec,
    };
    PyObject *finder_type, *finder;
    int i;

    finder_type = PyType_FromSpec(&fs_finder_spec);
    if (finder_type == NULL) {
        return NULL;
    }
    finder = fs_object_new(finder_type);
    FS_DECREF(finder_type);
    if (finder == NULL) {
        return NULL;
    }
    for (i = 0; i < FS_T_COUNT; i++) {
        ((fs_finder *)finder)->types[i] = PyType_FromSpec(specs[i]);
        if (((fs_finder *)finder)->types[i] == NULL) {
            FS_DECREF(finder);
            return NULL;
        }
    }
    return finder;
}

/* Callbacks for watched modules imported before the finder arrived. */
static void
fs_run_hooks_for_loaded(void)
{
    PyObject *modules = PySys_GetObject("modules");
    size_t i;

    if (modules == NULL || !fs_is_dict(modules)) {
        return;
    }
    for (i = 0; i < fs_registry_count; i++) {
        PyObject *m = PyDict_GetItemString(modules, fs_registry[i].module);
        PyObject *mark;

        if (m == NULL) {
            continue;
        }
        FS_INCREF(m);
        mark = PyObject_GetAttrString(m, "__flaskshield__");
        if (mark == NULL) {
            PyErr_Clear();
            fs_run_hook(&fs_registry[i], m);
        }
        FS_XDECREF(mark);
        FS_DECREF(m);
    }
}

/* Were Flask or Werkzeug imported before the library attached? */
static bool
fs_watched_loaded(void)
{
    PyObject *modules = PySys_GetObject("modules");

    return modules != NULL
           && (PyDict_GetItemString(modules, "flask") != NULL
               || PyDict_GetItemString(modules, "werkzeug") != NULL);
}

void
fs_finder_on_import(PyObject *audit_args)
{
    static bool busy, scanned;
    PyObject *meta_path, *finder, *t, *v, *tb;
    Py_ssize_t i, n;

    if (busy || !Py_IsInitialized() || PyTuple_Size(audit_args) < 4) {
        return;
    }
    /* Most imports stop here, with nothing but the core table used.  Once
     * per process, sys.modules is looked at too, for a Flask that came
     * before the library. */
    if (!fs_registry_watches(PyTuple_GetItem(audit_args, 0))
        && (scanned || !fs_watched_loaded())) {
        scanned = true;
        return;
    }
    scanned = true;
    if (!fs_api_full()) {
        return;
    }
    meta_path = PyTuple_GetItem(audit_args, 3);
    if (meta_path == NULL || !fs_is_list(meta_path)) {
        PyErr_Clear();
        return;
    }
    n = PyList_Size(meta_path);
    for (i = 0; i < n; i++) {
        if (fs_is_finder(PyList_GetItem(meta_path, i))) {
            return;
        }
    }
    busy = true;
    PyErr_Fetch(&t, &v, &tb);
    finder = fs_finder_new();
    if (finder != NULL && PyList_Insert(meta_path, 0, finder) == 0) {
        fs_run_hooks_for_loaded();
    }
    FS_XDECREF(finder);
    PyErr_Clear();
    PyErr_Restore(t, v, tb);
    busy = false;
}
