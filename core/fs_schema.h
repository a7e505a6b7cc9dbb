/*
 * fs_schema.h -- the one table of policy settings.
 *
 * Every setting of the policy file is one row of fs_schema[]: its dotted
 * name, its type, where it lives in the C structs, its default, its bounds
 * or words, whether an `apps` entry may override it, and its documentation.
 * The loader (fs_policy_load.c), the writer behind `flaskshield explain`
 * (fs_policy_write.c) and the built-in defaults (fs_policy.c) all walk this
 * table; nothing else knows the list of settings.  Rows are in file order,
 * and a group's row comes right before its members' rows.
 */
#ifndef FS_SCHEMA_H
#define FS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "fs_policy.h"

enum fs_stype {
    FS_ST_BOOL,
    FS_ST_INT,          /* long long */
    FS_ST_STRING,       /* char *, owned */
    FS_ST_ENUM,         /* an enum stored as int; words[] in enum order */
    FS_ST_GROUP,        /* `name = { ... };`, members follow in the table */
    FS_ST_PINS,         /* `config = { KEY = value; ... };` */
    FS_ST_APPS,         /* `apps = ( { match = "..."; ... }, ... );` */
};

/* Which struct the offset points into. */
enum fs_scope {
    FS_SCOPE_POLICY,    /* struct fs_policy */
    FS_SCOPE_APP,       /* struct fs_app_settings (global or per app) */
};

/* Flags: extra checks on strings, storage of ints. */
#define FS_SF_ABSPATH   0x01    /* an absolute path ... */
#define FS_SF_EMPTY_OK  0x02    /* ... or "" */
#define FS_SF_CINT      0x04    /* an int field, not long long */
#define FS_SF_REGULAR   0x08    /* a path that, if it exists, is a regular
                                 * file (not a FIFO, device or directory) */
#define FS_SF_HEADER    0x10    /* an HTTP header value: printable ASCII */
#define FS_SF_CSP       0x20    /* ... that parses as CSP directives */
#define FS_SF_URI       0x40    /* ... one token: no space, ';' or ',' */

struct fs_setting {
    const char *name;           /* dotted path, "secret_key.min_length" */
    enum fs_stype type;
    enum fs_scope scope;
    size_t offset;
    bool in_apps;               /* may appear in an apps entry */
    long long def;              /* bool, int or enum default */
    const char *def_str;        /* string default */
    long long min, max;         /* int bounds, inclusive */
    const char *const *words;   /* enum words, NULL-terminated */
    unsigned flags;             /* FS_SF_* */
    const char *doc;            /* documentation, lines split by '\n' */
};

extern const struct fs_setting fs_schema[];
extern const size_t fs_schema_count;

/* The row named name[0..len), or NULL. */
const struct fs_setting *fs_schema_find(const char *name, size_t len);

/* The last component of a row's name ("min_length"). */
const char *fs_schema_leaf(const struct fs_setting *s);

/* Nesting depth of a row: 0 for top-level settings. */
int fs_schema_depth(const struct fs_setting *s);

/* Address of the row's field in p (FS_SCOPE_POLICY) or app. */
void *fs_schema_field(const struct fs_setting *s, struct fs_policy *p,
                      struct fs_app_settings *app);
const void *fs_schema_cfield(const struct fs_setting *s,
                             const struct fs_policy *p,
                             const struct fs_app_settings *app);

/* Flask config keys that dedicated settings own and `config` may not pin. */
const char *fs_schema_reserved_pin(const char *key);

/* May `key` be pinned to a value of `type` (a string's text `s`)?  A key
 * Flask (or Flask-Login, Flask-WTF) knows takes the types Flask does, and a
 * string from a fixed set one of those; a key that is not one but is one
 * edit from one (10 characters or more) or differs in case is taken for a
 * typo.  Other keys
 * (an app's or an extension's own) may be pinned to anything.  False with
 * the message in msg[n]. */
bool fs_schema_pin_check(const char *key, enum fs_pin_type type,
                         const char *s, char *msg, size_t n);

#endif /* FS_SCHEMA_H */
