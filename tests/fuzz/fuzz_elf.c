/*
 * fuzz_elf.c -- libFuzzer target for the ELF probe's GNU-hash search
 * (shim/fs_elf.c).
 *
 * The input is split at NUL bytes into symbol names (a name starting with
 * '\x01' is an undefined reference); its first bytes choose the bloom size
 * and shift.  A table is built from the names as a linker builds it
 * (tests/unit/fs_elf_build.h), then every name, and each name with one
 * byte changed or cut short, is looked up and compared with a linear
 * search.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fs_elf_build.h"
#include "fs_elf.h"

#define FS_FUZZ_MAX_NAMES 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *names[FS_FUZZ_MAX_NAMES];
    unsigned char undef[FS_FUZZ_MAX_NAMES];
    struct fs_elf_table t;
    char *buf, probe[300];
    size_t n = 0, i = 2;
    uint32_t words, shift;

    if (size < 2) {
        return 0;
    }
    words = 1u << (data[0] % 4);
    shift = 5 + data[1] % 22;
    buf = malloc(size + 1);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    while (i < size && n < FS_FUZZ_MAX_NAMES) {
        char *w = buf + i;
        size_t len = strlen(w);

        i += len + 1;
        if (len > 255) {
            continue;
        }
        undef[n] = w[0] == '\x01';
        names[n++] = w;
    }
    if (fs_elf_table_build(&t, names, undef, n, words, shift) == 0) {
        for (i = 0; i < n; i++) {
            size_t len = strlen(names[i]);

            if (fs_elf_gnu_defines(t.gh, t.symtab, t.strtab, names[i])
                != fs_elf_table_has(&t, names[i])) {
                abort();
            }
            memcpy(probe, names[i], len + 1);
            if (len > 0) {
                probe[len / 2] ^= 0x20;
                if (fs_elf_gnu_defines(t.gh, t.symtab, t.strtab, probe)
                    != fs_elf_table_has(&t, probe)) {
                    abort();
                }
                probe[len / 2] ^= 0x20;
                probe[len - 1] = '\0';
                if (fs_elf_gnu_defines(t.gh, t.symtab, t.strtab, probe)
                    != fs_elf_table_has(&t, probe)) {
                    abort();
                }
            }
        }
    }
    fs_elf_table_free(&t);
    free(buf);
    return 0;
}
