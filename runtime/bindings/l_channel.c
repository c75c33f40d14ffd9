/* SPDX-License-Identifier: MIT */
/* Channels in Lua: a channel as a table, rpmsg.on_announce(fn), and tasks
 * waiting in rpmsg.endpoint{service = ...} for an announcement. One watch
 * per state: the backend's channel-event fd (kernel uevents, or the
 * simulation's eventfd) in the loop, no polling; at each event the channels
 * are listed again and compared with the last listing. */
#include "lrpmsg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_TYPE "rpmsg.channel_watch"
#define FALLBACK_MS 250   /* a task's look at the channels when nothing tells of changes */

static const char WATCH_KEY = 'c';

struct channel_watch {
	struct loop_io io;
	struct rpmsg_runtime *rt;
	int fd;                        /* -1 while not watching */
	struct rpmsg_channel *known;   /* the last listing */
	size_t n_known;
	bool warned;                   /* said that it cannot watch */
};

/* User values: the on_announce function, the tasks waiting for a service. */
enum { WATCH_FN = 1, WATCH_WAITERS = 2 };

static void set_string(lua_State *L, const char *field, const char *value)
{
	if (!value[0])
		return;
	lua_pushstring(L, value);
	lua_setfield(L, -2, field);
}

static void set_integer(lua_State *L, const char *field, lua_Integer value)
{
	lua_pushinteger(L, value);
	lua_setfield(L, -2, field);
}

void rpmsg_push_channel(lua_State *L, const struct rpmsg_channel *ch)
{
	lua_createtable(L, 0, 8);
	set_string(L, "name", ch->info.name);
	set_integer(L, "src", ch->info.src);
	set_integer(L, "dst", ch->info.dst);
	set_string(L, "bus", ch->bus);
	set_string(L, "remoteproc", ch->rproc);
	if (ch->ctrl_index >= 0)
		set_integer(L, "ctrl", ch->ctrl_index);
	set_string(L, "driver", ch->driver);
	set_string(L, "dev", ch->dev);
}

static void log_notice(const char *msg) { rpmsg_logf("%s", msg); }

void rpmsg_channel_log_notices(void) { rpmsg_set_notice_sink(log_notice); }

/* ---- the listing ----------------------------------------------------------- */

struct listing {
	struct rpmsg_channel *items;
	size_t n, cap;
	bool failed;
};

static int collect(const struct rpmsg_channel *ch, void *ctx)
{
	struct listing *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct rpmsg_channel *items = realloc(l->items, cap * sizeof *items);
		if (!items) {
			l->failed = true;
			return 1;
		}
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n++] = *ch;
	return 0;
}

static bool list_channels(struct rpmsg_runtime *rt, struct listing *l)
{
	memset(l, 0, sizeof *l);
	rpmsg_each_channel(rt->backend, collect, l);
	if (l->failed) {
		free(l->items);
		rpmsg_logf("channels: out of memory while listing them");
	}
	return !l->failed;
}

static bool listed(const struct rpmsg_channel *items, size_t n, const struct rpmsg_channel *ch)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i].bus, ch->bus) == 0 && strcmp(items[i].info.name, ch->info.name) == 0)
			return true;
	return false;
}

/* ---- the watch ------------------------------------------------------------- */

static void watch_stop(struct channel_watch *w)
{
	if (w->fd < 0)
		return;
	loop_io_stop(w->rt->loop, &w->io);
	rpmsg_channel_events_close(w->rt->backend, w->fd);
	w->fd = -1;
	free(w->known);
	w->known = NULL;
	w->n_known = 0;
}

static int watch_gc(lua_State *L)
{
	struct channel_watch *w = lua_touserdata(L, 1);
	if (w->rt->loop && w->rt->backend)
		watch_stop(w);
	return 0;
}

/* The state's watch, pushed; made on first use. */
static struct channel_watch *watch_push(lua_State *L, struct rpmsg_runtime *rt)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &WATCH_KEY) != LUA_TNIL)
		return lua_touserdata(L, -1);
	lua_pop(L, 1);
	struct channel_watch *w = lua_newuserdatauv(L, sizeof *w, 2);
	memset(w, 0, sizeof *w);
	w->rt = rt;
	w->fd = -1;
	if (luaL_newmetatable(L, WATCH_TYPE)) {
		lua_pushcfunction(L, watch_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	lua_newtable(L);
	lua_setiuservalue(L, -2, WATCH_WAITERS);
	lua_pushvalue(L, -1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &WATCH_KEY);
	return w;
}

static bool watch_has_fn(lua_State *L, int idx)
{
	bool has = lua_getiuservalue(L, idx, WATCH_FN) == LUA_TFUNCTION;
	lua_pop(L, 1);
	return has;
}

/* Calls on_announce(channel, event) for each channel that came or went. */
static void announce_changes(lua_State *L, int idx, struct channel_watch *w, struct listing *now)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct rpmsg_channel *from = pass ? w->known : now->items;
		size_t n = pass ? w->n_known : now->n;
		for (size_t i = 0; i < n; i++) {
			bool gone = pass == 1;
			if (gone ? listed(now->items, now->n, &from[i]) : listed(w->known, w->n_known, &from[i]))
				continue;
			if (lua_getiuservalue(L, idx, WATCH_FN) != LUA_TFUNCTION) {
				lua_pop(L, 1);
				return;
			}
			rpmsg_push_channel(L, &from[i]);
			lua_pushstring(L, gone ? "withdraw" : "announce");
			rpmsg_call(w->rt, 2, "rpmsg.on_announce handler");
		}
	}
}

