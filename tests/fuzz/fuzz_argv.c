/*
 * fuzz_argv.c -- libFuzzer target for the debug-allocator prediction
 * (shim/fs_argv.c).
 *
 * The input is split at NUL bytes into argv words (the first word is
 * argv[0]) and an environment: a word starting with '\x01' sets
 * PYTHONMALLOC to the rest, '\x02' sets PYTHONDEVMODE.  The prediction must
 * never read outside argv, and must be a pure function of its input
 * (asked twice, the same answer); the wide-character entry (Py_Main's
 * argv), given the same words a byte to a character, must answer the
 * same; ASan and UBSan watch the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <wchar.h>

#include "fs_argv.h"

#define FS_FUZZ_MAX_WORDS 64

static const char *fs_fuzz_malloc, *fs_fuzz_devmode;

static const char *
fs_fuzz_getenv(const char *name)
{
    if (strcmp(name, "PYTHONMALLOC") == 0) {
        return fs_fuzz_malloc;
    }
    if (strcmp(name, "PYTHONDEVMODE") == 0) {
        return fs_fuzz_devmode;
    }
    return NULL;
}

/* The words as a wide argv, exactly argc long: the wide prediction (-1
 * when out of memory, which is not a finding). */
static int
fs_fuzz_wide(char **words, int argc, bool debug_build)
{
    wchar_t **wargv = malloc(sizeof(wchar_t *) * (argc > 0 ? (size_t)argc : 1));
    int i, made = 0, r = -1;

    if (wargv == NULL) {
        return -1;
    }
    for (; made < argc; made++) {
        size_t n = strlen(words[made]), j;

        if ((wargv[made] = malloc(sizeof(wchar_t) * (n + 1))) == NULL) {
            break;
        }
        for (j = 0; j <= n; j++) {
            wargv[made][j] = (wchar_t)(unsigned char)words[made][j];
        }
    }
    if (made == argc) {
        r = fs_argv_debug_allocator_wide(argc, wargv, fs_fuzz_getenv,
                                         debug_build);
    }
    for (i = 0; i < made; i++) {
        free(wargv[i]);
    }
    free(wargv);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    char *words[FS_FUZZ_MAX_WORDS];
    char **argv;
    int argc = 0;
    size_t i = 0;
    bool a, b;
    int wide;

    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    fs_fuzz_malloc = fs_fuzz_devmode = NULL;
    while (i <= size && argc < FS_FUZZ_MAX_WORDS) {
        char *w = buf + i;

        i += strlen(w) + 1;
        if (w[0] == '\x01') {
            fs_fuzz_malloc = w + 1;
        }
        else if (w[0] == '\x02') {
            fs_fuzz_devmode = w + 1;
        }
        else {
            words[argc++] = w;
        }
    }
    /* argv exactly argc long (no NULL after it), so ASan sees any read
     * past the end */
    argv = malloc(sizeof(char *) * (argc > 0 ? (size_t)argc : 1));
    if (argv != NULL) {
        memcpy(argv, words, sizeof(char *) * (size_t)argc);
        a = fs_argv_debug_allocator(argc, argv, fs_fuzz_getenv, size % 2);
        b = fs_argv_debug_allocator(argc, argv, fs_fuzz_getenv, size % 2);
        if (a != b) {
            abort();
        }
        free(argv);
        wide = fs_fuzz_wide(words, argc, size % 2);
        if (wide >= 0 && wide != (int)a) {
            abort();
        }
    }
    free(buf);
    return 0;
}
