/*
 * fs_patch.h -- replacing a class or module attribute by a C callable.
 *
 * A `flaskshield.Patch` wraps the original callable and calls a C function
 * instead, which decides whether and how to call the original.  It is a
 * descriptor, so set on a class it binds like a method (the instance comes
 * first in args) and reaches subclasses and existing instances (docs/design.md,
 * "Patch classes, not names"); set on a module it is a plain callable.  Patching is
 * idempotent: an attribute that already holds a Patch is left alone, so no
 * wrapper ever wraps a wrapper.
 */
#ifndef FS_PATCH_H
#define FS_PATCH_H

#include "fs_api.h"

typedef struct fs_patch fs_patch;

/* The replacement: `orig` is the original callable; args include the
 * bound instance first when called as a method. */
typedef PyObject *(*fs_patch_fn)(fs_patch *self, PyObject *orig,
                                 PyObject *args, PyObject *kwargs);

/* The fast form of a replacement, for the patches on the request path:
 * the arguments as the interpreter passes them (vectorcall, PEP 590), so a
 * call makes no argument tuple, no keyword dict and no bound method.  It
 * may return FS_PATCH_AS_TUPLE to have the call made in the ordinary form
 * (the Patch's fs_patch_fn) instead, for calls of an unusual shape. */
typedef PyObject *(*fs_patch_vfn)(fs_patch *self, PyObject *orig,
                                  PyObject *const *args, size_t nargsf,
                                  PyObject *kwnames);
extern PyObject fs_patch_as_tuple;
#define FS_PATCH_AS_TUPLE (&fs_patch_as_tuple)

/* Names the patched callables look up on every call, made once per
 * interpreter (by its state, fs_interp.h) instead of from a C string each
 * time.  Add a name here and its text in fs_names (fs_patch.c). */
enum fs_name {
    FS_N_STATE,             /* "_flaskshield": the app's fs_appstate */
    FS_N_CONFIG,            /* "config" */
    FS_N_REQUEST_CLASS,     /* "request_class" */
    FS_N_CONTENT_LENGTH,    /* "CONTENT_LENGTH" */
    FS_N_WSGI_INPUT,        /* "wsgi.input" */
    FS_N_TRANSFER_ENCODING, /* "HTTP_TRANSFER_ENCODING" */
    FS_N_LIMITS,            /* FS_LIMITS_KEY */
    FS_N_INPUT_TERMINATED,  /* "wsgi.input_terminated" */
    FS_N_WERKZEUG_SOCKET,   /* "werkzeug.socket" */
    FS_N_MAX_CONTENT_LENGTH,    /* "max_content_length" */
    FS_N_HEADERS,           /* "headers" */
    FS_N_LIST,              /* "_list": a Werkzeug Headers' own pairs */
    FS_N_COUNT
};
extern const char *const fs_names[FS_N_COUNT];

struct fs_interp;

struct fs_patch {
    PyObject_HEAD
    vectorcallfunc vectorcall;      /* the type's vectorcall slot: set when
                                     * vfn is, else NULL (tp_call) */
    PyObject *orig;
    fs_patch_fn fn;
    fs_patch_vfn vfn;               /* NULL: calls go through fn */
    struct fs_interp *interp;       /* its interpreter's state (strong) */
    /* Borrowed from `interp`, for the patched callables: */
    PyObject *input_type;           /* the Input type, for the guard */
    PyObject *const *names;         /* interned fs_names: names[FS_N_...] */
};

/* owner.name = Patch(owner.name, fn).  Returns 0 (also when already
 * patched) or -1 with an exception set.  `module` and `target` (static
 * strings) are recorded for flaskshield.status(). */
int fs_patch_attr(PyObject *owner, const char *name, fs_patch_fn fn,
                  const char *module, const char *target);

/* The same with a fast form (fs_patch_vfn) for the usual calls. */
int fs_patch_attr_fast(PyObject *owner, const char *name, fs_patch_fn fn,
                       fs_patch_vfn vfn, const char *module,
                       const char *target);

/* Make the Patch type, just made from fs_patch_spec, a method descriptor
 * (a call on an instance passes the instance first, with no bound method)
 * with a vectorcall slot.  Done by hand: PyType_FromSpec of CPython 3.8
 * knows no vectorcall offset. */
void fs_patch_type_ready(PyObject *type);

/* Spread a call's arguments over a fresh kwargs dict by parameter name:
 * the first `keep` positionals stay in *pos (new tuple), the rest are
 * named by names[0..].  Returns the dict (new reference) or NULL. */
PyObject *fs_args_by_name(PyObject *args, PyObject *kwargs, Py_ssize_t keep,
                          const char *const *names, Py_ssize_t nnames,
                          PyObject **pos);

/* The call as a plain Python signature (no *args, no **kwargs) of `keep`
 * leading positionals (a bound self) and then the parameters
 * names[0..nnames-1], the first `nreq` of them required, would bind it:
 * every other positional named, no keyword unknown or given twice, the
 * required ones there.  Then its arguments by name (a new dict; *pos a new
 * tuple of the `keep` first), else NULL with no ordinary exception set:
 * such a call goes to the original unchanged, for its own TypeError. */
PyObject *fs_args_fit(PyObject *args, PyObject *kwargs, Py_ssize_t keep,
                      const char *const *names, Py_ssize_t nnames,
                      Py_ssize_t nreq, PyObject **pos);

/* fs_args_fit for a signature with **kwargs after names[] (Flask.run):
 * a keyword that names no parameter goes into the dict too.  No `keep`:
 * names[] are all the parameters, a method's self too, so that a keyword
 * repeating a positional one is seen. */
PyObject *fs_args_fit_varkw(PyObject *args, PyObject *kwargs,
                            const char *const *names, Py_ssize_t nnames,
                            Py_ssize_t nreq, PyObject **pos);

/* (self, environ, start_response) of a call of a WSGI method -- Flask.wsgi_app,
 * DebuggedApplication.__call__ -- however it passed them (positionally, by
 * name, self too): a new tuple, or NULL with no ordinary exception set
 * when the call does not bind (the original then says why). */
PyObject *fs_args_wsgi(PyObject *args, PyObject *kwargs);

/* Call the original, unless an exception that the library must pass on
 * (see fs_err_clear) is pending: then return NULL and leave it set. */
static inline PyObject *
fs_call_orig(PyObject *orig, PyObject *args, PyObject *kwargs)
{
    return PyErr_Occurred() != NULL ? NULL : PyObject_Call(orig, args, kwargs);
}

/* Call `callable` with the arguments of a vectorcall: through its own
 * vectorcall slot, or in the ordinary form if it has none. */
PyObject *fs_vectorcall(PyObject *callable, PyObject *const *args,
                        size_t nargsf, PyObject *kwnames);

/* fs_call_orig for the fast form. */
static inline PyObject *
fs_call_orig_v(PyObject *orig, PyObject *const *args, size_t nargsf,
               PyObject *kwnames)
{
    return PyErr_Occurred() != NULL
           ? NULL : fs_vectorcall(orig, args, nargsf, kwnames);
}

/* The items of a tuple, as the argument array of a vectorcall. */
static inline PyObject *const *
fs_tuple_items(PyObject *tuple)
{
    return ((PyTupleObject *)tuple)->ob_item;
}

/* kw[name] is present and true. */
bool fs_kw_true(PyObject *kw, const char *name);

/* Is `o` a Patch of the current interpreter (by type pointer)? */
bool fs_is_patch(PyObject *o);

#endif /* FS_PATCH_H */
