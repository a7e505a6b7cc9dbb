/*
 * fs_app_key.c -- the SECRET_KEY (and Flask 3.1's SECRET_KEY_FALLBACKS) of
 * an app, judged by the policy's rules (shim/fs_secret.c) where it is
 * used.
 *
 * At the entry of every request the key is judged as Flask reads it,
 * config["SECRET_KEY"] through the config's class (Dynaconf's FlaskDynaconf
 * answers it from its own settings), again whenever its object changes (a
 * bytearray, which can change in place, every time); a refused key answers
 * the request with a 500 page (fs_guard.c).  Where Flask signs and opens
 * the session cookie,
 * SecureCookieSessionInterface.get_signing_serializer, the key it is about
 * to use is judged as Flask reads it: a key made weak during a request (in
 * a before_request function, by a config class of its own) never signs or
 * opens a cookie; the request ends in Flask's own 500 and the reason is in
 * the app's error log.  Each rejection is logged once per verdict.
 */
#include "fs_app_key.h"

#include <string.h>

#include "fs_state.h"

static enum fs_secret_verdict
fs_judge_one(const fs_appstate *st, PyObject *key)
{
    const char *data = NULL;
    Py_ssize_t len = 0;

    if (key == NULL || key == FS_None) {
        return fs_secret_check(NULL, 0, 0, NULL);
    }
    if (fs_is_str(key)) {
        data = PyUnicode_AsUTF8AndSize(key, &len);
    }
    else if (fs_is_bytes(key)) {
        char *b;
        if (PyBytes_AsStringAndSize(key, &b, &len) == 0) {
            data = b;
        }
    }
    else if (fs_is_bytearray(key)) {        /* Flask 3.1 signs with one */
        data = PyByteArray_AsString(key);
        len = PyByteArray_Size(key);
    }
    if (data == NULL) {
        fs_err_clear();
        return FS_SECRET_MISSING;   /* not a key Flask can sign with */
    }
    return fs_secret_check((const unsigned char *)data, (size_t)len,
                           (size_t)st->s->sk_min_length, fs_state.weak);
}

/* A key, or a list or tuple of keys: itsdangerous takes one (Flask 2.2
 * passes it on), signs with the last and opens with any, so each is
 * judged: the first refused is the verdict, else missing when one is (or
 * the list is empty), else OK. */
static enum fs_secret_verdict
fs_judge_key(const fs_appstate *st, PyObject *key)
{
    enum fs_secret_verdict v, worst = FS_SECRET_OK;
    PyObject *keys;
    Py_ssize_t i, n;

    if (key == NULL || !(fs_is_list(key) || fs_is_tuple(key))) {
        return fs_judge_one(st, key);
    }
    keys = PySequence_Tuple(key);       /* a list may change meanwhile */
    n = keys != NULL ? PyTuple_Size(keys) : 0;
    for (i = 0; i < n; i++) {
        v = fs_judge_one(st, PyTuple_GetItem(keys, i));
        if (v != FS_SECRET_OK && v != FS_SECRET_MISSING) {
            worst = v;
            break;
        }
        if (v == FS_SECRET_MISSING) {
            worst = v;
        }
    }
    fs_err_clear();
    FS_XDECREF(keys);
    return n == 0 ? FS_SECRET_MISSING : worst;
}

/* No fallback keys to judge: absent, None, or an empty list or tuple. */
static bool
fs_no_fallbacks(PyObject *fallbacks)
{
    return fallbacks == NULL || fallbacks == FS_None
           || (fs_is_list(fallbacks) && PyList_Size(fallbacks) == 0)
           || (fs_is_tuple(fallbacks) && PyTuple_Size(fallbacks) == 0);
}

static void
fs_log_secret(fs_appstate *st, enum fs_secret_verdict v, const char *which)
{
    struct fs_logline l;

    fs_app_log_begin(&l, FS_ERROR, "secret_key.rejected", st);
    fs_log_str(&l, "key", which);
    fs_log_str(&l, "reason", fs_secret_verdict_name(v));
    fs_log_int(&l, "min_length", st->s->sk_min_length);
    fs_log_str(&l, "action", fs_on_violation_name(st->s->sk_on_violation));
    fs_log_bool(&l, "enforced", st->s->mode == FS_MODE_ENFORCE);
    fs_log_end(&l);
}

/* The judgement itself, of a key and its fallbacks (borrowed; either
 * NULL when absent). */
