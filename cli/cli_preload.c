/*
 * cli_preload.c -- the preload file (/etc/ld.so.preload) as enable,
 * disable and status see it.
 *
 * The preload file is FILE of --preload-file, else $FLASKSHIELD_PRELOAD_FILE,
 * else /etc/ld.so.preload.  "Our line" is a line that, trimmed, is exactly
 * the library's path (fs_cmd_library(), made absolute).  Every other line is
 * kept as it is, byte for byte.  The file is replaced atomically (a
 * temporary file in the same folder, fsync, rename), mode 0644 for a new
 * file, else the old file's mode and owner.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fs_build.h"

#define FS_PRELOAD_MAX (1024 * 1024)

void
fs_preload_help(FILE *f)
{
    fprintf(f, "FILE: --preload-file, else $FLASKSHIELD_PRELOAD_FILE, else "
               "%s.\n", FS_PRELOAD_DEFAULT);
}

int
fs_preload_args(int argc, char **argv, struct fs_preload_opts *o,
                void (*help)(FILE *f), int *rc)
{
    const char *cmd = argv[0];
    bool enable = strcmp(cmd, "enable") == 0;
    int i;

    o->preload_file = NULL;
    o->python = NULL;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help(stdout);
            *rc = FS_EXIT_OK;
            return -1;
        }
        if (strcmp(a, "--preload-file") == 0 && i + 1 < argc) {
            o->preload_file = argv[++i];
        }
        else if (strncmp(a, "--preload-file=", 15) == 0) {
            o->preload_file = a + 15;
        }
        else if (enable && strcmp(a, "--python") == 0 && i + 1 < argc) {
            o->python = argv[++i];
        }
        else if (enable && strncmp(a, "--python=", 9) == 0) {
            o->python = a + 9;
        }
        else if (strcmp(a, "--preload-file") == 0
                 || (enable && strcmp(a, "--python") == 0)) {
            *rc = fs_cmd_usage_error(cmd, "%s needs a value", a);
            return -1;
        }
        else {
            *rc = fs_cmd_usage_error(cmd, "unexpected argument '%s'", a);
            return -1;
        }
    }
    if (o->preload_file == NULL) {
        const char *env = getenv("FLASKSHIELD_PRELOAD_FILE");
        o->preload_file = env != NULL && env[0] != '\0' ? env
                                                         : FS_PRELOAD_DEFAULT;
    }
    if (o->preload_file[0] == '\0') {
        *rc = fs_cmd_usage_error(cmd, "empty preload file name");
        return -1;
    }
    return 0;
}

char *
fs_preload_library(const char *cmd, bool quiet)
{
    const char *lib = fs_cmd_library(quiet ? NULL : cmd);
    char *abs;

    if (lib == NULL) {
        return quiet ? strdup(FS_LIBDIR "/" FS_LIBNAME) : NULL;
    }
    abs = realpath(lib, NULL);
    if (abs == NULL) {
        abs = strdup(lib);
    }
    return abs;
}

int
fs_preload_read(const char *cmd, const char *file, struct fs_preload *pf)
{
    struct stat lst;
    FILE *f;
    size_t cap;

    memset(pf, 0, sizeof(*pf));
    snprintf(pf->path, sizeof(pf->path), "%s", file);
    /* Replace a symlink's target, not the symlink. */
    if (lstat(file, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        char real[PATH_MAX];
        if (realpath(file, real) != NULL) {
            snprintf(pf->path, sizeof(pf->path), "%s", real);
        }
    }
    f = fopen(pf->path, "re");
    if (f == NULL) {
        if (errno == ENOENT) {
            pf->data = calloc(1, 1);
            return pf->data != NULL ? 0 : -1;
        }
        fprintf(stderr, "flaskshield %s: %s: %s\n", cmd, pf->path,
                strerror(errno));
        return -1;
    }
    pf->exists = true;
    if (fstat(fileno(f), &pf->st) != 0 || !S_ISREG(pf->st.st_mode)) {
        fprintf(stderr, "flaskshield %s: %s: not a regular file\n", cmd,
                pf->path);
        fclose(f);
        return -1;
    }
    cap = (size_t)pf->st.st_size + 1;
    if (cap > FS_PRELOAD_MAX) {
        fprintf(stderr, "flaskshield %s: %s: larger than %d bytes\n", cmd,
                pf->path, FS_PRELOAD_MAX);
        fclose(f);
        return -1;
    }
    pf->data = malloc(cap);
    if (pf->data == NULL) {
        fclose(f);
        return -1;
    }
    pf->len = fread(pf->data, 1, cap - 1, f);
    pf->data[pf->len] = '\0';
    if (ferror(f)) {
        fprintf(stderr, "flaskshield %s: %s: read error\n", cmd, pf->path);
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

enum fs_line_kind
fs_preload_line_kind(const char *line, size_t n, const char *lib)
{
    size_t liblen = strlen(lib), b = 0, e = n, i;
    enum fs_line_kind kind = FS_LINE_OTHER;

    while (b < e && strchr(" \t\r", line[b]) != NULL) {
        b++;
    }
    while (e > b && strchr(" \t\r", line[e - 1]) != NULL) {
        e--;
    }
    if (e - b == liblen && memcmp(line + b, lib, liblen) == 0) {
        return FS_LINE_OURS;
    }
    /* The entries ld.so sees: separated by white space or ':', a '#'
     * starts a comment. */
    for (i = b; i < e && line[i] != '#'; ) {
        size_t t = i;
        while (t < e && strchr(" \t\r:#", line[t]) == NULL) {
            t++;
        }
        if (t > i) {
            if (t - i == liblen && memcmp(line + i, lib, liblen) == 0) {
                kind = FS_LINE_MIXED;
            }
            else if (fs_cmd_is_library_entry(line + i, t - i)) {
                if (kind != FS_LINE_MIXED) {
                    kind = FS_LINE_COPY;
                }
            }
        }
        i = t;
        while (i < e && strchr(" \t\r:", line[i]) != NULL) {
            i++;
        }
    }
    return kind;
}

int
fs_preload_write(const char *cmd, const struct fs_preload *pf,
                 const char *data, size_t len)
{
    char tmp[PATH_MAX + 32], dir[PATH_MAX];
    mode_t mode = pf->exists ? (pf->st.st_mode & 07777) : 0644;
    size_t off = 0;
    int fd, dfd;

    if (snprintf(tmp, sizeof(tmp), "%s.flaskshield-XXXXXX", pf->path)
        >= (int)sizeof(tmp)) {
        fprintf(stderr, "flaskshield %s: %s: name too long\n", cmd,
                pf->path);
        return -1;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "flaskshield %s: cannot create a file beside %s: %s\n",
                cmd, pf->path, strerror(errno));
        return -1;
    }
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            goto error;
        }
        off += (size_t)n;
    }
    if (fchmod(fd, mode) != 0) {
        goto error;
    }
    if (pf->exists && (pf->st.st_uid != geteuid() || pf->st.st_gid
                       != getegid())) {
        if (fchown(fd, pf->st.st_uid, pf->st.st_gid) != 0
            && errno != EPERM) {
            goto error;
        }
    }
    if (fsync(fd) != 0) {
        goto error;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto error;
    }
    fd = -1;
    if (rename(tmp, pf->path) != 0) {
        goto error;
    }
    snprintf(dir, sizeof(dir), "%s", pf->path);
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;

error:
    fprintf(stderr, "flaskshield %s: cannot write %s: %s\n", cmd, pf->path,
            strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    return -1;
}

void
fs_preload_scan(const struct fs_preload *pf, const char *lib,
                struct fs_scan *sc)
{
    const char *p = pf->data;
    size_t lineno = 0;

    memset(sc, 0, sizeof(*sc));
    while (p < pf->data + pf->len) {
        size_t n = strcspn(p, "\n");
        enum fs_line_kind k = fs_preload_line_kind(p, n, lib);
        lineno++;
        if (sc->count[k]++ == 0) {
            sc->first_line[k] = lineno;
            snprintf(sc->first_text[k], sizeof(sc->first_text[k]), "%.*s",
                     (int)n, p);
        }
        p += n + (p[n] == '\n');
    }
}
