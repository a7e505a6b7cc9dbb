/*
 * fs_record.c -- the counter names, the checks a reader runs on a record
 * file (layout in fs_record.h) and the retired counters of processes that
 * are gone, shared by the library that writes records and the command
 * that reads them.
 */
#include "fs_record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs_logline.h"

const char *const fs_counter_names[FS_CNT_COUNT] = {
    [FS_CNT_REFUSED_BODY] = "body_too_large",
    [FS_CNT_REFUSED_SECRET_KEY] = "secret_key",
    [FS_CNT_FIX_DEBUG] = "debug",
    [FS_CNT_FIX_DEBUGGER] = "debugger",
    [FS_CNT_FIX_DEV_SERVER] = "dev_server",
    [FS_CNT_FIX_BODY_LIMIT] = "body_limit",
    [FS_CNT_FIX_PIN] = "pin",
    [FS_CNT_FIX_HEADER] = "header",
};

/* NUL-terminated within its field, UTF-8 and free of control characters
 * (a reader prints it as a table, a JSON string or a Prometheus label:
 * names that differ must print differently, and no name may move the
 * terminal or start a line of its own). */
static bool
fs_terminated(const char *s, size_t size)
{
    const unsigned char *u = (const unsigned char *)s;
    const char *end = memchr(s, '\0', size);
    size_t i = 0, n, k;

    if (end == NULL) {
        return false;
    }
    n = (size_t)(end - s);
    while (i < n) {
        k = fs_utf8_len(u + i, n - i);
        if (k == 0 || u[i] < 0x20 || u[i] == 0x7f) {
            return false;
        }
        i += k;
    }
    return true;
}

#define FS_TERMINATED(field) fs_terminated((field), sizeof(field))

bool
fs_record_valid(const struct fs_record *r, size_t len)
{
    uint32_t i;

    if (len < sizeof(*r) || r->magic != FS_RECORD_MAGIC
        || r->version != FS_RECORD_VERSION || r->size != sizeof(*r)
        || r->napps == 0 || r->napps > FS_RECORD_APPS || r->pid < 0
        || !FS_TERMINATED(r->python) || !FS_TERMINATED(r->command)
        || !FS_TERMINATED(r->policy) || !FS_TERMINATED(r->digest)
        || !FS_TERMINATED(r->mode)) {
        return false;
    }
    for (i = 0; i < r->napps; i++) {
        if (!FS_TERMINATED(r->app[i].name) || !FS_TERMINATED(r->app[i].mode)) {
            return false;
        }
    }
    return true;
}

void
fs_record_strcpy(char *dst, size_t size, const char *src)
{
    const unsigned char *u = (const unsigned char *)(src != NULL ? src : "");
    size_t i = 0, o = 0, k;

    while (u[i] != '\0') {
        k = fs_utf8_len(u + i, strnlen((const char *)u + i, 4));
        if (k == 0 || u[i] < 0x20 || u[i] == 0x7f) {
            if (o + 1 > size - 1) {
                break;
            }
            dst[o++] = '?';
            i++;
            continue;
        }
        if (o + k > size - 1) {
            break;              /* a character that does not fit whole */
        }
        memcpy(dst + o, u + i, k);
        o += k;
        i += k;
    }
    memset(dst + o, 0, size - o);
}

/* The slot of app `a` in the retired record t: its name's, a new one, or
 * the process's (slot 0) when every slot is taken. */
static uint32_t
fs_retired_slot(struct fs_record *t, const struct fs_record_app *a)
{
    uint32_t j;

    for (j = 0; j < t->napps; j++) {
        if (strcmp(t->app[j].name, a->name) == 0) {
            return j;
        }
    }
    if (t->napps == FS_RECORD_APPS) {
        return 0;
    }
    memcpy(t->app[j].name, a->name, sizeof(a->name));
    memcpy(t->app[j].mode, a->mode, sizeof(a->mode));
    t->napps++;
    return j;
}

int
fs_record_lock(int fd, int op)
{
    struct timespec ms = {0, 1000000};
    int tries;

    for (tries = 0; tries < 200; tries++) {
        if (flock(fd, op | LOCK_NB) == 0) {
            return 0;
        }
        if (errno != EWOULDBLOCK) {
            return -1;
        }
        nanosleep(&ms, NULL);
    }
    return -1;
}

/* The retired file `rname` of uid in dfd, opened for writing: the one
 * there when it is a regular file of uid's with no other link; else a new
 * one (what someone else left under that name is removed first, where
 * the folder lets this process: never written, never given to uid).  The
 * descriptor, or -1. */
static int
fs_retired_open(int dfd, const char *rname, unsigned uid)
{
    struct stat st;
    int fd, tries;

    for (tries = 0; tries < 3; tries++) {
        fd = openat(dfd, rname, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0) {
            if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
                && st.st_uid == uid && st.st_nlink == 1) {
                return fd;
            }
            close(fd);
        }
        if ((fd >= 0 || errno != ENOENT)        /* a symlink, a folder */
            && unlinkat(dfd, rname, 0) != 0
            && unlinkat(dfd, rname, AT_REMOVEDIR) != 0) {
            return -1;
        }
        fd = openat(dfd, rname, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW
                                | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (geteuid() != uid && fchown(fd, uid, (gid_t)-1) != 0) {
                close(fd);
                unlinkat(dfd, rname, 0);
                return -1;
            }
            return fd;
        }
        /* EEXIST: made meanwhile by another process of uid: open that */
    }
    return -1;
}

int
fs_record_retire(int dfd, const char *name, const struct stat *st,
                 const struct fs_record *r, unsigned uid)
{
    char rname[40];
    struct fs_record t;
    struct stat now;
    uint32_t i, j;
    int fd, c, e, rc = -1;

    if (geteuid() != 0 && geteuid() != uid) {
        return -1;              /* another user's: never made for it */
    }
    snprintf(rname, sizeof(rname), FS_RECORD_RETIRED "%u.rec", uid);
    fd = fs_retired_open(dfd, rname, uid);
    if (fd < 0 || fs_record_lock(fd, LOCK_EX) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    if (fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0
        || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
        close(fd);
        return 0;               /* counted by whoever removed it */
    }
    if (unlinkat(dfd, name, 0) != 0) {
        close(fd);
        return -1;
    }
    if (pread(fd, &t, sizeof(t), 0) != (ssize_t)sizeof(t)
        || !fs_record_valid(&t, sizeof(t)) || t.pid != 0) {
        memset(&t, 0, sizeof(t));
        t.magic = FS_RECORD_MAGIC;
        t.version = FS_RECORD_VERSION;
        t.size = (uint32_t)sizeof(t);
        t.napps = 1;
        t.started = (int64_t)time(NULL);
        fs_record_strcpy(t.command, sizeof(t.command), "(retired)");
    }
    for (i = 0; i < r->napps && i < FS_RECORD_APPS; i++) {
        j = fs_retired_slot(&t, &r->app[i]);
        for (c = 0; c < FS_CNT_COUNT; c++) {
            for (e = 0; e < 2; e++) {
                fs_record_add(&t.app[j].count[c][e],
                              __atomic_load_n(&r->app[i].count[c][e],
                                              __ATOMIC_RELAXED));
            }
        }
    }
    if (pwrite(fd, &t, sizeof(t), 0) == (ssize_t)sizeof(t)) {
        rc = 0;
    }
    close(fd);                  /* and its lock */
    return rc;
}
