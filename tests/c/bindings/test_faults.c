/* SPDX-License-Identifier: MIT */
/* Failures that are hard to provoke from outside, injected by wrapping the
 * calls (the Makefile links this test with -Wl,--wrap=...): each must be
 * reported with its own cause, and nothing queued may be lost without a word.
 * Drives the `rpmsg` module through a Lua state, as a script would. */
#include "device_sim.h"
#include "lrpmsg_host.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* errno each wrapped call fails with; 0 lets it through. */
static int fail_setsockopt, fail_setfl, fail_outq, fail_timer;

int __real_setsockopt(int fd, int level, int name, const void *value, socklen_t len);
int __wrap_setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	if (fail_setsockopt) {
		errno = fail_setsockopt;
		return -1;
	}
	return __real_setsockopt(fd, level, name, value, len);
}

int __real_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	if (fail_setfl && cmd == F_SETFL) {
		errno = fail_setfl;
		return -1;
	}
	return __real_fcntl(fd, cmd, arg);
}
/* Built with 64-bit file offsets (the Makefile), glibc's <fcntl.h> turns the
 * runtime's fcntl calls into fcntl64: wrapped the same. */
int __wrap_fcntl64(int fd, int cmd, ...) __attribute__((alias("__wrap_fcntl")));

int __real_outq_push(void *q, const void *data, size_t len);
int __wrap_outq_push(void *q, const void *data, size_t len)
{
	return fail_outq ? -fail_outq : __real_outq_push(q, data, len);
}

struct rpmsg_err;
int __real_loop_timer_start(struct loop *loop, struct loop_timer *t, uint64_t delay_ms,
			    uint64_t period_ms, struct rpmsg_err *e);
int __wrap_loop_timer_start(struct loop *loop, struct loop_timer *t, uint64_t delay_ms,
			    uint64_t period_ms, struct rpmsg_err *e)
{
	if (fail_timer)
		return rpmsg_fail(e, fail_timer, "out of memory for a timer");
	return __real_loop_timer_start(loop, t, delay_ms, period_ms, e);
}

/* fault(name, errno): from Lua, so a chunk can fail a call half-way. */
static int l_fault(lua_State *L)
{
	const char *what = luaL_checkstring(L, 1);
	int err = (int)luaL_optinteger(L, 2, 0);
	if (!strcmp(what, "setsockopt"))
		fail_setsockopt = err;
	else if (!strcmp(what, "setfl"))
		fail_setfl = err;
	else if (!strcmp(what, "outq"))
		fail_outq = err;
	else if (!strcmp(what, "timer"))
		fail_timer = err;
	else
		return luaL_error(L, "no fault '%s'", what);
	return 0;
}

static lua_State *new_state(struct loop *loop, struct rpmsg_backend *backend)
{
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	if (loop)
		rpmsg_host_configure(L, loop, backend);
	luaL_requiref(L, "rpmsg", luaopen_rpmsg, 1);
	lua_pop(L, 1);
	lua_register(L, "fault", l_fault);
	lua_pushinteger(L, EPERM);
	lua_setglobal(L, "EPERM");
	lua_pushinteger(L, ENOMEM);
	lua_setglobal(L, "ENOMEM");
	return L;
}

/* Runs a chunk that returns a string; returns it (or the error). */
static const char *run(lua_State *L, const char *code)
{
	lua_settop(L, 0);
	if (luaL_dostring(L, code) != LUA_OK)
		return lua_tostring(L, -1);
	return lua_isstring(L, -1) ? lua_tostring(L, -1) : "(no string returned)";
}

/* stderr goes to a file while `fn` runs; the file's text is returned. */
static char logged[8192];
static FILE *capture_start(int *saved)
{
	fflush(stderr);
	FILE *f = tmpfile();
	*saved = dup(2);
	dup2(fileno(f), 2);
	return f;
}
static const char *capture_end(FILE *f, int saved)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t n = fread(logged, 1, sizeof logged - 1, f);
	logged[n] = '\0';
	fclose(f);
	return logged;
}

