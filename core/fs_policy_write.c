/*
 * fs_policy_write.c -- a struct fs_policy back to libconfig text.
 *
 * Behind `flaskshield explain` and the shipped etc/policy.conf.  The
 * output walks fs_schema[] in order, so it always names every setting; a
 * value that differs from the built-in default carries a "# default: ..."
 * comment.  An `apps` entry lists only what differs from the global
 * settings (its merged settings are rebuilt identically when the output is
 * loaded again), so writing, loading and writing again gives the same bytes.
 * With FS_WRITE_DOC every setting is preceded by its documentation; with
 * FS_WRITE_ORIGIN every setting line ends in a comment naming the file and
 * line that set it (the policy file, an include or a drop-in), or "built-in
 * default".
 */
#include "fs_policy.h"

#include <limits.h>
#include <string.h>

#include "fs_policy_int.h"
#include "fs_schema.h"

struct fs_writer {
    FILE *f;
    const struct fs_policy *p;
    unsigned flags;
};

static void
fs_put_indent(FILE *f, int indent)
{
    fprintf(f, "%*s", indent * 4, "");
}

static void
fs_put_int(FILE *f, long long v)
{
    /* libconfig 1.5 truncates integers without L to 32 bits. */
    fprintf(f, "%lld%s", v, (v > INT_MAX || v < INT_MIN) ? "L" : "");
}

static void
fs_put_string(FILE *f, const char *s)
{
    const unsigned char *c;

    fputc('"', f);
    for (c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\f':
            fputs("\\f", f);
            break;
        default:
            if (*c < 0x20 || *c == 0x7f) {
                fprintf(f, "\\x%02x", *c);
            }
            else {
                fputc(*c, f);
            }
        }
    }
    fputc('"', f);
}

/* With FS_WRITE_ORIGIN: "  # set in FILE:LINE" or "  # built-in default"
 * (after "; " instead of "  # " when a comment is open already). */
static void
fs_put_origin(struct fs_writer *w, const struct fs_origin *o, bool open)
{
    const struct fs_policy *p = w->p;

    if (!(w->flags & FS_WRITE_ORIGIN)) {
        return;
    }
    fputs(open ? "; " : "  # ", w->f);
    if (o->line == 0 || o->src >= p->nsources) {
        fputs("built-in default", w->f);
    }
    else {
        fprintf(w->f, "set in %s:%u", p->sources[o->src], o->line);
    }
}

static const struct fs_origin *
fs_row_origin(const struct fs_app_settings *app, const struct fs_setting *s)
{
    return &app->origin[s - fs_schema];
}

static void
fs_put_doc(struct fs_writer *w, const struct fs_setting *s, int indent)
{
    const char *line = s->doc, *nl;

    if (!(w->flags & FS_WRITE_DOC) || line == NULL) {
        return;
    }
    if (indent == 0) {
        fputc('\n', w->f);
    }
    for (;;) {
        nl = strchr(line, '\n');
        fs_put_indent(w->f, indent);
        fprintf(w->f, "# %.*s\n", nl ? (int)(nl - line) : (int)strlen(line),
                line);
        if (nl == NULL) {
            break;
        }
        line = nl + 1;
    }
}

/* Does row s hold the same value in a and b (settings of p)? */
static bool
fs_same(const struct fs_setting *s, const struct fs_policy *p,
        const struct fs_app_settings *a, const struct fs_app_settings *b)
{
    const void *fa = fs_schema_cfield(s, p, a), *fb = fs_schema_cfield(s, p, b);

    switch (s->type) {
    case FS_ST_BOOL:
        return *(const bool *)fa == *(const bool *)fb;
    case FS_ST_INT:
        if (s->flags & FS_SF_CINT) {
            return *(const int *)fa == *(const int *)fb;
        }
        return *(const long long *)fa == *(const long long *)fb;
    case FS_ST_ENUM:
        return *(const int *)fa == *(const int *)fb;
    case FS_ST_STRING: {
        const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;
        return strcmp(sa ? sa : "", sb ? sb : "") == 0;
    }
    default:
        return true;
    }
}

/* Is row j a member (at any depth) of group row g? */
static bool
fs_in_group(size_t g, size_t j)
{
    size_t n = strlen(fs_schema[g].name);

    return j < fs_schema_count && strncmp(fs_schema[j].name,
                                          fs_schema[g].name, n) == 0
           && fs_schema[j].name[n] == '.';
}

/* Does the group row g hold anything to write: always for the whole
 * policy (base NULL), else a member an apps entry may set that differs
 * from base. */
static bool
fs_group_differs(const struct fs_writer *w, size_t g,
                 const struct fs_app_settings *app,
                 const struct fs_app_settings *base)
{
    size_t j;

    for (j = g + 1; fs_in_group(g, j); j++) {
        if (base == NULL || (fs_schema[j].in_apps
                             && !fs_same(&fs_schema[j], w->p, app, base))) {
            return true;
        }
    }
    return false;
}

