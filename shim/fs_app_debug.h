/*
 * fs_app_debug.h -- DEBUG, TESTING and PROPAGATE_EXCEPTIONS where Flask
 * reads them (see fs_app_debug.c).
 */
#ifndef FS_APP_DEBUG_H
#define FS_APP_DEBUG_H

#include "fs_app.h"
#include "fs_patch.h"

/* Where debug mode was switched on, for log lines: "cli", "environment"
 * or "config".  value: the config's DEBUG value when known, else NULL. */
const char *fs_debug_source(PyObject *value);

/* What the library finds about debug and corrects: the debug-class config
 * keys, and the interactive debugger. */
enum fs_debug_finding {
    FS_DF_DEBUG = FS_K_DEBUG,
    FS_DF_TESTING = FS_K_TESTING,
    FS_DF_PROPAGATE = FS_K_PROPAGATE,
    FS_DF_DEBUGGER,
};

/* Say a finding was made, once per subject and kind: debug.forced_off
 * (with the config key) or debugger.blocked, with where it came from
 * (source: "argument", "environment", "config", "cli", ...) and through
 * what (via: "Flask.run", "run_simple", ...; NULL when found where Flask
 * reads the setting), and whether it is corrected ("enforced"). */
void fs_debug_note(struct fs_subject *sub, enum fs_debug_finding f,
                   const char *source, const char *via, bool enforced);

/* At the entry of a request: the debug-class keys of the config, as
 * Flask reads them, made False (logged once per key). */
void fs_app_debug_entry(fs_appstate *st, const struct fs_config *c);

/* Flask.make_config(self, instance_relative=False): the config Flask
 * makes, its DEBUG from FLASK_DEBUG (`flask --debug`), with the
 * debug-class keys made False as at a request's entry, so that setup code
 * reading app.config["DEBUG"] reads False from Flask() on. */
PyObject *fs_guard_make_config(fs_patch *p, PyObject *orig, PyObject *args,
                               PyObject *kwargs);

/* Getters and setters of the Flask.debug and Flask.testing properties,
 * and Flask 2.2's propagate_exceptions getter: False under
 * debug.force_off in enforce mode (logged once as debug.forced_off). */
PyObject *fs_guard_debug_get(fs_patch *p, PyObject *orig, PyObject *args,
                             PyObject *kwargs);
PyObject *fs_guard_debug_set(fs_patch *p, PyObject *orig, PyObject *args,
                             PyObject *kwargs);
PyObject *fs_guard_testing_get(fs_patch *p, PyObject *orig, PyObject *args,
                               PyObject *kwargs);
PyObject *fs_guard_testing_set(fs_patch *p, PyObject *orig, PyObject *args,
                               PyObject *kwargs);
PyObject *fs_guard_propagate_get(fs_patch *p, PyObject *orig,
                                 PyObject *args, PyObject *kwargs);

/* Flask.handle_exception(self, e): PROPAGATE_EXCEPTIONS false as the
 * config class reads it, before Flask decides. */
PyObject *fs_guard_handle_exception(fs_patch *p, PyObject *orig,
                                    PyObject *args, PyObject *kwargs);

#endif /* FS_APP_DEBUG_H */
