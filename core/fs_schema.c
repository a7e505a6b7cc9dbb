/*
 * fs_schema.c -- the table of policy settings and its few helpers.
 *
 * In the manner of mimalloc's options table: one row per setting, with its
 * default and documentation, so that parsing, validation, `flaskshield
 * explain`, the built-in defaults and the shipped etc/policy.conf cannot
 * disagree (a unit test checks that policy.conf is exactly what the writer
 * produces from this table).  The enum words are listed in the order of the
 * C enums of fs_policy.h.
 */
#include "fs_schema.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Upper bounds of the body settings: far above any real upload, and far
 * enough below LLONG_MAX that no sum or +1 made from them can overflow. */
#define FS_MAX_BODY_BYTES (1LL << 40)
#define FS_MAX_FORM_PARTS 1000000000LL

_Static_assert(sizeof(enum fs_mode) == sizeof(int), "enums stored as int");
_Static_assert(sizeof(enum fs_dev_server) == sizeof(int), "enum size");

static const char *const fs_mode_words[] = {
    "enforce", "report", "off", NULL
};
static const char *const fs_target_words[] = {
    "stderr", "syslog", "file", NULL
};
static const char *const fs_format_words[] = {"json", "text", NULL};
static const char *const fs_debugger_words[] = {"block", "allow", NULL};
static const char *const fs_dev_words[] = {
    "allow", "warn", "refuse", "waitress", NULL
};
static const char *const fs_violation_words[] = {
    "refuse", "exit", "warn", NULL
};

#define P(field) FS_SCOPE_POLICY, offsetof(struct fs_policy, field)
#define A(field) FS_SCOPE_APP, offsetof(struct fs_app_settings, field)
#define NOFIELD FS_SCOPE_POLICY, 0

