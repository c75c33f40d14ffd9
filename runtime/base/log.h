/* SPDX-License-Identifier: MIT */
/* Log lines on stderr, at syslog's levels. On a terminal or in a file each
 * line starts with the time; when stderr is the journal (JOURNAL_STREAM
 * names its device and inode) each line starts with `<N>` instead, the
 * priority journald reads, and the journal keeps the time. */
#ifndef RPMSG_LOG_H
#define RPMSG_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* syslog's numbers, which is what `<N>` carries. */
enum rpmsg_log_level {
	RPMSG_LOG_ERR = 3,
	RPMSG_LOG_WARN = 4,
	RPMSG_LOG_INFO = 6,
	RPMSG_LOG_DEBUG = 7,
};

/* "err", "warn", "info", "debug" (also "error", "warning"); -1 for anything
 * else. */
int rpmsg_log_level_parse(const char *name);
const char *rpmsg_log_level_name(int level);
/* Lines above this level are dropped; info by default. */
void rpmsg_log_set_level(int level);
int rpmsg_log_level(void);
bool rpmsg_log_enabled(int level);
/* One write(2) per message, so lines of two processes never interleave; a
 * message of several lines (a traceback) gets the prefix on each line. */
void rpmsg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rpmsg_vlog(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
