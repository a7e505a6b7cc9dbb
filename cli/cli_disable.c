/*
 * cli_disable.c -- `flaskshield disable`: remove the library from the
 * preload file.
 *
 * Removes our lines, keeps the rest; a file left with nothing but white
 * space is removed.  Not enabled is not an error (exit 0).  A line that
 * lists our library among others is left alone: exit 1, with a note.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void
fs_disable_help(FILE *f)
{
    fprintf(f, "usage: flaskshield disable [--preload-file FILE]\n\n"
               "Remove the library's line from the preload file (other "
               "entries kept;\nthe file is removed when nothing else is "
               "left in it).\n");
    fs_preload_help(f);
}

int
fs_cmd_disable(int argc, char **argv)
{
    struct fs_preload_opts o;
    struct fs_preload pf = {0};
    struct fs_scan sc;
    char *lib = NULL, *data = NULL;
    int rc = FS_EXIT_INVALID;

    if (fs_preload_args(argc, argv, &o, fs_disable_help, &rc) != 0) {
        return rc;
    }
    rc = FS_EXIT_INVALID;
    lib = fs_preload_library("disable", true);
    if (lib == NULL || fs_preload_read("disable", o.preload_file, &pf) != 0) {
        goto done;
    }
    fs_preload_scan(&pf, lib, &sc);
    if (sc.count[FS_LINE_OURS] > 0) {
        const char *p = pf.data;
        char *w;
        bool blank = true;

        data = malloc(pf.len + 1);
        if (data == NULL) {
            goto done;
        }
        w = data;
        while (p < pf.data + pf.len) {
            size_t n = strcspn(p, "\n");
            size_t nl = p[n] == '\n';
            if (fs_preload_line_kind(p, n, lib) != FS_LINE_OURS) {
                memcpy(w, p, n + nl);
                w += n + nl;
            }
            p += n + nl;
        }
        *w = '\0';
        for (p = data; *p; p++) {
            blank = blank && strchr(" \t\r\n", *p) != NULL;
        }
        if (blank) {
            if (unlink(pf.path) != 0) {
                fprintf(stderr, "flaskshield disable: cannot remove %s: "
                                "%s\n", pf.path, strerror(errno));
                goto done;
            }
            printf("disabled: removed %s (it listed only %s)\n", pf.path,
                   lib);
        }
        else {
            if (fs_preload_write("disable", &pf, data,
                                 (size_t)(w - data)) != 0) {
                goto done;
            }
            printf("disabled: removed %zu line%s from %s\n",
                   sc.count[FS_LINE_OURS],
                   sc.count[FS_LINE_OURS] == 1 ? "" : "s", pf.path);
        }
    }
    else {
        printf("not enabled: %s %s\n", pf.path,
               pf.exists ? "has no line for the library" : "does not exist");
    }
    if (sc.count[FS_LINE_MIXED] > 0) {
        fprintf(stderr, "flaskshield disable: %s line %zu lists %s together "
                        "with other entries; edit that line by hand\n",
                pf.path, sc.first_line[FS_LINE_MIXED], lib);
        goto done;
    }
    rc = FS_EXIT_OK;

done:
    free(data);
    free(lib);
    free(pf.data);
    return rc;
}
