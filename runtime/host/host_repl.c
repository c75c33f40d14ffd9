/* SPDX-License-Identifier: MIT */
/* The C side of REPL sessions: builds rpmsg.repl sessions whose write goes to
 * a channel (the caller's writer), whose env is the running generation's, and
 * whose chunks run under the watchdog. */
#include "host_repl.h"
#include "lrpmsg_host.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANNEL_TYPE "rpmsg-lua.channel"

static bool plain_values;

void repl_plain_values(bool plain) { plain_values = plain; }

static void channel_write(struct repl_channel *c, const char *p, size_t len)
{
	if (c->write && len > 0)
		c->write(c->ctx, p, len);
}

static int session_write_method(lua_State *L)
{
	struct repl_channel *c = luaL_checkudata(L, lua_upvalueindex(1), CHANNEL_TYPE);
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	channel_write(c, text, len);
	lua_pushboolean(L, c->write != NULL);   /* false once the session closed: a trace listener goes */
	return 1;
}

static int session_env_method(lua_State *L)
{
	struct host *h = lua_touserdata(L, lua_upvalueindex(1));
	lua_rawgeti(L, LUA_REGISTRYINDEX, h->env_ref);
	return 1;
}

static int repl_run(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_settop(L, 1);
	if (rpmsg_host_pcall(L, 0, LUA_MULTRET, "console chunk") != LUA_OK) {
		lua_pushboolean(L, 0);
		lua_insert(L, -2);
		return 2;
	}
	lua_pushboolean(L, 1);
	lua_insert(L, 1);
	return lua_gettop(L);
}

/* Calls session:method(args...) in protected mode and keeps the prompt. */
static void call_method(struct repl_session *s, const char *method, const char *arg, size_t len)
{
	lua_State *L = s->h->L;
	int top = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref);
	lua_getfield(L, -1, method);
	lua_insert(L, -2);
	int nargs = 1;
	if (arg) {
		lua_pushlstring(L, arg, len);
		nargs++;
	}
	if (lua_pcall(L, nargs, 1, 0) != LUA_OK)
		rpmsg_logf("REPL: %s", lua_tostring(L, -1));
	else if (lua_isstring(L, -1))
		snprintf(s->prompt, sizeof s->prompt, "%s", lua_tostring(L, -1));
	lua_settop(L, top);
}

int repl_open(struct repl_session *s, struct host *h, repl_write_fn write, void *ctx)
{
	lua_State *L = h->L;
	memset(s, 0, sizeof *s);
	s->h = h;
	snprintf(s->prompt, sizeof s->prompt, "> ");
	lua_getglobal(L, "require");
	lua_pushliteral(L, "rpmsg.repl");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		rpmsg_logf("REPL: %s", lua_tostring(L, -1));
		lua_pop(L, 1);
		return -1;
	}
	lua_getfield(L, -1, "session");
	lua_remove(L, -2);
	lua_createtable(L, 0, 4);
	lua_pushboolean(L, plain_values);
	lua_setfield(L, -2, "plain");
	s->chan = lua_newuserdatauv(L, sizeof *s->chan, 0);
	s->chan->write = write;
	s->chan->ctx = ctx;
	if (luaL_newmetatable(L, CHANNEL_TYPE)) {
		/* nothing to free: the writer belongs to whoever opened the session */
	}
	lua_setmetatable(L, -2);
	lua_pushcclosure(L, session_write_method, 1);
	lua_setfield(L, -2, "write");
	lua_pushlightuserdata(L, h);
	lua_pushcclosure(L, session_env_method, 1);
	lua_setfield(L, -2, "env");
	lua_pushcfunction(L, repl_run);
	lua_setfield(L, -2, "run");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		rpmsg_logf("REPL: %s", lua_tostring(L, -1));
		lua_pop(L, 1);
		return -1;
	}
	s->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

void repl_feed(struct repl_session *s, const char *line, size_t len)
{
	call_method(s, "feed", line, len);
}

void repl_take_line(struct repl_session *s, enum line_kind kind, const char *line, size_t len)
{
	char why[96];
	switch (kind) {
	case LINE_OK:
		repl_feed(s, line, len);
		return;
	case LINE_TOO_LONG:
		snprintf(why, sizeof why, "line too long (over %d bytes), ignored\n", REPL_LINE_MAX);
		break;
	case LINE_HAS_NUL:
		snprintf(why, sizeof why, "line has a NUL byte, ignored\n");
		break;
	}
	repl_write(s, why);
}

char **repl_complete(struct repl_session *s, const char *word)
{
	lua_State *L = s->h->L;
	int top = lua_gettop(L);
	char **list = NULL;
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->ref);
	lua_getfield(L, -1, "complete");
	lua_insert(L, -2);
	lua_pushstring(L, word);
	if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
		rpmsg_logf("REPL completion: %s", lua_tostring(L, -1));
	} else if (lua_istable(L, -1)) {
		size_t n = (size_t)luaL_len(L, -1);
		list = n ? calloc(n + 1, sizeof *list) : NULL;
		for (size_t i = 0; list && i < n; i++) {
			lua_rawgeti(L, -1, (lua_Integer)i + 1);
			const char *w = lua_tostring(L, -1);
			list[i] = strdup(w ? w : "");
			lua_pop(L, 1);
			if (!list[i]) {
				repl_free_completions(list);
				list = NULL;
			}
		}
	}
	lua_settop(L, top);
	return list;
}

void repl_free_completions(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

void repl_cancel(struct repl_session *s) { call_method(s, "cancel", NULL, 0); }

void repl_write(struct repl_session *s, const char *text)
{
	channel_write(s->chan, text, strlen(text));
}

void repl_close(struct repl_session *s)
{
	if (!s->chan)
		return;
	s->chan->write = NULL;
	s->chan->ctx = NULL;
	luaL_unref(s->h->L, LUA_REGISTRYINDEX, s->ref);
	s->chan = NULL;
}
