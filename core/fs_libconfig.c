/*
 * fs_libconfig.c -- the run-time table of libconfig functions.
 *
 * In the manner of sqlite's aSyscall[] in os_unix.c: one table names every
 * libconfig function that flaskshield calls, the table is filled once with
 * dlsym() from a handle opened RTLD_NOW | RTLD_LOCAL, and a missing library or
 * symbol leaves the whole table unusable (NULL), never half filled.  No other
 * file calls libconfig functions directly, so the link stays free of it
 * (docs/design.md, "No link-time dependency on libpython", applies the
 * same rule to libpython).
 */
#include "fs_libconfig.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#define FS_LIBCONFIG_SONAME "libconfig.so.9"

static const struct {
    const char *name;
    size_t offset;
} fs_lc_syms[] = {
    {"config_init", offsetof(struct fs_libconfig, init)},
    {"config_destroy", offsetof(struct fs_libconfig, destroy)},
    {"config_read_string", offsetof(struct fs_libconfig, read_string)},
};

static pthread_once_t fs_lc_once = PTHREAD_ONCE_INIT;
static struct fs_libconfig fs_lc_table;
static const struct fs_libconfig *fs_lc_ready;

static void
fs_lc_open(void)
{
    void *handle = dlopen(FS_LIBCONFIG_SONAME, RTLD_NOW | RTLD_LOCAL);
    size_t i;

    if (handle == NULL) {
        return;
    }
    for (i = 0; i < sizeof(fs_lc_syms) / sizeof(fs_lc_syms[0]); i++) {
        void *sym = dlsym(handle, fs_lc_syms[i].name);
        if (sym == NULL) {
            dlclose(handle);
            return;
        }
        /* POSIX guarantees that a pointer from dlsym() can be used as a
         * function pointer; copy the bits to stay within ISO C. */
        memcpy((char *)&fs_lc_table + fs_lc_syms[i].offset, &sym,
               sizeof(sym));
    }
    fs_lc_ready = &fs_lc_table;
}

const struct fs_libconfig *
fs_libconfig(void)
{
    if (pthread_once(&fs_lc_once, fs_lc_open) != 0) {
        return NULL;
    }
    return fs_lc_ready;
}
