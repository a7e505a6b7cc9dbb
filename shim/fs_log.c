/*
 * fs_log.c -- writing the structured log lines declared in fs_log.h.
 *
 * No stdio: a line is assembled in a fixed buffer on the caller's stack and
 * handed to the kernel in one write(2) (O_APPEND for files), or to
 * syslog(3).  The line itself is assembled by fs_logline.c.
 */
#include "fs_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static enum fs_log_target fs_target = FS_LOG_STDERR;
static enum fs_log_format fs_format = FS_LOG_JSON;
static int fs_log_fd = 2;

/* Open the log file for appending: a regular file only.  O_NONBLOCK, so
 * that a FIFO without a reader fails at once (ENXIO) instead of blocking
 * the process in open(); fstat() refuses every other kind.  -1 and *why
 * on failure. */
static int
fs_log_open(const char *file, const char **why)
{
    struct stat st;
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC
                        | O_NOCTTY | O_NONBLOCK, 0640);

    if (fd < 0) {
        *why = errno == ENXIO ? "not a regular file" : strerror(errno);
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *why = "not a regular file";
        return -1;
    }
    fcntl(fd, F_SETFL, O_APPEND);           /* blocking writes, as before */
    return fd;
}

void
fs_log_configure(enum fs_log_target target, const char *file,
                 enum fs_log_format format)
{
    fs_target = target;
    fs_format = format;
    fs_log_fd = 2;
    if (target == FS_LOG_FILE) {
        const char *why = NULL;
        int fd = fs_log_open(file, &why);

        if (fd >= 0) {
            fs_log_fd = fd;
        }
        else {
            struct fs_logline l;

            fs_target = FS_LOG_STDERR;   /* say it where it can be seen */
            fs_log_begin(&l, FS_WARN, "log.fallback", NULL, NULL);
            fs_log_str(&l, "file", file);
            fs_log_str(&l, "reason", why);
            fs_log_str(&l, "effect", "logging to stderr");
            fs_log_end(&l);
        }
    }
    else if (target == FS_LOG_SYSLOG) {
        openlog("flaskshield", LOG_PID | LOG_NDELAY, LOG_USER);
    }
}

void
fs_log_begin(struct fs_logline *l, enum fs_level level, const char *event,
             const char *app, const char *mode)
{
    struct timespec ts;
    struct tm tm;
    char stamp[96];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    fs_logline_begin(l, fs_format == FS_LOG_TEXT, level, stamp, event,
                     (long long)getpid(), app, mode);
}

void
fs_log_end(struct fs_logline *l)
{
    static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
    size_t off = 0;
    int saved = errno;

    fs_logline_finish(l);
    if (fs_target == FS_LOG_SYSLOG) {
        syslog(prio[l->level], "%.*s", (int)l->len - 1, l->buf);
        errno = saved;
        return;
    }
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
