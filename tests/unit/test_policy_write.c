/*
 * test_policy_write.c -- unit tests of the writer behind `flaskshield
 * explain`, of the shipped etc/policy.conf and of examples/policies/.
 *
 * policy.conf must load to exactly the built-in defaults and must be, byte
 * for byte, what the documented writer produces from fs_schema[] (so the
 * documentation cannot drift; regenerate it with
 * `build/flaskshield explain --builtin --doc > etc/policy.conf`).
 * Explain output must load again and be a fixed point.  The files are
 * copied into a private folder first, so that the checkout's umask or
 * owner does not matter.  Run from the top of the source tree.
 */
#include "test_policy_util.h"

/* Contents of a source file, or NULL. */
static char *
tp_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL) {
        fprintf(stderr, "  cannot open %s (run from the source tree)\n",
                path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Load a copy of a source file; NULL on failure (errors printed). */
static struct fs_policy *
tp_load_copy(const char *src, const char *as)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    size_t len = 0, i;
    char *text = tp_slurp(src, &len);
    int rc;

    if (text == NULL) {
        return NULL;
    }
    rc = fs_policy_load(tp_write_n(as, text, len), &p, &e);
    free(text);
    for (i = 0; i < e.count; i++) {
        fprintf(stderr, "  %s\n", e.msg[i]);
    }
    fs_policy_errors_free(&e);
    if (rc != 0) {
        fs_policy_free(p);
        return NULL;
    }
    return p;
}

/* Write p (for app), load the text, write again: same bytes?  The text
 * loads without error? */
static bool
tp_fixed_point(const struct fs_policy *p, const char *app, unsigned flags)
{
    struct fs_policy *q = NULL;
    struct fs_policy_errors e;
    char *a = tp_written(p, app, flags), *b;
    bool ok;
    int rc = tp_load("fixed.conf", a, &q, &e);

    b = tp_written(q, app, flags);
    ok = rc == 0 && e.count == 0 && strcmp(a, b) == 0;
    if (!ok) {
        fprintf(stderr, "  not a fixed point (rc %d):\n%s\n---\n%s\n", rc, a,
                b);
    }
    free(a);
    free(b);
    fs_policy_errors_free(&e);
    fs_policy_free(q);
    return ok;
}

static void
test_policy_conf(void)
{
    struct fs_policy *p = tp_load_copy("etc/policy.conf", "policy.conf");
    struct fs_policy *d = fs_policy_defaults();
    char *a, *b, *text;
    size_t len = 0;

    CHECK(p != NULL);
    if (p == NULL) {
        fs_policy_free(d);
        return;
    }
    /* The same values as the built-in defaults, setting by setting. */
    a = tp_written(p, NULL, 0);
    b = tp_written(d, NULL, 0);
    CHECK(strcmp(a, b) == 0);
    CHECK(strstr(a, "# default:") == NULL);
    free(a);
    free(b);
    CHECK(p->global.mode == d->global.mode);
    CHECK(p->global.sk_min_length == d->global.sk_min_length);
    CHECK(p->global.max_content_length == d->global.max_content_length);
    CHECK(p->napps == 0 && p->global.npins == 0);
    /* And the file is what the documented writer makes of the table. */
    text = tp_slurp("etc/policy.conf", &len);
    a = tp_written(d, NULL, FS_WRITE_DOC);
    CHECK(text != NULL && strcmp(text, a) == 0);
    if (text != NULL && strcmp(text, a) != 0) {
        fprintf(stderr, "  etc/policy.conf is out of date: run "
                "build/flaskshield explain --builtin --doc "
                "> etc/policy.conf\n");
    }
    free(text);
    free(a);
    CHECK(tp_fixed_point(d, NULL, FS_WRITE_DOC));
    CHECK(tp_fixed_point(d, NULL, 0));
    fs_policy_free(p);
    fs_policy_free(d);
}

static void
test_examples(void)
{
    static const char *const files[] = {
        "examples/policies/strict.conf",
        "examples/policies/report-only.conf",
        "examples/policies/per-app.conf",
    };
    struct fs_policy *p;
    const struct fs_app_settings *s;
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        p = tp_load_copy(files[i], "example.conf");
        CHECK(p != NULL);
        if (p != NULL) {
            CHECK(tp_fixed_point(p, NULL, 0));
            CHECK(tp_fixed_point(p, NULL, FS_WRITE_DOC));
            CHECK(tp_fixed_point(p, "legacy_upload", 0));
            CHECK(tp_fixed_point(p, "internal.tools", 0));
        }
        fs_policy_free(p);
    }

    p = tp_load_copy("examples/policies/strict.conf", "strict.conf");
    if (p != NULL) {
        CHECK(p->global.mode == FS_MODE_ENFORCE);
        CHECK(p->global.dev_server == FS_DEV_REFUSE);
        CHECK(p->global.npins == 8);
        CHECK(p->global.npins == 8 && strcmp(p->global.pins[2].key,
                                             "SESSION_COOKIE_SAMESITE") == 0
              && strcmp(p->global.pins[2].s, "Lax") == 0);
    }
    fs_policy_free(p);
    p = tp_load_copy("examples/policies/report-only.conf", "report.conf");
    CHECK(p != NULL && p->global.mode == FS_MODE_REPORT);
    fs_policy_free(p);
    p = tp_load_copy("examples/policies/per-app.conf", "per-app.conf");
    CHECK(p != NULL);
    if (p != NULL) {
        s = fs_policy_for_app(p, "legacy_upload");
        CHECK(s->max_content_length == 104857600);
        s = fs_policy_for_app(p, "internal.tools");
        CHECK(s->mode == FS_MODE_REPORT);
        CHECK(fs_policy_for_app(p, "shop") == &p->global);
    }
    fs_policy_free(p);
}

