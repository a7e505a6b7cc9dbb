/*
 * fs_app.h -- the per-app state every check of a Flask app works on.
 *
 * `flaskshield.AppState` lives on the app object as `_flaskshield`, made
 * on first use by whichever patch meets the app first (the request guard,
 * Flask.run, run_simple, the Flask.debug property).  It holds the app's
 * settings from the policy, what was already logged for it, the config
 * key names made once, and what the request path keeps between requests
 * (the limits handed to the request, the last key judged and its
 * verdict).  The concerns that use it live in their own files:
 * fs_app_debug.c (the debug-class settings), fs_app_key.c (SECRET_KEY),
 * fs_guard.c (the request path), fs_respond.c (the guard's own answers).
 */
#ifndef FS_APP_H
#define FS_APP_H

#include "fs_api.h"
#include "fs_counters.h"
#include "fs_log.h"
#include "fs_policy.h"
#include "fs_secret.h"
#include "fs_state.h"

/* Config keys read by the checks, made once per app state. */
enum {
    FS_K_DEBUG, FS_K_TESTING, FS_K_PROPAGATE, FS_K_SECRET_KEY,
    FS_K_FALLBACKS, FS_K_MCL, FS_K_FMS, FS_K_FP, FS_K_COUNT
};
extern const char *const fs_key_names[FS_K_COUNT];

typedef struct fs_appstate fs_appstate;

struct fs_appstate {
    PyObject_HEAD
    const struct fs_app_settings *s;
    unsigned long gen;          /* fs_state.generation s was taken from */
    char *name;                 /* the app's import_name */
    int slot;                   /* its counters in the record (0: none) */
    unsigned long long logged;
    PyObject *keys[FS_K_COUNT];
    PyObject *pin_keys;         /* tuple of str, or NULL */
    PyObject *pin_values;       /* tuple, same length */
    PyObject *limits;           /* (max_content_length, max_form_memory_size,
                                 *  max_form_parts): set in environ */
    long long limit;            /* effective max_content_length */
    long long limit_fms, limit_fp;  /* and form limits, in `limits` */
    long long written[3];       /* MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE,
                                 * MAX_FORM_PARTS as the library last wrote
                                 * them into the config (-1: never) */
    long long own[3];           /* ... the app's own each replaced (-1:
                                 * none, no limit) */
    PyObject *key;              /* last SECRET_KEY judged (strong ref) */
    PyObject *request_class;    /* last app.request_class seen (strong) */
    enum fs_secret_verdict verdict;
    bool key_alone;             /* ... judged with no fallbacks */
    enum fs_secret_verdict logged_verdict;
    PyObject *config_type;      /* last type of app.config seen (strong) */
    bool config_plain;          /* ... reads its items from the dict */
    PyObject *app_type;         /* last type of the app seen (strong) */
    bool key_attr_plain;        /* ... reads secret_key from the config */
    /* The config as the last full check found it (fs_app_config_settle): */
    PyObject *settled;          /* app.config (strong), or NULL */
    uint64_t settled_version;   /* ... its dict version tag then */
    unsigned long settled_gen;  /* ... the settings' generation then */
    bool settled_fms;           /* ... it had MAX_FORM_MEMORY_SIZE */
    /* Security headers (fs_headers.c), made from the settings: */
    PyObject *headers;          /* list of (name, value) str pairs */
    PyObject *hsts;             /* (name, value) for HTTPS, or NULL */
    PyObject *headers_type;     /* werkzeug.datastructures.Headers (strong),
                                 * or NULL until the first response */
    unsigned long long headers_logged;  /* bit i: headers[i] logged;
                                         * FS_HDR_LOGGED_*: the others */
};

/* The app's state under attribute `attr` (an interned "_flaskshield"),
 * made on first use (new reference), or NULL with an exception set
 * (RuntimeError: no policy could be had). */
