/*
 * fs_patch_request.c -- body limits where the request makes its stream.
 *
 * Whatever reads a Flask request's body -- get_data(), data, get_json(),
 * stream, form, files -- reads Werkzeug's Request.stream, which Werkzeug
 * (2.2 and 3.1 alike) makes once per request, when the body is first
 * read, by calling get_input_stream under its name in
 * werkzeug.wrappers.request.  That name becomes a Patch, so the bound is
 * decided on the environ the request itself sees: after any middleware
 * inside app.wsgi_app that replaced the body or changed CONTENT_LENGTH
 * (an inflating one), not only at the WSGI entry.  A request that never
 * reads its body never comes here.
 *
 * A refusal counts (fs_counters.h) only when the cap is the policy's, not
 * the app's own lower one.
 *
 * The cap is the request's: the max_content_length of the limits the
 * entry guard put in environ (the app's, under the policy) or, when the
 * guard did not run (a subclass whose wsgi_app never calls Flask's), the
 * policy's for the app of the current app context; lowered by the
 * max_content_length Werkzeug 3.1 passes (the request's own, capped by
 * fs_limits.c).  In report or off mode Werkzeug is left alone.  Then:
 *   - a trusted declared length (fs_input_length) over the cap raises
 *     RequestEntityTooLarge (a 413);
 *   - within it, on a stream the server does not end itself, Werkzeug's
 *     own stream (its LimitedStream at the declared length) is handed
 *     through untouched;
 *   - within it, on a stream the server ends itself
 *     (wsgi.input_terminated: gunicorn, waitress, mod_wsgi), the request
 *     reads environ["wsgi.input"] through a flaskshield.Input in declared
 *     mode: in the sizes the reader asks for, never past the declared
 *     length, however much the stream holds (a middleware's replacement,
 *     a server that does not frame by Content-Length).  Werkzeug 2.3+
 *     would wrap such a stream in a LimitedStream at the cap, which reads
 *     a body in 64 KiB pieces through Python and copies each twice: a
 *     15 MiB upload cost a fifth more than without any cap (issue 19);
 *   - a body of unknown length is read through a flaskshield.Input with
 *     the cap: a 413, never a body cut at the cap and a 200.  Over a
 *     stream the server ends itself the Input wraps environ["wsgi.input"]
 *     (or is the one the guard put there); otherwise it wraps what
 *     Werkzeug made of it.
 *
 * A url-encoded form is read whole into memory by FormDataParser's
 * _parse_urlencoded, which Werkzeug bounds by max_form_memory_size only
 * against a Content-Length: sent chunked, a form up to the body cap would
 * be parsed.  That method becomes a Patch (and, on Werkzeug 2.2, the entries
 * of FormDataParser.parse_functions that name it): a form of unknown
 * length is read through an Input at the parser's max_form_memory_size
 * (the request's, capped by fs_limits.c), a 413 past it as with a
 * Content-Length.  A parser used outside a request of an enforcing app
 * (parse_form_data in a script, a CLI command's app context) is left alone,
 * as in report or off mode.
 */
#include "fs_patches.h"

#include <limits.h>

#include "fs_app.h"
#include "fs_counters.h"
#include "fs_input.h"
#include "fs_limits.h"
#include "fs_patch.h"
#include "fs_types.h"

/* Without the guard's limits in environ (an app whose own wsgi_app never
 * calls Flask's): the policy's cap for the app of the current app
 * context, and its record slot; -1 when there is none, or the policy does
 * not enforce there. */