const struct fs_setting fs_schema[] = {
    {"version", FS_ST_INT, P(version), false, 1, NULL, 1, 1, NULL,
     FS_SF_CINT,
     "Format of this file; must be 1."},
    {"mode", FS_ST_ENUM, A(mode), true, FS_MODE_ENFORCE, NULL, 0, 0,
     fs_mode_words, 0,
     "\"enforce\": correct the app and refuse what the policy forbids.\n"
     "\"report\": log what enforce would change, change nothing.\n"
     "\"off\": do nothing at all."},
    {"allow_env_override", FS_ST_BOOL, P(allow_env_override), false, 1,
     NULL, 0, 0, NULL, 0,
     "In the system policy: may FLASKSHIELD_POLICY name another file?\n"
     "false pins every process to the system policy."},
    {"reload_interval", FS_ST_INT, P(reload_interval), false, 2, NULL, 0,
     86400, NULL, 0,
     "Seconds between checks of the policy files while serving: each\n"
     "process re-reads a changed policy on its request path (a changed,\n"
     "valid policy replaces the one in force; a rejected one is logged\n"
     "and the one in force is kept).  0: read once, at the first import\n"
     "of Flask or Werkzeug."},
    {"runtime_dir", FS_ST_STRING, P(runtime_dir), false, 0,
     "/run/flaskshield", 0, 0, NULL, FS_SF_ABSPATH | FS_SF_EMPTY_OK,
     "Folder where each process that imports Flask keeps a small file\n"
     "of its apps and counters, read by `flaskshield ps` and\n"
     "`flaskshield metrics` (made mode 1777 if missing and the process\n"
     "may; read at start only).  \"\": publish nothing."},
    {"log", FS_ST_GROUP, NOFIELD, false, 0, NULL, 0, 0, NULL, 0,
     "Where flaskshield writes its log lines (one a violation and app)."},
    {"log.target", FS_ST_ENUM, P(log_target), false, FS_LOG_STDERR, NULL,
     0, 0, fs_target_words, 0,
     "\"stderr\", \"syslog\", or \"file\" (then see file)."},
    {"log.file", FS_ST_STRING, P(log_file), false, 0,
     "/var/log/flaskshield.log", 0, 0, NULL, FS_SF_ABSPATH | FS_SF_REGULAR,
     "Absolute path of the log file for target = \"file\"; a regular\n"
     "file (created if missing), never a FIFO or a device."},
    {"log.format", FS_ST_ENUM, P(log_format), false, FS_LOG_JSON, NULL, 0,
     0, fs_format_words, 0,
     "\"json\" (one object a line) or \"text\"."},
    {"log.level", FS_ST_ENUM, P(log_level), false, FS_INFO, NULL, 0, 0,
     fs_level_words, 0,
     "Lines below this level are not written: \"debug\", \"info\",\n"
     "\"warning\" (drops the activate lines) or \"error\"."},
    {"service", FS_ST_STRING, A(service), true, 0, "", 0, 0, NULL, 0,
     "A service name carried by every log line (\"\": none); in an apps\n"
     "entry, by the lines about that app."},
    {"debug", FS_ST_GROUP, NOFIELD, true, 0, NULL, 0, 0, NULL, 0,
     "Flask debug mode and the Werkzeug debugger."},
    {"debug.force_off", FS_ST_BOOL, A(debug_force_off), true, 1, NULL, 0,
     0, NULL, 0,
     "Keep DEBUG, TESTING and PROPAGATE_EXCEPTIONS false whatever the\n"
     "app, its environment or flask run say (either of the last two lets\n"
     "an exception reach the server, which may show it)."},
    {"debug.debugger", FS_ST_ENUM, A(debugger), true, FS_DEBUGGER_BLOCK,
     NULL, 0, 0, fs_debugger_words, 0,
     "\"block\": the interactive Werkzeug debugger can never be reached.\n"
     "\"allow\": leave it alone."},
    {"dev_server", FS_ST_ENUM, A(dev_server), true, FS_DEV_WARN, NULL, 0, 0,
     fs_dev_words, 0,
     "The Werkzeug development server (app.run, flask run):\n"
     "\"allow\", \"warn\" (log once), \"refuse\" (do not start it), or\n"
     "\"waitress\" (serve the app with waitress instead)."},
    {"secret_key", FS_ST_GROUP, NOFIELD, true, 0, NULL, 0, 0, NULL, 0,
     "Checks of the app's SECRET_KEY."},
    {"secret_key.require", FS_ST_BOOL, A(sk_require), true, 1, NULL, 0, 0,
     NULL, 0,
     "Treat a missing or empty key as a violation, not only a weak one."},
    {"secret_key.min_length", FS_ST_INT, A(sk_min_length), true, 24, NULL,
     16, 4096, NULL, 0,
     "Shortest acceptable key in bytes (str keys counted in UTF-8); >= 16."},
    {"secret_key.weak_list", FS_ST_STRING, P(sk_weak_list), false, 0, "", 0,
     0, NULL, FS_SF_ABSPATH | FS_SF_EMPTY_OK,
     "Optional absolute path of a file of known keys, one a line, checked\n"
     "besides the built-in list.  Not allowed in apps entries."},
    {"secret_key.on_violation", FS_ST_ENUM, A(sk_on_violation), true,
     FS_VIOLATION_REFUSE, NULL, 0, 0, fs_violation_words, 0,
     "\"refuse\": do not let the app serve with a bad key;\n"
     "\"exit\": stop the process; \"warn\": log only."},
    {"body", FS_ST_GROUP, NOFIELD, true, 0, NULL, 0, 0, NULL, 0,
     "Request body limits, set on every app (bytes; 0 is a limit of 0)."},
    {"body.max_content_length", FS_ST_INT, A(max_content_length), true,
     16777216, NULL, 0, FS_MAX_BODY_BYTES, NULL, 0,
     "MAX_CONTENT_LENGTH: largest request body (at most 1 TiB)."},
    {"body.max_form_memory_size", FS_ST_INT, A(max_form_memory_size), true,
     500000, NULL, 0, FS_MAX_BODY_BYTES, NULL, 0,
     "MAX_FORM_MEMORY_SIZE: largest non-file form field (at most 1 TiB)."},
    {"body.max_form_parts", FS_ST_INT, A(max_form_parts), true, 1000, NULL,
     0, FS_MAX_FORM_PARTS, NULL, 0,
     "MAX_FORM_PARTS: most fields in a multipart form (at most 10^9)."},
    {"config", FS_ST_PINS, A(pins), true, 0, NULL, 0, 0, NULL, 0,
     "Flask config keys pinned to a value (true/false, integer, string),\n"
     "e.g. SESSION_COOKIE_SECURE = true;  SECRET_KEY, DEBUG and the body\n"
     "limits have their own settings and cannot be pinned here.  Flask's\n"
     "keys (and Flask-Login's, Flask-WTF's) take the types Flask does; a\n"
     "near miss of one (SESSION_COOKIE_SECURED) is an error."},
    {"headers", FS_ST_GROUP, NOFIELD, true, 0, NULL, 0, 0, NULL, 0,
     "Security headers added to every response of the app (error pages,\n"
     "redirects and the library's own 413 and 500 too), as Flask-Talisman\n"
     "does; a header the app set itself is kept (see replace).  Values:\n"
     "printable ASCII, no CR or LF."},
    {"headers.frame_options", FS_ST_STRING, A(hdr_frame_options), true, 0,
     "SAMEORIGIN", 0, 0, NULL, FS_SF_HEADER,
     "X-Frame-Options (\"SAMEORIGIN\", \"DENY\"); \"\" sends none."},
    {"headers.content_type_options", FS_ST_BOOL,
     A(hdr_content_type_options), true, 1, NULL, 0, 0, NULL, 0,
     "X-Content-Type-Options: nosniff."},
    {"headers.referrer_policy", FS_ST_STRING, A(hdr_referrer_policy), true,
     0, "strict-origin-when-cross-origin", 0, 0, NULL, FS_SF_HEADER,
     "Referrer-Policy; \"\" sends none."},
    {"headers.hsts", FS_ST_GROUP, NOFIELD, true, 0, NULL, 0, 0, NULL, 0,
     "Strict-Transport-Security, on HTTPS responses only (see\n"
     "https.trust_forwarded_proto); opt-in."},
    {"headers.hsts.max_age", FS_ST_INT, A(hsts_max_age), true, 0, NULL, 0,
     2147483647, NULL, 0,
     "max-age in seconds; 0 sends none (31556926: a year, Talisman's)."},
    {"headers.hsts.include_subdomains", FS_ST_BOOL,
     A(hsts_include_subdomains), true, 1, NULL, 0, 0, NULL, 0,
     "Add includeSubDomains."},
    {"headers.hsts.preload", FS_ST_BOOL, A(hsts_preload), true, 0, NULL, 0,
     0, NULL, 0,
     "Add preload (see hstspreload.org first)."},
    {"headers.csp", FS_ST_STRING, A(hdr_csp), true, 0, "", 0, 0, NULL,
     FS_SF_HEADER | FS_SF_CSP,
     "Content-Security-Policy, directives separated by \";\", e.g.\n"
     "\"default-src 'self'; object-src 'none'\"; \"\" sends none."},
    {"headers.csp_report_only", FS_ST_BOOL, A(hdr_csp_report_only), true, 0,
     NULL, 0, 0, NULL, 0,
     "Send csp as Content-Security-Policy-Report-Only instead."},
    {"headers.csp_report_uri", FS_ST_STRING, A(hdr_csp_report_uri), true, 0,
     "", 0, 0, NULL, FS_SF_HEADER | FS_SF_URI,
     "Appended to csp as \"; report-uri URI\" (unless csp has one)."},
    {"headers.permissions_policy", FS_ST_STRING,
     A(hdr_permissions_policy), true, 0, "", 0, 0, NULL, FS_SF_HEADER,
     "Permissions-Policy, e.g. \"geolocation=(), camera=()\"; \"\" sends\n"
     "none."},
    {"headers.replace", FS_ST_BOOL, A(hdr_replace), true, 0, NULL, 0, 0,
     NULL, 0,
     "true: replace a header the app set itself (false keeps the app's,\n"
     "e.g. its stricter X-Frame-Options: DENY)."},
    {"https", FS_ST_GROUP, NOFIELD, true, 0, NULL, 0, 0, NULL, 0,
     "Plain-HTTP requests.  A request is HTTPS when the WSGI server (or\n"
     "ProxyFix) says so: wsgi.url_scheme \"https\"."},
    {"https.force", FS_ST_BOOL, A(https_force), true, 0, NULL, 0, 0, NULL,
     0,
     "Redirect plain-HTTP requests to the same URL with https:// (not\n"
     "while the app is in debug mode, as Talisman); opt-in."},
    {"https.permanent", FS_ST_BOOL, A(https_permanent), true, 0, NULL, 0,
     0, NULL, 0,
     "Redirect with 301 instead of 302."},
    {"https.trust_forwarded_proto", FS_ST_BOOL,
     A(https_trust_forwarded_proto), true, 0, NULL, 0, 0, NULL, 0,
     "Also count X-Forwarded-Proto: https as HTTPS (only behind a proxy\n"
     "that sets it; a client can send it too)."},
    {"apps", FS_ST_APPS, P(apps), false, 0, NULL, 0, 0, NULL, 0,
     "Per-app overrides, first match wins.  match (required) is the Flask\n"
     "app's import_name, exact, or a prefix ending in \".*\" (\"pkg.*\"\n"
     "matches pkg and pkg.anything).  An entry may set mode, service,\n"
     "debug, dev_server, secret_key (but not weak_list), body, config,\n"
     "headers and https, merged over the settings above (config: the\n"
     "global pins, then the app's).\n"
     "Example:\n"
     "  apps = ( { match = \"legacy_upload\";\n"
     "             body = { max_content_length = 104857600; }; } );"},
};

