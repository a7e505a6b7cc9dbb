/*
 * fs_json_check.h -- a strict checker of one JSON object line, for the log
 * line tests (tests/unit/test_logline.c, tests/fuzz/fuzz_logline.c): the
 * whole buffer must be one JSON object followed by "\n", every string
 * valid UTF-8 (RFC 8259: no raw control character, escapes well-formed).
 */
#ifndef FS_JSON_CHECK_H
#define FS_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct fs_jc {
    const unsigned char *s;
    size_t n, i;
};

static bool fs_jc_value(struct fs_jc *j, int depth);

static void
fs_jc_ws(struct fs_jc *j)
{
    while (j->i < j->n && strchr(" \t\r", j->s[j->i]) != NULL
           && j->s[j->i] != '\0') {
        j->i++;
    }
}

static bool
fs_jc_lit(struct fs_jc *j, const char *w)
{
    size_t k = strlen(w);

    if (j->n - j->i < k || memcmp(j->s + j->i, w, k) != 0) {
        return false;
    }
    j->i += k;
    return true;
}

static bool
fs_jc_string(struct fs_jc *j)
{
    if (j->i >= j->n || j->s[j->i] != '"') {
        return false;
    }
    j->i++;
    while (j->i < j->n) {
        unsigned char c = j->s[j->i];
        size_t len = 0, k;
        unsigned long cp;

        if (c == '"') {
            j->i++;
            return true;
        }
        if (c < 0x20) {
            return false;
        }
        if (c == '\\') {
            if (j->i + 1 >= j->n) {
                return false;
            }
            c = j->s[j->i + 1];
            if (c == 'u') {
                if (j->n - j->i < 6) {
                    return false;
                }
                for (k = 2; k < 6; k++) {
                    if (strchr("0123456789abcdefABCDEF", j->s[j->i + k]) == NULL
                        || j->s[j->i + k] == '\0') {
                        return false;
                    }
                }
                j->i += 6;
                continue;
            }
            if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
                return false;
            }
            j->i += 2;
            continue;
        }
        if (c < 0x80) {
            j->i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2, cp = c & 0x1f;
        }
        else if (c >= 0xe0 && c <= 0xef) {
            len = 3, cp = c & 0x0f;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            len = 4, cp = c & 0x07;
        }
        else {
            return false;
        }
        if (j->n - j->i < len) {
            return false;
        }
        for (k = 1; k < len; k++) {
            if ((j->s[j->i + k] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (j->s[j->i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
            || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
            return false;
        }
        j->i += len;
    }
    return false;
}

static bool
fs_jc_number(struct fs_jc *j)
{
    size_t start;

    if (j->i < j->n && j->s[j->i] == '-') {
        j->i++;
    }
    start = j->i;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
        j->i++;
    }
    return j->i > start && !(j->s[start] == '0' && j->i - start > 1);
}

static bool
fs_jc_object(struct fs_jc *j, int depth)
{
    bool first = true;

    if (depth > 8 || !fs_jc_lit(j, "{")) {
        return false;
    }
    for (;;) {
        fs_jc_ws(j);
        if (fs_jc_lit(j, "}")) {
            return true;
        }
        if (!first && !fs_jc_lit(j, ",")) {
            return false;
        }
        fs_jc_ws(j);
        if (!fs_jc_string(j)) {
            return false;
        }
        fs_jc_ws(j);
        if (!fs_jc_lit(j, ":") || !fs_jc_value(j, depth + 1)) {
            return false;
        }
        first = false;
    }
}

static bool
fs_jc_value(struct fs_jc *j, int depth)
{
    fs_jc_ws(j);
    if (j->i >= j->n) {
        return false;
    }
    switch (j->s[j->i]) {
    case '"':
        return fs_jc_string(j);
    case '{':
        return fs_jc_object(j, depth);
    case 't':
        return fs_jc_lit(j, "true");
    case 'f':
        return fs_jc_lit(j, "false");
    case 'n':
        return fs_jc_lit(j, "null");
    default:
        return fs_jc_number(j);
    }
}

/* buf[0..n) is one JSON object and a newline, nothing else. */
static inline bool
fs_json_line_ok(const char *buf, size_t n)
{
    struct fs_jc j = {(const unsigned char *)buf, n, 0};

    return n > 0 && buf[n - 1] == '\n' && fs_jc_object(&j, 0)
           && j.i == n - 1;
}

#endif /* FS_JSON_CHECK_H */
