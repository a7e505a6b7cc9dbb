/*
 * test_policy_dropins.c -- unit tests of the policy's drop-ins: NAME.d/
 * beside NAME.conf (FILE.d/ otherwise), byte order, which entries are read
 * and which ignored or refused, the merge (scalars in groups key by key,
 * pins by key, apps entries appended and shadowing over the one list),
 * errors naming the drop-in's file and line, a ConfigMap-style symlinked
 * folder swapped under the loader, the sources list, the digest of a
 * policy split differently across files, and `explain --origin`.
 */
#include <sys/types.h>

#include "test_policy_util.h"

/* Load tp_dir/name; on failure print the errors.  Returns the policy
 * (never NULL) and the load's result in *rc. */
static struct fs_policy *
td_load(const char *name, int *rc, struct fs_policy_errors *e)
{
    struct fs_policy *p = NULL;

    *rc = fs_policy_load(tp_path(name), &p, e);
    return p;
}

/* Load name, expect success, free nothing: the caller does. */
static struct fs_policy *
td_ok(const char *name)
{
    struct fs_policy_errors e;
    int rc;
    struct fs_policy *p = td_load(name, &rc, &e);
    size_t i;

    CHECK(rc == 0 && e.count == 0 && p->from_file);
    for (i = 0; i < e.count; i++) {
        fprintf(stderr, "  unexpected: %s\n", tp_rel(e.msg[i]));
    }
    fs_policy_errors_free(&e);
    return p;
}

/* Load name, expect rejection (built-in defaults) with exactly the errors
 * listed (each the start of a message, after tp_rel), in that order. */
static bool
td_rejected(const char *name, const char *const *expect)
{
    struct fs_policy_errors e;
    int rc;
    struct fs_policy *p = td_load(name, &rc, &e);
    size_t n = 0, i;
    bool ok;

    while (expect[n] != NULL) {
        n++;
    }
    ok = rc == -1 && !p->from_file && p->path == NULL && e.count == n;
    for (i = 0; ok && i < n; i++) {
        ok = strncmp(tp_rel(e.msg[i]), expect[i], strlen(expect[i])) == 0;
    }
    if (!ok) {
        fprintf(stderr, "  %s: expected %zu errors:\n", name, n);
        for (i = 0; i < n; i++) {
            fprintf(stderr, "    %s\n", expect[i]);
        }
        fprintf(stderr, "  got %zu:\n", e.count);
        for (i = 0; i < e.count; i++) {
            fprintf(stderr, "    %s\n", tp_rel(e.msg[i]));
        }
    }
    fs_policy_errors_free(&e);
    fs_policy_free(p);
    return ok;
}

/* Byte order (not numeric, not the locale's), after the file. */
static void
test_order(void)
{
    struct fs_policy *p;

    tp_write("order.conf", "mode = \"report\";\ndev_server = \"allow\";\n");
    tp_mkdir("order.d");
    tp_write("order.d/9-last.conf", "mode = \"off\";\n");
    tp_write("order.d/10-first.conf", "mode = \"enforce\";\n"
             "dev_server = \"refuse\";\n");
    tp_write("order.d/B-upper.conf", "dev_server = \"waitress\";\n");
    tp_write("order.d/a-lower.conf", "dev_server = \"warn\";\n");
    p = td_ok("order.conf");
    /* 10-first < 9-last < B-upper < a-lower */
    CHECK(p->global.mode == FS_MODE_OFF);
    CHECK(p->global.dev_server == FS_DEV_WARN);
    CHECK(p->ndropins == 4);
    CHECK(p->nsources == 6);
    if (p->nsources == 6) {
        CHECK(strcmp(tp_rel(p->sources[0]), "order.conf") == 0);
        CHECK(strcmp(tp_rel(p->sources[1]), "order.d") == 0);
        CHECK(strcmp(tp_rel(p->sources[2]), "order.d/10-first.conf") == 0);
        CHECK(strcmp(tp_rel(p->sources[3]), "order.d/9-last.conf") == 0);
        CHECK(strcmp(tp_rel(p->sources[4]), "order.d/B-upper.conf") == 0);
        CHECK(strcmp(tp_rel(p->sources[5]), "order.d/a-lower.conf") == 0);
    }
    fs_policy_free(p);
}

