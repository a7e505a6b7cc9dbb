/*
 * fs_patch.c -- the `flaskshield.Patch` type (see fs_patch.h).
 *
 * A Patch is made only by fs_patch_attr(), with every field set; its slots
 * still check them, so that no object of this type, however it came to
 * be, can make the library dereference NULL.
 */
#include "fs_patch.h"

#include <stddef.h>
#include <string.h>

#include "fs_interp.h"
#include "fs_limits.h"
#include "fs_state.h"

const char *const fs_names[FS_N_COUNT] = {
    [FS_N_STATE] = "_flaskshield",
    [FS_N_CONFIG] = "config",
    [FS_N_REQUEST_CLASS] = "request_class",
    [FS_N_CONTENT_LENGTH] = "CONTENT_LENGTH",
    [FS_N_WSGI_INPUT] = "wsgi.input",
    [FS_N_TRANSFER_ENCODING] = "HTTP_TRANSFER_ENCODING",
    [FS_N_LIMITS] = FS_LIMITS_KEY,
    [FS_N_INPUT_TERMINATED] = "wsgi.input_terminated",
    [FS_N_WERKZEUG_SOCKET] = "werkzeug.socket",
    [FS_N_MAX_CONTENT_LENGTH] = "max_content_length",
    [FS_N_HEADERS] = "headers",
    [FS_N_LIST] = "_list",
};

static void
fs_patch_dealloc(PyObject *self)
{
    fs_patch *p = (fs_patch *)self;

    FS_CLEAR(p->orig);
    FS_CLEAR(p->interp);
    fs_object_free(self);
}

/* The marker a fast form returns to have the call made in the ordinary
 * form: an object nobody else can reach, never returned to Python. */
PyObject fs_patch_as_tuple;

/* Never a result with an exception set (a SystemError in CPython). */
static PyObject *
fs_patch_result(PyObject *r)
{
    if (r != NULL && PyErr_Occurred() != NULL) {
        FS_DECREF(r);
        return NULL;
    }
    return r;
}

/* Has p what a call needs (has_fn: the form called is set)?  Else false,
 * a TypeError set. */
static bool
fs_patch_ready(const fs_patch *p, bool has_fn)
{
    if (!has_fn || p->orig == NULL || p->interp == NULL) {
        PyErr_SetString(FS_ExcTypeError, "flaskshield.Patch without target");
        return false;
    }
    return true;
}

static PyObject *
fs_patch_tp_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    fs_patch *p = (fs_patch *)self;

    if (!fs_patch_ready(p, p->fn != NULL)) {
        return NULL;
    }
    /* `orig(self, *args, **kwargs)` with no keywords (a wrapper's call)
     * passes an empty dict: the same call as none, for every fn */
    if (kwargs != NULL && PyDict_Size(kwargs) == 0) {
        kwargs = NULL;
    }
    return fs_patch_result(p->fn(p, p->orig, args, kwargs));
}

/* A vectorcall's arguments as a tuple (new reference) and *kwargs a new
 * dict or NULL; NULL with an exception set on failure. */
static PyObject *
fs_args_tuple(PyObject *const *args, size_t nargsf, PyObject *kwnames,
              PyObject **kwargs)
{
    Py_ssize_t i, n = PyVectorcall_NARGS(nargsf);
    Py_ssize_t nk = kwnames != NULL ? PyTuple_Size(kwnames) : 0;
    PyObject *t = PyTuple_New(n);

    *kwargs = NULL;
    for (i = 0; t != NULL && i < n; i++) {
        if (PyTuple_SetItem(t, i, fs_new_ref(args[i])) < 0) {
            FS_CLEAR(t);
        }
    }
    if (t != NULL && nk > 0) {
        *kwargs = PyDict_New();
        for (i = 0; *kwargs != NULL && i < nk; i++) {
            if (PyDict_SetItem(*kwargs, PyTuple_GetItem(kwnames, i),
                               args[n + i]) < 0) {
                FS_CLEAR(*kwargs);
            }
        }
        if (*kwargs == NULL) {
            FS_CLEAR(t);
        }
    }
    return t;
}

/* A call in the ordinary form, from a vectorcall's arguments. */
static PyObject *
fs_call_as_tuple(PyObject *callable, ternaryfunc call, PyObject *const *args,
                 size_t nargsf, PyObject *kwnames)
{
    PyObject *kwargs, *t = fs_args_tuple(args, nargsf, kwnames, &kwargs);
    PyObject *r = NULL;

    if (t != NULL) {
        r = call(callable, t, kwargs);
        FS_XDECREF(kwargs);
        FS_DECREF(t);
    }
    return r;
}

