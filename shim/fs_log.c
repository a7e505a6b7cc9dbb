/*
 * fs_log.c -- writing the structured log lines declared in fs_log.h.
 *
 * No stdio: a line is assembled in a fixed buffer on the caller's stack and
 * handed to the kernel in one write(2) (O_APPEND for files), or to
 * syslog(3).  The line itself is assembled by fs_logline.c.  A target that
 * cannot be used falls back to stderr with one log.fallback line, said
 * again only after a target worked.
 */
#include "fs_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static enum fs_log_target fs_target = FS_LOG_STDERR;
static enum fs_log_format fs_format = FS_LOG_JSON;
static enum fs_level fs_min_level = FS_INFO;
static const char *fs_service;
static bool fs_fell_back;
static int fs_log_fd = 2;
static char fs_log_path[4096];      /* the file of fs_log_fd... */
static bool fs_log_to_file;         /* ... when it is one (any number: 2
                                     * too, in a process started with
                                     * stderr closed) */
static dev_t fs_log_dev;            /* the file opened there: a number */
static ino_t fs_log_ino;            /* the app closed and reused is not */
static char fs_hostname[256];
static pthread_once_t fs_hostname_once = PTHREAD_ONCE_INIT;

static void
fs_read_hostname(void)
{
    if (gethostname(fs_hostname, sizeof(fs_hostname) - 1) != 0) {
        fs_hostname[0] = '\0';
    }
}

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

/* Does a syslog daemon listen on /dev/log?  syslog(3) drops every line
 * silently when none does (the usual case in a container).  Datagram
 * first, then stream, as glibc's syslog(3) tries them.  false and *why
 * when neither connects. */
static bool
fs_syslog_reachable(const char **why)
{
    static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int err = 0;
    size_t i;

    strcpy(sa.sun_path, _PATH_LOG);
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
        int rc = fd >= 0 ? connect(fd, (struct sockaddr *)&sa, sizeof(sa))
                         : -1;

        err = errno;
        if (fd >= 0) {
            close(fd);
        }
        if (rc == 0) {
            return true;
        }
        if (err != EPROTOTYPE) {
            break;
        }
    }
    *why = strerror(err);
    return false;
}

/* Log to stderr instead, saying so once (`field` names `where`). */
static void
fs_log_fall_back(const char *field, const char *where, const char *why)
{
    struct fs_logline l;

    fs_target = FS_LOG_STDERR;
    if (fs_fell_back) {
        return;
    }
    fs_fell_back = true;
    fs_log_begin(&l, FS_WARN, "log.fallback", NULL, NULL);
    fs_log_str(&l, field, where);
    fs_log_str(&l, "reason", why);
    fs_log_str(&l, "effect", "logging to stderr");
    fs_log_end(&l);
}

void
fs_log_configure(enum fs_log_target target, const char *file,
                 enum fs_log_format format, enum fs_level level)
{
    const char *why = NULL;
    struct stat now, open_st;

    fs_target = target;
    fs_format = format;
    fs_min_level = level;
    if (target == FS_LOG_FILE && fs_log_to_file && stat(file, &now) == 0
        && fstat(fs_log_fd, &open_st) == 0 && now.st_dev == open_st.st_dev
        && now.st_ino == open_st.st_ino) {
        fs_fell_back = false;
        return;                 /* a reload naming the file already open */
    }
    /* A descriptor of another file is left open, never closed: a thread
     * writing a line meanwhile would write into whatever file reuses the
     * number.  One a change of log.file. */
    fs_log_fd = 2;
    fs_log_to_file = false;
    if (target == FS_LOG_FILE) {
        int fd = fs_log_open(file, &why);

        if (fd < 0) {
            fs_log_fall_back("file", file, why);
            return;
        }
        fs_log_fd = fd;
        fs_log_to_file = fstat(fd, &open_st) == 0;
        fs_log_dev = open_st.st_dev;
        fs_log_ino = open_st.st_ino;
        snprintf(fs_log_path, sizeof(fs_log_path), "%s", file);
    }
    else if (target == FS_LOG_SYSLOG) {
        if (!fs_syslog_reachable(&why)) {
            fs_log_fall_back("socket", _PATH_LOG, why);
            return;
        }
        openlog("flaskshield", LOG_PID | LOG_NDELAY, LOG_USER);
    }
    fs_fell_back = false;
}

void
fs_log_follow(void)
{
    struct stat now, open_st;
    const char *why;
    int fd;

    /* only while the number is still the file the library opened: one an
     * app closed (a daemon's close-all) and reused is never replaced */
    if (fs_target != FS_LOG_FILE || !fs_log_to_file
        || fstat(fs_log_fd, &open_st) != 0 || open_st.st_dev != fs_log_dev
        || open_st.st_ino != fs_log_ino
        || (stat(fs_log_path, &now) == 0 && now.st_dev == fs_log_dev
            && now.st_ino == fs_log_ino)) {
        return;
    }
    fd = fs_log_open(fs_log_path, &why);
    if (fd < 0 || fstat(fd, &now) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return;                 /* on where it was, until it can */
    }
    /* onto the number in use: a line another thread writes meanwhile goes
     * to one file or the other, never to a number reused for something
     * else (which closing it could give) */
    if (dup2(fd, fs_log_fd) >= 0) {
        fs_log_dev = now.st_dev;
        fs_log_ino = now.st_ino;
        fs_fell_back = false;   /* a target that works */
    }
    close(fd);
}

void
fs_log_service(const char *service)
{
    fs_service = service;
}

void
fs_log_begin(struct fs_logline *l, enum fs_level level, const char *event,
             const char *app, const char *mode)
{
    fs_log_begin_service(l, level, event, app, mode, fs_service);
}

void
fs_log_begin_service(struct fs_logline *l, enum fs_level level,
                     const char *event, const char *app, const char *mode,
                     const char *service)
{
    struct timespec ts;
    struct tm tm;
    char stamp[96];

    if (level < fs_min_level) {
        fs_logline_skip(l);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    fs_logline_begin(l, fs_format == FS_LOG_TEXT, level, stamp, event,
                     (long long)getpid(), app, mode);
    pthread_once(&fs_hostname_once, fs_read_hostname);
    fs_log_str(l, "host", fs_hostname);
    if (service != NULL && service[0] != '\0') {
        fs_log_str(l, "service", service);
    }
}

void
fs_log_end(struct fs_logline *l)
{
    static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
    size_t off = 0;
    int saved = errno;

    if (fs_logline_finish(l) == 0) {
        return;                 /* below the log level */
    }
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
