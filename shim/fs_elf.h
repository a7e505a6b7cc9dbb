/*
 * fs_elf.h -- finding which loaded object defines a symbol (see fs_elf.c).
 * No Python headers: the unit tests and a fuzz target build it alone.
 */
#ifndef FS_ELF_H
#define FS_ELF_H

#include <link.h>
#include <stdint.h>

enum fs_where { FS_NOWHERE, FS_IN_EXECUTABLE, FS_IN_LIBRARY, FS_UNKNOWN };

/* Which loaded object defines `name`: none, the executable, a library, or
 * (never in practice) unknown. */
enum fs_where fs_symbol_where(const char *name);

/* Does the GNU hash table `gh` (DT_GNU_HASH) with its symbol and string
 * tables define `name` (a defined symbol, not an undefined reference)?
 * The tables are trusted as ld.so trusts them. */
int fs_elf_gnu_defines(const uint32_t *gh, const ElfW(Sym) *symtab,
                       const char *strtab, const char *name);

/* A function the library interposes (defines in place of libpython's). */
#define FS_EXPORT __attribute__((visibility("default")))

/* The real definition of an interposed function `name` (new or old API),
 * and in *handle where the rest of its C API is to be looked up: the next
 * object in the global scope (RTLD_NEXT), or a libpython loaded with
 * RTLD_LOCAL (dlopen()ed by a plugin).  NULL when none is loaded. */
void *fs_real(const char *name, void **handle);

#endif /* FS_ELF_H */
