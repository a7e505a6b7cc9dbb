/*
 * test_policy_files.c -- unit tests of how policy files are read: the
 * checks on each file (directory, FIFO, size, permissions, owner, missing),
 * symlinks, @include expansion (relative paths, nesting, directories,
 * cycles, depth, strings and comments), the line map in messages, the
 * caller's locale, and fs_policy_resolve_from() with FLASKSHIELD_POLICY.
 */
#include <locale.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "test_policy_util.h"
#include "fs_build.h"

static bool
tp_rejected(const char *path, const char *expect)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    int rc = fs_policy_load(path, &p, &e);
    bool ok = rc == -1 && p != NULL && !p->from_file && e.count == 1
              && tp_has(&e, expect);

    fs_policy_errors_free(&e);
    fs_policy_free(p);
    return ok;
}

/* Rejected with one error that starts with expect and contains sub. */
static bool
tp_rejected2(const char *path, const char *expect, const char *sub)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    int rc = fs_policy_load(path, &p, &e);
    bool ok = rc == -1 && p != NULL && !p->from_file && e.count == 1
              && tp_has(&e, expect) && strstr(e.msg[0], sub) != NULL;

    if (!ok && e.count > 0) {
        fprintf(stderr, "  got: %s\n", e.msg[0]);
    }
    fs_policy_errors_free(&e);
    fs_policy_free(p);
    return ok;
}

static bool
tp_accepted(const char *path)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    int rc = fs_policy_load(path, &p, &e);
    bool ok = rc == 0 && e.count == 0 && p->from_file;
    size_t i;

    for (i = 0; i < e.count; i++) {
        fprintf(stderr, "  unexpected: %s\n", e.msg[i]);
    }
    fs_policy_errors_free(&e);
    fs_policy_free(p);
    return ok;
}

static void
test_file_checks(void)
{
    const char *path;
    char *big;

    CHECK(tp_rejected(tp_path("missing.conf"),
                      "missing.conf:0: cannot open: No such file"));
    CHECK(tp_rejected(tp_path("nodir/x.conf"), "nodir/x.conf:0: cannot open"));
    tp_mkdir("adir");
    CHECK(tp_rejected(tp_path("adir"), "adir:0: is a directory"));
    mkfifo(tp_path("fifo"), 0644);
    CHECK(tp_rejected(tp_path("fifo"), "fifo:0: is not a regular file"));
    CHECK(tp_rejected("/dev/null", "/dev/null:0: is not a regular file"));

    path = tp_write("gw.conf", "mode = \"off\";\n");
    chmod(path, 0664);
    CHECK(tp_rejected(path, "gw.conf:0: is writable by group or others "
                      "(mode 0664)"));
    chmod(path, 0646);
    CHECK(tp_rejected(path, "gw.conf:0: is writable by group or others"));
    chmod(path, 0600);
    CHECK(tp_accepted(path));
    chmod(path, 0400);
    CHECK(tp_accepted(path));

    if (geteuid() == 0) {
        /* Owned by neither root nor us. */
        path = tp_write("owner.conf", "mode = \"off\";\n");
        CHECK(chown(path, 12345, 12345) == 0);
        CHECK(tp_rejected(path, "owner.conf:0: is owned by uid 12345, "
                          "neither root nor the effective user"));
    }
    else {
        path = tp_write("unreadable.conf", "mode = \"off\";\n");
        chmod(path, 0200);
        CHECK(tp_rejected(path, "unreadable.conf:0: cannot open: "
                          "Permission denied"));
    }

    /* 1 MiB exactly is fine, one byte more is not. */
    big = malloc(1024 * 1024 + 2);
    memset(big, '#', 1024 * 1024 + 1);
    big[0] = '\n';
    CHECK(tp_accepted(tp_write_n("1mib.conf", big, 1024 * 1024)));
    CHECK(tp_rejected(tp_write_n("big.conf", big, 1024 * 1024 + 1),
                      "big.conf:0: is larger than 1 MiB"));
    free(big);

    /* Symlinks are followed; the target is what is checked. */
    path = tp_write("target.conf", "mode = \"report\";\n");
    CHECK(symlink(path, tp_path("link.conf")) == 0);
    CHECK(tp_accepted(tp_path("link.conf")));
    chmod(path, 0666);
    CHECK(tp_rejected(tp_path("link.conf"), "link.conf:0: is writable by "
                      "group or others"));
    chmod(path, 0644);
    CHECK(symlink(tp_path("adir"), tp_path("dirlink.conf")) == 0);
    CHECK(tp_rejected(tp_path("dirlink.conf"), "dirlink.conf:0: is a "
                      "directory"));
}