/* A later file replaces a setting of a group key by key; pins by key;
 * apps entries are appended; every entry starts from the merged global
 * settings, whichever file set them. */
static void
test_merge(void)
{
    struct fs_policy *p;
    const struct fs_app_settings *s;

    tp_write("merge.conf",
             "body = { max_content_length = 100; max_form_memory_size = 200;"
             " max_form_parts = 300; };\n"
             "secret_key = { min_length = 32; on_violation = \"warn\"; };\n"
             "log = { target = \"file\"; file = \"/tmp/a.log\"; };\n"
             "config = { A = 1; B = \"base\"; };\n"
             "apps = ( { match = \"one\"; body = { max_form_parts = 1; }; "
             "config = { B = \"one\"; }; } );\n");
    tp_mkdir("merge.d");
    tp_write("merge.d/10-app.conf",
             "body = { max_content_length = 1048576; };\n"
             "secret_key = { min_length = 40; };\n"
             "log = { file = \"/tmp/b.log\"; };\n"
             "config = { B = \"dropin\"; C = true; };\n"
             "apps = ( { match = \"two.*\"; mode = \"report\"; } );\n");
    tp_write("merge.d/20-more.conf",
             "apps = ( { match = \"three\"; } );\nconfig = { };\n");
    p = td_ok("merge.conf");
    CHECK(p->global.max_content_length == 1048576);
    CHECK(p->global.max_form_memory_size == 200);
    CHECK(p->global.max_form_parts == 300);
    CHECK(p->global.sk_min_length == 40);
    CHECK(p->global.sk_on_violation == FS_VIOLATION_WARN);
    CHECK(p->log_target == FS_LOG_FILE);
    CHECK(strcmp(p->log_file, "/tmp/b.log") == 0);
    CHECK(p->global.npins == 3);
    if (p->global.npins == 3) {
        CHECK(strcmp(p->global.pins[0].key, "A") == 0
              && p->global.pins[0].i == 1);
        CHECK(strcmp(p->global.pins[1].key, "B") == 0
              && strcmp(p->global.pins[1].s, "dropin") == 0);
        CHECK(strcmp(p->global.pins[2].key, "C") == 0
              && p->global.pins[2].b);
    }
    CHECK(p->napps == 3);
    if (p->napps == 3) {
        CHECK(strcmp(p->apps[0].match, "one") == 0);
        CHECK(strcmp(p->apps[1].match, "two.*") == 0);
        CHECK(strcmp(p->apps[2].match, "three") == 0);
    }
    /* The main file's entry sees the drop-in's global settings. */
    s = fs_policy_for_app(p, "one");
    CHECK(s->max_form_parts == 1 && s->max_content_length == 1048576);
    CHECK(s->sk_min_length == 40 && s->npins == 3);
    CHECK(s->npins == 3 && strcmp(s->pins[1].s, "one") == 0);
    s = fs_policy_for_app(p, "two.x");
    CHECK(s->mode == FS_MODE_REPORT && s->max_form_parts == 300);
    fs_policy_free(p);
}

/* Shadowing is judged over the one list: a drop-in's entry that an entry
 * of the file (or an earlier drop-in) hides is an error there. */
static void
test_shadowing(void)
{
    static const char *const hidden[] = {
        "shadow.d/10-app.conf:2: apps[1].match: \"pkg.sub\" is never used: "
        "apps[0] (match \"pkg.*\" in ",
        NULL,
    };
    struct fs_policy *p;

    tp_write("shadow.conf", "apps = ( { match = \"pkg.*\"; } );\n");
    tp_mkdir("shadow.d");
    tp_write("shadow.d/10-app.conf", "apps = (\n { match = \"pkg.sub\"; } );\n");
    CHECK(td_rejected("shadow.conf", hidden));
    /* The other way round is fine: the narrower entry comes first. */
    tp_write("shadow.conf", "apps = ( { match = \"pkg.sub\"; } );\n");
    tp_write("shadow.d/10-app.conf", "apps = ( { match = \"pkg.*\"; } );\n");
    p = td_ok("shadow.conf");
    CHECK(p->napps == 2 && fs_policy_for_app(p, "pkg.sub") == &p->apps[0]
          .settings && fs_policy_for_app(p, "pkg") == &p->apps[1].settings);
    fs_policy_free(p);
    /* Between two drop-ins too. */
    tp_write("shadow.conf", "");
    tp_write("shadow.d/10-app.conf", "apps = ( { match = \"a\"; } );\n");
    tp_write("shadow.d/20-app.conf", "\napps = ( { match = \"a\"; } );\n");
    {
        static const char *const again[] = {
            "shadow.d/20-app.conf:2: apps[1].match: \"a\" is never used: "
            "apps[0] (match \"a\" in ",
            NULL,
        };
        CHECK(td_rejected("shadow.conf", again));
    }
}

