/*
 * fs_secret.c -- judging a Flask SECRET_KEY (interface in fs_secret.h).
 *
 * fs_secret_check() looks only at the key's bytes (str keys arrive as UTF-8)
 * and answers with the most useful reason, in this order: missing, known
 * value (built-in table or the operator's weak list), low variety, too short.
 * A known value is reported as known even when it is also short.  The
 * low-variety rules are tuned so that the keys Flask's documentation
 * recommends -- secrets.token_hex(16..), secrets.token_urlsafe(24..),
 * os.urandom(24..) -- are never flagged in practice: the periodic and
 * sequential rules need coincidences estimated below one in 10^15 for such
 * keys (none in 1.5 * 10^9 simulated).  The one exception is the distinct-byte
 * rule on token_hex(16): 32 draws from 16 hex digits use fewer than 8 of
 * them with probability about 3.7e-8 (35 in 10^9 simulated); the longer
 * forms are at most about 1e-19.
 *
 * The weak list is one key a line; the file is read whole into one buffer
 * and an open-addressing hash set (FNV-1a, power-of-two capacity, load
 * factor at most 1/2) holds (offset, length) pairs into that buffer.  A
 * line is the key byte for byte (only a trailing "\r" is dropped): no
 * quotes or escapes are decoded.
 *
 * Nothing here prints, exits, or keeps mutable global state: every check is
 * a pure read and safe from any number of threads at once, as is look-up in
 * a loaded weak list.
 */
#include "fs_secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_file.h"

/* ---------------------------------------------------------------------- */
/* Built-in published values                                               */
/* ---------------------------------------------------------------------- */

struct fs_known_key {
    const char *bytes;
    size_t len;
};

#define FS_KNOWN(s) {(s), sizeof(s) - 1}

