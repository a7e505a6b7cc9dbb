/*
 * fs_input.c -- the bounded wsgi.input (see fs_input.h).
 */
#include "fs_input.h"

#include <limits.h>
#include <string.h>

#include "fs_counters.h"
#include "fs_patch.h"
#include "fs_types.h"

typedef struct {
    PyObject_HEAD
    PyObject *inner;
    long long limit;
    long long pos;
    int slot;                   /* counts a refusal there; -1: not ours */
    bool report;                /* count only: pass every byte on */
    bool declared;              /* limit is the declared length: end there */
    bool closed;                /* close() called: reads fail */
} fs_input;

static void
fs_input_dealloc(PyObject *self)
{
    FS_XDECREF(((fs_input *)self)->inner);
    fs_object_free(self);
}

/* Raise `modname`.`clsname` (a module already loaded) with `msg` (NULL:
 * none), or RuntimeError with `fallback` when there is no such class.
 * Returns NULL. */
static PyObject *
fs_input_raise(const char *modname, const char *clsname, const char *msg,
               const char *fallback)
{
    PyObject *modules = PySys_GetObject("modules");
    PyObject *mod = modules != NULL ? PyDict_GetItemString(modules, modname)
                                    : NULL;
    PyObject *cls = mod != NULL ? PyObject_GetAttrString(mod, clsname)
                                : NULL;

    if (cls == NULL) {
        fs_err_clear();
        PyErr_SetString(FS_ExcRuntimeError, fallback);
    }
    else if (msg == NULL) {
        PyErr_SetNone(cls);
    }
    else {
        PyErr_SetString(cls, msg);
    }
    FS_XDECREF(cls);
    return NULL;
}

PyObject *
fs_input_too_large(void)
{
    return fs_input_raise("werkzeug.exceptions", "RequestEntityTooLarge",
                          NULL, "request body larger than the policy allows");
}

/* Call inner.<meth>(n) where n is bounded by the limit; raise 413 when the
 * answer proves the body is longer than the limit. */
static PyObject *
fs_input_bounded(fs_input *in, const char *meth, long long size)
{
    long long room = in->limit - in->pos;
    /* One byte more than the room proves a body too long; saturated, so
     * no limit makes it overflow. */
    long long over = room < LLONG_MAX ? room + 1 : LLONG_MAX;
    long long ask = in->report || (size >= 0 && size < room) ? size : over;
    PyObject *data;
    char *buf;
    Py_ssize_t len;

    if (in->closed) {
        PyErr_SetString(FS_ExcValueError,
                        "I/O operation on closed file.");
        return NULL;
    }
    if (in->declared) {
        if (room == 0) {
            return PyBytes_FromStringAndSize(NULL, 0);  /* the whole body */
        }
        ask = size >= 0 && size < room ? size : room;
    }
    data = PyObject_CallMethod(in->inner, meth, "L", ask);
    if (data == NULL) {
        return NULL;
    }
    if (PyBytes_AsStringAndSize(data, &buf, &len) < 0) {
        FS_DECREF(data);
        return NULL;
    }
    if ((long long)len > room && in->pos <= in->limit) {
        fs_count(in->slot, FS_CNT_REFUSED_BODY, !in->report);
    }
    if ((long long)len > room) {
        in->pos = in->limit < LLONG_MAX ? in->limit + 1 : LLONG_MAX;
        if (!in->report) {
            FS_DECREF(data);
            return fs_input_too_large();
        }
        return data;            /* report: counted once, passed on whole */
    }
    in->pos += len;
    return data;
}

static int
fs_size_arg(PyObject *args, long long *size)
{
    PyObject *a;

    *size = -1;
    if (PyTuple_Size(args) < 1) {
        return 0;
    }
    a = PyTuple_GetItem(args, 0);
    if (a == FS_None) {
        return 0;
    }
    *size = PyLong_AsLongLong(a);
    return (*size == -1 && PyErr_Occurred()) ? -1 : 0;
}

static PyObject *
fs_input_read(PyObject *self, PyObject *args)
{
    long long size;

    if (fs_size_arg(args, &size) < 0) {
        return NULL;
    }
    return fs_input_bounded((fs_input *)self, "read", size);
}