/* Errors name the drop-in (or its include) and the line; every file's
 * errors are reported, in file order; any of them rejects the policy. */
static void
test_errors(void)
{
    static const struct {
        const char *dropin;             /* text of err.d/10-x.conf */
        const char *expect;
    } cases[] = {
        {"bogus = 1;\n", "err.d/10-x.conf:1: bogus: unknown setting"},
        {"\nversion = 2;\n", "err.d/10-x.conf:2: version: must be 1 (got 2)"},
        {"version = 1;\nbody = { max_form_parts = -1; };\n",
         "err.d/10-x.conf:2: body.max_form_parts: must be at least 0"},
        {"mode = ;\n", "err.d/10-x.conf:1: syntax error"},
        {"mode = \"off\";\nmode = \"off\";\n",
         "err.d/10-x.conf:2: mode: duplicate setting"},
        {"apps = ( { mode = \"off\"; } );\n",
         "err.d/10-x.conf:1: apps[0]: match is required"},
        {"config = { DEBUG = true; };\n",
         "err.d/10-x.conf:1: config.DEBUG: cannot be pinned here"},
        {"# a comment\n@include \"inc/bad.conf\"\n",
         "err.d/inc/bad.conf:2: nope: unknown setting"},
        {"@include \"inc/none.conf\"\n",
         "err.d/inc/none.conf:0: cannot open: No such file or directory "
         "(included from "},
    };
    static const char *const both[] = {
        "err.conf:1: mode: must be",
        "err.d/10-x.conf:1: bogus: unknown setting",
        "err.d/20-y.conf:3: body.nope: unknown setting",
        NULL,
    };
    size_t i;

    tp_mkdir("err.d");
    tp_mkdir("err.d/inc");
    tp_write("err.d/inc/bad.conf", "\nnope = 1;\n");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *expect[] = {cases[i].expect, NULL};

        tp_write("err.conf", "mode = \"report\";\n");
        tp_write("err.d/10-x.conf", cases[i].dropin);
        CHECK(td_rejected("err.conf", expect));
    }
    /* Problems in the file and two drop-ins, in file order. */
    tp_write("err.conf", "mode = \"of\";\n");
    tp_write("err.d/10-x.conf", "bogus = 1;\n");
    tp_write("err.d/20-y.conf", "\n\nbody = { nope = 1; };\n");
    CHECK(td_rejected("err.conf", both));
    unlink(tp_path("err.d/20-y.conf"));

    /* The file checks, drop-in by drop-in. */
    tp_write("err.conf", "mode = \"report\";\n");
    tp_write("err.d/10-x.conf", "mode = \"off\";\n");
    chmod(tp_path("err.d/10-x.conf"), 0664);
    {
        static const char *const gw[] = {
            "err.d/10-x.conf:0: is writable by group or others (mode 0664)",
            NULL,
        };
        CHECK(td_rejected("err.conf", gw));
    }
    chmod(tp_path("err.d/10-x.conf"), 0644);
    if (geteuid() == 0) {
        static const char *const owner[] = {
            "err.d/10-x.conf:0: is owned by uid 12345", NULL,
        };
        CHECK(chown(tp_path("err.d/10-x.conf"), 12345, 12345) == 0);
        CHECK(td_rejected("err.conf", owner));
        CHECK(chown(tp_path("err.d/10-x.conf"), 0, 0) == 0);
    }
    unlink(tp_path("err.d/10-x.conf"));
}

/* Which entries are drop-ins: *.conf, not hidden; a *.conf entry that is
 * not a regular file (symlinks followed) is an error naming it. */