static void service_wait_over(struct ltask *t, void *ctx);

/* Resumes every task waiting for a service: each looks again. */
static void wake_waiters(lua_State *L, int idx)
{
	lua_getiuservalue(L, idx, WATCH_WAITERS);
	lua_newtable(L);
	lua_setiuservalue(L, idx, WATCH_WAITERS);
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		struct ltask *t = lua_touserdata(L, -1);
		if (t && rpmsg_task_waits_in(t, service_wait_over, NULL)) {
			rpmsg_task_unblock(t);
			rpmsg_task_resume(t, 0);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

static void watch_ready(struct loop_io *io, uint32_t events)
{
	(void)events;
	struct channel_watch *w = io->ctx;
	struct rpmsg_runtime *rt = w->rt;
	if (!rpmsg_channel_events_read(rt->backend, w->fd))
		return;
	lua_State *L = rt->L;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &WATCH_KEY);   /* held while handlers run */
	int idx = lua_gettop(L);
	struct listing now;
	if (list_channels(rt, &now)) {
		struct rpmsg_channel *old = w->known;
		announce_changes(L, idx, w, &now);
		if (w->known == old) {   /* still watching after the handlers */
			free(w->known);
			w->known = now.items;
			w->n_known = now.n;
		} else {
			free(now.items);
		}
	}
	wake_waiters(L, idx);
	lua_getiuservalue(L, idx, WATCH_WAITERS);
	if (w->fd >= 0 && !watch_has_fn(L, idx) && lua_rawlen(L, -1) == 0)
		watch_stop(w);   /* nobody listens any more */
	lua_settop(L, idx - 1);
}

/* Watches, weak unless an on_announce function keeps the loop running. */
static int watch_start(lua_State *L, int idx, struct channel_watch *w, struct rpmsg_err *e)
{
	bool weak = !watch_has_fn(L, idx);
	if (w->fd >= 0 && w->io.weak == weak)
		return 0;
	if (w->fd >= 0) {   /* the other kind: start again */
		loop_io_stop(w->rt->loop, &w->io);
		w->io.weak = weak;
		return loop_io_start(w->rt->loop, &w->io, w->fd, LOOP_IN, watch_ready, w, e);
	}
	int fd = rpmsg_channel_events_open(w->rt->backend, e);
	if (fd < 0)
		return fd;
	struct listing now;
	if (!list_channels(w->rt, &now)) {
		rpmsg_channel_events_close(w->rt->backend, fd);
		return rpmsg_fail(e, ENOMEM, "out of memory");
	}
	w->io.weak = weak;
	int r = loop_io_start(w->rt->loop, &w->io, fd, LOOP_IN, watch_ready, w, e);
	if (r < 0) {
		free(now.items);
		rpmsg_channel_events_close(w->rt->backend, fd);
		return r;
	}
	w->fd = fd;
	w->known = now.items;
	w->n_known = now.n;
	return 0;
}

/* rpmsg.on_announce(fn or nil): fn(channel, "announce" | "withdraw") for
 * each change from now on. */
int rpmsg_l_on_announce(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	if (!lua_isnil(L, 1))
		luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_settop(L, 1);
	struct channel_watch *w = watch_push(L, rt);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, 2, WATCH_FN);
	struct rpmsg_err e;
	if (lua_isnil(L, 1)) {
		lua_getiuservalue(L, 2, WATCH_WAITERS);
		if (lua_rawlen(L, -1) == 0)
			watch_stop(w);
		else if (watch_start(L, 2, w, &e) < 0)
			return rpmsg_push_error(L, &e);
		lua_pushboolean(L, 1);
		return 1;
	}
	if (watch_start(L, 2, w, &e) < 0) {
		lua_pushnil(L);
		lua_setiuservalue(L, 2, WATCH_FN);
		return rpmsg_push_error(L, &e);
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- tasks waiting for a service -------------------------------------------- */

static void service_wait_over(struct ltask *t, void *ctx)
{
	(void)ctx;
	rpmsg_task_resume(t, 0);   /* the continuation sees the deadline has passed */
}

int rpmsg_channel_wait(lua_State *L, struct rpmsg_runtime *rt, uint64_t deadline_ms,
		       lua_KContext kctx, lua_KFunction k)
{
	struct ltask *t = rpmsg_task_current(L);
	uint64_t now = rpmsg_now_ms();
	if (!t || now >= deadline_ms)
		return 0;
	int top = lua_gettop(L);
	struct channel_watch *w = watch_push(L, rt);
	struct rpmsg_err e;
	if (watch_start(L, top + 1, w, &e) < 0) {
		/* no uevents here (a container's network namespace): look again
		 * now and then, the one poll in this file */
		if (!w->warned)
			rpmsg_logf("waiting for a service: %s; looking again every %d ms instead", e.msg,
				   FALLBACK_MS);
		w->warned = true;
		lua_settop(L, top);
		uint64_t left = deadline_ms - now;
		return rpmsg_task_block_k(L, t, (int64_t)(left < FALLBACK_MS ? left : FALLBACK_MS),
					  service_wait_over, NULL, kctx, k);
	}
	lua_getiuservalue(L, top + 1, WATCH_WAITERS);
	rpmsg_push_anchored(L, t);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_settop(L, top);
	return rpmsg_task_block_k(L, t, (int64_t)(deadline_ms - now), service_wait_over, NULL, kctx, k);
}
