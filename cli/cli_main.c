/*
 * cli_main.c -- `flaskshield`: the table of subcommands and the dispatch.
 *
 * Each subcommand is one row of fs_cmds[] and one cli_NAME.c file; adding
 * one (enable, disable, status, doctor, ...) is a row and a file.  Exit
 * statuses: 0 ok, 1 invalid policy, 2 usage error, 127 exec failure; the
 * helpers the subcommands share are in cli_common.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fs_build.h"

static const struct fs_cmd fs_cmds[] = {
    {"check", fs_cmd_check, "[FILE]",
     "validate a policy file (default: the one in force)"},
    {"explain", fs_cmd_explain,
     "[FILE] [--app NAME] [--doc] [--origin] [--builtin]",
     "print the effective policy in libconfig syntax"},
    {"run", fs_cmd_run, "[--policy FILE] -- COMMAND [ARG...]",
     "run COMMAND with libflaskshield.so preloaded"},
    {"enable", fs_cmd_enable, "[--preload-file FILE] [--python PYTHON]",
     "check the library, then add it to /etc/ld.so.preload"},
    {"disable", fs_cmd_disable, "[--preload-file FILE]",
     "remove the library from /etc/ld.so.preload"},
    {"status", fs_cmd_status, "[--preload-file FILE]",
     "is the library preloaded, and which policy is in force"},
    {"doctor", fs_cmd_doctor, "[PYTHON]",
     "can the library attach to PYTHON (default: python3 on PATH)"},
    {"ps", fs_cmd_ps, "[--json] [--dir DIR]",
     "the processes running with the library: apps, policy, counters"},
    {"metrics", fs_cmd_metrics, "[--dir DIR]",
     "the same counters in the Prometheus text format"},
};

static void
fs_usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: flaskshield COMMAND [ARGS]\n"
               "       flaskshield --help | --version\n\ncommands:\n");
    for (i = 0; i < sizeof(fs_cmds) / sizeof(fs_cmds[0]); i++) {
        fprintf(f, "  %s %s\n      %s\n", fs_cmds[i].name, fs_cmds[i].args,
                fs_cmds[i].summary);
    }
    fprintf(f, "\nexit status: 0 ok, 1 invalid policy or failed check, "
               "2 usage error,\n127 command not started.\n");
}

int
main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        fs_usage(stderr);
        return FS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0) {
        fs_usage(stdout);
        return FS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("flaskshield %s\n", FS_VERSION);
        return FS_EXIT_OK;
    }
    for (i = 0; i < sizeof(fs_cmds) / sizeof(fs_cmds[0]); i++) {
        if (strcmp(argv[1], fs_cmds[i].name) == 0) {
            return fs_cmds[i].main(argc - 1, argv + 1);
        }
    }
    return fs_cmd_usage_error(NULL, "unknown command '%s'", argv[1]);
}
