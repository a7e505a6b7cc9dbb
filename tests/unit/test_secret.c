/*
 * test_secret.c -- unit tests for fs_secret.c (SECRET_KEY verdicts and the
 * weak-list hash set).
 *
 * Covers every rule of fs_secret_check() and their order, every built-in
 * published value (str and bytes forms), weak-list loading (CRLF, empty and
 * duplicate lines, refused files, a 56,000-line file loaded in under 50 ms
 * -- printed always, checked except under valgrind),
 * and acceptance of strong keys: 20,000 random keys of each form Flask
 * recommends (token_hex, token_urlsafe, os.urandom) must all be "ok".
 */
#include "fs_secret.h"
#include "fs_test.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define N_RANDOM 20000
#define MIN_LEN 24

static enum fs_secret_verdict
check_str(const char *s, size_t min_length, const struct fs_weak_list *wl)
{
    return fs_secret_check((const unsigned char *)s, strlen(s), min_length,
                           wl);
}

static enum fs_secret_verdict
check_mem(const void *p, size_t len, size_t min_length)
{
    return fs_secret_check(p, len, min_length, NULL);
}

/* s repeated n times into buf (NUL-terminated); returns buf. */
static char *
repeat(char *buf, const char *s, int n)
{
    int i;

    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        strcat(buf, s);
    }
    return buf;
}

static void
fill_random(unsigned char *buf, size_t len)
{
    size_t got = 0;
    ssize_t r;

    while (got < len) {
        r = getrandom(buf + got, len - got, 0);
        if (r < 0) {
            perror("getrandom");
            exit(EXIT_FAILURE);
        }
        got += (size_t)r;
    }
}

static size_t
to_hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    return 2 * n;
}