static void
test_entries(void)
{
    static const char *const bad[][3] = {
        {"ent.d/a-dir.conf:0: is a directory, not a regular file", NULL},
        {"ent.d/b-fifo.conf:0: is a special file, not a regular file", NULL},
        {"ent.d/c-dangling.conf:0: cannot stat the drop-in: No such file",
         NULL},
    };
    struct fs_policy *p;

    tp_write("ent.conf", "mode = \"report\";\n");
    tp_mkdir("ent.d");
    /* Ignored: hidden, other suffixes, a bare ".conf", folders and FIFOs
     * not named *.conf, a ConfigMap's ..data link. */
    tp_write("ent.d/.hidden.conf", "bogus = 1;\n");
    tp_write("ent.d/.conf", "bogus = 1;\n");
    tp_write("ent.d/README", "bogus = 1;\n");
    tp_write("ent.d/10-x.conf.bak", "bogus = 1;\n");
    tp_write("ent.d/10-x.conf~", "bogus = 1;\n");
    tp_write("ent.d/10-x.CONF", "bogus = 1;\n");
    tp_mkdir("ent.d/sub");
    tp_mkdir("ent.d/..2024_01_01");
    CHECK(symlink("..2024_01_01", tp_path("ent.d/..data")) == 0);
    mkfifo(tp_path("ent.d/fifo"), 0644);
    tp_write("ent.d/50-ok.conf", "dev_server = \"refuse\";\n");
    p = td_ok("ent.conf");
    CHECK(p->ndropins == 1 && p->global.dev_server == FS_DEV_REFUSE);
    CHECK(p->global.mode == FS_MODE_REPORT);
    fs_policy_free(p);
    /* A symlink to a regular file is a drop-in. */
    tp_write("elsewhere.conf", "dev_server = \"allow\";\n");
    CHECK(symlink(tp_path("elsewhere.conf"), tp_path("ent.d/60-link.conf"))
          == 0);
    p = td_ok("ent.conf");
    CHECK(p->ndropins == 2 && p->global.dev_server == FS_DEV_ALLOW);
    fs_policy_free(p);
    /* Not regular files. */
    tp_mkdir("ent.d/a-dir.conf");
    CHECK(td_rejected("ent.conf", bad[0]));
    rmdir(tp_path("ent.d/a-dir.conf"));
    mkfifo(tp_path("ent.d/b-fifo.conf"), 0644);
    CHECK(td_rejected("ent.conf", bad[1]));
    unlink(tp_path("ent.d/b-fifo.conf"));
    CHECK(symlink(tp_path("nothing.conf"), tp_path("ent.d/c-dangling.conf"))
          == 0);
    CHECK(td_rejected("ent.conf", bad[2]));
    unlink(tp_path("ent.d/c-dangling.conf"));
    /* The folder itself must be a folder. */
    tp_write("notdir.conf", "");
    tp_write("notdir.d", "");
    {
        static const char *const nd[] = {"notdir.d:0: is not a directory",
                                         NULL};
        CHECK(td_rejected("notdir.conf", nd));
    }
}

/* No folder: no drop-in, no error, the folder still a source.  A file not
 * named *.conf has FILE.d.  A folder of drop-ins beside a missing file is
 * an error (not the silence of a missing policy); an empty one is not. */
static void
test_folder_names(void)
{
    struct fs_policy *p;
    struct fs_policy_errors e;
    bool missing = true;
    int rc;

    tp_write("lone.conf", "mode = \"off\";\n");
    p = td_ok("lone.conf");
    CHECK(p->ndropins == 0 && p->nsources == 2
          && strcmp(tp_rel(p->sources[1]), "lone.d") == 0);
    fs_policy_free(p);

    tp_write("policy.txt", "mode = \"off\";\n");
    tp_mkdir("policy.txt.d");
    tp_write("policy.txt.d/1.conf", "mode = \"report\";\n");
    p = td_ok("policy.txt");
    CHECK(p->ndropins == 1 && p->global.mode == FS_MODE_REPORT);
    CHECK(p->nsources == 3
          && strcmp(tp_rel(p->sources[1]), "policy.txt.d") == 0);
    fs_policy_free(p);

    tp_mkdir("gone.d");
    p = NULL;
    rc = fs_policy_load_file(tp_path("gone.conf"), &p, NULL, &missing);
    CHECK(rc == -1 && missing);
    fs_policy_free(p);
    tp_write("gone.d/10.conf", "mode = \"report\";\n");
    p = NULL;
    e.msg = NULL;
    e.count = 0;
    rc = fs_policy_load_file(tp_path("gone.conf"), &p, &e, &missing);
    CHECK(rc == -1 && !missing && !p->from_file && e.count == 1);
    CHECK(tp_has(&e, "gone.conf:0: cannot open: No such file or directory "
                 "(and "));
    fs_policy_free(p);
    fs_policy_errors_free(&e);
}

