/*
 * fs_dropin.c -- finding the drop-ins of a policy file.
 *
 * See fs_dropin.h.  The folder is listed with opendir()/readdir(), the
 * names kept are sorted with strcmp() (byte order, whatever the locale),
 * and each is stat()ed (symlinks followed, nothing opened: a FIFO never
 * blocks) so that an entry that cannot be a drop-in is reported by name
 * before any file is read.  Nothing here prints.
 */
#include "fs_dropin.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *
fs_dropin_dir(const char *policy_path)
{
    size_t n = strlen(policy_path);
    char *dir;

    if (n > 5 && strcmp(policy_path + n - 5, ".conf") == 0
        && policy_path[n - 6] != '/') {
        n -= 5;
    }
    dir = malloc(n + 3);
    if (dir == NULL) {
        return NULL;
    }
    memcpy(dir, policy_path, n);
    memcpy(dir + n, ".d", 3);
    return dir;
}

/* A drop-in's name: "*.conf" with something before the suffix, not
 * hidden. */
static bool
fs_dropin_name(const char *name)
{
    size_t n = strlen(name);

    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int
fs_dropin_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
fs_dropin_free(char **list, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        free(list[i]);
    }
    free(list);
}

int
fs_dropin_list(const char *dir, char ***paths, size_t *count, bool *missing,
               struct fs_diag *d, size_t key)
{
    char **list = NULL, ebuf[128];
    size_t n = 0, cap = 0, i, kept = 0;
    struct dirent *e;
    struct stat st;
    DIR *dh;
    int rc = 0;

    *paths = NULL;
    *count = 0;
    if (missing != NULL) {
        *missing = false;
    }
    if (stat(dir, &st) != 0) {
        int err = errno;
        if (err == ENOENT || err == ENOTDIR) {
            if (missing != NULL) {
                *missing = true;
            }
            return 0;
        }
        fs_diag_add(d, key, "%s:0: cannot stat the drop-in folder: %s", dir,
                    strerror_r(err, ebuf, sizeof(ebuf)));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fs_diag_add(d, key, "%s:0: is not a directory (the drop-in folder "
                    "of the policy must be one, or absent)", dir);
        return -1;
    }
    dh = opendir(dir);
    if (dh == NULL) {
        fs_diag_add(d, key, "%s:0: cannot open the drop-in folder: %s", dir,
                    strerror_r(errno, ebuf, sizeof(ebuf)));
        return -1;
    }
    while ((e = readdir(dh)) != NULL) {
        if (!fs_dropin_name(e->d_name)) {
            continue;
        }
        if (n == FS_DROPIN_MAX) {
            fs_diag_add(d, key, "%s:0: holds more than %d drop-ins", dir,
                        FS_DROPIN_MAX);
            rc = -1;
            break;
        }
        if (n == cap) {
            size_t c = cap ? cap * 2 : 8;
            char **bigger = realloc(list, c * sizeof(*list));
            if (bigger == NULL) {
                d->oom = true;
                rc = -1;
                break;
            }
            list = bigger;
            cap = c;
        }
        if (asprintf(&list[n], "%s/%s", dir, e->d_name) < 0) {
            d->oom = true;
            rc = -1;
            break;
        }
        n++;
    }
    closedir(dh);
    if (n > 1) {
        qsort(list, n, sizeof(*list), fs_dropin_cmp);
    }
    /* Sorting "dir/NAME" by strcmp sorts by NAME: the prefix is shared. */
    for (i = 0; i < n; i++) {
        if (stat(list[i], &st) != 0) {
            fs_diag_add(d, key, "%s:0: cannot stat the drop-in: %s", list[i],
                        strerror_r(errno, ebuf, sizeof(ebuf)));
        }
        else if (!S_ISREG(st.st_mode)) {
            fs_diag_add(d, key, "%s:0: is %s, not a regular file (every "
                        "*.conf entry of %s is read as a drop-in)", list[i],
                        S_ISDIR(st.st_mode) ? "a directory"
                                            : "a special file", dir);
        }
        else {
            list[kept++] = list[i];
            continue;
        }
        free(list[i]);
        rc = -1;
    }
    *paths = list;
    *count = kept;
    return rc;
}
