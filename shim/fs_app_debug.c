/*
 * fs_app_debug.c -- the debug-class settings of an app, DEBUG, TESTING and
 * PROPAGATE_EXCEPTIONS, where Flask reads them.
 *
 * Under debug.force_off, in enforce mode, each reads false from Flask() on:
 * - Flask.debug and Flask.testing are properties whose getters give False
 *   whatever the config class returns for the key (Dynaconf's keeps its
 *   values outside the dict), and whose setters store False (the debug
 *   setter also sets template auto-reload from the value);
 * - Flask.handle_exception, the one place that decides whether an
 *   exception goes on to the server (PROPAGATE_EXCEPTIONS, else testing or
 *   debug; Flask 2.2 asks its propagate_exceptions property, patched too),
 *   finds PROPAGATE_EXCEPTIONS false: stored through the config's own
 *   __setitem__ and read back, and the event says whether Flask sees it;
 * - the request guard corrects the config dict at the entry of every
 *   request too, for extensions that read app.config themselves.
 * A true TESTING or PROPAGATE_EXCEPTIONS lets an exception reach the
 * server, which shows it when told to (waitress --expose-tracebacks): so
 * they are debug-class settings, under the same switch and per-app
 * override.  Each key is logged once per app, as debug.forced_off with
 * "key"; in report mode the app keeps its values and the events say
 * "enforced": false.
 */
#include "fs_app_debug.h"

#include <stdlib.h>
#include <string.h>

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

/* The debug-class findings and the events that say each was found: one
 * table for the request path, the Flask.debug and Flask.testing
 * properties, handle_exception, Flask.run, run_simple, make_server's
 * reloader, run_with_reloader and DebuggedApplication. */
static const struct {
    const char *event;
    const char *key;            /* the config key, or NULL */
    unsigned long long bit;     /* logged once per subject */
} fs_debug_events[] = {
    [FS_DF_DEBUG] = {"debug.forced_off", "DEBUG", FS_LOGGED_DEBUG},
    [FS_DF_TESTING] = {"debug.forced_off", "TESTING", FS_LOGGED_TESTING},
    [FS_DF_PROPAGATE] = {"debug.forced_off", "PROPAGATE_EXCEPTIONS",
                         FS_LOGGED_PROPAGATE},
    [FS_DF_DEBUGGER] = {"debugger.blocked", NULL, FS_LOGGED_DEBUGGER},
};

void
fs_debug_note(struct fs_subject *sub, enum fs_debug_finding f,
              const char *source, const char *via, bool enforced)
{
    struct fs_logline l;

    fs_subject_count(sub, f == FS_DF_DEBUGGER ? FS_CNT_FIX_DEBUGGER
                                              : FS_CNT_FIX_DEBUG, enforced);
    if (!fs_subject_once(sub, fs_debug_events[f].bit)) {
        return;
    }
    fs_subject_log(sub, &l, FS_WARN, fs_debug_events[f].event);
    if (fs_debug_events[f].key != NULL) {
        fs_log_str(&l, "key", fs_debug_events[f].key);
    }
    fs_log_str(&l, "source", source);
    if (via != NULL) {
        fs_log_str(&l, "via", via);
    }
    fs_log_bool(&l, "enforced", enforced);
    fs_log_end(&l);
}

/* A config key of the debug class found on: `value` is what was found. */
static void
fs_log_forced(fs_appstate *st, int k, PyObject *value, bool enforced)
{
    struct fs_subject sub = fs_subject_of(st);

    /* enforce mode, and the config class did not take the correction
     * (it answers from elsewhere): said once more, enforced false, after
     * the line that may have said it held (from Flask.make_config) */
    if (!enforced && fs_app_enforcing(st)
        && fs_app_once(st, FS_LOGGED_UNHELD << k)) {
        st->logged &= ~fs_debug_events[k].bit;
    }
    fs_debug_note(&sub, (enum fs_debug_finding)k,
                  k == FS_K_DEBUG ? fs_debug_source(value) : "config", NULL,
                  enforced);
}

/* Is `v` (borrowed, may be NULL) a true value?  Its __bool__ may be
 * anybody's code: an error is "no". */
static bool
fs_truthy(PyObject *v)
{
    int on;

    if (v == NULL || v == FS_False || v == FS_None) {
        return false;
    }
    FS_INCREF(v);
    on = PyObject_IsTrue(v);
    FS_DECREF(v);
    if (on < 0) {
        fs_err_clear();
    }
    return on > 0;
}

/* PROPAGATE_EXCEPTIONS made false as the config class reads it: stored
 * through its own __setitem__, read back. */