const size_t fs_schema_count = sizeof(fs_schema) / sizeof(fs_schema[0]);

_Static_assert(sizeof(fs_schema) / sizeof(fs_schema[0]) <= FS_SETTINGS_MAX,
               "struct fs_app_settings has an origin for every row");

const struct fs_setting *
fs_schema_find(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < fs_schema_count; i++) {
        if (strlen(fs_schema[i].name) == len
            && memcmp(fs_schema[i].name, name, len) == 0) {
            return &fs_schema[i];
        }
    }
    return NULL;
}

const char *
fs_schema_leaf(const struct fs_setting *s)
{
    const char *dot = strrchr(s->name, '.');

    return dot ? dot + 1 : s->name;
}

int
fs_schema_depth(const struct fs_setting *s)
{
    const char *c;
    int depth = 0;

    for (c = s->name; *c; c++) {
        depth += *c == '.';
    }
    return depth;
}

void *
fs_schema_field(const struct fs_setting *s, struct fs_policy *p,
                struct fs_app_settings *app)
{
    if (s->scope == FS_SCOPE_APP) {
        return (char *)app + s->offset;
    }
    return (char *)p + s->offset;
}

const void *
fs_schema_cfield(const struct fs_setting *s, const struct fs_policy *p,
                 const struct fs_app_settings *app)
{
    if (s->scope == FS_SCOPE_APP) {
        return (const char *)app + s->offset;
    }
    return (const char *)p + s->offset;
}

