/*
 * test_clen.c -- CONTENT_LENGTH as the guard trusts it (shim/fs_clen.c):
 * plain ASCII digits only; what Python's int() would also accept (sign,
 * white space, underscores, other digits) is unknown, never a value.
 */
#include <string.h>

#include "fs_clen.h"
#include "fs_test.h"

struct row {
    const char *s;
    enum fs_clen want;
    long long value;
};

static const struct row rows[] = {
    {"", FS_CLEN_ABSENT, -1},
    {"0", FS_CLEN_VALUE, 0},
    {"12", FS_CLEN_VALUE, 12},
    {"0012", FS_CLEN_VALUE, 12},
    {"16777216", FS_CLEN_VALUE, 16777216},
    {"999999999999999999", FS_CLEN_VALUE, 999999999999999999LL},
    {"1000000000000000000", FS_CLEN_UNKNOWN, -1},      /* 19 digits */
    {"99999999999999999999999", FS_CLEN_UNKNOWN, -1},
    {"+12", FS_CLEN_UNKNOWN, -1},
    {"-1", FS_CLEN_UNKNOWN, -1},
    {" 12", FS_CLEN_UNKNOWN, -1},
    {"12 ", FS_CLEN_UNKNOWN, -1},
    {"1_2", FS_CLEN_UNKNOWN, -1},
    {"0x10", FS_CLEN_UNKNOWN, -1},
    {"12,12", FS_CLEN_UNKNOWN, -1},
    {"\xd9\xa1\xd9\xa2", FS_CLEN_UNKNOWN, -1},         /* Arabic-Indic 12 */
    {"1e3", FS_CLEN_UNKNOWN, -1},
};

int
main(void)
{
    size_t i;
    long long v;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        enum fs_clen got = fs_clen_parse(rows[i].s, strlen(rows[i].s), &v);
        CHECK(got == rows[i].want);
        CHECK(v == rows[i].value);
    }
    /* the length, not a terminator, bounds the read */
    CHECK(fs_clen_parse("12\0" "34", 5, &v) == FS_CLEN_UNKNOWN);
    CHECK(fs_clen_parse("1234", 2, &v) == FS_CLEN_VALUE && v == 12);
    return fs_test_report();
}
