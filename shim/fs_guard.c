/*
 * fs_guard.c -- per-app checks and the request guard (see fs_guard.h).
 *
 * Per request, with the default policy and a well-configured app, the guard
 * costs three attribute look-ups (the app state, config, request_class) and
 * about eight dict look-ups with names made once, a pointer comparison for
 * the key, and one dict store in environ: under a microsecond, about 0.2 %
 * of a minimal Flask request (tests/bench/RESULTS.md).  Everything that
 * allocates or logs happens only when a value differs from the policy.
 */
#include "fs_guard.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_clen.h"
#include "fs_input.h"
#include "fs_limits.h"
#include "fs_log.h"
#include "fs_state.h"
#include "fs_types.h"

/* Config keys the guard reads, made once per app state. */
enum {
    K_DEBUG, K_SECRET_KEY, K_FALLBACKS, K_MCL, K_FMS, K_FP, K_COUNT
};
static const char *const fs_key_names[K_COUNT] = {
    "DEBUG", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "MAX_CONTENT_LENGTH",
    "MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS",
};

/* Pins use the bits of `logged` from FS_LOGGED_PIN0 up (pins past the
 * last bit share it: all are enforced, the first of those is logged). */
#define FS_LOGGED_PIN0 8
#define FS_PIN_BIT(i) (1ull << (FS_LOGGED_PIN0 + ((i) < 63 - FS_LOGGED_PIN0 \
                                                 ? (i) : 63 - FS_LOGGED_PIN0)))

struct fs_appstate {
    PyObject_HEAD
    const struct fs_app_settings *s;
    char *name;                 /* the app's import_name */
    unsigned long long logged;
    PyObject *keys[K_COUNT];
    PyObject *pin_keys;         /* tuple of str, or NULL */
    PyObject *pin_values;       /* tuple, same length */
    PyObject *limits;           /* (max_content_length, max_form_memory_size,
                                 *  max_form_parts): set in environ */
    long long limit;            /* effective max_content_length */
    long long limit_fms, limit_fp;  /* and form limits, in `limits` */
    PyObject *key;              /* last SECRET_KEY judged (strong ref) */
    PyObject *request_class;    /* last app.request_class seen (strong) */
    enum fs_secret_verdict verdict;
    enum fs_secret_verdict logged_verdict;
};

static const char *
fs_enforce_word(const fs_appstate *st)
{
    return fs_mode_name(st->s->mode);
}

static void
fs_appstate_dealloc(PyObject *self)
{
    fs_appstate *st = (fs_appstate *)self;
    int i;

    for (i = 0; i < K_COUNT; i++) {
        FS_XDECREF(st->keys[i]);
    }
    FS_XDECREF(st->pin_keys);
    FS_XDECREF(st->pin_values);
    FS_XDECREF(st->limits);
    FS_XDECREF(st->key);
    FS_XDECREF(st->request_class);
    free(st->name);
    fs_object_free(self);
}

static PyType_Slot fs_appstate_slots[] = {
    {Py_tp_dealloc, (void *)fs_appstate_dealloc},
    {Py_tp_new, (void *)fs_object_refuse_new},
    {0, NULL},
};

PyType_Spec fs_appstate_spec = {
    "flaskshield.AppState", sizeof(fs_appstate), 0, Py_TPFLAGS_DEFAULT,
    fs_appstate_slots,
};

const struct fs_app_settings *
fs_app_settings(const fs_appstate *st)
{
    return st->s;
}

const char *
fs_app_name(const fs_appstate *st)
{
    return st->name;
}

static PyObject *
fs_pin_value(const struct fs_pin *pin)
{
    switch (pin->type) {
    case FS_PIN_BOOL:
        return PyBool_FromLong(pin->b);
    case FS_PIN_INT:
        return PyLong_FromLongLong(pin->i);
    default:
        return PyUnicode_FromString(pin->s);
    }
}

