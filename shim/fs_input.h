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
 *
 * For a body whose declared length the library trusts and allows, on a
 * stream the server ends itself (wsgi.input_terminated), the request gets
 * an Input in declared mode instead, and so does environ["wsgi.input"]
 * when it is the development server's socket file (fs_guard.c; without a
 * Content-Length, a declared length of 0): it passes each read on in the
 * size the reader asked for, never past the declared length, and at the
 * declared length it is at its end without asking the server again; no
 * copy, one read of the server's stream for each read of the reader.
 *
 * read(), read1(), readinto(), readline(), readlines() and iteration are
 * bounded; the real stream's own readers (and peek) are never reached
 * through it.  It is a readable, unseekable binary stream, as Werkzeug's
 * LimitedStream is (readable(), tell(), closed, `with`; seek() raises
 * io.UnsupportedOperation; close() ends it, not the server's stream), so
 * io.TextIOWrapper, io.BufferedReader and csv take it whatever the server's
 * stream has; the rest (fileno, ...) is the real stream's.
 */
#ifndef FS_INPUT_H
#define FS_INPUT_H

#include "fs_api.h"
#include "fs_clen.h"
#include "fs_patch.h"

/* A flaskshield.Input over `inner` delivering at most `limit` bytes (new
 * reference), or NULL with an exception set.  A body found longer counts
 * as a refusal of the app in record slot `slot` (-1: none, the limit is
 * the app's own).  With report, the Input only counts (as a would-be
 * refusal) and passes every byte on, in the sizes the reader asks for. */
PyObject *fs_input_new(PyObject *input_type, PyObject *inner,
                       long long limit, int slot, bool report);

/* A flaskshield.Input over `inner` in declared mode: at most `length`
 * bytes, the declared length (new reference), or NULL with an exception
 * set. */
PyObject *fs_input_declared(PyObject *input_type, PyObject *inner,
                            long long length);

/* `in`, a flaskshield.Input, bounded at `cap` too: itself (a new
 * reference) when it already delivers no more, else a new Input over it
 * at cap (a body found longer counts in record slot `slot`, -1: none). */
PyObject *fs_input_within(PyObject *input_type, PyObject *in, long long cap,
                          int slot);

/* Is o a flaskshield.Input over a body of a length the library does not
 * trust (chunked, or a Content-Length beside a Transfer-Encoding), not one
 * in declared mode? */
bool fs_input_unframed(PyObject *o);

/* Raise werkzeug.exceptions.RequestEntityTooLarge (a 413 for Flask);
 * returns NULL. */
PyObject *fs_input_too_large(void);

/* The request's body length as the library trusts it (fs_clen.c): a plain
 * CONTENT_LENGTH with no Transfer-Encoding is FS_CLEN_VALUE (*len set);
 * any Transfer-Encoding, or a length of another form, FS_CLEN_UNKNOWN. */
enum fs_clen fs_input_length(fs_patch *p, PyObject *environ, long long *len);

#endif /* FS_INPUT_H */
