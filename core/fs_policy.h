/*
 * fs_policy.h -- the flaskshield policy as plain C data.
 *
 * The policy file (libconfig syntax, see etc/policy.conf) and its drop-ins
 * (the *.conf files of NAME.d beside NAME.conf, merged over it in lexical
 * order) are turned into one `struct fs_policy` by fs_policy_load().  One
 * table of settings (core/fs_schema.c) drives parsing, validation,
 * `flaskshield explain` and the documentation.  Loading never exits, never
 * prints and never leaves the caller's locale changed; every problem found
 * is returned as a list of "FILE:LINE: message" strings and the caller
 * decides how to report them.
 * A rejected file yields the built-in strict defaults (fail secure).
 *
 * libconfig is not linked: it is opened with dlopen() the first time a file
 * is parsed, so that the preloaded library adds no DT_NEEDED entry to every
 * process of an image.
 */
#ifndef FS_POLICY_H
#define FS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fs_logline.h"

enum fs_mode { FS_MODE_ENFORCE, FS_MODE_REPORT, FS_MODE_OFF };
enum fs_debugger { FS_DEBUGGER_BLOCK, FS_DEBUGGER_ALLOW };
enum fs_dev_server {
    FS_DEV_ALLOW, FS_DEV_WARN, FS_DEV_REFUSE, FS_DEV_WAITRESS
};
enum fs_on_violation {
    FS_VIOLATION_REFUSE, FS_VIOLATION_EXIT, FS_VIOLATION_WARN
};

/* Where a value was set: line `line` of sources[src] of the policy it
 * belongs to; line 0: the built-in default. */
struct fs_origin {
    unsigned src;
    unsigned line;
};

/* Room for one fs_origin per row of fs_schema[] (checked there). */
#define FS_SETTINGS_MAX 64

/* One pinned Flask config key (policy `config = { KEY = value; }`). */
enum fs_pin_type { FS_PIN_BOOL, FS_PIN_INT, FS_PIN_STRING };
struct fs_pin {
    char *key;                  /* Flask config key, e.g. "TESTING" */
    enum fs_pin_type type;
    bool b;                     /* FS_PIN_BOOL */
    long long i;                /* FS_PIN_INT */
    char *s;                    /* FS_PIN_STRING */
    struct fs_origin origin;
};

/* Everything that an `apps` entry may override. */
struct fs_app_settings {
    enum fs_mode mode;
    bool debug_force_off;
    enum fs_debugger debugger;
    enum fs_dev_server dev_server;
    bool sk_require;
    long long sk_min_length;            /* bytes, >= 16 */
    enum fs_on_violation sk_on_violation;
    long long max_content_length;       /* bytes, >= 0 */
    long long max_form_memory_size;     /* bytes, >= 0 */
    long long max_form_parts;           /* >= 0 */
    char *service;                      /* "" or the name logged */
    struct fs_pin *pins;                /* merged: global then app */
    size_t npins;
    /* Security headers and HTTPS (fs_headers.c); strings owned, "" sends
     * no header. */
    char *hdr_frame_options;            /* X-Frame-Options */
    bool hdr_content_type_options;      /* X-Content-Type-Options: nosniff */
    char *hdr_referrer_policy;          /* Referrer-Policy */
    long long hsts_max_age;             /* seconds; 0: no HSTS */
    bool hsts_include_subdomains;
    bool hsts_preload;
    char *hdr_csp;                      /* Content-Security-Policy */
    bool hdr_csp_report_only;           /* ... as -Report-Only */
    char *hdr_csp_report_uri;           /* appended as report-uri */
    char *hdr_permissions_policy;       /* Permissions-Policy */
    bool hdr_replace;                   /* replace the app's own header */
    bool https_force;                   /* redirect plain HTTP */
    bool https_permanent;               /* 301, not 302 */
    bool https_trust_forwarded_proto;   /* X-Forwarded-Proto counts */
    /* Where each row of fs_schema[] was set (`flaskshield explain
     * --origin`); an apps entry starts from the global settings' copy. */
    struct fs_origin origin[FS_SETTINGS_MAX];
};

