/*
 * test_record.c -- the checks a reader runs on a record file
 * (core/fs_record.c): a record `flaskshield ps` takes has terminated
 * strings and a slot count in range, whatever the file held; and the
 * fixed-size string copy never overruns and always terminates.
 */
#include <string.h>

#include "fs_record.h"
#include "fs_test.h"

static struct fs_record r;

static void
fresh(void)
{
    memset(&r, 0, sizeof(r));
    r.magic = FS_RECORD_MAGIC;
    r.version = FS_RECORD_VERSION;
    r.size = sizeof(r);
    r.napps = 2;
    r.pid = 42;
    strcpy(r.app[1].name, "shop");
}

int
main(void)
{
    char small[8];
    int c;

    fresh();
    CHECK(fs_record_valid(&r, sizeof(r)));
    CHECK(!fs_record_valid(&r, sizeof(r) - 1));         /* a short file */

    fresh();
    r.magic ^= 1;
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    r.version++;
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    r.size--;
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    r.napps = 0;
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    r.napps = FS_RECORD_APPS + 1;
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    r.napps = FS_RECORD_APPS;
    CHECK(fs_record_valid(&r, sizeof(r)));
    fresh();
    r.pid = -1;
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    r.pid = 0;                  /* the retired counters of a user */
    CHECK(fs_record_valid(&r, sizeof(r)));

    /* every string must end inside its field */
    fresh();
    memset(r.command, 'x', sizeof(r.command));
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    memset(r.digest, 'x', sizeof(r.digest));
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    memset(r.app[1].name, 'x', sizeof(r.app[1].name));
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    memset(r.app[5].name, 'x', sizeof(r.app[5].name));     /* unused slot */
    CHECK(fs_record_valid(&r, sizeof(r)));

    memset(small, 'z', sizeof(small));
    fs_record_strcpy(small, sizeof(small), "flaskshield");
    CHECK(strcmp(small, "flasksh") == 0);
    fs_record_strcpy(small, sizeof(small), "ab");
    CHECK(strcmp(small, "ab") == 0 && small[7] == '\0');
    fs_record_strcpy(small, sizeof(small), NULL);
    CHECK(small[0] == '\0');
    /* the buffer holds 7 bytes: a character that would end at the 8th is
     * left out whole */
    fs_record_strcpy(small, sizeof(small), "abcdef\xc3\xa9");
    CHECK(strcmp(small, "abcdef") == 0);
    fs_record_strcpy(small, sizeof(small), "abcde\xc3\xa9x");
    CHECK(strcmp(small, "abcde\xc3\xa9") == 0);
    /* bytes that are not UTF-8 and control characters become '?' */
    fs_record_strcpy(small, sizeof(small), "a\xff\n\x1b[2J");
    CHECK(strcmp(small, "a???[2J") == 0);
    fresh();
    fs_record_strcpy(r.command, sizeof(r.command), "gunicorn\n4242 fake\xfe");
    CHECK(fs_record_valid(&r, sizeof(r)));
    CHECK(strcmp(r.command, "gunicorn?4242 fake?") == 0);

    /* what fs_record_strcpy() never writes is refused */
    fresh();
    strcpy(r.app[1].name, "shop\n99 fake");
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    strcpy(r.app[1].name, "shop\xc3");                    /* cut character */
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    strcpy(r.policy, "/etc/\x1b]0;x\x07");
    CHECK(!fs_record_valid(&r, sizeof(r)));
    fresh();
    strcpy(r.app[1].name, "caf\xc3\xa9");
    CHECK(fs_record_valid(&r, sizeof(r)));

    /* every counter has a label, unique */
    for (c = 0; c < FS_CNT_COUNT; c++) {
        int d;

        CHECK(fs_counter_names[c] != NULL && fs_counter_names[c][0] != '\0');
        for (d = 0; d < c; d++) {
            CHECK(strcmp(fs_counter_names[c], fs_counter_names[d]) != 0);
        }
    }
    return fs_test_report();
}
