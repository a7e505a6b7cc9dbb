/*
 * test_policy.c -- unit tests of the policy loader: every setting parsed,
 * every default, every class of bad input with its exact line, apps
 * matching and the merge of apps entries over the global settings.
 * File checks, includes and resolution are in test_policy_files.c; the
 * writer, policy.conf and the examples in test_policy_write.c.
 */
#include <limits.h>

#include "test_policy_util.h"

static void
test_defaults(void)
{
    struct fs_policy *p = fs_policy_defaults();

    CHECK(p != NULL);
    CHECK(p->path == NULL);
    CHECK(!p->from_file);
    CHECK(p->version == 1);
    CHECK(p->global.mode == FS_MODE_ENFORCE);
    CHECK(p->allow_env_override);
    CHECK(p->log_target == FS_LOG_STDERR);
    CHECK(strcmp(p->log_file, "/var/log/flaskshield.log") == 0);
    CHECK(p->log_format == FS_LOG_JSON);
    CHECK(p->log_level == FS_INFO);
    CHECK(strcmp(p->global.service, "") == 0);
    CHECK(p->global.debug_force_off);
    CHECK(p->global.debugger == FS_DEBUGGER_BLOCK);
    CHECK(p->global.dev_server == FS_DEV_WARN);
    CHECK(p->global.sk_require);
    CHECK(p->global.sk_min_length == 24);
    CHECK(strcmp(p->sk_weak_list, "") == 0);
    CHECK(p->global.sk_on_violation == FS_VIOLATION_REFUSE);
    CHECK(p->global.max_content_length == 16777216);
    CHECK(p->global.max_form_memory_size == 500000);
    CHECK(p->global.max_form_parts == 1000);
    CHECK(p->global.npins == 0 && p->global.pins == NULL);
    CHECK(p->napps == 0 && p->apps == NULL);
    CHECK(fs_policy_for_app(p, "anything") == &p->global);
    CHECK(fs_policy_for_app(p, NULL) == &p->global);
    fs_policy_free(p);
    fs_policy_free(NULL);
}

static void
test_every_setting(void)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    int rc = tp_load("all.conf",
        "version = 1;\n"
        "mode = \"report\";\n"
        "allow_env_override = false;\n"
        "log = { target = \"file\"; file = \"/var/log/x.log\";\n"
        "        format = \"text\"; level = \"error\"; };\n"
        "service = \"fleet\";\n"
        "debug = { force_off = false; debugger = \"allow\"; };\n"
        "dev_server = \"waitress\";\n"
        "secret_key = {\n"
        "  require = false;\n"
        "  min_length = 40;\n"
        "  weak_list = \"/etc/flaskshield/weak.txt\";\n"
        "  on_violation = \"exit\";\n"
        "};\n"
        "body = { max_content_length = 10000000000L;\n"
        "         max_form_memory_size = 0; max_form_parts = 7; };\n"
        "config = { A = true; B = -3; C = \"s\"; D = 5000000000L; };\n",
        &p, &e);

    CHECK(rc == 0);
    CHECK(e.count == 0 && e.msg == NULL);
    CHECK(p->from_file);
    CHECK(strcmp(p->path, tp_path("all.conf")) == 0);
    CHECK(p->global.mode == FS_MODE_REPORT);
    CHECK(!p->allow_env_override);
    CHECK(p->log_target == FS_LOG_FILE);
    CHECK(strcmp(p->log_file, "/var/log/x.log") == 0);
    CHECK(p->log_format == FS_LOG_TEXT);
    CHECK(p->log_level == FS_ERROR);
    CHECK(strcmp(p->global.service, "fleet") == 0);
    CHECK(!p->global.debug_force_off);
    CHECK(p->global.debugger == FS_DEBUGGER_ALLOW);
    CHECK(p->global.dev_server == FS_DEV_WAITRESS);
    CHECK(!p->global.sk_require);
    CHECK(p->global.sk_min_length == 40);
    CHECK(strcmp(p->sk_weak_list, "/etc/flaskshield/weak.txt") == 0);
    CHECK(p->global.sk_on_violation == FS_VIOLATION_EXIT);
    CHECK(p->global.max_content_length == 10000000000LL);
    CHECK(p->global.max_form_memory_size == 0);
    CHECK(p->global.max_form_parts == 7);
    CHECK(p->global.npins == 4);
    if (p->global.npins == 4) {
        CHECK(strcmp(p->global.pins[0].key, "A") == 0);
        CHECK(p->global.pins[0].type == FS_PIN_BOOL && p->global.pins[0].b);
        CHECK(p->global.pins[1].type == FS_PIN_INT
              && p->global.pins[1].i == -3);
        CHECK(p->global.pins[2].type == FS_PIN_STRING
              && strcmp(p->global.pins[2].s, "s") == 0);
        CHECK(p->global.pins[3].type == FS_PIN_INT
              && p->global.pins[3].i == 5000000000LL);
    }
    CHECK(strcmp(fs_mode_name(p->global.mode), "report") == 0);
    CHECK(strcmp(fs_dev_server_name(p->global.dev_server), "waitress") == 0);
    CHECK(strcmp(fs_on_violation_name(p->global.sk_on_violation),
                 "exit") == 0);
    fs_policy_errors_free(&e);
    fs_policy_free(p);

    /* Other enum words. */
    rc = tp_load("enum.conf",
        "mode = \"off\"; log = { target = \"syslog\"; };\n"
        "dev_server = \"refuse\"; secret_key = { on_violation = \"warn\"; };\n",
        &p, &e);
    CHECK(rc == 0 && e.count == 0);
    CHECK(p->global.mode == FS_MODE_OFF);
    CHECK(p->log_target == FS_LOG_SYSLOG);
    CHECK(p->global.dev_server == FS_DEV_REFUSE);
    CHECK(p->global.sk_on_violation == FS_VIOLATION_WARN);
    CHECK(strcmp(fs_mode_name(FS_MODE_OFF), "off") == 0);
    CHECK(strcmp(fs_dev_server_name(FS_DEV_ALLOW), "allow") == 0);
    CHECK(strcmp(fs_on_violation_name(FS_VIOLATION_REFUSE), "refuse") == 0);
    fs_policy_errors_free(&e);
    fs_policy_free(p);
}

