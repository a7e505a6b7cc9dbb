/*
 * cli_records.c -- reading the records of the processes on this host, for
 * `flaskshield ps` and `flaskshield metrics` (layout: core/fs_record.h).
 *
 * The folder is --dir, or the runtime_dir of the policy this host's
 * processes would resolve.  A record counts when its writer is alive --
 * the writer holds a shared flock() on it, so a reader that can take an
 * exclusive one knows it is gone and removes the file (as does a left-over
 * hidden .PID.tmp older than a minute) -- when it is valid, and when its
 * file belongs to the user who owns the process it names (a record another
 * user planted for someone else's pid is skipped).  Each is copied under
 * its sequence counter so that a header changed by a policy reload is
 * never read half-written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fs_logline.h"

/* Copy a live record under its sequence counter.  0, or -1 when it kept
 * changing. */
static int
fs_records_copy(const struct fs_record *m, struct fs_record *out)
{
    int tries;

    for (tries = 0; tries < 1000; tries++) {
        uint32_t s1 = __atomic_load_n(&m->seq, __ATOMIC_ACQUIRE);
        uint32_t a, c;

        if (s1 & 1) {
            continue;
        }
        memcpy(out, m, sizeof(*out));
        for (a = 0; a < FS_RECORD_APPS; a++) {
            for (c = 0; c < FS_CNT_COUNT; c++) {
                out->app[a].count[c][0] =
                    __atomic_load_n(&m->app[a].count[c][0], __ATOMIC_RELAXED);
                out->app[a].count[c][1] =
                    __atomic_load_n(&m->app[a].count[c][1], __ATOMIC_RELAXED);
            }
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&m->seq, __ATOMIC_RELAXED) == s1) {
            return 0;
        }
    }
    return -1;
}

/* Does the file belong to the owner of process pid (or is the process not
 * visible here, as from another pid namespace)? */
static bool
fs_records_owner_ok(const struct stat *st, long long pid)
{
    char proc[64];
    struct stat ps;

    snprintf(proc, sizeof(proc), "/proc/%lld", pid);
    return stat(proc, &ps) != 0 || ps.st_uid == st->st_uid;
}

/* One directory entry: 1 and *out filled for a live, valid record; 0 to
 * skip it (removed when its writer is dead). */
static int
fs_records_one(int dfd, const char *name, struct fs_record *out)
{
    size_t len = strlen(name), sl = strlen(FS_RECORD_SUFFIX);
    bool tmp = name[0] == '.';
    struct fs_record *m;
    struct stat st;
    char *end;
    long long pid;
    int fd, rc = 0;

    if (!tmp && (len <= sl || strcmp(name + len - sl, FS_RECORD_SUFFIX) != 0)) {
        return 0;
    }
    pid = strtoll(name + (tmp ? 1 : 0), &end, 10);
    if (pid <= 0 || *end != '.') {
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
         * making: only an old one) */
        if (!tmp || time(NULL) - st.st_mtime > 60) {
            unlinkat(dfd, name, 0);
        }
        close(fd);
        return 0;
    }
    if (tmp || (size_t)st.st_size < sizeof(*m)) {
        close(fd);
        return 0;
    }
    m = mmap(NULL, sizeof(*m), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        return 0;
    }
    if (fs_records_copy(m, out) == 0 && fs_record_valid(out, sizeof(*out))
        && out->pid == pid && fs_records_owner_ok(&st, pid)) {
        rc = 1;
    }
    munmap(m, sizeof(*m));
    return rc;
}

static int
fs_records_by_pid(const void *a, const void *b)
{
    const struct fs_record *x = a, *y = b;

    return (x->pid > y->pid) - (x->pid < y->pid);
}

int
fs_records_read(const char *cmd, const char *dir, struct fs_record **out,
                size_t *n)
{
    struct fs_record *recs = NULL, *grown;
    size_t count = 0, cap = 0;
    struct dirent *e;
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
    while ((e = readdir(d)) != NULL) {
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            grown = realloc(recs, cap * sizeof(*recs));
            if (grown == NULL) {
                fprintf(stderr, "flaskshield %s: out of memory\n", cmd);
                free(recs);
                closedir(d);
                return -1;
            }
            recs = grown;
        }
        count += (size_t)fs_records_one(dirfd(d), e->d_name, &recs[count]);
    }
    closedir(d);
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
