/*
 * fs_limits.c -- the `flaskshield.Limit` descriptor (see fs_limits.h).
 */
#include "fs_limits.h"

#include <limits.h>
#include <string.h>

#include "fs_app.h"
#include "fs_state.h"
#include "fs_types.h"

#define FS_LIMIT_NAME "flaskshield.Limit"

static const char *const fs_limit_attrs[3] = {
    "max_content_length", "max_form_memory_size", "max_form_parts",
};

typedef struct {
    PyObject_HEAD
    PyObject *orig;         /* the attribute as found in the class MRO */
    PyObject *name;         /* str */
    PyObject *environ;      /* "environ", interned */
    PyObject *key;          /* FS_LIMITS_KEY, interned */
    int index;              /* into the limits tuple */
} fs_limit;

static void
fs_limit_dealloc(PyObject *self)
{
    FS_XDECREF(((fs_limit *)self)->orig);
    FS_XDECREF(((fs_limit *)self)->name);
    FS_XDECREF(((fs_limit *)self)->environ);
    FS_XDECREF(((fs_limit *)self)->key);
    fs_object_free(self);
}

PyObject *
fs_limits_tuple(long long mcl, long long fms, long long fp, int slot,
                long long policy_mcl)
{
    return Py_BuildValue("(LLLiL)", mcl, fms, fp, slot, policy_mcl);
}

PyObject *
fs_limits_of(PyObject *env, PyObject *key)
{
    PyObject *limits = fs_is_dict(env) ? fs_dict_get(env, key) : NULL;
    const fs_appstate *st;

    if (limits == NULL) {
        fs_err_clear();
        st = fs_app_current_enforced();
        limits = st != NULL ? st->limits : NULL;
    }
    return limits;
}

/* The cap for this request, or -1 when the guard set none. */
static long long
fs_limit_cap(fs_limit *lim, PyObject *obj)
{
    PyObject *env = PyObject_GetAttr(obj, lim->environ);
    PyObject *limits;
    long long cap = -1;

    if (env == NULL) {
        fs_err_clear();
        return -1;
    }
    limits = fs_limits_of(env, lim->key);
    if (limits != NULL && fs_is_tuple(limits) && PyTuple_Size(limits) == 5) {
        cap = PyLong_AsLongLong(PyTuple_GetItem(limits, lim->index));
        if (cap == -1) {
            fs_err_clear();
        }
    }
    FS_DECREF(env);
    return cap;
}

bool
fs_limit_whole(PyObject *v, long long *whole)
{
    PyObject *n;

    if (v == NULL || v == FS_True || v == FS_False
        || !(fs_is_int(v) || strcmp(Py_TYPE(v)->tp_name, "float") == 0)) {
        return false;
    }
    n = fs_is_int(v) ? fs_new_ref(v) : PyNumber_Long(v);
    *whole = n != NULL ? PyLong_AsLongLong(n) : -1;
    FS_XDECREF(n);
    if (*whole == -1 && PyErr_Occurred()) {
        fs_err_clear();
        *whole = LLONG_MAX;
    }
    return true;
}

/* The request's own __dict__ (new reference), or NULL (none: cleared). */
static PyObject *
fs_limit_instance_dict(PyObject *obj)
{
    PyObject *d = PyObject_GetAttrString(obj, "__dict__");

    if (d != NULL && !fs_is_dict(d)) {
        FS_CLEAR(d);
    }
    if (d == NULL) {
        fs_err_clear();
    }
    return d;
}

/* What the attribute would say without us: a value set on this request
 * (where the original is a plain class attribute, Werkzeug before 3.1),
 * else the original's. */
static PyObject *
fs_limit_orig_value(fs_limit *lim, PyObject *obj, PyObject *type)
{
    descrgetfunc get = Py_TYPE(lim->orig)->tp_descr_get;

    if (obj != NULL && Py_TYPE(lim->orig)->tp_descr_set == NULL) {
        PyObject *d = fs_limit_instance_dict(obj);
        PyObject *own = d != NULL ? PyDict_GetItem(d, lim->name) : NULL;

        FS_XINCREF(own);
        FS_XDECREF(d);
        if (own != NULL) {
            return own;
        }
    }
    if (get != NULL) {
        return get(lim->orig, obj, type);
    }
    return fs_new_ref(lim->orig);
}

static PyObject *
fs_limit_get(PyObject *self, PyObject *obj, PyObject *type)
{
    fs_limit *lim = (fs_limit *)self;
    PyObject *v;
    long long cap;

    if (obj == NULL || obj == FS_None) {
        return fs_limit_orig_value(lim, NULL, type);
    }
    v = fs_limit_orig_value(lim, obj, type);
    if (v == NULL) {
        return NULL;
    }
    cap = fs_limit_cap(lim, obj);
    if (cap >= 0) {
        long long cur = -1;

        fs_limit_whole(v, &cur);        /* a float too (2e6) */
        if (v == FS_None || cur > cap) {
            FS_DECREF(v);
            return PyLong_FromLongLong(cap);
        }
    }
    return v;
}

