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
 *     included file is then seen too), quietly.
 *
 * A file modified in the same second it is read may have been read half
 * written: such a read is trusted for now and checked again at the next
 * interval (as git does with its "racily clean" index entries).
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
#include "fs_log.h"
#include "fs_state.h"
#include "fs_build.h"

static uint64_t fs_fingerprint_in_force;    /* 0: read again at next check */
static uint64_t fs_errors_logged;           /* hash of the last rejection */
static time_t fs_next_check;

static uint64_t
fs_mix(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3u;
    }
    return h;
}

/* One file's state into h; *racy when it changed within the last two
 * seconds of wall-clock time (then a read of it may be torn). */
static uint64_t
fs_mix_file(uint64_t h, const char *path, time_t wall, bool *racy)
{
    struct stat st;

    if (path == NULL || path[0] == '\0') {
        return h;
    }
    h = fs_mix(h, path, strlen(path) + 1);
    if (stat(path, &st) != 0) {
        int missing = -1;
        return fs_mix(h, &missing, sizeof(missing));
    }
    h = fs_mix(h, &st.st_dev, sizeof(st.st_dev));
    h = fs_mix(h, &st.st_ino, sizeof(st.st_ino));
    h = fs_mix(h, &st.st_mode, sizeof(st.st_mode));
    h = fs_mix(h, &st.st_uid, sizeof(st.st_uid));
    h = fs_mix(h, &st.st_size, sizeof(st.st_size));
    h = fs_mix(h, &st.st_mtim, sizeof(st.st_mtim));
    h = fs_mix(h, &st.st_ctim, sizeof(st.st_ctim));
    if (st.st_mtim.tv_sec >= wall - 1 || st.st_ctim.tv_sec >= wall - 1) {
        *racy = true;
    }
    return h;
}

/* The fingerprint of policy p's files (never 0). */
static uint64_t
fs_fingerprint(const struct fs_policy *p, bool *racy)
{
    uint64_t h = 0xcbf29ce484222325u;
    time_t wall = time(NULL);
    size_t i;

    *racy = false;
    h = fs_mix_file(h, FS_DEFAULT_POLICY_PATH, wall, racy);
    h = fs_mix_file(h, secure_getenv("FLASKSHIELD_POLICY"), wall, racy);
    for (i = 0; i < p->nsources; i++) {
        h = fs_mix_file(h, p->sources[i], wall, racy);
    }
    return h != 0 ? h : 1;
}

static uint64_t
fs_errors_hash(const struct fs_policy_errors *errs)
{
    uint64_t h = 0xcbf29ce484222325u;
    size_t i;

    for (i = 0; i < errs->count; i++) {
        h = fs_mix(h, errs->msg[i], strlen(errs->msg[i]) + 1);
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
    fs_next_check = fs_now() + fs_state.policy->reload_interval;
}

/* The files changed: read the policy again. */
static void
fs_reload(time_t now)
{
    struct fs_policy_errors errs = {NULL, 0};
    struct fs_policy *np = NULL;
    const char *path = NULL;
    struct fs_logline l;
    uint64_t fp;
    bool racy;
    size_t i;
    int rc = fs_policy_resolve(&np, &path, &errs);

    if (np == NULL) {
        fs_policy_errors_free(&errs);
        return;                 /* out of memory: try again next time */
    }
    if (rc != 0) {
        uint64_t h = fs_errors_hash(&errs);
        if (h != fs_errors_logged) {
            for (i = 0; i < errs.count; i++) {
                fs_log_begin(&l, FS_ERROR, "policy.invalid", NULL,
                             fs_global_mode());
                fs_log_str(&l, "error", errs.msg[i]);
                fs_log_str(&l, "effect", "kept the policy in force");
                fs_log_str(&l, "policy_digest", fs_state.policy->digest);
                fs_log_end(&l);
            }
            fs_errors_logged = h;
        }
        fs_fingerprint_in_force = 0;
        fs_policy_free(np);
        fs_policy_errors_free(&errs);
        return;
    }
    fs_policy_errors_free(&errs);
    fs_errors_logged = 0;
    fp = fs_fingerprint(np, &racy);
    fs_policy_replace(np, path, now);
    fs_fingerprint_in_force = racy ? 0 : fp;
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
    if (fs_fingerprint_in_force != 0
        && fs_fingerprint(p, &racy) == fs_fingerprint_in_force) {
        return;
    }
    fs_reload(now);
}