/* A ConfigMap mounted where policy.d links: the folder holds ..data ->
 * ..VERSION and NAME.conf -> ..data/NAME.conf; an update swaps ..data. */
static void
test_configmap_swap(void)
{
    struct fs_policy *p;

    tp_mkdir("cm");
    tp_mkdir("cm/..v1");
    tp_write("cm/..v1/10-app.conf", "body = { max_content_length = 1000; };\n");
    CHECK(symlink("..v1", tp_path("cm/..data")) == 0);
    CHECK(symlink("..data/10-app.conf", tp_path("cm/10-app.conf")) == 0);
    tp_write("cmp.conf", "mode = \"report\";\n");
    CHECK(symlink("cm/", tp_path("cmp.d")) == 0);
    p = td_ok("cmp.conf");
    CHECK(p->ndropins == 1 && p->global.max_content_length == 1000);
    CHECK(p->nsources == 3);
    if (p->nsources == 3) {
        CHECK(strcmp(tp_rel(p->sources[1]), "cmp.d") == 0);
        CHECK(strcmp(tp_rel(p->sources[2]), "cmp.d/10-app.conf") == 0);
    }
    fs_policy_free(p);
    /* The update: a new version, ..data swapped with rename(2), a new key
     * linked, the old version removed. */
    tp_mkdir("cm/..v2");
    tp_write("cm/..v2/10-app.conf", "body = { max_content_length = 2000; };\n");
    tp_write("cm/..v2/20-more.conf", "dev_server = \"refuse\";\n");
    CHECK(symlink("..v2", tp_path("cm/..data_tmp")) == 0);
    CHECK(rename(tp_path("cm/..data_tmp"), tp_path("cm/..data")) == 0);
    CHECK(symlink("..data/20-more.conf", tp_path("cm/20-more.conf")) == 0);
    unlink(tp_path("cm/..v1/10-app.conf"));
    rmdir(tp_path("cm/..v1"));
    p = td_ok("cmp.conf");
    CHECK(p->ndropins == 2 && p->global.max_content_length == 2000);
    CHECK(p->global.dev_server == FS_DEV_REFUSE);
    fs_policy_free(p);
    /* The folder link itself swapped to another folder. */
    tp_mkdir("cm2");
    tp_write("cm2/10-app.conf", "body = { max_content_length = 3000; };\n");
    CHECK(symlink("cm2", tp_path("cmp.d.new")) == 0);
    CHECK(rename(tp_path("cmp.d.new"), tp_path("cmp.d")) == 0);
    p = td_ok("cmp.conf");
    CHECK(p->ndropins == 1 && p->global.max_content_length == 3000);
    fs_policy_free(p);
}

/* Sources: the file, its includes, the folder, each drop-in and its
 * includes, in the order read. */
static void
test_sources(void)
{
    static const char *const want[] = {
        "src.conf", "inc/a.conf", "src.d", "src.d/10-x.conf",
        "src.d/inc/b.conf", "src.d/inc/c.conf", "src.d/20-y.conf",
    };
    struct fs_policy *p;
    size_t i, n = sizeof(want) / sizeof(want[0]);

    tp_mkdir("inc");
    tp_write("inc/a.conf", "mode = \"report\";\n");
    tp_write("src.conf", "@include \"inc/a.conf\"\n");
    tp_mkdir("src.d");
    tp_mkdir("src.d/inc");
    tp_write("src.d/inc/b.conf", "@include \"c.conf\"\n");
    tp_write("src.d/inc/c.conf", "dev_server = \"allow\";\n");
    tp_write("src.d/10-x.conf", "@include \"inc/b.conf\"\n");
    tp_write("src.d/20-y.conf", "mode = \"off\";\n");
    p = td_ok("src.conf");
    CHECK(p->nsources == n && p->ndropins == 2);
    for (i = 0; i < n && i < p->nsources; i++) {
        CHECK(strcmp(tp_rel(p->sources[i]), want[i]) == 0);
    }
    CHECK(p->global.mode == FS_MODE_OFF && p->global.dev_server
          == FS_DEV_ALLOW);
    fs_policy_free(p);
}

