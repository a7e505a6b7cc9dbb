/*
 * fs_record_file.c -- this process's record file (see fs_record_file.h and
 * core/fs_record.h).
 *
 * Made at activation, so a process that never imports Flask writes
 * nothing.  The file is made under a hidden name (.PID.tmp, O_EXCL,
 * O_NOFOLLOW), locked with a shared flock(), filled, then renamed to
 * PID.rec: a reader never sees a record without its lock, and one whose
 * lock it can take belongs to a dead process.  The runtime folder is made
 * mode 1777 (as /tmp) when missing, so that apps running as other users
 * can publish beside each other but not remove each other's files.
 *
 * fork(): the child inherits the parent's shared mapping and descriptor.
 * An atfork handler closes the descriptor (the child must not keep the
 * parent's lock alive after the parent dies) and marks the record as the
 * parent's; the first use in the child (fs_counters.c, the request guard)
 * renews it: a new file with the same apps, counters at zero.  Children
 * that only fork and exec never write anything.
 */
#include "fs_record_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs_log.h"
#include "fs_state.h"

struct fs_record *fs_record;
volatile bool fs_record_forked;

static int fs_record_fd = -1;
static dev_t fs_record_dev;         /* ... is this file */
static ino_t fs_record_ino;
static bool fs_record_mapped;       /* from a file, else malloc() */
static pid_t fs_record_owner;       /* who made the file */
static char fs_record_path[4096];
static char fs_record_dir[4000];      /* PATH_MAX less room for a name */
static char fs_python[32];

/* In a fork() child: drop the parent's lock descriptor -- if it is still
 * the record's (the app may have closed it and the number be another
 * file's now). */
static void
fs_record_atfork_child(void)
{
    struct stat st;

    if (fs_record_fd >= 0 && fstat(fs_record_fd, &st) == 0
        && st.st_dev == fs_record_dev && st.st_ino == fs_record_ino) {
        close(fs_record_fd);
    }
    fs_record_fd = -1;
    fs_record_forked = true;
}

/* One line saying why the process is not published. */
static void
fs_record_unavailable(const char *dir, const char *why)
{
    struct fs_logline l;

    fs_log_begin(&l, FS_INFO, "runtime.unavailable", NULL, fs_global_mode());
    fs_log_str(&l, "runtime_dir", dir);
    fs_log_str(&l, "reason", why);
    fs_log_str(&l, "effect", "flaskshield ps and metrics do not see this "
                             "process");
    fs_log_end(&l);
}

/* The runtime folder: made 1777 when missing (the mode set through a
 * descriptor opened without following a symlink: a folder swapped for a
 * link meanwhile is never what gets the mode).  0, or -1 and *why. */
static int
fs_record_mkdir(const char *dir, const char **why)
{
    struct stat st;
    int fd;

    if (mkdir(dir, 01777) == 0) {
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            if (fstat(fd, &st) == 0 && st.st_uid == geteuid()) {
                fchmod(fd, 01777);      /* mkdir() obeys the umask */
            }
            close(fd);
        }
    }
    else if (errno != EEXIST) {
        *why = strerror(errno);
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        *why = "not a folder";
        return -1;
    }
    /* Whoever else may rename or remove its entries could swap ours. */
    if ((st.st_uid != 0 && st.st_uid != geteuid())
        || ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))) {
        *why = "owned by another user, or writable by others without the "
               "sticky bit";
        return -1;
    }
    return 0;
}

/* The process's command line, NULs made spaces (and what
 * fs_record_strcpy() makes of the rest). */
static void
fs_record_command(char *out, size_t size)
{
    char buf[sizeof(((struct fs_record *)0)->command)];
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    ssize_t i;

    if (fd >= 0) {
        close(fd);
    }
    if (n < 0) {
        n = 0;
    }
    while (n > 0 && buf[n - 1] == '\0') {
        n--;
    }
    for (i = 0; i < n; i++) {
        if (buf[i] == '\0') {
            buf[i] = ' ';
        }
    }
    buf[n] = '\0';
    fs_record_strcpy(out, size, buf);
}

/* A new record file, locked, under its final name.  Returns the mapping
 * (zeros), or NULL and *why.  The file is made under a random hidden name
 * (mkostemps: O_EXCL, mode 0600, so nobody else can open it to take the
 * lock first), locked without waiting, its blocks allocated (a sparse file
 * on a full file system would make the first store into the mapping a
 * SIGBUS), then opened to readers and renamed into place. */
static struct fs_record *
fs_record_create(const char **why)
{
    char tmp[sizeof(fs_record_path)];
    struct fs_record *r;
    long pid = (long)getpid();
    struct stat st;
    int fd, err;

    if (fs_record_mkdir(fs_record_dir, why) < 0) {
        return NULL;
    }
    snprintf(tmp, sizeof(tmp), "%s/.%ld.XXXXXX.tmp", fs_record_dir, pid);
    snprintf(fs_record_path, sizeof(fs_record_path), "%s/%ld%s",
             fs_record_dir, pid, FS_RECORD_SUFFIX);
    fd = mkostemps(tmp, 4, O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return NULL;
    }
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        *why = strerror(errno);
        goto fail;
    }
    err = posix_fallocate(fd, 0, sizeof(*r));
    if (err != 0 || fchmod(fd, 0644) != 0 || fstat(fd, &st) != 0) {
        *why = strerror(err != 0 ? err : errno);
        goto fail;
    }
    r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (r == MAP_FAILED) {
        *why = strerror(errno);
        goto fail;
    }
    if (rename(tmp, fs_record_path) != 0) {
        *why = strerror(errno);
        munmap(r, sizeof(*r));
        goto fail;
    }
    fs_record_fd = fd;
    fs_record_dev = st.st_dev;
    fs_record_ino = st.st_ino;
    return r;

