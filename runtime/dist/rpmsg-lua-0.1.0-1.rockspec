-- SPDX-License-Identifier: MIT
-- The `rpmsg` module (rpmsg.so, with its library modules rpmsg.struct,
-- rpmsg.frag, rpmsg.rpc, rpmsg.tty and rpmsg.remoteproc_watch as Lua files
-- in the tree's LUADIR) for the Lua luarocks drives, built by the
-- repository's Makefile:
--   luarocks --lua-version 5.4 make runtime/dist/rpmsg-lua-0.1.0-1.rockspec
-- from the clone (Debian's luarocks defaults to Lua 5.1); it builds in
-- build/luarocks/, apart from the development build.
-- The rpmsg-lua program and the service files come with `make install` or
-- the Debian package, not with the rock. Linux only (RPMsg is a Linux API).
rockspec_format = "3.0"
package = "rpmsg-lua"
version = "0.1.0-1"
source = {
  url = "git+file://.",   -- luarocks make builds the clone it runs in
}
description = {
  summary = "Lua 5.4 bindings for the Linux RPMsg character devices",
  detailed = [[
rpmsg binds /dev/rpmsg_ctrlN and /dev/rpmsgN into Lua 5.4 with one event
loop: endpoints with on_message handlers, timers, tasks, remoteproc control,
a simulated co-processor, and the protocol toolkit (struct, frag, rpc).]],
  license = "MIT",
}
supported_platforms = { "linux" }
dependencies = { "lua >= 5.4, < 5.5" }
build = {
  type = "make",
  build_target = "module",
  -- warnings are not errors for the user's compiler
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LUA = "$(LUA)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    WERROR = "0",
    B = "build/luarocks",
  },
  install_target = "install-module",
  install_variables = {
    LUA_CMOD = "$(LIBDIR)",
    LUA_LMOD = "$(LUADIR)",
    LUA = "$(LUA)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    WERROR = "0",
    B = "build/luarocks",
  },
}