struct fs_app_rule {
    char *match;        /* import_name, exact, or a prefix ending in ".*" */
    struct fs_app_settings settings;    /* already merged over the global */
    struct fs_origin origin;            /* the entry's match line */
};

struct fs_policy {
    char *path;                 /* file it came from; NULL for built-ins */
    bool from_file;             /* false: built-in defaults in force */
    int version;                /* 1 */
    bool allow_env_override;
    long long reload_interval;  /* seconds; 0: never re-read */
    char *runtime_dir;          /* "" or where the record file goes */
    enum fs_log_target log_target;
    char *log_file;
    enum fs_log_format log_format;
    enum fs_level log_level;
    char *sk_weak_list;         /* "" or a path */
    struct fs_app_settings global;
    struct fs_app_rule *apps;
    size_t napps;
    char **sources;             /* what a reload check stats, in read order:
                                 * the policy, its includes, the drop-in
                                 * directory (listed whether it exists or
                                 * not), each drop-in and its includes */
    size_t nsources;
    size_t ndropins;            /* drop-in files read */
    char digest[17];            /* fs_policy_digest(): 16 hex digits */
};

/* Problems found while loading: each "FILE:LINE: message" (LINE 0 when the
 * problem is about the file as a whole). */
struct fs_policy_errors {
    char **msg;
    size_t count;
};

/* Built-in defaults (exactly the values of the shipped policy.conf). */
struct fs_policy *fs_policy_defaults(void);

/* Load one policy file and its drop-ins: FILE.d/ (NAME.d/ for NAME.conf),
 * each regular, non-hidden *.conf file there in byte order, merged over the
 * file setting by setting (pins key by key; apps entries appended).
 * Returns 0 and *out set on success.  On any problem in any file returns
 * -1, fills errs (every error found, in file order) and sets *out to the
 * built-in defaults, so the caller always gets a usable policy. */
int fs_policy_load(const char *path, struct fs_policy **out,
                   struct fs_policy_errors *errs);

/* The path the process should use: the system file
 * (FS_DEFAULT_POLICY_PATH), or FLASKSHIELD_POLICY (secure_getenv) unless the
 * system policy says allow_env_override = false.  Loads and returns the
 * policy in force like fs_policy_load(), *path_used set to the file chosen. */
int fs_policy_resolve(struct fs_policy **out, const char **path_used,
                      struct fs_policy_errors *errs);

/* fs_policy_load() of a file named by the user (`flaskshield check FILE`):
 * when it is the system policy file itself (FS_DEFAULT_POLICY_PATH, by
 * device and inode) or a file of its drop-in folder, with the system
 * policy's ownership rules, as every process would read it. */
int fs_policy_load_named(const char *path, struct fs_policy **out,
                         struct fs_policy_errors *errs);

/* The digest of the effective policy: 16 hex digits of a 64-bit FNV-1a
 * hash of its canonical text (fs_policy_write() without comments), so the
 * same effective policy has the same digest on every host, whatever the
 * files it came from; also stored in p->digest by the loader and by
 * fs_policy_defaults().  Writes into out[17]; "" when out of memory. */
void fs_policy_digest(const struct fs_policy *p, char out[17]);

/* Settings for a Flask app by its import_name: the first matching `apps`
 * rule, else the global settings.  Never NULL. */
const struct fs_app_settings *fs_policy_for_app(const struct fs_policy *p,
                                                const char *import_name);

/* Print the effective policy (for one app when app != NULL) in libconfig
 * syntax; the output is accepted by fs_policy_load() and is a fixed point. */
int fs_policy_write(FILE *f, const struct fs_policy *p, const char *app);

const char *fs_mode_name(enum fs_mode m);
const char *fs_dev_server_name(enum fs_dev_server d);
const char *fs_on_violation_name(enum fs_on_violation v);

void fs_policy_free(struct fs_policy *p);
void fs_policy_errors_free(struct fs_policy_errors *errs);

#endif /* FS_POLICY_H */