static void fs_put_scalar(struct fs_writer *w, const struct fs_setting *s,
                          const struct fs_app_settings *app, int indent);

/* `name = { ... };` for group row g and its members (groups nested in it
 * too); returns the index of the first row after them. */
static size_t
fs_put_group(struct fs_writer *w, size_t g, const struct fs_app_settings *app,
             const struct fs_app_settings *base, int indent)
{
    const struct fs_setting *s = &fs_schema[g];
    size_t j = g + 1;

    if (!fs_group_differs(w, g, app, base)) {
        while (fs_in_group(g, j)) {
            j++;
        }
        return j;
    }
    fs_put_doc(w, s, indent);
    fs_put_indent(w->f, indent);
    fprintf(w->f, "%s = {\n", fs_schema_leaf(s));
    while (fs_in_group(g, j)) {
        if (fs_schema[j].type == FS_ST_GROUP) {
            j = fs_put_group(w, j, app, base, indent + 1);
            continue;
        }
        if (base == NULL || (fs_schema[j].in_apps
                             && !fs_same(&fs_schema[j], w->p, app, base))) {
            fs_put_scalar(w, &fs_schema[j], app, indent + 1);
        }
        j++;
    }
    fs_put_indent(w->f, indent);
    fputs("};\n", w->f);
    return j;
}

/* Write "leaf = value;" with a default comment when it differs. */
static void
fs_put_scalar(struct fs_writer *w, const struct fs_setting *s,
              const struct fs_app_settings *app, int indent)
{
    const void *field = fs_schema_cfield(s, w->p, app);
    FILE *f = w->f;
    bool differs = false;

    fs_put_doc(w, s, indent);
    fs_put_indent(f, indent);
    fprintf(f, "%s = ", fs_schema_leaf(s));
    switch (s->type) {
    case FS_ST_BOOL:
        fputs(*(const bool *)field ? "true" : "false", f);
        differs = *(const bool *)field != (s->def != 0);
        break;
    case FS_ST_INT: {
        long long v = (s->flags & FS_SF_CINT) ? *(const int *)field
                                              : *(const long long *)field;
        fs_put_int(f, v);
        differs = v != s->def;
        break;
    }
    case FS_ST_ENUM:
        fs_put_string(f, s->words[*(const int *)field]);
        differs = *(const int *)field != s->def;
        break;
    case FS_ST_STRING: {
        const char *v = *(char *const *)field;
        fs_put_string(f, v ? v : "");
        differs = strcmp(v ? v : "", s->def_str ? s->def_str : "") != 0;
        break;
    }
    default:
        break;
    }
    fputc(';', f);
    if (differs) {
        fputs("  # default: ", f);
        switch (s->type) {
        case FS_ST_BOOL:
            fputs(s->def ? "true" : "false", f);
            break;
        case FS_ST_INT:
            fs_put_int(f, s->def);
            break;
        case FS_ST_ENUM:
            fs_put_string(f, s->words[s->def]);
            break;
        default:
            fs_put_string(f, s->def_str ? s->def_str : "");
        }
    }
    fs_put_origin(w, fs_row_origin(app, s), differs);
    fputc('\n', f);
}

static void
fs_put_pin(struct fs_writer *w, const struct fs_pin *pin, int indent)
{
    FILE *f = w->f;

    fs_put_indent(f, indent);
    fprintf(f, "%s = ", pin->key);
    switch (pin->type) {
    case FS_PIN_BOOL:
        fputs(pin->b ? "true" : "false", f);
        break;
    case FS_PIN_INT:
        fs_put_int(f, pin->i);
        break;
    case FS_PIN_STRING:
        fs_put_string(f, pin->s ? pin->s : "");
        break;
    }
    fputc(';', f);
    fs_put_origin(w, &pin->origin, false);
    fputc('\n', f);
}

static bool
fs_pin_inherited(const struct fs_pin *pin, const struct fs_app_settings *base)
{
    size_t i;

    for (i = 0; base != NULL && i < base->npins; i++) {
        if (fs_pin_equal(pin, &base->pins[i])) {
            return true;
        }
    }
    return false;
}

/* `config = { ... };`, all pins, or those not inherited from base. */
static void
fs_put_pins(struct fs_writer *w, const struct fs_setting *s,
            const struct fs_app_settings *app,
            const struct fs_app_settings *base, int indent)
{
    size_t i, n = 0;

    for (i = 0; i < app->npins; i++) {
        n += !fs_pin_inherited(&app->pins[i], base);
    }
    if (base != NULL && n == 0) {
        return;
    }
    fs_put_doc(w, s, indent);
    fs_put_indent(w->f, indent);
    if (n == 0) {
        fprintf(w->f, "%s = { };", s->name);
        fs_put_origin(w, fs_row_origin(app, s), false);
        fputc('\n', w->f);
        return;
    }
    fprintf(w->f, "%s = {\n", s->name);
    for (i = 0; i < app->npins; i++) {
        if (!fs_pin_inherited(&app->pins[i], base)) {
            fs_put_pin(w, &app->pins[i], indent + 1);
        }
    }
    fs_put_indent(w->f, indent);
    fputs("};\n", w->f);
}

