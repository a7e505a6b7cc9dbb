/*
 * fs_source.c -- @include expansion, the line map, and the lexical checks.
 *
 * See fs_source.h for the contract.  libconfig's scanner honours
 * `@include "FILE"` only at the start of a line (after blanks) and only
 * outside strings and comments; the lexer below tracks exactly those states
 * (strings with backslash escapes, block comments, and `#` / `//` line
 * comments) so that it expands what libconfig would have expanded and
 * nothing else.  An expanded directive line must hold nothing but the
 * directive and an optional line comment.
 */
#include "fs_source.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fs_file.h"

enum fs_lex_state { FS_LX_CODE, FS_LX_STRING, FS_LX_COMMENT };

struct fs_expand {
    struct fs_source *src;
    struct fs_diag *d;
    struct stat stack[FS_INCLUDE_DEPTH + 1];    /* files being expanded */
    size_t nstack;
    size_t level;                       /* @include nesting */
    bool too_big;
    /* Lexer state of the file being scanned. */
    enum fs_lex_state state;
    unsigned open_line;                 /* where a string/comment began */
    char ident[64];                     /* last name seen */
    char setting[64];                   /* last name followed by = or : */
    /* Where a string may stand: after = : [ ( , (in a list or array) or
     * another string.  open[] holds the brackets still open. */
    bool value_ok;
    char open[64];
    size_t nopen;
};

static void fs_expand_file(struct fs_expand *x, unsigned file,
                           const char *data, size_t len);

