/*
 * fuzz_policy.c -- libFuzzer target for the policy loader.
 *
 * Each input is handed to fs_policy_load_buffer() as the text of a policy
 * file, so it goes through the @include expansion and lexical checks, the
 * libconfig parse and the schema walk.  A valid input is also written back
 * with fs_policy_write() and loaded again: the round trip must load and be
 * a fixed point, or the target aborts.  Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_policy.h"
#include "fs_policy_int.h"

static char *
fuzz_written(const struct fs_policy *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL) {
        abort();
    }
    fs_policy_write(f, p, NULL);
    fclose(f);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fs_policy *p = NULL, *q = NULL;
    struct fs_policy_errors errs = {NULL, 0};
    size_t i;
    int rc;

    /* Includes resolve under a folder that does not exist. */
    rc = fs_policy_load_buffer("/nonexistent-fuzz/policy.conf",
                               (const char *)data, size, NULL, &p, &errs);
    if (p == NULL) {
        abort();
    }
    if ((rc == 0) != (errs.count == 0)) {
        abort();
    }
    for (i = 0; i < errs.count; i++) {
        if (errs.msg[i] == NULL || strchr(errs.msg[i], ':') == NULL) {
            abort();
        }
    }
    if (rc == 0) {
        char *a = fuzz_written(p), *b;
        struct fs_policy_errors errs2 = {NULL, 0};
        if (fs_policy_load_buffer("/nonexistent-fuzz/explained.conf", a,
                                  strlen(a), NULL, &q, &errs2) != 0) {
            fprintf(stderr, "explain output rejected:\n%s\n%s\n", a,
                    errs2.count ? errs2.msg[0] : "");
            abort();
        }
        b = fuzz_written(q);
        if (strcmp(a, b) != 0) {
            fprintf(stderr, "not a fixed point:\n%s\n---\n%s\n", a, b);
            abort();
        }
        (void)fs_policy_for_app(p, "pkg.mod");
        free(a);
        free(b);
        fs_policy_errors_free(&errs2);
        fs_policy_free(q);
    }
    fs_policy_errors_free(&errs);
    fs_policy_free(p);
    return 0;
}
