/*
 * fs_weak_list.c -- the operator's weak-key list (interface in
 * fs_weak_list.h).
 *
 * The file is read whole into one buffer and an open-addressing hash set
 * (FNV-1a, power-of-two capacity, load factor at most 1/2) holds (offset,
 * length) pairs into that buffer.  A line is the key byte for byte (only a
 * trailing "\r" is dropped), or a Python str/bytes literal as flask-unsign
 * writes its word lists, decoded to the key's bytes.  Used by the library
 * (fs_secret.c judges keys against it) and by `flaskshield check`, which
 * loads the list the way the library will.  Nothing here prints or keeps
 * global state; look-up in a loaded list is a pure read.
 */
#include "fs_weak_list.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_file.h"
#include "fs_fnv.h"

/* ---------------------------------------------------------------------- */
/* Weak list: a hash set over one file buffer                              */
/* ---------------------------------------------------------------------- */

#define FS_WEAK_PRESIZE ((size_t)1 << 21)   /* slots: 2 x FS_WEAK_MAX_KEYS */

struct fs_weak_slot {
    uint64_t hash;
    uint32_t off;
    uint32_t len;               /* 0: empty slot (empty lines are ignored) */
};

struct fs_weak_list {
    unsigned char *buf;         /* the file's bytes */
    struct fs_weak_slot *slots;
    size_t mask;                /* capacity - 1; capacity a power of two */
    size_t count;               /* distinct entries */
};

static uint64_t
fs_weak_hash(const unsigned char *p, size_t len)
{
    uint64_t h = fs_fnv1a(FS_FNV_OFFSET, p, len);

    /* FNV-1a's low bits mix poorly; fold the high half in. */
    return h ^ (h >> 32);
}

/* Double the table.  Returns 0, or -1 when out of memory (table kept). */
static int
fs_weak_grow(struct fs_weak_list *wl)
{
    size_t newcap = (wl->mask + 1) * 2;
    struct fs_weak_slot *slots = calloc(newcap, sizeof(*slots));
    size_t i, j;

    if (slots == NULL) {
        return -1;
    }
    for (i = 0; i <= wl->mask; i++) {
        if (wl->slots[i].len == 0) {
            continue;
        }
        j = wl->slots[i].hash & (newcap - 1);
        while (slots[j].len != 0) {
            j = (j + 1) & (newcap - 1);
        }
        slots[j] = wl->slots[i];
    }
    free(wl->slots);
    wl->slots = slots;
    wl->mask = newcap - 1;
    return 0;
}

/* Add buf[off..off+len) unless present.  Returns 0, or -1 (no memory). */
static int
fs_weak_add(struct fs_weak_list *wl, uint32_t off, uint32_t len)
{
    const unsigned char *p = wl->buf + off;
    uint64_t h = fs_weak_hash(p, len);
    size_t j = h & wl->mask;

    while (wl->slots[j].len != 0) {
        if (wl->slots[j].hash == h && wl->slots[j].len == len
            && memcmp(wl->buf + wl->slots[j].off, p, len) == 0) {
            return 0;           /* duplicate line: counted once */
        }
        j = (j + 1) & wl->mask;
    }
    wl->slots[j].hash = h;
    wl->slots[j].off = off;
    wl->slots[j].len = len;
    wl->count++;
    if (wl->count * 2 > wl->mask + 1) {
        return fs_weak_grow(wl);
    }
    return 0;
}

int
fs_weak_list_contains(const struct fs_weak_list *wl, const unsigned char *key,
                 size_t len)
{
    uint64_t h;
    size_t j;

    if (len == 0 || len > (size_t)FS_WEAK_MAX_FILE) {
        return 0;
    }
    h = fs_weak_hash(key, len);
    j = h & wl->mask;
    while (wl->slots[j].len != 0) {
        if (wl->slots[j].hash == h && wl->slots[j].len == len
            && memcmp(wl->buf + wl->slots[j].off, key, len) == 0) {
            return 1;
        }
        j = (j + 1) & wl->mask;
    }
    return 0;
}

