/*
 * fs_headers.h -- security headers and HTTPS from the policy (see
 * fs_headers.c): what Flask-Talisman does, without touching the app.
 */
#ifndef FS_HEADERS_H
#define FS_HEADERS_H

#include "fs_app.h"
#include "fs_patch.h"

/* st->headers and st->hsts made from settings s (st->s is not yet s);
 * 0, or -1 with an exception set (st unchanged). */
int fs_headers_settings(fs_appstate *st, const struct fs_app_settings *s);

/* Flask.process_response(self, response): the app's after-request
 * functions and session first, then the headers the app did not set. */
PyObject *fs_headers_process_response(fs_patch *p, PyObject *orig,
                                      PyObject *args, PyObject *kwargs);
/* Its fast form (fs_patch_vfn). */
PyObject *fs_headers_process_response_v(fs_patch *p, PyObject *orig,
                                        PyObject *const *args, size_t nargsf,
                                        PyObject *kwnames);

/* https.force: for a plain-HTTP request (environ env) of an app whose
 * policy forces HTTPS, the redirect to https:// (the response iterable,
 * start_response called), logged once per app; None to go on (no
 * redirect, report mode, or any error). */
PyObject *fs_headers_redirect(fs_patch *p, fs_appstate *st, PyObject *app,
                              PyObject *env, PyObject *start_response);

/* Append the headers to `list`, the (name, value) list of a response the
 * library makes itself (fs_respond.c) for the request of environ env. */
void fs_headers_extend(fs_appstate *st, PyObject *env, PyObject *list);

#endif /* FS_HEADERS_H */
