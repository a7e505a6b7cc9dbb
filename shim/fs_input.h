/*
 * fs_input.h -- a wsgi.input that cannot deliver more than the limit.
 *
 * For a body without Content-Length (chunked) the guard replaces
 * environ["wsgi.input"] by a `flaskshield.Input`.  It counts
 * what is read and, instead of cutting the body short, raises Werkzeug's
 * RequestEntityTooLarge (a 413) as soon as it sees one byte past the limit:
 * whenever a read could reach the limit it asks the real stream for one
 * byte more than allowed, so an over-long body is told from one that ends
 * exactly at the limit.  The application never sees more than the limit.
 * read(), readline(), readlines() and iteration are bounded; the unbounded
 * paths of the real stream (readinto, read1, peek) are hidden, so readers
 * such as Werkzeug 3's LimitedStream fall back to read().
 */
#ifndef FS_INPUT_H
#define FS_INPUT_H

#include "fs_api.h"

PyObject *fs_input_new(PyObject *input_type, PyObject *inner,
                       long long limit);

#endif /* FS_INPUT_H */
