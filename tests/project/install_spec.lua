-- SPDX-License-Identifier: MIT
-- make install: the Lua files are installed, not compiled in, and are the
-- ones used. The library modules go to LUA_LMOD/rpmsg/ (where a stock
-- lua5.4 finds them beside rpmsg.so), the host's own to PKGDATADIR; the
-- installed binary, run from under DESTDIR, reads them relative to itself,
-- never through LUA_PATH, and names every place it looked when one is gone.
local helper = require "tests.helper"
local q = helper.q

-- make as itself, not under the asan suite's preload
local function sh(cmd) return helper.sh("unset LD_PRELOAD; " .. cmd) end

local function trim(s) return (s:gsub("%s+$", "")) end

local function names(glob)
  local _, out = sh("ls " .. glob)
  local list = {}
  for path in out:gmatch("[^\n]+") do list[#list + 1] = path:match("([^/]+)%.lua$") end
  assert.is_true(#list > 0, glob)
  return list
end

-- Prints the file each module was loaded from (the source of one of its
-- Lua functions).
local WHERE = [[
for _, name in ipairs(arg) do
  local where
  for _, v in pairs(require(name)) do
    local info = type(v) == "function" and debug.getinfo(v, "S")
    if info and info.what == "Lua" then where = info.source:gsub("^@", "") break end
  end
  print(where)
end
]]

describe("make install", function()
  local dest, prefix, lmod, data, bin, where
  setup(function()
    dest = helper.tmpdir()
    prefix = dest .. "/opt/rl"
    local status, out, err = sh(("make -s install DESTDIR=%s PREFIX=/opt/rl LUA_CMOD=/opt/rl/lib/lua/5.4 " ..
      "LUA_LMOD=/opt/rl/share/lua/5.4"):format(q(dest)))
    assert(status == 0, "make install failed:\n" .. out .. err)
    lmod, data, bin = prefix .. "/share/lua/5.4/rpmsg", prefix .. "/share/rpmsg-lua", prefix .. "/bin/rpmsg-lua"
    where = dest .. "/where.lua"
    local f = assert(io.open(where, "w"))
    f:write(WHERE)
    f:close()
  end)
  teardown(function()
    -- the build's own binary again, built for the default PREFIX
    sh("make -s all >/dev/null")
  end)

  it("puts each library module in LUA_LMOD/rpmsg/ and the host's own in PKGDATADIR, unchanged", function()
    for _, name in ipairs(names("lua/lib/*.lua")) do
      assert.equal(0, (sh(("cmp lua/lib/%s.lua %s/%s.lua"):format(name, q(lmod), name))), name)
    end
    for _, name in ipairs(names("lua/host/*.lua")) do
      assert.equal(0, (sh(("cmp lua/host/%s.lua %s/%s.lua"):format(name, q(data), name))), name)
    end
    assert.equal(0, (sh("grep -q 'return {' " .. q(data .. "/apidoc.lua"))), "help's API table")
  end)

  it("gives the installed binary those files, found relative to itself", function()
    local status, out, err = sh(("%s %s rpmsg.frag rpmsg.help"):format(q(bin), q(where)))
    assert.equal(0, status, err)
    assert.equal(lmod .. "/frag.lua\n" .. data .. "/help.lua\n", out)
  end)

  it("never reads its modules from LUA_PATH: a stale rpmsg/frag.lua there is not loaded", function()
    local stale = helper.tmpdir()
    assert(os.execute("mkdir -p " .. q(stale .. "/rpmsg")))
    local f = assert(io.open(stale .. "/rpmsg/frag.lua", "w"))
    f:write('error("the stale frag.lua was loaded")\n')
    f:close()
    local status, out, err = sh(("LUA_PATH=%s %s %s rpmsg.frag"):format(q(stale .. "/?.lua"), q(bin), q(where)))
    assert.equal(0, status, err)
    assert.equal(lmod .. "/frag.lua\n", out)
  end)

  it("gives a stock lua5.4 the same library modules beside the installed rpmsg.so", function()
    -- the build machine's lua5.4, as the install is (the cross suite puts
    -- the target's first on PATH)
    local status, out, err = sh(("LUA_PATH=%s LUA_CPATH=%s /usr/bin/lua5.4 %s rpmsg.frag"):format(
      q(prefix .. "/share/lua/5.4/?.lua"), q(prefix .. "/lib/lua/5.4/?.so"), q(where)))
    assert.equal(0, status, err)
    assert.equal(lmod .. "/frag.lua\n", out)
  end)

  it("fails naming the module and every place it looked when a file is missing", function()
    assert(os.remove(lmod .. "/frag.lua"))
    local status, out, err = sh(("%s %s rpmsg.frag"):format(q(bin), q(where)))
    assert.equal(1, status, out)
    assert.matches("the Lua module rpmsg.frag of rpmsg-lua is missing; looked for it in:\n" ..
      "\t" .. lmod .. "/frag.lua\n" ..
      "\t" .. prefix .. "/bin/rpmsg/frag.lua\n" ..
      "\t/opt/rl/share/lua/5.4/rpmsg/frag.lua\n" ..
      "Install rpmsg-lua whole", err, 1, true)
    assert(os.remove(data .. "/help.lua"))
    status, out, err = sh(("%s %s rpmsg.help"):format(q(bin), q(where)))
    assert.equal(1, status, out)
    assert.matches("the Lua module rpmsg.help of rpmsg-lua is missing", err, 1, true)
    assert.matches("\t" .. data .. "/help.lua\n", err, 1, true)
  end)
end)

describe("the build tree", function()
  it("gives its binary the build's copies beside it, and a stock lua5.4 the same with LUA_PATH=build/?.lua", function()
    local where = helper.tmp_path(".lua")
    local f = assert(io.open(where, "w"))
    f:write(WHERE)
    f:close()
    local status, out, err = helper.sh(("%s %s rpmsg.rpc rpmsg.repl"):format(q(helper.bin), q(where)))
    assert.equal(0, status, err)
    local rpc, repl = out:match("^([^\n]+)\n([^\n]+)\n$")
    assert.truthy(rpc, out)
    -- the cross suite runs the binary through build/ARCH/qemu/, whose
    -- rpmsg/ is a link to build/ARCH/rpmsg/
    local _, real = helper.sh(("realpath %s %s %s %s"):format(q(rpc), q(helper.build .. "/rpmsg/rpc.lua"),
      q(repl), q(helper.build .. "/host/repl.lua")))
    local a, b, c, d = real:match("^([^\n]+)\n([^\n]+)\n([^\n]+)\n([^\n]+)\n$")
    assert.equal(b, a)
    assert.equal(d, c)
    status, out, err = helper.sh(("LUA_PATH=%s LUA_CPATH=%s lua5.4 %s rpmsg.rpc"):format(
      q(helper.build .. "/?.lua"), q(helper.build .. "/?.so"), q(where)))
    assert.equal(0, status, err)
    assert.equal(helper.build .. "/rpmsg/rpc.lua\n", out)
    os.remove(where)
  end)
end)
