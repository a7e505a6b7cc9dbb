/*
 * test_argv.c -- the debug-allocator prediction (shim/fs_argv.c), one
 * table row a command line: argv, environment, debug build, expected.
 * Each row's expectation is what CPython 3.8-3.13 do; the same kinds of
 * command line run against the real interpreters in
 * tests/integration/test_argv.py.  Every row is also asked through the
 * wide-character entry (Py_Main's argv), which must answer the same, and
 * a few wide rows hold characters outside ASCII.
 */
#include <string.h>
#include <wchar.h>

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

/* Row i through the wide entry: each byte becomes one wide character. */
static int
fs_test_wide(const struct row *r, int argc)
{
    wchar_t words[8][64];
    wchar_t *wargv[8];
    int k;
    size_t j;

    for (k = 0; k < argc; k++) {
        for (j = 0; r->argv[k][j] != '\0' && j < 63; j++) {
            words[k][j] = (wchar_t)(unsigned char)r->argv[k][j];
        }
        words[k][j] = L'\0';
        wargv[k] = words[k];
    }
    return fs_argv_debug_allocator_wide(argc, wargv, fs_test_getenv,
                                        r->debug_build);
}

struct wrow {
    const wchar_t *argv[6];
    bool want;
};

/* Characters outside ASCII are options no CPython knows: skipped, and
 * never mistaken for one (the low byte of U+0145 is that of 'E', of U+0158
 * and U+1058 that of 'X': a plain (char) cast would misread them). */
static const struct wrow wrows[] = {
    {{L"python3", L"-\u00e9X", L"dev"}, true},
    {{L"python3", L"-\u0145", L"-X", L"dev"}, true},
    {{L"python3", L"-\u0158dev"}, false},
    {{L"python3", L"-X", L"dev=\u00e9t\u00e9"}, true},
    {{L"python3", L"-X", L"d\u00e9v"}, false},
    {{L"python3", L"-\u1058", L"-c", L"pass"}, false},
    {{L"python3", L"\u00e9.py", L"-X", L"dev"}, false},
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
        CHECK(fs_test_wide(&rows[i], argc) == (int)rows[i].want);
    }
    fs_test_env = NULL;
    for (i = 0; i < sizeof(wrows) / sizeof(wrows[0]); i++) {
        int argc = 0;

        while (argc < 6 && wrows[i].argv[argc] != NULL) {
            argc++;
        }
        if (fs_argv_debug_allocator_wide(argc, (wchar_t *const *)wrows[i].argv,
                                         fs_test_getenv, false)
            != (int)wrows[i].want) {
            fprintf(stderr, "wide row %zu: wrong\n", i);
        }
        CHECK(fs_argv_debug_allocator_wide(argc,
                                           (wchar_t *const *)wrows[i].argv,
                                           fs_test_getenv, false)
              == (int)wrows[i].want);
    }
    CHECK(fs_argv_debug_allocator_wide(3, NULL, fs_test_getenv, false) == 0);
    /* argv itself NULL */
    fs_test_env = NULL;
    CHECK(!fs_argv_debug_allocator(3, NULL, fs_test_getenv, false));
    return fs_test_report();
}
