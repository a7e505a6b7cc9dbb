/*
 * fs_policy_resolve.c -- which policy file a process uses.
 *
 * The rule, in order:
 *   1. FLASKSHIELD_POLICY unset or empty (or ignored by secure_getenv() in
 *      a setuid/setgid process): the system file FS_DEFAULT_POLICY_PATH.
 *      If it does not exist, the built-in defaults apply with no error
 *      (from_file = false); any other problem with it is an error and the
 *      built-in defaults apply.
 *   2. FLASKSHIELD_POLICY set: the system file is loaded first, if present.
 *      If it is valid and says allow_env_override = false, the variable is
 *      ignored and the system policy is in force.  If it exists but is
 *      rejected, the lock stays shut: the variable is ignored too, the
 *      system file's errors are reported with one more saying so, and the
 *      built-in strict defaults apply (a typo must not let an environment
 *      choose, say, a policy with mode = "off").  Only with no system file,
 *      or a valid one that allows overrides, is the file the variable
 *      names loaded, and a missing file is an error there.
 * *path_used points to the system path given, to the environment's string,
 * or to p->path: it stays valid while the environment and *out do.
 */
#include "fs_policy.h"

#include <stdlib.h>

#include "fs_diag.h"
#include "fs_policy_int.h"
#include "fs_build.h"


int
fs_policy_resolve_from(const char *system_path, struct fs_policy **out,
                       const char **path_used, struct fs_policy_errors *errs)
{
    const char *env = secure_getenv("FLASKSHIELD_POLICY");
    struct fs_policy *sys = NULL;
    struct fs_policy_errors sys_errs = {NULL, 0};
    bool missing = false;
    int rc;

    if (errs != NULL) {
        errs->msg = NULL;
        errs->count = 0;
    }
    if (path_used != NULL) {
        *path_used = system_path;
    }
    if (env == NULL || env[0] == '\0') {
        rc = fs_policy_load_file(system_path, out, &sys_errs, &missing);
        if (rc != 0 && missing) {
            /* No system file: the built-in defaults, silently. */
            fs_policy_errors_free(&sys_errs);
            return 0;
        }
        if (errs != NULL) {
            *errs = sys_errs;
        }
        else {
            fs_policy_errors_free(&sys_errs);
        }
        return rc;
    }
    rc = fs_policy_load_file(system_path, &sys, &sys_errs, &missing);
    if (rc != 0 && !missing) {
        struct fs_diag d = {NULL, 0, 0, false};
        size_t i;

        for (i = 0; i < sys_errs.count; i++) {
            fs_diag_add(&d, i, "%s", sys_errs.msg[i]);
        }
        fs_diag_add(&d, i, "%s:0: FLASKSHIELD_POLICY=%s is ignored: the system "
                    "policy is rejected, and only a valid one with "
                    "allow_env_override = true lets a process choose its "
                    "policy file", system_path, env);
        fs_policy_errors_free(&sys_errs);
        fs_diag_finish(&d, errs);
        *out = sys;
        return -1;
    }
    fs_policy_errors_free(&sys_errs);
    if (rc == 0 && !sys->allow_env_override) {
        *out = sys;
        return 0;
    }
    fs_policy_free(sys);
    if (path_used != NULL) {
        *path_used = env;
    }
    return fs_policy_load_file(env, out, errs, NULL);
}

int
fs_policy_resolve(struct fs_policy **out, const char **path_used,
                  struct fs_policy_errors *errs)
{
    return fs_policy_resolve_from(FS_DEFAULT_POLICY_PATH, out, path_used,
                                  errs);
}