static void
fs_propagate_off(fs_appstate *st, PyObject *config)
{
    PyObject *key = st->keys[FS_K_PROPAGATE];
    PyObject *v = PyObject_GetItem(config, key), *after;
    bool enforced = false;

    if (v == NULL || !fs_truthy(v)) {
        fs_err_clear();     /* absent or None: Flask asks testing or debug */
        FS_XDECREF(v);
        return;
    }
    if (fs_app_enforcing(st) && PyObject_SetItem(config, key, FS_False) == 0) {
        after = PyObject_GetItem(config, key);
        enforced = after != NULL && !fs_truthy(after);
        FS_XDECREF(after);
    }
    fs_err_clear();
    fs_log_forced(st, FS_K_PROPAGATE, v, enforced);
    FS_DECREF(v);
}

void
fs_app_debug_entry(fs_appstate *st, const struct fs_config *c)
{
    int k;

    if (!st->s->debug_force_off) {
        return;
    }
    for (k = FS_K_DEBUG; k <= FS_K_TESTING; k++) {
        PyObject *v = fs_dict_get(c->items, st->keys[k]);
        if (fs_truthy(v)) {
            FS_INCREF(v);       /* the set below drops the item */
            fs_log_forced(st, k, v,
                          fs_app_config_set(st, c, st->keys[k], FS_False));
            FS_DECREF(v);
        }
    }
    if (fs_truthy(fs_dict_get(c->items, st->keys[FS_K_PROPAGATE]))) {
        fs_propagate_off(st, c->obj);
    }
}

PyObject *
fs_guard_make_config(fs_patch *p, PyObject *orig, PyObject *args,
                     PyObject *kwargs)
{
    PyObject *r = fs_call_orig(orig, args, kwargs);
    fs_appstate *st;
    struct fs_config c;

    if (r == NULL || !fs_is_dict(r) || PyTuple_Size(args) < 1) {
        return r;
    }
    st = fs_app_state_at(PyTuple_GetItem(args, 0), p->names[FS_N_STATE]);
    if (st == NULL) {
        fs_err_clear();         /* no policy: the config as Flask made it */
        return r;
    }
    if (st->s->mode != FS_MODE_OFF
        && fs_app_config_read(st, r, FS_K_DEBUG, FS_K_PROPAGATE, false,
                              &c) == 0) {
        fs_app_debug_entry(st, &c);
        fs_app_config_done(&c);
    }
    FS_DECREF(st);
    return r;
}

/* The app's state when the policy has a say on its debug-class settings
 * (new reference); NULL with no exception when it has not, or with one
 * that must go on. */
static fs_appstate *
fs_flag_state(fs_patch *p, PyObject *app)
{
    fs_appstate *st = fs_app_state_at(app, p->names[FS_N_STATE]);

    if (st == NULL) {
        /* no policy, or not an object an app state can live on: as it
         * is (the original says what is wrong with it); KeyboardInterrupt
         * or MemoryError go on */
        fs_err_clear();
        return NULL;
    }
    if (st->s->mode == FS_MODE_OFF || !st->s->debug_force_off) {
        FS_DECREF(st);
        return NULL;
    }
    return st;
}

/* The parameters of the functions of the properties patched: Flask's own
 * (self, value), and those fs_propertize made of a ConfigAttribute's
 * __get__(obj, owner=None) and __set__(obj, value). */
static const char *const fs_prop_params[] = {"self", "value"};
static const char *const fs_attr_get_params[] = {"obj", "owner"};
static const char *const fs_attr_set_params[] = {"obj", "value"};

/* The app and, for a setter (n 2), the value of a call of a property's
 * function of parameters names[0..nnames-1], by position or by name, in a
 * new tuple; NULL with no ordinary exception set when the call does not
 * bind (the function then says why).  The property passes them by
 * position, so that its own calls make no dict. */
static PyObject *
fs_flag_args(PyObject *args, PyObject *kwargs, const char *const *names,
             Py_ssize_t nnames, Py_ssize_t n)
{
    PyObject *pos, *kw, *r;

    if (kwargs == NULL && PyTuple_Size(args) == n) {
        return fs_new_ref(args);
    }
    kw = fs_args_fit(args, kwargs, 0, names, nnames, n, &pos);
    if (kw == NULL) {
        return NULL;
    }
    r = n == 1 ? PyTuple_Pack(1, PyDict_GetItemString(kw, names[0]))
               : PyTuple_Pack(2, PyDict_GetItemString(kw, names[0]),
                              PyDict_GetItemString(kw, names[1]));
    FS_DECREF(pos);
    FS_DECREF(kw);
    return r;
}

