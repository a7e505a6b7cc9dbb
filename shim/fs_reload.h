/*
 * fs_reload.h -- following the policy files while the process serves (see
 * fs_reload.c).
 */
#ifndef FS_RELOAD_H
#define FS_RELOAD_H

#include "fs_policy.h"

/* After the first read of the policy (errs: what that read found; any
 * error means the built-in defaults are in force): remember the state of
 * its files, so that the request path notices a change. */
void fs_reload_arm(const struct fs_policy_errors *errs);

/* On the request path, under the GIL: at most one coarse clock read; once
 * every reload_interval seconds one stat() of each policy file; when one
 * changed, the policy read again and, if valid, put in force. */
void fs_reload_tick(void);

#endif /* FS_RELOAD_H */