/* The same merged policy has the same digest however it is split. */
static void
test_digest(void)
{
    struct fs_policy *one, *split, *other;

    tp_write("dg1.conf",
             "mode = \"report\";\nbody = { max_content_length = 5; "
             "max_form_parts = 6; };\nconfig = { A = 1; B = 2; };\n"
             "apps = ( { match = \"a\"; }, { match = \"b\"; mode = \"off\"; "
             "} );\n");
    tp_write("dg2.conf",
             "mode = \"off\";\nbody = { max_content_length = 5; };\n"
             "config = { A = 1; B = 9; };\napps = ( { match = \"a\"; } );\n");
    tp_mkdir("dg2.d");
    tp_write("dg2.d/10.conf", "mode = \"report\";\n"
             "body = { max_form_parts = 6; };\nconfig = { B = 2; };\n");
    tp_write("dg2.d/20.conf", "apps = ( { match = \"b\"; mode = \"off\"; "
             "} );\n");
    one = td_ok("dg1.conf");
    split = td_ok("dg2.conf");
    CHECK(strcmp(one->digest, split->digest) == 0);
    tp_write("dg2.d/30.conf", "body = { max_form_parts = 7; };\n");
    other = td_ok("dg2.conf");
    CHECK(strcmp(one->digest, other->digest) != 0);
    fs_policy_free(one);
    fs_policy_free(split);
    fs_policy_free(other);
}

/* Does text hold line (a whole line, after tp_dir/ is cut out)? */
static bool
td_has_line(const char *text, const char *line)
{
    char want[600];
    const char *at;

    snprintf(want, sizeof(want), "%s\n", line);
    for (at = strstr(text, want); at != NULL; at = strstr(at + 1, want)) {
        if (at == text || at[-1] == '\n') {
            return true;
        }
    }
    fprintf(stderr, "  no line: %s\n", line);
    return false;
}

/* tp_written() with every "tp_dir/" removed. */
static char *
td_written(const struct fs_policy *p, const char *app, unsigned flags)
{
    char *text = tp_written(p, app, flags), *at;
    size_t n = strlen(tp_dir) + 1;

    while ((at = strstr(text, tp_dir)) != NULL) {
        memmove(at, at + n, strlen(at + n) + 1);
    }
    return text;
}