static int
fs_limit_set(PyObject *self, PyObject *obj, PyObject *value)
{
    fs_limit *lim = (fs_limit *)self;
    descrsetfunc set = Py_TYPE(lim->orig)->tp_descr_set;

    PyObject *d;
    int rc;

    if (set != NULL) {
        return set(lim->orig, obj, value);
    }
    /* A plain class attribute (Werkzeug before 3.1): the value belongs to
     * this request, as it would without the descriptor; reading it is
     * still capped.  max_content_length stays read-only before Flask 3.1,
     * as it is without the library (a property without a setter). */
    d = fs_limit_instance_dict(obj);
    if (d == NULL) {
        PyErr_Format(FS_ExcAttributeError, "can't set attribute '%U'",
                     lim->name);
        return -1;
    }
    rc = value != NULL ? PyDict_SetItem(d, lim->name, value)
                       : PyDict_DelItem(d, lim->name);
    FS_DECREF(d);
    return rc;
}

static PyType_Slot fs_limit_slots[] = {
    {Py_tp_dealloc, (void *)fs_limit_dealloc},
    {Py_tp_new, (void *)fs_object_refuse_new},
    {Py_tp_descr_get, (void *)fs_limit_get},
    {Py_tp_descr_set, (void *)fs_limit_set},
    {0, NULL},
};

PyType_Spec fs_limit_spec = {
    FS_LIMIT_NAME, sizeof(fs_limit), 0, Py_TPFLAGS_DEFAULT, fs_limit_slots,
};

/* The raw attribute `name` of cls, as stored in the first class of its MRO
 * that defines it (no descriptor binding): new reference or NULL. */
static PyObject *
fs_mro_lookup(PyObject *cls, const char *name)
{
    PyObject *mro = PyObject_GetAttrString(cls, "__mro__");
    PyObject *found = NULL;
    Py_ssize_t i;

    for (i = 0; mro != NULL && i < PyTuple_Size(mro) && found == NULL; i++) {
        PyObject *d = PyObject_GetAttrString(PyTuple_GetItem(mro, i),
                                             "__dict__");
        PyObject *key = PyUnicode_FromString(name);
        if (d != NULL && key != NULL) {
            found = PyObject_GetItem(d, key);
            if (found == NULL) {
                fs_err_clear();
            }
        }
        FS_XDECREF(key);
        FS_XDECREF(d);
    }
    FS_XDECREF(mro);
    return found;
}

int
fs_limits_install(PyObject *cls)
{
    PyObject *type = fs_type(FS_T_LIMIT);
    int i, rc = 0;

    if (type == NULL) {
        return -1;
    }
    for (i = 0; i < 3 && rc == 0; i++) {
        PyObject *orig = fs_mro_lookup(cls, fs_limit_attrs[i]);
        PyObject *lim;

        if (orig == NULL) {
            continue;           /* this version has no such limit */
        }
        if (Py_TYPE(orig)->tp_dealloc == fs_limit_dealloc) {
            FS_DECREF(orig);
            continue;           /* already ours */
        }
        lim = fs_object_new(type);
        if (lim == NULL) {
            FS_DECREF(orig);
            return -1;
        }
        ((fs_limit *)lim)->orig = orig;
        ((fs_limit *)lim)->index = i;
        ((fs_limit *)lim)->name = PyUnicode_InternFromString(fs_limit_attrs[i]);
        ((fs_limit *)lim)->environ = PyUnicode_InternFromString("environ");
        ((fs_limit *)lim)->key = PyUnicode_InternFromString(FS_LIMITS_KEY);
        rc = ((fs_limit *)lim)->name == NULL
             || ((fs_limit *)lim)->environ == NULL
             || ((fs_limit *)lim)->key == NULL
             ? -1 : PyObject_SetAttr(cls, ((fs_limit *)lim)->name, lim);
        FS_DECREF(lim);
    }
    return rc;
}

/* Debian's Werkzeug 2.2.2 (a security fix backported) raises
 * RequestEntityTooLarge in werkzeug.formparser without importing it: a
 * multipart field over max_form_memory_size, which the library sets, was
 * a NameError (Flask's 500) instead of a 413.  The name is given to the
 * module when it lacks it.  0, or -1 with an exception set. */
static int
fs_limits_formparser(void)
{
    PyObject *modules = PySys_GetObject("modules");
    PyObject *parser = modules != NULL
        ? PyDict_GetItemString(modules, "werkzeug.formparser") : NULL;
    PyObject *exceptions, *exc;
    int rc;

    if (parser == NULL
        || PyObject_HasAttrString(parser, "RequestEntityTooLarge")) {
        return 0;
    }
    exceptions = PyObject_GetAttrString(parser, "exceptions");
    exc = exceptions != NULL
        ? PyObject_GetAttrString(exceptions, "RequestEntityTooLarge") : NULL;
    rc = exc != NULL ? PyObject_SetAttrString(parser, "RequestEntityTooLarge",
                                              exc) : -1;
    FS_XDECREF(exc);
    FS_XDECREF(exceptions);
    if (rc == 0) {
        fs_note_patch("werkzeug.formparser", "RequestEntityTooLarge");
    }
    return rc;
}

int
fs_patch_flask_wrappers(PyObject *module)
{
    PyObject *cls = PyObject_GetAttrString(module, "Request");
    int rc;

    if (cls == NULL) {
        return -1;
    }
    /* the limits go in whatever comes of the fix */
    if (fs_limits_formparser() < 0 && !fs_err_clear()) {
        FS_DECREF(cls);
        return -1;
    }
    rc = fs_limits_install(cls);
    if (rc == 0) {
        fs_note_patch("flask.wrappers", "Request.max_content_length");
        fs_note_patch("flask.wrappers", "Request.max_form_memory_size");
        fs_note_patch("flask.wrappers", "Request.max_form_parts");
    }
    FS_DECREF(cls);
    return rc;
}
