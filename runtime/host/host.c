/* SPDX-License-Identifier: MIT */
/* Script states and generations. The transaction: begin a generation, load
 * and run the new chunk in a fresh environment under the watchdog, then
 * either commit (on_unload of the old one, its timers and undeclared
 * endpoints go, adopted endpoints take the new handlers) or abort (whatever
 * the new chunk made goes, the local modules are put back). */
#include "host.h"
#include "host_lua.h"
#include "host_notify.h"
#include "host_state.h"
#include "log.h"
#include "lrpmsg_host.h"

#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETTLE_MS 100

static int set_dir(struct host *h)
{
	const char *slash = h->script ? strrchr(h->script, '/') : NULL;
	if (!slash)
		h->dir = strdup(".");
	else if (slash == h->script)
		h->dir = strdup("/");
	else
		h->dir = strndup(h->script, (size_t)(slash - h->script));
	return h->dir ? 0 : -1;
}

struct setup {
	struct host *h;
	struct rpmsg_backend *backend;
	int argc;
	char **argv;
	int timeout_ms;
};

/* Everything that builds the state can raise (out of memory at least), so
 * it runs under lua_pcall, as lua.c's pmain does. */
static int setup_state(lua_State *L)
{
	const struct setup *s = lua_touserdata(L, 1);
	struct host *h = s->h;
	luaL_openlibs(L);
	rpmsg_host_configure(L, h->loop, s->backend);
	luaL_requiref(L, "rpmsg", luaopen_rpmsg, 0);
	lua_pop(L, 1);
	rpmsg_host_set_handler_timeout(L, s->timeout_ms);
	host_lua_preload(L);   /* rpmsg.repl for the REPL, the library modules */

	/* The script's folder first on package.path, for its own modules. */
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/?.lua;", h->dir);
	lua_getfield(L, -2, "path");
	lua_concat(L, 2);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);

	/* arg[0] is the script, arg[1..] what follows it, as in lua.c */
	lua_createtable(L, s->argc, 1);
	lua_pushstring(L, h->script ? h->script : "");
	lua_rawseti(L, -2, 0);
	for (int i = 0; i < s->argc; i++) {
		lua_pushstring(L, s->argv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_pushvalue(L, -1);
	lua_setglobal(L, "arg");
	h->arg_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

int host_init(struct host *h, struct loop *loop, struct rpmsg_backend *backend,
	      const char *script, int argc, char **argv, int timeout_ms)
{
	memset(h, 0, sizeof *h);
	h->loop = loop;
	h->script = script;
	h->env_ref = h->arg_ref = h->helpers_ref = LUA_NOREF;
	loop_timer_init(&h->settle, NULL, h);
	lua_State *L = NULL;
	if (set_dir(h) == 0)
		L = h->L = host_newstate();
	if (!L) {
		host_close(h);
		fprintf(stderr, "rpmsg-lua: out of memory (no Lua state)\n");
		return -1;
	}
	struct setup s = { h, backend, argc, argv, timeout_ms };
	lua_pushcfunction(L, setup_state);
	lua_pushlightuserdata(L, &s);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		const char *err = lua_tostring(L, -1);
		fprintf(stderr, "rpmsg-lua: cannot set up the Lua state: %s\n", err ? err : "?");
		host_close(h);
		return -1;
	}
	return 0;
}

static int load_helpers(lua_State *L)
{
	host_lua_load(L, "rpmsg.host");
	return 1;
}

/* Calls rpmsg.host[fn] (the reload helpers, straight from their file: a
 * script may replace package.loaded["rpmsg.host"], but not what reload
 * calls) with nargs arguments from the stack, protected and under the
 * watchdog. The file is compiled at the first reload, not at start-up
 * (its 1 KiB took 0.17 million instructions, an eighth of the start). Leaves
 * one result, or the error; returns the status. */
static int call_helper(struct host *h, const char *fn, int nargs)
{
	lua_State *L = h->L;
	if (h->helpers_ref == LUA_NOREF) {
		lua_pushcfunction(L, load_helpers);
		int status = lua_pcall(L, 0, 1, 0);
		if (status != LUA_OK) {
			lua_rotate(L, -1 - nargs, 1);   /* the error in place of the arguments */
			lua_settop(L, lua_gettop(L) - nargs);
			return status;
		}
		h->helpers_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, h->helpers_ref);
	lua_getfield(L, -1, fn);
	lua_remove(L, -2);
	lua_insert(L, -1 - nargs);
	char what[64];
	snprintf(what, sizeof what, "the reload helper %s", fn);
	return rpmsg_host_pcall(L, nargs, 1, what);
}

/* The error on top of the stack failed the load of generation gen: report
 * it, drop what the load made, put back the modules it removed (removed is
 * their table's index, 0 if it got no further). */
static int load_failed(struct host *h, bool first, int gen, int top, int removed, int status)
{
	lua_State *L = h->L;
	const char *err = lua_tostring(L, -1);
	if (!err)
		err = "(error object is not a string)";
	if (first)
		fprintf(stderr, "rpmsg-lua: %s\n", err);
	else
		rpmsg_log(RPMSG_LOG_ERR, "reload of %s failed, generation %d keeps running: %s",
			  h->script, gen - 1, err);
	snprintf(h->reload_error, sizeof h->reload_error, "%s", err);
	rpmsg_generation_abort(L);
	if (removed) {
		lua_pushvalue(L, removed);
		if (call_helper(h, "restore_modules", 1) != LUA_OK)
			rpmsg_logf("after the failed load of %s, its modules could not be put back: %s",
				   h->script, lua_tostring(L, -1));
	}
	lua_settop(L, top);
	return status;
}

static void call_on_unload(struct host *h)
{
	lua_State *L = h->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, h->env_ref);
	if (lua_getfield(L, -1, "on_unload") == LUA_TFUNCTION) {
		if (rpmsg_host_pcall(L, 0, 0, "on_unload") != LUA_OK) {
			rpmsg_logf("error in on_unload: %s", lua_tostring(L, -1));
			lua_pop(L, 1);
		}
	} else {
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* A fresh global environment for one generation: reads fall through to the
 * shared globals, writes stay in the generation. */
static int new_env(lua_State *L)
{
	lua_createtable(L, 0, 1);
	lua_pushvalue(L, 1);
	lua_setfield(L, -2, "arg");
	lua_createtable(L, 0, 1);
	lua_pushglobaltable(L);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	return 1;
}

int host_load(struct host *h)
{
	lua_State *L = h->L;
	int top = lua_gettop(L);
	bool first = h->env_ref == LUA_NOREF;

	int gen = rpmsg_generation_begin(L);
	int status, removed = 0;
	/* Before the first attempt the state has loaded nothing from the
	 * script's folder: no search of it for every loaded module's name
	 * (a failed open each) at start-up. After a failed attempt, there may
	 * be something to drop. */
	if (gen > 1 || h->reload_error[0]) {
		lua_pushstring(L, h->dir);
		status = call_helper(h, "unload_local_modules", 1);
		if (status != LUA_OK)
			return load_failed(h, first, gen, top, 0, status);
		removed = lua_gettop(L);
	}
	lua_pushcfunction(L, new_env);
	lua_rawgeti(L, LUA_REGISTRYINDEX, h->arg_ref);
	status = rpmsg_host_pcall(L, 1, 1, "the new generation's environment");
	if (status != LUA_OK)
		return load_failed(h, first, gen, top, removed, status);
	int env = lua_gettop(L);

	/* The label on Lua's stack, not a PATH_MAX array on ours. */
	const char *what = lua_pushfstring(L, "%s (top level)", h->script ? h->script : "REPL");
	/* No script (rpmsg-lua -i alone): an empty generation for the REPL. */
	status = h->script ? luaL_loadfilex(L, h->script, "bt") : luaL_loadstring(L, "");
	if (status == LUA_OK) {
		lua_pushvalue(L, env);
		lua_setupvalue(L, -2, 1);   /* the chunk's _ENV */
		status = rpmsg_host_pcall(L, 0, 0, what);
	}
	if (status != LUA_OK)
		return load_failed(h, first, gen, top, removed, status);
	if (!first)
		call_on_unload(h);
	rpmsg_generation_commit(L);
	h->generation = gen;
	h->reload_error[0] = '\0';
	luaL_unref(L, LUA_REGISTRYINDEX, h->env_ref);
	lua_pushvalue(L, env);
	h->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	if (!first)
		rpmsg_logf("reloaded %s (generation %d)", h->script, gen);
	lua_settop(L, top);
	return LUA_OK;
}

static void host_prepare(void *ctx)
{
	struct host *h = ctx;
	if (rpmsg_host_take_reload_request(h->L))
		h->reload_wanted = true;
	if (!h->reload_wanted)
		return;
	h->reload_wanted = false;
	notify_reloading();
	host_load(h);
	notify_reloaded(h);
}

static void host_hangup(int signo, void *ctx)
{
	(void)signo;
	((struct host *)ctx)->reload_wanted = true;
}

static void settled(struct loop_timer *t)
{
	((struct host *)t->ctx)->reload_wanted = true;
}

static void file_changed(const char *name, void *ctx)
{
	struct host *h = ctx;
	size_t n = strlen(name);
	if (n < 4 || strcmp(name + n - 4, ".lua") != 0)
		return;   /* editor swap files, backups */
	struct rpmsg_err e;
	if (loop_timer_start(h->loop, &h->settle, SETTLE_MS, 0, &e) < 0) {
		rpmsg_logf("reloading without waiting for the edits to settle: %s", e.msg);
		h->reload_wanted = true;
	}
}

int host_enable_reload(struct host *h, struct rpmsg_err *e)
{
	if (!h->script)
		return 0;
	h->settle.fn = settled;
	loop_set_prepare(h->loop, host_prepare, h);
	int r = loop_signal(h->loop, SIGHUP, host_hangup, h, e);
	if (r < 0)
		return r;
	return dirwatch_start(h->loop, &h->files, h->dir, false, file_changed, h, e);
}

void host_close(struct host *h)
{
	free(h->dir);
	h->dir = NULL;
	if (!h->L)
		return;
	dirwatch_stop(h->loop, &h->files);
	loop_timer_stop(h->loop, &h->settle);
	/* Closing the state destroys the endpoints the script created. */
	host_closestate(h->L);
	h->L = NULL;
}
