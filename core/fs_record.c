/*
 * fs_record.c -- the counter names and the checks a reader runs on a
 * record file (layout in fs_record.h), shared by the library that writes
 * records and the command that reads them.
 */
#include "fs_record.h"

#include <string.h>

#include "fs_logline.h"

const char *const fs_counter_names[FS_CNT_COUNT] = {
    [FS_CNT_REFUSED_BODY] = "body_too_large",
    [FS_CNT_REFUSED_SECRET_KEY] = "secret_key",
    [FS_CNT_FIX_DEBUG] = "debug",
    [FS_CNT_FIX_DEBUGGER] = "debugger",
    [FS_CNT_FIX_DEV_SERVER] = "dev_server",
    [FS_CNT_FIX_BODY_LIMIT] = "body_limit",
    [FS_CNT_FIX_PIN] = "pin",
    [FS_CNT_FIX_HEADER] = "header",
};

/* NUL-terminated within its field, UTF-8 and free of control characters
 * (a reader prints it as a table, a JSON string or a Prometheus label:
 * names that differ must print differently, and no name may move the
 * terminal or start a line of its own). */
static bool
fs_terminated(const char *s, size_t size)
{
    const unsigned char *u = (const unsigned char *)s;
    const char *end = memchr(s, '\0', size);
    size_t i = 0, n, k;

    if (end == NULL) {
        return false;
    }
    n = (size_t)(end - s);
    while (i < n) {
        k = fs_utf8_len(u + i, n - i);
        if (k == 0 || u[i] < 0x20 || u[i] == 0x7f) {
            return false;
        }
        i += k;
    }
    return true;
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
    const unsigned char *u = (const unsigned char *)(src != NULL ? src : "");
    size_t i = 0, o = 0, k;

    while (u[i] != '\0') {
        k = fs_utf8_len(u + i, strnlen((const char *)u + i, 4));
        if (k == 0 || u[i] < 0x20 || u[i] == 0x7f) {
            if (o + 1 > size - 1) {
                break;
            }
            dst[o++] = '?';
            i++;
            continue;
        }
        if (o + k > size - 1) {
            break;              /* a character that does not fit whole */
        }
        memcpy(dst + o, u + i, k);
        o += k;
        i += k;
    }
    memset(dst + o, 0, size - o);
}
