/*
 * fs_app_key.h -- an app's SECRET_KEY judged (see fs_app_key.c).
 */
#ifndef FS_APP_KEY_H
#define FS_APP_KEY_H

#include "fs_app.h"
#include "fs_patch.h"

/* Judge the key (and fallbacks) in `items`, the config's items as Flask
 * reads them (struct fs_config); log a rejection once per verdict.
 * Returns the verdict (FS_SECRET_OK when the policy accepts the key, or
 * accepts no key). */
enum fs_secret_verdict fs_app_check_secret_in(fs_appstate *st,
                                              PyObject *items);

/* The same, of the key as the app's class reads it: items["SECRET_KEY"]
 * unless a subclass answers app.secret_key otherwise (a class attribute,
 * a property), then what app.secret_key gives (the config's when reading
 * it raises). */
enum fs_secret_verdict fs_app_check_secret_of(fs_appstate *st, PyObject *app,
                                              PyObject *items);

/* The same, from app.config read as Flask reads it (through its class:
 * Dynaconf's FlaskDynaconf keeps the key in its own settings); when
 * app.config is no dict, of app.secret_key. */
enum fs_secret_verdict fs_app_check_secret(fs_appstate *st, PyObject *app);

/* SecureCookieSessionInterface.get_signing_serializer(self, app): raises
 * RuntimeError instead of making a serializer from a refused key, in
 * enforce mode unless secret_key.on_violation is "warn". */
PyObject *fs_guard_session_serializer(fs_patch *p, PyObject *orig,
                                      PyObject *args, PyObject *kwargs);
/* Its fast form (fs_patch_vfn): Flask's own call, (self, app). */
PyObject *fs_guard_session_serializer_v(fs_patch *p, PyObject *orig,
                                        PyObject *const *args, size_t nargsf,
                                        PyObject *kwnames);

#endif /* FS_APP_KEY_H */
