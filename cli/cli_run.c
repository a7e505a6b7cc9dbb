/*
 * cli_run.c -- `flaskshield run [--policy FILE] -- COMMAND [ARG...]`.
 *
 * Executes COMMAND with libflaskshield.so appended to LD_PRELOAD (what is
 * there already is kept and comes first; a libflaskshield.so already listed
 * is not added again) and, with --policy, FLASKSHIELD_POLICY set to FILE
 * made absolute, after checking that FILE is valid (exit 1 if not).  The
 * library is, in order: $FLASKSHIELD_LIBRARY; libflaskshield.so next to
 * this executable (/proc/self/exe, so build/flaskshield finds
 * build/libflaskshield.so); FS_LIBDIR/libflaskshield.so.  Exit 127 when the
 * library is not found or COMMAND cannot be executed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fs_build.h"


static void
fs_run_help(FILE *f)
{
    fprintf(f, "usage: flaskshield run [--policy FILE] -- COMMAND [ARG...]\n"
               "\n"
               "Run COMMAND with %s appended to LD_PRELOAD and, with\n"
               "--policy, FLASKSHIELD_POLICY=FILE (checked first).  The\n"
               "library: $FLASKSHIELD_LIBRARY, else the one next to this\n"
               "program, else %s/%s.\n", FS_LIBNAME, FS_LIBDIR, FS_LIBNAME);
}

/* Is a libflaskshield.so already in the LD_PRELOAD list (':' or ' ')? */
static bool
fs_run_preloaded(const char *list)
{
    const char *p = list;

    while (p != NULL && *p) {
        size_t n = strcspn(p, ": \t");

        if (n > 0 && fs_cmd_is_library_entry(p, n)) {
            return true;
        }
        p += n;
        p += strspn(p, ": \t");
    }
    return false;
}

static int
fs_run_set_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    char *val;
    int rc;

    if (old != NULL && old[strspn(old, ": \t")] != '\0') {
        if (fs_run_preloaded(old)) {
            return 0;
        }
        if (asprintf(&val, "%s:%s", old, lib) < 0) {
            return -1;
        }
        rc = setenv("LD_PRELOAD", val, 1);
        free(val);
        return rc;
    }
    return setenv("LD_PRELOAD", lib, 1);
}

/* FILE made absolute against the current directory. */
static char *
fs_run_abspath(const char *file)
{
    char cwd[PATH_MAX];
    char *out;

    if (file[0] == '/') {
        return strdup(file);
    }
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
        return NULL;
    }
    if (asprintf(&out, "%s/%s", cwd, file) < 0) {
        return NULL;
    }
    return out;
}

int
fs_cmd_run(int argc, char **argv)
{
    const char *policy = NULL, *lib, *shown;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fs_run_help(stdout);
            return FS_EXIT_OK;
        }
        if (strcmp(a, "--policy") == 0) {
            if (i + 1 >= argc) {
                return fs_cmd_usage_error("run", "--policy needs a FILE");
            }
            policy = argv[++i];
        }
        else if (strncmp(a, "--policy=", 9) == 0) {
            policy = a + 9;
        }
        else if (a[0] == '-') {
            return fs_cmd_usage_error("run", "unknown option '%s'", a);
        }
        else {
            break;
        }
    }
    if (i >= argc) {
        return fs_cmd_usage_error("run", "no COMMAND given");
    }
    if (policy != NULL) {
        struct fs_policy *p = NULL;
        char *abs;
        int rc = fs_cmd_load(policy, &p, &shown);
        fs_policy_free(p);
        if (rc != 0) {
            fprintf(stderr, "flaskshield run: %s is not a valid policy; "
                            "not running %s\n", policy, argv[i]);
            return FS_EXIT_INVALID;
        }
        abs = fs_run_abspath(policy);
        if (abs == NULL || setenv("FLASKSHIELD_POLICY", abs, 1) != 0) {
            free(abs);
            fprintf(stderr, "flaskshield run: cannot set FLASKSHIELD_POLICY"
                            "\n");
            return FS_EXIT_EXEC;
        }
        free(abs);
    }
    lib = fs_cmd_library("run");
    if (lib == NULL) {
        return FS_EXIT_EXEC;
    }
    if (fs_run_set_preload(lib) != 0) {
        fprintf(stderr, "flaskshield run: cannot set LD_PRELOAD\n");
        return FS_EXIT_EXEC;
    }
    execvp(argv[i], argv + i);
    fprintf(stderr, "flaskshield run: %s: %s\n", argv[i], strerror(errno));
    return FS_EXIT_EXEC;
}
