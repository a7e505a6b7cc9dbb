/*
 * fs_logline.c -- one log line in a fixed buffer (see fs_logline.h).
 *
 * Every field is written between a mark and a check: when any part of it
 * did not fit (`full`), the line goes back to the mark, so a line is cut
 * at a field boundary, never inside a field, and stays well-formed.  The
 * last 2 bytes of the buffer are kept for the closing "}\n".
 *
 * Strings are escaped for JSON (quote, backslash, control characters as
 * \u00XX) wherever they are quoted, and decoded as UTF-8 on the way: a
 * well-formed sequence (no overlong form, no surrogate, at most U+10FFFF)
 * is copied, any other byte is replaced by U+FFFD.  Policy paths, policy
 * strings and import names can hold any bytes; the line never does.  The
 * text format is logfmt: key=value pairs separated by one space, a value
 * bare when it needs no escape and no quotes (go-logfmt's and Python
 * logfmt parsers' rule), else quoted; JSON's escapes are the ones logfmt
 * parsers undo.
 */
#include "fs_logline.h"

#include <stdio.h>
#include <string.h>

const char *const fs_level_words[] = {"debug", "info", "warning", "error",
                                      NULL};

static void
put(struct fs_logline *l, const char *s, size_t n)
{
    if (l->full || n > sizeof(l->buf) - 2 - l->len) {
        l->full = true;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

size_t
fs_utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned long cp;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    }
    else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;
    }
    return len;
}

static void
put_escaped(struct fs_logline *l, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < n && !l->full) {
        unsigned char c = u[i];
        size_t k;

        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            put(l, esc, 2);
            i++;
        }
        else if (c < 0x20 || c == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(l, esc, 6);
            i++;
        }
        else if ((k = fs_utf8_len(u + i, n - i)) > 0) {
            put(l, s + i, k);
            i += k;
        }
        else {
            put(l, "\xef\xbf\xbd", 3);          /* U+FFFD */
            i++;
        }
    }
}

/* Must a logfmt value be quoted?  When it is empty or holds a byte that
 * ends a bare value or needs an escape. */
static bool
text_needs_quotes(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) {
            return true;
        }
    }
    return n == 0;
}

/* Start a field (separator, unless it is the first, and key); returns the
 * mark to roll back to. */
static size_t
field_begin(struct fs_logline *l, const char *key)
{
    size_t mark = l->len;

    if (l->text) {
        if (l->len > 0) {
            put(l, " ", 1);
        }
        put(l, key, strlen(key));
        put(l, "=", 1);
    }
    else {
        put(l, l->len > 1 ? ",\"" : "\"", l->len > 1 ? 2 : 1);
        put(l, key, strlen(key));
        put(l, "\":", 2);
    }
    return mark;
}

static void
field_end(struct fs_logline *l, size_t mark)
{
    if (l->full) {
        l->len = mark;          /* leave out a field that does not fit */
        l->full = false;
    }
}

void
fs_log_strn(struct fs_logline *l, const char *key, const char *value,
            size_t n)
{
    size_t mark;
    bool quote;

    if (l->skip || (value == NULL && l->text)) {
        return;
    }
    mark = field_begin(l, key);
    if (value == NULL) {
        put(l, "null", 4);
    }
    else {
        quote = !l->text || text_needs_quotes(value, n);
        if (quote) {
            put(l, "\"", 1);
        }
        put_escaped(l, value, n);
        if (quote) {
            put(l, "\"", 1);
        }
    }
    field_end(l, mark);
}

void
fs_log_str(struct fs_logline *l, const char *key, const char *value)
{
    fs_log_strn(l, key, value, value != NULL ? strlen(value) : 0);
}

void
fs_log_int(struct fs_logline *l, const char *key, long long value)
{
    char num[32];
    int n;
    size_t mark;

    if (l->skip) {
        return;
    }
    n = snprintf(num, sizeof(num), "%lld", value);
    mark = field_begin(l, key);
    put(l, num, (size_t)n);
    field_end(l, mark);
}

void
fs_log_bool(struct fs_logline *l, const char *key, int value)
{
    size_t mark;

    if (l->skip) {
        return;
    }
    mark = field_begin(l, key);
    put(l, value ? "true" : "false", value ? 4 : 5);
    field_end(l, mark);
}

void
fs_logline_begin(struct fs_logline *l, bool text, enum fs_level level,
                 const char *stamp, const char *event, long long pid,
                 const char *app, const char *mode)
{
    l->len = 0;
    l->full = false;
    l->skip = false;
    l->level = level;
    l->text = text;
    if (!text) {
        put(l, "{", 1);
    }
    fs_log_str(l, "ts", stamp);
    fs_log_str(l, "src", "flaskshield");
    fs_log_str(l, "level", fs_level_words[level]);
    fs_log_str(l, "event", event);
    fs_log_int(l, "pid", pid);
    fs_log_str(l, "app", app);
    fs_log_str(l, "mode", mode);
}

void
fs_logline_skip(struct fs_logline *l)
{
    l->len = 0;
    l->skip = true;
}

size_t
fs_logline_finish(struct fs_logline *l)
{
    if (l->skip) {
        return 0;
    }
    if (!l->text) {
        l->buf[l->len++] = '}';
    }
    l->buf[l->len++] = '\n';
    return l->len;
}
