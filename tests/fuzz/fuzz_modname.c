/*
 * fuzz_modname.c -- libFuzzer target for module-name matching
 * (shim/fs_modname.c).
 *
 * The input is an imported name of any bytes; it is matched, whole and by
 * its top-level package, against every name the library watches, each
 * held in a buffer of exactly its own size (so ASan sees a read past an
 * entry's NUL).  Each answer is checked against a plain reference: equal
 * lengths and equal bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs_modname.h"

static const char *const fs_fuzz_entries[] = {
    "flask", "werkzeug", "flask.app", "flask.wrappers", "werkzeug.serving",
    "werkzeug.debug", "_flaskshield_probe", "_flaskshield_probe.sub", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = malloc(size > 0 ? size : 1);
    size_t i, top;

    if (name == NULL) {
        return 0;
    }
    memcpy(name, data, size);                   /* no terminator */
    top = fs_modname_top(name, size);
    if (top > size || (top < size && name[top] != '.')
        || memchr(name, '.', top) != NULL) {
        abort();
    }
    for (i = 0; i < sizeof(fs_fuzz_entries) / sizeof(fs_fuzz_entries[0]); i++) {
        size_t n = strlen(fs_fuzz_entries[i]);
        char *entry = malloc(n + 1);
        size_t etop;
        bool whole, pkg;

        if (entry == NULL) {
            break;
        }
        memcpy(entry, fs_fuzz_entries[i], n + 1);
        etop = fs_modname_top(entry, n);
        whole = fs_modname_spells(entry, name, size, false);
        pkg = fs_modname_spells(entry, name, top, true);
        if (whole != (n == size && memcmp(entry, name, size) == 0)
            || pkg != (etop == top && memcmp(entry, name, top) == 0)) {
            abort();
        }
        free(entry);
    }
    free(name);
    return 0;
}
