/*
 * fs_fnv.h -- the 64-bit FNV-1a hash, one definition for every hash the
 * project makes: the weak-key set, the policy digest, the reload
 * fingerprint.  Not cryptographic: these name or find things, they do not
 * authenticate them.
 */
#ifndef FS_FNV_H
#define FS_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FS_FNV_OFFSET 0xcbf29ce484222325u

/* h with data[0..len) mixed in; start from FS_FNV_OFFSET. */
static inline uint64_t
fs_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3u;
    }
    return h;
}

#endif /* FS_FNV_H */