/* base64url without padding, as secrets.token_urlsafe(n) gives. */
static size_t
to_urlsafe(char *out, const unsigned char *in, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i, o = 0;
    uint32_t v;

    for (i = 0; i + 2 < n; i += 3) {
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    }
    else if (n - i == 2) {
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    return o;
}

enum key_form { FORM_HEX, FORM_URLSAFE, FORM_URANDOM };

/* Number of N_RANDOM random keys of the form that are not "ok". */
static int
false_positives(enum key_form form, size_t nbytes)
{
    unsigned char raw[128];
    char text[256];
    enum fs_secret_verdict v;
    size_t len;
    int i, bad = 0;

    for (i = 0; i < N_RANDOM; i++) {
        fill_random(raw, nbytes);
        switch (form) {
        case FORM_HEX:
            len = to_hex(text, raw, nbytes);
            v = check_mem(text, len, MIN_LEN);
            break;
        case FORM_URLSAFE:
            len = to_urlsafe(text, raw, nbytes);
            v = check_mem(text, len, MIN_LEN);
            break;
        default:
            v = check_mem(raw, nbytes, MIN_LEN);
            break;
        }
        if (v != FS_SECRET_OK) {
            bad++;
        }
    }
    return bad;
}

static void
test_missing(void)
{
    CHECK(fs_secret_check(NULL, 0, MIN_LEN, NULL) == FS_SECRET_MISSING);
    CHECK(fs_secret_check(NULL, 5, MIN_LEN, NULL) == FS_SECRET_MISSING);
    CHECK(check_str("", MIN_LEN, NULL) == FS_SECRET_MISSING);
    CHECK(check_str("", 0, NULL) == FS_SECRET_MISSING);
}

static void
test_builtin(void)
{
    static const char *const known[] = {
        "dev",
        "192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf",
        "5f352379324c22463451387a0aec5d2f",
        "test key", "secret", "changeme", "change-me", "secret-key",
        "your-secret-key", "super secret key", "you-will-never-guess",
        "hard to guess string", "development key",
        "secret_key", "mysecretkey", "my-secret-key", "your_secret_key",
        "supersecretkey", "super-secret", "changethis", "password",
        "default", "flask", "keyboard cat", "s3cr3t",
        /* The quickstart key as str (U+00EC in UTF-8) and as source text. */
        "_5#y2L\"F4Q8z\n\xc3\xac]/",
        "_5#y2L\"F4Q8z\\n\\xec]/",
        "b'_5#y2L\"F4Q8z\\n\\xec]/'",
    };
    static const unsigned char quickstart[] = {
        0x5f, 0x35, 0x23, 0x79, 0x32, 0x4c, 0x22, 0x46,
        0x34, 0x51, 0x38, 0x7a, 0x0a, 0xec, 0x5d, 0x2f,
    };
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        /* Known beats short: min_length far above every entry. */
        CHECK(check_str(known[i], 64, NULL) == FS_SECRET_KNOWN);
        CHECK(check_str(known[i], 0, NULL) == FS_SECRET_KNOWN);
    }
    CHECK(strlen(known[26]) == 20);
    CHECK(check_mem(quickstart, sizeof(quickstart), 64) == FS_SECRET_KNOWN);
    CHECK(check_mem(quickstart, sizeof(quickstart), 0) == FS_SECRET_KNOWN);

    /* Whole-key comparison, case-sensitive except for hex keys, after
     * trimming surrounding white space (issue 12). */
    CHECK(check_str("Dev", 0, NULL) == FS_SECRET_OK);
    CHECK(check_str("dev ", 0, NULL) == FS_SECRET_KNOWN);
    CHECK(check_str(" \tdev\r\n", 0, NULL) == FS_SECRET_KNOWN);
    CHECK(check_str("d ev", 0, NULL) == FS_SECRET_OK);
    CHECK(check_str("192b9bdd22ab9ed4d12e236c78afcb9a"
                    "393ec15f71bbf5dc987d54727823bcbf\n", 64, NULL)
          == FS_SECRET_KNOWN);
    CHECK(check_str("192B9BDD22AB9ED4D12E236C78AFCB9A"
                    "393EC15F71BBF5DC987D54727823BCBF", 64, NULL)
          == FS_SECRET_KNOWN);
    CHECK(check_str("5F352379324C22463451387A0AEC5D2F", 64, NULL)
          == FS_SECRET_KNOWN);
    CHECK(check_str("5F352379324C22463451387A0AEC5D2E", 0, NULL)
          == FS_SECRET_OK);
    /* Published defaults of Flask-based products */
    CHECK(check_str("\x02\x01thisismyscretkey\x01\x02\\e\\y\\y\\h", 64,
                    NULL) == FS_SECRET_KNOWN);
    CHECK(check_str("CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET", 64, NULL)
          == FS_SECRET_KNOWN);
    CHECK(check_str("thisISaSECRET_1234", 64, NULL) == FS_SECRET_KNOWN);
    CHECK(check_str("YOUR_OWN_RANDOM_GENERATED_SECRET_KEY", 64, NULL)
          == FS_SECRET_KNOWN);
    CHECK(check_str("TEST_NON_DEV_SECRET", 64, NULL) == FS_SECRET_KNOWN);
    CHECK(check_str("C292A0A3AA32397CDB050E233733900F\n", 64, NULL)
          == FS_SECRET_KNOWN);
    CHECK(check_str("temporary_key", 64, NULL) == FS_SECRET_KNOWN);
    CHECK(check_str("E951E5A1F4B94151B360F47EDF596DD2", 64, NULL)
          == FS_SECRET_KNOWN);                  /* PowerDNS-Admin */
    CHECK(check_str(" pf9Wkove4IKEAXvy-cQkeDPhv9Cb3Ag-wyJILbq_dFw\n", 64,
                    NULL) == FS_SECRET_KNOWN);   /* Flask-Security-Too */
    CHECK(check_str("pf9wkove4ikeaxvy-cqkedphv9cb3ag-wyjilbq_dfw", 0, NULL)
          == FS_SECRET_OK);                     /* not hex: case counts */
    CHECK(check_str("This is an INSECURE secret!! DO NOT use this in "
                    "production!!", 64, NULL) == FS_SECRET_KNOWN);
    CHECK(check_str("THIS IS AN INSECURE SECRET", 64, NULL)
          == FS_SECRET_KNOWN);                  /* Flask-User */
    CHECK(check_str("de", 0, NULL) == FS_SECRET_OK);
    CHECK(check_str("Dev", MIN_LEN, NULL) == FS_SECRET_SHORT);
    CHECK(check_mem(quickstart, sizeof(quickstart) - 1, 0) == FS_SECRET_OK);
    CHECK(check_str("Keyboard Cat", 0, NULL) == FS_SECRET_OK);

    /* ... and without one pair of matching quotes around it, as
     * docker --env-file passes SECRET_KEY="..." on. */
    CHECK(check_str("\"dev\"", 0, NULL) == FS_SECRET_KNOWN);
    CHECK(check_str("'CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET'\n", 64, NULL)
          == FS_SECRET_KNOWN);
    CHECK(check_str("` E951E5A1F4B94151B360F47EDF596DD2 `", 64, NULL)
          == FS_SECRET_KNOWN);
    CHECK(check_str("\"dev'", 0, NULL) == FS_SECRET_OK);  /* not a pair */
    CHECK(check_str("\"\"dev\"\"", 0, NULL) == FS_SECRET_OK);   /* one pair */
    CHECK(check_str("\"", 0, NULL) == FS_SECRET_OK);
    CHECK(check_str("\"\"", 0, NULL) == FS_SECRET_LOW_VARIETY);  /* not known */
}

