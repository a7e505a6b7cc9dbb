/*
 * cli_status.c -- `flaskshield status`: is the library preloaded, and
 * which policy is in force.
 *
 * Prints the library, the preload file and our line in it, the policy in
 * force (path, from file or built-in, mode) and whether it is valid;
 * exit 0.
 */
#include <stdlib.h>

#include "cli.h"

static void
fs_status_help(FILE *f)
{
    fprintf(f, "usage: flaskshield status [--preload-file FILE]\n\n"
               "Say whether the library is in the preload file and "
               "which policy is in force.\n");
    fs_preload_help(f);
}

int
fs_cmd_status(int argc, char **argv)
{
    struct fs_preload_opts o;
    struct fs_preload pf = {0};
    struct fs_policy *p = NULL;
    struct fs_scan sc;
    const char *shown;
    char *lib = NULL;
    bool found;
    int rc = FS_EXIT_OK, valid;

    if (fs_preload_args(argc, argv, &o, fs_status_help, &rc) != 0) {
        return rc;
    }
    found = fs_cmd_library(NULL) != NULL;
    lib = fs_preload_library("status", true);
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
    valid = fs_cmd_load(NULL, &p, &shown);
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
