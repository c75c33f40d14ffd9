/* SPDX-License-Identifier: MIT */
/* Log lines: the level filter, and the one format decision, journal or not.
 * systemd sets JOURNAL_STREAM=DEV:INO for a service whose stderr is the
 * journal; a program started from that service with stderr sent elsewhere
 * inherits the variable, so the device and inode are compared, not merely
 * the variable's presence. */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_threshold = RPMSG_LOG_INFO;
static int log_journal = -1;   /* -1: not checked yet */

static const struct {
	const char *name;
	int level;
} log_names[] = {
	{ "err", RPMSG_LOG_ERR },   { "error", RPMSG_LOG_ERR },
	{ "warn", RPMSG_LOG_WARN }, { "warning", RPMSG_LOG_WARN },
	{ "info", RPMSG_LOG_INFO }, { "debug", RPMSG_LOG_DEBUG },
};

int rpmsg_log_level_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof log_names / sizeof log_names[0]; i++)
		if (strcmp(name, log_names[i].name) == 0)
			return log_names[i].level;
	return -1;
}

const char *rpmsg_log_level_name(int level)
{
	for (size_t i = 0; i < sizeof log_names / sizeof log_names[0]; i++)
		if (log_names[i].level == level)
			return log_names[i].name;   /* the short name comes first */
	return "?";
}

void rpmsg_log_set_level(int level)
{
	log_threshold = level;
}

int rpmsg_log_level(void)
{
	return log_threshold;
}

bool rpmsg_log_enabled(int level)
{
	return level <= log_threshold;
}

/* True when stderr is the journal's stream (checked once, at the first line). */
static bool rpmsg_log_to_journal(void)
{
	if (log_journal >= 0)
		return log_journal;
	log_journal = 0;
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (s && sscanf(s, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0)
		log_journal = (unsigned long long)st.st_dev == dev &&
			      (unsigned long long)st.st_ino == ino;
	return log_journal;
}

/* The prefix of each line: "<N>" for the journal, "[HH:MM:SS.mmm] " else. */
static int log_prefix(char *buf, size_t size, int level)
{
	if (rpmsg_log_to_journal())
		return snprintf(buf, size, "<%d>", level);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	localtime_r(&tv.tv_sec, &tm);
	return snprintf(buf, size, "[%02d:%02d:%02d.%03ld] ", tm.tm_hour, tm.tm_min, tm.tm_sec,
			(long)(tv.tv_usec / 1000));
}

/* Copies msg into out after prefix, with a newline at the end; with
 * every_line, prefix goes before each of msg's lines too. Returns the
 * length. out must hold lines * plen + len + 1 (lines: 1 without every_line). */
static size_t log_assemble(char *out, const char *prefix, size_t plen, const char *msg,
			   size_t len, bool every_line)
{
	size_t n = 0;
	const char *p = msg, *end = msg + len;
	do {
		const char *nl = every_line ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		size_t line = nl ? (size_t)(nl - p) : (size_t)(end - p);
		memcpy(out + n, prefix, plen);
		n += plen;
		memcpy(out + n, p, line);
		n += line;
		out[n++] = '\n';
		p += line + (nl ? 1 : 0);
	} while (p < end);
	return n;
}

void rpmsg_vlog(int level, const char *fmt, va_list ap)
{
	if (!rpmsg_log_enabled(level))
		return;
	char prefix[40];
	int plen = log_prefix(prefix, sizeof prefix, level);
	char small[2048], *msg = small;
	va_list again;
	va_copy(again, ap);
	int len = vsnprintf(small, sizeof small, fmt, ap);
	if (len >= (int)sizeof small && (msg = malloc((size_t)len + 1)))
		vsnprintf(msg, (size_t)len + 1, fmt, again);
	va_end(again);
	if (len < 0 || plen < 0)
		return;
	if (!msg) {   /* out of memory: the first 2 KiB beat nothing */
		msg = small;
		len = sizeof small - 1;
	}
	/* journald reads the priority of each line from its own prefix; a
	 * terminal reads a traceback better under one timestamp. */
	bool every_line = rpmsg_log_to_journal();
	size_t lines = 1;
	if (every_line)
		for (const char *p = msg; (p = memchr(p, '\n', (size_t)(msg + len - p))); p++)
			lines++;
	size_t cap = lines * (size_t)plen + (size_t)len + 1;
	char stack[4096], *out = cap <= sizeof stack ? stack : malloc(cap);
	if (out) {
		size_t n = log_assemble(out, prefix, (size_t)plen, msg, (size_t)len, every_line);
		ssize_t w = write(STDERR_FILENO, out, n);
		(void)w;   /* nowhere left to report a failed log write */
		if (out != stack)
			free(out);
	}
	if (msg != small)
		free(msg);
}

void rpmsg_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rpmsg_vlog(level, fmt, ap);
	va_end(ap);
}
