/*
 * fs_reload.c -- a policy that a running fleet follows: re-read when its
 * files change, without a restart, a thread or a signal.
 *
 * The request guard calls fs_reload_tick() once per request.  It reads the
 * coarse monotonic clock (a vDSO read, no system call) and returns unless
 * reload_interval seconds have passed since the last check.  Then it takes
 * a fingerprint of the files the policy came from -- the system policy
 * path, the file FLASKSHIELD_POLICY names, and every file and folder the
 * policy in force was read from (its includes and drop-ins) -- with one
 * stat() each, following symlinks, so that a Kubernetes ConfigMap's atomic
 * swap of its `..data` link is seen as a change.  An unchanged fingerprint
 * ends the check.  A changed one makes the process resolve and read the
 * policy again (fs_policy_resolve(): the same rules as at start, the lock
 * of the system policy included):
 *
 *   - valid: it replaces the policy in force for every app of the process
 *     (fs_policy_replace(), which logs policy.reloaded when the effective
 *     policy differs: the digests tell);
 *   - rejected: the policy in force is kept (the last good policy) and each
 *     error is logged as policy.invalid with "effect": "kept the policy in
 *     force", once for the same set of errors.  While the files stay
 *     rejected they are read again at every interval (a change to an
 *     included file is then seen too), quietly.  Two outcomes that are
 *     valid at start count as rejected in a running process: no policy
 *     file at all (it never falls back to the built-in defaults once it
 *     had a file), and a policy chosen by FLASKSHIELD_POLICY after the
 *     process has seen the system policy's lock shut (a lock opens only
 *     for processes started after it was opened, so an operator's
 *     non-atomic rewrite of the system file never opens it).
 *
 * A read of a file changed less than a second before may be torn (a file
 * being written in place): such a read is not put in force, nor reported;
 * the files are read again at the next interval.  The fingerprint always
 * covers the system policy's drop-in folder and files too, so that a lock
 * added there reaches processes whose policy FLASKSHIELD_POLICY chose.
 *
 * Every worker process checks for itself: a gunicorn --preload master that
 * imported Flask never serves, and its forked workers start with its
 * policy and its fingerprint, then follow the files on their own.
 */
#include "fs_reload.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fs_api.h"
#include "fs_dropin.h"
#include "fs_fnv.h"
#include "fs_log.h"
#include "fs_state.h"
#include "fs_build.h"

static uint64_t fs_fingerprint_in_force;    /* 0: read again at next check */
static uint64_t fs_errors_logged;           /* hash of the last rejection */
static time_t fs_next_check;
static bool fs_lock_seen;   /* the system policy said no overrides */

/* Did t fall less than a second before now? */
static bool
fs_recent(const struct timespec *t, const struct timespec *now)
{
    long long ns = (long long)(now->tv_sec - t->tv_sec) * 1000000000LL
                   + (now->tv_nsec - t->tv_nsec);
    return ns < 1000000000LL;
}

/* One file's state into h; *racy when it changed less than a second ago
 * (then a read of it may be torn). */
static uint64_t
fs_mix_file(uint64_t h, const char *path, const struct timespec *wall,
            bool *racy)
{
    struct stat st;

    if (path == NULL || path[0] == '\0') {
        return h;
    }
    h = fs_fnv1a(h, path, strlen(path) + 1);
    if (stat(path, &st) != 0) {
        int missing = -1;
        return fs_fnv1a(h, &missing, sizeof(missing));
    }
    h = fs_fnv1a(h, &st.st_dev, sizeof(st.st_dev));
    h = fs_fnv1a(h, &st.st_ino, sizeof(st.st_ino));
    h = fs_fnv1a(h, &st.st_mode, sizeof(st.st_mode));
    h = fs_fnv1a(h, &st.st_uid, sizeof(st.st_uid));
    h = fs_fnv1a(h, &st.st_size, sizeof(st.st_size));
    h = fs_fnv1a(h, &st.st_mtim, sizeof(st.st_mtim));
    h = fs_fnv1a(h, &st.st_ctim, sizeof(st.st_ctim));
    if (fs_recent(&st.st_mtim, wall) || fs_recent(&st.st_ctim, wall)) {
        *racy = true;
    }
    return h;
}

/* The system policy's drop-in folder and its drop-ins into h. */
static uint64_t
fs_mix_system_dropins(uint64_t h, const struct timespec *wall, bool *racy)
{
    char *dir = fs_dropin_dir(FS_DEFAULT_POLICY_PATH), **paths = NULL;
    size_t n = 0, i;
    struct fs_diag d;

    if (dir == NULL) {
        return h;
    }
    memset(&d, 0, sizeof(d));
    h = fs_mix_file(h, dir, wall, racy);
    fs_dropin_list(dir, &paths, &n, NULL, &d, 0);
    fs_diag_clear(&d);
    for (i = 0; i < n; i++) {
        h = fs_mix_file(h, paths[i], wall, racy);
    }
    fs_dropin_free(paths, n);
    free(dir);
    return h;
}

/* The fingerprint of policy p's files (never 0): the system policy, its
 * drop-ins, FLASKSHIELD_POLICY's file and every source of p. */
