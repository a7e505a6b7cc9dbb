/*
 * fs_patch_flask.c -- the patches of flask.app: the request guard on
 * Flask.wsgi_app, the checks of Flask.run, and where the security headers
 * and the HTTPS redirect go in (fs_headers.c).
 *
 * Flask.run(host, port, debug, load_dotenv, **options) is the earliest
 * place a `python app.py` deployment can be corrected: debug=True (from the
 * argument, FLASK_DEBUG, FLASK_ENV or the config) becomes debug=False, the
 * reloader and the debugger are switched off, and the SECRET_KEY is judged
 * before anything is served (on_violation = "exit" ends the process here
 * with status 78).  A subclass that overrides run() and calls
 * super().run(debug=True) lands here too.  What to do about the development
 * server itself is decided in werkzeug.serving.run_simple
 * (fs_patch_werkzeug.c), where every path to it ends.
 */
#include "fs_patches.h"

#include <stdlib.h>
#include <string.h>

#include "fs_app_debug.h"
#include "fs_app_key.h"
#include "fs_guard.h"
#include "fs_headers.h"
#include "fs_limits.h"
#include "fs_patch.h"
#include "fs_state.h"

static const char *const fs_run_params[] = {"self", "host", "port", "debug",
                                            "load_dotenv"};

/* Would Flask.run turn debug on, given its debug argument? */
static const char *
fs_run_debug_source(fs_appstate *st, PyObject *app, PyObject *kw)
{
    PyObject *d = PyDict_GetItemString(kw, "debug");
    PyObject *cur;
    int on;

    (void)st;
    if (d != NULL && d != FS_None) {
        on = PyObject_IsTrue(d);
        fs_err_clear();
        return on > 0 ? "argument" : NULL;
    }
    if (strcmp(fs_debug_source(NULL), "environment") == 0) {
        return "environment";
    }
    cur = PyObject_GetAttrString(app, "debug");
    on = cur != NULL ? PyObject_IsTrue(cur) : 0;
    FS_XDECREF(cur);
    fs_err_clear();
    return on > 0 ? "config" : NULL;
}

static PyObject *
fs_flask_run(fs_patch *p, PyObject *orig, PyObject *args, PyObject *kwargs)
{
    const char *cli = getenv("FLASK_RUN_FROM_CLI");
    const struct fs_app_settings *s;
    PyObject *pos = NULL, *kw, *app, *r = NULL;
    bool enforce;
    fs_appstate *st;
    struct fs_subject sub;
    const char *source;

    (void)p;
    /* positionally or by name, self too: a call that does not bind is the
     * original's TypeError */
    kw = fs_args_fit_varkw(args, kwargs, fs_run_params, 5, 1, &pos);
    app = kw != NULL ? PyDict_GetItemString(kw, "self") : NULL;
    st = app != NULL ? fs_app_state(app) : NULL;
    if ((cli != NULL && strcmp(cli, "true") == 0) || st == NULL
        || st->s->mode == FS_MODE_OFF) {
        fs_err_clear();
        r = fs_call_orig(orig, args, kwargs);   /* run() does nothing */
        goto done;
    }
    s = st->s;
    enforce = s->mode == FS_MODE_ENFORCE;
    source = fs_run_debug_source(st, app, kw);
    sub = fs_subject_of(st);
    if (s->debug_force_off && (source != NULL
                               || fs_kw_true(kw, "use_reloader"))) {
        fs_debug_note(&sub, FS_DF_DEBUG,
                      source != NULL ? source : "argument", "Flask.run",
                      enforce);
        if (enforce && (PyDict_SetItemString(kw, "debug", FS_False) < 0
                        || PyDict_SetItemString(kw, "use_reloader",
                                                FS_False) < 0)) {
            goto done;
        }
    }
    if (s->debugger == FS_DEBUGGER_BLOCK) {
        if (fs_kw_true(kw, "use_debugger")
            || (!s->debug_force_off && source != NULL)) {
            fs_debug_note(&sub, FS_DF_DEBUGGER, "argument", "Flask.run",
                          enforce);
        }
        if (enforce && (PyDict_SetItemString(kw, "use_debugger",
                                             FS_False) < 0
                        || PyDict_SetItemString(kw, "use_evalex",
                                                FS_False) < 0)) {
            goto done;
        }
    }
    if (fs_app_check_secret(st, app) != FS_SECRET_OK
        && enforce && s->sk_on_violation == FS_VIOLATION_EXIT) {
        PyObject *code = PyLong_FromLong(78);
        PyErr_SetObject(FS_ExcSystemExit, code);
        FS_XDECREF(code);
        goto done;
    }
    r = fs_call_orig(orig, pos, kw);
done:
    FS_XDECREF(pos);
    FS_XDECREF(kw);
    FS_XDECREF(st);
    return r;
}

/* cls.name = property(Patch(fget, get), Patch(fset, set), fdel, doc): a
 * property's getter and setter patched like methods (the Patches are made
 * on a scratch module, then the property rebuilt around them). */
