/*
 * fs_log.c -- writing the structured log lines declared in fs_log.h.
 *
 * No stdio: a line is assembled in a fixed buffer on the caller's stack and
 * handed to the kernel in one write(2) (O_APPEND for files), or to
 * syslog(3).  Strings are escaped for JSON (control characters, quotes,
 * backslash; bytes >= 0x80 pass through, invalid UTF-8 becomes U+FFFD).
 */
#include "fs_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static enum fs_log_target fs_target = FS_LOG_STDERR;
static enum fs_log_format fs_format = FS_LOG_JSON;
static int fs_log_fd = 2;

static const char *const fs_level_names[] = {"debug", "info", "warning",
                                             "error"};

void
fs_log_configure(enum fs_log_target target, const char *file,
                 enum fs_log_format format)
{
    fs_target = target;
    fs_format = format;
    fs_log_fd = 2;
    if (target == FS_LOG_FILE) {
        int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd >= 0) {
            fs_log_fd = fd;
        }
        else {
            fs_target = FS_LOG_STDERR;   /* say it where it can be seen */
        }
    }
    else if (target == FS_LOG_SYSLOG) {
        openlog("flaskshield", LOG_PID | LOG_NDELAY, LOG_USER);
    }
}

/* Append raw bytes; the last 2 bytes of buf stay free for "}\n". */
static void
put(struct fs_logline *l, const char *s, size_t n)
{
    if (l->len + n > sizeof(l->buf) - 2) {
        n = sizeof(l->buf) - 2 - l->len;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void
put_escaped(struct fs_logline *l, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        }
        else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            put(l, esc, 6);
        }
        else {
            put(l, (const char *)&c, 1);
        }
    }
}

/* Start a field: separator and key. */
static void
put_key(struct fs_logline *l, const char *key)
{
    if (l->text) {
        put(l, " ", 1);
        put(l, key, strlen(key));
        put(l, "=", 1);
    }
    else {
        put(l, ",\"", 2);
        put(l, key, strlen(key));
        put(l, "\":", 2);
    }
}

void
fs_log_strn(struct fs_logline *l, const char *key, const char *value,
            size_t n)
{
    size_t mark = l->len;

    put_key(l, key);
    if (value == NULL) {
        put(l, l->text ? "-" : "null", l->text ? 1 : 4);
    }
    else {
        put(l, "\"", 1);
        put_escaped(l, value, n);
        put(l, "\"", 1);
    }
    if (l->len >= sizeof(l->buf) - 2) {
        l->len = mark;          /* drop a field that does not fit whole */
    }
}

void
fs_log_str(struct fs_logline *l, const char *key, const char *value)
{
    fs_log_strn(l, key, value, value ? strlen(value) : 0);
}

void
fs_log_int(struct fs_logline *l, const char *key, long long value)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%lld", value);

    put_key(l, key);
    put(l, num, (size_t)n);
}

void
fs_log_bool(struct fs_logline *l, const char *key, int value)
{
    put_key(l, key);
    put(l, value ? "true" : "false", value ? 4 : 5);
}

void
fs_log_begin(struct fs_logline *l, enum fs_level level, const char *event,
             const char *app, const char *mode)
{
    struct timespec ts;
    struct tm tm;
    char stamp[96];

    l->len = 0;
    l->level = level;
    l->text = fs_format == FS_LOG_TEXT;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    if (l->text) {
        put(l, "flaskshield: ", 13);
        put(l, fs_level_names[level], strlen(fs_level_names[level]));
        put(l, " ", 1);
        put(l, event, strlen(event));
        fs_log_int(l, "pid", (long long)getpid());
    }
    else {
        put(l, "{\"ts\":\"", 7);
        put(l, stamp, strlen(stamp));
        put(l, "\",\"src\":\"flaskshield\"", 21);
        fs_log_str(l, "level", fs_level_names[level]);
        fs_log_str(l, "event", event);
        fs_log_int(l, "pid", (long long)getpid());
    }
    fs_log_str(l, "app", app);
    fs_log_str(l, "mode", mode);
}

void
fs_log_end(struct fs_logline *l)
{
    static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
    size_t off = 0;
    int saved = errno;

    if (!l->text) {
        l->buf[l->len++] = '}';
    }
    if (fs_target == FS_LOG_SYSLOG) {
        syslog(prio[l->level], "%.*s", (int)l->len, l->buf);
        errno = saved;
        return;
    }
    l->buf[l->len++] = '\n';
    while (off < l->len) {
        ssize_t w = write(fs_log_fd, l->buf + off, l->len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    errno = saved;
}
