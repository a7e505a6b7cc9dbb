/*
 * fs_guard.h -- the request guard: the per-app checks at the entry of
 * every request.
 *
 * The guard runs at the WSGI entry of every Flask app (Flask.wsgi_app,
 * which every way in reaches), for every request: debug-class settings
 * off, pinned config keys, body limits in the config, SECRET_KEY judged
 * (again whenever the key object changes).  In "enforce" mode it corrects
 * the config, answers 500 for a refused key and 413 for a declared body
 * over the limit, bounds a body of unknown length (fs_input.c) and tells
 * the Request attributes the limits (fs_limits.c).  In "report" mode it
 * logs the same events with "enforced": false and changes nothing; in
 * "off" mode it does nothing.  Each correction is logged once per app and
 * kind.  It is the second line: each setting is also enforced where Flask
 * reads it (fs_app_debug.c, fs_app_key.c, fs_limits.c, fs_input.c).
 */
#ifndef FS_GUARD_H
#define FS_GUARD_H

#include "fs_app.h"
#include "fs_patch.h"

/* Flask.wsgi_app(self, environ, start_response), also when called with
 * the arguments by name (an empty **kwargs is no kwargs). */
PyObject *fs_guard_call(fs_patch *p, PyObject *orig, PyObject *args,
                        PyObject *kwargs);

/* Its fast form (fs_patch_vfn): the positional call. */
PyObject *fs_guard_vcall(fs_patch *p, PyObject *orig, PyObject *const *args,
                         size_t nargsf, PyObject *kwnames);

#endif /* FS_GUARD_H */
