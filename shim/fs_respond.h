/*
 * fs_respond.h -- the library's own WSGI answers (see fs_respond.c).
 */
#ifndef FS_RESPOND_H
#define FS_RESPOND_H

#include "fs_app.h"

/* Call start_response with the status and headers of the page (the app's
 * security headers too, for the request of environ env), and return the
 * body as a list of one bytes object (new reference), or NULL with an
 * exception set. */
PyObject *fs_respond_500(fs_appstate *st, PyObject *env,
                         PyObject *start_response);
PyObject *fs_respond_413(fs_appstate *st, PyObject *env,
                         PyObject *start_response);

#endif /* FS_RESPOND_H */
