-- SPDX-License-Identifier: MIT
-- rpmsg-lua needs 64-bit Lua integers (ADDR_ANY is 0xffffffff, addresses
-- are unsigned 32-bit): l_module.c refuses at compile time a Lua built with
-- LUA_32BITS, as Buildroot can build it, instead of truncating addresses.
local helper = require "tests.helper"
local q = helper.q

-- The build tools run as themselves: not with the sanitizer runtime the
-- asan suite preloads, whose leak check fails sed, make and the compiler.
local function sh(cmd) return helper.sh("unset LD_PRELOAD; " .. cmd) end

-- Compiles l_module.c against a copy of the system's Lua headers, with
-- LUA_32BITS set to bits32 (0 or 1).
local function compile_with_lua32(bits32)
  local dir = os.tmpname()
  os.remove(dir)
  local _, cflags = sh("pkg-config --cflags lua5.4")
  local inc = cflags:match("%-I(%S*lua5%.4)")
  assert(inc, "no lua5.4 include dir in: " .. cflags)
  local status, out, err = sh(table.concat({
    "mkdir " .. q(dir),
    "cp " .. q(inc) .. "/*.h " .. q(dir),
    ("sed -i 's/^#define LUA_32BITS\t0$/#define LUA_32BITS\t%d/' %s"):format(bits32, q(dir .. "/luaconf.h")),
    ("grep -q '^#define LUA_32BITS\t%d$' %s"):format(bits32, q(dir .. "/luaconf.h")),
    ("cc -fsyntax-only -std=gnu11 -D_GNU_SOURCE -I%s -isystem /usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH) " ..
      "-Iruntime/base -Iruntime/device -Iruntime/loop -Iruntime/bindings runtime/bindings/l_module.c"):format(q(dir)),
  }, " && "))
  os.execute("rm -rf " .. q(dir))
  return status, out .. err
end

describe("lua_Integer", function()
  it("of 64 bits compiles", function()
    local status, out = compile_with_lua32(0)
    assert.equal(0, status, out)
  end)

  it("of 32 bits (LUA_32BITS) is a compile-time error that says what to do", function()
    local status, out = compile_with_lua32(1)
    assert.is_not.equal(0, status)
    assert.matches("rpmsg-lua needs 64-bit Lua integers: build Lua without LUA_32BITS", out, 1, true)
  end)
end)
