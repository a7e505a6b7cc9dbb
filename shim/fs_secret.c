/*
 * fs_secret.c -- judging a Flask SECRET_KEY (interface in fs_secret.h).
 *
 * fs_secret_check() looks only at the key's bytes (str keys arrive as UTF-8)
 * and answers with the most useful reason, in this order: missing, known
 * value (built-in table or the operator's weak list), low variety, too short.
 * A known value is reported as known even when it is also short.  The
 * low-variety rules are tuned so that the keys Flask's documentation
 * recommends -- secrets.token_hex(16..), secrets.token_urlsafe(24..),
 * os.urandom(24..) -- are never flagged in practice: the periodic and
 * sequential rules need coincidences estimated below one in 10^15 for such
 * keys (none in 1.5 * 10^9 simulated).  The one exception is the distinct-byte
 * rule on token_hex(16): 32 draws from 16 hex digits use fewer than 8 of
 * them with probability about 3.7e-8 (35 in 10^9 simulated); the longer
 * forms are at most about 1e-19.
 *
 * The operator's weak list is a hash set loaded by fs_weak_list.c.
 *
 * Nothing here prints, exits, or keeps mutable global state: every check is
 * a pure read and safe from any number of threads at once, as is look-up in
 * a loaded weak list.
 */
#include "fs_secret.h"

#include <stdint.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Built-in published values                                               */
/* ---------------------------------------------------------------------- */

struct fs_known_key {
    const char *bytes;
    size_t len;
};

#define FS_KNOWN(s) {(s), sizeof(s) - 1}

