/*
 * test_modname.c -- module-name matching (shim/fs_modname.c): a table of
 * (entry, name bytes, length, dot_ends, expected), NUL bytes in names
 * included.
 */
#include <string.h>

#include "fs_modname.h"
#include "fs_test.h"

struct row {
    const char *entry;
    const char *name;
    size_t len;
    bool dot_ends;
    bool want;
};

static const struct row rows[] = {
    {"flask", "flask", 5, false, true},
    {"flask.app", "flask.app", 9, false, true},
    {"flask", "flas", 4, false, false},
    {"flask", "flaskx", 6, false, false},
    {"flask", "flask\0", 6, false, false},          /* issue 13 */
    {"flask", "flask\0app", 9, false, false},
    {"flask.app", "flask\0app", 9, false, false},
    {"werkzeug", "werkzeug\0", 9, true, false},
    {"flask.app", "flask", 5, true, true},          /* top-level of an entry */
    {"flask.app", "flask", 5, false, false},
    {"flask", "", 0, false, false},
    {"", "", 0, false, true},
    {"_flaskshield_probe", "_flaskshield_probe", 18, false, true},
};

int
main(void)
{
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bool got = fs_modname_spells(rows[i].entry, rows[i].name, rows[i].len,
                                     rows[i].dot_ends);
        if (got != rows[i].want) {
            fprintf(stderr, "row %zu (%s): got %d\n", i, rows[i].entry, got);
        }
        CHECK(got == rows[i].want);
    }
    CHECK(fs_modname_top("flask.app", 9) == 5);
    CHECK(fs_modname_top("flask", 5) == 5);
    CHECK(fs_modname_top("flask\0.app", 10) == 6);
    CHECK(fs_modname_top(".x", 2) == 0);
    CHECK(fs_modname_top("", 0) == 0);
    return fs_test_report();
}
