/*
 * fs_policy_load.c -- from a policy file to a struct fs_policy.
 *
 * The steps: read the file with the checks of fs_file.c; expand @include
 * and build the line map (fs_source.c); parse the expanded text with
 * libconfig (through fs_libconfig.c, restoring the caller's thread locale,
 * which libconfig 1.5 resets to the global one); then walk the tree of
 * settings against fs_schema[], so that every unknown name, wrong type and
 * out-of-range value is reported with its file and line.  Global settings
 * are walked first and `apps` last, because every apps entry starts from a
 * copy of the global settings.  Any problem rejects the file as a whole and
 * yields the built-in defaults.
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
#include "fs_file.h"
#include "fs_libconfig.h"
#include "fs_policy_int.h"
#include "fs_schema.h"
#include "fs_source.h"

struct fs_walk {
    const struct fs_source *src;
    struct fs_diag *d;
    struct fs_policy *p;
};

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
        char name[300];

        snprintf(name, sizeof(name), "config.%s", e->name);
        if (owner != NULL) {
            fs_walk_error(w, e->line, ctx, name, "cannot be pinned here; "
                          "%s sets it", owner);
            continue;
        }
        memset(&pin, 0, sizeof(pin));
        pin.key = e->name;
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
        fs_walk_value(w, m, s, app, ctx);
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

static void
fs_walk_apps(struct fs_walk *w, const config_setting_t *m)
{
    struct fs_policy *p = w->p;
    unsigned i, n = fs_cfg_length(m);

    if (m->type != CONFIG_TYPE_LIST
        && !(m->type == CONFIG_TYPE_ARRAY && n == 0)) {
        fs_walk_error(w, m->line, "", "apps", "must be a list "
                      "( { match = \"...\"; ... }, ... ) (got %s)",
                      fs_cfg_type_name(m));
        return;
    }
    if (n == 0) {
        return;
    }
    p->apps = calloc(n, sizeof(*p->apps));
    if (p->apps == NULL) {
        w->d->oom = true;
        return;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *e = fs_cfg_elem(m, i);
        const config_setting_t *match = NULL;
        struct fs_app_rule *rule = &p->apps[p->napps];
        char ctx[40];
        unsigned k;
        long shadow;

        snprintf(ctx, sizeof(ctx), "apps[%u]", i);
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
                fs_walk_error(w, match->line, ctx, ".match", "\"%s\" is "
                              "never used: apps[%ld] (match \"%s\") comes "
                              "first", rule->match, shadow,
                              p->apps[shadow].match);
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

static void
fs_parse(const struct fs_source *src, struct fs_policy *p, struct fs_diag *d)
{
    const struct fs_libconfig *lc = fs_libconfig();
    struct fs_walk w = {src, d, p};
    locale_t saved;
    config_t cfg;
    int ok;
    unsigned i;

    if (lc == NULL) {
        fs_diag_add(d, 0, "%s:0: libconfig.so.9 not available",
                    src->files[0]);
        return;
    }
    /* libconfig 1.5 ends every parse with uselocale(LC_GLOBAL_LOCALE). */
    saved = uselocale((locale_t)0);
    lc->init(&cfg);
    ok = lc->read_string(&cfg, src->text);
    uselocale(saved);
    if (!ok) {
        unsigned line, xline = cfg.error_line > 0 ? (unsigned)cfg.error_line
                                                  : 0;
        const char *file = fs_source_where(src, xline, &line);
        const char *text = cfg.error_text ? cfg.error_text : "syntax error";
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
        lc->destroy(&cfg);
        return;
    }
    fs_walk_group(&w, cfg.root, "", &p->global, "");
    for (i = 0; i < fs_cfg_length(cfg.root); i++) {
        const config_setting_t *m = fs_cfg_elem(cfg.root, i);
        if (strcmp(m->name, "apps") == 0) {
            fs_walk_apps(&w, m);
        }
    }
    lc->destroy(&cfg);
}

int
fs_policy_load_buffer(const char *name, const char *data, size_t len,
                      const struct stat *st, struct fs_policy **out,
                      struct fs_policy_errors *errs)
{
    struct fs_diag d;
    struct fs_source src;
    struct fs_policy *p = fs_policy_defaults();
    bool failed;

    memset(&d, 0, sizeof(d));
    memset(&src, 0, sizeof(src));
    if (p == NULL) {
        d.oom = true;
    }
    else {
        fs_source_expand(&src, name, data, len, st, &d);
        if (src.text != NULL && !src.no_parse) {
            fs_parse(&src, p, &d);
        }
        if (!fs_diag_failed(&d)) {
            p->path = strdup(name);
            if (p->path == NULL) {
                d.oom = true;
            }
            /* The files read: the reload check stats them. */
            p->sources = src.files;
            p->nsources = src.nfiles;
            src.files = NULL;
            src.nfiles = 0;
        }
    }
    failed = fs_diag_failed(&d);
    fs_diag_finish(&d, errs);
    fs_source_free(&src);
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
    if (status != FS_FILE_OK) {
        struct fs_diag d;
        memset(&d, 0, sizeof(d));
        fs_diag_add(&d, 0, "%s:0: %s", path, why);
        fs_diag_finish(&d, errs);
        *out = fs_policy_defaults();
        return -1;
    }
    rc = fs_policy_load_buffer(path, data, len, &st, out, errs);
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