static void
test_short(void)
{
    CHECK(check_str("Xk9#mQ2zP4", MIN_LEN, NULL) == FS_SECRET_SHORT);
    CHECK(check_str("Xk9#mQ2zP4", 10, NULL) == FS_SECRET_OK);
    CHECK(check_str("Xk9#mQ2zP4", 11, NULL) == FS_SECRET_SHORT);
    CHECK(check_str("x7Gq", MIN_LEN, NULL) == FS_SECRET_SHORT);
    CHECK(check_str("3a7bd3e2360a3d29eea436fcfb7e44c7", 33, NULL)
          == FS_SECRET_SHORT);
    CHECK(check_str("3a7bd3e2360a3d29eea436fcfb7e44c7", 32, NULL)
          == FS_SECRET_OK);
}

/* Keys judged on their own (pattern repeated `times` times; 0 or 1: once). */
static const struct {
    const char *pattern;
    int times;
    enum fs_secret_verdict want;
} variety_cases[] = {
    {"a", 64, FS_SECRET_LOW_VARIETY},
    {"abcdefgh", 8, FS_SECRET_LOW_VARIETY},
    {"0123456789", 4, FS_SECRET_LOW_VARIETY},
    {"abcdefghijklmnopqrstuvwxyz", 1, FS_SECRET_LOW_VARIETY},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1, FS_SECRET_LOW_VARIETY},
    {"zyxwvutsrqponmlkjihgfedcba", 1, FS_SECRET_LOW_VARIETY},
    {"0123456789abcdef", 2, FS_SECRET_LOW_VARIETY},
    {"0123456789abcdef", 4, FS_SECRET_LOW_VARIETY},
    {"9876543210fedcba9876543210fedcba", 1, FS_SECRET_LOW_VARIETY},
    {"456789012345678901234567890123", 1, FS_SECRET_LOW_VARIETY},
    {"aaaabbbbccccddddeeeeffffgggghhhh", 1, FS_SECRET_LOW_VARIETY},
    {"my-app-abcdefghijklmnopqrstuvwxyz", 1, FS_SECRET_LOW_VARIETY},
    /* Fewer than 8 distinct bytes, no pattern. */
    {"abacbdcadbcabdcadcbadbcadbcabdca", 1, FS_SECRET_LOW_VARIETY},
    /* Low variety is reported before short. */
    {"aaaa", 1, FS_SECRET_LOW_VARIETY},
    {"abababab", 1, FS_SECRET_LOW_VARIETY},
    {"abcdef", 1, FS_SECRET_LOW_VARIETY},
    /* Short runs and repeats inside a random key are fine. */
    {"0123f8a1c94e7b20d5aa6c3e19b7f04d", 1, FS_SECRET_OK},
    {"Zq3abcdefgh-T9kP_w2LmN8vRx4YcJ6s", 1, FS_SECRET_OK},
    /* A strong key written twice keeps its entropy: not flagged. */
    {"b7E-x2Qp9_Lm4Rt8b7E-x2Qp9_Lm4Rt8", 1, FS_SECRET_OK},
};

