/*
 * fs_policy_load.c -- from a policy file and its drop-ins to a struct
 * fs_policy.
 *
 * The steps, for the file and then each drop-in (fs_dropin.c finds them):
 * read the file with the checks of fs_file.c; expand @include and build the
 * line map (fs_source.c); parse the expanded text with libconfig (through
 * fs_libconfig.c, restoring the caller's thread locale, which libconfig 1.5
 * resets to the global one).  Then the trees of settings are walked against
 * fs_schema[] over one struct fs_policy, so that every unknown name, wrong
 * type and out-of-range value is reported with its file and line, and a
 * later file replaces what an earlier one set, key by key.  The global
 * settings of every file are walked first and the `apps` entries of every
 * file last (the file's first, then each drop-in's, one list), because
 * every apps entry starts from a copy of the merged global settings.  Each
 * value remembers where it was set (struct fs_origin).  Any problem in any
 * file rejects the policy as a whole and yields the built-in defaults.
 */
#include "fs_policy.h"

#include <libconfig.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs_diag.h"
#include "fs_dropin.h"
#include "fs_file.h"
#include "fs_libconfig.h"
#include "fs_policy_int.h"
#include "fs_schema.h"
#include "fs_source.h"

/* One file of the policy: the policy file itself or one drop-in. */
struct fs_part {
    struct fs_source src;
    struct fs_diag d;           /* its problems, keyed by expanded line */
    config_t cfg;
    bool parsed;                /* cfg holds a tree (walk, then destroy) */
    unsigned src_base;          /* index of src.files[0] in p->sources */
};

struct fs_walk {
    const struct fs_source *src;
    struct fs_diag *d;
    struct fs_policy *p;
    unsigned src_base;
};

/* Where expanded line xline of the file being walked came from. */
static struct fs_origin
fs_walk_origin(const struct fs_walk *w, unsigned xline)
{
    struct fs_origin o = {0, 0};

    if (xline >= 1 && xline <= w->src->nlines) {
        o.src = w->src_base + w->src->lines[xline - 1].file;
        o.line = w->src->lines[xline - 1].line;
    }
    return o;
}

static void
fs_walk_error(struct fs_walk *w, unsigned xline, const char *ctx,
              const char *name, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
fs_walk_error(struct fs_walk *w, unsigned xline, const char *ctx,
              const char *name, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    unsigned line;
    const char *file = fs_source_where(w->src, xline, &line);

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0) {
        msg = NULL;
    }
    va_end(ap);
    if (msg == NULL) {
        w->d->oom = true;
        return;
    }
    fs_diag_add(w->d, xline, "%s:%u: %s%s: %s", file, line, ctx, name, msg);
    free(msg);
}

/* Number of children of a group, array or list; 0 for a scalar (whose
 * value union holds no list: e.g. `apps = 16.;`). */
/* Does `path` exist as something other than a regular file?  stat()
 * follows links and never opens: a FIFO is seen without blocking. */
