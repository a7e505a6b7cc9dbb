/*
 * fs_guard.c -- the request guard on Flask.wsgi_app (see fs_guard.h).
 *
 * Per request, with the default policy and a well-configured app, the guard
 * costs three attribute look-ups (the app state, config, request_class),
 * the environ look-ups of the body's framing and, for a request with a
 * body, one dict store in environ (its app's limits, fs_limits_of).  The
 * config's own keys (about ten dict look-ups) are read only
 * when the config may have changed since a request found it conforming:
 * otherwise a comparison of its dict version tag stands for them
 * (fs_app_config_settled).  Everything that allocates or logs happens
 * only when a value differs from the policy.
 * The checks it runs live with their concern: fs_app_debug.c (debug-class
 * settings), fs_app_key.c (SECRET_KEY); here are the body limits, the
 * pins, and the order of it all.
 */
#include "fs_guard.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "fs_app_debug.h"
#include "fs_app_key.h"
#include "fs_headers.h"
#include "fs_input.h"
#include "fs_limits.h"
#include "fs_record_file.h"
#include "fs_reload.h"
#include "fs_respond.h"

/* Pins use the bits of `logged` from FS_LOGGED_PIN0 up (pins past the
 * last bit share it: all are enforced, the first of those is logged). */
#define FS_PIN_BIT(i) (1ull << (FS_LOGGED_PIN0 + ((i) < 63 - FS_LOGGED_PIN0 \
                                                 ? (i) : 63 - FS_LOGGED_PIN0)))

/* body.capped: `key` went from cur (-1: no limit) to cap. */
static void
fs_log_capped(fs_appstate *st, const char *key, long long cur, long long cap)
{
    struct fs_logline l;

    fs_app_log_begin(&l, FS_INFO, "body.capped", st);
    fs_log_str(&l, "key", key);
    if (cur >= 0) {
        fs_log_int(&l, "old", cur);
    }
    else {
        fs_log_str(&l, "old", NULL);
    }
    fs_log_int(&l, "new", cap);
    fs_log_bool(&l, "enforced", fs_app_enforcing(st));
    fs_log_end(&l);
}

/* Cap one size in the config at `cap`; returns the effective value. */
static long long
fs_guard_cap(fs_appstate *st, const struct fs_config *c, int k,
             long long cap, unsigned long long bit)
{
    PyObject *v = fs_dict_get(c->items, st->keys[k]);
    int i = k - FS_K_MCL;
    long long cur = -1, own, want;
    bool mine;
    PyObject *n;

    /* a float limit (5e5 from TOML) too; one that limits nothing (inf,
     * past long long) is none */
    if (fs_limit_whole(v, &cur) && cur == LLONG_MAX) {
        cur = -1;
    }
    /* The app's own, lower limit stands.  A value the library wrote (under
     * a policy since replaced) stands for the app's own it replaced: when
     * the policy is relaxed again, the app's lower limit comes back. */
    mine = cur >= 0 && cur == st->written[i];
    own = mine ? st->own[i] : cur;
    want = own >= 0 && own < cap ? own : cap;
    if (cur == want) {
        return cur;
    }
    n = PyLong_FromLongLong(want);
    if (n == NULL) {
        fs_err_clear();
        return want;
    }
    fs_app_config_set(st, c, st->keys[k], n);
    FS_DECREF(n);
    if (fs_app_enforcing(st)) {
        st->own[i] = own;
        st->written[i] = want;
    }
    if (want != cap) {
        return want;                    /* the app's own, given back */
    }
    fs_count(st->slot, FS_CNT_FIX_BODY_LIMIT, fs_app_enforcing(st));
    if (fs_app_once(st, bit)) {
        fs_log_capped(st, fs_key_names[k], cur, cap);
    }
    return cap;
}

/* The form limits also live on the app's request class (as plain class
 * attributes before Werkzeug 3.1, and in any subclass an app sets as
 * request_class): give a new class the capping descriptors, and report
 * what it would have allowed.  Runs when app.request_class changes. */