static void
test_low_variety(void)
{
    char buf[512];
    char edited[512];
    size_t i;

    for (i = 0; i < sizeof(variety_cases) / sizeof(variety_cases[0]); i++) {
        const char *key = repeat(buf, variety_cases[i].pattern,
                                 variety_cases[i].times > 1
                                 ? variety_cases[i].times : 1);
        if (check_str(key, MIN_LEN, NULL) != variety_cases[i].want) {
            fprintf(stderr, "  low variety case %zu (%s x %d)\n", i,
                    variety_cases[i].pattern, variety_cases[i].times);
        }
        CHECK(check_str(key, MIN_LEN, NULL) == variety_cases[i].want);
    }
    /* A pattern with one byte changed is still the pattern. */
    repeat(edited, "abcdefgh", 8);
    edited[37] = 'Z';
    CHECK(check_str(edited, MIN_LEN, NULL) == FS_SECRET_LOW_VARIETY);
    repeat(edited, "Qm7#xR2!", 6);
    CHECK(check_str(edited, MIN_LEN, NULL) == FS_SECRET_LOW_VARIETY);
    /* Raw bytes with NULs. */
    CHECK(check_mem("\x00\x91\x3f\xe2\x00\x17\xc4\x5b\x88\x00\x2d\x6a"
                    "\xf0\x39\x00\xbe\x71\x0c\xd5\x42\x00\x9e\x63\xa8",
                    24, MIN_LEN) == FS_SECRET_OK);
}

/* The forms Flask's documentation recommends, at their usual sizes: none
 * may be flagged (false_positives() judges a large sample of each). */
static const struct {
    enum key_form form;
    size_t bytes;
} strong_forms[] = {
    {FORM_HEX, 16}, {FORM_HEX, 24}, {FORM_HEX, 32},     /* token_hex */
    {FORM_URLSAFE, 24}, {FORM_URLSAFE, 32}, {FORM_URLSAFE, 64},
    {FORM_URANDOM, 24}, {FORM_URANDOM, 32}, {FORM_URANDOM, 64},
};

static void
test_strong_random(void)
{
    size_t i;

    for (i = 0; i < sizeof(strong_forms) / sizeof(strong_forms[0]); i++) {
        CHECK(false_positives(strong_forms[i].form, strong_forms[i].bytes)
              == 0);
    }
}

static void
test_verdict_names(void)
{
    CHECK(strcmp(fs_secret_verdict_name(FS_SECRET_OK), "ok") == 0);
    CHECK(strcmp(fs_secret_verdict_name(FS_SECRET_MISSING), "missing") == 0);
    CHECK(strcmp(fs_secret_verdict_name(FS_SECRET_KNOWN), "known value")
          == 0);
    CHECK(strcmp(fs_secret_verdict_name(FS_SECRET_SHORT), "too short") == 0);
    CHECK(strcmp(fs_secret_verdict_name(FS_SECRET_LOW_VARIETY),
                 "low variety") == 0);
    CHECK(fs_secret_verdict_name((enum fs_secret_verdict)99) != NULL);
}

/* Write len bytes to a new temp file; its path goes to path (size 64). */
static int
write_temp(char *path, const void *data, size_t len)
{
    FILE *f;
    int fd;

    strcpy(path, "/tmp/fs_test_secret_XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) {
        return -1;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return -1;
    }
    if (len > 0 && fwrite(data, 1, len, f) != len) {
        fclose(f);
        return -1;
    }
    return fclose(f);
}

/* A weak list loaded from `text` through a temporary file (path kept in
 * path[64] for the caller to unlink). */