static void module_faults(void)
{
	lua_State *L = new_state(NULL, NULL);
	const char *r;

	r = run(L, "fault('setsockopt', EPERM)\n"
		   "local a, err, code = rpmsg.pair()\n"
		   "fault('setsockopt', 0)\n"
		   "return tostring(a) .. '|' .. err .. '|' .. code");
	CHECK(strstr(r, "nil|") == r && strstr(r, "|EPERM") && !strstr(r, "ENOMEM"),
	      "a failed setsockopt in rpmsg.pair is reported as itself, not as ENOMEM");
	printf("# %s\n", r);

	int sv[2];
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	char code[512];
	snprintf(code, sizeof code,
		 "fault('setfl', EPERM)\n"
		 "local ep, err, code = rpmsg.endpoint{fd = %d}\n"
		 "fault('setfl', 0)\n"
		 "return tostring(ep) .. '|' .. tostring(err) .. '|' .. tostring(code)", sv[0]);
	r = run(L, code);
	CHECK(strstr(r, "nil|") == r && strstr(r, "O_NONBLOCK") && strstr(r, "|EPERM"),
	      "an fd that cannot be made non-blocking is refused, not adopted blocking");
	printf("# %s\n", r);
	close(sv[0]);
	close(sv[1]);

	r = run(L, "a, b = rpmsg.pair()\n"
		   "a.on_close = function() end\n"
		   "fault('outq', ENOMEM)\n"
		   "local ok, err, code\n"
		   "repeat ok, err, code = a:send('x') until not ok\n"
		   "fault('outq', 0)\n"
		   "return err .. '|' .. code");
	CHECK(strstr(r, "|ENOMEM") && !strstr(r, "already wait"),
	      "a send queue out of memory says so, not that the queue is full");
	printf("# %s\n", r);

	r = run(L, "local c, d = rpmsg.pair()\n"
		   "while c:send('full') do end\n"
		   "c.on_close = function() end\n"
		   "fault('timer', ENOMEM)\n"
		   "local ok, err, code = c:send('y')\n"
		   "fault('timer', 0)\n"
		   "c:close(); d:close()\n"
		   "return tostring(ok) .. '|' .. tostring(err) .. '|' .. tostring(code)");
	CHECK(strstr(r, "nil|") == r && strstr(r, "|ENOMEM"),
	      "a send that cannot arm its retry timer fails instead of waiting forever");
	printf("# %s\n", r);

	/* The retry timer fires, meets EAGAIN, and cannot be armed again. */
	int saved;
	FILE *f = capture_start(&saved);
	r = run(L, "local n = 0\n"
		   "while a:send('z') do n = n + 1 end\n"
		   "rpmsg.after(30, function() rpmsg.stop() end)\n"
		   "rpmsg.after(1, function() fault('timer', ENOMEM) end)\n"
		   "rpmsg.run()\n"
		   "fault('timer', 0)\n"
		   "return tostring(a:close())");
	const char *log = capture_end(f, saved);
	CHECK(strstr(log, "queued messages unsent"),
	      "queued messages whose retry cannot be armed are reported, not kept silently");
	printf("# %s# close: %s\n", log, r);
	run(L, "b:close() return ''");
	lua_close(L);
}

static void stop_loop(struct loop_timer *t) { loop_stop(t->ctx); }

static void recovery_faults(void)
{
	struct rpmsg_err e;
	struct loop *loop = loop_new(&e);
	struct rpmsg_sim *sim = rpmsg_sim_new();
	lua_State *app = new_state(loop, rpmsg_sim_backend(sim, RPMSG_SIM_HOST));
	lua_State *fw = new_state(loop, rpmsg_sim_backend(sim, RPMSG_SIM_REMOTE));
	run(app, "ep = assert(rpmsg.endpoint{name = 'app', src = 1024, dst = 1025})\n"
		 "ep.on_message = function() end\n"
		 "return ''");
	run(fw, "ep = assert(rpmsg.endpoint{name = 'fw', src = 1025, dst = 1024})\n"
		"ep:close()\n"
		"return ''");
	struct loop_timer stop;
	loop_timer_init(&stop, stop_loop, loop);
	loop_timer_start(loop, &stop, 50, 0, &e);
	fail_timer = ENOMEM;
	int saved;
	FILE *f = capture_start(&saved);
	loop_run(loop);
	const char *log = capture_end(f, saved);
	fail_timer = 0;
	CHECK(strstr(log, "recovery") && strstr(log, "out of memory for a timer"),
	      "recovery that cannot arm its timer says so");
	printf("# %s", log);
	lua_close(app);
	lua_close(fw);
	rpmsg_sim_free(sim);
	loop_free(loop);
}

int main(void)
{
	module_faults();
	recovery_faults();
	return tap_done();
}