fs_appstate *fs_app_state_at(PyObject *app, PyObject *attr);

/* The same, making the attribute name itself. */
fs_appstate *fs_app_state(PyObject *app);

/* The app whose request this thread is in, and its state (strong
 * references, so that neither address can be reused meanwhile): set by
 * the request guard around the original Flask.wsgi_app, so that the
 * patches a request reaches (get_signing_serializer, process_response)
 * have the state without a look-up.  Green threads (gevent) interleave
 * requests on one thread: an entry may then be another request's, which
 * is still right when the app is the same (the state is the app's) and
 * is not used when it is not.  {NULL, NULL} outside a request. */
struct fs_app_current {
    PyObject *app;
    fs_appstate *st;
};
extern _Thread_local struct fs_app_current fs_app_current
    __attribute__((tls_model("initial-exec")));

/* Enter a request of app (state st): returns the entry to give back to
 * fs_app_leave. */
struct fs_app_current fs_app_enter(PyObject *app, fs_appstate *st);
void fs_app_leave(struct fs_app_current prev);

/* fs_app_state_at, from fs_app_current when `app` is the request's and
 * no reload replaced the policy since (then fs_app_state_at takes the
 * app's settings from the new one: a request's entry must not keep the
 * settings of a policy that is in force no more, and freed after a while). */
static inline fs_appstate *
fs_app_state_in_request(PyObject *app, PyObject *attr)
{
    if (app == fs_app_current.app && app != NULL
        && fs_app_current.st->gen == fs_state.generation) {
        FS_INCREF(fs_app_current.st);
        return fs_app_current.st;
    }
    return fs_app_state_at(app, attr);
}

/* What has been logged for an app: fs_app_once() is true the first time a
 * bit is asked for.  Pins use the bits from FS_LOGGED_PIN0 up. */
enum {
    FS_LOGGED_DEBUG = 1u << 0,
    FS_LOGGED_MCL = 1u << 1,
    FS_LOGGED_FMS = 1u << 2,
    FS_LOGGED_FP = 1u << 3,
    FS_LOGGED_FORM_CLASS = 1u << 4,     /* and 1u << 5 */
    FS_LOGGED_DEBUGGER = 1u << 6,
    FS_LOGGED_DEV_SERVER = 1u << 7,
    FS_LOGGED_TESTING = 1u << 8,
    FS_LOGGED_PROPAGATE = 1u << 9,
    FS_LOGGED_SESSION = 1u << 10,
    FS_LOGGED_UNHELD = 1u << 11,        /* and 1u << 12, 1u << 13 */
    FS_LOGGED_PIN0 = 14,
};
bool fs_app_once(fs_appstate *st, unsigned long long bit);

/* The same on another set of bits: true the first time bit is asked for. */
bool fs_once_in(unsigned long long *set, unsigned long long bit);

/* Start a log line for this app (its name, mode and service). */
void fs_app_log_begin(struct fs_logline *l, enum fs_level level,
                      const char *event, const fs_appstate *st);

/* Does the policy change this app (mode "enforce")? */
static inline bool
fs_app_enforcing(const fs_appstate *st)
{
    return st->s->mode == FS_MODE_ENFORCE;
}

/* The state of the request this thread is in (fs_app_current), when its
 * app is enforced (borrowed), else NULL. */
static inline const fs_appstate *
fs_app_current_enforced(void)
{
    const fs_appstate *st = fs_app_current.st;

    return st != NULL && fs_app_enforcing(st) ? st : NULL;
}

/* An app's config as the checks judge it.  Flask reads its settings as
 * config[key]; a config class of its own (Dynaconf's FlaskDynaconf) may
 * answer that from elsewhere than the dict, and store elsewhere too. */
struct fs_config {
    PyObject *obj;      /* app.config (a dict) */
    PyObject *items;    /* what Flask reads in it: obj itself when its
                         * class reads the dict, else a dict of the keys
                         * judged, each read through the class */
};

