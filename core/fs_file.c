/*
 * fs_file.c -- open, check and read one policy file.
 *
 * The contract is in fs_file.h.  Nothing here prints or exits; every
 * failure becomes a reason string for the caller's "FILE:0: ..." message.
 */
#include "fs_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum fs_file_status
fs_file_check(const struct stat *st, long long max, char *why, size_t whylen)
{
    if (S_ISDIR(st->st_mode)) {
        snprintf(why, whylen, "is a directory");
        return FS_FILE_REJECTED;
    }
    if (!S_ISREG(st->st_mode)) {
        snprintf(why, whylen, "is not a regular file");
        return FS_FILE_REJECTED;
    }
    if (st->st_size > max) {
        snprintf(why, whylen, "is larger than %lld MiB (%lld bytes)",
                 max >> 20, (long long)st->st_size);
        return FS_FILE_REJECTED;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, whylen,
                 "is writable by group or others (mode %04o); "
                 "run chmod go-w on it",
                 (unsigned)(st->st_mode & 07777));
        return FS_FILE_REJECTED;
    }
    if (st->st_uid != 0 && st->st_uid != geteuid()) {
        snprintf(why, whylen,
                 "is owned by uid %lu, neither root nor the effective user "
                 "(uid %lu)",
                 (unsigned long)st->st_uid, (unsigned long)geteuid());
        return FS_FILE_REJECTED;
    }
    return FS_FILE_OK;
}

enum fs_file_status
fs_file_read(const char *path, char **data, size_t *len,
             struct stat *st_out, char *why, size_t whylen)
{
    struct stat st;
    enum fs_file_status status;
    char *buf = NULL;
    size_t used = 0, cap;
    int fd;

    *data = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO must not hang open() (fstat then refuses it);
     * O_NOCTTY: a terminal named as the file never becomes the process's
     * controlling terminal. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        char ebuf[128];
        snprintf(why, whylen, "cannot open: %s",
                 strerror_r(err, ebuf, sizeof(ebuf)));
        return (err == ENOENT || err == ENOTDIR) ? FS_FILE_MISSING
                                                 : FS_FILE_REJECTED;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(why, whylen, "cannot stat");
        close(fd);
        return FS_FILE_REJECTED;
    }
    status = fs_file_check(&st, FS_FILE_MAX, why, whylen);
    if (status != FS_FILE_OK) {
        close(fd);
        return status;
    }
    /* A buffer the size fstat() gave (policy files are small: no large
     * allocation in the host process, which would move glibc's mmap
     * threshold for good), grown if the file grows meanwhile, up to one
     * byte past the limit. */
    cap = (size_t)st.st_size + 1;
    buf = malloc(cap + 1);
    if (buf == NULL) {
        snprintf(why, whylen, "out of memory");
        close(fd);
        return FS_FILE_REJECTED;
    }
    for (;;) {
        ssize_t n;

        if (used == cap) {
            char *bigger;
            cap = cap * 2 > FS_FILE_MAX + 1 ? FS_FILE_MAX + 1 : cap * 2;
            bigger = used < cap ? realloc(buf, cap + 1) : NULL;
            if (bigger == NULL) {
                snprintf(why, whylen, used < cap ? "out of memory"
                                                 : "is larger than 1 MiB");
                free(buf);
                close(fd);
                return FS_FILE_REJECTED;
            }
            buf = bigger;
        }
        n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            char ebuf[128];
            snprintf(why, whylen, "cannot read: %s",
                     strerror_r(errno, ebuf, sizeof(ebuf)));
            free(buf);
            close(fd);
            return FS_FILE_REJECTED;
        }
        if (n == 0) {
            break;
        }
        used += (size_t)n;
        if (used > FS_FILE_MAX) {
            snprintf(why, whylen, "is larger than 1 MiB");
            free(buf);
            close(fd);
            return FS_FILE_REJECTED;
        }
    }
    close(fd);
    buf[used] = '\0';
    if (st_out != NULL) {
        *st_out = st;
    }
    *data = buf;
    *len = used;
    return FS_FILE_OK;
}