static void
test_includes(void)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    int rc;

    /* Relative to the including file's folder, nested. */
    tp_mkdir("inc");
    tp_mkdir("inc/deeper");
    tp_write("inc/main.conf",
             "# main\n"
             "@include \"body.conf\"\n"
             "mode = \"report\";\n"
             "  @include \"deeper/apps.conf\"   # trailing comment\n");
    tp_write("inc/body.conf", "body = { max_form_parts = 9; };\n");
    tp_write("inc/deeper/apps.conf",
             "apps = ( { match = \"x\"; } );\n"
             "\t@include \"more.conf\"\n");
    tp_write("inc/deeper/more.conf", "dev_server = \"allow\";");
    rc = fs_policy_load(tp_path("inc/main.conf"), &p, &e);
    CHECK(rc == 0 && e.count == 0);
    CHECK(p->global.max_form_parts == 9);
    CHECK(p->global.mode == FS_MODE_REPORT);
    CHECK(p->napps == 1);
    CHECK(p->global.dev_server == FS_DEV_ALLOW);
    CHECK(strcmp(p->path, tp_path("inc/main.conf")) == 0);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* Errors name the included file and its line, and later lines of the
     * including file keep their numbers. */
    tp_write("inc/bad.conf", "# one\n# two\nbody = { nope = 1; };\n");
    tp_write("inc/main2.conf",
             "mode = \"report\";\n"
             "@include \"bad.conf\"\n"
             "version = 7;\n"
             "@include \"deeper/bad2.conf\"\n"
             "bogus = 1;\n");
    tp_write("inc/deeper/bad2.conf", "\n\n\n\n  x = 1;\n");
    rc = fs_policy_load(tp_path("inc/main2.conf"), &p, &e);
    CHECK(rc == -1 && e.count == 4);
    if (e.count == 4) {
        CHECK(strcmp(tp_rel(e.msg[0]), "inc/bad.conf:3: body.nope: "
                     "unknown setting") == 0);
        CHECK(strcmp(tp_rel(e.msg[1]), "inc/main2.conf:3: version: must be "
                     "1 (got 7)") == 0);
        CHECK(strcmp(tp_rel(e.msg[2]), "inc/deeper/bad2.conf:5: x: unknown "
                     "setting") == 0);
        CHECK(strcmp(tp_rel(e.msg[3]), "inc/main2.conf:5: bogus: unknown "
                     "setting") == 0);
    }
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* A syntax error inside an included file. */
    tp_write("inc/syn.conf", "a = 1;\nb = ;\n");
    tp_write("inc/main3.conf", "\n\n@include \"syn.conf\"\n");
    CHECK(tp_rejected(tp_path("inc/main3.conf"), "inc/syn.conf:2: syntax "
                      "error"));

    /* A directory: rejected, and the process is still here. */
    tp_write("inc/dir.conf", "mode = \"off\";\n@include \"deeper\"\n");
    CHECK(tp_rejected(tp_path("inc/dir.conf"), "inc/deeper:0: is a "
                      "directory (included from "));
    {
        rc = fs_policy_load(tp_path("inc/dir.conf"), &p, &e);
        CHECK(rc == -1 && e.count == 1
              && strstr(e.msg[0], "inc/dir.conf:2)") != NULL);
        fs_policy_free(p);
        fs_policy_errors_free(&e);
    }
    /* A missing one, a FIFO, a group-writable one. */
    tp_write("inc/miss.conf", "@include \"nothere.conf\"\n");
    CHECK(tp_rejected(tp_path("inc/miss.conf"), "inc/nothere.conf:0: cannot "
                      "open: No such file or directory (included from"));
    mkfifo(tp_path("inc/fifo"), 0644);
    tp_write("inc/fifo.conf", "@include \"fifo\"\n");
    CHECK(tp_rejected(tp_path("inc/fifo.conf"), "inc/fifo:0: is not a "
                      "regular file"));
    tp_write("inc/gw-inc.conf", "mode = \"off\";\n");
    chmod(tp_path("inc/gw-inc.conf"), 0620);
    tp_write("inc/gw.conf", "@include \"gw-inc.conf\"\n");
    CHECK(tp_rejected(tp_path("inc/gw.conf"), "inc/gw-inc.conf:0: is "
                      "writable by group or others"));
    /* An absolute path. */
    tp_write("inc/abs.conf", "");
    {
        char text[600];
        snprintf(text, sizeof(text), "@include \"%s\"\nmode = \"off\";\n",
                 tp_path("inc/body.conf"));
        tp_write("abs-main.conf", text);
        CHECK(tp_accepted(tp_path("abs-main.conf")));
    }

    /* Cycles: self, and a -> b -> a. */
    tp_write("inc/self.conf", "mode = \"off\";\n@include \"self.conf\"\n");
    CHECK(tp_rejected2(tp_path("inc/self.conf"), "inc/self.conf:2: @include ",
                       "self.conf\": include cycle"));
    tp_write("inc/cyc-a.conf", "@include \"cyc-b.conf\"\n");
    tp_write("inc/cyc-b.conf", "\n@include \"cyc-a.conf\"\n");
    CHECK(tp_rejected(tp_path("inc/cyc-a.conf"), "inc/cyc-b.conf:2: "
                      "@include"));
    rc = fs_policy_load(tp_path("inc/cyc-a.conf"), &p, &e);
    CHECK(rc == -1 && e.count == 1 && strstr(e.msg[0], "include cycle"));
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* Depth: a chain of 8 includes is fine, 9 is not. */
    {
        int i;
        char name[32], text[64];
        for (i = 0; i <= 9; i++) {
            snprintf(name, sizeof(name), "inc/chain%d.conf", i);
            snprintf(text, sizeof(text), "@include \"chain%d.conf\"\n", i + 1);
            tp_write(name, i == 9 ? "mode = \"off\";\n" : text);
        }
        CHECK(tp_accepted(tp_path("inc/chain1.conf")));
        CHECK(tp_rejected2(tp_path("inc/chain0.conf"), "inc/chain8.conf:1: "
                           "@include ", "chain9.conf\": includes nested "
                           "more than 8 deep"));
    }

    /* Not directives: inside strings and comments, or not at line start;
     * libconfig would not honour them either. */
    tp_write("inc/strs.conf",
             "config = { S = \"a\n"
             "@include \\\"deeper\\\"\n"
             "\"; };\n"
             "/* a comment\n"
             "@include \"deeper\"\n"
             "*/\n"
             "# @include \"deeper\"\n"
             "// @include \"deeper\"\n"
             "mode = \"off\";\n");
    rc = fs_policy_load(tp_path("inc/strs.conf"), &p, &e);
    CHECK(rc == 0 && e.count == 0);
    CHECK(p->global.npins == 1
          && strstr(p->global.pins[0].s, "@include") != NULL);
    CHECK(p->global.mode == FS_MODE_OFF);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    /* Malformed directives. */
    CHECK(tp_reject1("mode = \"off\";\n@include\"x.conf\"\n",
                     "p.conf:2: malformed @include"));
    CHECK(tp_reject1("@include \"body.conf\" mode = \"off\";\n",
                     "p.conf:1: malformed @include"));
    CHECK(tp_reject1("\n\n @include x.conf\n", "p.conf:3: malformed "
                     "@include"));
    CHECK(tp_reject1("@includex \"y\"\n", "p.conf:1: malformed @include"));
    CHECK(tp_reject1("@include \"\"\n", "p.conf:1: malformed @include"));
    CHECK(tp_reject1("a = 1; @include \"body.conf\"\n",
                     "p.conf:1: syntax error"));
}

