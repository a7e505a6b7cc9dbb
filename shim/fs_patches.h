/*
 * fs_patches.h -- the Flask and Werkzeug patches, as registry entries.
 *
 * Each patch file defines one callback per module it patches; this header
 * lists them for the registry (fs_registry.c).
 */
#ifndef FS_PATCHES_H
#define FS_PATCHES_H

#include "fs_registry.h"

#define FS_PATCH_HOOKS

#endif /* FS_PATCHES_H */
