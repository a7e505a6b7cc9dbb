/*
 * fs_state.h -- what the library knows about its process.
 *
 * One instance per process, shared by every interpreter in it: how the
 * library attached, whether it has activated (policy read, `activate`
 * logged), the policy in force and the patches applied.  Written under the
 * GIL (or before any interpreter runs); fork() children inherit it, which is
 * what a gunicorn --preload worker wants.
 */
#ifndef FS_STATE_H
#define FS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "fs_policy.h"
#include "fs_secret.h"

#define FS_MAX_PATCHES 64

struct fs_patch_note {
    const char *module;         /* e.g. "flask.app" (static string) */
    const char *target;         /* e.g. "Flask.__call__" (static string) */
};

struct fs_state {
    const char *attach;         /* "constructor", "Py_Initialize", ... */
    bool activated;
    struct fs_policy *policy;   /* never NULL once activated */
    unsigned long generation;   /* moves when a reload replaces policy */
    const char *policy_path;    /* file chosen, or NULL */
    struct fs_weak_list *weak;  /* secret_key.weak_list, or NULL */
    struct fs_patch_note patches[FS_MAX_PATCHES];
    size_t npatches;
};

extern struct fs_state fs_state;

/* Called the first time a Flask or Werkzeug module is imported in the
 * process: read the policy, configure logging, log `activate`.  Idempotent.
 * Only out of memory leaves fs_state.policy NULL (and activated false):
 * callers then leave the application alone. */
void fs_activate(void);

/* Say once, at the first Flask import, that the interpreter cannot be
 * protected (`python.unsupported`, to stderr in the default format: no
 * policy is read for a process the library stays out of). */
void fs_note_unsupported(const char *reason);

/* Put np (read from path) in force in place of the policy in force, for
 * every app of the process (their states follow fs_state.generation).
 * Logs policy.reloaded when the effective policy differs.  The old policy
 * is freed some minutes later (now: CLOCK_MONOTONIC_COARSE seconds). */
void fs_policy_replace(struct fs_policy *np, const char *path, time_t now);

/* Record that a patch was applied (listed by flaskshield.status()). */
void fs_note_patch(const char *module, const char *target);

/* The mode name of the global policy ("enforce", ...), for log lines. */
const char *fs_global_mode(void);

#endif /* FS_STATE_H */