static struct fs_weak_list *
load_list(const char *text, size_t len, char *path)
{
    char err[200] = "";
    struct fs_weak_list *wl;

    CHECK(write_temp(path, text, len) == 0);
    wl = fs_weak_list_load(path, err, sizeof(err));
    CHECK(wl != NULL && err[0] == '\0');
    return wl;
}

static void
test_weak_list(void)
{
    static const char text[] =
        "hunter2-flask-key\n"
        "crlf-line-key\r\n"
        "\n"
        "\r\n"
        "duplicate-key\n"
        "duplicate-key\n"
        "with space key\n"
        "bin\x00key\n"
        "last-line-no-newline";
    struct fs_weak_list *wl;
    char err[200] = "";
    char path[64];

    wl = load_list(text, sizeof(text) - 1, path);
    CHECK(fs_weak_list_size(wl) == 6);
    CHECK(check_str("hunter2-flask-key", MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(check_str("crlf-line-key", MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(check_str("crlf-line-key\r", MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(check_str("crlf-line-keyX", MIN_LEN, wl) != FS_SECRET_KNOWN);
    CHECK(check_str("duplicate-key", MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(check_str("with space key", MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(check_mem("bin\x00key", 7, MIN_LEN) != FS_SECRET_KNOWN);
    CHECK(fs_secret_check((const unsigned char *)"bin\x00key", 7, MIN_LEN, wl)
          == FS_SECRET_KNOWN);
    CHECK(check_str("last-line-no-newline", MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(check_str("hunter2-flask-ke", MIN_LEN, wl) == FS_SECRET_SHORT);
    CHECK(check_str("Wq8-hT3_zLp6Ry1vKc9XbN4mGs7dJf2A", MIN_LEN, wl)
          == FS_SECRET_OK);
    /* Built-ins still apply with a list. */
    CHECK(check_str("dev", MIN_LEN, wl) == FS_SECRET_KNOWN);
    fs_weak_list_free(wl);
    unlink(path);

    /* An empty file is a valid, empty list. */
    CHECK(write_temp(path, "", 0) == 0);
    wl = fs_weak_list_load(path, err, sizeof(err));
    CHECK(wl != NULL);
    CHECK(fs_weak_list_size(wl) == 0);
    CHECK(check_str("hunter2-flask-key", 0, wl) == FS_SECRET_OK);
    fs_weak_list_free(wl);
    unlink(path);

    fs_weak_list_free(NULL);
    CHECK(fs_weak_list_size(NULL) == 0);
}

/* Lines that are Python literals (flask-unsign's word list) are decoded. */
static void
test_weak_list_literals(void)
{
    static const char text[] =
        "'quoted-str-key-one'\n"
        "\"double-quoted key two\"\n"
        "b'\\x01\\x02bytes\\xffkey'\n"
        "'caf\\xe9-\\u00e9t\\u00e9-key'\n"
        "'escapes \\'inside\\' \\\\ \\n'\n"
        "'unbalanced\n"
        "'two' 'literals'\n"
        "b'\\u00e9 is no bytes escape'\n";
    struct fs_weak_list *wl;
    char path[64];

    wl = load_list(text, sizeof(text) - 1, path);
    CHECK(fs_weak_list_size(wl) == 8);
    CHECK(check_str("quoted-str-key-one", MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(check_str("double-quoted key two", MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(fs_secret_check((const unsigned char *)"\x01\x02" "bytes\xff" "key", 11,
                          MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(check_str("caf\xc3\xa9-\xc3\xa9t\xc3\xa9-key", MIN_LEN, wl)
          == FS_SECRET_KNOWN);
    CHECK(check_str("escapes 'inside' \\ \n", MIN_LEN, wl)
          == FS_SECRET_KNOWN);
    /* not a single literal: the line is the key as it stands */
    CHECK(check_str("'unbalanced", MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(check_str("'two' 'literals'", MIN_LEN, wl) == FS_SECRET_KNOWN);
    CHECK(check_str("b'\\u00e9 is no bytes escape'", MIN_LEN, wl)
          == FS_SECRET_KNOWN);
    fs_weak_list_free(wl);
    unlink(path);
}

static void
test_weak_list_refused(void)
{
    char err[200] = "";
    char path[64];
    int fd;

    err[0] = '\0';
    CHECK(fs_weak_list_load("/nonexistent/fs-weak.txt", err, sizeof(err)) == NULL);
    CHECK(err[0] != '\0');
    err[0] = '\0';
    CHECK(fs_weak_list_load("/tmp", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "directory") != NULL);
    err[0] = '\0';
    CHECK(fs_weak_list_load("/dev/null", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "regular") != NULL);
    CHECK(fs_weak_list_load("/dev/null", NULL, 0) == NULL);

    /* A sparse file one byte over 16 MiB: refused before any read. */
    strcpy(path, "/tmp/fs_test_secret_XXXXXX");
    fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(ftruncate(fd, FS_WEAK_MAX_FILE + 1) == 0);
        close(fd);
        err[0] = '\0';
        CHECK(fs_weak_list_load(path, err, sizeof(err)) == NULL);
        CHECK(strstr(err, "larger than 16 MiB") != NULL);
        unlink(path);
    }

    /* The policy file's mode rule: writable by group or others */
    CHECK(write_temp(path, "dev\n", 4) == 0);
    CHECK(chmod(path, 0664) == 0);
    err[0] = '\0';
    CHECK(fs_weak_list_load(path, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "writable by group or others") != NULL);
    unlink(path);

    /* More lines than FS_WEAK_MAX_KEYS (a 1 MB file of empty lines) */
    {
        size_t n = FS_WEAK_MAX_KEYS + 2;
        char *many = malloc(n);
        CHECK(many != NULL);
        if (many != NULL) {
            memset(many, '\n', n);
            CHECK(write_temp(path, many, n) == 0);
            free(many);
            err[0] = '\0';
            CHECK(fs_weak_list_load(path, err, sizeof(err)) == NULL);
            CHECK(strstr(err, "more than 1000000 lines") != NULL);
            unlink(path);
        }
    }
}

#define BIG_LINES 56000

static void
test_weak_list_big(void)
{
    struct fs_weak_list *wl;
    struct timespec t0, t1;
    char err[200] = "";
    char path[64], line[64];
    char *text, *p;
    double ms;
    int i, n, present = 0, absent = 0;

    text = malloc((size_t)BIG_LINES * 48);
    CHECK(text != NULL);
    if (text == NULL) {
        return;
    }
    p = text;
    for (i = 0; i < BIG_LINES; i++) {
        /* Varied lengths and CRLF on every third line. */
        n = sprintf(p, "weak-%d-%x%s", i, (unsigned)i * 2654435761u,
                    i % 3 == 0 ? "\r\n" : "\n");
        p += n;
    }
    CHECK(write_temp(path, text, (size_t)(p - text)) == 0);
    free(text);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    wl = fs_weak_list_load(path, err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3
         + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(wl != NULL);
    printf("weak list: %d lines loaded in %.3f ms\n", BIG_LINES, ms);
    CHECK(fs_weak_list_size(wl) == BIG_LINES);

    for (i = 0; i < BIG_LINES; i += 7) {
        sprintf(line, "weak-%d-%x", i, (unsigned)i * 2654435761u);
        present += check_str(line, 0, wl) == FS_SECRET_KNOWN;
        sprintf(line, "weak-%d-%x", i + BIG_LINES, (unsigned)i * 2654435761u);
        absent += check_str(line, 0, wl) != FS_SECRET_KNOWN;
    }
    CHECK(present == (BIG_LINES + 6) / 7);
    CHECK(absent == (BIG_LINES + 6) / 7);
    fs_weak_list_free(wl);
    unlink(path);
}

int
main(void)
{
    test_missing();
    test_builtin();
    test_short();
    test_low_variety();
    test_strong_random();
    test_verdict_names();
    test_weak_list();
    test_weak_list_literals();
    test_weak_list_refused();
    test_weak_list_big();
    return fs_test_report();
}
