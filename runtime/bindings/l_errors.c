/* SPDX-License-Identifier: MIT */
/* Handler errors: raised from rpmsg.run{raise_errors = true}, or logged,
 * the first few of each second per source (the `what` label) and the rest
 * counted, so a remote that makes a handler fail at will cannot flood the
 * log. Below the protected-call path (l_guard.c), which reports here. */
#include "log.h"
#include "lrpmsg.h"

#include <stdio.h>
#include <string.h>

#define ERRORS_PER_SECOND 5    /* lines per source and second; the rest are counted */
#define ERROR_SOURCES 8        /* sources tracked at once; the least recent gives way */

/* Per source (the `what` label): the first few errors of each second are
 * logged, the rest counted. */
struct rpmsg_error_source {
	char what[96];
	uint64_t window_ms;       /* start of the current one-second window */
	unsigned logged;          /* lines written in that window */
	unsigned long unlogged;   /* errors counted, not yet reported */
};

struct rpmsg_error_log {
	struct rpmsg_error_source sources[ERROR_SOURCES];
	unsigned long not_logged;   /* all errors only counted, ever */
};

struct rpmsg_error_log *rpmsg_errors_new(lua_State *L)
{
	struct rpmsg_error_log *log = lua_newuserdatauv(L, sizeof *log, 0);
	memset(log, 0, sizeof *log);
	return log;
}

unsigned long rpmsg_errors_not_logged(const struct rpmsg_runtime *rt)
{
	return rt->errors->not_logged;
}

/* Under rpmsg.run{raise_errors = true} (specs, a stock lua5.4), the first
 * handler error ends the run and is raised from it instead of being logged. */
static bool error_raise_from_run(struct rpmsg_runtime *rt, const char *what, const char *trace)
{
	if (!rt->raise_errors || !rt->in_run)
		return false;
	if (rt->raised_ref == LUA_NOREF) {
		lua_pushfstring(rt->L, "error in %s: %s", what, trace);
		rt->raised_ref = luaL_ref(rt->L, LUA_REGISTRYINDEX);
		loop_stop(rt->loop);
	}
	return true;
}

static void error_report_unlogged(struct rpmsg_error_source *s)
{
	if (s->unlogged)
		rpmsg_log(RPMSG_LOG_ERR,
			  "(error in %s repeated %lu more times, not logged: at most %d a second are)",
			  s->what, s->unlogged, ERRORS_PER_SECOND);
	s->unlogged = 0;
}

/* The record of this source, or the least recently used one, reported and
 * taken over. */
static struct rpmsg_error_source *error_source_of(struct rpmsg_error_log *log, const char *what)
{
	struct rpmsg_error_source *oldest = &log->sources[0];
	for (size_t i = 0; i < ERROR_SOURCES; i++) {
		struct rpmsg_error_source *s = &log->sources[i];
		if (strncmp(s->what, what, sizeof s->what - 1) == 0)
			return s;
		if (s->window_ms < oldest->window_ms)
			oldest = s;
	}
	error_report_unlogged(oldest);
	memset(oldest, 0, sizeof *oldest);
	snprintf(oldest->what, sizeof oldest->what, "%s", what);
	return oldest;
}

void rpmsg_report_error(struct rpmsg_runtime *rt, const char *what, const char *trace)
{
	if (error_raise_from_run(rt, what, trace))
		return;
	struct rpmsg_error_source *s = error_source_of(rt->errors, what);
	uint64_t now = rpmsg_now_ms();
	if (now - s->window_ms >= 1000) {
		error_report_unlogged(s);
		s->window_ms = now;
		s->logged = 0;
	}
	if (s->logged == ERRORS_PER_SECOND) {
		s->unlogged++;
		rt->errors->not_logged++;
		return;
	}
	s->logged++;
	rpmsg_log(RPMSG_LOG_ERR, "error in %s: %s", what, trace);
}

/* Writes what each source still holds back: at the runtime's end. */
void rpmsg_errors_flush(struct rpmsg_runtime *rt)
{
	for (size_t i = 0; i < ERROR_SOURCES; i++)
		error_report_unlogged(&rt->errors->sources[i]);
}