static PyObject *
fs_patch_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
                    PyObject *kwnames)
{
    fs_patch *p = (fs_patch *)self;
    PyObject *r;

    if (!fs_patch_ready(p, p->vfn != NULL)) {
        return NULL;
    }
    r = p->vfn(p, p->orig, args, nargsf, kwnames);
    if (r == FS_PATCH_AS_TUPLE) {
        return fs_call_as_tuple(self, fs_patch_tp_call, args, nargsf,
                                kwnames);
    }
    return fs_patch_result(r);
}

PyObject *
fs_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
              PyObject *kwnames)
{
    PyTypeObject *tp = Py_TYPE(callable);

    if ((tp->tp_flags & Py_TPFLAGS_HAVE_VECTORCALL)
        && tp->tp_vectorcall_offset > 0) {
        vectorcallfunc f = *(vectorcallfunc *)((char *)callable
                                               + tp->tp_vectorcall_offset);
        if (f != NULL) {
            return fs_patch_result(f(callable, args, nargsf, kwnames));
        }
    }
    return fs_call_as_tuple(callable, PyObject_Call, args, nargsf, kwnames);
}

void
fs_patch_type_ready(PyObject *type)
{
    PyTypeObject *tp = (PyTypeObject *)type;

    tp->tp_vectorcall_offset = offsetof(fs_patch, vectorcall);
    tp->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR;
}

/* Bind like a function: instance access gives a bound method. */
static PyObject *
fs_patch_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    (void)type;
    if (obj == NULL || obj == FS_None) {
        return fs_new_ref(self);
    }
    return PyMethod_New(self, obj);
}

/* Look like the function it replaces to introspection. */
static PyObject *
fs_patch_getattro(PyObject *self, PyObject *name)
{
    return fs_getattr_or(self, name, ((fs_patch *)self)->orig);
}

static PyType_Slot fs_patch_slots[] = {
    {Py_tp_dealloc, (void *)fs_patch_dealloc},
    {Py_tp_call, (void *)fs_patch_tp_call},
    {Py_tp_descr_get, (void *)fs_patch_descr_get},
    {Py_tp_getattro, (void *)fs_patch_getattro},
    {0, NULL},
};

PyType_Spec fs_patch_spec = {
    "flaskshield.Patch", sizeof(fs_patch), 0, Py_TPFLAGS_DEFAULT,
    fs_patch_slots,
};

bool
fs_is_patch(PyObject *o)
{
    return fs_is_type(o, FS_T_PATCH);
}

int
fs_patch_attr(PyObject *owner, const char *name, fs_patch_fn fn,
              const char *module, const char *target)
{
    return fs_patch_attr_fast(owner, name, fn, NULL, module, target);
}

int
fs_patch_attr_fast(PyObject *owner, const char *name, fs_patch_fn fn,
                   fs_patch_vfn vfn, const char *module, const char *target)
{
    struct fs_interp *s = fs_interp_get();
    PyObject *orig, *patch;
    fs_patch *p;
    int rc;

    if (s == NULL) {
        return -1;
    }
    orig = PyObject_GetAttrString(owner, name);
    if (orig == NULL) {
        return -1;
    }
    if (Py_TYPE(orig) == (PyTypeObject *)s->types[FS_T_PATCH]) {
        FS_DECREF(orig);
        fs_note_patch(module, target);
        return 0;
    }
    patch = fs_object_new(s->types[FS_T_PATCH]);
    if (patch == NULL) {
        FS_DECREF(orig);
        return -1;
    }
    p = (fs_patch *)patch;
    p->orig = orig;                             /* steals */
    p->fn = fn;
    p->vfn = vfn;
    p->vectorcall = vfn != NULL ? fs_patch_vectorcall : NULL;
    p->interp = (struct fs_interp *)fs_new_ref((PyObject *)s);
    p->input_type = s->types[FS_T_INPUT];
    p->names = s->names;
    rc = PyObject_SetAttrString(owner, name, patch);
    FS_DECREF(patch);
    if (rc == 0) {
        fs_note_patch(module, target);
    }
    return rc;
}

