/*
 * fs_patch_werkzeug.c -- the patches of werkzeug.serving, werkzeug._reloader
 * and werkzeug.debug.
 *
 * run_simple() is where Flask.run, `flask run` and direct callers all end,
 * so the development server is decided here (policy `dev_server`): run as
 * asked, warn, refuse (status 78, no traceback) or serve the same app with
 * waitress on the same host and port.  Its use_debugger/use_evalex and
 * use_reloader arguments are switched off first.  make_server(), which
 * run_simple calls and which a program can call itself before
 * serve_forever(), and BaseWSGIServer.__init__ (a server object made by
 * hand: ThreadedWSGIServer(host, port, app)) take the same decision (one
 * implementation, fs_dev_server), once per server: what a decided call
 * makes passes through.  Waitress cannot stand in where the caller drives
 * the server object itself, nor for TLS (ssl_context), static_files, a
 * request_handler of the caller's or a unix:// socket: there "waitress"
 * refuses and says why.  A call Werkzeug would reject goes
 * to it unchanged (fs_args_fit).  run_with_reloader(), the reloader
 * started without run_simple (Flask-SocketIO with eventlet or gevent), runs
 * its function once without the reloader under debug.force_off.
 *
 * DebuggedApplication.__call__ passes every request straight to the wrapped
 * application when the debugger is blocked, so a hand-wrapped debugger is
 * unreachable under any server: /console and tracebacks never answer.
 *
 * Each logs once: per app when the application is a Flask app (or a bound
 * wsgi_app of one), else once per process.
 */
#include "fs_patches.h"

#include <string.h>

#include "fs_app_debug.h"
#include "fs_app_key.h"
#include "fs_guard.h"
#include "fs_patch.h"
#include "fs_state.h"

static const char *const fs_run_simple_params[] = {
    "hostname", "port", "application", "use_reloader", "use_debugger",
    "use_evalex", "extra_files", "exclude_patterns", "reloader_interval",
    "reloader_type", "threaded", "processes", "request_handler",
    "static_files", "passthrough_errors", "ssl_context",
};

static const char fs_advice[] =
    "the development server is not for production: serve the app with "
    "gunicorn (gunicorn -w 4 module:app) or waitress (waitress-serve "
    "module:app)";

static PyObject *
fs_exit_78(void)
{
    PyObject *code = PyLong_FromLong(78);

    PyErr_SetObject(FS_ExcSystemExit, code);
    FS_XDECREF(code);
    return NULL;
}

/* Set, for this thread, while Werkzeug's run_simple or make_server runs
 * under a decision taken: the make_server() and the server object that it
 * makes next are its own, decided and logged already.  Taken by that
 * server's BaseWSGIServer.__init__ (a later server in the same thread, from
 * a request handler of an unthreaded server, decides for itself). */
static _Thread_local bool fs_decided;

/* dev_server.replaced: waitress serves instead (enforce), or would. */
static void
fs_log_replaced(struct fs_subject *sub, PyObject *kw, const char *via,
                bool enforce)
{
    struct fs_logline l;

    fs_subject_count(sub, FS_CNT_FIX_DEV_SERVER, enforce);
    fs_subject_log(sub, &l, FS_WARN, "dev_server.replaced");
    fs_log_str(&l, "via", via);
    fs_log_str(&l, "server", "waitress");
    fs_log_bool(&l, "threaded", fs_kw_true(kw, "threaded"));
    fs_log_bool(&l, "enforced", enforce);
    fs_log_end(&l);
}

/* Serve with waitress instead: waitress.serve(app, host, port, threads);
 * NULL with no exception set when waitress cannot be imported. */