static void
test_explain_origin(void)
{
    static const char *const lines[] = {
        "version = 1;  # built-in default",
        "mode = \"report\";  # default: \"enforce\"; set in ori.conf:1",
        "    max_content_length = 1048576;  # default: 16777216; set in "
        "ori.d/10-app.conf:2",
        "    max_form_parts = 7;  # default: 1000; set in ori.conf:2",
        "    max_form_memory_size = 500000;  # built-in default",
        "    A = 1;  # set in ori.conf:3",
        "    B = \"x\";  # set in ori.d/10-app.conf:3",
        "        match = \"legacy\";  # set in ori.conf:4",
        "        match = \"pkg.*\";  # set in ori.d/inc/apps.conf:1",
        "        dev_server = \"allow\";  # default: \"warn\"; set in "
        "ori.d/inc/apps.conf:1",
        "dev_server = \"warn\";  # set in ori.d/10-app.conf:4",
    };
    static const char *const app_lines[] = {
        "# apps[1] applies (match \"pkg.*\"); set in ori.d/inc/apps.conf:1",
        "dev_server = \"allow\";  # default: \"warn\"; set in "
        "ori.d/inc/apps.conf:1",
        "    max_content_length = 1048576;  # default: 16777216; set in "
        "ori.d/10-app.conf:2",
        "config = {",
        "    A = 1;  # set in ori.conf:3",
    };
    struct fs_policy *p, *again;
    struct fs_policy_errors e;
    char *text, *plain;
    size_t i;

    tp_write("ori.conf", "mode = \"report\";\n"
             "body = { max_form_parts = 7; };\n"
             "config = { A = 1; B = 2; };\n"
             "apps = ( { match = \"legacy\"; } );\n");
    tp_mkdir("ori.d");
    tp_mkdir("ori.d/inc");
    tp_write("ori.d/inc/apps.conf",
             "apps = ( { match = \"pkg.*\"; dev_server = \"allow\"; } );\n");
    tp_write("ori.d/10-app.conf", "# the app image's drop-in\n"
             "body = { max_content_length = 1048576; };\n"
             "config = { B = \"x\"; };\n"
             "dev_server = \"warn\";\n"
             "@include \"inc/apps.conf\"\n");
    p = td_ok("ori.conf");
    text = td_written(p, NULL, FS_WRITE_ORIGIN);
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        CHECK(td_has_line(text, lines[i]));
    }
    free(text);
    text = td_written(p, "pkg.mod", FS_WRITE_ORIGIN);
    for (i = 0; i < sizeof(app_lines) / sizeof(app_lines[0]); i++) {
        CHECK(td_has_line(text, app_lines[i]));
    }
    free(text);
    text = td_written(p, "nomatch", FS_WRITE_ORIGIN);
    CHECK(td_has_line(text, "# no apps entry matches: the global settings "
                      "apply"));
    free(text);
    /* The annotated text is still the same policy: loaded again it
     * explains (plainly) as the original does. */
    text = tp_written(p, NULL, FS_WRITE_ORIGIN);
    plain = tp_written(p, NULL, 0);
    CHECK(tp_load("ori-again.txt", text, &again, &e) == 0);
    {
        char *b = tp_written(again, NULL, 0);
        CHECK(strcmp(plain, b) == 0);
        CHECK(strcmp(again->digest, p->digest) == 0);
        free(b);
    }
    free(text);
    free(plain);
    fs_policy_errors_free(&e);
    fs_policy_free(again);
    fs_policy_free(p);
    /* Built-in defaults: every line says so. */
    p = fs_policy_defaults();
    text = tp_written(p, NULL, FS_WRITE_ORIGIN);
    CHECK(strstr(text, "set in") == NULL);
    CHECK(td_has_line(text, "config = { };  # built-in default"));
    CHECK(td_has_line(text, "apps = ( );  # built-in default"));
    free(text);
    fs_policy_free(p);
}

/* allow_env_override comes from the system policy's merged result. */
static void
test_resolve_lock(void)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    const char *used;
    char sys[512], env[512];
    int rc;

    snprintf(sys, sizeof(sys), "%s", tp_path("sysl.conf"));
    snprintf(env, sizeof(env), "%s", tp_path("envl.conf"));
    tp_write("sysl.conf", "mode = \"report\";\n");
    tp_write("envl.conf", "mode = \"off\";\n");
    tp_mkdir("sysl.d");
    tp_write("sysl.d/10-lock.conf", "allow_env_override = false;\n");
    setenv("FLASKSHIELD_POLICY", env, 1);
    rc = fs_policy_resolve_from(sys, &p, &used, &e);
    CHECK(rc == 0 && p->global.mode == FS_MODE_REPORT
          && strcmp(used, sys) == 0);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    unlink(tp_path("sysl.d/10-lock.conf"));
    rc = fs_policy_resolve_from(sys, &p, &used, &e);
    CHECK(rc == 0 && p->global.mode == FS_MODE_OFF);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    /* A rejected drop-in rejects the system policy: the lock stays shut. */
    tp_write("sysl.d/10-lock.conf", "allow_env_override = true;\nx = 1;\n");
    rc = fs_policy_resolve_from(sys, &p, &used, &e);
    CHECK(rc == -1 && p->global.mode == FS_MODE_ENFORCE && e.count == 2);
    CHECK(tp_has(&e, "sysl.d/10-lock.conf:2: x: unknown setting"));
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    unsetenv("FLASKSHIELD_POLICY");
}

int
main(void)
{
    tp_init();
    test_order();
    test_merge();
    test_shadowing();
    test_errors();
    test_entries();
    test_folder_names();
    test_configmap_swap();
    test_sources();
    test_digest();
    test_explain_origin();
    test_resolve_lock();
    tp_cleanup();
    return fs_test_report();
}