/* Compared byte for byte, case-sensitively, against the whole key. */
static const struct fs_known_key fs_known_keys[] = {
    /* Flask tutorial and configuration docs. */
    FS_KNOWN("dev"),
    FS_KNOWN("192b9bdd22ab9ed4d12e236c78afcb9a"
             "393ec15f71bbf5dc987d54727823bcbf"),
    FS_KNOWN("5f352379324c22463451387a0aec5d2f"),
    /* The quickstart key b'_5#y2L"F4Q8z\n\xec]/': the bytes themselves... */
    FS_KNOWN("_5#y2L\"F4Q8z\n\xec]/"),
    /* ...the same text written as a str ('\xec' is U+00EC, UTF-8 c3 ac)... */
    FS_KNOWN("_5#y2L\"F4Q8z\n\xc3\xac]/"),
    /* ...and the source text pasted literally (environment, config file). */
    FS_KNOWN("_5#y2L\"F4Q8z\\n\\xec]/"),
    FS_KNOWN("b'_5#y2L\"F4Q8z\\n\\xec]/'"),
    FS_KNOWN("'_5#y2L\"F4Q8z\\n\\xec]/'"),
    /* Older quickstart (Flask 0.x). */
    FS_KNOWN("A0Zr98j/3yX R~XHH!jmN]LWX/,?RT"),
    /* Flask docs, books and well-known tutorials. */
    FS_KNOWN("test key"),
    FS_KNOWN("development key"),
    FS_KNOWN("you-will-never-guess"),
    FS_KNOWN("hard to guess string"),
    FS_KNOWN("super secret key"),
    FS_KNOWN("super secret string"),
    FS_KNOWN("this-really-needs-to-be-changed"),
    FS_KNOWN("my_precious"),
    FS_KNOWN("secret!"),
    FS_KNOWN("keyboard cat"),
    /* Placeholders. */
    FS_KNOWN("secret"),
    FS_KNOWN("Secret"),
    FS_KNOWN("SECRET"),
    FS_KNOWN("secret-key"),
    FS_KNOWN("secret_key"),
    FS_KNOWN("secretkey"),
    FS_KNOWN("SECRET_KEY"),
    FS_KNOWN("changeme"),
    FS_KNOWN("CHANGEME"),
    FS_KNOWN("change-me"),
    FS_KNOWN("change_me"),
    FS_KNOWN("CHANGE_ME"),
    FS_KNOWN("changethis"),
    FS_KNOWN("change-this"),
    FS_KNOWN("your-secret-key"),
    FS_KNOWN("your_secret_key"),
    FS_KNOWN("your-secret-key-here"),
    FS_KNOWN("mysecretkey"),
    FS_KNOWN("my-secret-key"),
    FS_KNOWN("my_secret_key"),
    FS_KNOWN("mysecret"),
    FS_KNOWN("supersecretkey"),
    FS_KNOWN("super-secret"),
    FS_KNOWN("super-secret-key"),
    FS_KNOWN("super_secret_key"),
    FS_KNOWN("supersecret"),
    FS_KNOWN("topsecret"),
    FS_KNOWN("s3cr3t"),
    FS_KNOWN("password"),
    FS_KNOWN("default"),
    FS_KNOWN("flask"),
    FS_KNOWN("development"),
    FS_KNOWN("devkey"),
    FS_KNOWN("dev-key"),
    FS_KNOWN("dev_key"),
    FS_KNOWN("test"),
    FS_KNOWN("testing"),
    /* Published defaults of Flask-based products and their documentation
     * placeholders (each of these has been found serving session cookies
     * on the Internet).  The source of each group is named beside it. */
    /* Apache Superset before 1.4.1 and Flask-AppBuilder's application
     * skeleton (dpgaspar/Flask-AppBuilder-Skeleton config.py, and the
     * config.py `flask fab create-app` writes):
     * SECRET_KEY = "\2\1thisismyscretkey\1\2\e\y\y\h" as Python reads
     * it... */
    FS_KNOWN("\x02\x01thisismyscretkey\x01\x02\\e\\y\\y\\h"),
    /* ...and that source text pasted literally. */
    FS_KNOWN("\\2\\1thisismyscretkey\\1\\2\\e\\y\\y\\h"),
    /* Superset 1.4.1 and later (apache/superset superset/config.py,
     * CHANGE_ME_SECRET_KEY), its Helm chart and docker templates, its
     * documentation ("YOUR_OWN_RANDOM_GENERATED_SECRET_KEY") and test
     * configuration: the keys of CVE-2023-27524. */
    FS_KNOWN("CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET"),
    FS_KNOWN("thisISaSECRET_1234"),
    FS_KNOWN("YOUR_OWN_RANDOM_GENERATED_SECRET_KEY"),
    FS_KNOWN("TEST_NON_DEV_SECRET"),
    /* Redash (getredash/redash redash/settings/__init__.py: the default of
     * REDASH_COOKIE_SECRET, also its SECRET_KEY). */
    FS_KNOWN("c292a0a3aa32397cdb050e233733900f"),
    /* Apache Airflow's webserver secret_key in its default configuration
     * (apache/airflow airflow/config_templates/default_airflow.cfg, 1.10
     * and 2.0). */
    FS_KNOWN("temporary_key"),
    /* PowerDNS-Admin (PowerDNS-Admin/PowerDNS-Admin
     * powerdnsadmin/default_config.py and configs/development.py). */
    FS_KNOWN("e951e5a1f4b94151b360f47edf596dd2"),
    /* Flask-Security-Too's quick start, copied into many applications as
     * the fallback of os.environ.get("SECRET_KEY", ...)
     * (pallets-eco/flask-security docs/quickstart.rst and examples/). */
    FS_KNOWN("pf9Wkove4IKEAXvy-cQkeDPhv9Cb3Ag-wyJILbq_dFw"),
    /* Flask-User's example applications and documentation
     * (lingthio/Flask-User example_apps/quickstart_app.py and the others;
     * the shorter form in releases before 1.0). */
    FS_KNOWN("This is an INSECURE secret!! DO NOT use this in production!!"),
    FS_KNOWN("THIS IS AN INSECURE SECRET"),
};