static void
test_omitted(void)
{
    struct fs_policy *p = NULL, *d = fs_policy_defaults();
    struct fs_policy_errors e;
    char *a, *b;
    int rc;

    /* An empty file and a partial one: every omitted setting is default. */
    rc = tp_load("empty.conf", "", &p, &e);
    CHECK(rc == 0 && e.count == 0 && p->from_file);
    a = tp_written(p, NULL, 0);
    b = tp_written(d, NULL, 0);
    CHECK(strcmp(a, b) == 0);
    free(a);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    rc = tp_load("part.conf", "# only one\nsecret_key = { min_length = 16; };"
                 "\nbody = { };\n", &p, &e);
    CHECK(rc == 0 && e.count == 0);
    CHECK(p->global.sk_min_length == 16);
    CHECK(p->global.sk_require);
    CHECK(p->global.sk_on_violation == FS_VIOLATION_REFUSE);
    CHECK(p->global.max_content_length == 16777216);
    CHECK(p->global.dev_server == FS_DEV_WARN);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    free(b);
    fs_policy_free(d);
}

static void
test_errors(void)
{
    /* syntax, with libconfig's line */
    CHECK(tp_reject1("mode = \"report\";\n\nbody = { max_form_parts = ; };\n",
                     "p.conf:3: syntax error"));
    CHECK(tp_reject1("mode = \"report\";\nversion = = 1;\n",
                     "p.conf:2: syntax error"));
    CHECK(tp_reject1("a = 1; @include \"x\"\n", "p.conf:1: syntax error"));
    /* unknown settings, at top level, in a group, in an apps entry */
    CHECK(tp_reject1("version = 1;\nbogus = 1;\n",
                     "p.conf:2: bogus: unknown setting"));
    CHECK(tp_reject1("log = {\n  target = \"file\";\n  colour = true;\n};\n",
                     "p.conf:3: log.colour: unknown setting"));
    CHECK(tp_reject1("apps = (\n { match = \"a\";\n   nope = 1; }\n);\n",
                     "p.conf:3: apps[0].nope: unknown setting"));
    CHECK(tp_reject1("apps = ( { match = \"a\"; body = {\n"
                     " max_parts = 1; }; } );\n",
                     "p.conf:2: apps[0].body.max_parts: unknown setting"));
    CHECK(tp_reject1("debug = { force_off = true; debug = { x = 1; }; };\n",
                     "p.conf:1: debug.debug: unknown setting"));
    /* wrong types */
    CHECK(tp_reject1("\nallow_env_override = 1;\n",
                     "p.conf:2: allow_env_override: must be true or false "
                     "(got an integer)"));
    CHECK(tp_reject1("secret_key = { min_length = \"24\"; };\n",
                     "p.conf:1: secret_key.min_length: must be an integer "
                     "(got a string)"));
    CHECK(tp_reject1("body = { max_content_length = 1.5; };\n",
                     "p.conf:1: body.max_content_length: must be an integer "
                     "(got a float)"));
    CHECK(tp_reject1("log = { file = 5; };\n",
                     "p.conf:1: log.file: must be a string"));
    CHECK(tp_reject1("mode = true;\n", "p.conf:1: mode: must be \"enforce\", "
                     "\"report\" or \"off\" (got a boolean)"));
    CHECK(tp_reject1("body = 5;\n", "p.conf:1: body: must be a group"));
    CHECK(tp_reject1("config = ( 1 );\n", "p.conf:1: config: must be a group"));
    CHECK(tp_reject1("config = { A = 1.5; };\n",
                     "p.conf:1: config.A: must be true, false, an integer or "
                     "a string (got a float)"));
    CHECK(tp_reject1("config = { A = [1, 2]; };\n",
                     "p.conf:1: config.A: must be true, false"));
    CHECK(tp_reject1("apps = { match = \"a\"; };\n",
                     "p.conf:1: apps: must be a list"));
    CHECK(tp_reject1("apps = ( 1 );\n", "p.conf:1: apps[0]: must be a group"));
    /* out of range */
    CHECK(tp_reject1("version = 2;\n", "p.conf:1: version: must be 1 (got 2)"));
    CHECK(tp_reject1("version = \"1\";\n", "p.conf:1: version: must be an "
                     "integer"));
    CHECK(tp_reject1("secret_key = {\n min_length = 15;\n};\n",
                     "p.conf:2: secret_key.min_length: must be at least 16 "
                     "(got 15)"));
    CHECK(tp_reject1("body = { max_content_length = -1; };\n",
                     "p.conf:1: body.max_content_length: must be at least 0 "
                     "(got -1)"));
    CHECK(tp_reject1("body = { max_form_memory_size = -5L; };\n",
                     "p.conf:1: body.max_form_memory_size: must be at least 0"));
    CHECK(tp_reject1("body = { max_form_parts = -1; };\n",
                     "p.conf:1: body.max_form_parts: must be at least 0"));
    /* issue 13: sizes near LLONG_MAX would overflow the body arithmetic */
    CHECK(tp_reject1("body = { max_content_length = 9223372036854775807L; };\n",
                     "p.conf:1: body.max_content_length: must be at most "
                     "1099511627776 (got 9223372036854775807)"));
    CHECK(tp_reject1("body = { max_form_memory_size = 1099511627777L; };\n",
                     "p.conf:1: body.max_form_memory_size: must be at most "
                     "1099511627776"));
    CHECK(tp_reject1("body = { max_form_parts = 1000000001; };\n",
                     "p.conf:1: body.max_form_parts: must be at most "
                     "1000000000"));
    CHECK(tp_reject1("secret_key = { min_length = 100000; };\n",
                     "p.conf:1: secret_key.min_length: must be at most 4096"));
    /* unknown enum words */
    CHECK(tp_reject1("\n\nmode = \"Enforce\";\n", "p.conf:3: mode: must be "
                     "\"enforce\", \"report\" or \"off\" (got \"Enforce\")"));
    CHECK(tp_reject1("dev_server = \"gunicorn\";\n", "p.conf:1: dev_server: "
                     "must be \"allow\", \"warn\", \"refuse\" or \"waitress\""));
    CHECK(tp_reject1("debug = { debugger = \"on\"; };\n",
                     "p.conf:1: debug.debugger: must be \"block\" or "
                     "\"allow\" (got \"on\")"));
    CHECK(tp_reject1("log = { format = \"xml\"; };\n",
                     "p.conf:1: log.format: must be"));
    CHECK(tp_reject1("log = { target = \"tty\"; };\n",
                     "p.conf:1: log.target: must be"));
    CHECK(tp_reject1("secret_key = { on_violation = \"ignore\"; };\n",
                     "p.conf:1: secret_key.on_violation: must be"));
    /* duplicates (libconfig rejects them; we name the setting) */
    CHECK(tp_reject1("mode = \"report\";\nversion = 1;\nmode = \"off\";\n",
                     "p.conf:3: mode: duplicate setting"));
    CHECK(tp_reject1("body = {\n max_form_parts = 1;\n max_form_parts = 2;\n"
                     "};\n", "p.conf:3: max_form_parts: duplicate setting"));
    CHECK(tp_reject1("debug = { force_off = true; };\n"
                     "debug = { debugger = \"allow\"; };\n",
                     "p.conf:2: debug: duplicate setting"));
    CHECK(tp_reject1("config = { A = 1; A = 2; };\n",
                     "p.conf:1: A: duplicate setting"));
    /* integers libconfig 1.5 would silently truncate */
    CHECK(tp_reject1("body = {\n max_content_length = 10000000000;\n};\n",
                     "p.conf:2: max_content_length: 10000000000 does not fit "
                     "in 32 bits; write it with an L suffix (10000000000L)"));
    CHECK(tp_reject1("config = { N = 0x1FFFFFFFF; };\n",
                     "p.conf:1: N: 0x1FFFFFFFF does not fit in 32 bits"));
    CHECK(tp_reject1("config = { N = -2147483649; };\n",
                     "p.conf:1: N: -2147483649 does not fit"));
    /* strings and comments */
    CHECK(tp_reject1("mode = \"report\";\nlog = { file = \"/x\n\n",
                     "p.conf:2: unterminated string"));
    CHECK(tp_reject1("mode = \"report\";\n/* open\n\n",
                     "p.conf:2: unterminated /* comment"));
    /* a string where libconfig expects none (it would leak it) */
    CHECK(tp_reject1("mode = \"off\";\n\"abc\";\n",
                     "p.conf:2: syntax error (a string cannot stand here)"));
    CHECK(tp_reject1("log = { file = \"/x\"\n  \"y\" 3; };\n",
                     "p.conf:2: syntax error"));
    CHECK(tp_reject1("body = {\n \"x\" };\n",
                     "p.conf:2: syntax error (a string"));
    CHECK(tp_reject1("mode = \"off\", \"x\";\n",
                     "p.conf:1: syntax error (a string"));
    CHECK(tp_reject1("mode = 1 \"x\";\n", "p.conf:1: syntax error (a string"));
    {
        struct fs_policy *p = NULL;
        struct fs_policy_errors e;
        int rc = tp_load("strs.conf", "config = { S = \"a\" \"b\"\n"
                         "  \"c\"; };\nx = [\"a\", \"b\"];\n"
                         "y = ( \"a\", ( \"b\" ), { z = \"c\"; } );\n",
                         &p, &e);
        CHECK(rc == -1 && e.count == 2);
        CHECK(tp_has(&e, "strs.conf:3: x: unknown setting"));
        CHECK(tp_has(&e, "strs.conf:4: y: unknown setting"));
        fs_policy_errors_free(&e);
        fs_policy_free(p);
    }
    /* paths */
    CHECK(tp_reject1("log = { file = \"x.log\"; };\n",
                     "p.conf:1: log.file: must be an absolute path "
                     "(got \"x.log\")"));
    CHECK(tp_reject1("log = { file = \"\"; };\n",
                     "p.conf:1: log.file: must be an absolute path"));
    CHECK(tp_reject1("secret_key = { weak_list = \"weak.txt\"; };\n",
                     "p.conf:1: secret_key.weak_list: must be an absolute "
                     "path or \"\""));
    /* pins owned by dedicated settings */
    CHECK(tp_reject1("config = {\n SECRET_KEY = \"abc\"; };\n",
                     "p.conf:2: config.SECRET_KEY: cannot be pinned here; "
                     "secret_key sets it"));
    CHECK(tp_reject1("config = { DEBUG = false; };\n",
                     "p.conf:1: config.DEBUG: cannot be pinned"));
    CHECK(tp_reject1("config = { MAX_CONTENT_LENGTH = 5; };\n",
                     "p.conf:1: config.MAX_CONTENT_LENGTH: cannot be pinned"));
    /* pins of the types Flask takes, and typos of its keys */
    CHECK(tp_reject1("config = { SESSION_COOKIE_SAMESITE = true; };\n",
                     "p.conf:1: config.SESSION_COOKIE_SAMESITE: must be a "
                     "string, as Flask takes it"));
    CHECK(tp_reject1("config = {\n SESSION_COOKIE_SAMESITE = \"Lox\"; };\n",
                     "p.conf:2: config.SESSION_COOKIE_SAMESITE: must be one "
                     "of \"Strict\", \"Lax\" or \"None\""));
    CHECK(tp_reject1("config = { SESSION_COOKIE_SECURE = \"false\"; };\n",
                     "p.conf:1: config.SESSION_COOKIE_SECURE: must be true "
                     "or false, as Flask takes it"));
    CHECK(tp_reject1("config = { MAX_COOKIE_SIZE = \"4093\"; };\n",
                     "p.conf:1: config.MAX_COOKIE_SIZE: must be an integer"));
    CHECK(tp_reject1("config = { PREFERRED_URL_SCHEME = \"htps\"; };\n",
                     "p.conf:1: config.PREFERRED_URL_SCHEME: must be one of "
                     "\"http\", \"https\""));
    CHECK(tp_reject1("config = { SESSION_COOKIE_SECURED = true; };\n",
                     "p.conf:1: config.SESSION_COOKIE_SECURED: is not a Flask "
                     "setting; did you mean SESSION_COOKIE_SECURE?"));
    CHECK(tp_reject1("config = { session_cookie_secure = true; };\n",
                     "p.conf:1: config.session_cookie_secure: is not a Flask "
                     "setting; did you mean SESSION_COOKIE_SECURE?"));
    CHECK(tp_reject1("config = { REMEMBER_COOKIE_SECUR = true; };\n",
                     "p.conf:1: config.REMEMBER_COOKIE_SECUR: is not a Flask "
                     "setting; did you mean REMEMBER_COOKIE_SECURE?"));
    /* Flask-Login compares its modes as they are: "Strong" is off */
    CHECK(tp_reject1("config = { SESSION_PROTECTION = \"Strong\"; };\n",
                     "p.conf:1: config.SESSION_PROTECTION: must be one of "
                     "\"basic\", \"strong\""));
    CHECK(tp_reject1("config = { PREFERRED_URL_SCHEME = \"HTTPS\"; };\n",
                     "p.conf:1: config.PREFERRED_URL_SCHEME: must be one of"));
    {
        struct fs_policy *p = NULL;
        struct fs_policy_errors e;
        /* Flask's keys as Flask takes them; an app's and other extensions'
         * keys (Flask-Session, Flask-JWT-Extended, Flask-SQLAlchemy) as
         * they are */
        int rc = tp_load("pins.conf", "config = {\n"
                         " SESSION_COOKIE_SAMESITE = \"strict\";\n"
                         " SESSION_COOKIE_SECURE = true;\n"
                         " SESSION_COOKIE_DOMAIN = false;\n"
                         " PERMANENT_SESSION_LIFETIME = 3600;\n"
                         " REMEMBER_COOKIE_SAMESITE = \"Lax\";\n"
                         " SESSION_TYPE = \"redis\"; SESSION_PERMANENT = false;\n"
                         " SESSION_USE_SIGNER = true;\n"
                         " JWT_COOKIE_SECURE = true; JWT_COOKIE_SAMESITE = \"x\";\n"
                         " SQLALCHEMY_ECHO = false; MY_APP_FLAG = 3;\n"
                         " SENDER_NAME = \"Acme\"; HOSTING = \"x\";\n"
                         " SESSION_PROTECTION = \"strong\";\n"
                         " ENV = \"production\"; };\n", &p, &e);
        CHECK(rc == 0 && e.count == 0);
        fs_policy_errors_free(&e);
        fs_policy_free(p);
    }
    /* apps entries */
    CHECK(tp_reject1("apps = (\n { mode = \"off\"; }\n);\n",
                     "p.conf:2: apps[0]: match is required"));
    CHECK(tp_reject1("apps = ( { match = 3; } );\n",
                     "p.conf:1: apps[0].match: must be a string"));
    CHECK(tp_reject1("apps = ( { match = \"\"; } );\n",
                     "p.conf:1: apps[0].match: must be an import name"));
    CHECK(tp_reject1("apps = ( { match = \"a b\"; } );\n",
                     "p.conf:1: apps[0].match: must be an import name"));
    CHECK(tp_reject1("apps = ( { match = \"*\"; } );\n",
                     "p.conf:1: apps[0].match: must be an import name"));
    CHECK(tp_reject1("apps = ( { match = \"a*\"; } );\n",
                     "p.conf:1: apps[0].match: must be an import name"));
    CHECK(tp_reject1("apps = ( { match = \"a.*.b\"; } );\n",
                     "p.conf:1: apps[0].match: must be an import name"));
    CHECK(tp_reject1("apps = ( { match = \"pkg.*\"; },\n"
                     "  { match = \"pkg.sub\"; } );\n",
                     "p.conf:2: apps[1].match: \"pkg.sub\" is never used: "
                     "apps[0] (match \"pkg.*\") comes first"));
    CHECK(tp_reject1("apps = ( { match = \"pkg.*\"; },\n"
                     "  { match = \"pkg.sub.*\"; } );\n",
                     "p.conf:2: apps[1].match: \"pkg.sub.*\" is never used"));
    CHECK(tp_reject1("apps = ( { match = \"a\"; },\n { match = \"a\"; } );\n",
                     "p.conf:2: apps[1].match: \"a\" is never used"));
    CHECK(tp_reject1("apps = ( { match = \"a\";\n"
                     " secret_key = { weak_list = \"/w\"; }; } );\n",
                     "p.conf:2: apps[0].secret_key.weak_list: not allowed in "
                     "an apps entry"));
    CHECK(tp_reject1("apps = ( { match = \"a\"; allow_env_override = false; }"
                     " );\n", "p.conf:1: apps[0].allow_env_override: not "
                     "allowed in an apps entry"));
    CHECK(tp_reject1("apps = ( { match = \"a\"; version = 1; } );\n",
                     "p.conf:1: apps[0].version: not allowed"));
    CHECK(tp_reject1("apps = ( { match = \"a\"; log = { }; } );\n",
                     "p.conf:1: apps[0].log: not allowed"));
    CHECK(tp_reject1("apps = ( { match = \"a\"; apps = ( ); } );\n",
                     "p.conf:1: apps[0].apps: not allowed"));
    CHECK(tp_reject1("apps = ( { match = \"a\";\n"
                     "  body = { max_form_parts = -2; }; } );\n",
                     "p.conf:2: apps[0].body.max_form_parts: must be at "
                     "least 0"));
    /* a NUL byte */
    {
        struct fs_policy *p = NULL;
        struct fs_policy_errors e;
        int rc = fs_policy_load(tp_write_n("nul.conf", "mode = \"off\";\n"
                                           "x\0y", 17), &p, &e);
        CHECK(rc == -1 && tp_has(&e, "nul.conf:2: contains a NUL byte"));
        CHECK(p != NULL && p->global.mode == FS_MODE_ENFORCE);
        fs_policy_errors_free(&e);
        fs_policy_free(p);
    }
}

