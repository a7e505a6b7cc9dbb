/*
 * cli_check.c -- `flaskshield check [FILE]`.
 *
 * Validates FILE and its drop-ins (default: the policy the process would
 * use, see fs_policy_resolve()).  A valid policy prints one summary line on stdout
 * and exits 0; an invalid one prints every problem as "FILE:LINE: message"
 * on stderr, compiler style, and exits 1.  A missing default file is valid:
 * the built-in defaults apply.  A missing FILE named here is an error.  The
 * weak list a valid policy names is loaded as the library would load it
 * (its file checks and size bounds), and its number of keys printed.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fs_weak_list.h"
#include "fs_build.h"

static void
fs_check_help(FILE *f)
{
    fprintf(f, "usage: flaskshield check [FILE]\n\n"
               "Validate a policy file and its drop-ins ('-': standard input;\n"
               "default: the one in force, from "
               "FLASKSHIELD_POLICY or %s).\n"
               "Exit 0 when valid, 1 with every error on stderr.\n",
            FS_DEFAULT_POLICY_PATH);
}

/* The weak list the policy names is read by every process at its first
 * Flask import: check it as the library will (fs_weak_list_load).  Prints
 * "LIST:0: reason (secret_key.weak_list of POLICY)" and returns -1 when it
 * would be refused. */
static int
fs_check_weak_list(const struct fs_policy *p, const char *shown)
{
    const char *path = p->sk_weak_list;
    struct fs_weak_list *wl;
    char why[200];

    if (path == NULL || path[0] == '\0') {
        return 0;
    }
    wl = fs_weak_list_load(path, why, sizeof(why));
    if (wl == NULL) {
        fprintf(stderr, "%s:0: %s (secret_key.weak_list of %s)\n", path, why,
                shown);
        return -1;
    }
    printf("%s: %zu weak keys\n", path, fs_weak_list_size(wl));
    fs_weak_list_free(wl);
    return 0;
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
    if (rc == 0 && p != NULL && fs_check_weak_list(p, shown) != 0) {
        rc = 1;
    }
    if (rc == 0 && p != NULL) {
        size_t pins = p->global.npins;
        if (p->from_file) {
            printf("%s: ok", shown);
        }
        else {
            printf("%s: not present, built-in defaults", shown);
        }
        printf(" (mode %s, %zu app%s, %zu pinned key%s",
               fs_mode_name(p->global.mode), p->napps,
               p->napps == 1 ? "" : "s", pins, pins == 1 ? "" : "s");
        if (p->from_file && strcmp(shown, "<stdin>") != 0) {
            printf(", %zu drop-in%s", p->ndropins,
                   p->ndropins == 1 ? "" : "s");
        }
        printf(", digest %s)\n", p->digest);
    }
    fs_policy_free(p);
    return rc == 0 ? FS_EXIT_OK : FS_EXIT_INVALID;
}
