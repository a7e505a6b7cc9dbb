/*
 * fs_policy.c -- the policy struct: built-in defaults, copying, freeing,
 * app matching, and the names of enum values.
 *
 * The defaults come from the rows of fs_schema[], so that the built-in
 * policy and the shipped etc/policy.conf are the same by construction.
 * Everything here is pure data handling: no I/O, no global state.
 */
#include "fs_policy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_fnv.h"
#include "fs_policy_int.h"
#include "fs_schema.h"

static char *
fs_strdup_or_null(const char *s, bool *oom)
{
    char *copy;

    if (s == NULL) {
        return NULL;
    }
    copy = strdup(s);
    if (copy == NULL) {
        *oom = true;
    }
    return copy;
}

struct fs_policy *
fs_policy_defaults(void)
{
    struct fs_policy *p = calloc(1, sizeof(*p));
    bool oom = false;
    size_t i;

    if (p == NULL) {
        return NULL;
    }
    for (i = 0; i < fs_schema_count; i++) {
        const struct fs_setting *s = &fs_schema[i];
        void *field = fs_schema_field(s, p, &p->global);

        switch (s->type) {
        case FS_ST_BOOL:
            *(bool *)field = s->def != 0;
            break;
        case FS_ST_INT:
            if (s->flags & FS_SF_CINT) {
                *(int *)field = (int)s->def;
            }
            else {
                *(long long *)field = s->def;
            }
            break;
        case FS_ST_ENUM:
            *(int *)field = (int)s->def;
            break;
        case FS_ST_STRING:
            *(char **)field = fs_strdup_or_null(s->def_str, &oom);
            break;
        case FS_ST_GROUP:
        case FS_ST_PINS:
        case FS_ST_APPS:
            break;
        }
    }
    if (oom) {
        fs_policy_free(p);
        return NULL;
    }
    fs_policy_digest(p, p->digest);
    return p;
}

/* The string rows of struct fs_app_settings, one at a time: the field of
 * row *i or later in s, *i moved past it; NULL after the last. */
static char **
fs_app_string_next(struct fs_app_settings *s, size_t *i)
{
    for (; *i < fs_schema_count; (*i)++) {
        const struct fs_setting *row = &fs_schema[*i];
        if (row->type == FS_ST_STRING && row->scope == FS_SCOPE_APP) {
            return (char **)fs_schema_field(&fs_schema[(*i)++], NULL, s);
        }
    }
    return NULL;
}

void
fs_app_settings_clear(struct fs_app_settings *s)
{
    size_t i = 0;
    char **str;

    while ((str = fs_app_string_next(s, &i)) != NULL) {
        free(*str);
        *str = NULL;
    }
    for (i = 0; i < s->npins; i++) {
        free(s->pins[i].key);
        free(s->pins[i].s);
    }
    free(s->pins);
    s->pins = NULL;
    s->npins = 0;
}

int
fs_pin_set(struct fs_app_settings *s, const struct fs_pin *pin)
{
    struct fs_pin copy = *pin, *slot = NULL;
    size_t i;

    for (i = 0; i < s->npins; i++) {
        if (strcmp(s->pins[i].key, pin->key) == 0) {
            slot = &s->pins[i];
            break;
        }
    }
    copy.key = strdup(pin->key);
    copy.s = pin->type == FS_PIN_STRING && pin->s ? strdup(pin->s) : NULL;
    if (copy.key == NULL || (pin->type == FS_PIN_STRING && pin->s
                             && copy.s == NULL)) {
        free(copy.key);
        free(copy.s);
        return -1;
    }
    if (slot == NULL) {
        struct fs_pin *pins = realloc(s->pins,
                                      (s->npins + 1) * sizeof(*pins));
        if (pins == NULL) {
            free(copy.key);
            free(copy.s);
            return -1;
        }
        s->pins = pins;
        s->pins[s->npins++] = copy;
        return 0;
    }
    free(slot->key);
    free(slot->s);
    *slot = copy;
    return 0;
}

bool
fs_pin_equal(const struct fs_pin *a, const struct fs_pin *b)
{
    if (strcmp(a->key, b->key) != 0 || a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case FS_PIN_BOOL:
        return a->b == b->b;
    case FS_PIN_INT:
        return a->i == b->i;
    case FS_PIN_STRING:
        return strcmp(a->s ? a->s : "", b->s ? b->s : "") == 0;
    }
    return false;
}