static PyObject *
fs_serve_waitress(struct fs_subject *sub, PyObject *kw, const char *via)
{
    PyObject *waitress = PyImport_ImportModule("waitress");
    PyObject *serve, *args, *skw, *r;

    if (waitress == NULL) {
        fs_err_clear();
        return NULL;
    }
    serve = PyObject_GetAttrString(waitress, "serve");
    FS_DECREF(waitress);
    if (serve == NULL) {
        fs_err_clear();
        return NULL;
    }
    fs_log_replaced(sub, kw, via, true);
    args = PyTuple_Pack(1, PyDict_GetItemString(kw, "application"));
    skw = Py_BuildValue("{sOsOsi}",
                        "host", PyDict_GetItemString(kw, "hostname"),
                        "port", PyDict_GetItemString(kw, "port"),
                        "threads", fs_kw_true(kw, "threaded") ? 4 : 1);
    r = args != NULL && skw != NULL ? PyObject_Call(serve, args, skw) : NULL;
    FS_XDECREF(args);
    FS_XDECREF(skw);
    FS_DECREF(serve);
    return r;
}

/* Why waitress cannot stand in for this server faithfully, or NULL.
 * `via`: the Werkzeug function that was to start the server. */
static const char *
fs_waitress_unfaithful(PyObject *kw, const char *via)
{
    PyObject *v;
    const char *host;

    if (strcmp(via, "run_simple") != 0) {
        return "the caller drives the server object itself (make_server, "
               "BaseWSGIServer)";
    }
    v = PyDict_GetItemString(kw, "ssl_context");
    if (v != NULL && v != FS_None) {
        return "ssl_context: waitress would serve plain HTTP";
    }
    v = PyDict_GetItemString(kw, "static_files");
    if (v != NULL && v != FS_None) {
        return "static_files: waitress serves no static files";
    }
    v = PyDict_GetItemString(kw, "request_handler");
    if (v != NULL && v != FS_None) {
        return "request_handler: waitress would not run the handler";
    }
    v = PyDict_GetItemString(kw, "hostname");
    host = v != NULL && fs_is_str(v) ? PyUnicode_AsUTF8AndSize(v, NULL)
                                     : NULL;
    fs_err_clear();
    if (host != NULL && strncmp(host, "unix://", 7) == 0) {
        return "hostname: a unix:// socket, which waitress takes otherwise";
    }
    return NULL;
}

/* The original, the decision taken. */
static PyObject *
fs_dev_server_orig(PyObject *orig, PyObject *pos, PyObject *kw)
{
    PyObject *r;

    fs_decided = true;
    r = fs_call_orig(orig, pos, kw);
    fs_decided = false;
    return r;
}

/* Apply dev_server to a development server about to start through `via`
 * (run_simple, make_server or BaseWSGIServer, with its arguments by name in
 * kw); returns the result of serving, or NULL.  The one decision of all
 * three: the make_server() and server of a decided call pass through
 * (fs_decided). */