static int
fs_appstate_init(fs_appstate *st, PyObject *app)
{
    const struct fs_app_settings *s;
    PyObject *name = PyObject_GetAttrString(app, "import_name");
    const char *cname = NULL;
    size_t i, npins;

    if (name != NULL && fs_is_str(name)) {
        cname = PyUnicode_AsUTF8AndSize(name, NULL);    /* NULL: surrogates */
    }
    if (cname == NULL && !fs_err_clear()) {
        FS_XDECREF(name);
        return -1;
    }
    st->name = strdup(cname != NULL ? cname : "?");
    FS_XDECREF(name);
    if (st->name == NULL) {
        PyErr_SetString(FS_ExcRuntimeError, "out of memory");
        return -1;
    }
    fs_activate();
    if (fs_state.policy == NULL) {
        PyErr_SetString(FS_ExcRuntimeError, "flaskshield: no policy");
        return -1;
    }
    st->s = s = fs_policy_for_app(fs_state.policy, st->name);
    for (i = 0; i < K_COUNT; i++) {
        st->keys[i] = PyUnicode_InternFromString(fs_key_names[i]);
        if (st->keys[i] == NULL) {
            return -1;
        }
    }
    npins = s->npins;
    st->pin_keys = PyTuple_New((Py_ssize_t)npins);
    st->pin_values = PyTuple_New((Py_ssize_t)npins);
    if (st->pin_keys == NULL || st->pin_values == NULL) {
        return -1;
    }
    for (i = 0; i < npins; i++) {
        PyObject *k = PyUnicode_InternFromString(s->pins[i].key);
        PyObject *v = fs_pin_value(&s->pins[i]);
        if (k == NULL || v == NULL) {
            FS_XDECREF(k);
            FS_XDECREF(v);
            return -1;
        }
        /* PyTuple_SetItem steals its item, on failure too */
        if (PyTuple_SetItem(st->pin_keys, (Py_ssize_t)i, k) < 0) {
            FS_DECREF(v);
            return -1;
        }
        if (PyTuple_SetItem(st->pin_values, (Py_ssize_t)i, v) < 0) {
            return -1;
        }
    }
    st->limit = -1;
    return 0;
}

/* The app state under attribute `attr` (a str), made on first use. */
static fs_appstate *
fs_app_state_at(PyObject *app, PyObject *attr)
{
    PyObject *st = PyObject_GetAttr(app, attr);
    PyObject *type;

    if (st != NULL) {
        if (Py_TYPE(st)->tp_dealloc == fs_appstate_dealloc) {     /* ours */
            return (fs_appstate *)st;
        }
        FS_DECREF(st);
    }
    fs_err_clear();
    type = fs_type(FS_T_APPSTATE);
    st = type != NULL ? fs_object_new(type) : NULL;
    if (st == NULL) {
        return NULL;
    }
    if (fs_appstate_init((fs_appstate *)st, app) < 0
        || PyObject_SetAttr(app, attr, st) < 0) {
        FS_DECREF(st);
        return NULL;
    }
    return (fs_appstate *)st;
}

fs_appstate *
fs_app_state(PyObject *app)
{
    PyObject *attr = PyUnicode_FromString(fs_names[FS_N_STATE]);
    fs_appstate *st = attr != NULL ? fs_app_state_at(app, attr) : NULL;

    FS_XDECREF(attr);
    return st;
}

bool
fs_app_once(fs_appstate *st, unsigned long long bit)
{
    if (st->logged & bit) {
        return false;
    }
    st->logged |= bit;
    return true;
}

void
fs_app_log_begin(struct fs_logline *l, enum fs_level level,
                 const char *event, const fs_appstate *st)
{
    fs_log_begin(l, level, event, st->name, fs_enforce_word(st));
}

/* Does the environment turn debug on, as this Flask version reads it
 * (FLASK_DEBUG; FLASK_ENV=development before 2.3)?  Asks Flask's own
 * flask.helpers.get_debug_flag(). */
