/* SPDX-License-Identifier: MIT */
/* Formatting of device- and loop-layer errors. */
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
