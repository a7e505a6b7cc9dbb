/*
 * fs_finder.h -- the meta-path finder that turns imports into post-import
 * callbacks (DESIGN.md decision 4).
 *
 * fs_finder_on_import() is called by the audit hook for every `import`
 * event.  The first time it runs in an interpreter (sub-interpreters
 * included) after initialization it puts a `flaskshield.Finder` at the head
 * of sys.meta_path and runs the callbacks of watched modules that are
 * already in sys.modules.  After that it only checks that the finder is
 * still there.  The finder also serves the built-in `flaskshield` module.
 */
#ifndef FS_FINDER_H
#define FS_FINDER_H

#include "fs_api.h"

void fs_finder_on_import(PyObject *audit_args);

#endif /* FS_FINDER_H */