static int
fs_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Append code point cp to out as UTF-8; returns the bytes written (0 for
 * an invalid code point). */
static size_t
fs_put_utf8(unsigned char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    if (cp < 0x110000) {
        out[0] = (unsigned char)(0xf0 | (cp >> 18));
        out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (unsigned char)(0x80 | (cp & 0x3f));
        return 4;
    }
    return 0;
}

/*
 * Public cracking word lists of Flask keys (flask-unsign's, for one) hold
 * each key as a Python literal: 'key', "key", b'\x01...'.  A line that is
 * one such literal is decoded to the key it denotes (str literals to UTF-8,
 * as the guard counts str keys); any other line is the key as it stands.
 * Returns the key's length (never more than n), or FS_NOT_LITERAL.  The key
 * is written to out unless out is NULL; out == s decodes in place (the
 * output never overtakes the input).
 */
#define FS_NOT_LITERAL ((size_t)-1)

static size_t
fs_weak_unquote(const unsigned char *s, size_t n, unsigned char *out)
{
    unsigned char utf8[4];
    size_t i, o = 0, start = 0;
#define FS_PUT(byte)                                                    \
    do {                                                                \
        if (out != NULL) {                                              \
            out[o] = (byte);                                            \
        }                                                               \
        o++;                                                            \
    } while (0)
    int bytes = 0;
    unsigned char q;

    if (n >= 3 && (s[0] == 'b' || s[0] == 'B')) {
        bytes = 1;
        start = 1;
    }
    if (n - start < 2) {
        return FS_NOT_LITERAL;
    }
    q = s[start];
    if ((q != '\'' && q != '"') || s[n - 1] != q) {
        return FS_NOT_LITERAL;
    }
    for (i = start + 1; i < n - 1; i++) {
        unsigned char c = s[i];
        unsigned long cp;
        size_t k, digits;
        int d;

        if (c == q) {
            return FS_NOT_LITERAL;           /* an unescaped quote inside: not one literal */
        }
        if (c != '\\') {
            FS_PUT(c);
            continue;
        }
        if (++i >= n - 1) {
            return FS_NOT_LITERAL;
        }
        c = s[i];
        switch (c) {
        case '\\': case '\'': case '"':
            FS_PUT(c);
            continue;
        case 'n': FS_PUT('\n'); continue;
        case 'r': FS_PUT('\r'); continue;
        case 't': FS_PUT('\t'); continue;
        case 'a': FS_PUT('\a'); continue;
        case 'b': FS_PUT('\b'); continue;
        case 'f': FS_PUT('\f'); continue;
        case 'v': FS_PUT('\v'); continue;
        case 'x': digits = 2; break;
        case 'u': digits = bytes ? 0 : 4; break;
        case 'U': digits = bytes ? 0 : 8; break;
        default:
            if (c >= '0' && c <= '7') {
                cp = 0;
                for (k = 0; k < 3 && i < n - 1 && s[i] >= '0' && s[i] <= '7';
                     k++, i++) {
                    cp = cp * 8 + (unsigned long)(s[i] - '0');
                }
                i--;
                goto emit;
            }
            return FS_NOT_LITERAL;           /* an escape Python would not accept */
        }
        if (digits == 0 || i + digits >= n) {
            return FS_NOT_LITERAL;
        }
        cp = 0;
        for (k = 1; k <= digits; k++) {
            if ((d = fs_hex_digit(s[i + k])) < 0) {
                return FS_NOT_LITERAL;
            }
            cp = cp * 16 + (unsigned long)d;
        }
        i += digits;
emit:
        if (bytes) {
            if (cp > 0xff) {
                return FS_NOT_LITERAL;
            }
            FS_PUT((unsigned char)cp);
        }
        else {
            /* UTF-8 of cp is never longer than its escape */
            size_t w = fs_put_utf8(utf8, cp);
            if (w == 0) {
                return FS_NOT_LITERAL;
            }
            for (k = 0; k < w; k++) {
                FS_PUT(utf8[k]);
            }
        }
    }
    return o;
#undef FS_PUT
}

