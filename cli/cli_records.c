/*
 * cli_records.c -- reading the records of the processes on this host, for
 * `flaskshield ps` and `flaskshield metrics` (layout: core/fs_record.h).
 *
 * The folder is --dir, or the runtime_dir of the policy this host's
 * processes would resolve.  A record counts when its writer is alive --
 * the writer holds a shared flock() on it, so a reader that can take an
 * exclusive one knows it is gone and removes the file (as does a left-over
 * hidden .PID.XXXXXX.tmp older than a minute; a dead record's counters
 * join its user's retired ones, fs_record_retire) -- when it is valid, and
 * when the process it names is visible here, run by the owner of the file
 * and started before the record was made (fs_records_writer_ok).  Only
 * names of that form are touched.  Each is read with pread() under its
 * sequence counter, so that a header changed by a policy reload is never
 * read half-written and a file shrunk meanwhile is only a short read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fs_logline.h"

/* Read a live record into out: the whole file with pread(), kept when its
 * sequence counter was even and the same before and after (a header is
 * never taken half-changed by a reload).  Not mapped: the file's owner can
 * shrink it under a mapping, which would end this command with SIGBUS.
 * 0, or -1 when it kept changing or is short. */
static int
fs_records_copy(int fd, struct fs_record *out)
{
    uint32_t seq;
    int tries;

    for (tries = 0; tries < 1000; tries++) {
        if (pread(fd, out, sizeof(*out), 0) != (ssize_t)sizeof(*out)) {
            return -1;
        }
        if ((out->seq & 1) == 0
            && pread(fd, &seq, sizeof(seq), offsetof(struct fs_record, seq))
               == (ssize_t)sizeof(seq)
            && seq == out->seq) {
            return 0;
        }
    }
    return -1;
}

/* Is the record's writer the process it names: visible here (this pid
 * namespace), run by the owner of the file, and started before the record
 * was made (not a later process that got the pid of a dead writer)?  A
 * record another user planted for someone else's pid, or for no process,
 * fails. */
static bool
fs_records_writer_ok(const struct stat *st, const struct fs_record *r)
{
    char path[64], buf[1024], *p;
    static long long boot = -1;
    unsigned long long ticks;
    struct stat ps;
    ssize_t n;
    int fd, field;

    snprintf(path, sizeof(path), "/proc/%lld", (long long)r->pid);
    if (stat(path, &ps) != 0 || ps.st_uid != st->st_uid) {
        return false;
    }
    if (boot < 0) {
        FILE *f = fopen("/proc/stat", "re");

        while (f != NULL && fgets(buf, sizeof(buf), f) != NULL) {
            if (sscanf(buf, "btime %lld", &boot) == 1) {
                break;
            }
        }
        if (f != NULL) {
            fclose(f);
        }
    }
    snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)r->pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0) {
        close(fd);
    }
    if (n <= 0 || boot < 0) {
        return true;            /* cannot tell: owner and pid matched */
    }
    buf[n] = '\0';
    p = strrchr(buf, ')');      /* the command may hold spaces */
    for (field = 2; p != NULL && field < 22; field++) {
        p = strchr(p + 1, ' ');
    }
    if (p == NULL || sscanf(p + 1, "%llu", &ticks) != 1) {
        return true;
    }
    return boot + (long long)(ticks / (unsigned long long)sysconf(_SC_CLK_TCK))
           <= r->started + 1;
}

/* The retired counters of user *uid: FS_RECORD_RETIRED UID ".rec". */
static bool
fs_records_retired_name(const char *name, unsigned *uid)
{
    size_t n = strlen(FS_RECORD_RETIRED);
    char *end;
    unsigned long v;

    if (strncmp(name, FS_RECORD_RETIRED, n) != 0
        || name[n] < '0' || name[n] > '9') {
        return false;
    }
    v = strtoul(name + n, &end, 10);
    *uid = (unsigned)v;
    return v <= 0xffffffffUL && strcmp(end, FS_RECORD_SUFFIX) == 0;
}

/* The retired counters in file `name` (fs_records_retired_name), when the
 * file is its user's and a valid record of pid 0: *out filled and its
 * descriptor returned, holding a shared lock until it is closed (a
 * retirement, fs_record_retire, waits for it); else -1. */