const char *
fs_schema_reserved_pin(const char *key)
{
    static const struct {
        const char *key;
        const char *setting;
    } reserved[] = {
        {"SECRET_KEY", "secret_key"},
        {"DEBUG", "debug.force_off"},
        {"MAX_CONTENT_LENGTH", "body.max_content_length"},
        {"MAX_FORM_MEMORY_SIZE", "body.max_form_memory_size"},
        {"MAX_FORM_PARTS", "body.max_form_parts"},
    };
    size_t i;

    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (strcmp(key, reserved[i].key) == 0) {
            return reserved[i].setting;
        }
    }
    return NULL;
}

/* The Flask config keys (2.2 and 3.1) and the extension keys most often
 * pinned (Flask-Login, Flask-WTF), with the pin types Flask takes for them:
 * a pin of another type would break the app (SESSION_COOKIE_SAMESITE =
 * true makes every response with a cookie a 500) or mean the opposite of
 * what it says (SESSION_COOKIE_SECURE = "false" is a true value). */
#define FS_PB (1u << FS_PIN_BOOL)
#define FS_PI (1u << FS_PIN_INT)
#define FS_PS (1u << FS_PIN_STRING)

static const char *const fs_samesite[] = {"Strict", "Lax", "None", NULL};
static const char *const fs_schemes[] = {"http", "https", NULL};
static const char *const fs_protection[] = {"basic", "strong", NULL};