static PyObject *
fs_input_readline(PyObject *self, PyObject *args)
{
    long long size;

    if (fs_size_arg(args, &size) < 0) {
        return NULL;
    }
    return fs_input_bounded((fs_input *)self, "readline", size);
}

static PyObject *
fs_input_iternext(PyObject *self)
{
    PyObject *line = fs_input_bounded((fs_input *)self, "readline", -1);
    char *buf;
    Py_ssize_t len;

    if (line == NULL) {
        return NULL;
    }
    if (PyBytes_AsStringAndSize(line, &buf, &len) < 0 || len == 0) {
        FS_DECREF(line);
        return NULL;            /* end of body (or the error) */
    }
    return line;
}

static PyObject *
fs_input_readlines(PyObject *self, PyObject *args)
{
    PyObject *list = PyList_New(0);
    PyObject *line;

    (void)args;
    if (list == NULL) {
        return NULL;
    }
    while ((line = fs_input_iternext(self)) != NULL) {
        int rc = PyList_Append(list, line);
        FS_DECREF(line);
        if (rc < 0) {
            break;
        }
    }
    if (PyErr_Occurred()) {
        FS_DECREF(list);
        return NULL;
    }
    return list;
}

/* readinto(b): read(len(b)), bounded as read() is, into b. */
static PyObject *
fs_input_readinto(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    PyObject *data;
    char *buf;
    Py_ssize_t len;

    if (PyObject_GetBuffer(arg, &view, PyBUF_WRITABLE) < 0) {
        return NULL;
    }
    data = fs_input_bounded((fs_input *)self, "read", (long long)view.len);
    if (data != NULL && PyBytes_AsStringAndSize(data, &buf, &len) == 0) {
        if (len > view.len) {       /* a server's read(n) gave more than n */
            PyErr_SetString(FS_ExcRuntimeError,
                            "flaskshield.Input: the stream read past the "
                            "size asked for");
            len = -1;
        }
        else {
            memcpy(view.buf, buf, (size_t)len);
        }
    }
    else {
        len = -1;
    }
    FS_XDECREF(data);
    PyBuffer_Release(&view);
    return len < 0 ? NULL : PyLong_FromLongLong(len);
}

/* The rest of a readable, unseekable binary stream (io.RawIOBase), as
 * Werkzeug's LimitedStream is: io.TextIOWrapper, io.BufferedReader, csv
 * and `with` take it.  Moving the real stream (seek) would move it under
 * the count of what was read, so it is refused, as by LimitedStream. */
static PyObject *
fs_input_true(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return fs_new_ref(FS_True);
}

static PyObject *
fs_input_false(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return fs_new_ref(FS_False);
}

static PyObject *
fs_input_tell(PyObject *self, PyObject *unused)
{
    const fs_input *in = (const fs_input *)self;

    (void)unused;
    return PyLong_FromLongLong(in->pos <= in->limit ? in->pos : in->limit);
}

static PyObject *
fs_input_seek(PyObject *self, PyObject *args)
{
    static const char msg[] = "flaskshield.Input: the request body is not "
                              "seekable";

    (void)self;
    (void)args;
    return fs_input_raise("io", "UnsupportedOperation", msg, msg);
}

static PyObject *
fs_input_enter(PyObject *self, PyObject *unused)
{
    (void)unused;
    return fs_new_ref(self);
}

/* close() ends this stream, not the server's (as LimitedStream's). */
static PyObject *
fs_input_close(PyObject *self, PyObject *unused)
{
    (void)unused;
    ((fs_input *)self)->closed = true;
    FS_RETURN_NONE;
}

static PyObject *
fs_input_flush(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    FS_RETURN_NONE;
}

static PyObject *
fs_input_get_closed(PyObject *self, void *unused)
{
    (void)unused;
    return fs_new_ref(((fs_input *)self)->closed ? FS_True : FS_False);
}

static PyObject *
fs_input_exit(PyObject *self, PyObject *args)
{
    (void)args;
    FS_DECREF(fs_input_close(self, NULL));
    return fs_new_ref(FS_False);
}

static PyObject *
fs_input_iter(PyObject *self)
{
    return fs_new_ref(self);
}

/* Anything else (fileno, ...) comes from the real stream, but not its
 * unbounded readers. */
