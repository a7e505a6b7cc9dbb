/*
 * cli_enable.c -- `flaskshield enable`: add the library to the preload
 * file.
 *
 * Nothing to do when our line is there (idempotent, exit 0).
 * Refuses (exit 1, one line) a library that anyone but root could replace,
 * as sshd's StrictModes does for its files: the library and every folder
 * on its path must be owned by root and not writable by group or others
 * (fs_enable_check_owner()); a preload entry runs in every process of the
 * machine, root's included.  Warns (and goes on) when the library is not
 * the installed one, FS_LIBDIR/libflaskshield.so.  Refuses
 * (exit 1) when the policy in force is invalid, when the file lists
 * another libflaskshield.so, or when the sanity check fails: /bin/true run
 * with the library preloaded must exit 0 and print nothing, and the python3
 * on PATH (or --python) must load it and run the self-test import
 * (fs_doctor_probe()); no python3 at all skips that half, with a note.
 * Then our line is appended (cli_preload.c replaces the file).
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fs_build.h"

#define FS_TRUE_TIMEOUT 30

static void
fs_enable_help(FILE *f)
{
    fprintf(f, "usage: flaskshield enable [--preload-file FILE] "
               "[--python PYTHON]\n\n"
               "Check that the library loads into /bin/true and into "
               "python3 with the policy\nin force, then add it to the "
               "preload file (other entries kept; idempotent).\n");
    fs_preload_help(f);
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

/* StrictModes for lib (absolute, symbolic links resolved): the file and
 * each folder above it, up to /, owned by root and not writable by group
 * or others.  0, or -1 after one line on stderr. */
static int
fs_enable_check_owner(const char *lib)
{
    static const char rule[] = "the library and every folder above it must "
                               "be owned by root and writable by root only";
    char path[PATH_MAX];
    size_t n = strlen(lib);

    if (lib[0] != '/' || n >= sizeof(path)) {
        fprintf(stderr, "flaskshield enable: %s: not an absolute path.  Not "
                        "enabled.\n", lib);
        return -1;
    }
    memcpy(path, lib, n + 1);
    for (;;) {
        const char *shown = path[0] != '\0' ? path : "/";
        const char *what = strcmp(shown, lib) == 0 ? "the library"
                                                   : "its folder";
        struct stat st;
        char *slash;

        if (stat(shown, &st) != 0) {
            fprintf(stderr, "flaskshield enable: %s: %s.  Not enabled.\n",
                    shown, strerror(errno));
            return -1;
        }
        if (st.st_uid != 0) {
            struct passwd *pw = getpwuid(st.st_uid);
            fprintf(stderr, "flaskshield enable: %s %s is owned by %s (uid "
                            "%lu), not root; %s.  Not enabled.\n", what,
                    shown, pw != NULL ? pw->pw_name : "?",
                    (unsigned long)st.st_uid, rule);
            return -1;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
            fprintf(stderr, "flaskshield enable: %s %s is writable by %s "
                            "(mode %04o); %s.  Not enabled.\n", what, shown,
                    (st.st_mode & S_IWOTH) ? "others" : "its group",
                    (unsigned)(st.st_mode & 07777), rule);
            return -1;
        }
        if (path[0] == '\0') {
            return 0;
        }
        slash = strrchr(path, '/');
        *slash = '\0';
    }
}

/* A warning on stderr when lib is not FS_LIBDIR/libflaskshield.so. */
static void
fs_enable_warn_not_installed(const char *lib)
{
    const char *installed = FS_LIBDIR "/" FS_LIBNAME;
    char *real = realpath(installed, NULL);
    bool same = strcmp(lib, real != NULL ? real : installed) == 0;

    free(real);
    if (!same) {
        fprintf(stderr, "flaskshield enable: warning: %s is not the "
                        "installed library (%s)\n", lib, installed);
    }
}

int
fs_cmd_enable(int argc, char **argv)
{
    struct fs_preload_opts o;
    struct fs_preload pf = {0};
    struct fs_policy *p = NULL;
    struct fs_scan sc;
    const char *shown;
    char *lib = NULL, *python = NULL, *data = NULL;
    int rc = FS_EXIT_INVALID;

    if (fs_preload_args(argc, argv, &o, fs_enable_help, &rc) != 0) {
        return rc;
    }
    rc = FS_EXIT_INVALID;
    lib = fs_preload_library("enable", false);
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
    if (fs_enable_check_owner(lib) != 0) {
        goto done;
    }
    fs_enable_warn_not_installed(lib);
    if (fs_cmd_load(NULL, &p, &shown) != 0) {
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