static bool
fs_not_regular(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

/* What is wrong with str as the value of a header setting (flags
 * FS_SF_HEADER, FS_SF_CSP, FS_SF_URI), into why; false when nothing.
 * A CR or LF would let the policy write a header of its own; a CSP is
 * directives `name value ...` separated by ";" (CSP 3, section 2.2.1). */
static bool
fs_header_problem(const char *str, unsigned flags, char *why, size_t size)
{
    const char *c, *tok, *end;
    size_t n;
    int directives = 0;

    for (c = str; *c; c++) {
        unsigned char b = (unsigned char)*c;
        if (b == '\r' || b == '\n') {
            snprintf(why, size, "must not contain CR or LF");
            return true;
        }
        if (b >= 0x80) {
            snprintf(why, size, "must be ASCII (byte 0x%02x at %zu)", b,
                     (size_t)(c - str));
            return true;
        }
        if (b < 0x20 || b == 0x7f) {
            snprintf(why, size, "must be printable ASCII (control byte "
                     "0x%02x at %zu)", b, (size_t)(c - str));
            return true;
        }
        if ((flags & (FS_SF_CSP | FS_SF_URI)) && b == ',') {
            snprintf(why, size, "must not contain ',' (it separates "
                     "policies)");
            return true;
        }
        if ((flags & FS_SF_URI) && (b == ' ' || b == '\t' || b == ';')) {
            snprintf(why, size, "must be one URI, without spaces or ';'");
            return true;
        }
    }
    if (!(flags & FS_SF_CSP) || str[0] == '\0') {
        return false;
    }
    for (tok = str; *tok; tok = *end ? end + 1 : end) {
        end = strchr(tok, ';');
        if (end == NULL) {
            end = tok + strlen(tok);
        }
        while (tok < end && (*tok == ' ' || *tok == '\t')) {
            tok++;
        }
        for (n = 0; tok + n < end && tok[n] != ' ' && tok[n] != '\t'; n++) {
            char d = tok[n];
            if (!((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z')
                  || (d >= '0' && d <= '9') || d == '-')) {
                snprintf(why, size, "must be CSP directives \"name value "
                         "...; ...\" (\"%.*s\" is not a directive name)",
                         (int)(end - tok), tok);
                return true;
            }
        }
        directives += n > 0;
    }
    if (directives == 0) {
        snprintf(why, size, "must be CSP directives \"name value ...; "
                 "...\" (got no directive)");
        return true;
    }
    return false;
}

static unsigned
fs_cfg_length(const config_setting_t *s)
{
    if (s->type != CONFIG_TYPE_GROUP && s->type != CONFIG_TYPE_ARRAY
        && s->type != CONFIG_TYPE_LIST) {
        return 0;
    }
    return s->value.list ? s->value.list->length : 0;
}

static const config_setting_t *
fs_cfg_elem(const config_setting_t *s, unsigned i)
{
    return s->value.list->elements[i];
}

static const char *
fs_cfg_type_name(const config_setting_t *s)
{
    switch (s->type) {
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a float";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
        return "an array";
    case CONFIG_TYPE_LIST:
        return "a list";
    default:
        return "unknown";
    }
}

/* "\"a\", \"b\" or \"c\"" into buf. */
static const char *
fs_words_list(const char *const *words, char *buf, size_t size)
{
    size_t i, n = 0, used = 0;

    while (words[n] != NULL) {
        n++;
    }
    buf[0] = '\0';
    for (i = 0; i < n && used < size; i++) {
        int k = snprintf(buf + used, size - used, "%s\"%s\"",
                         i == 0 ? "" : (i == n - 1 ? " or " : ", "),
                         words[i]);
        if (k < 0) {
            break;
        }
        used += (size_t)k;
    }
    return buf;
}

static void
fs_walk_pins(struct fs_walk *w, const config_setting_t *m,
             struct fs_app_settings *app, const char *ctx)
{
    unsigned i;

    for (i = 0; i < fs_cfg_length(m); i++) {
        const config_setting_t *e = fs_cfg_elem(m, i);
        struct fs_pin pin;
        const char *owner = fs_schema_reserved_pin(e->name);
        char name[300], msg[160];

        snprintf(name, sizeof(name), "config.%s", e->name);
        if (owner != NULL) {
            fs_walk_error(w, e->line, ctx, name, "cannot be pinned here; "
                          "%s sets it", owner);
            continue;
        }
        memset(&pin, 0, sizeof(pin));
        pin.key = e->name;
        pin.origin = fs_walk_origin(w, e->line);
        switch (e->type) {
        case CONFIG_TYPE_BOOL:
            pin.type = FS_PIN_BOOL;
            pin.b = e->value.ival != 0;
            break;
        case CONFIG_TYPE_INT:
            pin.type = FS_PIN_INT;
            pin.i = e->value.ival;
            break;
        case CONFIG_TYPE_INT64:
            pin.type = FS_PIN_INT;
            pin.i = e->value.llval;
            break;
        case CONFIG_TYPE_STRING:
            pin.type = FS_PIN_STRING;
            pin.s = e->value.sval;
            break;
        default:
            fs_walk_error(w, e->line, ctx, name, "must be true, false, an "
                          "integer or a string (got %s)",
                          fs_cfg_type_name(e));
            continue;
        }
        if (!fs_schema_pin_check(pin.key, pin.type, pin.s, msg,
                                 sizeof(msg))) {
            fs_walk_error(w, e->line, ctx, name, "%s", msg);
            continue;
        }
        if (fs_pin_set(app, &pin) != 0) {
            w->d->oom = true;
        }
    }
}

static void fs_walk_group(struct fs_walk *w, const config_setting_t *group,
                          const char *prefix, struct fs_app_settings *app,
                          const char *ctx);

static void
fs_walk_value(struct fs_walk *w, const config_setting_t *m,
              const struct fs_setting *s, struct fs_app_settings *app,
              const char *ctx)
{
    void *field = fs_schema_field(s, w->p, app);
    char words[160];
    long long v;
    size_t i;

    switch (s->type) {
    case FS_ST_GROUP:
        if (m->type != CONFIG_TYPE_GROUP) {
            fs_walk_error(w, m->line, ctx, s->name, "must be a group "
                          "{ ... } (got %s)", fs_cfg_type_name(m));
            return;
        }
        fs_walk_group(w, m, s->name, app, ctx);
        return;
    case FS_ST_BOOL:
        if (m->type != CONFIG_TYPE_BOOL) {
            fs_walk_error(w, m->line, ctx, s->name, "must be true or false "
                          "(got %s)", fs_cfg_type_name(m));
            return;
        }
        *(bool *)field = m->value.ival != 0;
        return;
    case FS_ST_INT:
        if (m->type == CONFIG_TYPE_INT) {
            v = m->value.ival;
        }
        else if (m->type == CONFIG_TYPE_INT64) {
            v = m->value.llval;
        }
        else {
            fs_walk_error(w, m->line, ctx, s->name, "must be an integer "
                          "(got %s)", fs_cfg_type_name(m));
            return;
        }
        if (s->min == s->max && v != s->min) {
            fs_walk_error(w, m->line, ctx, s->name, "must be %lld (got %lld)",
                          s->min, v);
            return;
        }
        if (v < s->min) {
            fs_walk_error(w, m->line, ctx, s->name, "must be at least %lld "
                          "(got %lld)", s->min, v);
            return;
        }
        if (v > s->max) {
            fs_walk_error(w, m->line, ctx, s->name, "must be at most %lld "
                          "(got %lld)", s->max, v);
            return;
        }
        if (s->flags & FS_SF_CINT) {
            *(int *)field = (int)v;
        }
        else {
            *(long long *)field = v;
        }
        return;
    case FS_ST_STRING: {
        const char *str;
        char *copy;
        if (m->type != CONFIG_TYPE_STRING) {
            fs_walk_error(w, m->line, ctx, s->name, "must be a string "
                          "(got %s)", fs_cfg_type_name(m));
            return;
        }
        str = m->value.sval ? m->value.sval : "";
        if ((s->flags & FS_SF_ABSPATH) && str[0] != '/'
            && !(str[0] == '\0' && (s->flags & FS_SF_EMPTY_OK))) {
            fs_walk_error(w, m->line, ctx, s->name, "must be an absolute "
                          "path%s (got \"%s\")",
                          (s->flags & FS_SF_EMPTY_OK) ? " or \"\"" : "", str);
            return;
        }
        if ((s->flags & FS_SF_REGULAR) && fs_not_regular(str)) {
            fs_walk_error(w, m->line, ctx, s->name, "must be a regular "
                          "file (\"%s\" exists and is not one)", str);
            return;
        }
        if ((s->flags & FS_SF_HEADER)
            && fs_header_problem(str, s->flags, words, sizeof(words))) {
            fs_walk_error(w, m->line, ctx, s->name, "%s", words);
            return;
        }
        copy = strdup(str);
        if (copy == NULL) {
            w->d->oom = true;
            return;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return;
    }
    case FS_ST_ENUM:
        fs_words_list(s->words, words, sizeof(words));
        if (m->type != CONFIG_TYPE_STRING) {
            fs_walk_error(w, m->line, ctx, s->name, "must be %s (got %s)",
                          words, fs_cfg_type_name(m));
            return;
        }
        for (i = 0; s->words[i] != NULL; i++) {
            if (strcmp(s->words[i], m->value.sval) == 0) {
                *(int *)field = (int)i;
                return;
            }
        }
        fs_walk_error(w, m->line, ctx, s->name, "must be %s (got \"%s\")",
                      words, m->value.sval);
        return;
    case FS_ST_PINS:
        if (m->type != CONFIG_TYPE_GROUP) {
            fs_walk_error(w, m->line, ctx, s->name, "must be a group "
                          "{ KEY = value; ... } (got %s)",
                          fs_cfg_type_name(m));
            return;
        }
        fs_walk_pins(w, m, app, ctx);
        return;
    case FS_ST_APPS:
        return;                 /* walked last, by fs_walk_apps() */
    }
}

static void
fs_walk_group(struct fs_walk *w, const config_setting_t *group,
              const char *prefix, struct fs_app_settings *app,
              const char *ctx)
{
    bool in_app = ctx[0] != '\0';
    unsigned i;
    size_t before;

    for (i = 0; i < fs_cfg_length(group); i++) {
        const config_setting_t *m = fs_cfg_elem(group, i);
        const struct fs_setting *s;
        char name[300];

        if (in_app && prefix[0] == '\0' && strcmp(m->name, "match") == 0) {
            continue;           /* read by fs_walk_apps() */
        }
        snprintf(name, sizeof(name), "%s%s%s", prefix,
                 prefix[0] ? "." : "", m->name);
        s = fs_schema_find(name, strlen(name));
        if (s == NULL) {
            fs_walk_error(w, m->line, ctx, name, "unknown setting");
            continue;
        }
        if (in_app && !s->in_apps) {
            fs_walk_error(w, m->line, ctx, name, "not allowed in an apps "
                          "entry");
            continue;
        }
        before = w->d->count;
        fs_walk_value(w, m, s, app, ctx);
        if (w->d->count == before && s->type != FS_ST_APPS) {
            app->origin[s - fs_schema] = fs_walk_origin(w, m->line);
        }
    }
}

/* A valid match: an import name ("pkg.mod", "__main__"), optionally
 * followed by ".*". */
static bool
fs_match_valid(const char *m)
{
    size_t n = strlen(m), i;

    if (n >= 2 && strcmp(m + n - 2, ".*") == 0) {
        n -= 2;
    }
    if (n == 0 || m[0] == '.' || m[n - 1] == '.') {
        return false;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)m[i];
        if (!(c >= 0x80 || c == '_' || c == '.' || (c >= '0' && c <= '9')
              || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            return false;
        }
        if (c == '.' && m[i + 1] == '.') {
            return false;
        }
    }
    return true;
}

/* Is rule i never reached because an earlier rule matches all it does? */
static long
fs_rule_shadowed(const struct fs_policy *p, size_t i)
{
    const char *mi = p->apps[i].match;
    size_t n = strlen(mi), j;
    bool prefix = n >= 2 && strcmp(mi + n - 2, ".*") == 0;

    for (j = 0; j < i; j++) {
        const char *mj = p->apps[j].match;
        size_t nj = strlen(mj);
        bool prefix_j = nj >= 2 && strcmp(mj + nj - 2, ".*") == 0;
        if (prefix) {
            char *base = strndup(mi, n - 2);
            bool hit = base != NULL && prefix_j && fs_app_match(mj, base);
            free(base);
            if (hit) {
                return (long)j;
            }
        }
        else if (fs_app_match(mj, mi)) {
            return (long)j;
        }
    }
    return -1;
}

/* " in FILE:LINE" when rule j was set in another file than the one being
 * walked, else "". */
static void
fs_rule_elsewhere(const struct fs_walk *w, size_t j, char *buf, size_t size)
{
    const struct fs_origin *o = &w->p->apps[j].origin;

    buf[0] = '\0';
    if (o->line > 0 && o->src < w->src_base && o->src < w->p->nsources) {
        snprintf(buf, size, " in %s:%u", w->p->sources[o->src], o->line);
    }
}

/* The entries of one file's `apps`, appended to p->apps (the index in
 * messages is the entry's place in that one list). */
static void
fs_walk_apps(struct fs_walk *w, const config_setting_t *m)
{
    struct fs_policy *p = w->p;
    unsigned i, n = fs_cfg_length(m), base = (unsigned)p->napps;
    struct fs_app_rule *apps;

    if (m->type != CONFIG_TYPE_LIST
        && !(m->type == CONFIG_TYPE_ARRAY && n == 0)) {
        fs_walk_error(w, m->line, "", "apps", "must be a list "
                      "( { match = \"...\"; ... }, ... ) (got %s)",
                      fs_cfg_type_name(m));
        return;
    }
    p->global.origin[fs_schema_find("apps", 4) - fs_schema]
        = fs_walk_origin(w, m->line);
    if (n == 0) {
        return;
    }
    apps = realloc(p->apps, (p->napps + n) * sizeof(*p->apps));
    if (apps == NULL) {
        w->d->oom = true;
        return;
    }
    p->apps = apps;
    memset(p->apps + p->napps, 0, n * sizeof(*p->apps));
    for (i = 0; i < n; i++) {
        const config_setting_t *e = fs_cfg_elem(m, i);
        const config_setting_t *match = NULL;
        struct fs_app_rule *rule = &p->apps[p->napps];
        char ctx[40], where[300];
        unsigned k;
        long shadow;

        snprintf(ctx, sizeof(ctx), "apps[%u]", base + i);
        if (e->type != CONFIG_TYPE_GROUP) {
            fs_walk_error(w, e->line, "", ctx, "must be a group "
                          "{ match = \"...\"; ... } (got %s)",
                          fs_cfg_type_name(e));
            continue;
        }
        for (k = 0; k < fs_cfg_length(e); k++) {
            if (strcmp(fs_cfg_elem(e, k)->name, "match") == 0) {
                match = fs_cfg_elem(e, k);
            }
        }
        if (fs_app_settings_copy(&rule->settings, &p->global) != 0) {
            w->d->oom = true;
            return;
        }
        rule->origin = fs_walk_origin(w, match ? match->line : e->line);
        p->napps++;
        if (match == NULL) {
            fs_walk_error(w, e->line, ctx, "", "match is required");
        }
        else if (match->type != CONFIG_TYPE_STRING) {
            fs_walk_error(w, match->line, ctx, ".match", "must be a string "
                          "(got %s)", fs_cfg_type_name(match));
        }
        else if (!fs_match_valid(match->value.sval)) {
            fs_walk_error(w, match->line, ctx, ".match", "must be an import "
                          "name, or one followed by \".*\" (got \"%s\")",
                          match->value.sval);
        }
        else {
            rule->match = strdup(match->value.sval);
            if (rule->match == NULL) {
                w->d->oom = true;
                return;
            }
            shadow = fs_rule_shadowed(p, p->napps - 1);
            if (shadow >= 0) {
                fs_rule_elsewhere(w, (size_t)shadow, where, sizeof(where));
                fs_walk_error(w, match->line, ctx, ".match", "\"%s\" is "
                              "never used: apps[%ld] (match \"%s\"%s) "
                              "comes first", rule->match, shadow,
                              p->apps[shadow].match, where);
            }
        }
        if (rule->match == NULL) {
            rule->match = strdup("");
            if (rule->match == NULL) {
                w->d->oom = true;
                return;
            }
        }
        strcat(ctx, ".");
        fs_walk_group(w, e, "", &rule->settings, ctx);
    }
}

/* For libconfig's "duplicate setting name", which does not say which: a
 * name assigned twice on the error line, else the first name assigned. */
static void
fs_line_name(const struct fs_source *src, unsigned xline, char *buf,
             size_t size)
{
    const char *s = src->text, *names[32];
    size_t lens[32], n = 0, i, j;
    unsigned line = 1;

    buf[0] = '\0';
    while (*s && line < xline) {
        line += *s++ == '\n';
    }
    while (*s && *s != '\n' && n < 32) {
        const char *start = s, *t;
        while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
               || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'
               || *s == '*') {
            s++;
        }
        if (s == start) {
            s++;
            continue;
        }
        for (t = s; *t == ' ' || *t == '\t'; t++) {
        }
        if (*t == '=' || *t == ':') {
            names[n] = start;
            lens[n++] = (size_t)(s - start);
        }
    }
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            if (lens[i] == lens[j] && memcmp(names[i], names[j], lens[i]) == 0
                && lens[i] < size) {
                memcpy(buf, names[i], lens[i]);
                buf[lens[i]] = '\0';
                return;
            }
        }
    }
    if (n > 0 && lens[0] < size) {
        memcpy(buf, names[0], lens[0]);
        buf[lens[0]] = '\0';
    }
}

