/* SPDX-License-Identifier: MIT */
/* Formatting of device- and loop-layer errors, and their notices. */
#include "rpmsg_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int vfail(struct rpmsg_err *e, int code, int with_errno, const char *fmt, va_list ap)
{
	if (!e)
		return -code;
	e->code = code;
	int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof e->msg)
		snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", strerror(code));
	return -code;
}

int rpmsg_fail(struct rpmsg_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(e, code, 0, fmt, ap);
	va_end(ap);
	return r;
}

int rpmsg_fail_errno(struct rpmsg_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(e, code, 1, fmt, ap);
	va_end(ap);
	return r;
}

static void (*notice_sink)(const char *msg);

void rpmsg_set_notice_sink(void (*sink)(const char *msg)) { notice_sink = sink; }

void rpmsg_notice(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (notice_sink)
		notice_sink(msg);
	else
		fprintf(stderr, "rpmsg: %s\n", msg);
}