static bool
fs_env_debug(void)
{
    PyObject *modules = PySys_GetObject("modules");
    PyObject *helpers = modules != NULL
        ? PyDict_GetItemString(modules, "flask.helpers") : NULL;
    PyObject *r = helpers != NULL
        ? PyObject_CallMethod(helpers, "get_debug_flag", NULL) : NULL;
    int on = r != NULL ? PyObject_IsTrue(r) : 0;

    FS_XDECREF(r);
    fs_err_clear();
    return on > 0;
}

/* Is value the string FLASK_DEBUG holds (Config.from_prefixed_env keeps
 * what is not JSON as a string: FLASK_DEBUG=False gives 'False')? */
static bool
fs_is_flask_debug_text(PyObject *value)
{
    const char *env = getenv("FLASK_DEBUG");
    const char *s;

    if (value == NULL || env == NULL || !fs_is_str(value)) {
        return false;
    }
    s = PyUnicode_AsUTF8AndSize(value, NULL);
    fs_err_clear();
    return s != NULL && strcmp(s, env) == 0;
}

const char *
fs_debug_source(PyObject *value)
{
    const char *cli = getenv("FLASK_RUN_FROM_CLI");

    if (cli != NULL && strcmp(cli, "true") == 0) {
        return "cli";
    }
    return fs_env_debug() || fs_is_flask_debug_text(value)
           ? "environment" : "config";
}

/* ---- SECRET_KEY -------------------------------------------------------- */

static enum fs_secret_verdict
fs_judge_key(const fs_appstate *st, PyObject *key)
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
    static const char *const action[] = {"refuse", "exit", "warn"};
    struct fs_logline l;

    fs_app_log_begin(&l, FS_ERROR, "secret_key.rejected", st);
    fs_log_str(&l, "key", which);
    fs_log_str(&l, "reason", fs_secret_verdict_name(v));
    fs_log_int(&l, "min_length", st->s->sk_min_length);
    fs_log_str(&l, "action", action[st->s->sk_on_violation]);
    fs_log_bool(&l, "enforced", st->s->mode == FS_MODE_ENFORCE);
    fs_log_end(&l);
}

