/*
 * cli_spawn.c -- running a program under the library, for the sanity
 * checks of enable and doctor.
 *
 * fs_cmd_spawn() runs a program with the library preloaded (every other
 * LD_PRELOAD entry kept, any other libflaskshield.so dropped), its output
 * captured and its run time bounded, so the sanity checks of `enable` and
 * `doctor` see exactly what the library does to that program.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define FS_CHILD_MAX_OUTPUT (1024 * 1024)

/* LD_PRELOAD for a check of lib: the current entries minus every
 * libflaskshield.so, then lib.  Heap string or NULL. */
static char *
fs_cmd_preload_value(const char *lib)
{
    const char *old = getenv("LD_PRELOAD"), *p;
    size_t cap = strlen(lib) + 1 + (old ? strlen(old) + 1 : 0);
    char *out = malloc(cap), *w;

    if (out == NULL) {
        return NULL;
    }
    w = out;
    for (p = old; p != NULL && *p; ) {
        size_t n;
        p += strspn(p, ": \t");
        n = strcspn(p, ": \t");
        if (n > 0 && !fs_cmd_is_library_entry(p, n)) {
            memcpy(w, p, n);
            w += n;
            *w++ = ':';
        }
        p += n;
    }
    strcpy(w, lib);
    return out;
}

static double
fs_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Append what fd has to *buf; 0 at EOF, 1 if more may come, -1 on error. */
static int
fs_drain(int fd, char **buf, size_t *len)
{
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    char *grown;

    if (n < 0) {
        return errno == EINTR || errno == EAGAIN ? 1 : -1;
    }
    if (n == 0) {
        return 0;
    }
    if (*len + (size_t)n > FS_CHILD_MAX_OUTPUT) {
        return 1;               /* keep reading, drop the excess */
    }
    grown = realloc(*buf, *len + (size_t)n + 1);
    if (grown == NULL) {
        return -1;
    }
    memcpy(grown + *len, chunk, (size_t)n);
    *len += (size_t)n;
    grown[*len] = '\0';
    *buf = grown;
    return 1;
}

int
fs_cmd_spawn(char *const argv[], const char *lib, const char *cwd,
             int timeout, struct fs_child *res)
{
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    char *preload = NULL;
    double deadline;
    bool open_out = true, open_err = true;
    pid_t pid;
    int st;

    memset(res, 0, sizeof(*res));
    res->out = calloc(1, 1);
    res->err = calloc(1, 1);
    if (res->out == NULL || res->err == NULL) {
        goto error;
    }
    if (lib != NULL && (preload = fs_cmd_preload_value(lib)) == NULL) {
        goto error;
    }
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        goto error;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        goto error;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        setpgid(0, 0);
        if (devnull >= 0) {
            dup2(devnull, 0);
        }
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (preload != NULL) {
            setenv("LD_PRELOAD", preload, 1);
        }
        if (cwd != NULL && chdir(cwd) != 0) {
            fprintf(stderr, "cannot enter %s: %s\n", cwd, strerror(errno));
            _exit(126);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    free(preload);
    preload = NULL;
    close(out[1]);
    close(err[1]);
    deadline = fs_now() + timeout;
    while (open_out || open_err) {
        struct pollfd fds[2];
        nfds_t nfds = 0;
        double left = deadline - fs_now();
        int i;

        if (left <= 0) {
            res->timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            break;
        }
        if (open_out) {
            fds[nfds++] = (struct pollfd){.fd = out[0], .events = POLLIN};
        }
        if (open_err) {
            fds[nfds++] = (struct pollfd){.fd = err[0], .events = POLLIN};
        }
        if (poll(fds, nfds, (int)(left * 1000) + 1) < 0 && errno != EINTR) {
            break;
        }
        for (i = 0; i < (int)nfds; i++) {
            int r;
            if (fds[i].revents == 0) {
                continue;
            }
            if (fds[i].fd == out[0]) {
                r = fs_drain(out[0], &res->out, &res->out_len);
                open_out = r > 0;
            }
            else {
                r = fs_drain(err[0], &res->err, &res->err_len);
                open_err = r > 0;
            }
        }
    }
    close(out[0]);
    close(err[0]);
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            st = 0xff00;
            break;
        }
    }
    kill(-pid, SIGKILL);        /* stray grandchildren */
    if (WIFEXITED(st)) {
        res->status = WEXITSTATUS(st);
    }
    else {
        res->status = -1;
        res->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    }
    return 0;

error:
    fprintf(stderr, "flaskshield: cannot run %s: %s\n", argv[0],
            strerror(errno));
    free(preload);
    if (out[0] >= 0) {
        close(out[0]);
        close(out[1]);
    }
    if (err[0] >= 0) {
        close(err[0]);
        close(err[1]);
    }
    fs_child_free(res);
    return -1;
}

void
fs_child_free(struct fs_child *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
    res->out_len = res->err_len = 0;
}

void
fs_child_print_stderr(FILE *f, const struct fs_child *res, const char *indent)
{
    const char *p = res->err;

    while (p != NULL && *p) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "%s%.*s\n", indent, (int)n, p);
        p += n;
        p += *p == '\n';
    }
}

char *
fs_cmd_find_program(const char *name)
{
    const char *path = getenv("PATH"), *p;
    char *out;

    if (strchr(name, '/') != NULL) {
        return access(name, X_OK) == 0 ? strdup(name) : NULL;
    }
    if (path == NULL || *path == '\0') {
        path = "/usr/local/bin:/usr/bin:/bin";
    }
    for (p = path; ; ) {
        size_t n = strcspn(p, ":");
        struct stat st;
        if (asprintf(&out, "%.*s/%s", (int)(n ? n : 1), n ? p : ".",
                     name) < 0) {
            return NULL;
        }
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)
            && access(out, X_OK) == 0) {
            return out;
        }
        free(out);
        if (p[n] == '\0') {
            return NULL;
        }
        p += n + 1;
    }
}
