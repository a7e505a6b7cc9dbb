/*
 * cli_common.c -- what the subcommands share: the usage-error line, loading
 * the policy to check or explain, and finding libflaskshield.so.
 *
 * fs_cmd_library() finds the library, in order: $FLASKSHIELD_LIBRARY; the
 * libflaskshield.so next to this executable (/proc/self/exe, so
 * build/flaskshield finds build/libflaskshield.so); FS_LIBDIR of the build
 * (fs_build.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fs_build.h"
#include "fs_file.h"
#include "fs_policy_int.h"

int
fs_cmd_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "flaskshield%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'flaskshield --help'.\n");
    return FS_EXIT_USAGE;
}

/* FILE "-": the policy text on standard input (includes relative to the
 * current directory), at most FS_FILE_MAX bytes. */
static int
fs_cmd_load_stdin(struct fs_policy **p, struct fs_policy_errors *errs)
{
    char *buf = malloc(FS_FILE_MAX + 2);
    size_t len;
    int rc;

    if (buf == NULL) {
        *p = NULL;
        return -1;
    }
    len = fread(buf, 1, FS_FILE_MAX + 1, stdin);
    if (len > FS_FILE_MAX || ferror(stdin)) {
        fprintf(stderr, "<stdin>:0: %s\n", len > FS_FILE_MAX
                ? "is larger than 1 MiB" : "cannot read");
        free(buf);
        *p = fs_policy_defaults();
        return -1;
    }
    buf[len] = '\0';
    rc = fs_policy_load_buffer("<stdin>", buf, len, NULL, p, errs);
    free(buf);
    return rc;
}

int
fs_cmd_load(const char *file, struct fs_policy **p, const char **shown)
{
    struct fs_policy_errors errs = {NULL, 0};
    size_t i;
    int rc;

    if (file != NULL && strcmp(file, "-") == 0) {
        rc = fs_cmd_load_stdin(p, &errs);
        *shown = "<stdin>";
    }
    else if (file != NULL) {
        rc = fs_policy_load_named(file, p, &errs);
        *shown = file;
    }
    else {
        rc = fs_policy_resolve(p, shown, &errs);
    }
    for (i = 0; i < errs.count; i++) {
        fprintf(stderr, "%s\n", errs.msg[i]);
    }
    fs_policy_errors_free(&errs);
    if (*p == NULL) {
        fprintf(stderr, "flaskshield: out of memory\n");
        return -1;
    }
    return rc == 0 ? 0 : -1;
}

const char *
fs_cmd_library(const char *cmd)
{
    static char path[PATH_MAX + sizeof(FS_LIBNAME) + 1];
    const char *env = getenv("FLASKSHIELD_LIBRARY");
    char exe[PATH_MAX];
    ssize_t n;

    if (env != NULL && env[0] != '\0') {
        if (access(env, R_OK) != 0) {
            if (cmd == NULL) {
                return NULL;
            }
            fprintf(stderr, "flaskshield %s: FLASKSHIELD_LIBRARY=%s: %s\n",
                    cmd, env, strerror(errno));
            return NULL;
        }
        return env;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(path, sizeof(path), "%s/%s", exe, FS_LIBNAME);
            if (access(path, R_OK) == 0) {
                return path;
            }
        }
    }
    snprintf(path, sizeof(path), "%s/%s", FS_LIBDIR, FS_LIBNAME);
    if (access(path, R_OK) == 0) {
        return path;
    }
    if (cmd != NULL) {
        fprintf(stderr, "flaskshield %s: %s not found next to this program "
                        "nor in %s; set FLASKSHIELD_LIBRARY\n", cmd,
                FS_LIBNAME, FS_LIBDIR);
    }
    return NULL;
}

bool
fs_cmd_is_library_entry(const char *entry, size_t len)
{
    size_t base = len, n = strlen(FS_LIBNAME);

    while (base > 0 && entry[base - 1] != '/') {
        base--;
    }
    return len - base == n && memcmp(entry + base, FS_LIBNAME, n) == 0;
}