static void
test_locale(void)
{
    locale_t loc = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    int rc;

    CHECK(loc != (locale_t)0);
    if (loc == (locale_t)0) {
        return;
    }
    uselocale(loc);
    rc = tp_load("loc.conf", "mode = \"report\";\n", &p, &e);
    CHECK(rc == 0);
    CHECK(uselocale((locale_t)0) == loc);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    rc = tp_load("loc.conf", "mode = ;\n", &p, &e);
    CHECK(rc == -1);
    CHECK(uselocale((locale_t)0) == loc);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    uselocale(LC_GLOBAL_LOCALE);
    freelocale(loc);
    /* And the global locale stays the global locale. */
    rc = tp_load("loc.conf", "mode = \"report\";\n", &p, &e);
    CHECK(rc == 0 && uselocale((locale_t)0) == LC_GLOBAL_LOCALE);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
}

static void
test_resolve(void)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e;
    const char *used = NULL;
    const char *sys = tp_path("sys.conf");
    char sysbuf[512], envbuf[512];
    int rc;

    snprintf(sysbuf, sizeof(sysbuf), "%s", sys);
    snprintf(envbuf, sizeof(envbuf), "%s", tp_path("env.conf"));
    unlink(sysbuf);
    tp_write("env.conf", "mode = \"report\";\n");

    /* No variable, no system file: built-in defaults, no error. */
    unsetenv("FLASKSHIELD_POLICY");
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == 0 && e.count == 0 && !p->from_file && p->path == NULL);
    CHECK(used != NULL && strcmp(used, sysbuf) == 0);
    CHECK(p->global.mode == FS_MODE_ENFORCE);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    /* An empty variable counts as unset. */
    setenv("FLASKSHIELD_POLICY", "", 1);
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == 0 && e.count == 0 && !p->from_file);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* The variable, no system file: its file. */
    setenv("FLASKSHIELD_POLICY", envbuf, 1);
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == 0 && e.count == 0 && p->from_file);
    CHECK(p->global.mode == FS_MODE_REPORT);
    CHECK(strcmp(used, envbuf) == 0);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* System file allows overrides (the default): the variable's file. */
    tp_write("sys.conf", "mode = \"off\";\n");
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == 0 && p->global.mode == FS_MODE_REPORT);
    CHECK(strcmp(used, envbuf) == 0);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* System file forbids them: the variable is ignored. */
    tp_write("sys.conf", "mode = \"off\";\nallow_env_override = false;\n");
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == 0 && e.count == 0 && p->global.mode == FS_MODE_OFF);
    CHECK(!p->allow_env_override);
    CHECK(strcmp(used, sysbuf) == 0);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* ... and a named file that does not exist is ignored too. */
    setenv("FLASKSHIELD_POLICY", "/nonexistent/policy.conf", 1);
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == 0 && p->global.mode == FS_MODE_OFF);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* Overrides allowed, the variable names a missing file: an error. */
    tp_write("sys.conf", "mode = \"off\";\n");
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == -1 && e.count == 1 && !p->from_file);
    CHECK(tp_has(&e, "/nonexistent/policy.conf:0: cannot open"));
    CHECK(p->global.mode == FS_MODE_ENFORCE);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* A rejected system file keeps the lock shut: the variable is ignored,
     * the system file's errors and one saying so, the strict defaults. */
    setenv("FLASKSHIELD_POLICY", envbuf, 1);
    tp_write("sys.conf", "allow_env_override = false;\nbogus = 1;\n");
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == -1 && e.count == 2 && !p->from_file);
    CHECK(p->global.mode == FS_MODE_ENFORCE);
    CHECK(tp_has(&e, "sys.conf:2: bogus: unknown setting"));
    CHECK(e.count == 2 && strstr(e.msg[1], "sys.conf:0: FLASKSHIELD_POLICY=")
          != NULL && strstr(e.msg[1], "env.conf is ignored: the system "
                                      "policy is rejected") != NULL);
    CHECK(strcmp(used, sysbuf) == 0);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    /* ... whatever it says of overrides, and also when it cannot be read. */
    tp_write("sys.conf", "allow_env_override = true;\nmode = \"of\";\n");
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == -1 && e.count == 2 && p->global.mode == FS_MODE_ENFORCE);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    tp_write("sys.conf", "mode = \"off\";\n");
    chmod(sysbuf, 0666);
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == -1 && e.count == 2 && p->global.mode == FS_MODE_ENFORCE);
    chmod(sysbuf, 0644);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* No variable, invalid system file: its errors, built-in defaults. */
    unsetenv("FLASKSHIELD_POLICY");
    tp_write("sys.conf", "allow_env_override = false;\nbogus = 1;\n");
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == -1 && e.count == 1 && !p->from_file);
    CHECK(tp_has(&e, "sys.conf:2: bogus: unknown setting"));
    CHECK(strcmp(used, sysbuf) == 0);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* No variable, valid system file. */
    tp_write("sys.conf", "dev_server = \"refuse\";\n");
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == 0 && p->from_file && p->global.dev_server == FS_DEV_REFUSE);
    fs_policy_free(p);
    fs_policy_errors_free(&e);

    /* The system policy is root's: a file of it owned by another user, or
     * a folder others may write (without the sticky bit), rejects it. */
    unsetenv("FLASKSHIELD_POLICY");
    tp_write("sys.conf", "mode = \"report\";\n");
    CHECK(chown(sysbuf, 65534, 65534) == 0);
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == -1 && !p->from_file && p->global.mode == FS_MODE_ENFORCE);
    CHECK(e.count == 1 && strstr(e.msg[0], "is owned by uid 65534") != NULL);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    /* Read by that user itself (the app's user, who could rewrite it). */
    CHECK(chmod(tp_dir, 0711) == 0);
    {
        pid_t child = fork();
        int status = -1;

        if (child == 0) {
            int ok;
            if (setgid(65534) != 0 || setuid(65534) != 0) {
                _exit(3);
            }
            rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
            ok = rc == -1 && p->global.mode == FS_MODE_ENFORCE && e.count == 1
                 && strstr(e.msg[0], "sys.conf:0: is owned by uid 65534; the "
                                     "system policy's files must be root's")
                    != NULL;
            _exit(ok ? 0 : 1);
        }
        CHECK(child > 0 && waitpid(child, &status, 0) == child
              && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK(chown(sysbuf, 0, 0) == 0);
    CHECK(chmod(tp_dir, 0775) == 0);
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == -1 && e.count == 1 && strstr(e.msg[0], "is writable by group "
                                             "or others") != NULL);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    CHECK(chmod(tp_dir, 01777) == 0);       /* sticky, as /tmp */
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == 0 && p->global.mode == FS_MODE_REPORT);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    CHECK(chmod(tp_dir, 0700) == 0);
    /* ... and a drop-in of it owned by another user. */
    mkdir(tp_path("sys.d"), 0755);
    tp_write("sys.d/50-app.conf", "mode = \"off\";\n");
    CHECK(chown(tp_path("sys.d/50-app.conf"), 65534, 65534) == 0);
    setenv("FLASKSHIELD_POLICY", envbuf, 1);
    rc = fs_policy_resolve_from(sysbuf, &p, &used, &e);
    CHECK(rc == -1 && p->global.mode == FS_MODE_ENFORCE);
    CHECK(e.count == 2 && strstr(e.msg[0], "50-app.conf:0: is owned by uid "
                                 "65534") != NULL
          && strstr(e.msg[1], "FLASKSHIELD_POLICY=") != NULL);
    if (e.count != 2) {
        size_t k;
        for (k = 0; k < e.count; k++) {
            fprintf(stderr, "  %s\n", e.msg[k]);
        }
    }
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    unlink(tp_path("sys.d/50-app.conf"));
    rmdir(tp_path("sys.d"));
    unsetenv("FLASKSHIELD_POLICY");

    /* The public entry point uses the compiled-in path. */
    rc = fs_policy_resolve(&p, &used, &e);
    CHECK(p != NULL && strcmp(used, FS_DEFAULT_POLICY_PATH) == 0);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
}

