/*
 * cli_enable.c -- `flaskshield enable | disable | status`: the library in
 * /etc/ld.so.preload.
 *
 * The preload file is FILE of --preload-file, else $FLASKSHIELD_PRELOAD_FILE,
 * else /etc/ld.so.preload.  "Our line" is a line that, trimmed, is exactly
 * the library's path (fs_cmd_library(), made absolute).  Every other line is
 * kept as it is, byte for byte.
 *
 * enable: nothing to do when our line is there (idempotent, exit 0).
 * Refuses (exit 1) when the policy in force is invalid, when the file lists
 * another libflaskshield.so, or when the sanity check fails: /bin/true run
 * with the library preloaded must exit 0 and print nothing, and the python3
 * on PATH (or --python) must load it and run the self-test import
 * (fs_doctor_probe()); no python3 at all skips that half, with a note.
 * Then our line is appended and the file replaced atomically (a temporary
 * file in the same folder, fsync, rename), mode 0644 for a new file, else
 * the old file's mode and owner.
 * disable: removes our lines, keeps the rest; a file left with nothing but
 * white space is removed.  Not enabled is not an error (exit 0).  A line
 * that lists our library among others is left alone: exit 1, with a note.
 * status: the library, the preload file and our line in it, the policy in
 * force (path, from file or built-in, mode) and whether it is valid; exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fs_build.h"


#define FS_PRELOAD_DEFAULT "/etc/ld.so.preload"
#define FS_PRELOAD_MAX (1024 * 1024)
#define FS_TRUE_TIMEOUT 30

/* What one line of the preload file is to us. */
enum fs_line_kind {
    FS_LINE_OTHER,      /* not ours (including comments and blank lines) */
    FS_LINE_OURS,       /* trimmed, exactly our library */
    FS_LINE_MIXED,      /* lists our library among other entries */
    FS_LINE_COPY,       /* lists another libflaskshield.so */
};

struct fs_preload {
    char path[PATH_MAX];        /* the file to read and replace */
    bool exists;
    struct stat st;
    char *data;                 /* whole file, NUL-terminated */
    size_t len;
};

struct fs_opts {
    const char *preload_file;
    const char *python;
};

static void
fs_enable_help(FILE *f, const char *cmd)
{
    fprintf(f, "usage: flaskshield %s [--preload-file FILE]%s\n\n", cmd,
            strcmp(cmd, "enable") == 0 ? " [--python PYTHON]" : "");
    if (strcmp(cmd, "enable") == 0) {
        fprintf(f, "Check that the library loads into /bin/true and into "
                   "python3 with the policy\nin force, then add it to the "
                   "preload file (other entries kept; idempotent).\n");
    }
    else if (strcmp(cmd, "disable") == 0) {
        fprintf(f, "Remove the library's line from the preload file (other "
                   "entries kept;\nthe file is removed when nothing else is "
                   "left in it).\n");
    }
    else {
        fprintf(f, "Say whether the library is in the preload file and "
                   "which policy is in force.\n");
    }
    fprintf(f, "FILE: --preload-file, else $FLASKSHIELD_PRELOAD_FILE, else "
               "%s.\n", FS_PRELOAD_DEFAULT);
}

/* Options shared by the three; returns -1 (done, *rc set) or 0. */
static int
fs_enable_args(int argc, char **argv, struct fs_opts *o, int *rc)
{
    const char *cmd = argv[0];
    bool enable = strcmp(cmd, "enable") == 0;
    int i;

    o->preload_file = NULL;
    o->python = NULL;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fs_enable_help(stdout, cmd);
            *rc = FS_EXIT_OK;
            return -1;
        }
        if (strcmp(a, "--preload-file") == 0 && i + 1 < argc) {
            o->preload_file = argv[++i];
        }
        else if (strncmp(a, "--preload-file=", 15) == 0) {
            o->preload_file = a + 15;
        }
        else if (enable && strcmp(a, "--python") == 0 && i + 1 < argc) {
            o->python = argv[++i];
        }
        else if (enable && strncmp(a, "--python=", 9) == 0) {
            o->python = a + 9;
        }
        else if (strcmp(a, "--preload-file") == 0
                 || (enable && strcmp(a, "--python") == 0)) {
            *rc = fs_cmd_usage_error(cmd, "%s needs a value", a);
            return -1;
        }
        else {
            *rc = fs_cmd_usage_error(cmd, "unexpected argument '%s'", a);
            return -1;
        }
    }
    if (o->preload_file == NULL) {
        const char *env = getenv("FLASKSHIELD_PRELOAD_FILE");
        o->preload_file = env != NULL && env[0] != '\0' ? env
                                                         : FS_PRELOAD_DEFAULT;
    }
    if (o->preload_file[0] == '\0') {
        *rc = fs_cmd_usage_error(cmd, "empty preload file name");
        return -1;
    }
    return 0;
}