static PyObject *
fs_dev_server(struct fs_subject *sub, PyObject *orig, PyObject *pos,
              PyObject *kw, const char *via)
{
    enum fs_dev_server d = sub->s->dev_server;
    bool enforce = sub->s->mode == FS_MODE_ENFORCE;
    const char *reason = NULL;
    struct fs_logline l;
    PyObject *r, *port = PyDict_GetItemString(kw, "port");

    /* Werkzeug's own refusal, whatever the policy (waitress would take
     * a str, a refusal would exit): no server is decided */
    if (strcmp(via, "run_simple") == 0 && (port == NULL || !fs_is_int(port))) {
        PyErr_SetString(FS_ExcTypeError, "port must be an integer");
        return NULL;
    }

    if (d == FS_DEV_WARN) {
        fs_subject_count(sub, FS_CNT_FIX_DEV_SERVER, false);
    }
    if (d == FS_DEV_WARN && fs_subject_once(sub, FS_LOGGED_DEV_SERVER)) {
        fs_subject_log(sub, &l, FS_WARN, "dev_server.used");
        fs_log_str(&l, "via", via);
        fs_log_str(&l, "advice", fs_advice);
        fs_log_end(&l);
    }
    if (d == FS_DEV_WAITRESS) {
        reason = fs_waitress_unfaithful(kw, via);
        if (reason == NULL && !enforce) {
            fs_log_replaced(sub, kw, via, false);
            return fs_dev_server_orig(orig, pos, kw);
        }
        if (reason == NULL) {
            r = fs_serve_waitress(sub, kw, via);
            if (r != NULL || PyErr_Occurred()) {
                return r;
            }
            reason = "waitress is not importable";
        }
    }
    if (d == FS_DEV_REFUSE || d == FS_DEV_WAITRESS) {
        fs_subject_count(sub, FS_CNT_FIX_DEV_SERVER, enforce);
        fs_subject_log(sub, &l, FS_ERROR, "dev_server.refused");
        fs_log_str(&l, "via", via);
        fs_log_str(&l, "advice", fs_advice);
        if (reason != NULL) {
            fs_log_str(&l, "reason", reason);
        }
        fs_log_bool(&l, "enforced", enforce);
        fs_log_end(&l);
        if (enforce) {
            return fs_exit_78();
        }
    }
    return fs_dev_server_orig(orig, pos, kw);
}

/* run_simple's kw[arg] asked for the reloader or the debugger: note the
 * finding and, enforcing, switch it off.  -1 with an exception set on
 * error. */
static int
fs_switch_off(struct fs_subject *sub, PyObject *kw, const char *arg,
              enum fs_debug_finding f)
{
    bool enforce = sub->s->mode == FS_MODE_ENFORCE;

    if (!fs_kw_true(kw, arg)) {
        return 0;
    }
    fs_debug_note(sub, f, strcmp(fs_debug_source(NULL), "cli") == 0
                          ? "cli" : "argument", "run_simple", enforce);
    return enforce ? PyDict_SetItemString(kw, arg, FS_False) : 0;
}

static PyObject *
fs_run_simple(fs_patch *p, PyObject *orig, PyObject *args, PyObject *kwargs)
{
    struct fs_subject sub;
    PyObject *pos = NULL, *kw, *r = NULL;
    bool enforce;

    (void)p;
    /* A call run_simple itself rejects (a required argument missing, too
     * many positionals, an unknown keyword) goes to it unchanged, for its
     * own TypeError. */
    kw = fs_args_fit(args, kwargs, 0, fs_run_simple_params, 16, 3, &pos);
    if (kw == NULL) {
        return fs_call_orig(orig, args, kwargs);
    }
    if (!fs_subject_init(&sub, PyDict_GetItemString(kw, "application"))) {
        r = fs_call_orig(orig, pos, kw);
        goto done;
    }
    enforce = sub.s->mode == FS_MODE_ENFORCE;
    if (sub.s->mode == FS_MODE_OFF) {
        r = fs_call_orig(orig, pos, kw);
        goto done;
    }
    if ((sub.s->debug_force_off
         && fs_switch_off(&sub, kw, "use_reloader", FS_DF_DEBUG) < 0)
        || (sub.s->debugger == FS_DEBUGGER_BLOCK
            && fs_switch_off(&sub, kw, "use_debugger", FS_DF_DEBUGGER) < 0)) {
        goto done;
    }
    if (sub.st != NULL) {
        PyObject *app = fs_flask_app_of(PyDict_GetItemString(kw,
                                                             "application"));
        enum fs_secret_verdict v = app != NULL
            ? fs_app_check_secret(sub.st, app) : FS_SECRET_OK;
        FS_XDECREF(app);
        if (v != FS_SECRET_OK && enforce
            && sub.s->sk_on_violation == FS_VIOLATION_EXIT) {
            r = fs_exit_78();
            goto done;
        }
    }
    r = fs_dev_server(&sub, orig, pos, kw, "run_simple");
done:
    fs_subject_done(&sub);
    FS_XDECREF(pos);
    FS_DECREF(kw);
    return r;
}

