/*
 * cli_doctor.c -- `flaskshield doctor [PYTHON]`: can the library attach to
 * this interpreter?
 *
 * Two runs of PYTHON (default: python3 on PATH).  The first, as it is: its
 * version, whether libpython is shared (mapped as a libpython*.so) or
 * linked into the executable (static), Py_ENABLE_SHARED, and whether the C
 * API the library needs (PySys_AddAuditHook, Py_Initialize) is exported
 * where dlsym() finds it.  The second, with the library preloaded
 * (fs_doctor_probe() of cli_probe.c, which `enable` also uses): `import flaskshield`, then
 * the self-test module `_flaskshield_probe` (an empty package made in a
 * temporary folder) whose import callback in the library's registry must
 * run exactly once, and the `flaskshield.status()` it reports, printed as
 * JSON.  Exit 0 when the library attached and the probe ran, 1 otherwise.
 * The Python code given to -c only prints facts; the verdict is made here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"


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
    version = fs_cmd_field(c.out, "version");
    if (c.status != 0 || version == NULL) {
        printf("version:     FAILED (the interpreter did not answer; exit "
               "%d)\n", c.status);
        fs_child_print_stderr(stdout, &c, "  | ");
        goto done;
    }
    impl = fs_cmd_field(c.out, "implementation");
    shared = fs_cmd_field(c.out, "enable_shared");
    libpython = fs_cmd_field(c.out, "libpython");
    missing = fs_cmd_field(c.out, "api_missing");
    unknown = fs_cmd_field(c.out, "api_unknown");
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
