/*
 * fs_elf.c -- which loaded object defines a symbol, without dlsym().
 *
 * The constructor runs in every process of an image and must find out, at
 * the cost of a few dozen instructions when the answer is "none", whether
 * the process is a CPython (the executable exports the C API, or a
 * libpython is loaded).  A failing dlsym() costs an error string and
 * thousands of instructions; instead each loaded object's GNU hash table
 * (DT_GNU_HASH) is searched directly: bloom filter, bucket, chain, as
 * ld.so itself does.  Objects without one (rare; the vDSO has one) are
 * left to dlsym() and dladdr1().
 *
 * fs_elf_gnu_defines() is the table search alone, on tables given by
 * pointer: tests/unit/test_elf.c and tests/fuzz/fuzz_elf.c build tables
 * the way a linker does and check it against a linear search.  No Python.
 */
#include "fs_elf.h"

#include <dlfcn.h>
#include <string.h>

int
fs_elf_gnu_defines(const uint32_t *gh, const ElfW(Sym) *symtab,
                   const char *strtab, const char *name)
{
    const ElfW(Addr) *bloom;
    const uint32_t *buckets, *chain;
    uint32_t hash = 5381, nbuckets, symoffset, bloom_size, shift, i;
    ElfW(Addr) word, mask;
    const unsigned char *c;

    for (c = (const unsigned char *)name; *c != '\0'; c++) {
        hash = hash * 33 + *c;
    }
    nbuckets = gh[0];
    symoffset = gh[1];
    bloom_size = gh[2];
    shift = gh[3];
    if (nbuckets == 0 || bloom_size == 0) {
        return 0;
    }
    bloom = (const ElfW(Addr) *)(gh + 4);
    buckets = (const uint32_t *)(bloom + bloom_size);
    chain = buckets + nbuckets;
    word = bloom[(hash / (8 * sizeof(ElfW(Addr)))) % bloom_size];
    mask = ((ElfW(Addr))1 << (hash % (8 * sizeof(ElfW(Addr)))))
           | ((ElfW(Addr))1 << ((hash >> shift) % (8 * sizeof(ElfW(Addr)))));
    if ((word & mask) != mask) {
        return 0;
    }
    for (i = buckets[hash % nbuckets]; i >= symoffset; i++) {
        uint32_t h2 = chain[i - symoffset];
        if ((h2 | 1) == (hash | 1) && symtab[i].st_shndx != SHN_UNDEF
            && strcmp(strtab + symtab[i].st_name, name) == 0) {
            return 1;
        }
        if (h2 & 1) {
            break;
        }
    }
    return 0;
}

/* Does one loaded object define `name`?  A GNU-hash look-up in its dynamic
 * symbol table: unlike a failing dlsym(), a miss costs a few dozen
 * instructions and no error message.  -1 when the object has no GNU hash
 * table (the caller then asks dlsym()). */
static int
fs_object_defines(const struct dl_phdr_info *info, const char *name)
{
    const ElfW(Dyn) *dyn = NULL;
    const uint32_t *gh = NULL;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    int k;

    for (k = 0; k < info->dlpi_phnum; k++) {
        if (info->dlpi_phdr[k].p_type == PT_DYNAMIC) {
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr
                                       + info->dlpi_phdr[k].p_vaddr);
        }
    }
    for (; dyn != NULL && dyn->d_tag != DT_NULL; dyn++) {
        /* ld.so relocates these in place, except in the vDSO */
        ElfW(Addr) a = dyn->d_un.d_ptr;
        if (a < info->dlpi_addr) {
            a += info->dlpi_addr;
        }
        if (dyn->d_tag == DT_GNU_HASH) {
            gh = (const uint32_t *)a;
        }
        else if (dyn->d_tag == DT_SYMTAB) {
            symtab = (const ElfW(Sym) *)a;
        }
        else if (dyn->d_tag == DT_STRTAB) {
            strtab = (const char *)a;
        }
        if (gh != NULL && symtab != NULL && strtab != NULL) {
            break;              /* they come first: stop early */
        }
    }
    if (gh == NULL || symtab == NULL || strtab == NULL) {
        return dyn == NULL ? 0 : -1;    /* no dynamic section: no symbols */
    }
    return fs_elf_gnu_defines(gh, symtab, strtab, name);
}

struct fs_probe {
    const char *name;
    enum fs_where where;
};

static int
fs_probe_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    struct fs_probe *probe = data;
    int r = fs_object_defines(info, probe->name);

    (void)size;
    if (r == 0) {
        return 0;
    }
    /* the executable is the object without a name */
    probe->where = r < 0 ? FS_UNKNOWN
                   : info->dlpi_name[0] == '\0' ? FS_IN_EXECUTABLE
                   : FS_IN_LIBRARY;
    return 1;
}

/* Which loaded object defines `name`?  Asked in every process the library
 * is preloaded into, so it must be cheap when the answer is none.  An
 * object without a GNU hash table is left to dlsym()/dladdr1(). */
enum fs_where
fs_symbol_where(const char *name)
{
    struct fs_probe probe = {name, FS_NOWHERE};
    struct link_map *lm = NULL;
    Dl_info info;
    void *sym;

    dl_iterate_phdr(fs_probe_cb, &probe);
    if (probe.where != FS_UNKNOWN) {
        return probe.where;
    }
    sym = dlsym(RTLD_DEFAULT, name);
    if (sym == NULL) {
        return FS_NOWHERE;
    }
    return dladdr1(sym, &info, (void **)&lm, RTLD_DL_LINKMAP) != 0
           && lm != NULL && lm->l_name[0] == '\0'
           ? FS_IN_EXECUTABLE : FS_IN_LIBRARY;
}

static int
fs_find_libpython_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    const char *base = strrchr(info->dlpi_name, '/');

    (void)size;
    base = base != NULL ? base + 1 : info->dlpi_name;
    if (strncmp(base, "libpython3", 10) == 0) {
        *(void **)data = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
        return *(void **)data != NULL;
    }
    return 0;
}

/* The real definition of an entry point, and the handle its C API is to be
 * looked up in: the next object in the global scope, or a libpython loaded
 * with RTLD_LOCAL (dlopen()ed by a plugin). */
void *
fs_real(const char *name, void **handle)
{
    void *fn = dlsym(RTLD_NEXT, name);
    void *lib = NULL;

    if (fn != NULL) {
        *handle = RTLD_NEXT;
        return fn;
    }
    dl_iterate_phdr(fs_find_libpython_cb, &lib);
    *handle = lib;
    return lib != NULL ? dlsym(lib, name) : NULL;
}