/* Parse the expanded text of part into part->cfg (part->parsed). */
static void
fs_part_parse(struct fs_part *part)
{
    const struct fs_libconfig *lc = fs_libconfig();
    const struct fs_source *src = &part->src;
    struct fs_diag *d = &part->d;
    locale_t saved;

    if (lc == NULL) {
        fs_diag_add(d, 0, "%s:0: libconfig.so.9 not available",
                    src->files[0]);
        return;
    }
    /* libconfig 1.5 ends every parse with uselocale(LC_GLOBAL_LOCALE). */
    saved = uselocale((locale_t)0);
    lc->init(&part->cfg);
    part->parsed = lc->read_string(&part->cfg, src->text);
    uselocale(saved);
    if (!part->parsed) {
        config_t *cfg = &part->cfg;
        unsigned line, xline = cfg->error_line > 0 ? (unsigned)cfg->error_line
                                                   : 0;
        const char *file = fs_source_where(src, xline, &line);
        const char *text = cfg->error_text ? cfg->error_text : "syntax error";
        char name[64];

        fs_line_name(src, xline, name, sizeof(name));
        if (strcmp(text, "duplicate setting name") == 0 && name[0]) {
            fs_diag_add(d, xline, "%s:%u: %s: duplicate setting (each "
                        "setting may appear once in a group)", file, line,
                        name);
        }
        else {
            fs_diag_add(d, xline, "%s:%u: %s", file, line, text);
        }
        lc->destroy(cfg);
    }
}