/* The library's absolute path (heap), or NULL after a message; with
 * quiet, the installed path when no library is found. */
static char *
fs_enable_library(const char *cmd, bool quiet)
{
    const char *lib = fs_cmd_library(quiet ? NULL : cmd);
    char *abs;

    if (lib == NULL) {
        return quiet ? strdup(FS_LIBDIR "/" FS_LIBNAME) : NULL;
    }
    abs = realpath(lib, NULL);
    if (abs == NULL) {
        abs = strdup(lib);
    }
    return abs;
}

/* Read the preload file (a missing one is empty).  0 or -1 (printed). */
static int
fs_preload_read(const char *cmd, const char *file, struct fs_preload *pf)
{
    struct stat lst;
    FILE *f;
    size_t cap;

    memset(pf, 0, sizeof(*pf));
    snprintf(pf->path, sizeof(pf->path), "%s", file);
    /* Replace a symlink's target, not the symlink. */
    if (lstat(file, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        char real[PATH_MAX];
        if (realpath(file, real) != NULL) {
            snprintf(pf->path, sizeof(pf->path), "%s", real);
        }
    }
    f = fopen(pf->path, "re");
    if (f == NULL) {
        if (errno == ENOENT) {
            pf->data = calloc(1, 1);
            return pf->data != NULL ? 0 : -1;
        }
        fprintf(stderr, "flaskshield %s: %s: %s\n", cmd, pf->path,
                strerror(errno));
        return -1;
    }
    pf->exists = true;
    if (fstat(fileno(f), &pf->st) != 0 || !S_ISREG(pf->st.st_mode)) {
        fprintf(stderr, "flaskshield %s: %s: not a regular file\n", cmd,
                pf->path);
        fclose(f);
        return -1;
    }
    cap = (size_t)pf->st.st_size + 1;
    if (cap > FS_PRELOAD_MAX) {
        fprintf(stderr, "flaskshield %s: %s: larger than %d bytes\n", cmd,
                pf->path, FS_PRELOAD_MAX);
        fclose(f);
        return -1;
    }
    pf->data = malloc(cap);
    if (pf->data == NULL) {
        fclose(f);
        return -1;
    }
    pf->len = fread(pf->data, 1, cap - 1, f);
    pf->data[pf->len] = '\0';
    if (ferror(f)) {
        fprintf(stderr, "flaskshield %s: %s: read error\n", cmd, pf->path);
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

/* Classify line[0..n) against our library. */
static enum fs_line_kind
fs_line_kind(const char *line, size_t n, const char *lib)
{
    size_t liblen = strlen(lib), b = 0, e = n, i;
    enum fs_line_kind kind = FS_LINE_OTHER;

    while (b < e && strchr(" \t\r", line[b]) != NULL) {
        b++;
    }
    while (e > b && strchr(" \t\r", line[e - 1]) != NULL) {
        e--;
    }
    if (e - b == liblen && memcmp(line + b, lib, liblen) == 0) {
        return FS_LINE_OURS;
    }
    /* The entries ld.so sees: separated by white space or ':', a '#'
     * starts a comment. */
    for (i = b; i < e && line[i] != '#'; ) {
        size_t t = i;
        while (t < e && strchr(" \t\r:#", line[t]) == NULL) {
            t++;
        }
        if (t > i) {
            if (t - i == liblen && memcmp(line + i, lib, liblen) == 0) {
                kind = FS_LINE_MIXED;
            }
            else if (fs_cmd_is_library_entry(line + i, t - i)) {
                if (kind != FS_LINE_MIXED) {
                    kind = FS_LINE_COPY;
                }
            }
        }
        i = t;
        while (i < e && strchr(" \t\r:", line[i]) != NULL) {
            i++;
        }
    }
    return kind;
}

/* Replace pf->path with data[0..len) atomically. 0 or -1 (printed). */
static int
fs_preload_write(const char *cmd, const struct fs_preload *pf,
                 const char *data, size_t len)
{
    char tmp[PATH_MAX + 32], dir[PATH_MAX];
    mode_t mode = pf->exists ? (pf->st.st_mode & 07777) : 0644;
    size_t off = 0;
    int fd, dfd;

    if (snprintf(tmp, sizeof(tmp), "%s.flaskshield-XXXXXX", pf->path)
        >= (int)sizeof(tmp)) {
        fprintf(stderr, "flaskshield %s: %s: name too long\n", cmd,
                pf->path);
        return -1;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "flaskshield %s: cannot create a file beside %s: %s\n",
                cmd, pf->path, strerror(errno));
        return -1;
    }
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            goto error;
        }
        off += (size_t)n;
    }
    if (fchmod(fd, mode) != 0) {
        goto error;
    }
    if (pf->exists && (pf->st.st_uid != geteuid() || pf->st.st_gid
                       != getegid())) {
        if (fchown(fd, pf->st.st_uid, pf->st.st_gid) != 0
            && errno != EPERM) {
            goto error;
        }
    }
    if (fsync(fd) != 0) {
        goto error;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto error;
    }
    fd = -1;
    if (rename(tmp, pf->path) != 0) {
        goto error;
    }
    snprintf(dir, sizeof(dir), "%s", pf->path);
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;

error:
    fprintf(stderr, "flaskshield %s: cannot write %s: %s\n", cmd, pf->path,
            strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    return -1;
}

/* Walk the lines; count each kind, remember the first of each. */
struct fs_scan {
    size_t count[4];
    size_t first_line[4];       /* 1-based */
    char first_text[4][PATH_MAX];
};

static void
fs_preload_scan(const struct fs_preload *pf, const char *lib,
                struct fs_scan *sc)
{
    const char *p = pf->data;
    size_t lineno = 0;

    memset(sc, 0, sizeof(*sc));
    while (p < pf->data + pf->len) {
        size_t n = strcspn(p, "\n");
        enum fs_line_kind k = fs_line_kind(p, n, lib);
        lineno++;
        if (sc->count[k]++ == 0) {
            sc->first_line[k] = lineno;
            snprintf(sc->first_text[k], sizeof(sc->first_text[k]), "%.*s",
                     (int)n, p);
        }
        p += n + (p[n] == '\n');
    }
}

/* The policy in force: prints problems, returns 0 if valid.  *out set. */
static int
fs_enable_policy(struct fs_policy **out, const char **shown)
{
    *out = NULL;
    *shown = NULL;
    return fs_cmd_load(NULL, out, shown);
}

/* /bin/true with the library: exit 0 and no output, or -1. */
static int
fs_enable_check_true(const char *lib)
{
    char *argv[] = {"/bin/true", NULL};
    struct fs_child c;
    int rc = 0;

    if (fs_cmd_spawn(argv, lib, NULL, FS_TRUE_TIMEOUT, &c) != 0) {
        return -1;
    }
    if (c.timed_out || c.status != 0 || c.out_len != 0 || c.err_len != 0) {
        printf("check /bin/true: FAILED (");
        if (c.timed_out) {
            printf("no exit within %d s", FS_TRUE_TIMEOUT);
        }
        else if (c.status < 0) {
            printf("killed by signal %d", c.signal);
        }
        else if (c.status != 0) {
            printf("exit status %d", c.status);
        }
        else {
            printf("it printed something");
        }
        printf(")\n");
        fs_child_print_stderr(stdout, &c, "  | ");
        rc = -1;
    }
    else {
        printf("check /bin/true: ok\n");
    }
    fs_child_free(&c);
    return rc;
}

int
fs_cmd_enable(int argc, char **argv)
{
    struct fs_opts o;
    struct fs_preload pf = {0};
    struct fs_policy *p = NULL;
    struct fs_scan sc;
    const char *shown;
    char *lib = NULL, *python = NULL, *data = NULL;
    int rc = FS_EXIT_INVALID;

    if (fs_enable_args(argc, argv, &o, &rc) != 0) {
        return rc;
    }
    rc = FS_EXIT_INVALID;
    lib = fs_enable_library("enable", false);
    if (lib == NULL || fs_preload_read("enable", o.preload_file, &pf) != 0) {
        goto done;
    }
    fs_preload_scan(&pf, lib, &sc);
    if (sc.count[FS_LINE_OURS] || sc.count[FS_LINE_MIXED]) {
        int k = sc.count[FS_LINE_OURS] ? FS_LINE_OURS : FS_LINE_MIXED;
        printf("already enabled: %s line %zu: %s\n", pf.path,
               sc.first_line[k], sc.first_text[k]);
        rc = FS_EXIT_OK;
        goto done;
    }
    if (sc.count[FS_LINE_COPY]) {
        fprintf(stderr, "flaskshield enable: %s line %zu already preloads "
                        "another copy of the library (%s); remove that line "
                        "first.  Not enabled.\n", pf.path,
                sc.first_line[FS_LINE_COPY], sc.first_text[FS_LINE_COPY]);
        goto done;
    }
    if (fs_enable_policy(&p, &shown) != 0) {
        fprintf(stderr, "flaskshield enable: the policy in force (%s) is "
                        "invalid; fix it (flaskshield check) first.  Not "
                        "enabled.\n", shown ? shown : "?");
        goto done;
    }
    printf("library: %s\npolicy: %s (%s, mode %s)\n", lib, shown,
           p->from_file ? "from file" : "not present: built-in defaults",
           fs_mode_name(p->global.mode));
    if (fs_enable_check_true(lib) != 0) {
        fprintf(stderr, "flaskshield enable: the library does not load "
                        "cleanly into /bin/true.  Not enabled.\n");
        goto done;
    }
    python = fs_cmd_find_program(o.python ? o.python : "python3");
    if (python == NULL && o.python != NULL) {
        fprintf(stderr, "flaskshield enable: %s: not an executable.  Not "
                        "enabled.\n", o.python);
        goto done;
    }
    if (python == NULL) {
        printf("check python3: skipped (no python3 on PATH)\n");
    }
    else {
        printf("check %s:\n", python);
        if (fs_doctor_probe(python, lib, "  ", false) != 0) {
            fprintf(stderr, "flaskshield enable: the library does not "
                            "attach to %s.  Not enabled.\n", python);
            goto done;
        }
    }
    {
        bool nl = pf.len > 0 && pf.data[pf.len - 1] != '\n';
        size_t n = pf.len + nl + strlen(lib) + 1;
        data = malloc(n + 1);
        if (data == NULL) {
            goto done;
        }
        snprintf(data, n + 1, "%s%s%s\n", pf.data, nl ? "\n" : "", lib);
        if (fs_preload_write("enable", &pf, data, n) != 0) {
            goto done;
        }
    }
    printf("enabled: %s now preloads %s\n", pf.path, lib);
    rc = FS_EXIT_OK;

done:
    free(data);
    free(python);
    free(lib);
    free(pf.data);
    fs_policy_free(p);
    return rc;
}

int
fs_cmd_disable(int argc, char **argv)
{
    struct fs_opts o;
    struct fs_preload pf = {0};
    struct fs_scan sc;
    char *lib = NULL, *data = NULL;
    int rc = FS_EXIT_INVALID;

    if (fs_enable_args(argc, argv, &o, &rc) != 0) {
        return rc;
    }
    rc = FS_EXIT_INVALID;
    lib = fs_enable_library("disable", true);
    if (lib == NULL || fs_preload_read("disable", o.preload_file, &pf) != 0) {
        goto done;
    }
    fs_preload_scan(&pf, lib, &sc);
    if (sc.count[FS_LINE_OURS] > 0) {
        const char *p = pf.data;
        char *w;
        bool blank = true;

        data = malloc(pf.len + 1);
        if (data == NULL) {
            goto done;
        }
        w = data;
        while (p < pf.data + pf.len) {
            size_t n = strcspn(p, "\n");
            size_t nl = p[n] == '\n';
            if (fs_line_kind(p, n, lib) != FS_LINE_OURS) {
                memcpy(w, p, n + nl);
                w += n + nl;
            }
            p += n + nl;
        }
        *w = '\0';
        for (p = data; *p; p++) {
            blank = blank && strchr(" \t\r\n", *p) != NULL;
        }
        if (blank) {
            if (unlink(pf.path) != 0) {
                fprintf(stderr, "flaskshield disable: cannot remove %s: "
                                "%s\n", pf.path, strerror(errno));
                goto done;
            }
            printf("disabled: removed %s (it listed only %s)\n", pf.path,
                   lib);
        }
        else {
            if (fs_preload_write("disable", &pf, data,
                                 (size_t)(w - data)) != 0) {
                goto done;
            }
            printf("disabled: removed %zu line%s from %s\n",
                   sc.count[FS_LINE_OURS],
                   sc.count[FS_LINE_OURS] == 1 ? "" : "s", pf.path);
        }
    }
    else {
        printf("not enabled: %s %s\n", pf.path,
               pf.exists ? "has no line for the library" : "does not exist");
    }
    if (sc.count[FS_LINE_MIXED] > 0) {
        fprintf(stderr, "flaskshield disable: %s line %zu lists %s together "
                        "with other entries; edit that line by hand\n",
                pf.path, sc.first_line[FS_LINE_MIXED], lib);
        goto done;
    }
    rc = FS_EXIT_OK;

done:
    free(data);
    free(lib);
    free(pf.data);
    return rc;
}

int
fs_cmd_status(int argc, char **argv)
{
    struct fs_opts o;
    struct fs_preload pf = {0};
    struct fs_policy *p = NULL;
    struct fs_scan sc;
    const char *shown;
    char *lib = NULL;
    bool found;
    int rc = FS_EXIT_OK, valid;

    if (fs_enable_args(argc, argv, &o, &rc) != 0) {
        return rc;
    }
    found = fs_cmd_library(NULL) != NULL;
    lib = fs_enable_library("status", true);
    if (lib == NULL) {
        return FS_EXIT_INVALID;
    }
    printf("library:      %s%s\n", lib, found ? "" : " (not found)");
    printf("preload file: %s\n", o.preload_file);
    if (fs_preload_read("status", o.preload_file, &pf) != 0) {
        printf("enabled:      unknown (cannot read the preload file)\n");
    }
    else {
        fs_preload_scan(&pf, lib, &sc);
        if (sc.count[FS_LINE_OURS] || sc.count[FS_LINE_MIXED]) {
            int k = sc.count[FS_LINE_OURS] ? FS_LINE_OURS : FS_LINE_MIXED;
            printf("enabled:      yes (line %zu: %s)\n", sc.first_line[k],
                   sc.first_text[k]);
        }
        else {
            printf("enabled:      no\n");
        }
        if (sc.count[FS_LINE_COPY]) {
            printf("other copy:   line %zu: %s\n",
                   sc.first_line[FS_LINE_COPY], sc.first_text[FS_LINE_COPY]);
        }
    }
    fflush(stdout);
    valid = fs_enable_policy(&p, &shown);
    if (p != NULL) {
        printf("policy:       %s (%s)\n", shown ? shown : "?",
               p->from_file ? "from file"
               : valid == 0 ? "not present: built-in defaults"
               : "rejected: built-in defaults");
        printf("mode:         %s\n", fs_mode_name(p->global.mode));
        printf("valid:        %s\n", valid == 0 ? "yes"
               : "no (errors on stderr; the built-in strict defaults apply)");
    }
    free(lib);
    free(pf.data);
    fs_policy_free(p);
    return rc;
}
