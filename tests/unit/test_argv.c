/*
 * test_argv.c -- the debug-allocator prediction (shim/fs_argv.c), one
 * table row a command line: argv, environment, debug build, expected.
 * Each row's expectation is what CPython 3.8-3.13 do; the same kinds of
 * command line run against the real interpreters in
 * tests/integration/test_argv.py.
 */
#include <string.h>

#include "fs_argv.h"
#include "fs_test.h"

static const char *const *fs_test_env;    /* NAME=value, ..., NULL */

static const char *
fs_test_getenv(const char *name)
{
    size_t n = strlen(name);
    const char *const *e;

    for (e = fs_test_env; e != NULL && *e != NULL; e++) {
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
            return *e + n + 1;
        }
    }
    return NULL;
}

struct row {
    const char *argv[8];
    const char *env[3];
    bool debug_build;
    bool want;
};

static const struct row rows[] = {
    {{"python3", "-c", "pass"}, {NULL}, false, false},
    {{"python3", "-X", "dev", "-c", "pass"}, {NULL}, false, true},
    {{"python3", "-Xdev"}, {NULL}, false, true},
    {{"python3", "-X", "dev=0"}, {NULL}, false, true},
    {{"python3", "-X", "devx"}, {NULL}, false, false},
    {{"python3", "-X"}, {NULL}, false, false},             /* no argument */
    /* issue 13: a long option's argument, then -X dev */
    {{"python3", "--check-hash-based-pycs", "default", "-X", "dev", "-c",
      "pass"}, {NULL}, false, true},
    {{"python3", "--check-hash-based-pycs", "default", "-I", "-c", "pass"},
     {"PYTHONMALLOC=debug", NULL}, false, false},
    {{"python3", "--check-hash-based-pycs", "-X", "dev"}, {NULL}, false,
     false},                                    /* "-X" is the argument */
    /* a lone dash is the script: what follows is its own argv */
    {{"python3", "-", "-X", "dev"}, {NULL}, false, false},
    {{"python3", "--", "-X", "dev"}, {NULL}, false, false},
    {{"python3", "-c", "pass", "-X", "dev"}, {NULL}, false, false},
    {{"python3", "-cpass", "-X", "dev"}, {NULL}, false, false},
    {{"python3", "-m", "json.tool", "-X", "dev"}, {NULL}, false, false},
    {{"python3", "script.py", "-X", "dev"}, {NULL}, false, false},
    /* unknown options are skipped, and an unknown long option is read on
     * as short options (_PyOS_GetOpt leaves its pointer there) */
    {{"python3", "--bogus", "-X", "dev"}, {NULL}, false, true},
    {{"python3", "--nosuch", "-X", "dev"}, {NULL}, false, false},  /* -c h */
    {{"python3", "--Xdev"}, {NULL}, false, true},
    {{"python3", "-E-X", "dev"}, {NULL}, false, true},
    {{"python3", "-J", "-X", "dev"}, {NULL}, false, true},
    {{"python3", "-bEXdev"}, {NULL}, false, true},
    {{"python3", "-W", "-X", "dev"}, {NULL}, false, false},
    {{"python3", "-Wignore", "-Xdev"}, {NULL}, false, true},
    {{"python3", "--help-env", "-X", "dev"}, {NULL}, false, true},
    /* the environment, and -E / -I hiding it */
    {{"python3"}, {"PYTHONDEVMODE=1", NULL}, false, true},
    {{"python3"}, {"PYTHONDEVMODE=", NULL}, false, false},
    {{"python3", "-E"}, {"PYTHONDEVMODE=1", NULL}, false, false},
    {{"python3", "-I"}, {"PYTHONMALLOC=debug", NULL}, false, false},
    {{"python3"}, {"PYTHONMALLOC=debug", NULL}, false, true},
    {{"python3"}, {"PYTHONMALLOC=pymalloc_debug", NULL}, false, true},
    {{"python3"}, {"PYTHONMALLOC=malloc_debug", NULL}, false, true},
    {{"python3"}, {"PYTHONMALLOC=mimalloc_debug", NULL}, false, true},
    {{"python3"}, {"PYTHONMALLOC=malloc", NULL}, false, false},
    {{"python3", "-X", "dev"}, {"PYTHONMALLOC=malloc", NULL}, false, false},
    {{"python3"}, {"PYTHONMALLOC=default", "PYTHONDEVMODE=1", NULL}, false,
     false},                                    /* PYTHONMALLOC wins */
    {{"python3", "-E", "-X", "dev"}, {"PYTHONMALLOC=malloc", NULL}, false,
     true},                                     /* ... unless hidden */
    {{"python3"}, {"PYTHONMALLOC=", "PYTHONDEVMODE=1", NULL}, false, true},
    /* a Py_DEBUG build */
    {{"python3"}, {NULL}, true, true},
    {{"python3"}, {"PYTHONMALLOC=default", NULL}, true, true},
    {{"python3"}, {"PYTHONMALLOC=malloc", NULL}, true, false},
    /* no argv at all */
    {{NULL}, {NULL}, false, false},
};

int
main(void)
{
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int argc = 0;
        bool got;

        while (argc < 8 && rows[i].argv[argc] != NULL) {
            argc++;
        }
        fs_test_env = rows[i].env;
        got = fs_argv_debug_allocator(argc, (char *const *)rows[i].argv,
                                      fs_test_getenv, rows[i].debug_build);
        if (got != rows[i].want) {
            fprintf(stderr, "row %zu (%s %s ...): got %d\n", i,
                    rows[i].argv[0] ? rows[i].argv[0] : "-",
                    argc > 1 ? rows[i].argv[1] : "", got);
        }
        CHECK(got == rows[i].want);
    }
    /* argv itself NULL */
    fs_test_env = NULL;
    CHECK(!fs_argv_debug_allocator(3, NULL, fs_test_getenv, false));
    return fs_test_report();
}
