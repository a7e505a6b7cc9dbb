/*
 * fs_argv.c -- will this CPython start with its debug memory allocator?
 *
 * The audit hook registered before Py_Initialize is allocated with the raw
 * allocator in force then and freed at Py_Finalize with the one in force
 * then; if initialization switched to the debug allocator in between, the
 * free aborts the process (docs/design.md, "The trigger: an audit hook").  fs_attach.c therefore
 * asks, before registering, which allocator CPython's pre-initialization
 * will choose, and this file answers exactly as CPython 3.8-3.13 decide it:
 *
 * - Python/preconfig.c precmdline_parse_cmdline() reads argv with
 *   _PyOS_GetOpt() (Python/getopt.c) and opterr off: it stops at the end of
 *   the options, at -c and at -m, keeps -E, -I and every -X value, and
 *   ignores every other option, an unknown one included (the full parse
 *   that reports it comes later).  fs_getopt() below is _PyOS_GetOpt()
 *   step for step, quirks included: a lone "-" ends the options, "--" ends
 *   them after itself, an unknown long option leaves the rest of its word
 *   to be read as short options, and a long option's argument is always
 *   the next word (there is no --name=value form).
 * - the allocator (preconfig_init_allocator): PYTHONMALLOC, unless the
 *   environment is ignored (-E, -I) or the variable is empty, wins over dev
 *   mode; dev mode (-X dev or -X dev=..., or a non-empty PYTHONDEVMODE when
 *   the environment counts) means "debug"; otherwise a Py_DEBUG build's
 *   default is the debug allocator.
 *
 * The short options are the union over 3.8-3.13 ("P" is unknown before
 * 3.11, which the pre-configuration ignores exactly as a known flag
 * without argument); "check-hash-based-pycs" is the only long option that
 * takes an argument in any of them.  The cross-check is
 * tests/integration/test_argv.py, which runs every interpreter of the
 * machine image over a matrix of command lines.
 *
 * Py_Main() parses a wide-character argv: fs_argv_debug_allocator_wide()
 * copies it to bytes, each character outside ASCII becoming the byte
 * 0x80.  No option, '-', '=' or "dev" is spelled with such a character,
 * and the copy keeps every character's position, so the parse is the same.
 *
 * No Python here: the caller passes the environment look-up and whether
 * the interpreter is a debug build (tests/unit/test_argv.c,
 * tests/fuzz/fuzz_argv.c).
 */
#include "fs_argv.h"

#include <stdlib.h>
#include <string.h>

/* The union of CPython 3.8-3.13's SHORT_OPTS (Python/getopt.c). */
static const char fs_short_opts[] = "bBc:dEhiIJm:OPqRsStuvVW:xX:?";

struct fs_getopt {
    int argc;
    char *const *argv;
    int optind;
    const char *opt_ptr;
    const char *optarg;
};

/* _PyOS_GetOpt(): the next option character, '_' for an error, -1 at the
 * end of the options. */
static int
fs_getopt(struct fs_getopt *g)
{
    const char *ptr;
    char option;

    if (*g->opt_ptr == '\0') {
        const char *a;

        if (g->optind >= g->argc) {
            return -1;
        }
        a = g->argv[g->optind];
        if (a == NULL || a[0] != '-' || a[1] == '\0') {
            return -1;                          /* a word, or a lone dash */
        }
        if (strcmp(a, "--") == 0) {
            g->optind++;
            return -1;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "--version") == 0) {
            g->optind++;
            return a[2] == 'h' ? 'h' : 'V';
        }
        g->opt_ptr = &g->argv[g->optind++][1];
    }
    if ((option = *g->opt_ptr++) == '\0') {
        return -1;
    }
    if (option == '-') {                        /* a long option */
        bool has_arg;

        if (*g->opt_ptr == '\0') {
            return -1;                          /* "expected long option" */
        }
        if (strcmp(g->opt_ptr, "check-hash-based-pycs") == 0) {
            has_arg = true;
        }
        else if (strcmp(g->opt_ptr, "help-env") == 0
                 || strcmp(g->opt_ptr, "help-xoptions") == 0
                 || strcmp(g->opt_ptr, "help-all") == 0) {
            has_arg = false;                    /* 3.11+; unknown before */
        }
        else {
            return '_';         /* unknown: opt_ptr stays where it is */
        }
        g->opt_ptr = "";
        if (!has_arg) {
            return 'L';
        }
        if (g->optind >= g->argc) {
            return '_';
        }
        g->optarg = g->argv[g->optind++];
        return 'L';
    }
    if (option == 'J') {
        return '_';                             /* reserved for Jython */
    }
    if ((ptr = strchr(fs_short_opts, option)) == NULL) {
        return '_';
    }
    if (ptr[1] == ':') {
        if (*g->opt_ptr != '\0') {
            g->optarg = g->opt_ptr;
            g->opt_ptr = "";
        }
        else {
            if (g->optind >= g->argc || g->argv[g->optind] == NULL) {
                return '_';
            }
            g->optarg = g->argv[g->optind++];
        }
    }
    return option;
}

