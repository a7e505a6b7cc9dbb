/*
 * cli_doctor.c -- `flaskshield doctor [PYTHON]`: can the library attach to
 * this interpreter?
 *
 * Two runs of PYTHON (default: python3 on PATH).  The first, as it is: its
 * version, whether libpython is shared (mapped as a libpython*.so) or
 * linked into the executable (static), Py_ENABLE_SHARED, and whether the C
 * API the library needs (PySys_AddAuditHook, Py_Initialize) is exported
 * where dlsym() finds it.  The second, with the library preloaded
 * (fs_doctor_probe(), which `enable` also uses): `import flaskshield`, then
 * the self-test module `_flaskshield_probe` (an empty package made in a
 * temporary folder) whose import callback in the library's registry must
 * run exactly once, and the `flaskshield.status()` it reports, printed as
 * JSON.  Exit 0 when the library attached and the probe ran, 1 otherwise.
 * The Python code given to -c only prints facts; the verdict is made here.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define FS_DOCTOR_TIMEOUT 60

static const char fs_info_code[] =
    "import sys, sysconfig\n"
    "print('version=' + sys.version.split()[0])\n"
    "print('implementation=' + sys.implementation.name)\n"
    "print('enable_shared=%s' % sysconfig.get_config_var('Py_ENABLE_SHARED'))\n"
    "lib = ''\n"
    "try:\n"
    "    with open('/proc/self/maps') as f:\n"
    "        for line in f:\n"
    "            parts = line.split()\n"
    "            if len(parts) >= 6 and '/libpython' in parts[5]:\n"
    "                lib = parts[5]\n"
    "                break\n"
    "except OSError:\n"
    "    pass\n"
    "print('libpython=' + lib)\n"
    "try:\n"
    "    import ctypes\n"
    "    h = ctypes.CDLL(None)\n"
    "    names = ('PySys_AddAuditHook', 'Py_Initialize')\n"
    "    print('api_missing=' + ','.join(n for n in names\n"
    "                                    if not hasattr(h, n)))\n"
    "except Exception as e:\n"
    "    print('api_unknown=%s: %s' % (type(e).__name__, e))\n";

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

/* The value of "key=..." among the lines of out, or NULL (heap). */
static char *
fs_field(const char *out, const char *key)
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
    attach = fs_field(c.out, "attach");
    probe = fs_field(c.out, "probe");
    status = fs_field(c.out, "status");
    error = fs_field(c.out, "error");
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

static void
fs_doctor_help(FILE *f)
{
    fprintf(f, "usage: flaskshield doctor [PYTHON]\n\n"
               "Say whether the library attaches to PYTHON (default: "
               "python3 on PATH): its\nversion, static or shared libpython, "
               "the exported C API, then a run with\nthe library preloaded: "
               "the self-test import and flaskshield.status().\n"
               "Exit 0 when the library attaches and the self-test ran, "
               "1 otherwise.\n");
}

int
fs_cmd_doctor(int argc, char **argv)
{
    const char *arg = NULL, *lib;
    char *python = NULL, *version = NULL, *impl = NULL, *shared = NULL;
    char *libpython = NULL, *missing = NULL, *unknown = NULL;
    char *info_argv[] = {NULL, "-B", "-c", (char *)fs_info_code, NULL};
    struct fs_child c = {0};
    bool started = false;
    int i, rc = FS_EXIT_INVALID;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fs_doctor_help(stdout);
            return FS_EXIT_OK;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return fs_cmd_usage_error("doctor", "unknown option '%s'",
                                      argv[i]);
        }
        if (arg != NULL) {
            return fs_cmd_usage_error("doctor", "more than one PYTHON");
        }
        arg = argv[i];
    }
    python = fs_cmd_find_program(arg ? arg : "python3");
    if (python == NULL) {
        fprintf(stderr, "flaskshield doctor: %s: no such interpreter\n",
                arg ? arg : "python3 (on PATH)");
        goto done;
    }
    printf("python:      %s\n", python);
    info_argv[0] = python;
    if (fs_cmd_spawn(info_argv, NULL, "/", FS_DOCTOR_TIMEOUT, &c) != 0) {
        goto done;
    }
    started = true;
    version = fs_field(c.out, "version");
    if (c.status != 0 || version == NULL) {
        printf("version:     FAILED (the interpreter did not answer; exit "
               "%d)\n", c.status);
        fs_child_print_stderr(stdout, &c, "  | ");
        goto done;
    }
    impl = fs_field(c.out, "implementation");
    shared = fs_field(c.out, "enable_shared");
    libpython = fs_field(c.out, "libpython");
    missing = fs_field(c.out, "api_missing");
    unknown = fs_field(c.out, "api_unknown");
    printf("version:     %s (%s)%s\n", version, impl ? impl : "?",
           impl != NULL && strcmp(impl, "cpython") != 0
           ? ": not CPython, the library cannot attach" : "");
    {
        int major = 0, minor = 0;
        if (sscanf(version, "%d.%d", &major, &minor) == 2
            && (major < 3 || (major == 3 && minor < 8))) {
            printf("             too old: audit hooks need Python 3.8+\n");
        }
    }
    if (libpython != NULL && libpython[0]) {
        printf("libpython:   shared (%s; Py_ENABLE_SHARED=%s)\n", libpython,
               shared ? shared : "?");
    }
    else {
        printf("libpython:   static (linked into the executable; "
               "Py_ENABLE_SHARED=%s)\n", shared ? shared : "?");
    }
    if (missing != NULL && missing[0] == '\0') {
        printf("api:         exported (PySys_AddAuditHook, Py_Initialize "
               "found by dlsym)\n");
    }
    else if (missing != NULL) {
        printf("api:         NOT exported: %s\n", missing);
    }
    else {
        printf("api:         unknown (%s)\n", unknown ? unknown : "no ctypes");
    }
    lib = fs_cmd_library("doctor");
    if (lib == NULL) {
        goto done;
    }
    printf("with the library:\n");
    fflush(stdout);
    if (fs_doctor_probe(python, lib, "  ", true) == 0) {
        printf("verdict:     ok, flaskshield attaches to %s\n", python);
        rc = FS_EXIT_OK;
    }
    else {
        printf("verdict:     FAILED, flaskshield does not attach to %s\n",
               python);
    }

done:
    if (started) {
        fs_child_free(&c);
    }
    free(python);
    free(version);
    free(impl);
    free(shared);
    free(libpython);
    free(missing);
    free(unknown);
    return rc;
}
