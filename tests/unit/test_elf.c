/*
 * test_elf.c -- the ELF probe (shim/fs_elf.c): the GNU-hash search against
 * tables built as a linker builds them, and fs_symbol_where() on this very
 * process (libc defines malloc; nothing defines a made-up name).
 */
#include <stdio.h>

#include "fs_elf.h"
#include "fs_elf_build.h"
#include "fs_test.h"

static const char *const names[] = {
    "PySys_AddAuditHook", "Py_Initialize", "Py_BytesMain", "_Py_RefTotal",
    "PyGILState_Ensure", "malloc", "free", "a", "", "Py_IsInitialized",
    "undefined_ref",
};
static const unsigned char undef[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
#define N (sizeof(names) / sizeof(names[0]))

int
main(void)
{
    static const char *const absent[] = {"PySys_AddAuditHoo", "Py_Main",
                                         "PySys_AddAuditHookX", "b", "undefined_ref"};
    struct fs_elf_table t;
    uint32_t words, shift;
    size_t i;

    for (words = 1; words <= 4; words *= 2) {
        for (shift = 5; shift <= 26; shift += 7) {
            CHECK(fs_elf_table_build(&t, names, undef, N, words, shift) == 0);
            for (i = 0; i < N; i++) {
                CHECK(fs_elf_gnu_defines(t.gh, t.symtab, t.strtab, names[i])
                      == !undef[i]);
            }
            for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
                CHECK(fs_elf_gnu_defines(t.gh, t.symtab, t.strtab, absent[i])
                      == 0);
            }
            fs_elf_table_free(&t);
        }
    }
    /* an empty table (no buckets) defines nothing */
    CHECK(fs_elf_table_build(&t, names, undef, 0, 1, 6) == 0);
    CHECK(fs_elf_gnu_defines(t.gh, t.symtab, t.strtab, "malloc") == 0);
    fs_elf_table_free(&t);

    /* this process: libc defines malloc, nobody defines the made-up name,
     * and this test binary is not a Python */
    CHECK(fs_symbol_where("malloc") == FS_IN_LIBRARY);
    CHECK(fs_symbol_where("fs_no_such_symbol_anywhere") == FS_NOWHERE);
    CHECK(fs_symbol_where("PySys_AddAuditHook") == FS_NOWHERE);
    return fs_test_report();
}