static long long
fs_request_app_cap(int *slot)
{
    PyObject *modules = PySys_GetObject("modules");
    PyObject *globals = modules != NULL
        ? PyDict_GetItemString(modules, "flask.globals") : NULL;
    PyObject *proxy, *app;
    fs_appstate *st;
    long long cap = -1;

    if (globals == NULL) {
        return -1;
    }
    proxy = PyObject_GetAttrString(globals, "current_app");
    app = proxy != NULL
          ? PyObject_CallMethod(proxy, "_get_current_object", NULL) : NULL;
    st = app != NULL ? fs_app_state(app) : NULL;
    if (st != NULL && fs_app_enforcing(st)) {
        cap = st->s->max_content_length;
        *slot = st->slot;
    }
    FS_XDECREF(st);
    FS_XDECREF(app);
    FS_XDECREF(proxy);
    fs_err_clear();             /* no app context: nothing to bound by */
    return cap;
}

/* The request's cap: the limits the guard put in environ, or the app's
 * under the policy; lowered by Werkzeug 3.1's own (in `named`, the call's
 * arguments by name, or NULL).  -1: nothing to do.
 * *slot: the app's record slot (its counters). */
static long long
fs_request_cap(fs_patch *p, PyObject *env, PyObject *named, int *slot)
{
    PyObject *limits = fs_limits_of(env, p->names[FS_N_LIMITS]);
    PyObject *own = named != NULL
        ? fs_dict_get(named, p->names[FS_N_MAX_CONTENT_LENGTH]) : NULL;
    long long cap, n;

    *slot = 0;
    if (limits != NULL && fs_is_tuple(limits) && PyTuple_Size(limits) == 5
        && fs_is_int(PyTuple_GetItem(limits, 0))) {
        cap = PyLong_AsLongLong(PyTuple_GetItem(limits, 0));
        *slot = (int)PyLong_AsLongLong(PyTuple_GetItem(limits, 3));
        if (cap < PyLong_AsLongLong(PyTuple_GetItem(limits, 4))) {
            *slot = -1;         /* the app's own limit, lower */
        }
    }
    else {
        cap = fs_request_app_cap(slot);
    }
    if (cap < 0) {
        fs_err_clear();
        return -1;
    }
    if (own != NULL && fs_is_int(own)) {
        n = PyLong_AsLongLong(own);
        fs_err_clear();         /* too large for a long long: over any cap */
        if (n >= 0 && n < cap) {
            cap = n;
            *slot = -1;         /* the request's own limit, lower */
        }
    }
    return cap;
}

/* The call get_input_stream(*args, **kwargs), of environ `env` and the
 * other arguments by name in `named` (or NULL). */
static PyObject *
fs_request_stream_of(fs_patch *p, PyObject *orig, PyObject *args,
                     PyObject *kwargs, PyObject *env, PyObject *named)
{
    PyObject *base, *r;
    long long cap, len;
    enum fs_clen kind;
    int terminated = 0, slot;

    if (!fs_is_dict(env)) {
        return fs_call_orig(orig, args, kwargs);
    }
    cap = fs_request_cap(p, env, named, &slot);
    if (cap < 0) {
        return fs_call_orig(orig, args, kwargs);
    }
    kind = fs_input_length(p, env, &len);
    if (kind == FS_CLEN_VALUE && len > cap) {
        fs_count(slot, FS_CNT_REFUSED_BODY, true);
        return fs_input_too_large();
    }
    base = fs_dict_get(env, p->names[FS_N_INPUT_TERMINATED]);
    if (base != NULL) {
        FS_INCREF(base);
        terminated = PyObject_IsTrue(base);
        FS_DECREF(base);
        if (terminated < 0) {
            return NULL;
        }
    }
    if (kind == FS_CLEN_VALUE && !terminated) {
        return fs_call_orig(orig, args, kwargs);
    }
    base = terminated ? fs_dict_get(env, p->names[FS_N_WSGI_INPUT])
                      : NULL;
    if (base != NULL) {
        FS_INCREF(base);
    }
    else {
        base = fs_call_orig(orig, args, kwargs);
        if (base == NULL) {
            return NULL;
        }
    }
    if (kind == FS_CLEN_VALUE) {
        r = fs_input_declared(p->input_type, base, len);
    }
    else if (fs_is_type(base, FS_T_INPUT)) {
        /* the guard's, at the policy's cap: a request's own lower limit
         * (Flask 3.1's request.max_content_length) bounds it further */
        r = fs_input_within(p->input_type, base, cap, slot);
    }
    else {
        r = fs_input_new(p->input_type, base, cap, slot, false);
    }
    FS_DECREF(base);
    return r;
}