/* Read, expand and parse one part from data (the file's contents). */
static void
fs_part_load(struct fs_part *part, const char *name, const char *data,
             size_t len, const struct stat *st)
{
    fs_source_expand(&part->src, name, data, len, st, &part->d);
    if (part->src.text != NULL && !part->src.no_parse) {
        fs_part_parse(part);
    }
}

/* A drop-in: read with the checks of fs_file.c, then fs_part_load(). */
static void
fs_part_load_file(struct fs_part *part, const char *path)
{
    char why[256];
    char *data = NULL;
    size_t len = 0;
    struct stat st;

    if (fs_file_read(path, &data, &len, &st, why, sizeof(why))
        != FS_FILE_OK) {
        fs_diag_add(&part->d, 0, "%s:0: %s", path, why);
        return;
    }
    fs_part_load(part, path, data, len, &st);
    free(data);
}

static int
fs_push_source(struct fs_policy *p, const char *name)
{
    char **sources = realloc(p->sources,
                             (p->nsources + 1) * sizeof(*sources));
    char *copy = strdup(name);

    if (sources != NULL) {
        p->sources = sources;
    }
    if (sources == NULL || copy == NULL) {
        free(copy);
        return -1;
    }
    p->sources[p->nsources++] = copy;
    return 0;
}