static int
fs_patch_property(PyObject *cls, const char *name, fs_patch_fn get,
                  fs_patch_fn set, const char *target)
{
    PyObject *prop = PyObject_GetAttrString(cls, name);
    PyObject *scratch = NULL, *fget = NULL, *fset = NULL, *fdel = NULL;
    PyObject *doc = NULL, *np = NULL;
    int rc = -1;

    if (prop == NULL) {
        return -1;
    }
    fget = PyObject_GetAttrString(prop, "fget");
    if (fget == NULL) {
        goto done;
    }
    if (fs_is_patch(fget)) {
        rc = 0;                 /* patched already */
        goto done;
    }
    fset = PyObject_GetAttrString(prop, "fset");
    scratch = fset != NULL ? PyModule_New("flaskshield.property") : NULL;
    if (scratch == NULL
        || PyObject_SetAttrString(scratch, "fget", fget) < 0
        || PyObject_SetAttrString(scratch, "fset", fset) < 0
        || fs_patch_attr(scratch, "fget", get, "flask.app", target) < 0
        || (fset != FS_None && set != NULL
            && fs_patch_attr(scratch, "fset", set, "flask.app", target) < 0)) {
        goto done;
    }
    FS_CLEAR(fget);
    FS_CLEAR(fset);
    fget = PyObject_GetAttrString(scratch, "fget");
    fset = fget != NULL ? PyObject_GetAttrString(scratch, "fset") : NULL;
    fdel = fset != NULL ? PyObject_GetAttrString(prop, "fdel") : NULL;
    doc = fdel != NULL ? PyObject_GetAttrString(prop, "__doc__") : NULL;
    np = doc != NULL
         ? PyObject_CallFunctionObjArgs((PyObject *)Py_TYPE(prop), fget,
                                        fset, fdel, doc, NULL)
         : NULL;
    if (np != NULL) {
        rc = PyObject_SetAttrString(cls, name, np);
    }
done:
    FS_XDECREF(np);
    FS_XDECREF(doc);
    FS_XDECREF(fdel);
    FS_XDECREF(fset);
    FS_XDECREF(fget);
    FS_XDECREF(scratch);
    FS_DECREF(prop);
    return rc;
}

/* cls.name, a descriptor with __get__ and __set__ of its own (Flask's
 * ConfigAttribute: `testing`), made a property of the two so that
 * fs_patch_property can patch it.  A property is left as it is. */
static int
fs_propertize(PyObject *cls, const char *name)
{
    PyObject *attr = PyObject_GetAttrString(cls, name);
    PyObject *builtins = NULL, *property = NULL;
    PyObject *get = NULL, *set = NULL, *doc = NULL, *prop = NULL;
    int rc = -1;

    if (attr == NULL) {
        return -1;
    }
    if (PyObject_HasAttrString(attr, "fget")) {
        FS_DECREF(attr);
        return 0;
    }
    builtins = PyImport_ImportModule("builtins");
    property = builtins != NULL
               ? PyObject_GetAttrString(builtins, "property") : NULL;
    get = property != NULL ? PyObject_GetAttrString(attr, "__get__") : NULL;
    set = get != NULL ? PyObject_GetAttrString(attr, "__set__") : NULL;
    doc = set != NULL ? PyObject_GetAttrString(attr, "__doc__") : NULL;
    prop = doc != NULL
           ? PyObject_CallFunctionObjArgs(property, get, set, FS_None, doc,
                                          NULL)
           : NULL;
    if (prop != NULL) {
        rc = PyObject_SetAttrString(cls, name, prop);
    }
    FS_XDECREF(prop);
    FS_XDECREF(doc);
    FS_XDECREF(set);
    FS_XDECREF(get);
    FS_XDECREF(property);
    FS_XDECREF(builtins);
    FS_DECREF(attr);
    return rc;
}

int
fs_patch_flask_app(PyObject *module)
{
    PyObject *cls = PyObject_GetAttrString(module, "Flask");
    int rc;

    if (cls == NULL) {
        return -1;
    }
    /* wsgi_app, not __call__: every way in reaches it -- Flask.__call__,
     * an SDK's wrapper of __call__, a subclass's own __call__, a server or
     * middleware handed app.wsgi_app */
    rc = fs_patch_attr_fast(cls, "wsgi_app", fs_guard_call, fs_guard_vcall,
                            "flask.app", "Flask.wsgi_app");
    if (rc == 0) {
        rc = fs_patch_attr(cls, "run", fs_flask_run, "flask.app",
                           "Flask.run");
    }
    if (rc == 0) {
        rc = fs_patch_attr(cls, "make_config", fs_guard_make_config,
                           "flask.app", "Flask.make_config");
    }
    if (rc == 0) {
        rc = fs_patch_property(cls, "debug", fs_guard_debug_get,
                               fs_guard_debug_set, "Flask.debug");
    }
    if (rc == 0) {
        rc = fs_propertize(cls, "testing");
    }
    if (rc == 0) {
        rc = fs_patch_property(cls, "testing", fs_guard_testing_get,
                               fs_guard_testing_set, "Flask.testing");
    }
    if (rc == 0) {
        rc = fs_patch_attr(cls, "handle_exception", fs_guard_handle_exception,
                           "flask.app", "Flask.handle_exception");
    }
    /* every response Flask makes passes process_response (from
     * finalize_request) */
    if (rc == 0) {
        rc = fs_patch_attr_fast(cls, "process_response",
                                fs_headers_process_response,
                                fs_headers_process_response_v, "flask.app",
                                "Flask.process_response");
    }
    /* Flask 2.2 decides propagation in a property of its own */
    if (rc == 0 && PyObject_HasAttrString(cls, "propagate_exceptions")) {
        rc = fs_patch_property(cls, "propagate_exceptions",
                               fs_guard_propagate_get, NULL,
                               "Flask.propagate_exceptions");
    }
    FS_DECREF(cls);
    return rc;
}

int
fs_patch_flask_sessions(PyObject *module)
{
    PyObject *cls = PyObject_GetAttrString(module,
                                           "SecureCookieSessionInterface");
    int rc;

    if (cls == NULL) {
        return -1;
    }
    rc = fs_patch_attr_fast(cls, "get_signing_serializer",
                            fs_guard_session_serializer,
                            fs_guard_session_serializer_v, "flask.sessions",
                            "SecureCookieSessionInterface."
                            "get_signing_serializer");
    FS_DECREF(cls);
    return rc;
}