static void
fs_guard_request_class(fs_patch *p, fs_appstate *st, PyObject *app,
                       bool in_config)
{
    static const char *const attrs[2] = {"max_form_memory_size",
                                         "max_form_parts"};
    long long caps[2] = {st->s->max_form_memory_size, st->s->max_form_parts};
    PyObject *cls = PyObject_GetAttr(app, p->names[FS_N_REQUEST_CLASS]);
    int i;

    if (cls == NULL || cls == st->request_class) {
        fs_err_clear();
        FS_XDECREF(cls);
        return;
    }
    FS_XSETREF(st->request_class, cls);     /* keeps the reference */
    for (i = 0; i < 2; i++) {
        PyObject *v = PyObject_GetAttrString(cls, attrs[i]);
        long long cur = -1;
        bool is_none = v == FS_None;

        if (v == NULL) {
            fs_err_clear();
        }
        fs_limit_whole(v, &cur);            /* an int, or a float (1e6) */
        FS_XDECREF(v);
        /* A property (Flask 3.1), or None deferring to the config, is
         * judged in the config; only a class value of its own counts. */
        if ((!is_none && cur < 0) || (in_config && is_none)
            || (cur >= 0 && cur <= caps[i])) {
            continue;
        }
        fs_count(st->slot, FS_CNT_FIX_BODY_LIMIT, fs_app_enforcing(st));
        if (!fs_app_once(st, FS_LOGGED_FORM_CLASS << i)) {
            continue;
        }
        fs_log_capped(st, attrs[i], cur, caps[i]);
    }
    if (fs_app_enforcing(st) && fs_limits_install(cls) < 0) {
        fs_err_clear();
    }
}

static void
fs_guard_body(fs_patch *p, fs_appstate *st, PyObject *app,
              const struct fs_config *c)
{
    long long mcl, fms, fp;

    bool in_config = fs_dict_get(c->items, st->keys[FS_K_FMS]) != NULL;

    mcl = fs_guard_cap(st, c, FS_K_MCL, st->s->max_content_length,
                       FS_LOGGED_MCL);
    fms = st->s->max_form_memory_size;
    fp = st->s->max_form_parts;
    if (in_config) {
        fms = fs_guard_cap(st, c, FS_K_FMS, fms, FS_LOGGED_FMS);
        fp = fs_guard_cap(st, c, FS_K_FP, fp, FS_LOGGED_FP);
    }
    fs_guard_request_class(p, st, app, in_config);
    if (st->limits == NULL || mcl != st->limit || fms != st->limit_fms
        || fp != st->limit_fp) {
        FS_XSETREF(st->limits, fs_limits_tuple(mcl, fms, fp, st->slot,
                                                 st->s->max_content_length));
        if (st->limits == NULL) {
            fs_err_clear();
        }
        st->limit = mcl;
        st->limit_fms = fms;
        st->limit_fp = fp;
    }
}

/* The pins, from one snapshot of the app's pin tuples (own references):
 * comparing a value can run the app's __eq__, which may let another thread
 * reload the policy and replace them.  The log line is made from the
 * snapshot too, never from the settings of a policy that may be gone. */
