-- SPDX-License-Identifier: MIT
-- The Debian package `make deb` builds for this machine: unpacked into a
-- scratch root with dpkg -x (nothing is installed), its binary runs the
-- simulated echo from the examples it ships, its module loads in a stock
-- lua5.4, it depends on the libraries the binary links, and lintian finds
-- nothing to warn about. The first `make deb` takes about a minute; a second
-- run of the suite (asan) finds it made.
local helper = require "tests.helper"
local q = helper.q

-- The build tools run as themselves: not with the sanitizer runtime the
-- asan suite preloads, whose leak check fails sed, make and the compiler.
local function sh(cmd) return helper.sh("unset LD_PRELOAD; " .. cmd) end

local function trim(s) return (s:gsub("%s+$", "")) end

describe("make deb", function()
  local deb, root, triplet
  setup(function()
    local status, out, err = sh("make -s deb")
    assert(status == 0, "make deb failed:\n" .. out .. err)
    deb = trim(out):match("[^\n]*%.deb$")
    assert(deb, "make deb named no package:\n" .. out)
    root = os.tmpname()
    os.remove(root)
    local unpacked, _, why = sh("dpkg -x " .. q(deb) .. " " .. q(root))
    assert(unpacked == 0, "dpkg -x failed: " .. why)
    triplet = trim(select(2, sh("dpkg-architecture -qDEB_HOST_MULTIARCH")))
  end)
  teardown(function()
    if root then os.execute("rm -rf " .. q(root)) end
  end)

  it("names the package rpmsg-lua_VERSION_ARCH.deb under build/deb/", function()
    local version = trim(select(2, sh("make -s version")))
    local arch = trim(select(2, sh("dpkg --print-architecture")))
    assert.equal(("build/deb/rpmsg-lua_%s_%s.deb"):format(version, arch), deb)
  end)

  it("holds the program, the module, the Lua files, the service files, the man page, the completion and the examples", function()
    for _, path in ipairs{
      "/usr/bin/rpmsg-lua",
      "/usr/lib/" .. triplet .. "/lua/5.4/rpmsg.so",
      "/usr/share/lua/5.4/rpmsg/frag.lua",
      "/usr/share/lua/5.4/rpmsg/tty.lua",
      "/usr/share/rpmsg-lua/host.lua",
      "/usr/share/rpmsg-lua/apidoc.lua",
      "/lib/systemd/system/rpmsg-lua@.service",
      "/lib/udev/rules.d/60-rpmsg-lua.rules",
      "/usr/lib/sysusers.d/rpmsg-lua.conf",
      "/usr/share/man/man1/rpmsg-lua.1.gz",
      "/usr/share/bash-completion/completions/rpmsg-lua",
      "/usr/share/doc/rpmsg-lua/copyright",
      "/usr/share/doc/rpmsg-lua/examples/echo.lua",
      "/usr/share/doc/rpmsg-lua/examples/sim/echo_fw.lua",
    } do
      assert(os.execute("test -s " .. q(root .. path)), path .. " is not in " .. deb)
    end
  end)

  it("runs the simulated echo from the examples it ships", function()
    local ex = root .. "/usr/share/doc/rpmsg-lua/examples"
    local status, _, err = sh(("timeout -s KILL 20 %s --sim %s %s 3 </dev/null"):format(
      q(root .. "/usr/bin/rpmsg-lua"), q(ex .. "/sim/echo_fw.lua"), q(ex .. "/echo.lua")))
    assert.equal(0, status, err)
    assert.matches('echo 3: "hello 3"', err, 1, true)
    assert.matches("all 3 echoes received", err, 1, true)
    helper.assert_no_handler_error(err)
  end)

  it("has a module that a stock lua5.4 loads from where Debian's Lua looks, with its Lua modules", function()
    local cmod = root .. "/usr/lib/" .. triplet .. "/lua/5.4/?.so"
    local lmod = root .. "/usr/share/lua/5.4/?.lua"
    local status, out, err = sh(("cd / && lua5.4 -e %s"):format(q(
      "package.cpath = " .. ("%q"):format(cmod) .. "\n" ..
      "package.path = " .. ("%q"):format(lmod) .. "\n" ..
      "local rpmsg = require 'rpmsg'\n" ..
      "assert(package.searchpath('rpmsg', package.cpath):find('/usr/lib/', 1, true))\n" ..
      "local rpc = require 'rpmsg.rpc'\n" ..
      "print(rpmsg.version, rpmsg.ADDR_ANY, debug.getinfo(rpc.new, 'S').source)")))
    assert.equal(0, status, err)
    assert.equal(trim(select(2, sh("make -s version"))) .. "\t4294967295\t@" ..
      root .. "/usr/share/lua/5.4/rpmsg/rpc.lua\n", out)
  end)

  it("has a binary that uses the package's Lua files, found relative to itself", function()
    local script = root .. "/where.lua"
    local f = assert(io.open(script, "w"))
    f:write("print(debug.getinfo(require('rpmsg.rpc').new, 'S').source)\n",
      "print(debug.getinfo(require('rpmsg.help').text, 'S').source)\n")
    f:close()
    local status, out, err = sh(("%s %s"):format(q(root .. "/usr/bin/rpmsg-lua"), q(script)))
    assert.equal(0, status, err)
    assert.equal("@" .. root .. "/usr/share/lua/5.4/rpmsg/rpc.lua\n@" .. root .. "/usr/share/rpmsg-lua/help.lua\n", out)
  end)

  it("depends on liblua5.4-0 and recommends libedit2, which the binary opens for a terminal REPL", function()
    local _, depends = sh("dpkg-deb -f " .. q(deb) .. " Depends")
    assert.matches("liblua5.4-0 (>= ", depends, 1, true)
    assert.matches("libc6 (>= ", depends, 1, true)
    assert.not_matches("libedit", depends, 1, true)
    local _, needed = sh("readelf -d " .. q(root .. "/usr/bin/rpmsg-lua"))
    assert.matches("liblua5.4.so.0", needed, 1, true)
    assert.matches("[rpmsg.so]", needed, 1, true)
    assert.not_matches("libedit", needed, 1, true)
    local _, recommends = sh("dpkg-deb -f " .. q(deb) .. " Recommends")
    assert.matches("libedit2", recommends, 1, true)
  end)

  it("is lintian clean (warnings and errors; each override explained in debian/)", function()
    local status, out, err = sh("lintian --fail-on error,warning " .. q(deb))
    assert.equal(0, status, out .. err)
  end)
end)
