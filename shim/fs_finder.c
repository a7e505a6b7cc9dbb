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
 * The finder and the loader are of the interpreter's types (fs_types.h);
 * the finder holds the interpreter's state (fs_interp.h).  Callbacks never
 * raise an ordinary exception into the import: a failure is logged once as
 * `patch.failed` and cleared.  What the library must not swallow
 * (fs_err_clear: KeyboardInterrupt, SystemExit, MemoryError), raised by
 * the application's code that a look-up runs, reaches the import as it
 * would without the library.  A module whose callback ran carries
 * `__flaskshield__ = True`, so a finder installed again (after someone
 * removed it from sys.meta_path) does not re-run it.
 *
 * Once Flask is imported the finder leaves sys.meta_path (issue 19: every
 * entry there costs every later import), removed from the list in place so
 * that a reference kept to it stays good.  The watched packages (flask,
 * werkzeug, werkzeug.wrappers) then become `flaskshield.Package`, a
 * ModuleType whose setattr runs the callback of a watched child: importlib
 * sets every submodule it loads on its parent, after the submodule ran,
 * whatever finder served it and however the import was asked for
 * (importlib.import_module raises no import event).  The watched modules
 * get the type too: importlib.reload() sets __spec__ on the module before
 * running it again, and the spec's loader is then wrapped as the finder
 * does.  `flaskshield`, which the finder serves, is imported before it
 * leaves.  It leaves only when nothing can be iterating sys.meta_path (the
 * interpreter has one thread, and the current one is done with finding
 * `flask` and is not inside another finder's find_spec) and every watched
 * package took the new type; a later import event of a watched top-level
 * package not loaded (sys.modules purged), or a Package's __class__ set to
 * another type, puts it back for good.
 */
#include "fs_finder.h"

#include <string.h>

#include "fs_interp.h"
#include "fs_log.h"
#include "fs_modname.h"
#include "fs_module.h"
#include "fs_patch.h"
#include "fs_registry.h"
#include "fs_state.h"
#include "fs_types.h"

typedef struct {
    PyObject_HEAD
    struct fs_interp *interp;       /* this interpreter's state (strong) */
} fs_finder;

typedef struct {
    PyObject_HEAD
    PyObject *orig;                 /* the real loader */
    const struct fs_hook *hook;
} fs_loader;

/* Where the finder is (struct fs_interp's `finder`). */
enum fs_finder_place {
    FS_FINDER_IN,       /* in sys.meta_path, or not installed yet */
    FS_FINDER_OUT,      /* left after Flask's import (fs_finder_leave) */
    FS_FINDER_KEPT      /* came back: stays for the rest of the process */
};

static int fs_finder_leave(void);
static int fs_finder_back(void);

/* Run a module's callback, log and clear an ordinary failure.  Returns -1
 * with the exception set when it is one to pass on (fs_err_clear). */
static int
fs_run_hook(const struct fs_hook *hook, PyObject *module)
{
    PyObject *t, *v, *tb;

    fs_activate();
    if (PyObject_SetAttrString(module, "__flaskshield__", FS_True) < 0
        && !fs_err_clear()) {
        return -1;
    }
    if (hook->patch == NULL) {
        return 0;
    }
    fs_registry_runs[hook - fs_registry]++;
    if (hook->patch(module) == 0) {
        return 0;
    }
    if (!fs_err_ordinary()) {
        return -1;
    }
    PyErr_Fetch(&t, &v, &tb);
    {
        struct fs_logline l;
        PyObject *s = v != NULL ? PyObject_Str(v) : NULL;
        const char *msg = s != NULL ? PyUnicode_AsUTF8AndSize(s, NULL) : NULL;

        if (msg == NULL && !fs_err_clear()) {
            FS_XDECREF(s);
            FS_XDECREF(t);
            FS_XDECREF(v);
            FS_XDECREF(tb);
            return -1;
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
    return 0;
}

/* A module's callback unless it has run on that module already.  -1 with
 * an exception to pass on. */
static int
fs_run_hook_once(const struct fs_hook *hook, PyObject *module)
{
    int marked = fs_hasattr(module, "__flaskshield__");

    if (marked == 0) {
        return fs_run_hook(hook, module);
    }
    return marked < 0 && !fs_err_clear() ? -1 : 0;
}

/* Callbacks for watched modules in sys.modules that missed them (imported
 * before the finder arrived, or loaded while it was out).  -1 with an
 * exception to pass on. */
static int
fs_run_hooks_for_loaded(void)
{
    PyObject *modules = PySys_GetObject("modules");
    size_t i;
    int rc = 0;

    if (modules == NULL || !fs_is_dict(modules)) {
        return 0;
    }
    for (i = 0; rc == 0 && i < fs_registry_count; i++) {
        PyObject *m = PyDict_GetItemString(modules, fs_registry[i].module);

        if (m == NULL) {
            continue;
        }
        FS_INCREF(m);
        rc = fs_run_hook_once(&fs_registry[i], m);
        FS_DECREF(m);
    }
    return rc;
}

/* `spec` (stolen) with its loader wrapped in a flaskshield.Loader that runs
 * `hook` after the module ran, or left alone when there is nothing to wrap
 * or it is wrapped already.  NULL with an exception to pass on. */
static PyObject *
fs_spec_wrap(struct fs_interp *interp, PyObject *spec,
             const struct fs_hook *hook)
{
    PyObject *loader, *wrapper;
    int has;

    loader = PyObject_GetAttrString(spec, "loader");
    has = loader == NULL ? -1
          : loader == FS_None
            || (PyObject *)Py_TYPE(loader) == interp->types[FS_T_LOADER] ? 0
          : fs_hasattr(loader, "exec_module");
    if (has <= 0) {
        FS_XDECREF(loader);
        if (fs_err_clear()) {
            return spec;        /* nothing we can wrap: leave it alone */
        }
        FS_DECREF(spec);
        return NULL;
    }
    wrapper = fs_object_new(interp->types[FS_T_LOADER]);
    if (wrapper == NULL) {
        FS_DECREF(loader);
        FS_DECREF(spec);
        return NULL;            /* out of memory */
    }
    ((fs_loader *)wrapper)->orig = loader;          /* steals */
    ((fs_loader *)wrapper)->hook = hook;
    if (PyObject_SetAttrString(spec, "loader", wrapper) < 0
        && !fs_err_clear()) {
        FS_CLEAR(spec);
    }
    FS_DECREF(wrapper);
    return spec;
}

/* ---- flaskshield.Package ----------------------------------------------- */

/* Make `module` a flaskshield.Package: 1 when it is one, 0 when it cannot
 * be (not a plain module, or the assignment failed), -1 with an exception
 * to pass on. */
static int
fs_package_catch(struct fs_interp *interp, PyObject *module)
{
    PyObject *type = interp->types[FS_T_PACKAGE];

    if ((PyObject *)Py_TYPE(module) == type) {
        return 1;
    }
    if (Py_TYPE(module) != fs_api.PyModule_Type) {
        return 0;
    }
    /* CPython allows __class__ between ModuleType and its subclasses that
     * add no field */
    if (PyObject_SetAttrString(module, "__class__", type) == 0) {
        return 1;
    }
    return fs_err_clear() ? 0 : -1;
}

/* `package`.`name` = `value`, a module: when it is the one sys.modules
 * holds under that name and a watched one or a package with watched
 * modules under it, its callback, the catch on it, and those of watched
 * modules loaded that missed theirs (as the finder does when it arrives).
 * -1 with an exception to pass on. */
static int
fs_package_child(PyObject *package, PyObject *name, PyObject *value)
{
    char full[64];
    PyObject *pname = PyObject_GetAttrString(package, "__name__");
    const char *p = pname != NULL && fs_is_str(pname)
                    ? PyUnicode_AsUTF8AndSize(pname, NULL) : NULL;
    const char *c = p != NULL && fs_is_str(name)
                    ? PyUnicode_AsUTF8AndSize(name, NULL) : NULL;
    const struct fs_hook *hook;
    struct fs_interp *interp;
    PyObject *modules;
    int len = c != NULL ? snprintf(full, sizeof(full), "%s.%s", p, c) : -1;
    int rc;

    FS_XDECREF(pname);
    if (len < 0 || (size_t)len >= sizeof(full)) {
        return fs_err_clear() ? 0 : -1;     /* none of ours */
    }
    hook = fs_registry_find(full, len);
    if (hook == NULL && !fs_registry_holds(full, len)) {
        return 0;
    }
    /* importlib sets the module it loaded, the one in sys.modules; any
     * other (a test's stub) is left alone */
    modules = PySys_GetObject("modules");
    if (modules == NULL || !fs_is_dict(modules)
        || PyDict_GetItemString(modules, full) != value) {
        return 0;
    }
    /* the callback first: a module of importlib.util.LazyLoader's is
     * loaded by it and only then a plain module that can take the catch */
    if (hook != NULL && fs_run_hook_once(hook, value) < 0) {
        return -1;
    }
    interp = fs_interp_get();
    rc = interp != NULL ? fs_package_catch(interp, value) : -1;
    if (rc < 0 && !fs_err_clear()) {
        return -1;
    }
    return fs_run_hooks_for_loaded();
}

/* `module`.__spec__ = `spec` on a watched module while the finder is out:
 * importlib.reload() does that with the spec it found, before it runs the
 * module again from spec.loader, so the loader gets wrapped as the finder
 * would have.  -1 with an exception to pass on. */
static int
fs_package_respec(PyObject *module, PyObject *spec)
{
    struct fs_interp *interp = fs_interp_get();
    PyObject *mname;
    const char *m;
    Py_ssize_t len;
    const struct fs_hook *hook;

    if (interp == NULL || interp->finder != FS_FINDER_OUT) {
        return interp == NULL && !fs_err_clear() ? -1 : 0;
    }
    mname = PyObject_GetAttrString(module, "__name__");
    m = mname != NULL && fs_is_str(mname)
        ? PyUnicode_AsUTF8AndSize(mname, &len) : NULL;
    hook = m != NULL ? fs_registry_find(m, len) : NULL;
    FS_XDECREF(mname);
    if (hook == NULL) {
        return fs_err_clear() ? 0 : -1;
    }
    spec = fs_spec_wrap(interp, fs_new_ref(spec), hook);
    FS_XDECREF(spec);
    return spec != NULL ? 0 : -1;
}

static int
fs_package_setattro(PyObject *self, PyObject *name, PyObject *value)
{
    const char *n = value != NULL && value != FS_None && fs_is_str(name)
                    ? PyUnicode_AsUTF8AndSize(name, NULL) : NULL;

    if (n == NULL && value != NULL && value != FS_None && fs_is_str(name)
        && !fs_err_clear()) {
        return -1;
    }
    if (n != NULL && strcmp(n, "__spec__") == 0
        && fs_package_respec(self, value) < 0) {
        return -1;
    }
    /* another type takes the catch away: nothing would see a submodule
     * loaded, so the finder comes back first */
    if (n != NULL && strcmp(n, "__class__") == 0
        && value != (PyObject *)Py_TYPE(self) && fs_finder_back() < 0) {
        return -1;
    }
    if (n != NULL && fs_is_module(value)
        && fs_package_child(self, name, value) < 0) {
        return -1;
    }
    return PyObject_GenericSetAttr(self, name, value);
}

static PyType_Slot fs_package_slots[] = {
    {Py_tp_base, NULL},         /* ModuleType (fs_interp.c) */
    {Py_tp_setattro, (void *)fs_package_setattro},
    {0, NULL},
};

/* No field of its own, nor a dealloc: CPython lets a module's __class__
 * change only to a type of the same layout and deallocator. */
PyType_Spec fs_package_spec = {
    "flaskshield.Package", 0, 0, Py_TPFLAGS_DEFAULT, fs_package_slots,
};

/* ---- flaskshield.Loader ------------------------------------------------ */

static void
fs_loader_dealloc(PyObject *self)
{
    FS_CLEAR(((fs_loader *)self)->orig);
    fs_object_free(self);
}

/* The real loader, or NULL with TypeError for a Loader without one (the
 * library never makes such a Loader). */
static PyObject *
fs_loader_orig(PyObject *self)
{
    fs_loader *l = (fs_loader *)self;

    if (l->orig == NULL || l->hook == NULL) {
        PyErr_SetString(FS_ExcTypeError, "flaskshield.Loader without target");
        return NULL;
    }
    return l->orig;
}

static PyObject *
fs_loader_getattro(PyObject *self, PyObject *name)
{
    return fs_getattr_or(self, name, ((fs_loader *)self)->orig);
}

static PyObject *
fs_loader_create_module(PyObject *self, PyObject *spec)
{
    PyObject *orig = fs_loader_orig(self);
    int has = orig != NULL ? fs_hasattr(orig, "create_module") : -1;

    if (has <= 0) {
        return has < 0 ? NULL : fs_new_ref(FS_None);
    }
    return PyObject_CallMethod(orig, "create_module", "O", spec);
}

/* Put the real loader back where importlib left the wrapper.  -1 with an
 * exception to pass on. */
static int
fs_loader_restore(PyObject *orig, PyObject *module)
{
    PyObject *spec;

    if (PyObject_SetAttrString(module, "__loader__", orig) < 0
        && !fs_err_clear()) {
        return -1;
    }
    spec = PyObject_GetAttrString(module, "__spec__");
    if ((spec == NULL || PyObject_SetAttrString(spec, "loader", orig) < 0)
        && !fs_err_clear()) {
        FS_XDECREF(spec);
        return -1;
    }
    FS_XDECREF(spec);
    return 0;
}

static PyObject *
fs_loader_exec_module(PyObject *self, PyObject *module)
{
    PyObject *orig = fs_loader_orig(self);
    PyObject *r = orig != NULL
        ? PyObject_CallMethod(orig, "exec_module", "O", module) : NULL;

    if (r == NULL) {
        return NULL;            /* the module's own error, as without us */
    }
    FS_DECREF(r);
    if (fs_loader_restore(orig, module) < 0
        || fs_run_hook(((fs_loader *)self)->hook, module) < 0) {
        return NULL;
    }
    /* `flask` has run (its package found: this thread is not iterating
     * sys.meta_path) */
    if (strcmp(((fs_loader *)self)->hook->module, "flask") == 0
        && fs_finder_leave() < 0) {
        return NULL;
    }
    FS_RETURN_NONE;
}

static PyMethodDef fs_loader_methods[] = {
    {"create_module", fs_loader_create_module, METH_O, NULL},
    {"exec_module", fs_loader_exec_module, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot fs_loader_slots[] = {
    {Py_tp_dealloc, (void *)fs_loader_dealloc},
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
    FS_CLEAR(((fs_finder *)self)->interp);
    fs_object_free(self);
}

/* The finders the Finder is asking for a name, in this thread.  A finder
 * it asks may ask the rest of sys.meta_path in turn (an instrumentation
 * hook that delegates "to every finder but itself" and wraps the loader):
 * that meets the Finder again, which then must not ask that finder again
 * for the same name, or the two ask each other until RecursionError fails
 * the import.  The entries hold references and live in a thread-local
 * table, not on the C stack: greenlets of one thread share that stack (a
 * suspended one's frames are copied away and the memory reused), so an
 * entry may outlive the order of calls and must never point into it.  An
 * entry another greenlet left behind is skipped, not read. */
#define FS_ASKING_MAX 8

struct fs_asking {
    PyObject *name;             /* strong, or NULL: a free entry */
    PyObject *finder;           /* strong, or NULL */
};

static _Thread_local struct fs_asking fs_asking[FS_ASKING_MAX];
static _Thread_local int fs_nasking;

/* Is an outer call of this thread asking `finder` for `name`? */
static bool
fs_asking_already(PyObject *name, PyObject *finder)
{
    int i;

    for (i = 0; i < fs_nasking; i++) {
        const struct fs_asking *a = &fs_asking[i];

        if (a->name != NULL && a->finder == finder) {
            int eq = a->name == name ? 1
                     : PyObject_RichCompareBool(a->name, name, Py_EQ);
            if (eq < 0) {
                PyErr_Clear();  /* two str: cannot fail but for memory */
            }
            if (eq > 0) {
                return true;
            }
        }
    }
    return false;
}

/* Note that this call asks `finder` (NULL: none) for the name of entry
 * `slot` (-1: no entry, the table was full). */
static void
fs_asking_set(int slot, PyObject *finder)
{
    PyObject *old;

    if (slot < 0) {
        return;
    }
    old = fs_asking[slot].finder;
    fs_asking[slot].finder = finder != NULL ? fs_new_ref(finder) : NULL;
    FS_XDECREF(old);
}

/* The spec the rest of sys.meta_path gives for `name`, or None. */
static PyObject *
fs_find_real_spec(PyObject *self, PyObject *args)
{
    PyObject *meta_path = PySys_GetObject("meta_path");   /* borrowed */
    PyObject *name = PyTuple_GetItem(args, 0);
    PyObject *spec = NULL;
    int saved = fs_nasking, slot = -1;
    Py_ssize_t i;

    if (meta_path == NULL || !fs_is_list(meta_path)) {
        FS_RETURN_NONE;
    }
    if (saved < FS_ASKING_MAX && fs_asking[saved].name == NULL) {
        slot = saved;
        fs_asking[slot].name = fs_new_ref(name);
        fs_nasking = saved + 1;
    }
    for (i = 0; i < PyList_Size(meta_path); i++) {
        PyObject *f = PyList_GetItem(meta_path, i);
        PyObject *find;

        if (f == self || fs_asking_already(name, f)) {
            continue;
        }
        FS_INCREF(f);
        find = PyObject_GetAttrString(f, "find_spec");
        if (find == NULL) {
            FS_DECREF(f);
            /* importlib skips a finder without find_spec, and only that */
            if (!PyErr_ExceptionMatches(FS_ExcAttributeError)) {
                break;          /* spec NULL: the error */
            }
            PyErr_Clear();
            continue;
        }
        fs_asking_set(slot, f);
        spec = PyObject_CallObject(find, args);
        fs_asking_set(slot, NULL);
        FS_DECREF(find);
        FS_DECREF(f);
        if (spec != FS_None) {
            break;              /* a spec, or NULL with the error */
        }
        FS_CLEAR(spec);
    }
    if (slot >= 0) {
        FS_CLEAR(fs_asking[slot].name);
        /* back to where this call found the table, less the entries
         * other greenlets freed meanwhile */
        fs_nasking = saved < fs_nasking ? saved : fs_nasking;
        while (fs_nasking > 0 && fs_asking[fs_nasking - 1].name == NULL) {
            fs_nasking--;
        }
    }
    if (spec == NULL && PyErr_Occurred() == NULL) {
        spec = fs_new_ref(FS_None);
    }
    return spec;
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

/* find_spec(fullname, path, target=None), the arguments by position. */
static PyObject *
fs_finder_find_spec_in(PyObject *self, PyObject *args)
{
    struct fs_interp *interp = ((fs_finder *)self)->interp;
    PyObject *fullname, *spec;
    const struct fs_hook *hook;
    const char *name;
    Py_ssize_t len;

    if (interp == NULL) {
        PyErr_SetString(FS_ExcTypeError, "flaskshield.Finder without state");
        return NULL;
    }
    fullname = PyTuple_GetItem(args, 0);
    name = fs_is_str(fullname) ? PyUnicode_AsUTF8AndSize(fullname, &len)
                               : NULL;
    if (name == NULL) {
        /* not a str, or one with a lone surrogate: none of ours */
        if (!fs_err_clear()) {
            return NULL;
        }
        FS_RETURN_NONE;
    }
    hook = fs_registry_find(name, len);
    if (hook == NULL) {
        /* by length: a name with a NUL byte in it is not ours */
        if (len == 11 && memcmp(name, "flaskshield", 11) == 0) {
            return fs_builtin_spec(self, fullname);
        }
        FS_RETURN_NONE;
    }
    spec = fs_find_real_spec(self, args);
    if (spec == NULL || spec == FS_None) {
        return spec;
    }
    return fs_spec_wrap(interp, spec, hook);
}

static const char *const fs_find_spec_params[] = {"fullname", "path",
                                                  "target"};

/* The arguments of a call of find_spec, by position or by name
 * (importlib.abc.MetaPathFinder's), by position up to the last one given
 * (a new tuple: the call for the rest of sys.meta_path), or NULL with a
 * TypeError.  The path may be left out, as PathFinder allows. */
static PyObject *
fs_find_spec_args(PyObject *args, PyObject *kwargs)
{
    Py_ssize_t i, n = PyTuple_Size(args);
    PyObject *pos, *kw, *r;

    if ((kwargs == NULL || PyDict_Size(kwargs) == 0) && n >= 1 && n <= 3) {
        return fs_new_ref(args);        /* importlib's call */
    }
    kw = fs_args_fit(args, kwargs, 0, fs_find_spec_params, 3, 1, &pos);
    if (kw == NULL) {
        if (PyErr_Occurred() == NULL) {
            PyErr_SetString(FS_ExcTypeError,
                            "find_spec() takes fullname, path=None and "
                            "target=None, by position or by name");
        }
        return NULL;
    }
    for (n = 3; n > 1; n--) {
        if (PyDict_GetItemString(kw, fs_find_spec_params[n - 1]) != NULL) {
            break;
        }
    }
    r = PyTuple_New(n);
    for (i = 0; r != NULL && i < n; i++) {
        PyObject *v = PyDict_GetItemString(kw, fs_find_spec_params[i]);
        if (PyTuple_SetItem(r, i, fs_new_ref(v != NULL ? v : FS_None)) < 0) {
            FS_CLEAR(r);
        }
    }
    FS_DECREF(pos);
    FS_DECREF(kw);
    return r;
}

static PyObject *
fs_finder_find_spec(PyObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *pos = fs_find_spec_args(args, kwargs);
    PyObject *r;

    if (pos == NULL) {
        return NULL;
    }
    r = fs_finder_find_spec_in(self, pos);
    FS_DECREF(pos);
    return r;
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
    {"find_spec", (PyCFunction)(void (*)(void))fs_finder_find_spec,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"create_module", fs_finder_create_module, METH_O, NULL},
    {"exec_module", fs_finder_exec_module, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot fs_finder_slots[] = {
    {Py_tp_dealloc, (void *)fs_finder_dealloc},
    {Py_tp_methods, fs_finder_methods},
    {0, NULL},
};

PyType_Spec fs_finder_spec = {
    "flaskshield.Finder", sizeof(fs_finder), 0, Py_TPFLAGS_DEFAULT,
    fs_finder_slots,
};

static PyObject *
fs_finder_new(struct fs_interp *interp)
{
    PyObject *finder = fs_object_new(interp->types[FS_T_FINDER]);

    if (finder != NULL) {
        ((fs_finder *)finder)->interp =
            (struct fs_interp *)fs_new_ref((PyObject *)interp);
    }
    return finder;
}

/* Where the interpreter's finder is in the list sys.meta_path, or -1. */
static Py_ssize_t
fs_finder_index(struct fs_interp *interp, PyObject *meta_path)
{
    PyTypeObject *finder_type = (PyTypeObject *)interp->types[FS_T_FINDER];
    Py_ssize_t i, n = PyList_Size(meta_path);

    for (i = 0; i < n; i++) {
        PyObject *f = PyList_GetItem(meta_path, i);
        if (f != NULL && Py_TYPE(f) == finder_type) {
            return i;
        }
    }
    return -1;
}

/* Do all watched packages loaded take the catch (fs_package_catch)?  The
 * watched modules loaded get it too where they can.  A
 * package whose top-level package is not loaded needs none: importing it
 * raises an import event, which brings the finder back.  -1 with an
 * exception to pass on. */
static int
fs_packages_caught(struct fs_interp *interp, PyObject *modules)
{
    size_t i;

    for (i = 0; i < fs_registry_count; i++) {
        const char *m = fs_registry[i].module;
        const char *dot = strrchr(m, '.');
        char name[64];
        PyObject *top, *package;
        int rc;

        package = PyDict_GetItemString(modules, m);
        if (package != NULL) {
            /* for reload (fs_package_respec): wanted, not needed */
            FS_INCREF(package);
            rc = fs_package_catch(interp, package);
            FS_DECREF(package);
            if (rc < 0) {
                return -1;
            }
        }
        if (dot == NULL || (size_t)(dot - m) >= sizeof(name)) {
            continue;
        }
        snprintf(name, sizeof(name), "%.*s", (int)fs_modname_top(m, strlen(m)),
                 m);
        top = PyDict_GetItemString(modules, name);
        snprintf(name, sizeof(name), "%.*s", (int)(dot - m), m);
        package = PyDict_GetItemString(modules, name);
        if (top == NULL) {
            continue;
        }
        if (package == NULL) {
            return 0;
        }
        FS_INCREF(package);
        rc = fs_package_catch(interp, package);
        FS_DECREF(package);
        if (rc <= 0) {
            return rc;
        }
    }
    return 1;
}

/* Has the interpreter one thread, the current one? */
static bool
fs_one_thread(void)
{
    PyThreadState *ts =
        PyInterpreterState_ThreadHead(PyInterpreterState_Get());

    return ts != NULL && PyThreadState_Next(ts) == NULL;
}

/* Is `o`.`attr` the str `text`?  1 or 0, or -1 with an exception set. */
static int
fs_attr_is(PyObject *o, const char *attr, const char *text)
{
    PyObject *v = PyObject_GetAttrString(o, attr);
    const char *s = v != NULL && fs_is_str(v)
                    ? PyUnicode_AsUTF8AndSize(v, NULL) : NULL;
    int rc = s != NULL ? strcmp(s, text) == 0
             : v == NULL || PyErr_Occurred() != NULL ? -1 : 0;

    FS_XDECREF(v);
    return rc;
}

/* Is importlib's _find_spec on this thread's stack, iterating
 * sys.meta_path (a finder's find_spec importing Flask)?  Removing an entry
 * from the list then would make that loop skip the one after its current
 * finder.  Frames are read through their attributes, the same on 3.8 to
 * 3.13.  1 or 0, or -1 with an exception set. */
static int
fs_finding_spec(void)
{
    PyObject *frame = (PyObject *)PyEval_GetFrame();
    int found = 0;

    frame = frame != NULL ? fs_new_ref(frame) : NULL;
    while (found == 0 && frame != NULL && frame != FS_None) {
        PyObject *code = PyObject_GetAttrString(frame, "f_code");
        PyObject *back = NULL;

        found = code == NULL ? -1 : fs_attr_is(code, "co_name", "_find_spec");
        if (found == 1) {
            found = fs_attr_is(code, "co_filename",
                               "<frozen importlib._bootstrap>");
        }
        if (found == 0) {
            back = PyObject_GetAttrString(frame, "f_back");
            found = back == NULL ? -1 : 0;
        }
        FS_XDECREF(code);
        FS_DECREF(frame);
        frame = back;
    }
    FS_XDECREF(frame);
    return found;
}

/* Flask's import is done: take the finder out of sys.meta_path, in place,
 * when the packages' catch can do its work and no thread can be iterating
 * the list (see the top).  Otherwise it stays.  -1 with an exception to
 * pass on. */
static int
fs_finder_leave(void)
{
    struct fs_interp *interp = fs_interp_get();
    PyObject *modules = PySys_GetObject("modules");
    PyObject *meta_path, *flaskshield;
    Py_ssize_t i;
    int rc;

    if (interp == NULL) {
        return fs_err_clear() ? 0 : -1;
    }
    if (interp->finder != FS_FINDER_IN || modules == NULL
        || !fs_is_dict(modules)
        || PyDict_GetItemString(modules, "flask") == NULL
        || PyDict_GetItemString(modules, "werkzeug") == NULL
        || !fs_one_thread()) {
        return 0;
    }
    rc = fs_finding_spec();
    if (rc != 0) {
        return rc > 0 || fs_err_clear() ? 0 : -1;
    }
    if (fs_run_hooks_for_loaded() < 0) {
        return -1;
    }
    rc = fs_packages_caught(interp, modules);
    if (rc <= 0) {
        return rc;
    }
    /* the finder serves `flaskshield`: import it while it can, so that
     * importlib.import_module and find_spec still find it */
    flaskshield = PyImport_ImportModule("flaskshield");
    if (flaskshield == NULL) {
        return fs_err_clear() ? 0 : -1;
    }
    FS_DECREF(flaskshield);
    /* Python code ran above (and may have let another thread in); from
     * here on none runs until the finder is out */
    meta_path = PySys_GetObject("meta_path");
    if (meta_path == NULL || !fs_is_list(meta_path) || !fs_one_thread()) {
        return 0;
    }
    i = fs_finder_index(interp, meta_path);
    if (i < 0) {
        return 0;
    }
    if (PyList_SetSlice(meta_path, i, i + 1, NULL) < 0) {
        return fs_err_clear() ? 0 : -1;
    }
    interp->finder = FS_FINDER_OUT;
    return 0;
}

/* Put a finder at the head of `meta_path` (a list), for the rest of the
 * process if it had left, and run the callbacks of watched modules loaded
 * that missed them.  -1 with an exception to pass on. */
static int
fs_finder_insert(struct fs_interp *interp, PyObject *meta_path)
{
    PyObject *finder = fs_finder_new(interp);
    int rc = finder != NULL ? PyList_Insert(meta_path, 0, finder) : -1;

    FS_XDECREF(finder);
    if (rc < 0) {
        return fs_err_clear() ? 0 : -1;
    }
    if (interp->finder == FS_FINDER_OUT) {
        interp->finder = FS_FINDER_KEPT;
    }
    return fs_run_hooks_for_loaded();
}

/* Bring the finder back for good if it left sys.meta_path.  -1 with an
 * exception to pass on. */
static int
fs_finder_back(void)
{
    struct fs_interp *interp = fs_interp_get();
    PyObject *meta_path = PySys_GetObject("meta_path");

    if (interp == NULL) {
        return fs_err_clear() ? 0 : -1;
    }
    if (interp->finder != FS_FINDER_OUT || meta_path == NULL
        || !fs_is_list(meta_path) || fs_finder_index(interp, meta_path) >= 0) {
        return 0;
    }
    return fs_finder_insert(interp, meta_path);
}

/* Is the finder needed for the import of `fullname`, a watched name, while
 * it is out?  When its top-level package is not loaded, or loaded without
 * the catch though watched modules are under it. */
static bool
fs_finder_wanted(PyObject *fullname)
{
    PyObject *modules = PySys_GetObject("modules");
    Py_ssize_t len;
    const char *name = PyUnicode_AsUTF8AndSize(fullname, &len);
    char top[64];
    size_t n;
    PyObject *m;

    if (name == NULL || modules == NULL || !fs_is_dict(modules)) {
        PyErr_Clear();
        return true;
    }
    n = fs_modname_top(name, (size_t)len);
    if (n >= sizeof(top)) {
        return true;
    }
    snprintf(top, sizeof(top), "%.*s", (int)n, name);
    m = PyDict_GetItemString(modules, top);
    return m == NULL
           || (!fs_is_type(m, FS_T_PACKAGE)
               && fs_registry_holds(top, (Py_ssize_t)n));
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

/* The import event on a free-threaded build (fs_api_free_threaded): the
 * module's name through API functions only, which know the object layout,
 * and the notice at the first import of Flask. */
static void
fs_on_import_unprotected(PyObject *audit_args)
{
    Py_ssize_t len;
    const char *name = PyUnicode_AsUTF8AndSize(
        PyTuple_GetItem(audit_args, 0), &len);

    if (name == NULL) {
        PyErr_Clear();          /* our call's TypeError or UnicodeError */
        return;
    }
    if ((len == 5 || (len > 5 && name[5] == '.'))
        && memcmp(name, "flask", 5) == 0) {
        fs_note_unsupported("free-threaded build (Py_GIL_DISABLED)");
    }
}

int
fs_finder_on_import(PyObject *audit_args)
{
    static bool busy, scanned;
    struct fs_interp *interp;
    PyObject *meta_path, *t, *v, *tb;
    int rc = 0;

    if (busy || !Py_IsInitialized() || PyTuple_Size(audit_args) < 4) {
        return 0;
    }
    if (fs_api_free_threaded()) {
        fs_on_import_unprotected(audit_args);
        return 0;
    }
    /* Most imports stop here, with nothing but the core table used.  Once
     * per process, sys.modules is looked at too, for a Flask that came
     * before the library. */
    if (!fs_registry_watches(PyTuple_GetItem(audit_args, 0))
        && (scanned || !fs_watched_loaded())) {
        scanned = true;
        return 0;
    }
    scanned = true;
    if (!fs_api_full()) {
        return 0;
    }
    meta_path = PyTuple_GetItem(audit_args, 3);
    if (meta_path == NULL || !fs_is_list(meta_path)) {
        return 0;
    }
    busy = true;
    PyErr_Fetch(&t, &v, &tb);
    interp = fs_interp_get();
    if (interp != NULL && fs_finder_index(interp, meta_path) < 0
        && (interp->finder != FS_FINDER_OUT
            || fs_finder_wanted(PyTuple_GetItem(audit_args, 0)))) {
        rc = fs_finder_insert(interp, meta_path);
    }
    busy = false;
    /* An ordinary failure of ours leaves the import alone; the rest
     * (KeyboardInterrupt from the app's code, out of memory) fails it, as
     * it would without the library. */
    if (rc < 0 || !fs_err_clear()) {
        FS_XDECREF(t);
        FS_XDECREF(v);
        FS_XDECREF(tb);
        return -1;
    }
    PyErr_Restore(t, v, tb);
    return 0;
}