static enum fs_secret_verdict
fs_check_key(fs_appstate *st, PyObject *key, PyObject *fallbacks)
{
    enum fs_secret_verdict v;
    const char *which = "SECRET_KEY";
    bool alone = fs_no_fallbacks(fallbacks);

    /* The same immutable key object, alone then and now: the same
     * verdict.  A key of any other type (a bytearray) can change in place:
     * judged every time. */
    if (key == st->key && key != NULL && (fs_is_str(key) || fs_is_bytes(key))
        && alone && st->key_alone) {
        return st->verdict;
    }
    /* Own both: iterating the fallbacks may run code that edits config. */
    FS_XINCREF(key);
    FS_XINCREF(fallbacks);
    v = fs_judge_key(st, key);
    if (v == FS_SECRET_MISSING && !st->s->sk_require) {
        v = FS_SECRET_OK;
    }
    if (v == FS_SECRET_OK && !alone) {
        /* Flask extends its key list with any iterable: judge each */
        PyObject *it = PyObject_GetIter(fallbacks), *item;
        while (it != NULL && v == FS_SECRET_OK
               && (item = PyIter_Next(it)) != NULL) {
            v = fs_judge_key(st, item);
            which = "SECRET_KEY_FALLBACKS";
            FS_DECREF(item);
        }
        FS_XDECREF(it);
        fs_err_clear();
    }
    st->key_alone = alone;
    FS_XDECREF(fallbacks);
    FS_XSETREF(st->key, key);                   /* keeps the reference */
    st->verdict = v;
    if (v != FS_SECRET_OK && v != st->logged_verdict) {
        fs_log_secret(st, v, which);
    }
    st->logged_verdict = v;
    return v;
}

/* Does the app's class answer app.secret_key with config["SECRET_KEY"] as
 * it is (Flask's own ConfigAttribute("SECRET_KEY"), no converter), so that
 * the config holds the key Flask signs with?  A subclass of Flask may
 * answer it otherwise: a class attribute, a property.  Asked once per app
 * class. */
static bool
fs_key_attr_plain(fs_appstate *st, PyObject *app)
{
    PyObject *type = (PyObject *)Py_TYPE(app);
    PyObject *attr, *name = NULL, *conv = NULL;
    const char *s = NULL;

    if (type == st->app_type) {
        return st->key_attr_plain;
    }
    attr = PyObject_GetAttrString(type, "secret_key");
    if (attr != NULL
        && strcmp(Py_TYPE(attr)->tp_name, "ConfigAttribute") == 0) {
        name = PyObject_GetAttrString(attr, "__name__");
        conv = name != NULL ? PyObject_GetAttrString(attr, "get_converter")
                            : NULL;
        s = name != NULL && conv == FS_None && fs_is_str(name)
            ? PyUnicode_AsUTF8AndSize(name, NULL) : NULL;
    }
    st->key_attr_plain = s != NULL && strcmp(s, "SECRET_KEY") == 0;
    fs_err_clear();
    FS_XDECREF(conv);
    FS_XDECREF(name);
    FS_XDECREF(attr);
    FS_XSETREF(st->app_type, fs_new_ref(type));
    return st->key_attr_plain;
}

enum fs_secret_verdict
fs_app_check_secret_in(fs_appstate *st, PyObject *items)
{
    return fs_check_key(st, fs_dict_get(items, st->keys[FS_K_SECRET_KEY]),
                        fs_dict_get(items, st->keys[FS_K_FALLBACKS]));
}

enum fs_secret_verdict
fs_app_check_secret_of(fs_appstate *st, PyObject *app, PyObject *items)
{
    PyObject *key;
    enum fs_secret_verdict v;

    if (fs_key_attr_plain(st, app)) {
        return fs_app_check_secret_in(st, items);
    }
    key = PyObject_GetAttrString(app, "secret_key");
    if (key == NULL) {
        /* e.g. a property that needs a request: judged as in the config */
        return fs_err_clear() ? fs_app_check_secret_in(st, items)
                              : FS_SECRET_OK;
    }
    v = fs_check_key(st, key, fs_dict_get(items, st->keys[FS_K_FALLBACKS]));
    FS_XDECREF(key);
    return v;
}

/* fs_app_check_secret, with app.config got (a new reference, stolen;
 * NULL with an exception set when there is none). */