static void
test_many_errors_in_order(void)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    int rc = tp_load("many.conf",
        "apps = ( { match = \"a\"; bogus = 1; } );\n"     /* 1 */
        "version = 3;\n"                                   /* 2 */
        "mode = \"report\";\n"                             /* 3 */
        "body = { max_form_parts = -1; };\n"               /* 4 */
        "unknown = \"x\";\n",                              /* 5 */
        &p, &e);

    CHECK(rc == -1);
    CHECK(e.count == 4);
    if (e.count == 4) {
        CHECK(strncmp(tp_rel(e.msg[0]), "many.conf:1: apps[0].bogus", 26)
              == 0);
        CHECK(strncmp(tp_rel(e.msg[1]), "many.conf:2: version", 20) == 0);
        CHECK(strncmp(tp_rel(e.msg[2]), "many.conf:4: body.max_form_parts",
                      32) == 0);
        CHECK(strncmp(tp_rel(e.msg[3]), "many.conf:5: unknown", 20) == 0);
    }
    /* Rejected as a whole: the valid mode = "report" is not applied. */
    CHECK(p->global.mode == FS_MODE_ENFORCE && !p->from_file);
    fs_policy_errors_free(&e);
    fs_policy_free(p);

    /* errs may be NULL. */
    rc = fs_policy_load(tp_path("many.conf"), &p, NULL);
    CHECK(rc == -1 && p != NULL);
    fs_policy_free(p);
}

