/*
 * fuzz_clen.c -- libFuzzer target for CONTENT_LENGTH parsing
 * (shim/fs_clen.c): any bytes, held in a buffer of exactly their size; the
 * answer is checked against a reference (1 to 18 ASCII digits, value by
 * strtoll) and must never read past the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs_clen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size > 0 ? size : 1), *z;
    enum fs_clen got;
    long long v;
    size_t i;
    int plain = size >= 1 && size <= 18;

    if (s == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    got = fs_clen_parse(s, size, &v);
    for (i = 0; i < size; i++) {
        plain = plain && data[i] >= '0' && data[i] <= '9';
    }
    if (size == 0) {
        if (got != FS_CLEN_ABSENT) {
            abort();
        }
    }
    else if (!plain) {
        if (got != FS_CLEN_UNKNOWN || v != -1) {
            abort();
        }
    }
    else {
        z = malloc(size + 1);
        if (z != NULL) {
            memcpy(z, data, size);
            z[size] = '\0';
            if (got != FS_CLEN_VALUE || v != strtoll(z, NULL, 10) || v < 0) {
                abort();
            }
            free(z);
        }
    }
    free(s);
    return 0;
}