static const char *const fs_make_server_params[] = {
    "host", "port", "app", "threaded", "processes", "request_handler",
    "passthrough_errors", "ssl_context", "fd",
};

/* A development server started without run_simple, through `via`:
 * make_server(host, port, app, ...), whose caller then calls
 * serve_forever(), or a server object's __init__(self, host, port, app,
 * ...) (`keep` 1: the bound self), made by hand, e.g.
 * ThreadedWSGIServer(...).serve_forever().  Under dev_server as
 * run_simple's is, unless it belongs to a decided call (fs_decided): then
 * it passes through, and the server object (`takes`) takes the flag. */
static PyObject *
fs_server_entry(PyObject *orig, PyObject *args, PyObject *kwargs,
                Py_ssize_t keep, const char *const *names, Py_ssize_t n,
                const char *via, bool takes)
{
    struct fs_subject sub;
    PyObject *pos = NULL, *kw, *r;

    if (fs_decided) {
        fs_decided = !takes;
        return fs_call_orig(orig, args, kwargs);
    }
    kw = fs_args_fit(args, kwargs, keep, names, n, 3, &pos);
    if (kw == NULL) {
        return fs_call_orig(orig, args, kwargs);
    }
    if (!fs_subject_init(&sub, PyDict_GetItemString(kw, "app"))
        || sub.s->mode == FS_MODE_OFF) {
        r = fs_call_orig(orig, pos, kw);
    }
    else {
        r = fs_dev_server(&sub, orig, pos, kw, via);
    }
    fs_subject_done(&sub);
    FS_XDECREF(pos);
    FS_DECREF(kw);
    return r;
}

static PyObject *
fs_make_server(fs_patch *p, PyObject *orig, PyObject *args, PyObject *kwargs)
{
    (void)p;
    return fs_server_entry(orig, args, kwargs, 0, fs_make_server_params, 9,
                           "make_server", false);
}

static const char *const fs_server_init_params[] = {
    "host", "port", "app", "handler", "passthrough_errors", "ssl_context",
    "fd",
};

/* BaseWSGIServer.__init__, also of its threaded and forking subclasses. */
static PyObject *
fs_server_init(fs_patch *p, PyObject *orig, PyObject *args,
               PyObject *kwargs)
{
    (void)p;
    return fs_server_entry(orig, args, kwargs, 1, fs_server_init_params, 7,
                           "BaseWSGIServer", true);
}

/* main_func() as run_with_reloader runs it, without the reloader: None,
 * and Ctrl-C ends it quietly (Werkzeug's catches KeyboardInterrupt). */
static PyObject *
fs_run_main(PyObject *main)
{
    PyObject *r = PyObject_CallObject(main, NULL);

    if (r == NULL) {
        if (!PyErr_ExceptionMatches(FS_ExcKeyboardInterrupt)) {
            return NULL;
        }
        PyErr_Clear();
    }
    FS_XDECREF(r);
    FS_RETURN_NONE;
}

static const char *const fs_reloader_params[] = {
    "main_func", "extra_files", "exclude_patterns", "interval",
    "reloader_type",
};

/* werkzeug._reloader.run_with_reloader(main_func, ...): the reloader
 * started without run_simple (Flask-SocketIO's socketio.run with an
 * eventlet or gevent server, a hand-made one).  Under debug.force_off, in
 * enforce mode, main_func runs here, once, without the reloader. */
