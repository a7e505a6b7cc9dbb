/*
 * fs_log.h -- structured log lines (docs/design.md, "Logs").
 *
 * One event is one line, written with a single write(2) so lines of several
 * processes never interleave: a JSON object by default, or logfmt text, to
 * stderr, syslog or a file as the policy says.  Every line carries ts, src
 * ("flaskshield"), level, event, pid, app (the Flask import_name, or null),
 * mode and host, and service when one is set; the caller adds fields with
 * fs_log_str()/fs_log_int().  Lines below the policy's log.level are not
 * assembled.  Lines longer than the buffer are cut at a field boundary,
 * never mid-field, and are always valid UTF-8 (fs_logline.c assembles
 * them).  A log file must be a regular file that can be opened (a FIFO
 * with no reader would block every process in open()), and syslog needs a
 * daemon listening on /dev/log: otherwise lines go to stderr, with one line
 * saying so.
 *
 *     struct fs_logline l;
 *     fs_log_begin(&l, FS_WARN, "body.capped", "shop", "enforce");
 *     fs_log_int(&l, "old", -1);
 *     fs_log_int(&l, "new", 16777216);
 *     fs_log_end(&l);
 */
#ifndef FS_LOG_H
#define FS_LOG_H

#include <stddef.h>

#include "fs_logline.h"

/* Where lines go from now on, and from which level (called when the policy
 * is known; before that, JSON from info up to stderr). */
void fs_log_configure(enum fs_log_target target, const char *file,
                      enum fs_log_format format, enum fs_level level);

/* The log file renamed or removed (logrotate without copytruncate): open
 * its path again, from now on (called with the policy files' check, every
 * reload_interval). */
void fs_log_follow(void);

/* The service of process-level events ("" or NULL: none).  The string is
 * not copied: set it again whenever the policy holding it is replaced. */
void fs_log_service(const char *service);

/* Start a line: a process-level event (the service of fs_log_service()),
 * or one about an app, with that app's service. */
void fs_log_begin(struct fs_logline *l, enum fs_level level,
                  const char *event, const char *app, const char *mode);
void fs_log_begin_service(struct fs_logline *l, enum fs_level level,
                          const char *event, const char *app,
                          const char *mode, const char *service);
/* Fields: fs_log_str() and the others of fs_logline.h. */
void fs_log_end(struct fs_logline *l);

#endif /* FS_LOG_H */