static const char *const fs_stream_params[] = {"environ", "safe_fallback",
                                               "max_content_length"};

/* get_input_stream(environ, safe_fallback=True[, max_content_length=None])
 * with its first nparams parameters (2: Werkzeug 2.2), however called: a
 * call the library cannot bind goes to the original, for its TypeError,
 * and is capped by its environ by position if the original takes it. */
static PyObject *
fs_request_stream(fs_patch *p, PyObject *orig, PyObject *args,
                  PyObject *kwargs, Py_ssize_t nparams)
{
    PyObject *pos, *kw, *r;

    /* Werkzeug's own: (environ) and, 2.3 on, (environ,
     * max_content_length=...), with no dict made */
    if (PyTuple_Size(args) == 1
        && (kwargs == NULL
            || (nparams == 3 && PyDict_Size(kwargs) == 1
                && fs_dict_get(kwargs,
                               p->names[FS_N_MAX_CONTENT_LENGTH]) != NULL))) {
        return fs_request_stream_of(p, orig, args, kwargs,
                                    PyTuple_GetItem(args, 0), kwargs);
    }
    kw = fs_args_fit(args, kwargs, 0, fs_stream_params, nparams, 1, &pos);
    if (kw == NULL) {
        /* keywords the library cannot bind (a str subclass that Python
         * binds by its own __eq__): the original says whether the call
         * binds (its TypeError), and the environ by position is capped
         * all the same */
        r = fs_call_orig(orig, args, kwargs);
        if (r == NULL || PyTuple_Size(args) < 1) {
            return r;
        }
        FS_DECREF(r);
        return fs_request_stream_of(p, orig, args, kwargs,
                                    PyTuple_GetItem(args, 0), NULL);
    }
    r = fs_request_stream_of(p, orig, args, kwargs,
                             PyDict_GetItemString(kw, fs_stream_params[0]),
                             kw);
    FS_DECREF(pos);
    FS_DECREF(kw);
    return r;
}

static PyObject *
fs_request_stream2(fs_patch *p, PyObject *orig, PyObject *args,
                   PyObject *kwargs)
{
    return fs_request_stream(p, orig, args, kwargs, 2);
}

static PyObject *
fs_request_stream3(fs_patch *p, PyObject *orig, PyObject *args,
                   PyObject *kwargs)
{
    return fs_request_stream(p, orig, args, kwargs, 3);
}

/* How many parameters has the module's get_input_stream: 2 (Werkzeug 2.2,
 * no max_content_length) or 3 (2.3 on, and when it cannot tell)? */
static Py_ssize_t
fs_stream_nparams(PyObject *module)
{
    PyObject *f = PyObject_GetAttrString(module, "get_input_stream");
    PyObject *code = f != NULL ? PyObject_GetAttrString(f, "__code__")
                               : NULL;
    PyObject *n = code != NULL ? PyObject_GetAttrString(code, "co_argcount")
                               : NULL;
    long long argc = n != NULL && fs_is_int(n) ? PyLong_AsLongLong(n) : 3;

    FS_XDECREF(n);
    FS_XDECREF(code);
    FS_XDECREF(f);
    fs_err_clear();
    return argc == 2 ? 2 : 3;
}

static const char *const fs_urlencoded_params[] = {"self", "stream",
                                                   "mimetype",
                                                   "content_length",
                                                   "options"};

