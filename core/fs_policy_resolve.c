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
 * The system policy is the operator's: each of its files (the policy, its
 * includes, its drop-ins, symlinks followed) must be owned by root, and its
 * folder and drop-in folder must not be writable by anyone but root
 * (sshd's StrictModes, which a read-only mount such as a Kubernetes
 * ConfigMap passes), else it is rejected.  A process user that could
 * rewrite it could otherwise weaken the policy of a running process.
 * *path_used points to the system path given, to the environment's string,
 * or to p->path: it stays valid while the environment and *out do.
 */
#include "fs_policy.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "fs_diag.h"
#include "fs_dropin.h"
#include "fs_policy_int.h"
#include "fs_build.h"


/* A folder of the system policy that someone other than root may change:
 * the reason, or NULL. */
static const char *
fs_folder_unsafe(const char *dir)
{
    struct stat st;
    struct statvfs vfs;

    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return NULL;            /* no folder: nothing in it is read */
    }
    if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
        return NULL;            /* a read-only mount: nobody writes it */
    }
    if (st.st_uid != 0) {
        return "is not owned by root";
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
        return "is writable by group or others";
    }
    return NULL;
}

/* The ownership rules of the system policy (see above), on what p was read
 * from; problems go to d. */
static void
fs_system_owned(const char *system_path, const struct fs_policy *p,
                struct fs_diag *d)
{
    char folder[4096];
    char *dropins = fs_dropin_dir(system_path);
    const char *why;
    struct stat st;
    size_t i;

    snprintf(folder, sizeof(folder), "%s", system_path);
    if ((why = fs_folder_unsafe(dirname(folder))) != NULL) {
        fs_diag_add(d, 0, "%s:0: its folder %s %s; the system policy's "
                    "folders must be root's alone", system_path, folder, why);
    }
    if (dropins != NULL && (why = fs_folder_unsafe(dropins)) != NULL) {
        fs_diag_add(d, 0, "%s:0: %s; the system policy's folders must be "
                    "root's alone", dropins, why);
    }
    free(dropins);
    for (i = 0; i < p->nsources; i++) {
        if (stat(p->sources[i], &st) == 0 && S_ISREG(st.st_mode)
            && st.st_uid != 0) {
            fs_diag_add(d, 0, "%s:0: is owned by uid %lu; the system "
                        "policy's files must be root's", p->sources[i],
                        (unsigned long)st.st_uid);
        }
    }
}

/* fs_policy_load_file() of `file`, the system policy or one of its
 * drop-ins, with the system policy's ownership rules. */
static int
fs_load_owned(const char *system_path, const char *file,
              struct fs_policy **out, struct fs_policy_errors *errs,
              bool *missing)
{
    struct fs_diag d = {NULL, 0, 0, false};
    int rc = fs_policy_load_file(file, out, errs, missing);

    if (rc != 0 || *out == NULL) {
        return rc;
    }
    fs_system_owned(system_path, *out, &d);
    if (!fs_diag_failed(&d)) {
        return 0;
    }
    fs_policy_errors_free(errs);
    fs_diag_finish(&d, errs);
    fs_policy_free(*out);
    *out = fs_policy_defaults();
    return -1;
}

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
        rc = fs_load_owned(system_path, system_path, out, &sys_errs,
                           &missing);
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
    rc = fs_load_owned(system_path, system_path, &sys, &sys_errs,
                       &missing);
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

/* Is `path` the file, or a file in the folder, `ref` names (by device
 * and inode)? */
static bool
fs_same_file(const char *path, const char *ref, bool in_folder)
{
    char buf[4096];
    struct stat a, b;

    snprintf(buf, sizeof(buf), "%s", path);
    return ref != NULL && stat(in_folder ? dirname(buf) : buf, &a) == 0
           && stat(ref, &b) == 0 && a.st_dev == b.st_dev
           && a.st_ino == b.st_ino;
}

int
fs_policy_load_named(const char *path, struct fs_policy **out,
                     struct fs_policy_errors *errs)
{
    char *dropins = fs_dropin_dir(FS_DEFAULT_POLICY_PATH);
    bool missing = false, owned;

    owned = fs_same_file(path, FS_DEFAULT_POLICY_PATH, false)
            || fs_same_file(path, dropins, true);
    free(dropins);
    if (owned) {
        return fs_load_owned(FS_DEFAULT_POLICY_PATH, path, out, errs,
                             &missing);
    }
    return fs_policy_load(path, out, errs);
}

int
fs_policy_resolve(struct fs_policy **out, const char **path_used,
                  struct fs_policy_errors *errs)
{
    return fs_policy_resolve_from(FS_DEFAULT_POLICY_PATH, out, path_used,
                                  errs);
}