static bool
fs_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
fs_is_xdigit(char c)
{
    return fs_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
fs_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
fs_is_name_char(char c)
{
    return fs_is_alpha(c) || fs_is_digit(c) || c == '-' || c == '_'
           || c == '*';
}

static size_t
fs_xline(const struct fs_expand *x)
{
    return x->src->nlines + 1;
}

const char *
fs_source_where(const struct fs_source *src, size_t xline, unsigned *line)
{
    if (src->nlines == 0) {
        *line = (unsigned)xline;
        return src->nfiles ? src->files[0] : "?";
    }
    if (xline == 0) {
        *line = 0;
        return src->files[0];
    }
    if (xline > src->nlines) {
        const struct fs_source_line *last = &src->lines[src->nlines - 1];
        *line = last->line + (unsigned)(xline - src->nlines);
        return src->files[last->file];
    }
    *line = src->lines[xline - 1].line;
    return src->files[src->lines[xline - 1].file];
}

/* Append one line (without its newline) and its origin. */
static void
fs_emit(struct fs_expand *x, unsigned file, unsigned line,
        const char *s, size_t n)
{
    struct fs_source *src = x->src;

    if (x->too_big) {
        return;
    }
    if (src->len + n + 2 > FS_EXPANDED_MAX) {
        x->too_big = true;
        fs_diag_add(x->d, fs_xline(x), "%s:%u: the policy and its includes "
                    "are larger than %d MiB together", src->files[file], line,
                    FS_EXPANDED_MAX / (1024 * 1024));
        return;
    }
    if (src->len + n + 2 > src->cap) {
        size_t cap = src->cap ? src->cap : 4096;
        char *text;
        while (cap < src->len + n + 2) {
            cap *= 2;
        }
        text = realloc(src->text, cap);
        if (text == NULL) {
            x->d->oom = true;
            x->too_big = true;
            return;
        }
        src->text = text;
        src->cap = cap;
    }
    if (src->nlines == src->linecap) {
        size_t cap = src->linecap ? src->linecap * 2 : 256;
        struct fs_source_line *lines = realloc(src->lines,
                                               cap * sizeof(*lines));
        if (lines == NULL) {
            x->d->oom = true;
            x->too_big = true;
            return;
        }
        src->lines = lines;
        src->linecap = cap;
    }
    memcpy(src->text + src->len, s, n);
    src->len += n;
    src->text[src->len++] = '\n';
    src->text[src->len] = '\0';
    src->lines[src->nlines].file = file;
    src->lines[src->nlines].line = line;
    src->nlines++;
}

/* Skip one numeric literal at s[i..n) and flag a 32-bit overflow: libconfig
 * 1.5 stores an integer without an L suffix in an int, silently. */
static size_t
fs_lex_number(struct fs_expand *x, unsigned file, unsigned line,
              const char *s, size_t i, size_t n)
{
    size_t start = i, k;
    bool neg = false, big = false;
    unsigned long long v = 0, limit;

    if (s[i] == '-' || s[i] == '+') {
        neg = s[i] == '-';
        i++;
    }
    if (i + 1 < n && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        for (k = i + 2; k < n && fs_is_xdigit(s[k]); k++) {
            unsigned dv = fs_is_digit(s[k]) ? (unsigned)(s[k] - '0')
                          : (unsigned)((s[k] | 0x20) - 'a' + 10);
            if (v > (ULLONG_MAX >> 4)) {
                big = true;
            }
            v = (v << 4) | dv;
        }
        limit = INT_MAX;
    }
    else {
        for (k = i; k < n && fs_is_digit(s[k]); k++) {
            if (v > (ULLONG_MAX - 9) / 10) {
                big = true;
            }
            else {
                v = v * 10 + (unsigned)(s[k] - '0');
            }
        }
        if (k < n && (s[k] == '.' || s[k] == 'e' || s[k] == 'E')) {
            /* A float: its digits, point, exponent. */
            while (k < n && (fs_is_digit(s[k]) || s[k] == '.'
                             || s[k] == 'e' || s[k] == 'E'
                             || ((s[k] == '-' || s[k] == '+')
                                 && (s[k - 1] == 'e' || s[k - 1] == 'E')))) {
                k++;
            }
            return k;
        }
        limit = neg ? (unsigned long long)INT_MAX + 1 : INT_MAX;
    }
    if (k < n && s[k] == 'L') {
        while (k < n && s[k] == 'L') {
            k++;
        }
        return k;
    }
    if (big || v > limit) {
        int len = (int)(k - start);
        fs_diag_add(x->d, fs_xline(x), "%s:%u: %s%s%.*s does not fit in 32 "
                    "bits; write it with an L suffix (%.*sL)",
                    x->src->files[file], line, x->setting,
                    x->setting[0] ? ": " : "", len, s + start, len,
                    s + start);
    }
    return k;
}

static void
fs_lex_line(struct fs_expand *x, unsigned file, unsigned line,
            const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        char c = s[i];
        char next = i + 1 < n ? s[i + 1] : '\0';

        if (x->state == FS_LX_STRING) {
            if (c == '\\') {
                i += 2;
                continue;
            }
            if (c == '"') {
                x->state = FS_LX_CODE;
                x->value_ok = true;     /* "a" "b" is one string */
            }
            i++;
            continue;
        }
        if (x->state == FS_LX_COMMENT) {
            if (c == '*' && next == '/') {
                x->state = FS_LX_CODE;
                i += 2;
                continue;
            }
            i++;
            continue;
        }
        if (c == '#' || (c == '/' && next == '/')) {
            return;
        }
        if (c == '/' && next == '*') {
            x->state = FS_LX_COMMENT;
            x->open_line = line;
            i += 2;
            continue;
        }
        if (c == '"') {
            if (!x->value_ok && !x->src->no_parse) {
                x->src->no_parse = true;
                fs_diag_add(x->d, fs_xline(x), "%s:%u: syntax error (a "
                            "string cannot stand here)", x->src->files[file],
                            line);
            }
            x->state = FS_LX_STRING;
            x->open_line = line;
            i++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            i++;
            continue;
        }
        x->value_ok = c == '=' || c == ':' || c == '[' || c == '('
                      || (c == ',' && x->nopen > 0
                          && x->open[x->nopen - 1] != '{');
        if (c == '{' || c == '[' || c == '(') {
            if (x->nopen == sizeof(x->open)) {
                if (!x->src->no_parse) {
                    x->src->no_parse = true;
                    fs_diag_add(x->d, fs_xline(x), "%s:%u: nested more than "
                                "%zu deep", x->src->files[file], line,
                                sizeof(x->open));
                }
            }
            else {
                x->open[x->nopen++] = c;
            }
        }
        else if ((c == '}' || c == ']' || c == ')') && x->nopen > 0) {
            x->nopen--;
        }
        if (fs_is_alpha(c) || c == '*') {
            size_t j = i + 1, m;
            while (j < n && fs_is_name_char(s[j])) {
                j++;
            }
            m = j - i < sizeof(x->ident) - 1 ? j - i : sizeof(x->ident) - 1;
            memcpy(x->ident, s + i, m);
            x->ident[m] = '\0';
            i = j;
            continue;
        }
        if (c == '=' || c == ':') {
            memcpy(x->setting, x->ident, sizeof(x->setting));
            i++;
            continue;
        }
        if (fs_is_digit(c)
            || ((c == '-' || c == '+') && (fs_is_digit(next) || next == '.'))
            || (c == '.' && fs_is_digit(next))) {
            i = fs_lex_number(x, file, line, s, i, n);
            continue;
        }
        i++;
    }
}

