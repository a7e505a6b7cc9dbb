/*
 * fuzz_logline.c -- libFuzzer target for log lines (core/fs_logline.c).
 *
 * The input drives a line: its first byte picks the format and the number
 * of fields, the rest is split at NUL bytes into the app name and string
 * values of any bytes and lengths, with int and bool fields in between.
 * Every JSON line must be one valid JSON object of valid UTF-8 ending in a
 * newline, within the buffer (tests/unit/fs_json_check.h); a text line one
 * line of valid UTF-8 starting with its logfmt timestamp.  With bit 4 of
 * the first byte the line is skipped (below the log level): no line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fs_json_check.h"
#include "fs_logline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fs_logline l;
    const char *p, *end;
    char *copy;
    size_t n, i;
    bool text;

    if (size < 1) {
        return 0;
    }
    text = data[0] & 1;
    copy = malloc(size);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';
    p = copy;
    end = copy + size - 1;
    if (data[0] & 16) {
        fs_logline_skip(&l);
    }
    else {
        fs_logline_begin(&l, text, (enum fs_level)((data[0] >> 1) & 3), "ts",
                         "event", (long long)size, p,
                         (data[0] & 8) ? NULL : "m");
    }
    p += strlen(p) + (p < end);
    for (i = 0; p < end && i < 64; i++) {
        size_t len = strnlen(p, (size_t)(end - p));
        switch (i % 4) {
        case 0:
            fs_log_strn(&l, "s", p, len);
            break;
        case 1:
            fs_log_int(&l, "n", (long long)len * (long long)0x7fffffffffff);
            break;
        case 2:
            fs_log_bool(&l, "b", (int)(len & 1));
            break;
        default:
            fs_log_str(&l, "k", p);
        }
        p += len + 1;
    }
    n = fs_logline_finish(&l);
    if (data[0] & 16) {
        if (n != 0) {
            abort();
        }
        free(copy);
        return 0;
    }
    if (n > sizeof(l.buf) || l.buf[n - 1] != '\n'
        || memchr(l.buf, '\n', n - 1) != NULL) {
        abort();
    }
    if (!text && !fs_json_line_ok(l.buf, n)) {
        abort();
    }
    if (text && strncmp(l.buf, "ts=ts src=flaskshield ", 22) != 0) {
        abort();
    }
    if (text) {
        /* valid UTF-8: wrap it as a JSON string's content check */
        char *wrapped = malloc(n + 8);
        if (wrapped != NULL) {
            size_t k, m = 0;
            memcpy(wrapped, "{\"t\":\"", 6);
            m = 6;
            for (k = 0; k + 1 < n; k++) {
                char c = l.buf[k];
                wrapped[m++] = (c == '"' || c == '\\') ? '_' : c;
            }
            memcpy(wrapped + m, "\"}\n", 3);
            if (!fs_json_line_ok(wrapped, m + 3)) {
                abort();
            }
            free(wrapped);
        }
    }
    free(copy);
    return 0;
}
