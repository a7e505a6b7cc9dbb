/*
 * fs_elf_build.h -- building a DT_GNU_HASH table, its symbol table and its
 * string table the way a linker does, for the ELF probe's tests
 * (tests/unit/test_elf.c, tests/fuzz/fuzz_elf.c).
 *
 * Symbol 0 is the null symbol; the names given are all hashed (from
 * symoffset 1), sorted by bucket, each defined unless its `undef` flag is
 * set.  fs_elf_table_has() is the reference: a linear search.
 */
#ifndef FS_ELF_BUILD_H
#define FS_ELF_BUILD_H

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fs_elf_table {
    uint32_t *gh;               /* header, bloom, buckets, chain */
    ElfW(Sym) *symtab;
    char *strtab;
    size_t nsyms;               /* including the null symbol */
};

static inline uint32_t
fs_elf_hash(const char *name)
{
    uint32_t h = 5381;

    for (; *name != '\0'; name++) {
        h = h * 33 + (unsigned char)*name;
    }
    return h;
}

/* names[0..n) (NUL-terminated), undef[i]: an undefined reference.
 * bloom_words >= 1.  Returns 0, or -1 when out of memory. */
static inline int
fs_elf_table_build(struct fs_elf_table *t, const char *const *names,
                   const unsigned char *undef, size_t n, uint32_t bloom_words,
                   uint32_t shift)
{
    const size_t wbits = 8 * sizeof(ElfW(Addr));
    uint32_t nbuckets = (uint32_t)(n / 2 + 1);
    size_t *order, i, j, strsz = 1, words;
    uint32_t *bucket_of;
    ElfW(Addr) *bloom;
    uint32_t *buckets, *chain;

    memset(t, 0, sizeof(*t));
    order = malloc(sizeof(size_t) * (n + 1));
    bucket_of = malloc(sizeof(uint32_t) * (n + 1));
    for (i = 0; i < n; i++) {
        strsz += strlen(names[i]) + 1;
    }
    words = 4 + bloom_words * (sizeof(ElfW(Addr)) / 4) + nbuckets + n + 1;
    t->gh = calloc(words, sizeof(uint32_t));
    t->symtab = calloc(n + 1, sizeof(ElfW(Sym)));
    t->strtab = calloc(strsz, 1);
    if (order == NULL || bucket_of == NULL || t->gh == NULL
        || t->symtab == NULL || t->strtab == NULL) {
        free(order);
        free(bucket_of);
        return -1;
    }
    /* order: names sorted by bucket (stable) */
    for (i = 0; i < n; i++) {
        order[i] = i;
        bucket_of[i] = fs_elf_hash(names[i]) % nbuckets;
    }
    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && bucket_of[order[j - 1]] > bucket_of[order[j]];
             j--) {
            size_t tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    }
    t->gh[0] = nbuckets;
    t->gh[1] = 1;
    t->gh[2] = bloom_words;
    t->gh[3] = shift;
    bloom = (ElfW(Addr) *)(t->gh + 4);
    buckets = (uint32_t *)(bloom + bloom_words);
    chain = buckets + nbuckets;
    strsz = 1;
    for (i = 0; i < n; i++) {
        const char *name = names[order[i]];
        uint32_t h = fs_elf_hash(name), b = h % nbuckets;
        ElfW(Sym) *sym = &t->symtab[i + 1];

        sym->st_name = (ElfW(Word))strsz;
        sym->st_shndx = undef[order[i]] ? SHN_UNDEF : 1;
        strcpy(t->strtab + strsz, name);
        strsz += strlen(name) + 1;
        bloom[(h / wbits) % bloom_words] |= ((ElfW(Addr))1 << (h % wbits))
                                            | ((ElfW(Addr))1
                                               << ((h >> shift) % wbits));
        if (buckets[b] == 0) {
            buckets[b] = (uint32_t)(i + 1);
        }
        chain[i] = h & ~1u;
        if (i + 1 == n || bucket_of[order[i + 1]] != b) {
            chain[i] |= 1;      /* last of its bucket */
        }
    }
    t->nsyms = n + 1;
    free(order);
    free(bucket_of);
    return 0;
}

static inline void
fs_elf_table_free(struct fs_elf_table *t)
{
    free(t->gh);
    free(t->symtab);
    free(t->strtab);
}

/* The reference: is `name` a defined symbol of the table? */
static inline int
fs_elf_table_has(const struct fs_elf_table *t, const char *name)
{
    size_t i;

    for (i = 1; i < t->nsyms; i++) {
        if (t->symtab[i].st_shndx != SHN_UNDEF
            && strcmp(t->strtab + t->symtab[i].st_name, name) == 0) {
            return 1;
        }
    }
    return 0;
}

#endif /* FS_ELF_BUILD_H */