/* The entries of test_apps' policies, one line each in the file. */
#define APPS_LEGACY                                                     \
    "  { match = \"legacy_upload\";\n"                                  \
    "    body = { max_content_length = 104857600; };\n"                 \
    "    config = { B = \"app\"; C = true; }; },\n"
#define APPS_INTERNAL                                                   \
    "  { match = \"internal.*\"; mode = \"report\";\n"                  \
    "    debug = { debugger = \"allow\"; };\n"                          \
    "    secret_key = { min_length = 64; }; },\n"
#define APPS_OTHER_AND_GLOBALS                                          \
    "  { match = \"other.pkg\"; dev_server = \"allow\"; }\n"            \
    ");\n"                                                              \
    /* global settings after apps still reach the entries */          \
    "body = { max_form_parts = 5; };\n"                                 \
    "config = { A = 1; B = \"global\"; };\n"                            \
    "dev_server = \"refuse\";\n"

static void
test_apps(void)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    const struct fs_app_settings *s;
    int rc = tp_load("apps.conf",
        "apps = (\n" APPS_LEGACY APPS_INTERNAL
        "  { match = \"internal\"; mode = \"off\"; },\n"
        APPS_OTHER_AND_GLOBALS,
        &p, &e);

    /* "internal" after "internal.*" is shadowed: "internal.*" matches
     * "internal" itself. */
    CHECK(rc == -1);
    CHECK(tp_has(&e, "apps.conf:8: apps[2].match: \"internal\" is never "
                 "used: apps[1]"));
    fs_policy_errors_free(&e);
    fs_policy_free(p);

    rc = tp_load("apps.conf",
        "apps = (\n" APPS_LEGACY APPS_INTERNAL
        "  { match = \"internal.x\"; mode = \"off\"; },\n"
        APPS_OTHER_AND_GLOBALS,
        &p, &e);
    /* apps[2] is shadowed by apps[1] too */
    CHECK(rc == -1);
    CHECK(tp_has(&e, "apps.conf:8: apps[2].match: \"internal.x\" is never"));
    fs_policy_errors_free(&e);
    fs_policy_free(p);

    rc = tp_load("apps.conf",
        "apps = (\n" APPS_LEGACY
        "  { match = \"internal.x\"; mode = \"off\"; },\n"
        APPS_INTERNAL APPS_OTHER_AND_GLOBALS,
        &p, &e);
    CHECK(rc == 0 && e.count == 0);
    CHECK(p->napps == 4);
    /* exact */
    s = fs_policy_for_app(p, "legacy_upload");
    CHECK(s == &p->apps[0].settings);
    CHECK(s->max_content_length == 104857600);
    CHECK(s->max_form_parts == 5);             /* from global, set later */
    CHECK(s->dev_server == FS_DEV_REFUSE);
    CHECK(s->mode == FS_MODE_ENFORCE);
    /* merge of pins: global pins, then the app's, same key replaced */
    CHECK(s->npins == 3);
    if (s->npins == 3) {
        CHECK(strcmp(s->pins[0].key, "A") == 0 && s->pins[0].i == 1);
        CHECK(strcmp(s->pins[1].key, "B") == 0
              && strcmp(s->pins[1].s, "app") == 0);
        CHECK(strcmp(s->pins[2].key, "C") == 0 && s->pins[2].b);
    }
    CHECK(p->global.npins == 2);
    CHECK(strcmp(p->global.pins[1].s, "global") == 0);
    CHECK(p->global.max_content_length == 16777216);
    /* not a prefix match */
    CHECK(fs_policy_for_app(p, "legacy_upload.sub") == &p->global);
    CHECK(fs_policy_for_app(p, "legacy") == &p->global);
    /* first match wins: internal.x is rule 1, before internal.* */
    s = fs_policy_for_app(p, "internal.x");
    CHECK(s == &p->apps[1].settings && s->mode == FS_MODE_OFF);
    CHECK(s->debugger == FS_DEBUGGER_BLOCK);
    /* ".*" matches the package itself and anything below it */
    s = fs_policy_for_app(p, "internal");
    CHECK(s == &p->apps[2].settings);
    CHECK(s->mode == FS_MODE_REPORT && s->debugger == FS_DEBUGGER_ALLOW);
    CHECK(s->debug_force_off);                 /* not overridden */
    CHECK(s->sk_min_length == 64 && s->sk_require);
    CHECK(s->npins == 2);
    CHECK(fs_policy_for_app(p, "internal.y.z") == &p->apps[2].settings);
    CHECK(fs_policy_for_app(p, "internalx") == &p->global);
    CHECK(fs_policy_for_app(p, "internal.") == &p->apps[2].settings);
    s = fs_policy_for_app(p, "other.pkg");
    CHECK(s == &p->apps[3].settings && s->dev_server == FS_DEV_ALLOW);
    /* no match */
    CHECK(fs_policy_for_app(p, "other") == &p->global);
    CHECK(fs_policy_for_app(p, "") == &p->global);
    CHECK(fs_policy_for_app(p, NULL) == &p->global);
    fs_policy_errors_free(&e);
    fs_policy_free(p);

    /* the matcher itself */
    CHECK(fs_app_match("pkg.*", "pkg"));
    CHECK(fs_app_match("pkg.*", "pkg.a.b"));
    CHECK(!fs_app_match("pkg.*", "pkgx"));
    CHECK(!fs_app_match("pkg.*", "pk"));
    CHECK(fs_app_match("pkg", "pkg"));
    CHECK(!fs_app_match("pkg", "pkg.a"));

    /* empty lists */
    rc = tp_load("noapps.conf", "apps = ( );\nconfig = { };\n", &p, &e);
    CHECK(rc == 0 && p->napps == 0 && p->global.npins == 0);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    rc = tp_load("noapps.conf", "apps = [ ];\n", &p, &e);
    CHECK(rc == 0 && p->napps == 0);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
}

