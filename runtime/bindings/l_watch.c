/* SPDX-License-Identifier: MIT */
/* rpmsg.watch(fd, fn [, "r"|"w"|"rw"]): a script's own fd in the loop, so it
 * can bridge a socket or a UART. fn(fd, events) gets a string of the events
 * seen: "r" readable, "w" writable, "e" error or hang-up.
 *
 * The loop watches a copy of the fd that the watch owns, not the script's
 * number: epoll keeps a registration while any fd refers to the file, so
 * once the script closed its number (a child, a dup, still holding the
 * file) the registration could never be removed, and its events would come
 * for a watch long freed. */
#include "lrpmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct lwatch {
	struct loop_io io;            /* first: the loop hands back this pointer */
	struct rpmsg_runtime *rt;
	int gen;
	int fd;                       /* the script's number, as fn and tostring show it */
	int own;                      /* our copy, the one the loop watches; -1 once let go */
};

/* Stops watching (if the loop is still there) and closes our copy. */
static void watch_release(struct lwatch *w, bool loop_alive)
{
	if (loop_alive)
		loop_io_stop(w->rt->loop, &w->io);
	if (w->own >= 0) {
		close(w->own);
		w->own = -1;
	}
}

static void watch_ready(struct loop_io *io, uint32_t events)
{
	struct lwatch *w = (struct lwatch *)io;
	lua_State *L = w->rt->L;
	rpmsg_push_anchored(L, w);
	int idx = lua_gettop(L);
	char ev[4], *p = ev;
	if (events & LOOP_IN)
		*p++ = 'r';
	if (events & LOOP_OUT)
		*p++ = 'w';
	if (events & (LOOP_ERR | LOOP_HUP))
		*p++ = 'e';
	*p = '\0';
	lua_getiuservalue(L, idx, 1);
	lua_pushinteger(L, w->fd);
	lua_pushstring(L, ev);
	char what[48];
	snprintf(what, sizeof what, "rpmsg.watch callback (fd %d)", w->fd);
	rpmsg_call(w->rt, 2, what);
	lua_settop(L, idx - 1);
}

static int watch_check_fd(lua_State *L, int idx)
{
	luaL_Stream *file = luaL_testudata(L, idx, LUA_FILEHANDLE);
	if (file) {
		luaL_argcheck(L, file->closef != NULL, idx, "file is closed");
		return fileno(file->f);
	}
	lua_Integer fd = luaL_checkinteger(L, idx);
	luaL_argcheck(L, fd >= 0 && fd < 1 << 30, idx, "not a file descriptor");
	return (int)fd;
}

int rpmsg_l_watch(lua_State *L)
{
	struct rpmsg_runtime *rt = rpmsg_runtime(L);
	int fd = watch_check_fd(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	const char *mode = luaL_optstring(L, 3, "r");
	uint32_t events = (strchr(mode, 'r') ? LOOP_IN : 0) | (strchr(mode, 'w') ? LOOP_OUT : 0);
	luaL_argcheck(L, events && strspn(mode, "rw") == strlen(mode), 3, "mode must be \"r\", \"w\" or \"rw\"");
	struct lwatch *w = lua_newuserdatauv(L, sizeof *w, 1);
	memset(w, 0, sizeof *w);
	w->rt = rt;
	w->gen = rpmsg_current_gen(rt);
	w->fd = fd;
	w->own = -1;
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, -2, 1);
	rpmsg_setkind(L, RPMSG_WATCH_TYPE, rpmsg_watch_register);
	struct rpmsg_err e;
	w->own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (w->own < 0) {
		rpmsg_fail_errno(&e, errno, "rpmsg.watch: fd %d", fd);
		return rpmsg_push_error(L, &e);
	}
	if (loop_io_start(rt->loop, &w->io, w->own, events, watch_ready, w, &e) < 0) {
		watch_release(w, false);
		return rpmsg_push_error(L, &e);
	}
	rpmsg_anchor(L, -1);
	return 1;
}

static void watch_stop(lua_State *L, struct lwatch *w)
{
	watch_release(w, true);
	rpmsg_unanchor(L, w);
}

static int watch_cancel(lua_State *L)
{
	struct lwatch *w = luaL_checkudata(L, 1, RPMSG_WATCH_TYPE);
	rpmsg_check_live(L, w->rt);
	watch_stop(L, w);
	return 0;
}

void rpmsg_watch_retire(lua_State *L, int idx, struct rpmsg_runtime *rt, enum rpmsg_retire how)
{
	struct lwatch *w = lua_touserdata(L, idx);
	if (w && w->gen == rpmsg_gen_retiring(rt, how))
		watch_stop(L, w);
}

static int watch_gc(lua_State *L)
{
	struct lwatch *w = luaL_checkudata(L, 1, RPMSG_WATCH_TYPE);
	watch_release(w, !w->rt->closed);   /* closed: the loop is gone */
	return 0;
}

/* What the REPL shows for a watch: its fd and whether it is watched. */
static int watch_tostring(lua_State *L)
{
	struct lwatch *w = luaL_checkudata(L, 1, RPMSG_WATCH_TYPE);
	lua_pushfstring(L, "rpmsg.watch (fd %d, %s)", w->fd, w->io.active ? "active" : "cancelled");
	return 1;
}

void rpmsg_watch_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "cancel", watch_cancel },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, RPMSG_WATCH_TYPE);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, watch_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, watch_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
}