/* The judgement itself, on the app's config dict. */
static enum fs_secret_verdict
fs_check_secret_in(fs_appstate *st, PyObject *config)
{
    PyObject *key, *fallbacks;
    enum fs_secret_verdict v;
    const char *which = "SECRET_KEY";

    key = PyDict_GetItem(config, st->keys[K_SECRET_KEY]);
    fallbacks = PyDict_GetItem(config, st->keys[K_FALLBACKS]);
    /* The same immutable key object: the same verdict.  A key of any
     * other type (a bytearray) can change in place: judged every time. */
    if (key == st->key && key != NULL && (fs_is_str(key) || fs_is_bytes(key))
        && fs_no_fallbacks(fallbacks)) {
        return st->verdict;
    }
    /* Own both: iterating the fallbacks may run code that edits config. */
    FS_XINCREF(key);
    FS_XINCREF(fallbacks);
    v = fs_judge_key(st, key);
    if (v == FS_SECRET_MISSING && !st->s->sk_require) {
        v = FS_SECRET_OK;
    }
    if (v == FS_SECRET_OK && !fs_no_fallbacks(fallbacks)) {
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
    FS_XDECREF(fallbacks);
    FS_XSETREF(st->key, key);                   /* keeps the reference */
    st->verdict = v;
    if (v != FS_SECRET_OK && v != st->logged_verdict) {
        fs_log_secret(st, v, which);
    }
    st->logged_verdict = v;
    return v;
}

enum fs_secret_verdict
fs_app_check_secret(fs_appstate *st, PyObject *app)
{
    PyObject *config = PyObject_GetAttrString(app, "config");
    enum fs_secret_verdict v = FS_SECRET_OK;

    if (config != NULL && fs_is_dict(config)) {
        v = fs_check_secret_in(st, config);
    }
    else {
        fs_err_clear();          /* not a Flask config: nothing to judge */
    }
    FS_XDECREF(config);
    return v;
}

/* ---- config corrections ------------------------------------------------ */

static bool
fs_enforcing(const fs_appstate *st)
{
    return st->s->mode == FS_MODE_ENFORCE;
}

static void
fs_config_set(fs_appstate *st, PyObject *config, PyObject *key,
              PyObject *value)
{
    if (fs_enforcing(st) && PyDict_SetItem(config, key, value) < 0) {
        fs_err_clear();
    }
}

/* debug.forced_off, once per app: `value` is the debug value found. */
static void
fs_log_debug_forced(fs_appstate *st, PyObject *value)
{
    struct fs_logline l;

    if (fs_app_once(st, FS_LOGGED_DEBUG)) {
        fs_app_log_begin(&l, FS_WARN, "debug.forced_off", st);
        fs_log_str(&l, "source", fs_debug_source(value));
        fs_log_bool(&l, "enforced", fs_enforcing(st));
        fs_log_end(&l);
    }
}

static void
fs_guard_debug(fs_appstate *st, PyObject *config)
{
    PyObject *v = PyDict_GetItem(config, st->keys[K_DEBUG]);

    if (!st->s->debug_force_off || v == NULL || v == FS_False) {
        return;
    }
    FS_INCREF(v);               /* __bool__ may be anybody's code */
    if (PyObject_IsTrue(v) <= 0) {
        fs_err_clear();
        FS_DECREF(v);
        return;
    }
    fs_log_debug_forced(st, v);
    FS_DECREF(v);
    fs_config_set(st, config, st->keys[K_DEBUG], FS_False);
}

PyObject *
fs_guard_debug_get(fs_patch *p, PyObject *orig, PyObject *args,
                   PyObject *kwargs)
{
    PyObject *r = PyObject_Call(orig, args, kwargs);
    fs_appstate *st;
    int on;

    if (r == NULL || r == FS_False || kwargs != NULL
        || PyTuple_Size(args) != 1) {
        return r;
    }
    on = PyObject_IsTrue(r);
    if (on <= 0) {
        if (on < 0) {
            FS_CLEAR(r);        /* the app's own __bool__ raised */
        }
        return r;
    }
    st = fs_app_state_at(PyTuple_GetItem(args, 0), p->names[FS_N_STATE]);
    if (st == NULL) {
        /* no policy: the app as it is; anything else propagates */
        if (!PyErr_ExceptionMatches(FS_ExcRuntimeError)) {
            FS_DECREF(r);
            return NULL;
        }
        PyErr_Clear();
        return r;
    }
    if (st->s->mode != FS_MODE_OFF && st->s->debug_force_off) {
        fs_log_debug_forced(st, r);
        if (fs_enforcing(st)) {
            FS_XSETREF(r, fs_new_ref(FS_False));
        }
    }
    FS_DECREF(st);
    return r;
}

PyObject *
fs_guard_debug_set(fs_patch *p, PyObject *orig, PyObject *args,
                   PyObject *kwargs)
{
    PyObject *value, *fixed, *r;
    fs_appstate *st;
    int on;

    if (kwargs != NULL || PyTuple_Size(args) != 2) {
        return PyObject_Call(orig, args, kwargs);
    }
    value = PyTuple_GetItem(args, 1);
    on = PyObject_IsTrue(value);
    if (on < 0) {
        return NULL;
    }
    if (on == 0) {
        return PyObject_Call(orig, args, kwargs);
    }
    st = fs_app_state_at(PyTuple_GetItem(args, 0), p->names[FS_N_STATE]);
    if (st == NULL) {
        if (!PyErr_ExceptionMatches(FS_ExcRuntimeError)) {
            return NULL;
        }
        PyErr_Clear();
        return PyObject_Call(orig, args, kwargs);
    }
    if (st->s->mode == FS_MODE_OFF || !st->s->debug_force_off) {
        FS_DECREF(st);
        return PyObject_Call(orig, args, kwargs);
    }
    fs_log_debug_forced(st, value);
    if (!fs_enforcing(st)) {
        FS_DECREF(st);
        return PyObject_Call(orig, args, kwargs);
    }
    FS_DECREF(st);
    /* the setter also sets template auto-reload from the value */
    fixed = PyTuple_Pack(2, PyTuple_GetItem(args, 0), FS_False);
    if (fixed == NULL) {
        return NULL;
    }
    r = PyObject_Call(orig, fixed, NULL);
    FS_DECREF(fixed);
    return r;
}

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
    fs_log_bool(&l, "enforced", fs_enforcing(st));
    fs_log_end(&l);
}

