/*
 * fs_record.c -- the counter names and the checks a reader runs on a
 * record file (layout in fs_record.h), shared by the library that writes
 * records and the command that reads them.
 */
#include "fs_record.h"

#include <string.h>

const char *const fs_counter_names[FS_CNT_COUNT] = {
    [FS_CNT_REFUSED_BODY] = "body_too_large",
    [FS_CNT_REFUSED_SECRET_KEY] = "secret_key",
    [FS_CNT_FIX_DEBUG] = "debug",
    [FS_CNT_FIX_DEBUGGER] = "debugger",
    [FS_CNT_FIX_DEV_SERVER] = "dev_server",
    [FS_CNT_FIX_BODY_LIMIT] = "body_limit",
    [FS_CNT_FIX_PIN] = "pin",
};

static bool
fs_terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

#define FS_TERMINATED(field) fs_terminated((field), sizeof(field))

bool
fs_record_valid(const struct fs_record *r, size_t len)
{
    uint32_t i;

    if (len < sizeof(*r) || r->magic != FS_RECORD_MAGIC
        || r->version != FS_RECORD_VERSION || r->size != sizeof(*r)
        || r->napps == 0 || r->napps > FS_RECORD_APPS || r->pid <= 0
        || !FS_TERMINATED(r->python) || !FS_TERMINATED(r->command)
        || !FS_TERMINATED(r->policy) || !FS_TERMINATED(r->digest)
        || !FS_TERMINATED(r->mode)) {
        return false;
    }
    for (i = 0; i < r->napps; i++) {
        if (!FS_TERMINATED(r->app[i].name) || !FS_TERMINATED(r->app[i].mode)) {
            return false;
        }
    }
    return true;
}

void
fs_record_strcpy(char *dst, size_t size, const char *src)
{
    size_t n = src != NULL ? strnlen(src, size - 1) : 0;

    memcpy(dst, src != NULL ? src : "", n);
    memset(dst + n, 0, size - n);
}
