/* SPDX-License-Identifier: MIT */
/* Error reports of the device and loop layers: an errno and a sentence that
 * names what failed. The bindings turn them into `nil, message, ERRNAME`. */
#ifndef RPMSG_ERR_H
#define RPMSG_ERR_H

struct rpmsg_err {
	int code;       /* errno value, never 0 once set */
	char msg[256];  /* "open /dev/rpmsg_ctrl7: No such file or directory" */
};

/* Fills *e and returns -code, so callers can `return rpmsg_fail(...)`. */
int rpmsg_fail(struct rpmsg_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like rpmsg_fail, with ": strerror(code)" appended. */
int rpmsg_fail_errno(struct rpmsg_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What a lower layer has to say that is not an error (a channel bound
 * through driver_override): to the sink the bindings set (the host's log),
 * else to stderr. */
void rpmsg_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rpmsg_set_notice_sink(void (*sink)(const char *msg));

#endif