static void
fs_guard_pins(fs_appstate *st, const struct fs_config *c)
{
    PyObject *keys = st->pin_keys, *values = st->pin_values;
    Py_ssize_t i, n = PyTuple_Size(keys);

    if (n <= 0 || PyTuple_Size(values) != n) {
        fs_err_clear();
        return;
    }
    FS_INCREF(keys);
    FS_INCREF(values);
    for (i = 0; i < n; i++) {
        PyObject *k = PyTuple_GetItem(keys, i);
        PyObject *want = PyTuple_GetItem(values, i);
        PyObject *cur = fs_dict_get(c->items, k);
        struct fs_logline l;
        bool enforced;
        int same;

        if (cur == want) {
            continue;
        }
        /* the type must match too: 1 is not True for a pin */
        FS_XINCREF(cur);
        same = cur != NULL && !(fs_is_int(want) && Py_TYPE(cur) != Py_TYPE(want))
               && PyObject_RichCompareBool(cur, want, Py_EQ) == 1;
        FS_XDECREF(cur);
        fs_err_clear();
        if (same) {
            continue;
        }
        enforced = fs_app_config_set(st, c, k, want);
        fs_count(st->slot, FS_CNT_FIX_PIN, enforced);
        if (fs_app_once(st, FS_PIN_BIT(i))) {
            fs_app_log_begin(&l, FS_INFO, "config.pinned", st);
            fs_log_str(&l, "key", PyUnicode_AsUTF8AndSize(k, NULL));
            if (want == FS_True || want == FS_False) {
                fs_log_bool(&l, "value", want == FS_True);
            }
            else if (fs_is_int(want)) {
                fs_log_int(&l, "value", PyLong_AsLongLong(want));
            }
            else {
                fs_log_str(&l, "value", PyUnicode_AsUTF8AndSize(want, NULL));
            }
            fs_err_clear();
            fs_log_bool(&l, "enforced", enforced);
            fs_log_end(&l);
        }
    }
    FS_DECREF(keys);
    FS_DECREF(values);
}

/* The slot that a refusal at `limit` counts in: the app's, or -1 when
 * the limit is the app's own, lower than the policy's. */
static int
fs_guard_slot_at(const fs_appstate *st, long long limit)
{
    return limit >= st->s->max_content_length ? st->slot : -1;
}

/* Is environ["wsgi.input"] a socket file: a BufferedReader over a
 * SocketIO, as a server built on socketserver (wsgiref.simple_server,
 * whatever name its handler gives in SERVER_SOFTWARE) hands over? */
static bool
fs_guard_socket_file(fs_patch *p, PyObject *env)
{
    PyObject *in = fs_dict_get(env, p->names[FS_N_WSGI_INPUT]);
    PyObject *raw;
    bool sock;

    if (in == NULL
        || strcmp(Py_TYPE(in)->tp_name, "_io.BufferedReader") != 0) {
        return false;
    }
    raw = PyObject_GetAttrString(in, "raw");
    sock = raw != NULL && strcmp(Py_TYPE(raw)->tp_name, "SocketIO") == 0;
    FS_XDECREF(raw);
    fs_err_clear();
    return sock;
}

/* Is environ["wsgi.input"] the socket file of Werkzeug's development
 * server or of wsgiref.simple_server?  It ends where the connection ends,
 * not where the body does: read directly, it reads the bytes a client
 * sends after the body (the next request, or any number more).
 * werkzeug.serving ends it itself (wsgi.input_terminated) only for a
 * chunked body, which it de-chunks; wsgiref never does.  A server that
 * ends the stream itself (gunicorn, waitress) stops at the first dict
 * look-up; others cost three. */
static bool
fs_guard_on_socket(fs_patch *p, PyObject *env)
{
    return fs_dict_get(env, p->names[FS_N_INPUT_TERMINATED]) == NULL
           && (fs_dict_get(env, p->names[FS_N_WERKZEUG_SOCKET]) != NULL
               || fs_guard_socket_file(p, env));
}

/* Bound the body: refuse a declared length over the limit, and read every
 * body whose length is not a plain number -- none with Transfer-Encoding
 * (chunked, with or without a Content-Length beside it), or a
 * Content-Length Werkzeug would read otherwise than the guard -- through
 * the bounded stream.  On a development server's socket file the body
 * is read through an Input in declared mode: the declared length, or none
 * without a Content-Length.  Returns a response (413), NULL on error, or
 * None to go on. */
