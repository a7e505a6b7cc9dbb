/*
 * cli_probe.c -- the self-test run that doctor and enable share: PYTHON
 * with the library preloaded imports flaskshield, then the module
 * _flaskshield_probe (an empty package made in a temporary folder), whose
 * import callback in the library's registry must run exactly once; the
 * flaskshield.status() it reports can be printed as JSON.  The Python code
 * given to -c only prints facts as "key=value" lines; the verdict is made
 * here.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"


static const char fs_probe_code[] =
    "import sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "import json\n"
    "try:\n"
    "    import flaskshield\n"
    "except ImportError as e:\n"
    "    print('error=import flaskshield: %s' % e)\n"
    "    sys.exit(3)\n"
    "import _flaskshield_probe\n"
    "s = flaskshield.status()\n"
    "print('attach=%s' % s.get('attach'))\n"
    "print('probe=%d' % getattr(_flaskshield_probe, 'flaskshield_runs', 0))\n"
    "print('status=' + json.dumps(s, sort_keys=True))\n";

char *
fs_cmd_field(const char *out, const char *key)
{
    size_t klen = strlen(key);
    const char *p = out;

    while (p != NULL && *p) {
        size_t n = strcspn(p, "\n");
        if (n > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
            return strndup(p + klen + 1, n - klen - 1);
        }
        p += n;
        p += *p == '\n';
    }
    return NULL;
}

static int
fs_rm_entry(const char *path, const struct stat *st, int flag,
            struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP) {
        rmdir(path);
    }
    else {
        unlink(path);
    }
    return 0;
}

/* A temporary folder holding the package _flaskshield_probe; heap path. */
static char *
fs_probe_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir, *file;
    FILE *f;

    if (tmp == NULL || tmp[0] != '/') {
        tmp = "/tmp";
    }
    if (asprintf(&dir, "%s/flaskshield-doctor-XXXXXX", tmp) < 0) {
        return NULL;
    }
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "flaskshield: cannot create a folder in %s: %s\n",
                tmp, strerror(errno));
        free(dir);
        return NULL;
    }
    if (asprintf(&file, "%s/_flaskshield_probe", dir) < 0) {
        goto error;
    }
    if (mkdir(file, 0755) != 0) {
        free(file);
        goto error;
    }
    free(file);
    if (asprintf(&file, "%s/_flaskshield_probe/__init__.py", dir) < 0) {
        goto error;
    }
    f = fopen(file, "we");
    free(file);
    if (f == NULL) {
        goto error;
    }
    fputs("# flaskshield self-test: the library's import callback sets "
          "flaskshield_runs\n", f);
    if (fclose(f) != 0) {
        goto error;
    }
    return dir;

error:
    fprintf(stderr, "flaskshield: cannot write the probe in %s: %s\n", dir,
            strerror(errno));
    nftw(dir, fs_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(dir);
    return NULL;
}

int
fs_doctor_probe(const char *python, const char *lib, const char *indent,
                bool show_status)
{
    char *dir = fs_probe_dir();
    char *argv[] = {(char *)python, "-B", "-c", (char *)fs_probe_code, NULL,
                    NULL};
    char *attach = NULL, *probe = NULL, *status = NULL, *error = NULL;
    struct fs_child c;
    int rc = -1;

    if (dir == NULL) {
        return -1;
    }
    argv[4] = dir;
    if (fs_cmd_spawn(argv, lib, dir, FS_DOCTOR_TIMEOUT, &c) != 0) {
        nftw(dir, fs_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        free(dir);
        return -1;
    }
    nftw(dir, fs_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(dir);
    attach = fs_cmd_field(c.out, "attach");
    probe = fs_cmd_field(c.out, "probe");
    status = fs_cmd_field(c.out, "status");
    error = fs_cmd_field(c.out, "error");
    printf("%slibrary:   %s\n", indent, lib);
    if (attach != NULL && strcmp(attach, "None") != 0 && attach[0]) {
        printf("%sattach:    %s\n", indent, attach);
    }
    else {
        printf("%sattach:    FAILED (%s)\n", indent,
               error ? error : c.timed_out ? "timed out"
               : "no answer from the interpreter");
    }
    if (probe != NULL && strcmp(probe, "1") == 0) {
        printf("%sprobe:     ran (_flaskshield_probe.flaskshield_runs = 1)\n",
               indent);
    }
    else {
        printf("%sprobe:     FAILED (_flaskshield_probe.flaskshield_runs = "
               "%s; expected 1)\n", indent, probe ? probe : "?");
    }
    if (c.status != 0) {
        printf("%sexit:      %d%s\n", indent, c.status,
               c.status < 0 ? " (killed)" : "");
    }
    rc = c.status == 0 && attach != NULL && attach[0]
         && strcmp(attach, "None") != 0 && probe != NULL
         && strcmp(probe, "1") == 0 ? 0 : -1;
    if (show_status && status != NULL) {
        printf("%sstatus:    %s\n", indent, status);
    }
    if (show_status || rc != 0) {
        if (c.err_len > 0) {
            char pre[64];
            printf("%sstderr:\n", indent);
            snprintf(pre, sizeof(pre), "%s  | ", indent);
            fs_child_print_stderr(stdout, &c, pre);
        }
    }
    free(attach);
    free(probe);
    free(status);
    free(error);
    fs_child_free(&c);
    return rc;
}
