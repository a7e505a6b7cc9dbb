/*
 * cmd.h -- what the files of the `flaskshield` command share.
 *
 * The command is a table of subcommands (cmd_main.c); each subcommand lives
 * in its own cmd_NAME.c and has the signature below: argv[0] is the
 * subcommand's name, and the return value is the process exit status.
 */
#ifndef FS_CMD_H
#define FS_CMD_H

#include "fs_policy.h"

#define FS_EXIT_OK 0            /* success, a valid policy */
#define FS_EXIT_INVALID 1       /* the policy is invalid */
#define FS_EXIT_USAGE 2         /* bad command line */
#define FS_EXIT_EXEC 127        /* `run` could not start the command */

struct fs_cmd {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *args;           /* synopsis after the name */
    const char *summary;        /* one line for --help */
};

int fs_cmd_check(int argc, char **argv);
int fs_cmd_explain(int argc, char **argv);
int fs_cmd_run(int argc, char **argv);

/* "flaskshield NAME: " + message to stderr, then the exit status. */
int fs_cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Load FILE ("-": standard input), or the policy the process would
 * resolve when file is NULL;
 * *shown is the name to print.  Errors are printed to stderr, one a line.
 * Returns 0 (valid, or no file at all) or -1. */
int fs_cmd_load(const char *file, struct fs_policy **p, const char **shown);

#endif /* FS_CMD_H */