/* _Py_get_xoption(xoptions, "dev"): "dev", or "dev=" and anything. */
static bool
fs_is_dev_xoption(const char *x)
{
    return x != NULL && strncmp(x, "dev", 3) == 0
           && (x[3] == '\0' || x[3] == '=');
}

/* _Py_GetEnv(): NULL when the environment is ignored, unset or empty. */
static const char *
fs_env(fs_getenv_fn getenv_fn, bool use_environment, const char *name)
{
    const char *v = use_environment ? getenv_fn(name) : NULL;

    return v != NULL && *v != '\0' ? v : NULL;
}

bool
fs_argv_debug_allocator(int argc, char *const *argv, fs_getenv_fn getenv_fn,
                        bool debug_build)
{
    struct fs_getopt g = {argc, argv, 1, "", NULL};
    bool use_environment = true, dev = false;
    const char *malloc_name;
    int c;

    while (argv != NULL && (c = fs_getopt(&g)) != -1 && c != 'c' && c != 'm') {
        if (c == 'E' || c == 'I') {
            use_environment = false;            /* -I implies -E */
        }
        else if (c == 'X' && fs_is_dev_xoption(g.optarg)) {
            dev = true;
        }
    }
    malloc_name = fs_env(getenv_fn, use_environment, "PYTHONMALLOC");
    if (malloc_name != NULL) {
        /* An explicit choice wins; an unknown name stops CPython before
         * it frees anything, so its answer does not matter. */
        return strcmp(malloc_name, "debug") == 0
               || strcmp(malloc_name, "pymalloc_debug") == 0
               || strcmp(malloc_name, "malloc_debug") == 0
               || strcmp(malloc_name, "mimalloc_debug") == 0
               || (strcmp(malloc_name, "default") == 0 && debug_build);
    }
    if (dev || fs_env(getenv_fn, use_environment, "PYTHONDEVMODE") != NULL) {
        return true;
    }
    return debug_build;
}

int
fs_argv_debug_allocator_wide(int argc, wchar_t *const *argv,
                             fs_getenv_fn getenv_fn, bool debug_build)
{
    char **copy;
    char *p;
    size_t chars = 0;
    int i, n = 0;
    bool r;

    while (argv != NULL && n < argc && argv[n] != NULL) {
        chars += wcslen(argv[n]) + 1;
        n++;
    }
    copy = malloc(sizeof(char *) * (size_t)(n + 1) + chars);
    if (copy == NULL) {
        return -1;
    }
    p = (char *)(copy + n + 1);
    for (i = 0; i < n; i++) {
        const wchar_t *w = argv[i];

        copy[i] = p;
        for (; *w != L'\0'; w++) {
            *p++ = *w > 0 && *w < 0x80 ? (char)*w : '\x80';
        }
        *p++ = '\0';
    }
    copy[n] = NULL;
    r = fs_argv_debug_allocator(n, argv != NULL ? copy : NULL, getenv_fn,
                                debug_build);
    free(copy);
    return r;
}