/* Compared byte for byte, case-sensitively, against the whole key. */
static const struct fs_known_key fs_known_keys[] = {
    /* Flask tutorial and configuration docs. */
    FS_KNOWN("dev"),
    FS_KNOWN("192b9bdd22ab9ed4d12e236c78afcb9a"
             "393ec15f71bbf5dc987d54727823bcbf"),
    FS_KNOWN("5f352379324c22463451387a0aec5d2f"),
    /* The quickstart key b'_5#y2L"F4Q8z\n\xec]/': the bytes themselves... */
    FS_KNOWN("_5#y2L\"F4Q8z\n\xec]/"),
    /* ...the same text written as a str ('\xec' is U+00EC, UTF-8 c3 ac)... */
    FS_KNOWN("_5#y2L\"F4Q8z\n\xc3\xac]/"),
    /* ...and the source text pasted literally (environment, config file). */
    FS_KNOWN("_5#y2L\"F4Q8z\\n\\xec]/"),
    FS_KNOWN("b'_5#y2L\"F4Q8z\\n\\xec]/'"),
    FS_KNOWN("'_5#y2L\"F4Q8z\\n\\xec]/'"),
    /* Older quickstart (Flask 0.x). */
    FS_KNOWN("A0Zr98j/3yX R~XHH!jmN]LWX/,?RT"),
    /* Flask docs, books and well-known tutorials. */
    FS_KNOWN("test key"),
    FS_KNOWN("development key"),
    FS_KNOWN("you-will-never-guess"),
    FS_KNOWN("hard to guess string"),
    FS_KNOWN("super secret key"),
    FS_KNOWN("super secret string"),
    FS_KNOWN("this-really-needs-to-be-changed"),
    FS_KNOWN("my_precious"),
    FS_KNOWN("secret!"),
    FS_KNOWN("keyboard cat"),
    /* Placeholders. */
    FS_KNOWN("secret"),
    FS_KNOWN("Secret"),
    FS_KNOWN("SECRET"),
    FS_KNOWN("secret-key"),
    FS_KNOWN("secret_key"),
    FS_KNOWN("secretkey"),
    FS_KNOWN("SECRET_KEY"),
    FS_KNOWN("changeme"),
    FS_KNOWN("CHANGEME"),
    FS_KNOWN("change-me"),
    FS_KNOWN("change_me"),
    FS_KNOWN("CHANGE_ME"),
    FS_KNOWN("changethis"),
    FS_KNOWN("change-this"),
    FS_KNOWN("your-secret-key"),
    FS_KNOWN("your_secret_key"),
    FS_KNOWN("your-secret-key-here"),
    FS_KNOWN("mysecretkey"),
    FS_KNOWN("my-secret-key"),
    FS_KNOWN("my_secret_key"),
    FS_KNOWN("mysecret"),
    FS_KNOWN("supersecretkey"),
    FS_KNOWN("super-secret"),
    FS_KNOWN("super-secret-key"),
    FS_KNOWN("super_secret_key"),
    FS_KNOWN("supersecret"),
    FS_KNOWN("topsecret"),
    FS_KNOWN("s3cr3t"),
    FS_KNOWN("password"),
    FS_KNOWN("default"),
    FS_KNOWN("flask"),
    FS_KNOWN("development"),
    FS_KNOWN("devkey"),
    FS_KNOWN("dev-key"),
    FS_KNOWN("dev_key"),
    FS_KNOWN("test"),
    FS_KNOWN("testing"),
    /* Published defaults of Flask-based products and their documentation
     * placeholders (each of these has been found serving session cookies
     * on the Internet).  The source of each group is named beside it. */
    /* Apache Superset before 1.4.1 and Flask-AppBuilder's application
     * skeleton (dpgaspar/Flask-AppBuilder-Skeleton config.py, and the
     * config.py `flask fab create-app` writes):
     * SECRET_KEY = "\2\1thisismyscretkey\1\2\e\y\y\h" as Python reads
     * it... */
    FS_KNOWN("\x02\x01thisismyscretkey\x01\x02\\e\\y\\y\\h"),
    /* ...and that source text pasted literally. */
    FS_KNOWN("\\2\\1thisismyscretkey\\1\\2\\e\\y\\y\\h"),
    /* Superset 1.4.1 and later (apache/superset superset/config.py,
     * CHANGE_ME_SECRET_KEY), its Helm chart and docker templates, its
     * documentation ("YOUR_OWN_RANDOM_GENERATED_SECRET_KEY") and test
     * configuration: the keys of CVE-2023-27524. */
    FS_KNOWN("CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET"),
    FS_KNOWN("thisISaSECRET_1234"),
    FS_KNOWN("YOUR_OWN_RANDOM_GENERATED_SECRET_KEY"),
    FS_KNOWN("TEST_NON_DEV_SECRET"),
    /* Redash (getredash/redash redash/settings/__init__.py: the default of
     * REDASH_COOKIE_SECRET, also its SECRET_KEY). */
    FS_KNOWN("c292a0a3aa32397cdb050e233733900f"),
    /* Apache Airflow's webserver secret_key in its default configuration
     * (apache/airflow airflow/config_templates/default_airflow.cfg, 1.10
     * and 2.0). */
    FS_KNOWN("temporary_key"),
    /* PowerDNS-Admin (PowerDNS-Admin/PowerDNS-Admin
     * powerdnsadmin/default_config.py and configs/development.py). */
    FS_KNOWN("e951e5a1f4b94151b360f47edf596dd2"),
    /* Flask-Security-Too's quick start, copied into many applications as
     * the fallback of os.environ.get("SECRET_KEY", ...)
     * (pallets-eco/flask-security docs/quickstart.rst and examples/). */
    FS_KNOWN("pf9Wkove4IKEAXvy-cQkeDPhv9Cb3Ag-wyJILbq_dFw"),
    /* Flask-User's example applications and documentation
     * (lingthio/Flask-User example_apps/quickstart_app.py and the others;
     * the shorter form in releases before 1.0). */
    FS_KNOWN("This is an INSECURE secret!! DO NOT use this in production!!"),
    FS_KNOWN("THIS IS AN INSECURE SECRET"),
};

#undef FS_KNOWN