/* Cap one size in the config at `cap`; returns the effective value. */
static long long
fs_guard_cap(fs_appstate *st, PyObject *config, int k, long long cap,
             unsigned long long bit)
{
    PyObject *v = PyDict_GetItem(config, st->keys[k]);
    long long cur = -1;
    PyObject *n;

    if (v != NULL && fs_is_int(v) && v != FS_True && v != FS_False) {
        cur = PyLong_AsLongLong(v);
        if (cur == -1 && PyErr_Occurred()) {
            fs_err_clear();
            cur = -1;
        }
        if (cur >= 0 && cur <= cap) {
            return cur;         /* the app's own, lower limit stands */
        }
    }
    n = PyLong_FromLongLong(cap);
    if (n == NULL) {
        fs_err_clear();
        return cap;
    }
    fs_config_set(st, config, st->keys[k], n);
    FS_DECREF(n);
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
        long long cur = v != NULL && fs_is_int(v) ? PyLong_AsLongLong(v) : -1;
        bool is_none = v == FS_None;

        if (v == NULL) {
            fs_err_clear();
        }
        FS_XDECREF(v);
        /* A property (Flask 3.1), or None deferring to the config, is
         * judged in the config; only a class value of its own counts. */
        if ((!is_none && cur < 0) || (in_config && is_none)
            || (cur >= 0 && cur <= caps[i])
            || !fs_app_once(st, FS_LOGGED_FORM_CLASS << i)) {
            continue;
        }
        fs_log_capped(st, attrs[i], cur, caps[i]);
    }
    if (fs_enforcing(st) && fs_limits_install(cls) < 0) {
        fs_err_clear();
    }
}

static void
fs_guard_body(fs_patch *p, fs_appstate *st, PyObject *app, PyObject *config)
{
    long long mcl, fms, fp;

    bool in_config = PyDict_GetItem(config, st->keys[K_FMS]) != NULL;

    mcl = fs_guard_cap(st, config, K_MCL, st->s->max_content_length,
                       FS_LOGGED_MCL);
    fms = st->s->max_form_memory_size;
    fp = st->s->max_form_parts;
    if (in_config) {
        fms = fs_guard_cap(st, config, K_FMS, fms, FS_LOGGED_FMS);
        fp = fs_guard_cap(st, config, K_FP, fp, FS_LOGGED_FP);
    }
    fs_guard_request_class(p, st, app, in_config);
    if (st->limits == NULL || mcl != st->limit || fms != st->limit_fms
        || fp != st->limit_fp) {
        FS_XSETREF(st->limits, fs_limits_tuple(mcl, fms, fp));
        if (st->limits == NULL) {
            fs_err_clear();
        }
        st->limit = mcl;
        st->limit_fms = fms;
        st->limit_fp = fp;
    }
}

static void
fs_guard_pins(fs_appstate *st, PyObject *config)
{
    Py_ssize_t i, n = PyTuple_Size(st->pin_keys);

    for (i = 0; i < n; i++) {
        PyObject *k = PyTuple_GetItem(st->pin_keys, i);
        PyObject *want = PyTuple_GetItem(st->pin_values, i);
        PyObject *cur = PyDict_GetItem(config, k);
        struct fs_logline l;
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
        fs_config_set(st, config, k, want);
        if (fs_app_once(st, FS_PIN_BIT(i))) {
            const struct fs_pin *pin = &st->s->pins[i];
            fs_app_log_begin(&l, FS_INFO, "config.pinned", st);
            fs_log_str(&l, "key", pin->key);
            if (pin->type == FS_PIN_BOOL) {
                fs_log_bool(&l, "value", pin->b);
            }
            else if (pin->type == FS_PIN_INT) {
                fs_log_int(&l, "value", pin->i);
            }
            else {
                fs_log_str(&l, "value", pin->s);
            }
            fs_log_bool(&l, "enforced", fs_enforcing(st));
            fs_log_end(&l);
        }
    }
}