static PyObject *
fs_guard_input(fs_patch *p, fs_appstate *st, PyObject *env,
               PyObject *start_response)
{
    long long len;
    enum fs_clen kind = fs_input_length(p, env, &len);
    PyObject *in, *wrapped;

    /* a request with a body carries its app's limits: what reads the body
     * (fs_patch_request.c, fs_limits.c) may run where fs_app_current is
     * another request's (green threads); one without finds them there */
    if (st->limits != NULL && !(kind == FS_CLEN_ABSENT
                                || (kind == FS_CLEN_VALUE && len == 0))
        && PyDict_SetItem(env, p->names[FS_N_LIMITS], st->limits) < 0) {
        fs_err_clear();
    }
    if (kind == FS_CLEN_VALUE && len > st->limit) {
        if (len > st->s->max_content_length) {      /* not the app's own */
            fs_count(st->slot, FS_CNT_REFUSED_BODY, true);
        }
        return fs_respond_413(st, env, start_response);
    }
    if (kind != FS_CLEN_UNKNOWN && !fs_guard_on_socket(p, env)) {
        FS_RETURN_NONE;
    }
    in = fs_dict_get(env, p->names[FS_N_WSGI_INPUT]);
    if (in == NULL) {
        FS_RETURN_NONE;
    }
    wrapped = kind == FS_CLEN_UNKNOWN
        ? fs_input_new(p->input_type, in, st->limit,
                       fs_guard_slot_at(st, st->limit), false)
        : fs_input_declared(p->input_type, in,
                            kind == FS_CLEN_VALUE ? len : 0);
    if (wrapped == NULL
        || PyDict_SetItem(env, p->names[FS_N_WSGI_INPUT], wrapped) < 0) {
        fs_err_clear();
    }
    FS_XDECREF(wrapped);
    FS_RETURN_NONE;     /* an exception left set: fs_call_orig passes it on */
}

/* Report mode: count what enforce would have refused -- a key refused, a
 * declared body over the policy's limit, a body of unknown length that
 * proves longer (read through a counting Input that passes it all on). */
static void
fs_guard_report(fs_patch *p, fs_appstate *st, PyObject *env,
                enum fs_secret_verdict v)
{
    long long len, cap = st->s->max_content_length;
    enum fs_clen kind;
    PyObject *in, *wrapped;

    if (v != FS_SECRET_OK && st->s->sk_on_violation != FS_VIOLATION_WARN) {
        fs_count(st->slot, FS_CNT_REFUSED_SECRET_KEY, false);
        return;
    }
    kind = fs_input_length(p, env, &len);
    if (kind == FS_CLEN_VALUE && len > cap) {
        fs_count(st->slot, FS_CNT_REFUSED_BODY, false);
    }
    in = kind == FS_CLEN_UNKNOWN
         ? fs_dict_get(env, p->names[FS_N_WSGI_INPUT]) : NULL;
    if (in == NULL) {
        return;
    }
    wrapped = fs_input_new(p->input_type, in, cap, st->slot, true);
    if (wrapped == NULL
        || PyDict_SetItem(env, p->names[FS_N_WSGI_INPUT], wrapped) < 0) {
        fs_err_clear();
    }
    FS_XDECREF(wrapped);
}

/* The secret is bad: what the policy says to do now. */
static PyObject *
fs_guard_refuse(fs_appstate *st, PyObject *env, PyObject *start_response)
{
    fs_count(st->slot, FS_CNT_REFUSED_SECRET_KEY, true);
    if (st->s->sk_on_violation == FS_VIOLATION_EXIT) {
        _exit(78);              /* EX_CONFIG; the line is already written */
    }
    return fs_respond_500(st, env, start_response);
}

/* The guard proper, on args = (app, environ, start_response), which it
 * passes on to the original as they came (nargsf: 3, with or without
 * PY_VECTORCALL_ARGUMENTS_OFFSET). */