/* A property getter of key k: False when the policy forces it off. */
static PyObject *
fs_flag_get(fs_patch *p, PyObject *orig, PyObject *args, PyObject *kwargs,
            int k, const char *const *names, Py_ssize_t nnames)
{
    PyObject *r = PyObject_Call(orig, args, kwargs);
    PyObject *bound;
    fs_appstate *st;
    int on;

    if (r == NULL || r == FS_False) {
        return r;
    }
    on = PyObject_IsTrue(r);
    if (on <= 0) {
        if (on < 0) {
            FS_CLEAR(r);        /* the app's own __bool__ raised */
        }
        return r;
    }
    bound = fs_flag_args(args, kwargs, names, nnames, 1);
    st = bound != NULL ? fs_flag_state(p, PyTuple_GetItem(bound, 0)) : NULL;
    FS_XDECREF(bound);
    if (st == NULL) {
        if (PyErr_Occurred()) {
            FS_CLEAR(r);
        }
        return r;
    }
    fs_log_forced(st, k, r, fs_app_enforcing(st));
    if (fs_app_enforcing(st)) {
        FS_XSETREF(r, fs_new_ref(FS_False));
    }
    FS_DECREF(st);
    return r;
}

/* A property setter of key k: stores False when the policy forces it
 * off. */
static PyObject *
fs_flag_set(fs_patch *p, PyObject *orig, PyObject *args, PyObject *kwargs,
            int k, const char *const *names)
{
    PyObject *bound = fs_flag_args(args, kwargs, names, 2, 2);
    PyObject *value, *fixed, *r;
    fs_appstate *st;
    bool enforce;
    int on;

    if (bound == NULL) {
        return fs_call_orig(orig, args, kwargs);
    }
    value = PyTuple_GetItem(bound, 1);
    on = PyObject_IsTrue(value);
    st = on > 0 ? fs_flag_state(p, PyTuple_GetItem(bound, 0)) : NULL;
    if (on < 0 || st == NULL) {
        FS_DECREF(bound);
        return on < 0 || PyErr_Occurred() ? NULL
                                          : PyObject_Call(orig, args, kwargs);
    }
    enforce = fs_app_enforcing(st);
    fs_log_forced(st, k, value, enforce);
    FS_DECREF(st);
    if (!enforce) {
        FS_DECREF(bound);
        return PyObject_Call(orig, args, kwargs);
    }
    fixed = PyTuple_Pack(2, PyTuple_GetItem(bound, 0), FS_False);
    FS_DECREF(bound);
    if (fixed == NULL) {
        return NULL;
    }
    r = PyObject_Call(orig, fixed, NULL);
    FS_DECREF(fixed);
    return r;
}

PyObject *
fs_guard_debug_get(fs_patch *p, PyObject *orig, PyObject *args,
                   PyObject *kwargs)
{
    return fs_flag_get(p, orig, args, kwargs, FS_K_DEBUG, fs_prop_params, 1);
}

PyObject *
fs_guard_debug_set(fs_patch *p, PyObject *orig, PyObject *args,
                   PyObject *kwargs)
{
    return fs_flag_set(p, orig, args, kwargs, FS_K_DEBUG, fs_prop_params);
}

PyObject *
fs_guard_testing_get(fs_patch *p, PyObject *orig, PyObject *args,
                     PyObject *kwargs)
{
    return fs_flag_get(p, orig, args, kwargs, FS_K_TESTING,
                       fs_attr_get_params, 2);
}

PyObject *
fs_guard_testing_set(fs_patch *p, PyObject *orig, PyObject *args,
                     PyObject *kwargs)
{
    return fs_flag_set(p, orig, args, kwargs, FS_K_TESTING,
                       fs_attr_set_params);
}

PyObject *
fs_guard_propagate_get(fs_patch *p, PyObject *orig, PyObject *args,
                       PyObject *kwargs)
{
    return fs_flag_get(p, orig, args, kwargs, FS_K_PROPAGATE, fs_prop_params,
                       1);
}

PyObject *
fs_guard_handle_exception(fs_patch *p, PyObject *orig, PyObject *args,
                          PyObject *kwargs)
{
    fs_appstate *st = PyTuple_Size(args) >= 1
        ? fs_flag_state(p, PyTuple_GetItem(args, 0)) : NULL;
    PyObject *config;

    if (st != NULL) {
        config = PyObject_GetAttr(PyTuple_GetItem(args, 0),
                                  p->names[FS_N_CONFIG]);
        if (config != NULL) {
            fs_propagate_off(st, config);
            FS_DECREF(config);
        }
        fs_err_clear();
        FS_DECREF(st);
    }
    return fs_call_orig(orig, args, kwargs);
}
