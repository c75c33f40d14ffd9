-- SPDX-License-Identifier: MIT
-- runtime/dist/rpmsg-lua-*.rockspec: `luarocks make` builds the module with
-- the repository's Makefile and installs it where luarocks' Lua finds it.
local helper = require "tests.helper"
local q = helper.q

-- The build tools run as themselves: not with the sanitizer runtime the
-- asan suite preloads, whose leak check fails sed, make and the compiler.
local function sh(cmd) return helper.sh("unset LD_PRELOAD; " .. cmd) end

describe("the rockspec", function()
  it("builds and installs rpmsg.so and its Lua modules with luarocks make, and lua5.4 loads them from the tree", function()
    local _, spec = sh("ls runtime/dist/rpmsg-lua-*.rockspec")
    spec = spec:gsub("%s+$", "")
    assert.matches("^runtime/dist/rpmsg%-lua%-[%d.]+%-%d+%.rockspec$", spec)
    local tree = os.tmpname()
    os.remove(tree)
    local status, out, err = sh(("luarocks --lua-version 5.4 make --tree %s %s"):format(q(tree), q(spec)))
    assert.equal(0, status, out .. err)
    status, out, err = sh(("cd / && lua5.4 -e %s"):format(q(
      "package.cpath = " .. ("%q"):format(tree .. "/lib/lua/5.4/?.so") .. "\n" ..
      "package.path = " .. ("%q"):format(tree .. "/share/lua/5.4/?.lua") .. "\n" ..
      "local rpmsg = require 'rpmsg'\n" ..
      "print(rpmsg.version, package.searchpath('rpmsg', package.cpath) ~= nil, " ..
      "debug.getinfo(require('rpmsg.frag').split, 'S').source)")))
    os.execute("rm -rf " .. q(tree))
    assert.equal(0, status, err)
    assert.equal(spec:match("rpmsg%-lua%-([%d.]+)%-") .. "\ttrue\t@" .. tree .. "/share/lua/5.4/rpmsg/frag.lua\n", out)
  end)
end)
