/*
 * cmd_check.c -- `flaskshield check [FILE]`.
 *
 * Validates FILE (default: the policy the process would use, see
 * fs_policy_resolve()).  A valid policy prints one summary line on stdout
 * and exits 0; an invalid one prints every problem as "FILE:LINE: message"
 * on stderr, compiler style, and exits 1.  A missing default file is valid:
 * the built-in defaults apply.  A missing FILE named here is an error.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static void
fs_check_help(FILE *f)
{
    fprintf(f, "usage: flaskshield check [FILE]\n\n"
               "Validate a policy file ('-': standard input; default: the one\n"
               "in force, from "
               "FLASKSHIELD_POLICY or %s).\n"
               "Exit 0 when valid, 1 with every error on stderr.\n",
            FS_DEFAULT_POLICY_PATH);
}

int
fs_cmd_check(int argc, char **argv)
{
    const char *file = NULL, *shown = NULL;
    struct fs_policy *p = NULL;
    bool opts = true;
    int i, rc;

    for (i = 1; i < argc; i++) {
        if (opts && (strcmp(argv[i], "--help") == 0
                     || strcmp(argv[i], "-h") == 0)) {
            fs_check_help(stdout);
            return FS_EXIT_OK;
        }
        if (opts && strcmp(argv[i], "--") == 0) {
            opts = false;
        }
        else if (opts && argv[i][0] == '-' && argv[i][1] != '\0') {
            return fs_cmd_usage_error("check", "unknown option '%s'",
                                      argv[i]);
        }
        else if (file == NULL) {
            file = argv[i];
        }
        else {
            return fs_cmd_usage_error("check", "more than one FILE");
        }
    }
    rc = fs_cmd_load(file, &p, &shown);
    if (rc == 0 && p != NULL) {
        size_t pins = p->global.npins;
        if (p->from_file) {
            printf("%s: ok", shown);
        }
        else {
            printf("%s: not present, built-in defaults", shown);
        }
        printf(" (mode %s, %zu app%s, %zu pinned key%s)\n",
               fs_mode_name(p->global.mode), p->napps,
               p->napps == 1 ? "" : "s", pins, pins == 1 ? "" : "s");
    }
    fs_policy_free(p);
    return rc == 0 ? FS_EXIT_OK : FS_EXIT_INVALID;
}