#undef FS_KNOWN

static int
fs_secret_is_builtin(const unsigned char *key, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(fs_known_keys) / sizeof(fs_known_keys[0]); i++) {
        if (fs_known_keys[i].len == len
            && memcmp(fs_known_keys[i].bytes, key, len) == 0) {
            return 1;
        }
    }
    return 0;
}

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
    uint64_t h = 0xcbf29ce484222325u;   /* FNV-1a, 64 bits */
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3u;
    }
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

static int
fs_weak_contains(const struct fs_weak_list *wl, const unsigned char *key,
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
                digits = 0;
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

/* ---------------------------------------------------------------------- */
/* Low variety                                                             */
/* ---------------------------------------------------------------------- */

/* Periods tried: 1 .. max(8, len / 3), never more than len / 2 (the
 * pattern must occur at least twice) nor more than FS_MAX_PERIOD (bounds
 * the work on a huge key). */
#define FS_MAX_PERIOD 256
/* Runs shorter than this do not count towards coverage. */
#define FS_MIN_RUN 4

/* Is b the byte after a in an ascending sequence?  Plain +1, or a wrap
 * within digits ("9" -> "0"), letters ("z" -> "a", "Z" -> "A"), or hex
 * ("9" -> "a"/"A" and "f"/"F" -> "0"). */
static int
fs_is_next(unsigned char a, unsigned char b)
{
    if (b == (unsigned char)(a + 1) && a != 0xff) {
        return 1;
    }
    switch (a) {
    case '9':
        return b == '0' || b == 'a' || b == 'A';
    case 'z':
        return b == 'a';
    case 'Z':
        return b == 'A';
    case 'f':
    case 'F':
        return b == '0';
    default:
        return 0;
    }
}

/* The step from a to b: +1, -1, 0 (same byte), or 2 (none of these). */
static int
fs_step(unsigned char a, unsigned char b)
{
    if (a == b) {
        return 0;
    }
    if (fs_is_next(a, b)) {
        return 1;
    }
    if (fs_is_next(b, a)) {
        return -1;
    }
    return 2;
}

/* Rule (a): fewer than 8 distinct byte values (keys of 8 bytes or more;
 * shorter keys cannot reach 8 and are judged by length instead). */
static int
fs_few_distinct(const unsigned char *key, size_t len)
{
    unsigned char seen[256];
    size_t i, distinct = 0;

    if (len < 8) {
        return 0;
    }
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < len && distinct < 8; i++) {
        if (!seen[key[i]]) {
            seen[key[i]] = 1;
            distinct++;
        }
    }
    return distinct < 8;
}

/* Rule (b): the key is (nearly) one pattern repeated.  For a period p,
 * count positions i >= p with key[i] != key[i - p]; at most (len - p) / 16
 * such mismatches are tolerated (none below 16 compared positions). */
static int
fs_periodic(const unsigned char *key, size_t len)
{
    size_t pmax = len / 3 > 8 ? len / 3 : 8;
    size_t p, i, mism, allowed;

    if (pmax > len / 2) {
        pmax = len / 2;
    }
    if (pmax > FS_MAX_PERIOD) {
        pmax = FS_MAX_PERIOD;
    }
    for (p = 1; p <= pmax; p++) {
        allowed = (len - p) / 16;
        mism = 0;
        for (i = p; i < len && mism <= allowed; i++) {
            mism += key[i] != key[i - p];
        }
        if (mism <= allowed) {
            return 1;
        }
    }
    return 0;
}

/* Rule (c): sequential runs.  A run is a maximal stretch whose bytes all
 * follow each other by the same step: +1 ("abcd", "0123"), -1 ("dcba"),
 * or 0 ("aaaa"), with the wraps of fs_is_next.  Flagged when one run of at
 * least FS_MIN_RUN bytes spans at least half the key, or runs of at least
 * FS_MIN_RUN bytes together cover at least three quarters of it.  Short
 * runs inside a random key ("0123" in a token_hex) do not count. */