/* Build the policy from the parts (parts[0] the policy file, the others
 * its drop-ins, dir the drop-in folder or NULL): p->sources, then the
 * global settings of every part, then their apps entries.  Problems go to
 * d, in file order. */
static void
fs_merge(struct fs_policy *p, struct fs_part *parts, size_t nparts,
         const char *dir, struct fs_diag *dirdiag, struct fs_diag *d)
{
    size_t k, f, offset = 0;
    unsigned i;
    bool oom = false;

    for (k = 0; k < nparts; k++) {
        parts[k].src_base = (unsigned)p->nsources;
        for (f = 0; f < parts[k].src.nfiles; f++) {
            oom = oom || fs_push_source(p, parts[k].src.files[f]) != 0;
        }
        if (k == 0 && dir != NULL) {
            oom = oom || fs_push_source(p, dir) != 0;
        }
    }
    if (oom) {
        d->oom = true;
    }
    for (k = 0; k < nparts; k++) {
        struct fs_walk w = {&parts[k].src, &parts[k].d, p, parts[k].src_base};
        if (parts[k].parsed) {
            fs_walk_group(&w, parts[k].cfg.root, "", &p->global, "");
        }
    }
    for (k = 0; k < nparts; k++) {
        struct fs_walk w = {&parts[k].src, &parts[k].d, p, parts[k].src_base};
        const config_setting_t *root = parts[k].cfg.root;
        if (!parts[k].parsed) {
            continue;
        }
        for (i = 0; i < fs_cfg_length(root); i++) {
            const config_setting_t *m = fs_cfg_elem(root, i);
            if (strcmp(m->name, "apps") == 0) {
                fs_walk_apps(&w, m);
            }
        }
    }
    /* Each part's problems after the previous part's: its keys (expanded
     * lines, at most nlines + 1) raised past them. */
    for (k = 0; k < nparts; k++) {
        fs_diag_move(d, &parts[k].d, offset);
        offset += parts[k].src.nlines + 2;
        if (k == 0 && dirdiag != NULL) {
            fs_diag_move(d, dirdiag, offset);
            offset += 1;
        }
    }
}