fail:
    unlink(tmp);
    close(fd);
    return NULL;
}

/* Fill the header of a record made for this process. */
static void
fs_record_init(struct fs_record *r, const struct fs_record *from)
{
    uint32_t i;

    if (from != NULL) {
        memcpy(r, from, sizeof(*r));
        for (i = 0; i < r->napps; i++) {
            memset(r->app[i].count, 0, sizeof(r->app[i].count));
        }
    }
    else {
        memset(r, 0, sizeof(*r));
        r->magic = FS_RECORD_MAGIC;
        r->version = FS_RECORD_VERSION;
        r->size = sizeof(*r);
        r->napps = 1;               /* slot 0: the process */
        fs_record_strcpy(r->python, sizeof(r->python), fs_python);
        fs_record_strcpy(r->app[0].mode, sizeof(r->app[0].mode),
                         fs_global_mode());
    }
    r->pid = (int64_t)getpid();
    r->started = (int64_t)time(NULL);
    fs_record_command(r->command, sizeof(r->command));
    fs_record_owner = getpid();
}

/* Make the record for this process, as a copy of `from` (a fork child's
 * parent) or fresh. */
static void
fs_record_make(const struct fs_record *from)
{
    struct fs_record *r = NULL;
    const char *why = NULL;

    fs_record_mapped = false;
    if (fs_record_dir[0] != '\0') {
        r = fs_record_create(&why);
        if (r != NULL) {
            fs_record_mapped = true;
        }
        else if (from == NULL) {
            fs_record_unavailable(fs_record_dir, why);
        }
    }
    if (r == NULL) {
        r = malloc(sizeof(*r));
        if (r == NULL) {
            return;
        }
    }
    fs_record_init(r, from);
    fs_record = r;
    if (from == NULL) {
        fs_record_set_policy();
    }
}

void
fs_record_open(const char *python)
{
    const char *dir = fs_state.policy->runtime_dir;
    static bool registered;

    if (fs_record != NULL) {
        return;
    }
    fs_record_strcpy(fs_python, sizeof(fs_python), python);
    fs_python[strcspn(fs_python, " ")] = '\0';
    fs_record_strcpy(fs_record_dir, sizeof(fs_record_dir),
                     dir != NULL ? dir : "");
    if (!registered) {
        registered = pthread_atfork(NULL, NULL, fs_record_atfork_child) == 0;
    }
    fs_record_make(NULL);
}

void
fs_record_renew(void)
{
    struct fs_record *old = fs_record;
    bool old_mapped = fs_record_mapped;

    fs_record_forked = false;
    if (old == NULL) {
        return;
    }
    fs_record = NULL;
    fs_record_make(old);
    if (fs_record == NULL) {
        fs_record = old;            /* out of memory: count into the copy */
        return;
    }
    if (old_mapped) {
        munmap(old, sizeof(*old));
    }
    else {
        free(old);
    }
}

void
fs_record_set_policy(void)
{
    struct fs_record *r = fs_record_own();
    const struct fs_policy *p = fs_state.policy;

    if (r == NULL || p == NULL) {
        return;
    }
    __atomic_add_fetch(&r->seq, 1, __ATOMIC_RELEASE);
    fs_record_strcpy(r->policy, sizeof(r->policy),
                     p->from_file ? fs_state.policy_path : "");
    fs_record_strcpy(r->digest, sizeof(r->digest), p->digest);
    fs_record_strcpy(r->mode, sizeof(r->mode), fs_global_mode());
    fs_record_strcpy(r->app[0].mode, sizeof(r->app[0].mode),
                     fs_global_mode());
    __atomic_add_fetch(&r->seq, 1, __ATOMIC_RELEASE);
}

int
fs_record_app(const char *name, const char *mode)
{
    struct fs_record *r = fs_record_own();
    char stored[sizeof(r->app[0].name)];
    uint32_t i;

    if (r == NULL) {
        return 0;
    }
    /* compared as stored: a name cut or with '?' for a control character
     * finds its slot again (on every reload too) */
    fs_record_strcpy(stored, sizeof(stored), name);
    for (i = 1; i < r->napps; i++) {
        if (strcmp(r->app[i].name, stored) == 0) {
            break;
        }
    }
    if (i == FS_RECORD_APPS) {
        return 0;
    }
    __atomic_add_fetch(&r->seq, 1, __ATOMIC_RELEASE);
    if (i == r->napps) {
        memcpy(r->app[i].name, stored, sizeof(stored));
        r->napps++;
    }
    fs_record_strcpy(r->app[i].mode, sizeof(r->app[i].mode), mode);
    __atomic_add_fetch(&r->seq, 1, __ATOMIC_RELEASE);
    return (int)i;
}

void
fs_record_close(void)
{
    const char *name = strrchr(fs_record_path, '/');
    struct stat st;
    int dfd;

    if (!fs_record_mapped || fs_record_owner != getpid()
        || fs_record_forked) {
        return;
    }
    /* its counters stay in the sums `flaskshield metrics` makes; when they
     * cannot be retired now (the retired file locked by someone else,
     * or not to be made), the file stays, unlocked once this process is
     * gone: the next scan counts it as dead and retires it */
    dfd = open(fs_record_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0 && name != NULL && fstat(fs_record_fd, &st) == 0) {
        fs_record_retire(dfd, name + 1, &st, fs_record, (unsigned)geteuid());
    }
    if (dfd >= 0) {
        close(dfd);
    }
}
