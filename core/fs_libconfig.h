/*
 * fs_libconfig.h -- libconfig reached through dlopen(), never linked.
 *
 * The preloaded library must not add a DT_NEEDED entry for libconfig to
 * every process of an image, so "libconfig.so.9" is opened with dlopen() the
 * first time a policy is parsed and the few functions used are called through
 * the table below.  Everything else (the tree of settings, the error line
 * and text) is read straight from libconfig's public structs, whose
 * accessors are macros in <libconfig.h> and need no symbol.
 *
 * fs_libconfig() is thread-safe; it returns NULL when the library or one of
 * its symbols is missing.  The handle stays open for the life of the process.
 */
#ifndef FS_LIBCONFIG_H
#define FS_LIBCONFIG_H

#include <libconfig.h>

struct fs_libconfig {
    void (*init)(config_t *config);
    void (*destroy)(config_t *config);
    int (*read_string)(config_t *config, const char *str);
};

const struct fs_libconfig *fs_libconfig(void);

#endif /* FS_LIBCONFIG_H */