PyObject *
fs_args_by_name(PyObject *args, PyObject *kwargs, Py_ssize_t keep,
                const char *const *names, Py_ssize_t nnames, PyObject **pos)
{
    Py_ssize_t i, n = PyTuple_Size(args);
    PyObject *kw = kwargs != NULL ? PyDict_Copy(kwargs) : PyDict_New();

    *pos = NULL;
    if (kw == NULL) {
        return NULL;
    }
    if (n < keep || n - keep > nnames) {
        *pos = fs_new_ref(args);    /* unusual call: leave it as it is */
        return kw;
    }
    *pos = PyTuple_New(keep);
    for (i = 0; *pos != NULL && i < n; i++) {
        PyObject *a = PyTuple_GetItem(args, i);
        int rc = i < keep
            ? PyTuple_SetItem(*pos, i, fs_new_ref(a))
            : PyDict_SetItemString(kw, names[i - keep], a);
        if (rc < 0) {
            FS_CLEAR(*pos);
        }
    }
    if (*pos == NULL) {
        FS_DECREF(kw);
        return NULL;
    }
    return kw;
}

/* Is `key` (a keyword of a call) one of names[from..n-1]? */
static bool
fs_param_named(PyObject *key, const char *const *names, Py_ssize_t from,
               Py_ssize_t n)
{
    Py_ssize_t len;
    const char *s = fs_is_str(key) ? PyUnicode_AsUTF8AndSize(key, &len)
                                   : NULL;

    for (; s != NULL && from < n; from++) {
        if (strlen(names[from]) == (size_t)len
            && memcmp(names[from], s, (size_t)len) == 0) {
            return true;
        }
    }
    return false;
}

/* May a call's keyword `key` go with n positionals (after `keep`) to the
 * parameters names[], followed by **kwargs if varkw? */
static bool
fs_kw_fits(PyObject *key, const char *const *names, Py_ssize_t n,
           Py_ssize_t nnames, bool varkw)
{
    if (varkw) {
        /* any str but one given by position already (one that has no
         * UTF-8 does not fit: the original takes the call as it is) */
        return fs_is_str(key) && !fs_param_named(key, names, 0, n)
               && PyErr_Occurred() == NULL;
    }
    return fs_param_named(key, names, n, nnames);
}

static PyObject *
fs_args_bind(PyObject *args, PyObject *kwargs, Py_ssize_t keep,
             const char *const *names, Py_ssize_t nnames, Py_ssize_t nreq,
             bool varkw, PyObject **pos)
{
    Py_ssize_t i = 0, n = PyTuple_Size(args) - keep;
    PyObject *key, *value, *kw;

    *pos = NULL;
    if (n < 0 || n > nnames) {
        fs_err_clear();
        return NULL;
    }
    while (kwargs != NULL && PyDict_Next(kwargs, &i, &key, &value)) {
        if (!fs_kw_fits(key, names, n, nnames, varkw)) {
            fs_err_clear();
            return NULL;
        }
    }
    kw = fs_args_by_name(args, kwargs, keep, names, nnames, pos);
    for (i = 0; kw != NULL && i < nreq; i++) {
        if (PyDict_GetItemString(kw, names[i]) == NULL) {
            FS_CLEAR(kw);
        }
    }
    if (kw == NULL) {
        FS_XDECREF(*pos);
        *pos = NULL;
        fs_err_clear();
    }
    return kw;
}

PyObject *
fs_args_fit(PyObject *args, PyObject *kwargs, Py_ssize_t keep,
            const char *const *names, Py_ssize_t nnames, Py_ssize_t nreq,
            PyObject **pos)
{
    return fs_args_bind(args, kwargs, keep, names, nnames, nreq, false, pos);
}

PyObject *
fs_args_fit_varkw(PyObject *args, PyObject *kwargs,
                  const char *const *names, Py_ssize_t nnames,
                  Py_ssize_t nreq, PyObject **pos)
{
    return fs_args_bind(args, kwargs, 0, names, nnames, nreq, true, pos);
}

static const char *const fs_wsgi_params[] = {"self", "environ",
                                             "start_response"};

PyObject *
fs_args_wsgi(PyObject *args, PyObject *kwargs)
{
    PyObject *pos, *r;
    PyObject *kw = fs_args_fit(args, kwargs, 0, fs_wsgi_params, 3, 3, &pos);

    if (kw == NULL) {
        return NULL;
    }
    r = PyTuple_Pack(3, PyDict_GetItemString(kw, fs_wsgi_params[0]),
                     PyDict_GetItemString(kw, fs_wsgi_params[1]),
                     PyDict_GetItemString(kw, fs_wsgi_params[2]));
    FS_DECREF(pos);
    FS_DECREF(kw);
    if (r == NULL) {
        fs_err_clear();
    }
    return r;
}

bool
fs_kw_true(PyObject *kw, const char *name)
{
    PyObject *v = PyDict_GetItemString(kw, name);
    int t = v != NULL ? PyObject_IsTrue(v) : 0;

    if (t < 0) {
        fs_err_clear();
    }
    return t > 0;
}