int
fs_app_settings_copy(struct fs_app_settings *dst,
                     const struct fs_app_settings *src)
{
    size_t i = 0;
    char **str;
    bool oom = false;

    *dst = *src;
    dst->pins = NULL;
    dst->npins = 0;
    while ((str = fs_app_string_next(dst, &i)) != NULL) {
        *str = NULL;            /* src's until copied: never freed here */
    }
    i = 0;
    while ((str = fs_app_string_next(dst, &i)) != NULL) {
        *str = fs_strdup_or_null(
            *(char *const *)fs_schema_cfield(&fs_schema[i - 1], NULL, src),
            &oom);
    }
    if (oom) {
        fs_app_settings_clear(dst);
        return -1;
    }
    for (i = 0; i < src->npins; i++) {
        if (fs_pin_set(dst, &src->pins[i]) != 0) {
            fs_app_settings_clear(dst);
            return -1;
        }
    }
    return 0;
}

void
fs_policy_free(struct fs_policy *p)
{
    size_t i;

    if (p == NULL) {
        return;
    }
    for (i = 0; i < fs_schema_count; i++) {
        if (fs_schema[i].type == FS_ST_STRING
            && fs_schema[i].scope == FS_SCOPE_POLICY) {
            free(*(char **)fs_schema_field(&fs_schema[i], p, NULL));
        }
    }
    fs_app_settings_clear(&p->global);
    for (i = 0; i < p->napps; i++) {
        free(p->apps[i].match);
        fs_app_settings_clear(&p->apps[i].settings);
    }
    free(p->apps);
    for (i = 0; i < p->nsources; i++) {
        free(p->sources[i]);
    }
    free(p->sources);
    free(p->path);
    free(p);
}

void
fs_policy_digest(const struct fs_policy *p, char out[17])
{
    char *text = NULL;
    size_t len = 0, i;
    uint64_t h = FS_FNV_OFFSET;
    bool line_start = true, comment = false;
    FILE *f = open_memstream(&text, &len);

    out[0] = '\0';
    if (f == NULL) {
        return;
    }
    if (fs_policy_write_ex(f, p, NULL, 0) != 0) {
        fclose(f);
        free(text);
        return;
    }
    if (fclose(f) != 0 || text == NULL) {
        free(text);
        return;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (line_start) {
            comment = c == '#';
        }
        line_start = c == '\n';
        if (!comment) {
            h = fs_fnv1a(h, &c, 1);
        }
    }
    free(text);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

bool
fs_app_match(const char *pattern, const char *import_name)
{
    size_t plen = strlen(pattern);

    if (plen >= 2 && strcmp(pattern + plen - 2, ".*") == 0) {
        size_t base = plen - 2;
        return strncmp(pattern, import_name, base) == 0
               && (import_name[base] == '\0' || import_name[base] == '.');
    }
    return strcmp(pattern, import_name) == 0;
}

/* The apps rule index that import_name selects, or -1. */
static long
fs_policy_rule_for_app(const struct fs_policy *p, const char *import_name)
{
    size_t i;

    if (import_name == NULL) {
        return -1;
    }
    for (i = 0; i < p->napps; i++) {
        if (fs_app_match(p->apps[i].match, import_name)) {
            return (long)i;
        }
    }
    return -1;
}

const struct fs_app_settings *
fs_policy_for_app(const struct fs_policy *p, const char *import_name)
{
    long i = fs_policy_rule_for_app(p, import_name);

    return i < 0 ? &p->global : &p->apps[i].settings;
}

static const char *
fs_enum_word(const char *setting, int value)
{
    const struct fs_setting *s = fs_schema_find(setting, strlen(setting));
    int i;

    for (i = 0; s != NULL && s->words[i] != NULL; i++) {
        if (i == value) {
            return s->words[i];
        }
    }
    return "?";
}

const char *
fs_mode_name(enum fs_mode m)
{
    return fs_enum_word("mode", (int)m);
}

const char *
fs_dev_server_name(enum fs_dev_server d)
{
    return fs_enum_word("dev_server", (int)d);
}

const char *
fs_on_violation_name(enum fs_on_violation v)
{
    return fs_enum_word("secret_key.on_violation", (int)v);
}

void
fs_policy_errors_free(struct fs_policy_errors *errs)
{
    size_t i;

    if (errs == NULL) {
        return;
    }
    for (i = 0; i < errs->count; i++) {
        free(errs->msg[i]);
    }
    free(errs->msg);
    errs->msg = NULL;
    errs->count = 0;
}
