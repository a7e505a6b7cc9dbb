/*
 * fs_module.h -- the built-in `flaskshield` module, for operators and tests.
 *
 * Served by the finder once the library is attached (without the library,
 * `import flaskshield` fails as usual).  flaskshield.status() returns a dict:
 * version, attach path, interpreter, pid, policy (path, from_file, mode),
 * the patches applied with their target modules, and how often each watched
 * module's callback ran.  It never includes a secret.
 */
#ifndef FS_MODULE_H
#define FS_MODULE_H

#include "fs_api.h"

PyObject *fs_module_create(void);

#endif /* FS_MODULE_H */
