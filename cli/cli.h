/*
 * cli.h -- what the files of the `flaskshield` command share.
 *
 * The command is a table of subcommands (cli_main.c); each subcommand lives
 * in its own cmd_NAME.c and has the signature below: argv[0] is the
 * subcommand's name, and the return value is the process exit status.
 */
#ifndef FS_CLI_H
#define FS_CLI_H

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
int fs_cmd_enable(int argc, char **argv);
int fs_cmd_disable(int argc, char **argv);
int fs_cmd_status(int argc, char **argv);
int fs_cmd_doctor(int argc, char **argv);

/* "flaskshield NAME: " + message to stderr, then the exit status. */
int fs_cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Load FILE ("-": standard input), or the policy the process would
 * resolve when file is NULL;
 * *shown is the name to print.  Errors are printed to stderr, one a line.
 * Returns 0 (valid, or no file at all) or -1. */
int fs_cmd_load(const char *file, struct fs_policy **p, const char **shown);

/* ---- cli_library.c: the library, and programs run under it ---------- */

#define FS_LIBNAME "libflaskshield.so"

/* The library to preload: $FLASKSHIELD_LIBRARY, else libflaskshield.so
 * next to this executable, else FS_LIBDIR/libflaskshield.so.  A static
 * buffer (or the environment); NULL when none is readable, after a
 * message on stderr naming "flaskshield CMD" unless cmd is NULL. */
const char *fs_cmd_library(const char *cmd);

/* Is entry[0..len) a path whose last component is libflaskshield.so? */
bool fs_cmd_is_library_entry(const char *entry, size_t len);

/* The outcome of fs_cmd_spawn(). */
struct fs_child {
    int status;                 /* exit status, or -1 if killed */
    int signal;                 /* the signal that killed it, or 0 */
    bool timed_out;             /* killed after the time limit */
    char *out, *err;            /* NUL-terminated output (first MiB) */
    size_t out_len, err_len;
};

/* Run argv (PATH searched) with lib appended to LD_PRELOAD (any other
 * libflaskshield.so entry dropped; lib NULL: LD_PRELOAD untouched), stdin
 * /dev/null, in cwd (NULL: here), killed after timeout seconds.  Returns 0
 * with *res filled (fs_child_free() it), or -1 if it could not be started
 * (message printed). */
int fs_cmd_spawn(char *const argv[], const char *lib, const char *cwd,
                 int timeout, struct fs_child *res);
void fs_child_free(struct fs_child *res);

/* The child's stderr, each line prefixed with indent. */
void fs_child_print_stderr(FILE *f, const struct fs_child *res,
                           const char *indent);

/* name itself if it has a '/' and is executable, else the first
 * executable name in $PATH; heap string, or NULL. */
char *fs_cmd_find_program(const char *name);

/* ---- cli_doctor.c: the interpreter check enable shares -------------- */

/* Run python with lib preloaded, import flaskshield and the self-test
 * module _flaskshield_probe; print what was found, each line prefixed with
 * indent, on stdout (the status() JSON too when show_status).  0 when the
 * library attached and the probe's callback ran once, else -1. */
int fs_doctor_probe(const char *python, const char *lib, const char *indent,
                    bool show_status);

#endif /* FS_CLI_H */