/* Does s[0..n) start (after blanks) with "@include"?  Then *path and *plen
 * get the quoted file name, or *plen is 0 for a malformed directive. */
static bool
fs_is_include(const char *s, size_t n, const char **path, size_t *plen)
{
    static const char kw[] = "@include";
    size_t i = 0, j, q;

    *path = NULL;
    *plen = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    if (n - i < sizeof(kw) - 1 || memcmp(s + i, kw, sizeof(kw) - 1) != 0) {
        return false;
    }
    i += sizeof(kw) - 1;
    j = i;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    if (i == j || i >= n || s[i] != '"') {
        return true;
    }
    j = ++i;
    while (i < n && s[i] != '"' && s[i] != '\\') {
        i++;
    }
    if (i >= n || s[i] != '"' || i == j) {
        return true;
    }
    q = i++;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) {
        i++;
    }
    if (i < n && s[i] != '#' && !(s[i] == '/' && i + 1 < n
                                  && s[i + 1] == '/')) {
        return true;
    }
    *path = s + j;
    *plen = q - j;
    return true;
}

/* The included file's name: relative to the including file's folder. */
static char *
fs_include_path(const char *including, const char *path, size_t plen)
{
    const char *slash = strrchr(including, '/');
    size_t dlen = (path[0] == '/' || slash == NULL)
                  ? 0 : (size_t)(slash - including) + 1;
    char *out = malloc(dlen + plen + 1);

    if (out == NULL) {
        return NULL;
    }
    memcpy(out, including, dlen);
    memcpy(out + dlen, path, plen);
    out[dlen + plen] = '\0';
    return out;
}

static unsigned
fs_add_file(struct fs_expand *x, const char *name, size_t nlen)
{
    struct fs_source *src = x->src;
    char **files = realloc(src->files, (src->nfiles + 1) * sizeof(*files));
    char *copy = strndup(name, nlen);

    if (files != NULL) {
        src->files = files;
    }
    if (files == NULL || copy == NULL) {
        free(copy);
        x->d->oom = true;
        return UINT_MAX;
    }
    src->files[src->nfiles] = copy;
    return (unsigned)src->nfiles++;
}

/* Expand the directive `@include "path"` found at file:line.  Returns false
 * when nothing was spliced in (the caller then keeps the line count). */
