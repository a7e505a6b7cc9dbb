/*
 * cli_ps.c -- `flaskshield ps`: the processes on this host (or container)
 * running with the library, read from their records (cli_records.c).
 *
 * Per process: pid, Python version, mode, policy digest and path, command;
 * under it one line per app with what was refused and corrected (counts
 * since the process started; "would" counts are those of report mode).
 * --json prints the same as one JSON array, every counter included.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "cli.h"

static void
fs_ps_help(FILE *f)
{
    fprintf(f, "usage: flaskshield ps [--json] [--dir DIR]\n\n"
               "List the processes running with the library: pid, Python, "
               "mode, policy\nand its digest, command, and per Flask app "
               "what was refused and corrected\n(\"would\": report mode).  "
               "DIR: the folder of their records (default:\nruntime_dir of "
               "the policy in force).  Records of dead processes are\n"
               "removed.\n");
}

static bool
fs_ps_app_used(const struct fs_record_app *a, bool process)
{
    int c;

    for (c = 0; c < FS_CNT_COUNT; c++) {
        if (a->count[c][0] || a->count[c][1]) {
            return true;
        }
    }
    return !process;
}

/* "; refused body_too_large=3 secret_key=1": the nonzero counters of
 * one class (refusals or corrections) and one label; *first: no group
 * printed yet on the line. */
static void
fs_ps_counts(const struct fs_record_app *a, int from, int to, int enforced,
             const char *what, bool *first)
{
    bool any = false;
    int c;

    for (c = from; c < to; c++) {
        if (a->count[c][enforced] != 0) {
            if (!any) {
                printf("%s%s", *first ? " " : "; ", what);
            }
            printf(" %s=%" PRIu64, fs_counter_names[c], a->count[c][enforced]);
            any = true;
            *first = false;
        }
    }
}

static void
fs_ps_text(const struct fs_record *r, size_t n)
{
    size_t i;
    uint32_t s;

    printf("%-8s %-8s %-8s %-16s %s\n", "PID", "PYTHON", "MODE", "DIGEST",
           "POLICY / COMMAND");
    for (i = 0; i < n; i++) {
        printf("%-8" PRId64 " %-8s %-8s %-16s %s\n", r[i].pid, r[i].python,
               r[i].mode, r[i].digest,
               r[i].policy[0] ? r[i].policy : "(built-in)");
        printf("%-43s %s\n", "", r[i].command);
        for (s = 0; s < r[i].napps; s++) {
            const struct fs_record_app *a = &r[i].app[s];
            bool first = true;

            if (!fs_ps_app_used(a, s == 0)) {
                continue;
            }
            printf("    app %s (%s):", s == 0 ? "-" : a->name, a->mode);
            fs_ps_counts(a, 0, FS_CNT_FIRST_FIX, 1, "refused", &first);
            fs_ps_counts(a, 0, FS_CNT_FIRST_FIX, 0, "would refuse", &first);
            fs_ps_counts(a, FS_CNT_FIRST_FIX, FS_CNT_COUNT, 1, "corrected",
                         &first);
            fs_ps_counts(a, FS_CNT_FIRST_FIX, FS_CNT_COUNT, 0,
                         "would correct", &first);
            printf("%s\n", first ? " nothing refused or corrected" : "");
        }
    }
    if (n == 0) {
        printf("(no process)\n");
    }
}

/* {"body_too_large": {"enforced": 3, "reported": 0}, ...} */
static void
fs_ps_json_counts(const struct fs_record_app *a, int from, int to)
{
    int c;

    printf("{");
    for (c = from; c < to; c++) {
        printf("%s\"%s\": {\"enforced\": %" PRIu64 ", \"reported\": %"
               PRIu64 "}", c > from ? ", " : "", fs_counter_names[c],
               a->count[c][1], a->count[c][0]);
    }
    printf("}");
}

static void
fs_ps_json(const struct fs_record *r, size_t n)
{
    size_t i;
    uint32_t s;

    printf("[");
    for (i = 0; i < n; i++) {
        bool first = true;

        printf("%s\n  {\"pid\": %" PRId64 ", \"command\": ", i ? "," : "",
               r[i].pid);
        fs_records_quote(stdout, true, r[i].command);
        printf(", \"python\": ");
        fs_records_quote(stdout, true, r[i].python);
        printf(", \"started\": %" PRId64 ", \"policy\": ", r[i].started);
        if (r[i].policy[0]) {
            fs_records_quote(stdout, true, r[i].policy);
        }
        else {
            printf("null");
        }
        printf(", \"policy_digest\": ");
        fs_records_quote(stdout, true, r[i].digest);
        printf(", \"mode\": ");
        fs_records_quote(stdout, true, r[i].mode);
        printf(", \"apps\": [");
        for (s = 0; s < r[i].napps; s++) {
            const struct fs_record_app *a = &r[i].app[s];

            if (!fs_ps_app_used(a, s == 0)) {
                continue;
            }
            printf("%s\n    {\"app\": ", first ? "" : ",");
            first = false;
            if (s == 0) {
                printf("null");
            }
            else {
                fs_records_quote(stdout, true, a->name);
            }
            printf(", \"mode\": ");
            fs_records_quote(stdout, true, a->mode);
            printf(", \"refused\": ");
            fs_ps_json_counts(a, 0, FS_CNT_FIRST_FIX);
            printf(", \"corrections\": ");
            fs_ps_json_counts(a, FS_CNT_FIRST_FIX, FS_CNT_COUNT);
            printf("}");
        }
        printf("]}");
    }
    printf("%s]\n", n ? "\n" : "");
}

int
fs_cmd_ps(int argc, char **argv)
{
    struct fs_record *r;
    const char *dir;
    bool json = false;
    size_t n, k;
    int rc = FS_EXIT_OK;

    if (fs_records_args("ps", argc, argv, &json, &dir, fs_ps_help, &rc) != 0) {
        return rc;
    }
    if (fs_records_read("ps", dir, &r, &n) != 0) {
        return FS_EXIT_INVALID;
    }
    /* the retired counters (pid 0, sorted first) are no process */
    for (k = 0; k < n && r[k].pid == 0; k++) {
    }
    if (json) {
        fs_ps_json(r + k, n - k);
    }
    else {
        fs_ps_text(r + k, n - k);
    }
    free(r);
    return FS_EXIT_OK;
}
