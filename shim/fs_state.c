/*
 * fs_state.c -- process activation: the policy read once, lazily, and the
 * `activate` line (see fs_state.h).
 */
#include "fs_state.h"

#include <stdatomic.h>
#include <string.h>

#include <stdlib.h>

#include "fs_api.h"
#include "fs_log.h"
#include "fs_record_file.h"
#include "fs_reload.h"
#include "fs_build.h"

struct fs_state fs_state;

const char *
fs_global_mode(void)
{
    return fs_state.policy != NULL
           ? fs_mode_name(fs_state.policy->global.mode) : NULL;
}

void
fs_note_unsupported(const char *reason)
{
    static atomic_flag said = ATOMIC_FLAG_INIT;
    struct fs_logline l;

    if (atomic_flag_test_and_set(&said)) {
        return;
    }
    fs_log_begin(&l, FS_WARN, "python.unsupported", NULL, NULL);
    fs_log_str(&l, "reason", reason);
    fs_log_str(&l, "effect", "nothing is enforced in this process");
    fs_log_end(&l);
}

void
fs_note_patch(const char *module, const char *target)
{
    size_t i;

    for (i = 0; i < fs_state.npatches; i++) {
        if (strcmp(fs_state.patches[i].target, target) == 0
            && strcmp(fs_state.patches[i].module, module) == 0) {
            return;
        }
    }
    if (fs_state.npatches < FS_MAX_PATCHES) {
        fs_state.patches[fs_state.npatches].module = module;
        fs_state.patches[fs_state.npatches].target = target;
        fs_state.npatches++;
    }
}

static void
fs_log_policy_problems(const struct fs_policy_errors *errs, const char *path)
{
    struct fs_logline l;
    size_t i;

    for (i = 0; i < errs->count; i++) {
        fs_log_begin(&l, FS_ERROR, "policy.invalid", NULL, fs_global_mode());
        fs_log_str(&l, "error", errs->msg[i]);
        fs_log_end(&l);
    }
    fs_log_begin(&l, errs->count ? FS_WARN : FS_INFO, "policy.default", NULL,
                 fs_global_mode());
    fs_log_str(&l, "path", path);
    fs_log_str(&l, "reason", errs->count ? "policy rejected" : "no policy file");
    fs_log_str(&l, "effect", "built-in strict defaults apply");
    fs_log_end(&l);
}

static void
fs_load_weak_list(void)
{
    const char *file = fs_state.policy->sk_weak_list;
    char err[200];
    struct fs_logline l;

    if (file == NULL || file[0] == '\0') {
        return;
    }
    fs_state.weak = fs_weak_list_load(file, err, sizeof(err));
    if (fs_state.weak == NULL) {
        fs_log_begin(&l, FS_ERROR, "policy.invalid", NULL, fs_global_mode());
        fs_log_str(&l, "error", err);
        fs_log_str(&l, "weak_list", file);
        fs_log_str(&l, "effect", "built-in weak keys only");
        fs_log_end(&l);
    }
}

void
fs_activate(void)
{
    struct fs_policy_errors errs = {NULL, 0};
    const char *version = Py_GetVersion();
    struct fs_logline l;
    int rc;

    if (fs_state.activated) {
        return;
    }
    rc = fs_policy_resolve(&fs_state.policy, &fs_state.policy_path, &errs);
    if (fs_state.policy == NULL) {
        fs_policy_errors_free(&errs);
        return;                 /* out of memory: try again next time */
    }
    fs_state.activated = true;
    fs_log_service(fs_state.policy->global.service);
    fs_log_configure(fs_state.policy->log_target, fs_state.policy->log_file,
                     fs_state.policy->log_format, fs_state.policy->log_level);
    fs_log_begin(&l, FS_INFO, "activate", NULL, fs_global_mode());
    fs_log_str(&l, "version", FS_VERSION);
    fs_log_strn(&l, "python", version, strcspn(version, " "));
    fs_log_str(&l, "attach", fs_state.attach);
    fs_log_str(&l, "policy", fs_state.policy->from_file
                             ? fs_state.policy_path : NULL);
    fs_log_str(&l, "policy_digest", fs_state.policy->digest);
    fs_log_end(&l);
    fs_record_open(version);
    if (rc < 0 || !fs_state.policy->from_file) {
        fs_log_policy_problems(&errs, fs_state.policy_path);
    }
    fs_reload_arm(&errs);
    fs_policy_errors_free(&errs);
    fs_load_weak_list();
}

/* Policies replaced by a reload: freed only after FS_RETIRE_SECONDS, since
 * a check that read an app's settings may still hold them while a Python
 * call it made runs (the GIL lets another thread reload meanwhile). */
#define FS_RETIRE_SECONDS 300
struct fs_retired {
    struct fs_policy *p;
    time_t at;
};
static struct fs_retired *fs_retired;
static size_t fs_nretired, fs_capretired;

static void
fs_retire(struct fs_policy *old, time_t now)
{
    size_t i, kept = 0;

    for (i = 0; i < fs_nretired; i++) {
        if (now - fs_retired[i].at >= FS_RETIRE_SECONDS) {
            fs_policy_free(fs_retired[i].p);
        }
        else {
            fs_retired[kept++] = fs_retired[i];
        }
    }
    fs_nretired = kept;
    if (fs_nretired == fs_capretired) {
        size_t cap = fs_capretired ? fs_capretired * 2 : 8;
        struct fs_retired *r = realloc(fs_retired, cap * sizeof(*r));
        if (r == NULL) {
            return;             /* out of memory: leaked, never freed early */
        }
        fs_retired = r;
        fs_capretired = cap;
    }
    fs_retired[fs_nretired].p = old;
    fs_retired[fs_nretired].at = now;
    fs_nretired++;
}

void
fs_policy_replace(struct fs_policy *np, const char *path, time_t now)
{
    struct fs_policy *old = fs_state.policy;
    struct fs_weak_list *weak = fs_state.weak;
    bool changed = strcmp(old->digest, np->digest) != 0;
    struct fs_logline l;

    fs_state.policy = np;
    fs_state.policy_path = path;
    fs_state.generation++;
    fs_log_service(np->global.service);     /* old is freed in a while */
    fs_retire(old, now);
    fs_record_set_policy();
    if (!changed) {
        return;                 /* the same policy from other files */
    }
    fs_log_configure(np->log_target, np->log_file, np->log_format,
                     np->log_level);
    fs_state.weak = NULL;
    fs_weak_list_free(weak);    /* only read under the GIL, never held */
    fs_load_weak_list();
    fs_log_begin(&l, FS_INFO, "policy.reloaded", NULL, fs_global_mode());
    fs_log_str(&l, "policy", np->from_file ? path : NULL);
    fs_log_str(&l, "policy_digest", np->digest);
    fs_log_str(&l, "previous_digest", old->digest);
    fs_log_end(&l);
}