static int
fs_records_retired(int dfd, const char *name, unsigned uid,
                   struct fs_record *out)
{
    struct stat st;
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC
                               | O_NONBLOCK);

    if (fd < 0) {
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != uid) {
        close(fd);
        return -1;
    }
    /* read also when the lock is not had in time (someone holds it): a
     * scan never waits on another user for long */
    (void)fs_record_lock(fd, LOCK_SH);
    if (pread(fd, out, sizeof(*out), 0) == (ssize_t)sizeof(*out)
        && fs_record_valid(out, sizeof(*out)) && out->pid == 0) {
        return fd;
    }
    close(fd);
    return -1;
}

/* A record's name: PID.rec, or .PID.XXXXXX.tmp while it is made; *tmp
 * tells which.  Anything else in the folder is not ours. */
static bool
fs_records_name(const char *name, bool *tmp)
{
    size_t i = 0, d;

    *tmp = name[0] == '.';
    i = *tmp ? 1 : 0;
    if (name[i] < '1' || name[i] > '9') {
        return false;
    }
    while (name[i] >= '0' && name[i] <= '9') {
        i++;
    }
    if (!*tmp) {
        return strcmp(name + i, FS_RECORD_SUFFIX) == 0;
    }
    if (name[i++] != '.') {
        return false;
    }
    for (d = 0; d < 6; d++, i++) {
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'z')
              || (name[i] >= 'A' && name[i] <= 'Z'))) {
            return false;
        }
    }
    return strcmp(name + i, ".tmp") == 0;
}

/* Record file `name` (PID.rec) read into out: valid, and of that pid. */
static bool
fs_records_take(int fd, const char *name, struct fs_record *out)
{
    return fs_records_copy(fd, out) == 0 && fs_record_valid(out, sizeof(*out))
           && out->pid == strtoll(name, NULL, 10);
}

/* A dead process's record, counted in this scan and retired after it. */
struct fs_records_dead {
    char name[40];
    struct stat st;
};

/* One directory entry of a record: 1 and *out filled for a live, valid
 * record, or for a dead one (its counts, pid 0: no process; *dead filled
 * for fs_records_read to retire it once the scan is over); 0 to skip it (an
 * old hidden one of a dead writer is removed). */
static int
fs_records_one(int dfd, const char *name, struct fs_record *out,
               struct fs_records_dead *dead)
{
    struct stat st, now;
    bool tmp;
    int fd, rc = 0;

    dead->name[0] = '\0';
    if (!fs_records_name(name, &tmp)) {
        return 0;
    }
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return 0;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        /* nobody holds it: its writer is gone (a hidden one may be in the
         * making: only an old one).  The name must still be this file. */
        if (!tmp && fs_records_take(fd, name, out)
            && strlen(name) < sizeof(dead->name)) {
            memcpy(dead->name, name, strlen(name) + 1);
            dead->st = st;
            out->pid = 0;
            rc = 1;
        }
        else if ((!tmp || time(NULL) - st.st_mtime > 60)
                 && fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0
                 && now.st_dev == st.st_dev && now.st_ino == st.st_ino) {
            unlinkat(dfd, name, 0);
        }
        close(fd);
        return rc;
    }
    if (!tmp && fs_records_take(fd, name, out)
        && fs_records_writer_ok(&st, out)) {
        rc = 1;
    }
    close(fd);
    return rc;
}