static void
test_buffer(void)
{
    struct fs_policy *p = NULL;
    struct fs_policy_errors e = {NULL, 0};
    static const char text[] = "mode = \"off\";\n@include \"body.conf\"\n";
    char name[512];
    int rc;

    /* Includes relative to the buffer's name. */
    snprintf(name, sizeof(name), "%s", tp_path("inc/virtual.conf"));
    rc = fs_policy_load_buffer(name, text, sizeof(text) - 1, NULL, &p, &e);
    CHECK(rc == 0 && e.count == 0 && p->global.max_form_parts == 9);
    fs_policy_free(p);
    fs_policy_errors_free(&e);
    rc = fs_policy_load_buffer("x", "a", 1, NULL, &p, NULL);
    CHECK(rc == -1 && p != NULL);
    fs_policy_free(p);
}

/* Found by the fuzzer: a setting that must hold a list (apps) holding a
 * scalar was walked as a list. */
static void
test_scalar_where_list_expected(void)
{
    static const char *const texts[] = {
        "apps = 16.;\n", "apps = 16;\n", "apps = \"x\";\n",
        "apps = true;\n", "config = 1;\n", "body = 2.5;\n",
        "apps = ( 1 );\n", "apps = ( { match = \"a\"; body = 3; } );\n",
    };
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct fs_policy *p = NULL;
        struct fs_policy_errors e = {NULL, 0};
        int rc = fs_policy_load_buffer("scalar.conf", texts[i],
                                       strlen(texts[i]), NULL, &p, &e);
        CHECK(rc == -1 && p != NULL && e.count >= 1);
        CHECK(e.count >= 1 && strncmp(e.msg[0], "scalar.conf:1: ", 15) == 0);
        fs_policy_free(p);
        fs_policy_errors_free(&e);
    }
}

