/*
 * fs_file.h -- reading a policy file safely.
 *
 * A policy file (and every file it includes, and the weak list) is trusted
 * only if it is a
 * regular file of at most FS_FILE_MAX bytes, owned by root or by the
 * process's effective user, and not writable by group or others.  Symlinks
 * are followed, but every check is made with fstat() on the opened
 * descriptor, so what is checked is what is read.  The descriptor is opened
 * O_NONBLOCK so that a FIFO never blocks.
 */
#ifndef FS_FILE_H
#define FS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define FS_FILE_MAX (1024 * 1024)

/* Outcome of fs_file_read(); FS_FILE_OK means *data is set. */
enum fs_file_status {
    FS_FILE_OK = 0,
    FS_FILE_MISSING,            /* ENOENT or ENOTDIR */
    FS_FILE_REJECTED,           /* any other problem; why[] says what */
};

/* The checks every trusted file passes (policy files, their includes, the
 * weak list), on the fstat() of its open descriptor: a regular file of at
 * most `max` bytes, not writable by group or others, owned by root or the
 * effective user.  FS_FILE_OK, or FS_FILE_REJECTED and why[]. */
enum fs_file_status fs_file_check(const struct stat *st, long long max,
                                  char *why, size_t whylen);

/* Read path into a NUL-terminated heap buffer (*data, *len bytes without
 * the terminator); *st (may be NULL) receives the fstat() of the file read.
 * On failure writes a short reason (no file name) into why[0..whylen) and
 * returns the status; *data is left NULL. */
enum fs_file_status fs_file_read(const char *path, char **data, size_t *len,
                                 struct stat *st, char *why, size_t whylen);

#endif /* FS_FILE_H */