/* FormDataParser._parse_urlencoded(self, stream, mimetype, content_length,
 * options) in a request of an enforcing app (the guard's fs_app_current):
 * of unknown length -- none passed, or the stream the library's bounded
 * Input for a length it does not trust (Werkzeug 2.2 reads a Content-Length
 * beside "Transfer-Encoding: Chunked") -- the form is read at most
 * self.max_form_memory_size bytes (a float's whole part, as Werkzeug
 * compares it). */
static PyObject *
fs_form_urlencoded(fs_patch *p, PyObject *orig, PyObject *args,
                   PyObject *kwargs)
{
    PyObject *pos, *kw, *stream, *fms, *bounded, *r;
    long long limit = -1;

    kw = fs_args_fit(args, kwargs, 0, fs_urlencoded_params, 5, 5, &pos);
    if (kw == NULL) {
        return fs_call_orig(orig, args, kwargs);   /* its own TypeError */
    }
    stream = PyDict_GetItemString(kw, fs_urlencoded_params[1]);
    if (fs_app_current_enforced() != NULL
        && (PyDict_GetItemString(kw, fs_urlencoded_params[3]) == FS_None
            || fs_input_unframed(stream))) {
        fms = PyObject_GetAttrString(
            PyDict_GetItemString(kw, fs_urlencoded_params[0]),
            "max_form_memory_size");
        if (fs_limit_whole(fms, &limit) && limit < 0) {
            limit = 0;          /* Werkzeug refuses any length then */
        }
        FS_XDECREF(fms);
        fs_err_clear();         /* none: Werkzeug's way */
    }
    if (limit >= 0 && limit < LLONG_MAX && stream != NULL) {
        bounded = fs_is_type(stream, FS_T_INPUT)
            ? fs_input_within(p->input_type, stream, limit, -1)
            : fs_input_new(p->input_type, stream, limit, -1, false);
        if (bounded == NULL
            || PyDict_SetItemString(kw, fs_urlencoded_params[1],
                                    bounded) < 0) {
            fs_err_clear();
        }
        FS_XDECREF(bounded);
    }
    r = fs_call_orig(orig, pos, kw);
    FS_DECREF(pos);
    FS_DECREF(kw);
    return r;
}

/* Werkzeug 2.2 calls the parse function it finds in the class's
 * parse_functions dict, the function object the class body put there:
 * those entries become the Patch too. */
static void
fs_form_parse_functions(PyObject *cls, PyObject *orig)
{
    PyObject *table = PyObject_GetAttrString(cls, "parse_functions");
    PyObject *patched = PyObject_GetAttrString(cls, "_parse_urlencoded");
    PyObject *key, *value;
    Py_ssize_t i = 0;

    if (table != NULL && patched != NULL && fs_is_dict(table)) {
        while (PyDict_Next(table, &i, &key, &value)) {
            if (value == orig && PyDict_SetItem(table, key, patched) < 0) {
                break;
            }
        }
    }
    fs_err_clear();         /* Werkzeug 2.3 on has no table */
    FS_XDECREF(patched);
    FS_XDECREF(table);
}

int
fs_patch_werkzeug_formparser(PyObject *module)
{
    PyObject *cls = PyObject_GetAttrString(module, "FormDataParser");
    PyObject *orig;
    int rc;

    if (cls == NULL) {
        return -1;
    }
    orig = PyObject_GetAttrString(cls, "_parse_urlencoded");
    rc = orig == NULL ? -1
         : fs_patch_attr(cls, "_parse_urlencoded", fs_form_urlencoded,
                         "werkzeug.formparser",
                         "FormDataParser._parse_urlencoded");
    if (rc == 0) {
        fs_form_parse_functions(cls, orig);
    }
    FS_XDECREF(orig);
    FS_DECREF(cls);
    return rc;
}

int
fs_patch_werkzeug_request(PyObject *module)
{
    return fs_patch_attr(module, "get_input_stream",
                         fs_stream_nparams(module) == 2 ? fs_request_stream2
                                                        : fs_request_stream3,
                         "werkzeug.wrappers.request", "get_input_stream");
}
