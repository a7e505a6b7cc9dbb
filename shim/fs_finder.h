/*
 * fs_finder.h -- the meta-path finder that turns imports into post-import
 * callbacks (docs/design.md, "The import finder").
 *
 * fs_finder_on_import() is called by the audit hook for every `import`
 * event.  The first import of a watched package (flask, werkzeug,
 * flaskshield, ...) in an interpreter (sub-interpreters included) puts a
 * `flaskshield.Finder` at the head of sys.meta_path and runs the callbacks
 * of watched modules already in sys.modules; later ones only check that the
 * finder is still there (by the type pointer of the interpreter's state,
 * fs_interp.h).  Other imports cost a name comparison.  The finder
 * also serves the built-in `flaskshield` module.  Once Flask is imported
 * the finder leaves sys.meta_path and the watched packages' setattr does
 * its work (fs_finder.c).
 */
#ifndef FS_FINDER_H
#define FS_FINDER_H

#include "fs_api.h"

/* 0, or -1 with an exception that the import must fail with (see
 * fs_err_clear): the audit hook's return value. */
int fs_finder_on_import(PyObject *audit_args);

#endif /* FS_FINDER_H */