static void
fs_set_why(char *why, size_t whylen, const char *msg)
{
    if (why != NULL && whylen > 0) {
        snprintf(why, whylen, "%s", msg);
    }
}

struct fs_weak_list *
fs_weak_list_load(const char *path, char *why, size_t whylen)
{
    struct fs_weak_list *wl = NULL;
    struct stat st;
    size_t size, got = 0, start, end, line_len, lines, cap;
    const unsigned char *nl;
    char reason[160];
    ssize_t r;
    int fd;

    if (path == NULL) {
        fs_set_why(why, whylen, "weak-list path is not set");
        return NULL;
    }
    /* O_NONBLOCK: a FIFO must not hang open(); the checks then refuse it. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        fs_set_why(why, whylen, "cannot open weak-list file");
        return NULL;
    }
    if (fstat(fd, &st) != 0) {
        fs_set_why(why, whylen, "cannot stat weak-list file");
        goto error;
    }
    if (fs_file_check(&st, FS_WEAK_MAX_FILE, reason, sizeof(reason))
        != FS_FILE_OK) {
        if (why != NULL && whylen > 0) {
            snprintf(why, whylen, "weak-list file %s", reason);
        }
        goto error;
    }
    size = (size_t)st.st_size;

    wl = calloc(1, sizeof(*wl));
    if (wl == NULL) {
        goto nomem;
    }
    wl->buf = malloc(size > 0 ? size : 1);
    if (wl->buf == NULL) {
        goto nomem;
    }
    /* Read what fstat() promised; a file that shrinks meanwhile is read
     * up to its end, bytes appended meanwhile are not read. */
    while (got < size) {
        r = read(fd, wl->buf + got, size - got);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            fs_set_why(why, whylen, "cannot read weak-list file");
            goto error;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    fd = -1;

    /* Size the table for every line at once (load factor <= 1/2). */
    lines = 1;
    nl = wl->buf;
    while ((nl = memchr(nl, '\n', got - (size_t)(nl - wl->buf))) != NULL) {
        lines++;
        nl++;
        if (lines > FS_WEAK_MAX_KEYS + 1) {
            if (why != NULL && whylen > 0) {
                snprintf(why, whylen, "weak-list file has more than %d "
                         "lines", FS_WEAK_MAX_KEYS);
            }
            goto error;
        }
    }
    cap = 16;
    while (cap < 2 * lines && cap < FS_WEAK_PRESIZE) {
        cap *= 2;
    }
    wl->mask = cap - 1;
    wl->slots = calloc(cap, sizeof(*wl->slots));
    if (wl->slots == NULL) {
        goto nomem;
    }

    for (start = 0; start < got; start = end + 1) {
        nl = memchr(wl->buf + start, '\n', got - start);
        end = nl != NULL ? (size_t)(nl - wl->buf) : got;
        line_len = end - start;
        if (line_len > 0 && wl->buf[end - 1] == '\r') {
            line_len--;
        }
        if (fs_weak_unquote(wl->buf + start, line_len, NULL)
            != FS_NOT_LITERAL) {
            line_len = fs_weak_unquote(wl->buf + start, line_len,
                                       wl->buf + start);
        }
        if (line_len == 0) {
            continue;
        }
        if (fs_weak_add(wl, (uint32_t)start, (uint32_t)line_len) != 0) {
            goto nomem;
        }
    }
    return wl;

nomem:
    fs_set_why(why, whylen, "out of memory loading weak-list file");
error:
    if (fd >= 0) {
        close(fd);
    }
    fs_weak_list_free(wl);
    return NULL;
}

void
fs_weak_list_free(struct fs_weak_list *wl)
{
    if (wl == NULL) {
        return;
    }
    free(wl->slots);
    free(wl->buf);
    free(wl);
}

size_t
fs_weak_list_size(const struct fs_weak_list *wl)
{
    return wl != NULL ? wl->count : 0;
}
