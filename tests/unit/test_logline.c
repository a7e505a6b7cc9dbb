/*
 * test_logline.c -- log lines (core/fs_logline.c): always one valid JSON
 * object of valid UTF-8, whatever bytes the fields hold and however long
 * they are; a field that does not fit is left out whole (issue 13: long
 * import names gave `"new":}`, non-UTF-8 policy paths were written raw).
 * The text format is logfmt with a timestamp, quoted where needed, and a
 * line below the log level is never assembled (issue 16).
 */
#include <string.h>

#include "fs_json_check.h"
#include "fs_logline.h"
#include "fs_test.h"

static struct fs_logline l;
static char line[sizeof(l.buf) + 1];    /* the finished line, NUL-ended */

static size_t
finish(void)
{
    size_t n = fs_logline_finish(&l);

    memcpy(line, l.buf, n);
    line[n] = '\0';
    return n;
}

static size_t
begin_and(const char *app)
{
    fs_logline_begin(&l, false, FS_INFO, "2026-12-05T00:00:00.000Z",
                     "body.capped", 42, app, "enforce");
    return l.len;
}

int
main(void)
{
    char big[4096];
    size_t n;

    /* an ordinary line */
    begin_and("shop");
    fs_log_str(&l, "key", "MAX_CONTENT_LENGTH");
    fs_log_int(&l, "new", 16777216);
    fs_log_bool(&l, "enforced", 1);
    n = finish();
    CHECK(fs_json_line_ok(line, n));
    CHECK(strstr(line, "\"app\":\"shop\",\"mode\":\"enforce\",\"key\":"
                        "\"MAX_CONTENT_LENGTH\",\"new\":16777216,"
                        "\"enforced\":true}\n") != NULL);

    /* bytes that are not UTF-8 become U+FFFD; valid UTF-8 stays */
    begin_and("app");
    fs_log_str(&l, "path", "/etc/\xff\xfe/caf\xc3\xa9/\xc0\xaf/\xed\xa0\x80/"
                           "\xf4\x90\x80\x80/\xe2\x82");
    n = finish();
    CHECK(fs_json_line_ok(line, n));
    CHECK(strstr(line, "\"/etc/\xef\xbf\xbd\xef\xbf\xbd/caf\xc3\xa9/") != NULL);

    /* escapes */
    begin_and("a\"b\\c\n\x01\x7f");
    n = finish();
    CHECK(fs_json_line_ok(line, n));
    CHECK(strstr(line, "\"app\":\"a\\\"b\\\\c\\u000a\\u0001\\u007f\"") != NULL);

    /* an app name longer than the line: left out, the line still whole */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    begin_and(big);
    fs_log_int(&l, "new", 1);
    n = finish();
    CHECK(fs_json_line_ok(line, n));
    CHECK(strstr(line, "\"app\"") == NULL);
    CHECK(strstr(line, "\"new\":1}") != NULL);

    /* every length of a string field before an int and a bool: each field
     * is whole or absent, never "new":} */
    for (size_t len = 1800; len < 2100; len++) {
        big[len] = '\0';
        begin_and("app");
        fs_log_str(&l, "name", big);
        fs_log_int(&l, "new", -9223372036854775807LL - 1);
        fs_log_bool(&l, "enforced", 0);
        n = finish();
        CHECK(fs_json_line_ok(line, n));
        CHECK(n <= sizeof(l.buf));
        big[len] = 'x';
    }

    /* text format: logfmt, one line of valid UTF-8; a null is left out */
    fs_logline_begin(&l, true, FS_WARN, "2026-12-05T20:00:00.123Z",
                     "log.fallback", 7, NULL, "off");
    fs_log_str(&l, "file", "/tmp/\xff");
    n = finish();
    CHECK(strcmp(line, "ts=2026-12-05T20:00:00.123Z src=flaskshield "
                       "level=warning event=log.fallback pid=7 mode=off "
                       "file=/tmp/\xef\xbf\xbd\n") == 0);

    /* logfmt quoting: bare when nothing needs it, else quoted with JSON's
     * escapes (empty, space, '=', '"', backslash, control characters) */
    fs_logline_begin(&l, true, FS_INFO, "t", "e", 1, "caf\xc3\xa9", "m");
    fs_log_str(&l, "empty", "");
    fs_log_str(&l, "space", "a b");
    fs_log_str(&l, "eq", "k=v");
    fs_log_str(&l, "quote", "say \"hi\"");
    fs_log_str(&l, "bs", "C:\\x");
    fs_log_str(&l, "nl", "a\nb\x7f");
    fs_log_str(&l, "null", NULL);
    fs_log_int(&l, "n", -3);
    fs_log_bool(&l, "b", 1);
    n = finish();
    CHECK(strcmp(line, "ts=t src=flaskshield level=info event=e pid=1 "
                       "app=caf\xc3\xa9 mode=m empty=\"\" space=\"a b\" "
                       "eq=\"k=v\" quote=\"say \\\"hi\\\"\" "
                       "bs=\"C:\\\\x\" nl=\"a\\u000ab\\u007f\" n=-3 "
                       "b=true\n") == 0);

    /* a field that does not fit is left out whole in text too */
    big[3000] = '\0';
    fs_logline_begin(&l, true, FS_INFO, "t", "e", 1, big, "m");
    fs_log_str(&l, "name", big);
    fs_log_int(&l, "new", 1);
    n = finish();
    CHECK(strcmp(line, "ts=t src=flaskshield level=info event=e pid=1 "
                       "mode=m new=1\n") == 0);

    /* a skipped line (below the log level): fields do nothing, no line */
    fs_logline_skip(&l);
    fs_log_str(&l, "key", "MAX_CONTENT_LENGTH");
    fs_log_int(&l, "new", 1);
    fs_log_bool(&l, "enforced", 1);
    CHECK(l.len == 0);
    CHECK(fs_logline_finish(&l) == 0);
    CHECK(l.len == 0);

    /* the level words are the policy's and the lines' */
    CHECK(strcmp(fs_level_words[FS_WARN], "warning") == 0);
    CHECK(fs_level_words[FS_ERROR + 1] == NULL);
    return fs_test_report();
}