static int
fs_sequential(const unsigned char *key, size_t len)
{
    size_t i, run_start = 0, covered = 0, covered_end = 0, longest = 1;
    size_t run_len, from;
    int step = 2, s;

    if (len < FS_MIN_RUN) {
        return 0;
    }
    for (i = 1; i <= len; i++) {
        s = i < len ? fs_step(key[i - 1], key[i]) : 2;
        if (s != 2 && s == step) {
            continue;           /* run goes on */
        }
        /* The run [run_start, i) ends here. */
        run_len = i - run_start;
        if (run_len > longest) {
            longest = run_len;
        }
        if (run_len >= FS_MIN_RUN) {
            from = run_start > covered_end ? run_start : covered_end;
            covered += i - from;
            covered_end = i;
        }
        /* A new run starts at i - 1 (shares that byte) or at i. */
        step = s;
        run_start = s != 2 ? i - 1 : i;
    }
    return (longest >= FS_MIN_RUN && longest * 2 >= len)
           || covered * 4 >= len * 3;
}

static int
fs_secret_low_variety(const unsigned char *key, size_t len)
{
    return fs_few_distinct(key, len) || fs_periodic(key, len)
           || fs_sequential(key, len);
}

/* ---------------------------------------------------------------------- */
/* The verdict                                                             */
/* ---------------------------------------------------------------------- */

static int
fs_is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* A known value: the key itself, the key without surrounding white space
 * (a trailing newline from a file or an environment variable), and a key
 * of hex digits in any case (known hex keys are listed in lower case). */
static int
fs_secret_is_known(const unsigned char *key, size_t len,
                   const struct fs_weak_list *wl)
{
    unsigned char low[128];
    size_t i, hex = 0;

    if (fs_secret_is_builtin(key, len)
        || (wl != NULL && fs_weak_contains(wl, key, len))) {
        return 1;
    }
    while (len > 0 && fs_is_space(key[0])) {
        key++;
        len--;
    }
    while (len > 0 && fs_is_space(key[len - 1])) {
        len--;
    }
    if (len == 0) {
        return 0;
    }
    if (fs_secret_is_builtin(key, len)
        || (wl != NULL && fs_weak_contains(wl, key, len))) {
        return 1;
    }
    for (i = 0; i < len && len <= sizeof(low); i++) {
        unsigned char c = key[i];
        if (c >= 'A' && c <= 'F') {
            c = (unsigned char)(c - 'A' + 'a');
        }
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            break;
        }
        low[hex++] = c;
    }
    return hex == len
           && (fs_secret_is_builtin(low, len)
               || (wl != NULL && fs_weak_contains(wl, low, len)));
}

enum fs_secret_verdict
fs_secret_check(const unsigned char *key, size_t len, size_t min_length,
                const struct fs_weak_list *wl)
{
    if (key == NULL || len == 0) {
        return FS_SECRET_MISSING;
    }
    if (fs_secret_is_known(key, len, wl)) {
        return FS_SECRET_KNOWN;
    }
    if (fs_secret_low_variety(key, len)) {
        return FS_SECRET_LOW_VARIETY;
    }
    if (len < min_length) {
        return FS_SECRET_SHORT;
    }
    return FS_SECRET_OK;
}

const char *
fs_secret_verdict_name(enum fs_secret_verdict v)
{
    switch (v) {
    case FS_SECRET_OK:
        return "ok";
    case FS_SECRET_MISSING:
        return "missing";
    case FS_SECRET_KNOWN:
        return "known value";
    case FS_SECRET_SHORT:
        return "too short";
    case FS_SECRET_LOW_VARIETY:
        return "low variety";
    }
    return "unknown";
}
