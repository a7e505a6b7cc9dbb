/*
 * fs_logline.h -- assembling one structured log line in a fixed buffer
 * (see fs_logline.c); fs_log.h writes it out.  No Python, no I/O: the C
 * unit tests and a fuzz target build it alone.
 */
#ifndef FS_LOGLINE_H
#define FS_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>

enum fs_level { FS_DEBUG, FS_INFO, FS_WARN, FS_ERROR };
/* Their names in lines and in the policy, NULL-terminated. */
extern const char *const fs_level_words[];
/* Where lines go and how they are written (the policy's log settings). */
enum fs_log_target { FS_LOG_STDERR, FS_LOG_SYSLOG, FS_LOG_FILE };
enum fs_log_format { FS_LOG_JSON, FS_LOG_TEXT };

struct fs_logline {
    char buf[2048];
    size_t len;
    bool full;                  /* a put did not fit: roll the field back */
    bool skip;                  /* below the log level: not assembled */
    enum fs_level level;
    bool text;                  /* format = "text" */
};

/* Start a line: {"ts":stamp,"src":"flaskshield","level":..,"event":..,
 * "pid":..,"app":..,"mode":..} in JSON, or the same fields as logfmt in
 * text: "ts=STAMP src=flaskshield level=LEVEL event=EVENT pid=.. app=..
 * mode=..".  app and mode may be NULL. */
void fs_logline_begin(struct fs_logline *l, bool text, enum fs_level level,
                      const char *stamp, const char *event, long long pid,
                      const char *app, const char *mode);

/* Instead of fs_logline_begin(): a line below the log level.  The field
 * calls do nothing and fs_logline_finish() returns 0. */
void fs_logline_skip(struct fs_logline *l);

/* Fields.  A field that does not fit the line is left out whole.  String
 * values may hold any bytes: bytes that are not UTF-8 become U+FFFD, so the
 * line is always valid UTF-8.  JSON: strings are JSON strings, NULL is
 * null.  Text (logfmt): a string is written bare, or quoted with JSON's
 * escapes when it is empty or holds a space, '=', '"', '\' or a control
 * character; a NULL string leaves the field out. */
void fs_log_str(struct fs_logline *l, const char *key, const char *value);
void fs_log_strn(struct fs_logline *l, const char *key, const char *value,
                 size_t n);
void fs_log_int(struct fs_logline *l, const char *key, long long value);
void fs_log_bool(struct fs_logline *l, const char *key, int value);

/* The length of the well-formed UTF-8 sequence at s[0..n) (n > 0; no
 * overlong form, no surrogate, at most U+10FFFF), or 0. */
size_t fs_utf8_len(const unsigned char *s, size_t n);

/* Close the line ("}" in JSON) and end it with "\n"; returns its length
 * (0 for a skipped line).  Room for both is always kept. */
size_t fs_logline_finish(struct fs_logline *l);

#endif /* FS_LOGLINE_H */
