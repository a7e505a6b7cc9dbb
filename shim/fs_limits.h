/*
 * fs_limits.h -- the Request's body limits, capped per request.
 *
 * flask.wrappers.Request gets data descriptors (`flaskshield.Limit`) for
 * max_content_length, max_form_memory_size and max_form_parts.  Each reads
 * what the original attribute says (the Flask 3.1 property with its
 * per-request override, or Werkzeug 2.2's class attribute) and caps it at
 * this request's app's limit (fs_limits_of); `None` (no limit) becomes the
 * cap.  Assignment goes to the original
 * (Flask 3.1 setters; before 3.1 max_content_length stays read-only).
 * An app's own request_class that sets a limit as a plain class attribute
 * (the usual way before Flask 3.1) gets its own descriptor from the guard.
 */
#ifndef FS_LIMITS_H
#define FS_LIMITS_H

#include "fs_api.h"

#define FS_LIMITS_KEY "flaskshield.limits"

/* (max_content_length, max_form_memory_size, max_form_parts, slot,
 * policy_mcl): the app's limits, its slot in the record (its counters)
 * and the policy's max_content_length (a refusal under a lower limit is
 * the app's own, not counted) */
PyObject *fs_limits_tuple(long long mcl, long long fms, long long fp,
                          int slot, long long policy_mcl);

/* The limits tuple of the request of environ `env` (borrowed; `key` is
 * FS_LIMITS_KEY interned): the one the guard put in env, where the request
 * came with a body; else, in a request the guard entered under an
 * enforcing policy (fs_app_current), that app's; else NULL. */
PyObject *fs_limits_of(PyObject *env, PyObject *key);

/* Is v a limit as Werkzeug compares it, an int (not a bool) or a float
 * (5e5, as TOML gives it)?  Then *whole is its whole part, LLONG_MAX for
 * one that limits nothing (inf, nan) or is past long long. */
bool fs_limit_whole(PyObject *v, long long *whole);

/* Put the descriptors on a request class (and its subclasses that set a
 * limit of their own): idempotent.  0, or -1 with an exception set. */
int fs_limits_install(PyObject *cls);

/* The flask.wrappers hook: install the descriptors on Request. */
int fs_patch_flask_wrappers(PyObject *module);

#endif /* FS_LIMITS_H */
