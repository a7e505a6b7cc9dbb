/*
 * fs_app.c -- the per-app state (see fs_app.h): made from the policy entry
 * that matches the app's import_name, found again on the app by type
 * pointer, freed with the app.
 */
#include "fs_app.h"

#include <stdlib.h>
#include <string.h>

#include "fs_headers.h"
#include "fs_patch.h"
#include "fs_record_file.h"
#include "fs_state.h"
#include "fs_types.h"

const char *const fs_key_names[FS_K_COUNT] = {
    "DEBUG", "TESTING", "PROPAGATE_EXCEPTIONS", "SECRET_KEY",
    "SECRET_KEY_FALLBACKS", "MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE",
    "MAX_FORM_PARTS",
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

    for (i = 0; i < FS_K_COUNT; i++) {
        FS_XDECREF(st->keys[i]);
    }
    FS_XDECREF(st->pin_keys);
    FS_XDECREF(st->pin_values);
    FS_XDECREF(st->limits);
    FS_XDECREF(st->key);
    FS_XDECREF(st->request_class);
    FS_XDECREF(st->config_type);
    FS_XDECREF(st->app_type);
    FS_XDECREF(st->settled);
    FS_XDECREF(st->headers);
    FS_XDECREF(st->hsts);
    FS_XDECREF(st->headers_type);
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

/* The part of the state that comes from the policy in force: the app's
 * settings, the pins as Python objects, and nothing cached from the last
 * policy (limits, the key judged).  Made at first use and again when a
 * reload replaced the policy (fs_state.generation moved). */
static int
fs_appstate_settings(fs_appstate *st)
{
    const struct fs_app_settings *s;
    PyObject *pin_keys, *pin_values;
    size_t i, npins;

    s = fs_policy_for_app(fs_state.policy, st->name);
    npins = s->npins;
    pin_keys = PyTuple_New((Py_ssize_t)npins);
    pin_values = PyTuple_New((Py_ssize_t)npins);
    if (pin_keys == NULL || pin_values == NULL) {
        FS_XDECREF(pin_keys);
        FS_XDECREF(pin_values);
        return -1;
    }
    for (i = 0; i < npins; i++) {
        PyObject *k = PyUnicode_InternFromString(s->pins[i].key);
        PyObject *v = fs_pin_value(&s->pins[i]);

        if (k == NULL || v == NULL) {
            FS_XDECREF(k);
            FS_XDECREF(v);
            goto error;
        }
        /* PyTuple_SetItem steals its item, on failure too */
        if (PyTuple_SetItem(pin_keys, (Py_ssize_t)i, k) < 0) {
            FS_DECREF(v);
            goto error;
        }
        if (PyTuple_SetItem(pin_values, (Py_ssize_t)i, v) < 0) {
            goto error;
        }
    }
    if (fs_headers_settings(st, s) < 0) {
        goto error;
    }
    st->s = s;
    FS_XSETREF(st->pin_keys, pin_keys);
    FS_XSETREF(st->pin_values, pin_values);
    FS_XSETREF(st->limits, NULL);
    FS_XSETREF(st->key, NULL);
    FS_XSETREF(st->request_class, NULL);
    st->limit = -1;
    st->gen = fs_state.generation;
    st->slot = fs_record_app(st->name, fs_mode_name(s->mode));
    return 0;

error:
    FS_DECREF(pin_keys);
    FS_DECREF(pin_values);
    return -1;
}

static int
fs_appstate_init(fs_appstate *st, PyObject *app)
{
    PyObject *name = PyObject_GetAttrString(app, "import_name");
    const char *cname = NULL;
    int i;

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
    for (i = 0; i < FS_K_COUNT; i++) {
        st->keys[i] = PyUnicode_InternFromString(fs_key_names[i]);
        if (st->keys[i] == NULL) {
            return -1;
        }
    }
    for (i = 0; i < 3; i++) {
        st->written[i] = -1;
        st->own[i] = -1;
    }
    return fs_appstate_settings(st);
}

_Thread_local struct fs_app_current fs_app_current
    __attribute__((tls_model("initial-exec")));

struct fs_app_current
fs_app_enter(PyObject *app, fs_appstate *st)
{
    struct fs_app_current prev = fs_app_current;

    FS_INCREF(app);
    FS_INCREF(st);
    fs_app_current = (struct fs_app_current){app, st};
    return prev;
}

void
fs_app_leave(struct fs_app_current prev)
{
    struct fs_app_current cur = fs_app_current;

    fs_app_current = prev;              /* owns prev's references now */
    FS_XDECREF(cur.st);
    FS_XDECREF(cur.app);
}

fs_appstate *
fs_app_state_at(PyObject *app, PyObject *attr)
{
    PyObject *st = PyObject_GetAttr(app, attr);
    PyObject *type;

    if (st != NULL) {
        if (Py_TYPE(st)->tp_dealloc == fs_appstate_dealloc) {     /* ours */
            if (((fs_appstate *)st)->gen != fs_state.generation
                && fs_appstate_settings((fs_appstate *)st) < 0) {
                fs_err_clear();     /* keeps the settings it had */
            }
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
fs_once_in(unsigned long long *set, unsigned long long bit)
{
    if (*set & bit) {
        return false;
    }
    *set |= bit;
    return true;
}

bool
fs_app_once(fs_appstate *st, unsigned long long bit)
{
    return fs_once_in(&st->logged, bit);
}

void
fs_app_log_begin(struct fs_logline *l, enum fs_level level,
                 const char *event, const fs_appstate *st)
{
    fs_log_begin_service(l, level, event, st->name, fs_enforce_word(st),
                         st->s->service);
}

/* Does `config` read its items as a dict does (flask.Config), so that
 * the dict holds what Flask gets?  Asked once per config class. */
static bool
fs_app_config_plain(fs_appstate *st, PyObject *config)
{
    PyObject *type = (PyObject *)Py_TYPE(config);
    PyObject *d, *mine, *dicts;

    if (type == st->config_type) {
        return st->config_plain;
    }
    d = PyDict_New();
    mine = PyObject_GetAttrString(type, "__getitem__");
    dicts = d != NULL ? PyObject_GetAttrString((PyObject *)Py_TYPE(d),
                                               "__getitem__") : NULL;
    st->config_plain = mine != NULL && mine == dicts;
    fs_err_clear();
    FS_XDECREF(dicts);
    FS_XDECREF(mine);
    FS_XDECREF(d);
    FS_XSETREF(st->config_type, fs_new_ref(type));
    return st->config_plain;
}

/* items[key] = config[key] as the config class answers it.  A class that
 * cannot answer it now (a key it derives from the request, outside one)
 * is judged by what the dict holds, left out when that is nothing. */
static int
fs_app_config_copy(PyObject *items, PyObject *config, PyObject *key)
{
    PyObject *v = PyObject_GetItem(config, key);
    int rc;

    if (v == NULL) {
        fs_err_clear();
        v = fs_dict_get(config, key);
        return v != NULL ? PyDict_SetItem(items, key, v) : 0;
    }
    rc = PyDict_SetItem(items, key, v);
    FS_DECREF(v);
    return rc;
}

int
fs_app_config_read(fs_appstate *st, PyObject *config, int k0, int k1,
                   bool pins, struct fs_config *c)
{
    Py_ssize_t i, npins;
    int k, rc = 0;

    c->obj = config;
    if (fs_app_config_plain(st, config)) {
        c->items = fs_new_ref(config);
        return 0;
    }
    c->items = PyDict_New();
    npins = pins && st->pin_keys != NULL ? PyTuple_Size(st->pin_keys) : 0;
    for (k = k0; c->items != NULL && rc == 0 && k <= k1; k++) {
        rc = fs_app_config_copy(c->items, config, st->keys[k]);
    }
    for (i = 0; c->items != NULL && rc == 0 && i < npins; i++) {
        rc = fs_app_config_copy(c->items, config,
                                PyTuple_GetItem(st->pin_keys, i));
    }
    if (c->items == NULL || rc < 0) {
        fs_err_clear();
        FS_CLEAR(c->items);
        return -1;
    }
    return 0;
}

void
fs_app_config_done(struct fs_config *c)
{
    FS_CLEAR(c->items);
}

/* Can `v` (a config value; NULL: absent) not change in place? */
static bool
fs_value_fixed(PyObject *v)
{
    PyTypeObject *t;
    Py_ssize_t i, n;

    if (v == NULL || v == FS_None || v == FS_True || v == FS_False) {
        return true;
    }
    t = Py_TYPE(v);
    if (t == fs_api.PyUnicode_Type || t == fs_api.PyBytes_Type
        || t == fs_api.PyLong_Type || t == fs_api.PyFloat_Type) {
        return true;
    }
    if (t != fs_api.PyTuple_Type) {
        return false;
    }
    n = PyTuple_Size(v);
    for (i = 0; i < n; i++) {
        PyObject *item = PyTuple_GetItem(v, i);
        if (item == NULL || Py_TYPE(item) == fs_api.PyTuple_Type
            || !fs_value_fixed(item)) {
            fs_err_clear();
            return false;
        }
    }
    return true;
}

void
fs_app_config_settle(fs_appstate *st, const struct fs_config *c,
                     uint64_t version, bool clean)
{
    Py_ssize_t i, n = st->pin_keys != NULL ? PyTuple_Size(st->pin_keys) : 0;
    bool ok = clean && version != 0 && c->items == c->obj
              && fs_dict_version(c->obj) == version && st->key_attr_plain
              && st->limits != NULL;
    int k;

    for (k = 0; ok && k < FS_K_COUNT; k++) {
        ok = fs_value_fixed(fs_dict_get(c->items, st->keys[k]));
    }
    for (i = 0; ok && i < n; i++) {
        ok = fs_value_fixed(fs_dict_get(c->items,
                                        PyTuple_GetItem(st->pin_keys, i)));
    }
    fs_err_clear();
    if (!ok) {
        FS_CLEAR(st->settled);
        return;
    }
    FS_XSETREF(st->settled, fs_new_ref(c->obj));
    st->settled_version = version;
    st->settled_gen = st->gen;
    st->settled_fms = fs_dict_get(c->items, st->keys[FS_K_FMS]) != NULL;
}

bool
fs_app_config_set(fs_appstate *st, const struct fs_config *c, PyObject *key,
                  PyObject *value)
{
    PyObject *back;
    bool holds;

    if (!fs_app_enforcing(st)) {
        return false;
    }
    if (PyDict_SetItem(c->obj, key, value) < 0) {
        fs_err_clear();
        return false;
    }
    if (c->items == c->obj) {
        return true;
    }
    if (PyDict_SetItem(c->items, key, value) < 0
        || PyObject_SetItem(c->obj, key, value) < 0) {
        fs_err_clear();
    }
    /* a class may answer from elsewhere still (the environment) */
    back = PyObject_GetItem(c->obj, key);
    holds = back == value
            || (back != NULL && PyObject_RichCompareBool(back, value,
                                                         Py_EQ) == 1);
    FS_XDECREF(back);
    fs_err_clear();
    return holds;
}

/* The Flask app behind a WSGI callable: the app itself, a bound method of
 * it (app.wsgi_app), or NULL.  New reference. */
PyObject *
fs_flask_app_of(PyObject *wsgi)
{
    PyObject *self;

    if (wsgi == NULL) {
        return NULL;
    }
    if (PyObject_HasAttrString(wsgi, "import_name")
        && PyObject_HasAttrString(wsgi, "config")) {
        return fs_new_ref(wsgi);
    }
    self = PyObject_GetAttrString(wsgi, "__self__");
    if (self == NULL) {
        fs_err_clear();
        return NULL;
    }
    if (PyObject_HasAttrString(self, "import_name")
        && PyObject_HasAttrString(self, "config")) {
        return self;
    }
    FS_DECREF(self);
    return NULL;
}

bool
fs_subject_init(struct fs_subject *sub, PyObject *wsgi)
{
    PyObject *app;

    sub->st = NULL;
    fs_activate();
    if (fs_state.policy == NULL) {
        return false;
    }
    app = fs_flask_app_of(wsgi);
    sub->st = app != NULL ? fs_app_state(app) : NULL;
    if (sub->st == NULL) {
        fs_err_clear();
    }
    sub->s = sub->st != NULL ? sub->st->s
                             : &fs_state.policy->global;
    FS_XDECREF(app);
    return true;
}

bool
fs_subject_once(struct fs_subject *sub, unsigned long long bit)
{
    static unsigned long long process_logged;

    if (sub->st != NULL) {
        return fs_app_once(sub->st, bit);
    }
    if (process_logged & bit) {
        return false;
    }
    process_logged |= bit;
    return true;
}

void
fs_subject_count(const struct fs_subject *sub, enum fs_counter c,
                 bool enforced)
{
    fs_count(sub->st != NULL ? sub->st->slot : 0, c, enforced);
}

void
fs_subject_log(struct fs_subject *sub, struct fs_logline *l,
               enum fs_level level, const char *event)
{
    if (sub->st != NULL) {
        fs_app_log_begin(l, level, event, sub->st);
    }
    else {
        fs_log_begin(l, level, event, NULL, fs_mode_name(sub->s->mode));
    }
}

void
fs_subject_done(struct fs_subject *sub)
{
    FS_XDECREF(sub->st);
}