/* service per app: an entry's own, else a copy of the global one; bad
 * values of service and log.level (issue 16). */
static void
test_service_per_app(void)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    int rc = tp_load("svc.conf",
        "service = \"fleet\";\n"
        "apps = ( { match = \"shop\"; service = \"shop-api\"; },\n"
        "         { match = \"admin\"; mode = \"off\"; } );\n",
        &p, &e);

    CHECK(rc == 0 && e.count == 0);
    CHECK(p->napps == 2);
    if (p->napps == 2) {
        CHECK(strcmp(p->apps[0].settings.service, "shop-api") == 0);
        CHECK(strcmp(p->apps[1].settings.service, "fleet") == 0);
        CHECK(p->apps[1].settings.service != p->global.service);
    }
    fs_policy_errors_free(&e);
    fs_policy_free(p);

    rc = tp_load("svc.conf",
        "service = 1;\n"
        "log = { level = \"loud\"; };\n", &p, &e);
    CHECK(rc == -1);
    CHECK(tp_has(&e, "svc.conf:1: service: must be a string"));
    CHECK(tp_has(&e, "svc.conf:2: log.level: must be \"debug\", \"info\", "
                 "\"warning\" or \"error\""));
    fs_policy_errors_free(&e);
    fs_policy_free(p);
}