static PyObject *
fs_run_with_reloader(fs_patch *p, PyObject *orig, PyObject *args,
                     PyObject *kwargs)
{
    struct fs_subject sub;
    PyObject *pos = NULL, *kw, *main, *r;
    bool enforce;

    (void)p;
    kw = fs_args_fit(args, kwargs, 0, fs_reloader_params, 5, 1, &pos);
    if (kw == NULL) {
        return fs_call_orig(orig, args, kwargs);
    }
    main = PyDict_GetItemString(kw, "main_func");
    if (!fs_subject_init(&sub, NULL) || sub.s->mode == FS_MODE_OFF
        || !sub.s->debug_force_off) {
        r = fs_call_orig(orig, pos, kw);
    }
    else {
        enforce = sub.s->mode == FS_MODE_ENFORCE;
        fs_debug_note(&sub, FS_DF_DEBUG, "argument", "run_with_reloader",
                      enforce);
        r = enforce ? fs_run_main(main) : fs_call_orig(orig, pos, kw);
    }
    fs_subject_done(&sub);
    FS_XDECREF(pos);
    FS_DECREF(kw);
    return r;
}

/* DebuggedApplication.__call__(self, environ, start_response) */
static PyObject *
fs_debugged_call(fs_patch *p, PyObject *orig, PyObject *args,
                 PyObject *kwargs)
{
    struct fs_subject sub;
    PyObject *call, *inner, *r;

    (void)p;
    /* by name too (self, environ, start_response): every call that binds */
    call = kwargs == NULL && PyTuple_Size(args) == 3
           ? fs_new_ref(args) : fs_args_wsgi(args, kwargs);
    if (call == NULL) {
        return fs_call_orig(orig, args, kwargs);
    }
    inner = PyObject_GetAttrString(PyTuple_GetItem(call, 0), "app");
    if (inner == NULL) {
        fs_err_clear();
        FS_DECREF(call);
        return fs_call_orig(orig, args, kwargs);
    }
    if (!fs_subject_init(&sub, inner) || sub.s->mode == FS_MODE_OFF
        || sub.s->debugger != FS_DEBUGGER_BLOCK) {
        r = fs_call_orig(orig, args, kwargs);
    }
    else {
        fs_debug_note(&sub, FS_DF_DEBUGGER, "DebuggedApplication", NULL,
                      sub.s->mode == FS_MODE_ENFORCE);
        r = sub.s->mode == FS_MODE_ENFORCE
            ? PyObject_CallFunctionObjArgs(inner, PyTuple_GetItem(call, 1),
                                           PyTuple_GetItem(call, 2), NULL)
            : fs_call_orig(orig, args, kwargs);
    }
    fs_subject_done(&sub);
    FS_DECREF(inner);
    FS_DECREF(call);
    return r;
}

/* module.<cls>.<name> = Patch(...), for `target` "<cls>.<name>". */
static int
fs_patch_method(PyObject *module, const char *cls_name, const char *name,
                fs_patch_fn fn, const char *modname, const char *target)
{
    PyObject *cls = PyObject_GetAttrString(module, cls_name);
    int rc;

    if (cls == NULL) {
        return -1;
    }
    rc = fs_patch_attr(cls, name, fn, modname, target);
    FS_DECREF(cls);
    return rc;
}

int
fs_patch_werkzeug_serving(PyObject *module)
{
    if (fs_patch_attr(module, "run_simple", fs_run_simple,
                      "werkzeug.serving", "run_simple") < 0) {
        return -1;
    }
    if (fs_patch_attr(module, "make_server", fs_make_server,
                      "werkzeug.serving", "make_server") < 0) {
        return -1;
    }
    return fs_patch_method(module, "BaseWSGIServer", "__init__",
                           fs_server_init, "werkzeug.serving",
                           "BaseWSGIServer.__init__");
}

int
fs_patch_werkzeug_reloader(PyObject *module)
{
    return fs_patch_attr(module, "run_with_reloader", fs_run_with_reloader,
                         "werkzeug._reloader", "run_with_reloader");
}

int
fs_patch_werkzeug_debug(PyObject *module)
{
    return fs_patch_method(module, "DebuggedApplication", "__call__",
                           fs_debugged_call, "werkzeug.debug",
                           "DebuggedApplication.__call__");
}