static const struct fs_pin_key {
    const char *key;
    const char *const *values;      /* a string pin: one of these */
    unsigned types;
    bool anycase;                   /* in any case (Werkzeug title-cases
                                     * SameSite; Flask-Login compares its
                                     * modes as they are) */
} fs_pin_keys[] = {
    {"TESTING", NULL, FS_PB, false},
    {"PROPAGATE_EXCEPTIONS", NULL, FS_PB, false},
    {"PRESERVE_CONTEXT_ON_EXCEPTION", NULL, FS_PB, false},
    {"PERMANENT_SESSION_LIFETIME", NULL, FS_PI, false},
    {"USE_X_SENDFILE", NULL, FS_PB, false},
    {"SERVER_NAME", NULL, FS_PS, false},
    {"APPLICATION_ROOT", NULL, FS_PS, false},
    {"SESSION_COOKIE_NAME", NULL, FS_PS, false},
    {"SESSION_COOKIE_DOMAIN", NULL, FS_PS | FS_PB, false},
    {"SESSION_COOKIE_PATH", NULL, FS_PS, false},
    {"SESSION_COOKIE_HTTPONLY", NULL, FS_PB, false},
    {"SESSION_COOKIE_SECURE", NULL, FS_PB, false},
    {"SESSION_COOKIE_PARTITIONED", NULL, FS_PB, false},
    {"SESSION_COOKIE_SAMESITE", fs_samesite, FS_PS, true},
    {"SESSION_REFRESH_EACH_REQUEST", NULL, FS_PB, false},
    {"SEND_FILE_MAX_AGE_DEFAULT", NULL, FS_PI, false},
    {"TRAP_BAD_REQUEST_ERRORS", NULL, FS_PB, false},
    {"TRAP_HTTP_EXCEPTIONS", NULL, FS_PB, false},
    {"EXPLAIN_TEMPLATE_LOADING", NULL, FS_PB, false},
    {"PREFERRED_URL_SCHEME", fs_schemes, FS_PS, false},
    {"TEMPLATES_AUTO_RELOAD", NULL, FS_PB, false},
    {"MAX_COOKIE_SIZE", NULL, FS_PI, false},
    {"PROVIDE_AUTOMATIC_OPTIONS", NULL, FS_PB, false},
    {"ENV", NULL, FS_PS, false},
    {"JSON_AS_ASCII", NULL, FS_PB, false},
    {"JSON_SORT_KEYS", NULL, FS_PB, false},
    {"JSONIFY_PRETTYPRINT_REGULAR", NULL, FS_PB, false},
    {"JSONIFY_MIMETYPE", NULL, FS_PS, false},
    {"REMEMBER_COOKIE_NAME", NULL, FS_PS, false},
    {"REMEMBER_COOKIE_DURATION", NULL, FS_PI, false},
    {"REMEMBER_COOKIE_DOMAIN", NULL, FS_PS, false},
    {"REMEMBER_COOKIE_PATH", NULL, FS_PS, false},
    {"REMEMBER_COOKIE_SECURE", NULL, FS_PB, false},
    {"REMEMBER_COOKIE_HTTPONLY", NULL, FS_PB, false},
    {"REMEMBER_COOKIE_SAMESITE", fs_samesite, FS_PS, true},
    {"REMEMBER_COOKIE_REFRESH_EACH_REQUEST", NULL, FS_PB, false},
    {"SESSION_PROTECTION", fs_protection, FS_PS, false},
    {"USE_SESSION_FOR_NEXT", NULL, FS_PB, false},
    {"WTF_CSRF_ENABLED", NULL, FS_PB, false},
    {"WTF_CSRF_CHECK_DEFAULT", NULL, FS_PB, false},
    {"WTF_CSRF_SSL_STRICT", NULL, FS_PB, false},
    {"WTF_CSRF_TIME_LIMIT", NULL, FS_PI, false},
    {"WTF_CSRF_FIELD_NAME", NULL, FS_PS, false},
};

