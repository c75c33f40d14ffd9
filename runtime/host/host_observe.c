/* SPDX-License-Identifier: MIT */
/* --trace and --metrics for the script's host: the trace is rpmsg.trace
 * switched on before the script loads, the metrics a loop timer that has
 * rpmsg.observe write the Prometheus textfile under the watchdog. A path
 * that cannot be written is an error at start, naming it. */
#include "host_observe.h"
#include "lrpmsg_host.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_DEFAULT_MS 10000

static struct metrics {
	struct host *h;
	const char *path;
	int every_ms;
	struct loop_timer timer;
	char last_error[256];         /* logged once until it changes */
} metrics;

static const char *const valued[] = {
	"--trace-file", "--trace-time", "--trace-pcap", "--metrics", "--metrics-interval", NULL,
};

int observe_option(int argc, char **argv, int *i, struct observe_opts *o, const char **why)
{
	const char *a = argv[*i];
	if (!strcmp(a, "--trace")) {
		o->trace = true;
		return 1;
	}
	int k = 0;
	while (valued[k] && strcmp(a, valued[k]))
		k++;
	if (!valued[k])
		return 0;
	static char msg[128];
	if (*i + 1 == argc) {
		snprintf(msg, sizeof msg, "%s needs a value", a);
		*why = msg;
		return -1;
	}
	const char *v = argv[++*i];
	if (!strcmp(a, "--trace-file")) {
		o->trace = true;
		o->trace_file = v;
	} else if (!strcmp(a, "--trace-time")) {
		if (strlen(v) != 1 || !strchr("adz", v[0])) {
			snprintf(msg, sizeof msg, "--trace-time wants a (absolute), d (delta) or z "
				 "(from the start), not '%.40s'", v);
			*why = msg;
			return -1;
		}
		o->trace_time = v;
	} else if (!strcmp(a, "--trace-pcap")) {
		o->trace_pcap = v;
	} else if (!strcmp(a, "--metrics")) {
		o->metrics = v;
	} else {
		char *end;
		long ms = strtol(v, &end, 10);
		if (*end || end == v || ms < 100 || ms > 86400000) {
			snprintf(msg, sizeof msg, "--metrics-interval wants milliseconds (100 or more), "
				 "not '%.40s'", v);
			*why = msg;
			return -1;
		}
		o->metrics_ms = (int)ms;
	}
	return 1;
}

/* Calls require(module)[fn] with the table or string on top as its one
 * argument, under the watchdog. 0, or -1 with the error (or the nil,
 * message it returned) in e. */
static int call_module(struct host *h, const char *module, const char *fn, struct rpmsg_err *e)
{
	lua_State *L = h->L;
	int top = lua_gettop(L) - 1;
	lua_getglobal(L, "require");
	lua_pushstring(L, module);
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		rpmsg_fail(e, EINVAL, "%s", lua_tostring(L, -1));
		lua_settop(L, top);
		return -1;
	}
	lua_getfield(L, -1, fn);
	lua_remove(L, -2);
	lua_rotate(L, top + 1, 1);   /* fn below its argument */
	char what[64];
	snprintf(what, sizeof what, "%s.%s", module, fn);
	int status = rpmsg_host_pcall(L, 1, 2, what);
	int r = 0;
	if (status != LUA_OK) {
		rpmsg_fail(e, EINVAL, "%s", lua_tostring(L, -1));
		r = -1;
	} else if (!lua_toboolean(L, -2)) {
		const char *msg = lua_tostring(L, -1);
		rpmsg_fail(e, EIO, "%s", msg ? msg : "failed");
		r = -1;
	}
	lua_settop(L, top);
	return r;
}

static void write_metrics(struct loop_timer *t)
{
	(void)t;
	struct rpmsg_err e;
	lua_pushstring(metrics.h->L, metrics.path);
	if (call_module(metrics.h, "rpmsg.observe", "write_metrics", &e) < 0) {
		if (strcmp(e.msg, metrics.last_error))
			rpmsg_logf("metrics: %s", e.msg);
		snprintf(metrics.last_error, sizeof metrics.last_error, "%s", e.msg);
	} else {
		metrics.last_error[0] = 0;
	}
	if (t && loop_timer_start(metrics.h->loop, &metrics.timer, (uint64_t)metrics.every_ms, 0, &e) < 0)
		rpmsg_logf("metrics: %s: %s is no longer written", e.msg, metrics.path);
}

static int start_trace(struct host *h, const struct observe_opts *o, struct rpmsg_err *e)
{
	lua_State *L = h->L;
	lua_createtable(L, 0, 3);
	if (o->trace) {
		lua_pushstring(L, o->trace_file ? o->trace_file : "-");
		lua_setfield(L, -2, "file");
	}
	if (o->trace_pcap) {
		lua_pushstring(L, o->trace_pcap);
		lua_setfield(L, -2, "pcap");
	}
	if (o->trace_time) {
		lua_pushstring(L, o->trace_time);
		lua_setfield(L, -2, "time");
	}
	lua_getglobal(L, "require");
	lua_pushliteral(L, "rpmsg");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		rpmsg_fail(e, EINVAL, "%s", lua_tostring(L, -1));
		lua_pop(L, 2);
		return -1;
	}
	lua_getfield(L, -1, "trace");
	lua_remove(L, -2);
	lua_insert(L, -2);
	int r = 0;
	if (lua_pcall(L, 1, 2, 0) != LUA_OK || !lua_toboolean(L, -2)) {
		const char *msg = lua_tostring(L, -1);
		r = rpmsg_fail(e, EINVAL, "%s", msg ? msg : "cannot start the trace");
	}
	lua_pop(L, 2);
	return r;
}

int observe_start(struct host *h, const struct observe_opts *o, struct rpmsg_err *e)
{
	if ((o->trace || o->trace_pcap) && start_trace(h, o, e) < 0)
		return -1;
	if (!o->metrics)
		return 0;
	metrics.h = h;
	metrics.path = o->metrics;
	metrics.every_ms = o->metrics_ms ? o->metrics_ms : METRICS_DEFAULT_MS;
	loop_timer_init(&metrics.timer, write_metrics, NULL);
	lua_pushstring(h->L, o->metrics);
	if (call_module(h, "rpmsg.observe", "write_metrics", e) < 0) {
		metrics.h = NULL;
		return -1;
	}
	if (loop_timer_start(h->loop, &metrics.timer, (uint64_t)metrics.every_ms, 0, e) < 0) {
		metrics.h = NULL;
		return -1;
	}
	return 0;   /* a host with --metrics, like one with --console, runs until stopped */
}

void observe_stop(void)
{
	if (!metrics.h)
		return;
	loop_timer_stop(metrics.h->loop, &metrics.timer);
	write_metrics(NULL);
	metrics.h = NULL;
}
