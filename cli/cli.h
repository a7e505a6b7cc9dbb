/*
 * cli.h -- what the files of the `flaskshield` command share.
 *
 * The command is a table of subcommands (cli_main.c); each subcommand lives
 * in its own cli_NAME.c and has the signature below: argv[0] is the
 * subcommand's name, and the return value is the process exit status.
 * What several subcommands share: cli_common.c (usage errors, loading a
 * policy, finding the library), cli_spawn.c (running a program under the
 * library), cli_preload.c (the preload file), cli_probe.c (the self-test
 * of an interpreter).
 */
#ifndef FS_CLI_H
#define FS_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs_policy.h"
#include "fs_record.h"

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
int fs_cmd_ps(int argc, char **argv);
int fs_cmd_metrics(int argc, char **argv);

/* ---- cli_common.c -------------------------------------------------- */

/* "flaskshield NAME: " + message to stderr, then the exit status. */
int fs_cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Load FILE ("-": standard input), or the policy the process would
 * resolve when file is NULL;
 * *shown is the name to print.  Errors are printed to stderr, one a line.
 * Returns 0 (valid, or no file at all) or -1. */
int fs_cmd_load(const char *file, struct fs_policy **p, const char **shown);

/* ---- cli_common.c: the library; cli_spawn.c: programs run under it ---- */

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

/* ---- cli_preload.c: the preload file of enable, disable, status ------- */

#define FS_PRELOAD_DEFAULT "/etc/ld.so.preload"

/* What one line of the preload file is to us. */
enum fs_line_kind {
    FS_LINE_OTHER,      /* not ours (including comments and blank lines) */
    FS_LINE_OURS,       /* trimmed, exactly our library */
    FS_LINE_MIXED,      /* lists our library among other entries */
    FS_LINE_COPY,       /* lists another libflaskshield.so */
};

struct fs_preload {
    char path[PATH_MAX];        /* the file to read and replace */
    bool exists;
    struct stat st;
    char *data;                 /* whole file, NUL-terminated */
    size_t len;
};

struct fs_preload_opts {
    const char *preload_file;
    const char *python;         /* enable's --python */
};

/* The lines of each kind: how many, and the first one. */
struct fs_scan {
    size_t count[4];
    size_t first_line[4];       /* 1-based */
    char first_text[4][PATH_MAX];
};

/* The "FILE: ..." line of the three commands' --help. */
void fs_preload_help(FILE *f);

/* The options of enable, disable and status (--python for enable only);
 * help prints the command's --help.  Returns 0, or -1 when done (*rc set:
 * --help shown, or a usage error printed). */
int fs_preload_args(int argc, char **argv, struct fs_preload_opts *o,
                    void (*help)(FILE *f), int *rc);

/* The library's absolute path (heap), or NULL after a message; with
 * quiet, the installed path when no library is found. */
char *fs_preload_library(const char *cmd, bool quiet);

/* Read the preload file (a missing one is empty).  0 or -1 (printed). */
int fs_preload_read(const char *cmd, const char *file, struct fs_preload *pf);

/* Classify line[0..n) against our library. */
enum fs_line_kind fs_preload_line_kind(const char *line, size_t n,
                                       const char *lib);

/* Count the lines of each kind, remember the first of each. */
void fs_preload_scan(const struct fs_preload *pf, const char *lib,
                     struct fs_scan *sc);

/* Replace pf->path with data[0..len) atomically.  0 or -1 (printed). */
int fs_preload_write(const char *cmd, const struct fs_preload *pf,
                     const char *data, size_t len);

/* ---- cli_probe.c: the self-test doctor and enable share -------------- */

/* Seconds an interpreter run of doctor or enable may take. */
#define FS_DOCTOR_TIMEOUT 60

/* The value of "key=..." among the lines of out, or NULL (heap). */
char *fs_cmd_field(const char *out, const char *key);


/* Run python with lib preloaded, import flaskshield and the self-test
 * module _flaskshield_probe; print what was found, each line prefixed with
 * indent, on stdout (the status() JSON too when show_status).  0 when the
 * library attached and the probe's callback ran once, else -1. */
int fs_doctor_probe(const char *python, const char *lib, const char *indent,
                    bool show_status);

/* ---- cli_records.c: the records ps and metrics read ----------------- */

/* The options of ps (json non-NULL: --json allowed) and metrics: --dir
 * DIR, else the runtime_dir of the policy in force.  Returns 0, or -1
 * when done (*rc set: --help shown, a usage error printed). */
int fs_records_args(const char *cmd, int argc, char **argv, bool *json,
                    const char **dir, void (*help)(FILE *f), int *rc);

/* The records of the live processes in dir, by pid (heap array, *n of
 * them; a missing folder has none); records of dead processes are
 * removed.  0, or -1 after a message. */
int fs_records_read(const char *cmd, const char *dir, struct fs_record **out,
                    size_t *n);

/* s quoted as a JSON string (json) or a Prometheus label value: escaped
 * as each says, and bytes that are not UTF-8 (a name the record cut in
 * the middle of a character) become U+FFFD. */
void fs_records_quote(FILE *f, bool json, const char *s);

#endif /* FS_CLI_H */