/* ---- responses the guard gives itself ---------------------------------- */

static PyObject *
fs_respond(PyObject *start_response, const char *status, const char *title,
           const char *text)
{
    char body[512];
    char clen[24];
    int n = snprintf(body, sizeof(body),
                     "<!doctype html>\n<html lang=en>\n<title>%s %s</title>\n"
                     "<h1>%s</h1>\n<p>%s</p>\n", status, title, title, text);
    char line[64];
    PyObject *headers, *r, *chunk, *list;

    snprintf(clen, sizeof(clen), "%d", n);
    snprintf(line, sizeof(line), "%s %s", status, title);
    headers = Py_BuildValue("[(ss)(ss)]", "Content-Type",
                            "text/html; charset=utf-8", "Content-Length",
                            clen);
    if (headers == NULL) {
        return NULL;
    }
    r = PyObject_CallFunction(start_response, "sO", line, headers);
    FS_DECREF(headers);
    if (r == NULL) {
        return NULL;
    }
    FS_DECREF(r);
    chunk = PyBytes_FromStringAndSize(body, n);
    list = chunk != NULL ? PyList_New(1) : NULL;
    if (list == NULL) {
        FS_XDECREF(chunk);
        return NULL;
    }
    PyList_SetItem(list, 0, chunk);
    return list;
}

static PyObject *
fs_respond_500(PyObject *start_response)
{
    return fs_respond(start_response, "500", "Internal Server Error",
                      "The server encountered an internal error and was "
                      "unable to complete your request. Either the server is "
                      "overloaded or there is an error in the application.");
}

static PyObject *
fs_respond_413(PyObject *start_response)
{
    return fs_respond(start_response, "413", "Request Entity Too Large",
                      "The data value transmitted exceeds the capacity "
                      "limit.");
}

/* CONTENT_LENGTH as the guard may trust it (fs_clen.c); *len set for a
 * plain value. */