static int
fs_records_by_pid(const void *a, const void *b)
{
    const struct fs_record *x = a, *y = b;

    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Room for one more record in *recs (and its dead entry). */
static int
fs_records_grow(const char *cmd, struct fs_record **recs,
                struct fs_records_dead **dead, size_t count, size_t *cap)
{
    size_t want = *cap ? *cap * 2 : 16;
    struct fs_record *r;
    struct fs_records_dead *d;

    if (count < *cap) {
        return 0;
    }
    r = realloc(*recs, want * sizeof(**recs));
    if (r != NULL) {
        *recs = r;
    }
    d = r != NULL ? realloc(*dead, want * sizeof(**dead)) : NULL;
    if (d == NULL) {
        fprintf(stderr, "flaskshield %s: out of memory\n", cmd);
        return -1;
    }
    *dead = d;
    *cap = want;
    return 0;
}

/* The users whose retired counters a scan holds locked (one file each). */
#define FS_RECORDS_HELD 64

/* The scan is one snapshot: the retired counters are read first and kept
 * locked (shared) while the records are read, so that a process that
 * ends meanwhile waits to retire its counts and is counted once, live;
 * the dead records found are counted here and retired only after. */
int
fs_records_read(const char *cmd, const char *dir, struct fs_record **out,
                size_t *n)
{
    struct fs_record *recs = NULL;
    struct fs_records_dead *dead = NULL;
    size_t count = 0, cap = 0, i;
    int held[FS_RECORDS_HELD], nheld = 0, rc = 0, fd;
    struct dirent *e;
    unsigned uid;
    DIR *d = opendir(dir);

    *out = NULL;
    *n = 0;
    if (d == NULL) {
        if (errno == ENOENT) {
            return 0;           /* no process has published anything */
        }
        fprintf(stderr, "flaskshield %s: %s: %s\n", cmd, dir,
                strerror(errno));
        return -1;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!fs_records_retired_name(e->d_name, &uid)) {
            continue;
        }
        rc = fs_records_grow(cmd, &recs, &dead, count, &cap);
        fd = rc == 0 ? fs_records_retired(dirfd(d), e->d_name, uid,
                                          &recs[count]) : -1;
        if (fd >= 0) {
            dead[count++].name[0] = '\0';
            if (nheld < FS_RECORDS_HELD) {
                held[nheld++] = fd;
            }
            else {
                close(fd);      /* read, not held: a user past the 64th */
            }
        }
    }
    rewinddir(d);
    while (rc == 0 && (e = readdir(d)) != NULL) {
        rc = fs_records_grow(cmd, &recs, &dead, count, &cap);
        if (rc == 0) {
            count += (size_t)fs_records_one(dirfd(d), e->d_name, &recs[count],
                                            &dead[count]);
        }
    }
    while (nheld > 0) {
        close(held[--nheld]);   /* and their locks */
    }
    for (i = 0; rc == 0 && i < count; i++) {
        if (dead[i].name[0] != '\0') {
            fs_record_retire(dirfd(d), dead[i].name, &dead[i].st, &recs[i],
                             (unsigned)dead[i].st.st_uid);
        }
    }
    closedir(d);
    free(dead);
    if (rc != 0) {
        free(recs);
        return -1;
    }
    if (count > 0) {
        qsort(recs, count, sizeof(*recs), fs_records_by_pid);
    }
    *out = recs;
    *n = count;
    return 0;
}

int
fs_records_args(const char *cmd, int argc, char **argv, bool *json,
                const char **dir, void (*help)(FILE *f), int *rc)
{
    static struct fs_policy *p;
    const char *shown = NULL;
    int i;

    *dir = NULL;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help(stdout);
            *rc = FS_EXIT_OK;
            return -1;
        }
        if (json != NULL && strcmp(argv[i], "--json") == 0) {
            *json = true;
        }
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            *dir = argv[++i];
        }
        else {
            *rc = fs_cmd_usage_error(cmd, "unexpected argument '%s'",
                                     argv[i]);
            return -1;
        }
    }
    if (*dir != NULL) {
        struct stat st;

        /* a folder named here must be there: a mistyped one is not "no
         * process" */
        const char *why = stat(*dir, &st) != 0 ? strerror(errno)
                          : !S_ISDIR(st.st_mode) ? "not a folder" : NULL;

        if (why != NULL) {
            fprintf(stderr, "flaskshield %s: %s: %s\n", cmd, *dir, why);
            *rc = FS_EXIT_INVALID;
            return -1;
        }
        return 0;
    }
    if (fs_cmd_load(NULL, &p, &shown) != 0) {
        if (p == NULL) {
            *rc = FS_EXIT_INVALID;
            return -1;
        }
        fprintf(stderr, "flaskshield %s: the policy is rejected; its "
                        "processes use the built-in runtime_dir\n", cmd);
    }
    *dir = p->runtime_dir;
    if ((*dir)[0] == '\0') {
        fprintf(stderr, "flaskshield %s: %s sets runtime_dir = \"\": "
                        "processes publish nothing\n", cmd,
                shown != NULL ? shown : "the policy");
        *rc = FS_EXIT_INVALID;
        return -1;
    }
    return 0;
}

void
fs_records_quote(FILE *f, bool json, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n = strlen(s), k;

    fputc('"', f);
    while (i < n) {
        if (u[i] == '"' || u[i] == '\\') {
            fprintf(f, "\\%c", u[i++]);
        }
        else if (!json && u[i] == '\n') {
            fputs("\\n", f);
            i++;
        }
        else if (json && (u[i] < 0x20 || u[i] == 0x7f)) {
            fprintf(f, "\\u%04x", u[i++]);
        }
        else if ((k = fs_utf8_len(u + i, n - i)) > 0) {
            fwrite(u + i, 1, k, f);
            i += k;
        }
        else {
            fputs("\xef\xbf\xbd", f);       /* U+FFFD */
            i++;
        }
    }
    fputc('"', f);
}