/* The digest names the effective policy, not the text; the sources are
 * every file read. */
static void
test_digest_and_sources(void)
{
    struct fs_policy *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    struct fs_policy_errors e;
    size_t n;

    CHECK(tp_load("da.conf", "mode = \"report\";\n# one\n", &a, &e) == 0);
    fs_policy_errors_free(&e);
    CHECK(tp_load("db.conf", "# other words\n  mode   =  \"report\" ;\n"
                  "body = { max_content_length = 16777216; };\n", &b, &e)
          == 0);
    fs_policy_errors_free(&e);
    CHECK(tp_load("dc.conf", "mode = \"off\";\n", &c, &e) == 0);
    fs_policy_errors_free(&e);
    CHECK(tp_load("dd.conf", "", &d, &e) == 0);
    fs_policy_errors_free(&e);
    CHECK(strlen(a->digest) == 16 && strspn(a->digest, "0123456789abcdef")
                                     == 16);
    /* Same effective policy (16 MiB is the default), other files. */
    CHECK(strcmp(a->digest, b->digest) == 0);
    CHECK(strcmp(a->digest, c->digest) != 0);
    {
        struct fs_policy *def = fs_policy_defaults();
        char again[17];

        CHECK(strcmp(d->digest, def->digest) == 0);
        CHECK(strcmp(d->digest, a->digest) != 0);
        fs_policy_digest(def, again);
        CHECK(strcmp(again, def->digest) == 0);
        CHECK(def->nsources == 0);
        fs_policy_free(def);
    }
    /* The file, then its drop-in folder (which does not exist). */
    CHECK(a->nsources == 2 && strcmp(tp_rel(a->sources[0]), "da.conf") == 0
          && strcmp(tp_rel(a->sources[1]), "da.d") == 0);
    CHECK(a->ndropins == 0);
    fs_policy_free(a);
    fs_policy_free(b);
    fs_policy_free(c);
    fs_policy_free(d);

    /* Sources: the file, then each include in the order read, then the
     * drop-in folder. */
    tp_write("src-inc1.conf", "mode = \"report\";\n");
    tp_write("src-inc2.conf", "dev_server = \"refuse\";\n");
    CHECK(tp_load("src-main.conf", "@include \"src-inc1.conf\"\n"
                  "@include \"src-inc2.conf\"\n", &a, &e) == 0);
    fs_policy_errors_free(&e);
    n = a->nsources;
    CHECK(n == 4);
    if (n == 4) {
        CHECK(strcmp(tp_rel(a->sources[0]), "src-main.conf") == 0);
        CHECK(strstr(a->sources[1], "src-inc1.conf") != NULL);
        CHECK(strstr(a->sources[2], "src-inc2.conf") != NULL);
        CHECK(strcmp(tp_rel(a->sources[3]), "src-main.d") == 0);
    }
    fs_policy_free(a);
}

int
main(void)
{
    tp_init();
    test_scalar_where_list_expected();
    test_file_checks();
    test_includes();
    test_locale();
    test_resolve();
    test_buffer();
    test_digest_and_sources();
    tp_cleanup();
    return fs_test_report();
}
