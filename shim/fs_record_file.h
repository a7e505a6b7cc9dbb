/*
 * fs_record_file.h -- this process's record (core/fs_record.h): made at
 * activation, kept in the runtime directory, renewed in a fork() child,
 * removed at exit.
 *
 * fs_record points at the record once the process has activated: mapped
 * from RUNTIME_DIR/PID.rec when the folder can be had, else private memory
 * (counters and the summary lines still work; `flaskshield ps` does not
 * list the process, and one `runtime.unavailable` line says why).  Written
 * under the GIL.
 */
#ifndef FS_RECORD_FILE_H
#define FS_RECORD_FILE_H

#include <stdbool.h>

#include "fs_record.h"

extern struct fs_record *fs_record;

/* Set in a fork() child: the record is the parent's until renewed. */
extern volatile bool fs_record_forked;

/* Make the record (at activation; idempotent); python: Py_GetVersion(). */
void fs_record_open(const char *python);

/* A fork() child's own record: a copy of the parent's apps, counters at
 * zero, its own file.  Called before the first use in the child. */
void fs_record_renew(void);

/* The record to write: in a fork() child, its own (renewed on first
 * use), never the parent's.  NULL before activation. */
static inline struct fs_record *
fs_record_own(void)
{
    if (fs_record_forked) {
        fs_record_renew();
    }
    return fs_record;
}

/* The header's policy path, digest and mode, from fs_state (after a
 * reload). */
void fs_record_set_policy(void);

/* The slot of an app (made on first use; its mode updated), or 0 -- the
 * process's own -- when the record is full or missing. */
int fs_record_app(const char *name, const char *mode);

/* Remove the file (at exit, in the process that made it). */
void fs_record_close(void);

#endif /* FS_RECORD_FILE_H */
