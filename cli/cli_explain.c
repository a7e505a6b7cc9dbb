/*
 * cli_explain.c -- `flaskshield explain [FILE] [--app NAME] [--doc]
 * [--origin] [--builtin]`.
 *
 * Prints the effective policy in libconfig syntax (fs_policy_write()):
 * every setting after defaults and the drop-ins, and with --app the
 * settings that the Flask app with that import_name gets (its first
 * matching apps entry merged over the global settings).  The output is
 * itself a valid policy, and explaining it again prints the same bytes.
 * --doc adds the documentation of every setting; --origin ends each
 * setting line with a comment naming the file and line that set it, or
 * "built-in default"; --builtin ignores every file, so
 * `flaskshield explain --builtin --doc` writes etc/policy.conf.
 * An invalid FILE prints its errors on stderr, the built-in defaults on
 * stdout (what would apply) and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fs_policy_int.h"

static void
fs_explain_help(FILE *f)
{
    fprintf(f, "usage: flaskshield explain [FILE] [--app NAME] [--doc] "
               "[--origin]\n"
               "                           [--builtin]\n\n"
               "Print the effective policy (default: the one in force; a\n"
               "FILE with its drop-ins) in libconfig syntax; with --app, the\n"
               "settings of the Flask app whose import_name is NAME.  --doc\n"
               "documents every setting; --origin names the file and line\n"
               "that set each one; --builtin uses the built-in defaults.\n");
}

int
fs_cmd_explain(int argc, char **argv)
{
    const char *file = NULL, *app = NULL, *shown = NULL;
    struct fs_policy *p = NULL;
    bool opts = true, builtin = false;
    unsigned flags = 0;
    int i, rc = 0;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fs_explain_help(stdout);
            return FS_EXIT_OK;
        }
        if (opts && strcmp(a, "--") == 0) {
            opts = false;
        }
        else if (opts && strcmp(a, "--app") == 0) {
            if (i + 1 >= argc) {
                return fs_cmd_usage_error("explain", "--app needs a NAME");
            }
            app = argv[++i];
        }
        else if (opts && strncmp(a, "--app=", 6) == 0) {
            app = a + 6;
        }
        else if (opts && strcmp(a, "--doc") == 0) {
            flags |= FS_WRITE_DOC;
        }
        else if (opts && strcmp(a, "--origin") == 0) {
            flags |= FS_WRITE_ORIGIN;
        }
        else if (opts && strcmp(a, "--builtin") == 0) {
            builtin = true;
        }
        else if (opts && a[0] == '-' && a[1] != '\0') {
            return fs_cmd_usage_error("explain", "unknown option '%s'", a);
        }
        else if (file == NULL) {
            file = a;
        }
        else {
            return fs_cmd_usage_error("explain", "more than one FILE");
        }
    }
    if (builtin && file != NULL) {
        return fs_cmd_usage_error("explain", "--builtin takes no FILE");
    }
    if (builtin) {
        p = fs_policy_defaults();
        if (p == NULL) {
            fprintf(stderr, "flaskshield: out of memory\n");
            return FS_EXIT_INVALID;
        }
    }
    else {
        rc = fs_cmd_load(file, &p, &shown);
        if (p == NULL) {
            return FS_EXIT_INVALID;
        }
    }
    if (fs_policy_write_ex(stdout, p, app, flags) != 0) {
        fprintf(stderr, "flaskshield explain: write error\n");
        rc = -1;
    }
    fs_policy_free(p);
    return rc == 0 ? FS_EXIT_OK : FS_EXIT_INVALID;
}