static uint64_t
fs_fingerprint(const struct fs_policy *p, bool *racy)
{
    uint64_t h = FS_FNV_OFFSET;
    struct timespec wall;
    size_t i;

    clock_gettime(CLOCK_REALTIME, &wall);
    *racy = false;
    h = fs_mix_file(h, FS_DEFAULT_POLICY_PATH, &wall, racy);
    h = fs_mix_system_dropins(h, &wall, racy);
    h = fs_mix_file(h, secure_getenv("FLASKSHIELD_POLICY"), &wall, racy);
    for (i = 0; i < p->nsources; i++) {
        h = fs_mix_file(h, p->sources[i], &wall, racy);
    }
    return h != 0 ? h : 1;
}

/* Is the policy in force the system policy, saying no overrides? */
static bool
fs_lock_shut(const struct fs_policy *p, const char *path)
{
    return p->from_file && !p->allow_env_override && path != NULL
           && strcmp(path, FS_DEFAULT_POLICY_PATH) == 0;
}

static uint64_t
fs_errors_hash(const struct fs_policy_errors *errs)
{
    uint64_t h = FS_FNV_OFFSET;
    size_t i;

    for (i = 0; i < errs->count; i++) {
        h = fs_fnv1a(h, errs->msg[i], strlen(errs->msg[i]) + 1);
    }
    return h != 0 ? h : 1;
}

static time_t
fs_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

void
fs_reload_arm(const struct fs_policy_errors *errs)
{
    bool racy;

    fs_fingerprint_in_force = fs_fingerprint(fs_state.policy, &racy);
    fs_errors_logged = 0;
    if (errs->count > 0) {
        /* Rejected at start: the defaults are in force; read again at
         * every interval until the files are fixed. */
        fs_fingerprint_in_force = 0;
        fs_errors_logged = fs_errors_hash(errs);
    }
    else if (racy) {
        fs_fingerprint_in_force = 0;
    }
    fs_lock_seen = fs_lock_shut(fs_state.policy, fs_state.policy_path);
    fs_next_check = fs_now() + fs_state.policy->reload_interval;
}

/* A rejected update: each error logged once for the same set. */
static void
fs_keep(const struct fs_policy_errors *errs)
{
    struct fs_logline l;
    uint64_t h = fs_errors_hash(errs);
    size_t i;

    if (h != fs_errors_logged) {
        for (i = 0; i < errs->count; i++) {
            fs_log_begin(&l, FS_ERROR, "policy.invalid", NULL,
                         fs_global_mode());
            fs_log_str(&l, "error", errs->msg[i]);
            fs_log_str(&l, "effect", "kept the policy in force");
            fs_log_str(&l, "policy_digest", fs_state.policy->digest);
            fs_log_end(&l);
        }
        fs_errors_logged = h;
    }
    fs_fingerprint_in_force = 0;
}

/* Why a valid read is not put in force in a running process, or NULL. */
static const char *
fs_refusal(const struct fs_policy *np, const char *path)
{
    if (fs_state.policy->from_file && !np->from_file) {
        return "no policy file: a running process keeps its last policy, "
               "it never falls back to the built-in defaults";
    }
    if (fs_lock_seen && (path == NULL
                         || strcmp(path, FS_DEFAULT_POLICY_PATH) != 0)) {
        return "FLASKSHIELD_POLICY is not followed: this process has seen "
               "the system policy's lock shut (allow_env_override = false), "
               "which opens only for processes started after it was opened";
    }
    return NULL;
}

/* The files changed: read the policy again. */
static void
fs_reload(time_t now)
{
    struct fs_policy_errors errs = {NULL, 0};
    struct fs_policy *np = NULL;
    const char *path = NULL, *why;
    uint64_t fp;
    bool racy;
    int rc = fs_policy_resolve(&np, &path, &errs);

    if (np == NULL) {
        fs_policy_errors_free(&errs);
        return;                 /* out of memory: try again next time */
    }
    fp = fs_fingerprint(np, &racy);
    if (racy) {
        /* Perhaps read half written: neither in force nor reported. */
        fs_fingerprint_in_force = 0;
    }
    else if (rc != 0) {
        fs_keep(&errs);
    }
    else if ((why = fs_refusal(np, path)) != NULL) {
        char msg[512];
        char *one[1] = {msg};
        struct fs_policy_errors refused = {one, 1};

        snprintf(msg, sizeof(msg), "%s:0: %s",
                 path != NULL ? path : FS_DEFAULT_POLICY_PATH, why);
        fs_keep(&refused);
    }
    else {
        fs_errors_logged = 0;
        fs_lock_seen = fs_lock_seen || fs_lock_shut(np, path);
        fs_policy_replace(np, path, now);
        np = NULL;
        fs_fingerprint_in_force = fp;
    }
    fs_policy_free(np);
    fs_policy_errors_free(&errs);
}

void
fs_reload_tick(void)
{
    const struct fs_policy *p = fs_state.policy;
    time_t now;
    bool racy;

    if (p == NULL || p->reload_interval <= 0) {
        return;
    }
    now = fs_now();
    if (now < fs_next_check) {
        return;
    }
    fs_next_check = now + p->reload_interval;
    fs_log_follow();
    if (fs_fingerprint_in_force != 0
        && fs_fingerprint(p, &racy) == fs_fingerprint_in_force) {
        return;
    }
    fs_reload(now);
}