static void
fs_parts_free(struct fs_part *parts, size_t nparts)
{
    const struct fs_libconfig *lc = fs_libconfig();
    size_t k;

    for (k = 0; k < nparts; k++) {
        if (parts[k].parsed && lc != NULL) {
            lc->destroy(&parts[k].cfg);
        }
        fs_source_free(&parts[k].src);
        fs_diag_clear(&parts[k].d);
    }
    free(parts);
}

/* The policy from data (the contents of the file name), and, when
 * dropins, the drop-ins of name.  Same contract as fs_policy_load(). */
static int
fs_policy_assemble(const char *name, const char *data, size_t len,
                   const struct stat *st, bool dropins,
                   struct fs_policy **out, struct fs_policy_errors *errs)
{
    struct fs_diag d, dirdiag;
    struct fs_policy *p = fs_policy_defaults();
    struct fs_part *parts = NULL;
    size_t nparts = 1, k, ndropins = 0;
    char *dir = NULL, **paths = NULL;
    bool failed;

    memset(&d, 0, sizeof(d));
    memset(&dirdiag, 0, sizeof(dirdiag));
    if (dropins) {
        dir = fs_dropin_dir(name);
        if (dir == NULL) {
            d.oom = true;
        }
        else {
            fs_dropin_list(dir, &paths, &ndropins, NULL, &dirdiag, 0);
        }
        nparts += ndropins;
    }
    parts = calloc(nparts, sizeof(*parts));
    if (p == NULL || parts == NULL) {
        d.oom = true;
    }
    else {
        fs_part_load(&parts[0], name, data, len, st);
        for (k = 0; k < ndropins; k++) {
            fs_part_load_file(&parts[k + 1], paths[k]);
        }
        fs_merge(p, parts, nparts, dir, &dirdiag, &d);
        if (!fs_diag_failed(&d)) {
            p->path = strdup(name);
            if (p->path == NULL) {
                d.oom = true;
            }
            p->ndropins = ndropins;
        }
    }
    if (parts != NULL) {
        fs_parts_free(parts, nparts);
    }
    fs_diag_move(&d, &dirdiag, 0);      /* left there only without parts */
    fs_dropin_free(paths, ndropins);
    free(dir);
    failed = fs_diag_failed(&d);
    fs_diag_finish(&d, errs);
    if (failed) {
        fs_policy_free(p);
        *out = fs_policy_defaults();
        return -1;
    }
    p->from_file = true;
    fs_policy_digest(p, p->digest);
    *out = p;
    return 0;
}