static int
fs_secret_is_builtin(const unsigned char *key, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(fs_known_keys) / sizeof(fs_known_keys[0]); i++) {
        if (fs_known_keys[i].len == len
            && memcmp(fs_known_keys[i].bytes, key, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Low variety                                                             */
/* ---------------------------------------------------------------------- */

/* Periods tried: 1 .. max(8, len / 3), never more than len / 2 (the
 * pattern must occur at least twice) nor more than FS_MAX_PERIOD (bounds
 * the work on a huge key). */
#define FS_MAX_PERIOD 256
/* Runs shorter than this do not count towards coverage. */
#define FS_MIN_RUN 4

/* Is b the byte after a in an ascending sequence?  Plain +1, or a wrap
 * within digits ("9" -> "0"), letters ("z" -> "a", "Z" -> "A"), or hex
 * ("9" -> "a"/"A" and "f"/"F" -> "0"). */
static int
fs_is_next(unsigned char a, unsigned char b)
{
    if (b == (unsigned char)(a + 1) && a != 0xff) {
        return 1;
    }
    switch (a) {
    case '9':
        return b == '0' || b == 'a' || b == 'A';
    case 'z':
        return b == 'a';
    case 'Z':
        return b == 'A';
    case 'f':
    case 'F':
        return b == '0';
    default:
        return 0;
    }
}

/* The step from a to b: +1, -1, 0 (same byte), or 2 (none of these). */
static int
fs_step(unsigned char a, unsigned char b)
{
    if (a == b) {
        return 0;
    }
    if (fs_is_next(a, b)) {
        return 1;
    }
    if (fs_is_next(b, a)) {
        return -1;
    }
    return 2;
}

/* Rule (a): fewer than 8 distinct byte values (keys of 8 bytes or more;
 * shorter keys cannot reach 8 and are judged by length instead). */
static int
fs_few_distinct(const unsigned char *key, size_t len)
{
    unsigned char seen[256];
    size_t i, distinct = 0;

    if (len < 8) {
        return 0;
    }
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < len && distinct < 8; i++) {
        if (!seen[key[i]]) {
            seen[key[i]] = 1;
            distinct++;
        }
    }
    return distinct < 8;
}

/* Rule (b): the key is (nearly) one pattern repeated.  For a period p,
 * count positions i >= p with key[i] != key[i - p]; at most (len - p) / 16
 * such mismatches are tolerated (none below 16 compared positions). */
static int
fs_periodic(const unsigned char *key, size_t len)
{
    size_t pmax = len / 3 > 8 ? len / 3 : 8;
    size_t p, i, mism, allowed;

    if (pmax > len / 2) {
        pmax = len / 2;
    }
    if (pmax > FS_MAX_PERIOD) {
        pmax = FS_MAX_PERIOD;
    }
    for (p = 1; p <= pmax; p++) {
        allowed = (len - p) / 16;
        mism = 0;
        for (i = p; i < len && mism <= allowed; i++) {
            mism += key[i] != key[i - p];
        }
        if (mism <= allowed) {
            return 1;
        }
    }
    return 0;
}

/* Rule (c): sequential runs.  A run is a maximal stretch whose bytes all
 * follow each other by the same step: +1 ("abcd", "0123"), -1 ("dcba"),
 * or 0 ("aaaa"), with the wraps of fs_is_next.  Flagged when one run of at
 * least FS_MIN_RUN bytes spans at least half the key, or runs of at least
 * FS_MIN_RUN bytes together cover at least three quarters of it.  Short
 * runs inside a random key ("0123" in a token_hex) do not count. */
static int
fs_sequential(const unsigned char *key, size_t len)
{
    size_t i, run_start = 0, covered = 0, covered_end = 0, longest = 1;
    size_t run_len, from;
    int step = 2, s;

    if (len < FS_MIN_RUN) {
        return 0;
    }
    for (i = 1; i <= len; i++) {
        s = i < len ? fs_step(key[i - 1], key[i]) : 2;
        if (s != 2 && s == step) {
            continue;           /* run goes on */
        }
        /* The run [run_start, i) ends here. */
        run_len = i - run_start;
        if (run_len > longest) {
            longest = run_len;
        }
        if (run_len >= FS_MIN_RUN) {
            from = run_start > covered_end ? run_start : covered_end;
            covered += i - from;
            covered_end = i;
        }
        /* A new run starts at i - 1 (shares that byte) or at i. */
        step = s;
        run_start = s != 2 ? i - 1 : i;
    }
    return (longest >= FS_MIN_RUN && longest * 2 >= len)
           || covered * 4 >= len * 3;
}

static int
fs_secret_low_variety(const unsigned char *key, size_t len)
{
    return fs_few_distinct(key, len) || fs_periodic(key, len)
           || fs_sequential(key, len);
}

/* ---------------------------------------------------------------------- */
/* The verdict                                                             */
/* ---------------------------------------------------------------------- */

static int
fs_is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Is key, or key of hex digits in lower case (known hex keys are listed
 * in lower case), in the built-in table or the weak list? */
static int
fs_secret_is_listed(const unsigned char *key, size_t len,
                    const struct fs_weak_list *wl)
{
    unsigned char low[128];
    size_t i, hex = 0;

    if (fs_secret_is_builtin(key, len)
        || (wl != NULL && fs_weak_list_contains(wl, key, len))) {
        return 1;
    }
    for (i = 0; i < len && len <= sizeof(low); i++) {
        unsigned char c = key[i];
        if (c >= 'A' && c <= 'F') {
            c = (unsigned char)(c - 'A' + 'a');
        }
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            break;
        }
        low[hex++] = c;
    }
    return hex == len
           && (fs_secret_is_builtin(low, len)
               || (wl != NULL && fs_weak_list_contains(wl, low, len)));
}

/* Trim surrounding white space off *key. */
static void
fs_trim_space(const unsigned char **key, size_t *len)
{
    while (*len > 0 && fs_is_space((*key)[0])) {
        (*key)++;
        (*len)--;
    }
    while (*len > 0 && fs_is_space((*key)[*len - 1])) {
        (*len)--;
    }
}

/* A known value: the key itself; without surrounding white space (a
 * trailing newline from a file or an environment variable); and without
 * one pair of matching quotes around it too (SECRET_KEY="dev" in a file
 * that docker --env-file or systemd's EnvironmentFile= pass on with the
 * quotes) -- each as it is and, of hex digits, in any case. */
static int
fs_secret_is_known(const unsigned char *key, size_t len,
                   const struct fs_weak_list *wl)
{
    size_t before = len;

    if (fs_secret_is_listed(key, len, wl)) {
        return 1;
    }
    fs_trim_space(&key, &len);
    if (len > 0 && len < before && fs_secret_is_listed(key, len, wl)) {
        return 1;
    }
    if (len < 2 || key[0] != key[len - 1]
        || (key[0] != '"' && key[0] != '\'' && key[0] != '`')) {
        return 0;
    }
    key++;
    len -= 2;
    fs_trim_space(&key, &len);
    return len > 0 && fs_secret_is_listed(key, len, wl);
}

enum fs_secret_verdict
fs_secret_check(const unsigned char *key, size_t len, size_t min_length,
                const struct fs_weak_list *wl)
{
    if (key == NULL || len == 0) {
        return FS_SECRET_MISSING;
    }
    if (fs_secret_is_known(key, len, wl)) {
        return FS_SECRET_KNOWN;
    }
    if (fs_secret_low_variety(key, len)) {
        return FS_SECRET_LOW_VARIETY;
    }
    if (len < min_length) {
        return FS_SECRET_SHORT;
    }
    return FS_SECRET_OK;
}

const char *
fs_secret_verdict_name(enum fs_secret_verdict v)
{
    switch (v) {
    case FS_SECRET_OK:
        return "ok";
    case FS_SECRET_MISSING:
        return "missing";
    case FS_SECRET_KNOWN:
        return "known value";
    case FS_SECRET_SHORT:
        return "too short";
    case FS_SECRET_LOW_VARIETY:
        return "low variety";
    }
    return "unknown";
}
