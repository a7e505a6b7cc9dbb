/*
 * fs_diag.c -- the list of "FILE:LINE: message" problems of one load.
 *
 * See fs_diag.h.  Messages are formatted with vasprintf() into owned heap
 * strings; the list is sorted by (key, insertion order) before it is handed
 * to the caller as a struct fs_policy_errors.
 */
#include "fs_diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fs_diag_add(struct fs_diag *d, size_t key, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    int n;

    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        struct fs_diag_item *items = realloc(d->items, cap * sizeof(*items));
        if (items == NULL) {
            d->oom = true;
            return;
        }
        d->items = items;
        d->cap = cap;
    }
    va_start(ap, fmt);
    n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        d->oom = true;
        return;
    }
    d->items[d->count].key = key;
    d->items[d->count].seq = d->count;
    d->items[d->count].msg = msg;
    d->count++;
}

static int
fs_diag_cmp(const void *a, const void *b)
{
    const struct fs_diag_item *x = a, *y = b;

    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    if (x->seq != y->seq) {
        return x->seq < y->seq ? -1 : 1;
    }
    return 0;
}

bool
fs_diag_failed(const struct fs_diag *d)
{
    return d->count > 0 || d->oom;
}

void
fs_diag_clear(struct fs_diag *d)
{
    size_t i;

    for (i = 0; i < d->count; i++) {
        free(d->items[i].msg);
    }
    free(d->items);
    memset(d, 0, sizeof(*d));
}

size_t
fs_diag_finish(struct fs_diag *d, struct fs_policy_errors *errs)
{
    size_t i, n;
    char **msg;

    if (d->oom) {
        /* Best effort: if even this fails the caller still sees failure
         * through fs_diag_failed(), called before this function. */
        fs_diag_add(d, (size_t)-1, "out of memory while loading the policy");
    }
    n = d->count;
    if (errs == NULL || n == 0) {
        fs_diag_clear(d);
        return n;
    }
    qsort(d->items, d->count, sizeof(d->items[0]), fs_diag_cmp);
    msg = realloc(errs->msg, (errs->count + n) * sizeof(*msg));
    if (msg == NULL) {
        fs_diag_clear(d);
        return n;
    }
    errs->msg = msg;
    for (i = 0; i < n; i++) {
        errs->msg[errs->count++] = d->items[i].msg;
        d->items[i].msg = NULL;
    }
    fs_diag_clear(d);
    return n;
}

void
fs_diag_move(struct fs_diag *to, struct fs_diag *from, size_t offset)
{
    size_t i;

    for (i = 0; i < from->count; i++) {
        if (to->count == to->cap) {
            size_t cap = to->cap ? to->cap * 2 : 8;
            struct fs_diag_item *items = realloc(to->items,
                                                 cap * sizeof(*items));
            if (items == NULL) {
                to->oom = true;
                break;
            }
            to->items = items;
            to->cap = cap;
        }
        to->items[to->count].key = from->items[i].key + offset;
        to->items[to->count].seq = to->count;
        to->items[to->count].msg = from->items[i].msg;
        from->items[i].msg = NULL;
        to->count++;
    }
    to->oom = to->oom || from->oom;
    fs_diag_clear(from);
}
