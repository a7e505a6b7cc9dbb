/*
 * fs_patch.c -- the `flaskshield.Patch` type (see fs_patch.h).
 */
#include "fs_patch.h"

#include <string.h>

#include "fs_limits.h"
#include "fs_state.h"
#include "fs_types.h"

#define FS_PATCH_NAME "flaskshield.Patch"

const char *const fs_names[FS_N_COUNT] = {
    [FS_N_STATE] = "_flaskshield",
    [FS_N_CONFIG] = "config",
    [FS_N_REQUEST_CLASS] = "request_class",
    [FS_N_CONTENT_LENGTH] = "CONTENT_LENGTH",
    [FS_N_WSGI_INPUT] = "wsgi.input",
    [FS_N_TRANSFER_ENCODING] = "HTTP_TRANSFER_ENCODING",
    [FS_N_LIMITS] = FS_LIMITS_KEY,
};

static void
fs_patch_dealloc(PyObject *self)
{
    fs_patch *p = (fs_patch *)self;
    int i;

    FS_XDECREF(p->orig);
    FS_XDECREF(p->input_type);
    for (i = 0; i < FS_N_COUNT; i++) {
        FS_XDECREF(p->names[i]);
    }
    fs_object_free(self);
}

static PyObject *
fs_patch_tp_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    fs_patch *p = (fs_patch *)self;
    PyObject *r;

    if (p->fn == NULL || p->orig == NULL) {
        PyErr_SetString(FS_ExcTypeError, "flaskshield.Patch without target");
        return NULL;
    }
    r = p->fn(p, p->orig, args, kwargs);
    /* Never a result with an exception set (a SystemError in CPython). */
    if (r != NULL && PyErr_Occurred() != NULL) {
        FS_DECREF(r);
        return NULL;
    }
    return r;
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
    {Py_tp_new, (void *)fs_object_refuse_new},
    {Py_tp_call, (void *)fs_patch_tp_call},
    {Py_tp_descr_get, (void *)fs_patch_descr_get},
    {Py_tp_getattro, (void *)fs_patch_getattro},
    {0, NULL},
};

PyType_Spec fs_patch_spec = {
    FS_PATCH_NAME, sizeof(fs_patch), 0, Py_TPFLAGS_DEFAULT, fs_patch_slots,
};

bool
fs_is_patch(PyObject *o)
{
    return Py_TYPE(o)->tp_dealloc == fs_patch_dealloc;
}

int
fs_patch_attr(PyObject *owner, const char *name, fs_patch_fn fn,
              const char *module, const char *target)
{
    PyObject *type = fs_type(FS_T_PATCH);
    PyObject *input_type = fs_type(FS_T_INPUT);
    PyObject *orig, *patch;
    int i, rc;

    if (type == NULL || input_type == NULL) {
        return -1;
    }
    orig = PyObject_GetAttrString(owner, name);
    if (orig == NULL) {
        return -1;
    }
    if (fs_is_patch(orig)) {
        FS_DECREF(orig);
        fs_note_patch(module, target);
        return 0;
    }
    patch = fs_object_new(type);
    if (patch == NULL) {
        FS_DECREF(orig);
        return -1;
    }
    ((fs_patch *)patch)->orig = orig;           /* steals */
    ((fs_patch *)patch)->fn = fn;
    ((fs_patch *)patch)->input_type = fs_new_ref(input_type);
    for (i = 0, rc = 0; i < FS_N_COUNT && rc == 0; i++) {
        ((fs_patch *)patch)->names[i] = PyUnicode_InternFromString(fs_names[i]);
        rc = ((fs_patch *)patch)->names[i] != NULL ? 0 : -1;
    }
    if (rc == 0) {
        rc = PyObject_SetAttrString(owner, name, patch);
    }
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