static void fs_put_apps(struct fs_writer *w, const struct fs_setting *s,
                        bool whole);

/* The settings: every row (base == NULL), or for an apps entry only the
 * rows an entry may hold whose value differs from base. */
static void
fs_put_settings(struct fs_writer *w, const struct fs_app_settings *app,
                const struct fs_app_settings *base, int indent, bool whole)
{
    size_t i = 0;

    while (i < fs_schema_count) {
        const struct fs_setting *s = &fs_schema[i];

        if (base != NULL && !s->in_apps) {
            i++;
            continue;
        }
        switch (s->type) {
        case FS_ST_GROUP:
            i = fs_put_group(w, i, app, base, indent);
            continue;
        case FS_ST_PINS:
            fs_put_pins(w, s, app, base, indent);
            break;
        case FS_ST_APPS:
            fs_put_apps(w, s, whole);
            break;
        default:
            if (base == NULL || !fs_same(s, w->p, app, base)) {
                fs_put_scalar(w, s, app, indent);
            }
        }
        i++;
    }
}

static void
fs_put_apps(struct fs_writer *w, const struct fs_setting *s, bool whole)
{
    const struct fs_policy *p = w->p;
    size_t i;

    fs_put_doc(w, s, 0);
    if (!whole || p->napps == 0) {
        fputs("apps = ( );", w->f);
        if (whole) {
            fs_put_origin(w, fs_row_origin(&p->global, s), false);
        }
        fputc('\n', w->f);
        return;
    }
    fputs("apps = (\n", w->f);
    for (i = 0; i < p->napps; i++) {
        fs_put_indent(w->f, 1);
        fputs("{\n", w->f);
        fs_put_indent(w->f, 2);
        fputs("match = ", w->f);
        fs_put_string(w->f, p->apps[i].match);
        fputc(';', w->f);
        fs_put_origin(w, &p->apps[i].origin, false);
        fputc('\n', w->f);
        fs_put_settings(w, &p->apps[i].settings, &p->global, 2, false);
        fs_put_indent(w->f, 1);
        fputs(i + 1 < p->napps ? "},\n" : "}\n", w->f);
    }
    fputs(");\n", w->f);
}

static const char fs_doc_header[] =
    "# flaskshield policy (libconfig syntax).\n"
    "#\n"
    "# Every setting may be omitted; the values below are the built-in\n"
    "# defaults, which also apply in full when this file is rejected: an\n"
    "# unknown setting, a wrong type or value, a file writable by group or\n"
    "# others or owned by neither root nor the user running the app.\n"
    "# `flaskshield check FILE` validates a file; `flaskshield explain`\n"
    "# prints the policy in force.  A line `@include \"FILE\"` splices in\n"
    "# another file (relative to this file's folder, same checks).\n"
    "# Drop-ins: every policy.d/*.conf, in byte order, overrides this file\n"
    "# setting by setting (apps entries are appended; same checks).\n";

/* With FS_WRITE_ORIGIN, for --app: which apps entry the app gets. */
static void
fs_put_app_rule(struct fs_writer *w, const char *app)
{
    const struct fs_app_settings *s = fs_policy_for_app(w->p, app);
    size_t i;

    if (!(w->flags & FS_WRITE_ORIGIN)) {
        return;
    }
    for (i = 0; i < w->p->napps; i++) {
        if (s == &w->p->apps[i].settings) {
            fprintf(w->f, "# apps[%zu] applies (match ", i);
            fs_put_string(w->f, w->p->apps[i].match);
            fputc(')', w->f);
            fs_put_origin(w, &w->p->apps[i].origin, true);
            fputc('\n', w->f);
            return;
        }
    }
    fputs("# no apps entry matches: the global settings apply\n", w->f);
}

int
fs_policy_write_ex(FILE *f, const struct fs_policy *p, const char *app,
                   unsigned flags)
{
    struct fs_writer w = {f, p, flags};
    const char *c;

    if (flags & FS_WRITE_DOC) {
        fputs(fs_doc_header, f);
    }
    else if (app != NULL) {
        fputs("# flaskshield effective policy for app \"", f);
        for (c = app; *c; c++) {
            fputc((*c >= 0x20 && *c != 0x7f && *c != '"') ? *c : '?', f);
        }
        fputs("\"\n", f);
        fs_put_app_rule(&w, app);
    }
    else {
        fputs("# flaskshield effective policy\n", f);
    }
    fs_put_settings(&w, app ? fs_policy_for_app(p, app) : &p->global, NULL,
                    0, app == NULL);
    fflush(f);
    return ferror(f) ? -1 : 0;
}

int
fs_policy_write(FILE *f, const struct fs_policy *p, const char *app)
{
    return fs_policy_write_ex(f, p, app, 0);
}