static bool
fs_include(struct fs_expand *x, unsigned file, unsigned line,
           const char *path, size_t plen)
{
    const char *from = x->src->files[file];
    char *name = fs_include_path(from, path, plen);
    char why[256];
    char *data = NULL;
    size_t len = 0, i;
    struct stat st;
    unsigned idx;
    enum fs_lex_state saved_state = x->state;

    if (name == NULL) {
        x->d->oom = true;
        return false;
    }
    if (x->level >= FS_INCLUDE_DEPTH) {
        fs_diag_add(x->d, fs_xline(x), "%s:%u: @include \"%s\": includes "
                    "nested more than %d deep", from, line, name,
                    FS_INCLUDE_DEPTH);
        free(name);
        return false;
    }
    if (fs_file_read(name, &data, &len, &st, why, sizeof(why))
        != FS_FILE_OK) {
        fs_diag_add(x->d, fs_xline(x), "%s:0: %s (included from %s:%u)",
                    name, why, from, line);
        free(name);
        return false;
    }
    for (i = 0; i < x->nstack; i++) {
        if (x->stack[i].st_dev == st.st_dev
            && x->stack[i].st_ino == st.st_ino) {
            fs_diag_add(x->d, fs_xline(x), "%s:%u: @include \"%s\": include "
                        "cycle (the file is already being included)",
                        from, line, name);
            free(data);
            free(name);
            return false;
        }
    }
    idx = fs_add_file(x, name, strlen(name));
    free(name);
    if (idx == UINT_MAX) {
        free(data);
        return false;
    }
    x->stack[x->nstack++] = st;
    x->level++;
    x->state = FS_LX_CODE;
    fs_expand_file(x, idx, data, len);
    x->state = saved_state;
    x->level--;
    x->nstack--;
    free(data);
    return true;
}

static void
fs_expand_file(struct fs_expand *x, unsigned file, const char *data,
               size_t len)
{
    const char *p = data, *end = data + len, *nul;
    unsigned line = 1;

    nul = memchr(data, '\0', len);
    if (nul != NULL) {
        const char *q;
        for (q = data; q < nul; q++) {
            line += *q == '\n';
        }
        fs_diag_add(x->d, fs_xline(x), "%s:%u: contains a NUL byte",
                    x->src->files[file], line);
        return;
    }
    while (p < end && !x->too_big) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
        const char *path;
        size_t plen;

        if (x->state == FS_LX_CODE && fs_is_include(p, n, &path, &plen)) {
            bool spliced = false;
            if (plen == 0) {
                fs_diag_add(x->d, fs_xline(x), "%s:%u: malformed @include: "
                            "expected @include \"FILE\" alone on its line",
                            x->src->files[file], line);
            }
            else {
                spliced = fs_include(x, file, line, path, plen);
            }
            if (!spliced) {
                /* Keep the line so that later lines keep their numbers. */
                fs_emit(x, file, line, "", 0);
            }
        }
        else {
            fs_lex_line(x, file, line, p, n);
            fs_emit(x, file, line, p, n);
        }
        line++;
        p = eol ? eol + 1 : end;
    }
    if (x->state != FS_LX_CODE) {
        x->src->no_parse = true;
    }
    if (x->state == FS_LX_STRING) {
        fs_diag_add(x->d, fs_xline(x), "%s:%u: unterminated string",
                    x->src->files[file], x->open_line);
    }
    else if (x->state == FS_LX_COMMENT) {
        fs_diag_add(x->d, fs_xline(x), "%s:%u: unterminated /* comment",
                    x->src->files[file], x->open_line);
    }
}

void
fs_source_expand(struct fs_source *src, const char *name,
                 const char *data, size_t len, const struct stat *st,
                 struct fs_diag *d)
{
    struct fs_expand x;

    memset(&x, 0, sizeof(x));
    x.src = src;
    x.d = d;
    x.state = FS_LX_CODE;
    if (fs_add_file(&x, name, strlen(name)) == UINT_MAX) {
        return;
    }
    if (st != NULL) {
        x.stack[x.nstack++] = *st;
    }
    fs_expand_file(&x, 0, data, len);
    if (src->text == NULL && !d->oom) {
        src->text = strdup("");
        if (src->text == NULL) {
            d->oom = true;
        }
    }
}

void
fs_source_free(struct fs_source *src)
{
    size_t i;

    for (i = 0; i < src->nfiles; i++) {
        free(src->files[i]);
    }
    free(src->files);
    free(src->text);
    free(src->lines);
    memset(src, 0, sizeof(*src));
}