static PyObject *
fs_input_getattro(PyObject *self, PyObject *name)
{
    const char *s = PyUnicode_AsUTF8AndSize(name, NULL);

    if (s == NULL || strncmp(s, "read", 4) == 0 || strcmp(s, "peek") == 0) {
        fs_err_clear();
        return PyObject_GenericGetAttr(self, name);   /* ours, or none */
    }
    return fs_getattr_or(self, name, ((fs_input *)self)->inner);
}

static PyMethodDef fs_input_methods[] = {
    {"read", fs_input_read, METH_VARARGS, NULL},
    {"readline", fs_input_readline, METH_VARARGS, NULL},
    {"readlines", fs_input_readlines, METH_VARARGS, NULL},
    {"read1", fs_input_read, METH_VARARGS, NULL},
    {"readinto", fs_input_readinto, METH_O, NULL},
    {"readable", fs_input_true, METH_NOARGS, NULL},
    {"writable", fs_input_false, METH_NOARGS, NULL},
    {"seekable", fs_input_false, METH_NOARGS, NULL},
    {"tell", fs_input_tell, METH_NOARGS, NULL},
    {"seek", fs_input_seek, METH_VARARGS, NULL},
    {"__enter__", fs_input_enter, METH_NOARGS, NULL},
    {"__exit__", fs_input_exit, METH_VARARGS, NULL},
    {"close", fs_input_close, METH_NOARGS, NULL},
    {"flush", fs_input_flush, METH_NOARGS, NULL},
    {"isatty", fs_input_false, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef fs_input_getset[] = {
    {"closed", fs_input_get_closed, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot fs_input_slots[] = {
    {Py_tp_dealloc, (void *)fs_input_dealloc},
    {Py_tp_new, (void *)fs_object_refuse_new},
    {Py_tp_getattro, (void *)fs_input_getattro},
    {Py_tp_iter, (void *)fs_input_iter},
    {Py_tp_iternext, (void *)fs_input_iternext},
    {Py_tp_methods, fs_input_methods},
    {Py_tp_getset, fs_input_getset},
    {0, NULL},
};

PyType_Spec fs_input_spec = {
    "flaskshield.Input", sizeof(fs_input), 0, Py_TPFLAGS_DEFAULT,
    fs_input_slots,
};

PyObject *
fs_input_new(PyObject *input_type, PyObject *inner, long long limit,
             int slot, bool report)
{
    PyObject *self = fs_object_new(input_type);

    if (self == NULL) {
        return NULL;
    }
    ((fs_input *)self)->inner = fs_new_ref(inner);
    ((fs_input *)self)->limit = limit;
    ((fs_input *)self)->slot = slot;
    ((fs_input *)self)->report = report;
    return self;
}

PyObject *
fs_input_declared(PyObject *input_type, PyObject *inner, long long length)
{
    PyObject *self = fs_input_new(input_type, inner, length, -1, false);

    if (self != NULL) {
        ((fs_input *)self)->declared = true;
    }
    return self;
}

PyObject *
fs_input_within(PyObject *input_type, PyObject *in, long long cap, int slot)
{
    const fs_input *i = (const fs_input *)in;

    if (!i->report && i->limit <= cap) {
        return fs_new_ref(in);
    }
    return fs_input_new(input_type, in, cap, slot, false);
}

bool
fs_input_unframed(PyObject *o)
{
    return fs_is_type(o, FS_T_INPUT) && !((const fs_input *)o)->declared;
}

enum fs_clen
fs_input_length(fs_patch *p, PyObject *env, long long *len)
{
    PyObject *v = fs_dict_get(env, p->names[FS_N_CONTENT_LENGTH]);
    const char *s;
    Py_ssize_t n;

    *len = -1;
    if (fs_dict_get(env, p->names[FS_N_TRANSFER_ENCODING]) != NULL) {
        return FS_CLEN_UNKNOWN;     /* chunked, a length beside it or not */
    }
    if (v == NULL) {
        return FS_CLEN_ABSENT;
    }
    if (!fs_is_str(v)) {
        return FS_CLEN_UNKNOWN;
    }
    s = PyUnicode_AsUTF8AndSize(v, &n);
    if (s == NULL) {
        return fs_err_clear() ? FS_CLEN_UNKNOWN : FS_CLEN_ABSENT;
    }
    return fs_clen_parse(s, (size_t)n, len);
}