static enum fs_secret_verdict
fs_check_secret_with(fs_appstate *st, PyObject *app, PyObject *config)
{
    PyObject *key, *fallbacks = NULL;
    struct fs_config c;
    enum fs_secret_verdict v;

    fs_err_clear();                     /* no config: judged as no dict */
    if (config != NULL && fs_is_dict(config)
        && fs_app_config_read(st, config, FS_K_SECRET_KEY, FS_K_FALLBACKS,
                              false, &c) == 0) {
        v = fs_app_check_secret_of(st, app, c.items);
        fs_app_config_done(&c);
        FS_DECREF(config);
        return v;
    }
    /* not a dict: the key as Flask reads it, and its fallbacks as far as
     * the object answers them */
    key = PyObject_GetAttrString(app, "secret_key");
    fs_err_clear();                     /* absent: judged as absent */
    if (config != NULL) {
        fallbacks = PyObject_GetItem(config, st->keys[FS_K_FALLBACKS]);
    }
    fs_err_clear();
    v = fs_check_key(st, key, fallbacks);
    FS_XDECREF(fallbacks);
    FS_XDECREF(key);
    FS_XDECREF(config);
    return v;
}

enum fs_secret_verdict
fs_app_check_secret(fs_appstate *st, PyObject *app)
{
    return fs_check_secret_with(st, app,
                                PyObject_GetAttrString(app, "config"));
}

static const char *const fs_serializer_params[] = {"self", "app"};

/* May the session interface make a serializer with app's key?  0, or -1
 * with the RuntimeError that refuses it set. */
static int
fs_session_key_allowed(fs_patch *p, PyObject *app)
{
    fs_appstate *st = app != NULL
                      ? fs_app_state_in_request(app, p->names[FS_N_STATE]) : NULL;
    enum fs_secret_verdict v = FS_SECRET_OK;

    fs_err_clear();
    if (st != NULL && fs_app_enforcing(st)
        && st->s->sk_on_violation != FS_VIOLATION_WARN) {
        PyObject *config = PyObject_GetAttr(app, p->names[FS_N_CONFIG]);

        if (config != NULL && fs_app_config_settled(st, app, config)) {
            FS_DECREF(config);          /* as the request guard accepted it */
        }
        else {
            v = fs_check_secret_with(st, app, config);
        }
    }
    /* A missing key: Flask makes no serializer and signs nothing. */
    if (v != FS_SECRET_OK && v != FS_SECRET_MISSING) {
        fs_count(st->slot, FS_CNT_REFUSED_SECRET_KEY, true);
        if (fs_app_once(st, FS_LOGGED_SESSION)) {
            struct fs_logline l;
            fs_app_log_begin(&l, FS_ERROR, "session.refused", st);
            fs_log_str(&l, "reason", fs_secret_verdict_name(v));
            fs_log_bool(&l, "enforced", true);
            fs_log_end(&l);
        }
        PyErr_Format(FS_ExcRuntimeError,
                     "flaskshield: the SECRET_KEY is refused by the policy "
                     "(%s): no session cookie is signed or opened with it",
                     fs_secret_verdict_name(v));
        FS_DECREF(st);
        return -1;
    }
    FS_XDECREF(st);
    return 0;
}

PyObject *
fs_guard_session_serializer(fs_patch *p, PyObject *orig, PyObject *args,
                            PyObject *kwargs)
{
    PyObject *pos = NULL, *kw, *app;
    int rc;

    /* by name too, self included: any call that binds has its app */
    kw = fs_args_fit(args, kwargs, 0, fs_serializer_params, 2, 2, &pos);
    app = kw != NULL ? PyDict_GetItemString(kw, "app") : NULL;
    rc = fs_session_key_allowed(p, app);
    FS_XDECREF(kw);
    FS_XDECREF(pos);
    return rc < 0 ? NULL : fs_call_orig(orig, args, kwargs);
}

PyObject *
fs_guard_session_serializer_v(fs_patch *p, PyObject *orig,
                              PyObject *const *args, size_t nargsf,
                              PyObject *kwnames)
{
    if (kwnames != NULL || PyVectorcall_NARGS(nargsf) != 2) {
        return FS_PATCH_AS_TUPLE;
    }
    if (fs_session_key_allowed(p, args[1]) < 0) {      /* Flask's own call */
        return NULL;
    }
    return fs_call_orig_v(orig, args, nargsf, NULL);
}