static enum fs_clen
fs_content_length(fs_patch *p, PyObject *environ, long long *len)
{
    PyObject *v = PyDict_GetItem(environ, p->names[FS_N_CONTENT_LENGTH]);
    const char *s;
    Py_ssize_t n;

    *len = -1;
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

/* Bound the body: refuse a declared length over the limit, and read every
 * body whose length is not a plain number -- none with Transfer-Encoding
 * (chunked, with or without a Content-Length beside it), or a
 * Content-Length Werkzeug would read otherwise than the guard -- through
 * the bounded stream.  Returns a response (413), NULL on error, or None to
 * go on. */
static PyObject *
fs_guard_input(fs_patch *p, fs_appstate *st, PyObject *environ,
               PyObject *start_response)
{
    long long len;
    enum fs_clen kind = fs_content_length(p, environ, &len);

    if (st->limits != NULL
        && PyDict_SetItem(environ, p->names[FS_N_LIMITS], st->limits) < 0) {
        fs_err_clear();
    }
    if (kind == FS_CLEN_VALUE && len > st->limit) {
        return fs_respond_413(start_response);
    }
    if (kind == FS_CLEN_UNKNOWN
        || PyDict_GetItem(environ, p->names[FS_N_TRANSFER_ENCODING]) != NULL) {
        PyObject *in = PyDict_GetItem(environ, p->names[FS_N_WSGI_INPUT]);
        PyObject *wrapped;

        if (in == NULL) {
            FS_RETURN_NONE;
        }
        wrapped = fs_input_new(p->input_type, in, st->limit);
        if (wrapped == NULL
            || PyDict_SetItem(environ, p->names[FS_N_WSGI_INPUT],
                              wrapped) < 0) {
            fs_err_clear();
        }
        FS_XDECREF(wrapped);
    }
    FS_RETURN_NONE;     /* an exception left set: fs_call_orig passes it on */
}

/* The secret is bad: what the policy says to do now. */
static PyObject *
fs_guard_refuse(fs_appstate *st, PyObject *start_response)
{
    if (st->s->sk_on_violation == FS_VIOLATION_EXIT) {
        _exit(78);              /* EX_CONFIG; the line is already written */
    }
    return fs_respond_500(start_response);
}

static const char *const fs_wsgi_params[] = {"environ", "start_response"};

/* (app, environ, start_response) from a call that named some of them, as
 * error-tracking SDKs do (`old(self, *args, **kwargs)`); NULL when the
 * call does not bind that way (the original then says why). */
static PyObject *
fs_wsgi_args(PyObject *args, PyObject *kwargs)
{
    PyObject *pos = NULL, *kw, *environ, *sr, *r = NULL;

    kw = fs_args_by_name(args, kwargs, 1, fs_wsgi_params, 2, &pos);
    if (kw != NULL && PyTuple_Size(pos) == 1 && PyDict_Size(kw) == 2
        && (environ = PyDict_GetItemString(kw, "environ")) != NULL
        && (sr = PyDict_GetItemString(kw, "start_response")) != NULL) {
        r = PyTuple_Pack(3, PyTuple_GetItem(pos, 0), environ, sr);
    }
    FS_XDECREF(kw);
    FS_XDECREF(pos);
    if (r == NULL) {
        fs_err_clear();
    }
    return r;
}

/* The guard proper, on (app, environ, start_response). */
static PyObject *
fs_guard_wsgi(fs_patch *p, PyObject *orig, PyObject *args)
{
    PyObject *kwargs = NULL;
    PyObject *app, *environ, *start_response, *config, *r;
    fs_appstate *st;
    enum fs_secret_verdict v;

    if (PyTuple_Size(args) != 3) {
        return fs_call_orig(orig, args, kwargs);
    }
    app = PyTuple_GetItem(args, 0);
    environ = PyTuple_GetItem(args, 1);
    start_response = PyTuple_GetItem(args, 2);
    st = fs_app_state_at(app, p->names[FS_N_STATE]);
    if (st == NULL) {
        fs_err_clear();
        return fs_call_orig(orig, args, kwargs);
    }
    config = st->s->mode == FS_MODE_OFF || !fs_is_dict(environ)
             ? NULL : PyObject_GetAttr(app, p->names[FS_N_CONFIG]);
    if (config == NULL || !fs_is_dict(config)) {
        fs_err_clear();
        FS_XDECREF(config);
        FS_DECREF(st);
        return fs_call_orig(orig, args, kwargs);
    }
    fs_guard_debug(st, config);
    fs_guard_pins(st, config);
    fs_guard_body(p, st, app, config);
    v = fs_check_secret_in(st, config);
    FS_DECREF(config);
    r = NULL;
    if (fs_enforcing(st)) {
        if (v != FS_SECRET_OK && st->s->sk_on_violation != FS_VIOLATION_WARN) {
            r = fs_guard_refuse(st, start_response);
            FS_DECREF(st);
            return r;
        }
        r = fs_guard_input(p, st, environ, start_response);
        if (r != FS_None) {
            FS_DECREF(st);
            return r;
        }
        FS_DECREF(r);
    }
    FS_DECREF(st);
    return fs_call_orig(orig, args, kwargs);
}

PyObject *
fs_guard_call(fs_patch *p, PyObject *orig, PyObject *args, PyObject *kwargs)
{
    PyObject *bound, *r2;

    if (kwargs == NULL || PyDict_Size(kwargs) == 0) {
        return fs_guard_wsgi(p, orig, args);        /* the usual call */
    }
    bound = fs_wsgi_args(args, kwargs);
    if (bound == NULL) {
        return fs_call_orig(orig, args, kwargs);
    }
    r2 = fs_guard_wsgi(p, orig, bound);
    FS_DECREF(bound);
    return r2;
}
