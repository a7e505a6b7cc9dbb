/*
 * test_policy_util.h -- helpers shared by the tests/unit/test_policy*.c
 * binaries: a private temporary folder, writing files into it (mode 0644),
 * loading a policy text, and matching "FILE:LINE: message" errors with the
 * folder's prefix removed.  Header-only; each test binary includes it once.
 */
#ifndef TEST_POLICY_UTIL_H
#define TEST_POLICY_UTIL_H

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_policy.h"
#include "fs_policy_int.h"
#include "fs_test.h"

static char tp_dir[64];

#define TP_UNUSED __attribute__((unused))

static TP_UNUSED void
tp_init(void)
{
    strcpy(tp_dir, "/tmp/fs_policy_test_XXXXXX");
    if (mkdtemp(tp_dir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

static TP_UNUSED int
tp_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static TP_UNUSED void
tp_cleanup(void)
{
    nftw(tp_dir, tp_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* tp_dir/name in one of a ring of static buffers. */
static TP_UNUSED const char *
tp_path(const char *name)
{
    static char ring[8][512];
    static int next;
    char *buf = ring[next++ % 8];

    snprintf(buf, sizeof(ring[0]), "%s/%s", tp_dir, name);
    return buf;
}

static TP_UNUSED void
tp_mkdir(const char *name)
{
    mkdir(tp_path(name), 0755);
}

static TP_UNUSED const char *
tp_write_n(const char *name, const char *text, size_t len)
{
    const char *path = tp_path(name);
    FILE *f;

    unlink(path);
    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fwrite(text, 1, len, f);
    fclose(f);
    chmod(path, 0644);
    return path;
}

static TP_UNUSED const char *
tp_write(const char *name, const char *text)
{
    return tp_write_n(name, text, strlen(text));
}

/* Write text as name and load it. */
static TP_UNUSED int
tp_load(const char *name, const char *text, struct fs_policy **p,
        struct fs_policy_errors *errs)
{
    return fs_policy_load(tp_write(name, text), p, errs);
}

/* The message without the "tp_dir/" prefix. */
static TP_UNUSED const char *
tp_rel(const char *msg)
{
    size_t n = strlen(tp_dir);

    if (strncmp(msg, tp_dir, n) == 0 && msg[n] == '/') {
        return msg + n + 1;
    }
    return msg;
}

/* Does some error start with expect (after tp_rel)? */
static TP_UNUSED bool
tp_has(const struct fs_policy_errors *e, const char *expect)
{
    size_t i;

    for (i = 0; i < e->count; i++) {
        if (strncmp(tp_rel(e->msg[i]), expect, strlen(expect)) == 0) {
            return true;
        }
    }
    fprintf(stderr, "  expected an error starting with: %s\n  got:\n", expect);
    for (i = 0; i < e->count; i++) {
        fprintf(stderr, "    %s\n", tp_rel(e->msg[i]));
    }
    return false;
}

/* Load text, expect rejection with exactly one error starting with
 * expect, and the built-in defaults. */
static TP_UNUSED bool
tp_reject1(const char *text, const char *expect)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    int rc = tp_load("p.conf", text, &p, &e);
    bool ok = rc == -1 && p != NULL && !p->from_file && p->path == NULL
              && e.count == 1 && tp_has(&e, expect);

    if (!ok && e.count != 1) {
        size_t i;
        fprintf(stderr, "  %zu errors for: %s\n", e.count, expect);
        for (i = 0; i < e.count; i++) {
            fprintf(stderr, "    %s\n", tp_rel(e.msg[i]));
        }
    }
    fs_policy_errors_free(&e);
    fs_policy_free(p);
    return ok;
}

/* fs_policy_write() into a heap string. */
static TP_UNUSED char *
tp_written(const struct fs_policy *p, const char *app, unsigned flags)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    fs_policy_write_ex(f, p, app, flags);
    fclose(f);
    return buf;
}

#endif /* TEST_POLICY_UTIL_H */
