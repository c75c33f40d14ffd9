/* SPDX-License-Identifier: MIT */
/* Where the binary finds its Lua files (host_lua.h). Three places per kind,
 * in this order, each relative one from the folder of /proc/self/exe: the
 * install's layout (an install moved elsewhere, or staged under DESTDIR),
 * the build tree's (build/rpmsg/, build/host/), then the directory fixed at
 * build time. Never LUA_PATH: a stale file of another version there is
 * never picked up. The names come from the build (lua_files.h), so a
 * missing file is an error naming it, not a fall-through to package.path. */
#include "host_lua.h"

#include "lua_files.h"

#include <lauxlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

struct kind {
	const char *relative;    /* from the binary's folder, as installed */
	const char *build;       /* from the binary's folder, in a build tree */
	const char *installed;   /* where `make install` put them */
	const char *const *names;
};

static const char *const lib_names[] = { RPMSG_LUA_LIB_MODULES NULL };
static const char *const host_names[] = { RPMSG_LUA_HOST_MODULES NULL };
static const struct kind kinds[] = {
	{ RPMSG_LUA_LIB_REL, "rpmsg", RPMSG_LUA_LIB_DIR, lib_names },
	{ RPMSG_LUA_HOST_REL, "host", RPMSG_LUA_HOST_DIR, host_names },
};

/* The binary's folder, "" when /proc is not there to say. */
static const char *exe_dir(void)
{
	static char dir[PATH_MAX];
	static int done;
	if (!done) {
		ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
		char *slash = n > 0 ? memrchr(dir, '/', (size_t)n) : NULL;
		if (slash)
			*slash = '\0';
		else
			dir[0] = '\0';
		done = 1;
	}
	return dir;
}

/* Pushes "\n\t" and the path of file under dir/rel, each leading "../" of
 * rel taking a folder off dir, so that messages show /usr/share/..., not
 * /usr/bin/../share/...; returns the path. */
static const char *push_path(lua_State *L, const char *dir, const char *rel, const char *file)
{
	size_t n = strlen(dir);
	while (strncmp(rel, "../", 3) == 0) {
		while (n > 0 && dir[n - 1] != '/')
			n--;
		if (n > 0)
			n--;
		rel += 3;
	}
	lua_pushliteral(L, "\n\t");
	lua_pushlstring(L, dir, n);
	lua_pushfstring(L, "/%s/%s.lua", rel, file);
	lua_concat(L, 3);
	return lua_tostring(L, -1) + 2;
}

/* package.preload's loader: upvalue 1 the kind, argument 1 the name. */
static int load_module(lua_State *L)
{
	const struct kind *k = lua_touserdata(L, lua_upvalueindex(1));
	const char *name = luaL_checkstring(L, 1);
	const char *file = name + sizeof "rpmsg." - 1;
	const char *dir = exe_dir();
	int base = lua_gettop(L);
	for (int i = 0; i < 3; i++) {
		const char *path;
		if (i == 2)
			path = lua_pushfstring(L, "\n\t%s/%s.lua", k->installed, file) + 2;
		else if (*dir)
			path = push_path(L, dir, i ? k->build : k->relative, file);
		else
			continue;
		if (access(path, R_OK) == 0) {
			if (luaL_loadfilex(L, path, "t") != LUA_OK)
				return lua_error(L);
			lua_pushvalue(L, 1);
			lua_pushstring(L, path);
			lua_call(L, 2, 1);
			return 1;
		}
	}
	lua_concat(L, lua_gettop(L) - base);
	return luaL_error(L, "the Lua module %s of rpmsg-lua is missing; looked for it in:%s\n"
			  "Install rpmsg-lua whole (make install, or the package), or run make "
			  "in its build tree.", name, lua_tostring(L, -1));
}

static const struct kind *kind_of(const char *name)
{
	if (strncmp(name, "rpmsg.", 6) == 0)
		for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
			for (const char *const *n = kinds[i].names; *n; n++)
				if (strcmp(*n, name + 6) == 0)
					return &kinds[i];
	return NULL;
}

void host_lua_preload(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		for (const char *const *n = kinds[i].names; *n; n++) {
			const char *key = lua_pushfstring(L, "rpmsg.%s", *n);
			lua_pushlightuserdata(L, (void *)&kinds[i]);
			lua_pushcclosure(L, load_module, 1);
			lua_setfield(L, -3, key);
			lua_pop(L, 1);
		}
	lua_pop(L, 1);
}

void host_lua_load(lua_State *L, const char *name)
{
	const struct kind *k = kind_of(name);
	if (!k)
		luaL_error(L, "rpmsg-lua: no Lua module %s of its own", name);
	lua_pushlightuserdata(L, (void *)k);
	lua_pushcclosure(L, load_module, 1);
	lua_pushstring(L, name);
	lua_call(L, 1, 1);
}