/* Fill c for config (a dict; borrowed) with the keys k0..k1 of
 * st->keys, and the pinned keys too if pins: c->items is a new
 * reference (fs_app_config_done), config itself when its class reads
 * items from the dict (flask.Config); a key the class cannot answer
 * (an error, cleared) is taken as the dict holds it, absent when the dict
 * has none.  -1 only when out of memory (error cleared, c->items NULL). */
int fs_app_config_read(fs_appstate *st, PyObject *config, int k0, int k1,
                       bool pins, struct fs_config *c);
void fs_app_config_done(struct fs_config *c);

/* Is `config` (app.config) what the last full check of the request
 * guard found conforming, unchanged since: the same dict object, of the
 * same plain class (flask.Config), with the same version tag (PEP 509:
 * any store, delete or update changes it), under the same settings (so in
 * enforce mode, as when it settled), for an app of the same class reading
 * secret_key from it?  Then every check
 * of the guard, and of the key where a session is signed, would find
 * again what it found: nothing to correct, the key accepted.  A few
 * pointer comparisons. */
static inline bool
fs_app_config_settled(const fs_appstate *st, PyObject *app, PyObject *config)
{
    return config == st->settled && st->settled_gen == st->gen
           && Py_TYPE(config) == (PyTypeObject *)st->config_type
           && st->config_plain
           && Py_TYPE(app) == (PyTypeObject *)st->app_type
           && st->key_attr_plain
           && fs_dict_version(config) == st->settled_version;
}

/* After a full check of c (config read with every key and the pins) that
 * accepted the key, corrected nothing and enforces: remember the config
 * as settled, if `version` (its tag before the check) is still its tag,
 * so that nothing changed it meanwhile, and if every value judged is of
 * a type that cannot change in place (None, bool, int, float, str, bytes,
 * or a tuple of those): a list or bytearray could, with no new tag.
 * Anything else forgets it.  The app's class must read secret_key from
 * the config (st->key_attr_plain). */
void fs_app_config_settle(fs_appstate *st, const struct fs_config *c,
                          uint64_t version, bool clean);

/* config[key] = value, in enforce mode only: in the dict itself, and
 * through the config class when it has its own item access (so that
 * what Flask and the app read agrees); c->items follows.  Does config[key]
 * read value now?  (False in report mode, or when the class still answers
 * otherwise, e.g. from the environment.) */
bool fs_app_config_set(fs_appstate *st, const struct fs_config *c,
                       PyObject *key, PyObject *value);

/* The Flask app behind a WSGI callable: the app itself, a bound method of
 * it (app.wsgi_app), or NULL.  New reference. */
PyObject *fs_flask_app_of(PyObject *wsgi);

/* Whom a finding is about, for its settings and its log-once bookkeeping:
 * a Flask app, or the process when the callable is none (a middleware). */
struct fs_subject {
    fs_appstate *st;                    /* NULL: no Flask app known */
    const struct fs_app_settings *s;
};

/* The subject of a WSGI callable (or NULL: the process).  False (nothing
 * to enforce with) only when no policy could be had; fs_subject_done()
 * in any case. */
bool fs_subject_init(struct fs_subject *sub, PyObject *wsgi);

/* The subject of an app state (borrowed: no fs_subject_done()). */
static inline struct fs_subject
fs_subject_of(fs_appstate *st)
{
    struct fs_subject sub = {st, st->s};
    return sub;
}

bool fs_subject_once(struct fs_subject *sub, unsigned long long bit);
/* fs_count() for the subject's app (or the process). */
void fs_subject_count(const struct fs_subject *sub, enum fs_counter c,
                      bool enforced);
void fs_subject_log(struct fs_subject *sub, struct fs_logline *l,
                    enum fs_level level, const char *event);
void fs_subject_done(struct fs_subject *sub);

#endif /* FS_APP_H */