static PyObject *
fs_guard_wsgi(fs_patch *p, PyObject *orig, PyObject *const *args,
              size_t nargsf)
{
    PyObject *app, *env, *start_response, *config, *r;
    struct fs_config c;
    struct fs_app_current prev;
    fs_appstate *st;
    enum fs_secret_verdict v;
    uint64_t version;

    fs_record_own();                    /* a fork() child's first request */
    fs_reload_tick();
    if (fs_counters_pending) {
        fs_counters_tick();
    }
    app = args[0];
    env = args[1];
    start_response = args[2];
    st = fs_app_state_at(app, p->names[FS_N_STATE]);
    if (st == NULL) {
        fs_err_clear();
        return fs_call_orig_v(orig, args, nargsf, NULL);
    }
    config = st->s->mode == FS_MODE_OFF || !fs_is_dict(env)
             ? NULL : PyObject_GetAttr(app, p->names[FS_N_CONFIG]);
    if (config != NULL && fs_app_config_settled(st, app, config)) {
        /* as the last full check left it (in enforce mode, as settings of
         * the same generation say): only the request class can have
         * changed */
        fs_guard_request_class(p, st, app, st->settled_fms);
        v = FS_SECRET_OK;
    }
    else if (config == NULL || !fs_is_dict(config)
             || fs_app_config_read(st, config, 0, FS_K_COUNT - 1, true,
                                   &c) < 0) {
        fs_err_clear();
        FS_XDECREF(config);
        FS_DECREF(st);
        return fs_call_orig_v(orig, args, nargsf, NULL);
    }
    else {
        /* reading a flask.Config changes nothing in it */
        version = fs_dict_version(config);
        fs_app_debug_entry(st, &c);
        fs_guard_pins(st, &c);
        fs_guard_body(p, st, app, &c);
        v = fs_app_check_secret_of(st, app, c.items);
        fs_app_config_settle(st, &c, version,
                             fs_app_enforcing(st) && v == FS_SECRET_OK);
        fs_app_config_done(&c);
    }
    FS_DECREF(config);
    r = NULL;
    if (!fs_app_enforcing(st)) {
        /* report mode: logs the redirect it would make, makes none;
         * counts what enforce would refuse */
        FS_XDECREF(fs_headers_redirect(p, st, app, env, start_response));
        fs_err_clear();
        fs_guard_report(p, st, env, v);
    }
    else {
        if (v != FS_SECRET_OK && st->s->sk_on_violation != FS_VIOLATION_WARN) {
            r = fs_guard_refuse(st, env, start_response);
            FS_DECREF(st);
            return r;
        }
        r = fs_headers_redirect(p, st, app, env, start_response);
        if (r != FS_None) {
            FS_DECREF(st);
            return r;
        }
        FS_DECREF(r);
        r = fs_guard_input(p, st, env, start_response);
        if (r != FS_None) {
            FS_DECREF(st);
            return r;
        }
        FS_DECREF(r);
    }
    prev = fs_app_enter(app, st);
    r = fs_call_orig_v(orig, args, nargsf, NULL);
    fs_app_leave(prev);
    FS_DECREF(st);
    return r;
}

PyObject *
fs_guard_call(fs_patch *p, PyObject *orig, PyObject *args, PyObject *kwargs)
{
    PyObject *bound, *r2;

    if ((kwargs == NULL || PyDict_Size(kwargs) == 0)
        && PyTuple_Size(args) == 3) {
        return fs_guard_wsgi(p, orig, fs_tuple_items(args), 3);
    }
    bound = fs_args_wsgi(args, kwargs);
    if (bound == NULL) {
        return fs_call_orig(orig, args, kwargs);
    }
    r2 = fs_guard_wsgi(p, orig, fs_tuple_items(bound), 3);
    FS_DECREF(bound);
    return r2;
}

PyObject *
fs_guard_vcall(fs_patch *p, PyObject *orig, PyObject *const *args,
               size_t nargsf, PyObject *kwnames)
{
    if (kwnames != NULL || PyVectorcall_NARGS(nargsf) != 3) {
        return FS_PATCH_AS_TUPLE;
    }
    return fs_guard_wsgi(p, orig, args, nargsf);    /* the usual call */
}
