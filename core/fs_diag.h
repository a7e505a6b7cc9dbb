/*
 * fs_diag.h -- collecting the problems found in one policy.
 *
 * Every check adds one finished "FILE:LINE: message" string together with a
 * sort key (the line of the expanded policy text it concerns), so that the
 * list handed to the caller is in file order even though the include
 * expansion, libconfig and the schema walk find problems in separate passes.
 * Allocation failures are remembered and reported as one final message;
 * nothing is ever printed.
 */
#ifndef FS_DIAG_H
#define FS_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "fs_policy.h"

struct fs_diag_item {
    size_t key;
    size_t seq;
    char *msg;
};

struct fs_diag {
    struct fs_diag_item *items;
    size_t count;
    size_t cap;
    bool oom;
};

void fs_diag_add(struct fs_diag *d, size_t key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sort by key (stable), move the messages into errs (which may be NULL:
 * they are then freed) and empty d.  Returns the number of messages. */
size_t fs_diag_finish(struct fs_diag *d, struct fs_policy_errors *errs);

/* True when anything was added (or an allocation failed). */
bool fs_diag_failed(const struct fs_diag *d);

void fs_diag_clear(struct fs_diag *d);

/* Move every message of from into to, their keys raised by offset (to put
 * the problems of several files in file order); from is left empty. */
void fs_diag_move(struct fs_diag *to, struct fs_diag *from, size_t offset);

#endif /* FS_DIAG_H */
