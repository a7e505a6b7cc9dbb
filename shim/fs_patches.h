/*
 * fs_patches.h -- the Flask and Werkzeug patches, as registry entries.
 *
 * Each patch file defines one callback per module it patches; this header
 * lists them for the registry (fs_registry.c).
 */
#ifndef FS_PATCHES_H
#define FS_PATCHES_H

#include "fs_registry.h"

int fs_patch_flask_app(PyObject *module);           /* fs_patch_flask.c */
int fs_patch_flask_sessions(PyObject *module);      /* fs_patch_flask.c */
int fs_patch_flask_wrappers(PyObject *module);      /* fs_limits.c */
int fs_patch_werkzeug_serving(PyObject *module);    /* fs_patch_werkzeug.c */
int fs_patch_werkzeug_debug(PyObject *module);      /* fs_patch_werkzeug.c */
int fs_patch_werkzeug_reloader(PyObject *module);   /* fs_patch_werkzeug.c */
int fs_patch_werkzeug_request(PyObject *module);    /* fs_patch_request.c */
int fs_patch_werkzeug_formparser(PyObject *module); /* fs_patch_request.c */

#define FS_PATCH_HOOKS                                                      \
    {"flask.app", fs_patch_flask_app},                                      \
    {"flask.sessions", fs_patch_flask_sessions},                            \
    {"flask.wrappers", fs_patch_flask_wrappers},                            \
    {"werkzeug.serving", fs_patch_werkzeug_serving},                        \
    {"werkzeug.debug", fs_patch_werkzeug_debug},                            \
    {"werkzeug._reloader", fs_patch_werkzeug_reloader},                     \
    {"werkzeug.wrappers.request", fs_patch_werkzeug_request},              \
    {"werkzeug.formparser", fs_patch_werkzeug_formparser},

#endif /* FS_PATCHES_H */
