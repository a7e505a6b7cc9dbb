/*
 * fs_source.h -- the policy text with every @include expanded.
 *
 * libconfig 1.5 calls exit() when an @include names a directory, so
 * libconfig never sees an @include: fs_source_expand() reads each included
 * file itself (with the checks of fs_file.h, relative to the including
 * file's folder, at most FS_INCLUDE_DEPTH deep, no cycles), splices its text
 * in place of the directive line, and records for every line of the result
 * the file and line it came from, so that every message names the right
 * place.  The same scan (a small lexer that knows strings and comments, so
 * that an @include inside either is left alone, as libconfig does) also
 * flags integer literals that libconfig 1.5 would silently truncate to 32
 * bits, strings or comments left open at the end of a file, and a string
 * where libconfig expects no value: libconfig 1.5 reports that as a syntax
 * error and leaks the string (bison has no destructor for it), so such a
 * text is rejected here and never parsed.
 */
#ifndef FS_SOURCE_H
#define FS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "fs_diag.h"

#define FS_INCLUDE_DEPTH 8                      /* nested @include levels */
#define FS_EXPANDED_MAX (4 * 1024 * 1024)       /* bytes after expansion */

struct fs_source_line {
    unsigned file;              /* index into files[] */
    unsigned line;              /* 1-based line in that file */
};

struct fs_source {
    char *text;                 /* expanded text, NUL-terminated */
    size_t len, cap;
    char **files;               /* files[0] is the main file's name */
    size_t nfiles;
    struct fs_source_line *lines;       /* lines[i]: expanded line i + 1 */
    size_t nlines, linecap;
    bool no_parse;              /* a lexical error that libconfig would
                                 * only report worse, or leak memory on */
};

/* Expand data[0..len), the contents of the file called name (st: its
 * fstat(), or NULL for a buffer that is not a file), into src.  Problems go
 * to d, keyed by expanded line.  src must be zeroed before the call and
 * released with fs_source_free() after it, whatever the result. */
void fs_source_expand(struct fs_source *src, const char *name,
                      const char *data, size_t len, const struct stat *st,
                      struct fs_diag *d);

/* The file name and line of expanded line xline (1-based). */
const char *fs_source_where(const struct fs_source *src, size_t xline,
                            unsigned *line);

void fs_source_free(struct fs_source *src);

#endif /* FS_SOURCE_H */
