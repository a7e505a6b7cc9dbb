/*
 * fs_guard.h -- the per-app checks, and the request guard that runs them.
 *
 * The decisive checks run at the WSGI entry of every Flask app
 * (Flask.wsgi_app, which every way in reaches: DESIGN.md decision 6), for
 * every request: debug off,
 * pinned config keys, body limits in the config, SECRET_KEY judged (again
 * whenever the key object changes).  In "enforce" mode the guard corrects
 * the config, answers 500 for a refused key and 413 for a declared body over
 * the limit, bounds an undeclared body (fs_input.c) and tells the Request
 * attributes the limits (fs_limits.c).  In "report" mode it logs the same
 * events with "enforced": false and changes nothing; in "off" mode it does
 * nothing.  Each correction is logged once per app and kind.
 *
 * The per-app bookkeeping (`flaskshield.AppState`) lives on the app object
 * as `_flaskshield`; it holds the app's settings from the policy, what was
 * already logged, the last key judged and its verdict.
 */
#ifndef FS_GUARD_H
#define FS_GUARD_H

#include "fs_api.h"
#include "fs_log.h"
#include "fs_patch.h"
#include "fs_policy.h"
#include "fs_secret.h"

typedef struct fs_appstate fs_appstate;

/* The app's state, created on first use (new reference), or NULL with an
 * exception set. */
fs_appstate *fs_app_state(PyObject *app);
const struct fs_app_settings *fs_app_settings(const fs_appstate *st);
const char *fs_app_name(const fs_appstate *st);

/* What has been logged for an app: fs_app_once() is true the first time a
 * bit is asked for. */
enum {
    FS_LOGGED_DEBUG = 1u << 0,
    FS_LOGGED_MCL = 1u << 1,
    FS_LOGGED_FMS = 1u << 2,
    FS_LOGGED_FP = 1u << 3,
    FS_LOGGED_FORM_CLASS = 1u << 4,     /* and 1u << 5 */
    FS_LOGGED_DEBUGGER = 1u << 6,
    FS_LOGGED_DEV_SERVER = 1u << 7,
};
bool fs_app_once(fs_appstate *st, unsigned long long bit);

/* Start a log line for this app (its name and mode). */
void fs_app_log_begin(struct fs_logline *l, enum fs_level level,
                      const char *event, const fs_appstate *st);

/* Judge the app's SECRET_KEY (and SECRET_KEY_FALLBACKS) as configured now;
 * log a rejection once per verdict.  Returns the verdict (FS_SECRET_OK when
 * the policy accepts the key). */
enum fs_secret_verdict fs_app_check_secret(fs_appstate *st, PyObject *app);

/* Where debug mode was switched on, for log lines: "cli", "environment"
 * or "config".  value: the config's DEBUG value when known, else NULL. */
const char *fs_debug_source(PyObject *value);

/* The getter of the Flask.debug property: what the app, its extensions,
 * the template loader and exception handling see.  False under
 * debug.force_off in enforce mode (logged once as debug.forced_off),
 * whatever the config class returns for DEBUG. */
PyObject *fs_guard_debug_get(fs_patch *p, PyObject *orig, PyObject *args,
                             PyObject *kwargs);

/* Its setter (app.debug = True, as flask.cli does): stores False instead
 * under the same conditions, so template auto-reload stays off too. */
PyObject *fs_guard_debug_set(fs_patch *p, PyObject *orig, PyObject *args,
                             PyObject *kwargs);

/* Flask.wsgi_app(self, environ, start_response), also when called with
 * the arguments by name (an empty **kwargs is no kwargs). */
PyObject *fs_guard_call(fs_patch *p, PyObject *orig, PyObject *args,
                        PyObject *kwargs);

#endif /* FS_GUARD_H */