/* Edit distance of a and b, at most FS_NEAR + 1 (keys are short).  A key
 * within FS_NEAR of a known one, and at least FS_NEAR_MIN long, is taken
 * for a typo of it: one edit (SESSION_COOKIE_SECURED), never two (an
 * app's SENDER_NAME is not SERVER_NAME). */
#define FS_NEAR 1
#define FS_NEAR_MIN 10
static size_t
fs_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t row[65], prev, cur;

    if (la > 64 || lb > 64) {
        return FS_NEAR + 1;
    }
    for (j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            cur = row[j];
            row[j] = prev + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < row[j]) {
                row[j] = row[j - 1] + 1;
            }
            if (cur + 1 < row[j]) {
                row[j] = cur + 1;
            }
            prev = cur;
        }
    }
    return row[lb];
}

static const char *
fs_pin_type_words(unsigned types)
{
    switch (types) {
    case FS_PB:
        return "true or false";
    case FS_PI:
        return "an integer";
    case FS_PS:
        return "a string";
    default:
        return "a string or false";
    }
}

bool
fs_schema_pin_check(const char *key, enum fs_pin_type type, const char *s,
                    char *msg, size_t n)
{
    const struct fs_pin_key *near = NULL;
    size_t i, k, best = FS_NEAR + 1, d;

    for (i = 0; i < sizeof(fs_pin_keys) / sizeof(fs_pin_keys[0]); i++) {
        const struct fs_pin_key *e = &fs_pin_keys[i];

        if (strcmp(key, e->key) == 0) {
            if (!(e->types & (1u << type))) {
                snprintf(msg, n, "must be %s, as Flask takes it",
                         fs_pin_type_words(e->types));
                return false;
            }
            for (k = 0; type == FS_PIN_STRING && e->values != NULL
                        && e->values[k] != NULL; k++) {
                if ((e->anycase ? strcasecmp(s, e->values[k])
                                : strcmp(s, e->values[k])) == 0) {
                    return true;
                }
            }
            if (type == FS_PIN_STRING && e->values != NULL) {
                snprintf(msg, n, "must be one of \"%s\", \"%s\"%s%s%s",
                         e->values[0], e->values[1],
                         e->values[2] != NULL ? " or \"" : "",
                         e->values[2] != NULL ? e->values[2] : "",
                         e->values[2] != NULL ? "\"" : "");
                return false;
            }
            return true;
        }
        d = strcasecmp(key, e->key) == 0 ? 0
            : strlen(key) >= FS_NEAR_MIN ? fs_distance(key, e->key)
                                         : FS_NEAR + 1;
        if (d < best) {
            best = d;
            near = e;
        }
    }
    if (near != NULL) {
        snprintf(msg, n, "is not a Flask setting; did you mean %s?",
                 near->key);
        return false;
    }
    return true;        /* an app's or an extension's own key */
}