/* The security headers: defaults, values that are not header-safe
 * rejected with FILE:LINE, and an apps entry that changes one nested
 * member (strings deep-copied: the global value stays). */
static void
test_headers(void)
{
    struct fs_policy *p = fs_policy_defaults();
    struct fs_policy_errors e;
    const struct fs_app_settings *s;
    int rc;

    CHECK(strcmp(p->global.hdr_frame_options, "SAMEORIGIN") == 0);
    CHECK(p->global.hdr_content_type_options);
    CHECK(strcmp(p->global.hdr_referrer_policy,
                 "strict-origin-when-cross-origin") == 0);
    CHECK(p->global.hsts_max_age == 0 && p->global.hsts_include_subdomains);
    CHECK(strcmp(p->global.hdr_csp, "") == 0 && !p->global.https_force);
    fs_policy_free(p);

    CHECK(tp_reject1("headers = {\n frame_options = \"DENY\\r\\nX: 1\"; };\n",
                     "p.conf:2: headers.frame_options: must not contain CR "
                     "or LF"));
    CHECK(tp_reject1("headers = { referrer_policy = \"caf\xc3\xa9\"; };\n",
                     "p.conf:1: headers.referrer_policy: must be ASCII"));
    CHECK(tp_reject1("headers = { csp = \"default-src: 'self'\"; };\n",
                     "p.conf:1: headers.csp: must be CSP directives"));
    CHECK(tp_reject1("headers = { csp = \" ; \"; };\n",
                     "p.conf:1: headers.csp: must be CSP directives"));
    CHECK(tp_reject1("headers = { csp = \"a 'self', b\"; };\n",
                     "p.conf:1: headers.csp: must not contain ','"));
    CHECK(tp_reject1("headers = { csp_report_uri = \"/r x\"; };\n",
                     "p.conf:1: headers.csp_report_uri: must be one URI"));
    CHECK(tp_reject1("headers = { hsts = { max_age = -1; }; };\n",
                     "p.conf:1: headers.hsts.max_age: must be at least 0"));
    CHECK(tp_reject1("apps = ( { match = \"a\";\n"
                     " headers = { permissions_policy = \"a\\tb\"; }; } );\n",
                     "p.conf:2: apps[0].headers.permissions_policy: must be "
                     "printable ASCII"));

    rc = tp_load("h.conf",
                 "headers = { csp = \"default-src 'self'; img-src *;\";\n"
                 "  hsts = { max_age = 31556926; }; };\n"
                 "https = { force = true; };\n"
                 "apps = ( { match = \"a\"; headers = {\n"
                 "  frame_options = \"DENY\"; hsts = { preload = true; };\n"
                 "}; https = { permanent = true; }; } );\n", &p, &e);
    CHECK(rc == 0 && e.count == 0);
    s = fs_policy_for_app(p, "a");
    CHECK(strcmp(s->hdr_frame_options, "DENY") == 0);
    CHECK(strcmp(p->global.hdr_frame_options, "SAMEORIGIN") == 0);
    CHECK(s->hdr_frame_options != p->global.hdr_frame_options);
    CHECK(s->hdr_csp != p->global.hdr_csp
          && strcmp(s->hdr_csp, p->global.hdr_csp) == 0);
    CHECK(s->hsts_max_age == 31556926 && s->hsts_preload
          && !p->global.hsts_preload);
    CHECK(s->https_force && s->https_permanent && !p->global.https_permanent);
    fs_policy_errors_free(&e);
    fs_policy_free(p);
}

int
main(void)
{
    tp_init();
    test_defaults();
    test_every_setting();
    test_omitted();
    test_errors();
    test_many_errors_in_order();
    test_apps();
    test_service_per_app();
    test_headers();
    tp_cleanup();
    return fs_test_report();
}
