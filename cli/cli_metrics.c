/*
 * cli_metrics.c -- `flaskshield metrics`: the counters of every process
 * with the library (cli_records.c), in the Prometheus text exposition
 * format, for node_exporter's textfile collector or a sidecar.
 *
 *   flaskshield_requests_refused_total{app,reason,enforced}
 *   flaskshield_corrections_total{app,kind,enforced}
 *   flaskshield_process_info{pid,python,policy_digest,mode} 1
 *
 * The counters of the processes that serve the same app (the workers of a
 * server) are summed, as a metrics system wants one series per app; every
 * reason and kind of an app is written, zeros included, so its series
 * exist from the start.  The counters of processes that are gone stay in
 * the sum (their users' retired counters, fs_record_retire), so that a
 * counter never goes down when a worker is replaced.  The process's own
 * counters (findings
 * about a WSGI callable that is no Flask app) have app="".
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
fs_metrics_help(FILE *f)
{
    fprintf(f, "usage: flaskshield metrics [--dir DIR]\n\n"
               "Print the counters of the processes running with the "
               "library in the\nPrometheus text format (summed per app).  "
               "DIR: the folder of their\nrecords (default: runtime_dir of "
               "the policy in force).\n");
}

/* One app's sums: name and counters over every process. */
struct fs_metrics_app {
    const char *name;
    uint64_t count[FS_CNT_COUNT][2];
};

static void
fs_metrics_family(const struct fs_metrics_app *apps, size_t napps,
                  const char *name, const char *help, const char *label,
                  int from, int to)
{
    size_t i;
    int c, e;

    printf("# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (i = 0; i < napps; i++) {
        for (c = from; c < to; c++) {
            for (e = 1; e >= 0; e--) {
                printf("%s{app=", name);
                fs_records_quote(stdout, false, apps[i].name);
                printf(",%s=\"%s\",enforced=\"%s\"} %" PRIu64 "\n", label,
                       fs_counter_names[c], e ? "true" : "false",
                       apps[i].count[c][e]);
            }
        }
    }
}

/* Sum the apps of every record by name (slot 0 only when it counted). */
static size_t
fs_metrics_sum(const struct fs_record *r, size_t n,
               struct fs_metrics_app *apps)
{
    size_t napps = 0, i, k;
    uint32_t s;
    int c;

    for (i = 0; i < n; i++) {
        for (s = 0; s < r[i].napps; s++) {
            const struct fs_record_app *a = &r[i].app[s];
            uint64_t any = 0;

            for (c = 0; c < FS_CNT_COUNT; c++) {
                any |= a->count[c][0] | a->count[c][1];
            }
            if (s == 0 && any == 0) {
                continue;
            }
            for (k = 0; k < napps && strcmp(apps[k].name, a->name) != 0; k++) {
            }
            if (k == napps) {
                memset(&apps[k], 0, sizeof(apps[k]));
                apps[k].name = a->name;
                napps++;
            }
            for (c = 0; c < FS_CNT_COUNT; c++) {
                fs_record_add(&apps[k].count[c][0], a->count[c][0]);
                fs_record_add(&apps[k].count[c][1], a->count[c][1]);
            }
        }
    }
    return napps;
}

int
fs_cmd_metrics(int argc, char **argv)
{
    struct fs_metrics_app *apps;
    struct fs_record *r;
    const char *dir;
    size_t n, napps, i;
    int rc = FS_EXIT_OK;

    if (fs_records_args("metrics", argc, argv, NULL, &dir, fs_metrics_help,
                        &rc) != 0) {
        return rc;
    }
    if (fs_records_read("metrics", dir, &r, &n) != 0) {
        return FS_EXIT_INVALID;
    }
    apps = calloc(n * FS_RECORD_APPS + 1, sizeof(*apps));
    if (apps == NULL) {
        free(r);
        fprintf(stderr, "flaskshield metrics: out of memory\n");
        return FS_EXIT_INVALID;
    }
    napps = fs_metrics_sum(r, n, apps);
    fs_metrics_family(apps, napps, "flaskshield_requests_refused_total",
                      "Requests the library refused (enforced=\"false\": "
                      "would have, in report mode).", "reason", 0,
                      FS_CNT_FIRST_FIX);
    fs_metrics_family(apps, napps, "flaskshield_corrections_total",
                      "Settings and behaviours of apps the library "
                      "corrected (enforced=\"false\": would have).", "kind",
                      FS_CNT_FIRST_FIX, FS_CNT_COUNT);
    printf("# HELP flaskshield_process_info A process running with the "
           "library.\n# TYPE flaskshield_process_info gauge\n");
    for (i = 0; i < n; i++) {
        if (r[i].pid == 0) {
            continue;           /* the retired counters: no process */
        }
        printf("flaskshield_process_info{pid=\"%" PRId64 "\",python=", r[i].pid);
        fs_records_quote(stdout, false, r[i].python);
        printf(",policy_digest=");
        fs_records_quote(stdout, false, r[i].digest);
        printf(",mode=");
        fs_records_quote(stdout, false, r[i].mode);
        printf("} 1\n");
    }
    free(apps);
    free(r);
    return FS_EXIT_OK;
}
