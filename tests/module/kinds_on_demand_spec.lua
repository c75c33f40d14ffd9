-- SPDX-License-Identifier: MIT
-- The module's kinds of object that few scripts use (ctrl, remoteproc,
-- remoteproc events, timer, tty, watch) get their metatables when their
-- first object is made, not at require "rpmsg" (issue 15, start-up: each
-- cost the start thousands of instructions and heap pages). Objects made
-- after that behave as before. Each case runs in a fresh lua5.4 with
-- rpmsg.so, so no earlier spec has made the kind already.
local helper = require "tests.helper"
local q = helper.q

local function lua(code)
  local status, out, err = helper.sh(("LUA_CPATH=%s LUA_PATH=%s lua5.4 -e %s"):format(
    q(helper.native .. "/?.so"), q(helper.native .. "/?.lua;;"), q(code)))
  assert.equal(0, status, err)
  return out
end

local LAZY = { "rpmsg.ctrl", "rpmsg.remoteproc", "rpmsg.remoteproc_events", "rpmsg.timer",
  "rpmsg.tty_fd", "rpmsg.watch" }

describe("the rpmsg module's kinds", function()
  it("make no metatable for the kinds few scripts use at require", function()
    local out = lua([[
      local rpmsg = require "rpmsg"
      local reg = debug.getregistry()
      for _, name in ipairs{ ]] .. ('"%s", '):rep(#LAZY):format(table.unpack(LAZY)) .. [[ } do
        print(name, reg[name] ~= nil)
      end
      print("rpmsg.endpoint", reg["rpmsg.endpoint"] ~= nil)
      print("rpmsg.task", reg["rpmsg.task"] ~= nil)]])
    for _, name in ipairs(LAZY) do
      assert.matches(name:gsub("%p", "%%%0") .. "\tfalse\n", out)
    end
    assert.matches("rpmsg%.endpoint\ttrue\n", out)
    assert.matches("rpmsg%.task\ttrue\n", out)
  end)

  it("give a timer made first its methods, __tostring and __gc, and the second the same metatable", function()
    local out = lua([[
      local rpmsg = require "rpmsg"
      local fired = 0
      local t = rpmsg.after(0, function() fired = fired + 1 end)
      local u = rpmsg.every(1000, function() end)
      print(tostring(t), t:active(), getmetatable(t) == getmetatable(u))
      u:cancel()
      rpmsg.run{ timeout = 200 }
      print(fired, t:active(), tostring(u))
      print(pcall(t.cancel, u), (select(2, pcall(t.cancel, io.stdout)):match("rpmsg%.timer expected.*")))]])
    assert.equal("rpmsg.timer (once, active)\ttrue\ttrue\n" ..
      "1\tfalse\trpmsg.timer (every 1000 ms, cancelled)\n" ..
      "true\trpmsg.timer expected, got FILE*)\n", out)
  end)

  it("give a watch made first its methods", function()
    local out = lua([[
      local rpmsg = require "rpmsg"
      local p = io.popen("sleep 1")
      local w = assert(rpmsg.watch(p, function() end))
      print((tostring(w):match("^rpmsg%.watch")), pcall(w.cancel, w))
      p:close()]])
    assert.equal("rpmsg.watch\ttrue\n", out)
  end)
end)