int
fs_policy_load_buffer(const char *name, const char *data, size_t len,
                      const struct stat *st, struct fs_policy **out,
                      struct fs_policy_errors *errs)
{
    return fs_policy_assemble(name, data, len, st, false, out, errs);
}

int
fs_policy_load_file(const char *path, struct fs_policy **out,
                    struct fs_policy_errors *errs, bool *missing)
{
    char why[256];
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    enum fs_file_status status;
    int rc;

    status = fs_file_read(path, &data, &len, &st, why, sizeof(why));
    if (missing != NULL) {
        *missing = status == FS_FILE_MISSING;
    }
    if (status == FS_FILE_MISSING) {
        /* Drop-ins are read only with their file: a folder of them beside
         * no file is a mistake that would otherwise pass unseen. */
        char *dir = fs_dropin_dir(path), **paths = NULL;
        size_t n = 0;
        int listed = 0;
        struct fs_diag dd;

        memset(&dd, 0, sizeof(dd));
        if (dir != NULL) {
            listed = fs_dropin_list(dir, &paths, &n, NULL, &dd, 0);
        }
        fs_diag_clear(&dd);
        fs_dropin_free(paths, n);
        /* Entries that are refused count too: a folder of broken drop-ins
         * must not pass for no policy at all. */
        if (n > 0 || listed != 0) {
            snprintf(why + strlen(why), sizeof(why) - strlen(why),
                     " (and %s holds drop-ins, which are read only with "
                     "the file)", dir);
            status = FS_FILE_REJECTED;
            if (missing != NULL) {
                *missing = false;
            }
        }
        free(dir);
    }
    if (status != FS_FILE_OK) {
        struct fs_diag d;
        memset(&d, 0, sizeof(d));
        fs_diag_add(&d, 0, "%s:0: %s", path, why);
        fs_diag_finish(&d, errs);
        *out = fs_policy_defaults();
        return -1;
    }
    rc = fs_policy_assemble(path, data, len, &st, true, out, errs);
    free(data);
    return rc;
}

int
fs_policy_load(const char *path, struct fs_policy **out,
               struct fs_policy_errors *errs)
{
    if (errs != NULL) {
        errs->msg = NULL;
        errs->count = 0;
    }
    return fs_policy_load_file(path, out, errs, NULL);
}