static void
test_round_trip(void)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    char *out;
    int rc = tp_load("rt.conf",
        "mode = \"report\";\n"
        "log = { target = \"file\"; file = \"/var/log/a \\\"b\\\"\\\\c\"; };\n"
        "secret_key = { min_length = 99; weak_list = \"/w/l\"; };\n"
        "body = { max_content_length = 8589934592L; max_form_parts = 0; };\n"
        "config = { Q = \"quote\\\" back\\\\ nl\\n tab\\t cr\\r ff\\f "
        "x\\x01 del\\x7f é\"; N = -5; M = -9000000000L; T = false;\n"
        "           lower_case = 1; };\n"
        "apps = (\n"
        "  { match = \"a.*\"; mode = \"enforce\"; body = { max_form_parts = 0; };\n"
        "    config = { N = -5; Q = \"other\"; NEW = true; }; },\n"
        "  { match = \"b\"; secret_key = { min_length = 99; }; },\n"
        "  { match = \"c\"; debug = { force_off = false; };\n"
        "    secret_key = { on_violation = \"warn\"; }; }\n"
        ");\n",
        &p, &e);

    CHECK(rc == 0 && e.count == 0);
    if (rc != 0) {
        fs_policy_errors_free(&e);
        fs_policy_free(p);
        return;
    }
    CHECK(p->global.max_content_length == 8589934592LL);
    CHECK(strcmp(p->log_file, "/var/log/a \"b\"\\c") == 0);
    CHECK(strcmp(p->global.pins[0].s, "quote\" back\\ nl\n tab\t cr\r ff\f "
                 "x\x01 del\x7f \xc3\xa9") == 0);
    CHECK(tp_fixed_point(p, NULL, 0));
    CHECK(tp_fixed_point(p, NULL, FS_WRITE_DOC));
    CHECK(tp_fixed_point(p, "a.x", 0));
    CHECK(tp_fixed_point(p, "b", 0));
    CHECK(tp_fixed_point(p, "c", 0));
    CHECK(tp_fixed_point(p, "none", 0));

    out = tp_written(p, NULL, 0);
    CHECK(strstr(out, "max_content_length = 8589934592L;") != NULL);
    CHECK(strstr(out, "M = -9000000000L;") != NULL);
    CHECK(strstr(out, "mode = \"report\";  # default: \"enforce\"\n") != NULL);
    CHECK(strstr(out, "min_length = 99;  # default: 24\n") != NULL);
    /* apps entries list what differs from the global settings only */
    CHECK(strstr(out, "        match = \"b\";\n    },") != NULL);
    CHECK(strstr(out, "        mode = \"enforce\";\n") != NULL);
    free(out);

    /* One app: its merged settings, no apps list. */
    out = tp_written(p, "a.x", 0);
    CHECK(strncmp(out, "# flaskshield effective policy for app \"a.x\"\n",
                  45) == 0);
    CHECK(strstr(out, "mode = \"enforce\";\n") != NULL);
    CHECK(strstr(out, "max_form_parts = 0;") != NULL);
    CHECK(strstr(out, "NEW = true;") != NULL);
    CHECK(strstr(out, "Q = \"other\";") != NULL);
    CHECK(strstr(out, "apps = ( );\n") != NULL);
    free(out);
    /* An app name that would break the comment line. */
    out = tp_written(p, "x\ny\"", 0);
    CHECK(strncmp(out, "# flaskshield effective policy for app \"x?y?\"\n",
                  46) == 0);
    free(out);
    fs_policy_errors_free(&e);
    fs_policy_free(p);
}

int
main(void)
{
    tp_init();
    test_policy_conf();
    test_examples();
    test_round_trip();
    tp_cleanup();
    return fs_test_report();
}
