-- SPDX-License-Identifier: MIT
-- Services under --sim: the firmware script's endpoints are the channels
-- the host sees (what a real firmware announces), so rpmsg.list().channels,
-- rpmsg.endpoint{service = ...}, waiting for an announcement and
-- rpmsg.on_announce are tested with no board. The real drivers:
-- tests/kernel/services_spec.lua.
local helper = require "tests.helper"

-- The firmware: fw-echo at address 42 answers "echo:" .. msg; "late" is
-- declared 300 ms after start and closed 300 ms later.
local FIRMWARE = [[
  local rpmsg = require "rpmsg"
  local ep = assert(rpmsg.endpoint{name = "fw-echo", src = 42, dst = rpmsg.ADDR_ANY})
  ep.on_message = function(msg) ep:send("echo:" .. msg) end
  rpmsg.after(300, function()
    local late = assert(rpmsg.endpoint{name = "late", src = 43, dst = rpmsg.ADDR_ANY})
    late.on_message = function(msg) late:send("late:" .. msg) end
    rpmsg.after(300, function() late:close() end)
  end)
]]

local function run(app)
  local status, out, err = helper.host({"--sim", helper.script(FIRMWARE), helper.script(app)})
  assert.equal(0, status, err)
  helper.assert_no_handler_error(err)
  return out, err
end

describe("services under --sim", function()
  it("lists the firmware's endpoints as channels, with our address once paired", function()
    local out = run([[
      local rpmsg = require "rpmsg"
      local c = rpmsg.list().channels
      print(#c, c[1].name, c[1].src == rpmsg.ADDR_ANY, c[1].dst, c[1].ctrl, c[1].driver, c[1].dev)
      local ep = assert(rpmsg.endpoint{service = "fw-echo"})
      c = rpmsg.list().channels
      print(c[1].src >= 1024, c[1].src == ep.src or ep.src == rpmsg.ADDR_ANY)
      rpmsg.after(0, rpmsg.stop)   -- the loop has not started yet
    ]])
    assert.equal("1\tfw-echo\ttrue\t42\t0\tnil\tnil\ntrue\ttrue\n", out)
  end)

  it("reaches a service by name: an endpoint to the announced address, named after it", function()
    local out = run([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{service = "fw-echo"})
      local mine = assert(rpmsg.endpoint{service = "fw-echo", name = "mine"})
      print(ep.name, ep.dst, mine.name, mine.dst)
      ep.on_message = function(msg) print(msg); rpmsg.stop() end
      ep:send("hi")
    ]])
    assert.equal("fw-echo\t42\tmine\t42\necho:hi\n", out)
  end)

  it("fails at once outside a task, naming what was announced", function()
    local out = run([[
      local rpmsg = require "rpmsg"
      print(rpmsg.endpoint{service = "fw-ecko"})
      rpmsg.after(0, rpmsg.stop)
    ]])
    assert.equal("nil\tservice 'fw-ecko' is not announced (announced: 'fw-echo'); "
      .. "to wait for it, declare it inside rpmsg.spawn\tENOENT\n", out)
  end)

  it("waits inside a task until the service is announced", function()
    local out = run([[
      local rpmsg = require "rpmsg"
      rpmsg.spawn(function()
        local before = #rpmsg.list().channels   -- only fw-echo yet
        local ep = assert(rpmsg.endpoint{service = "late", timeout = 3000})
        print("waited", before, #rpmsg.list().channels)
        ep:send("x")
        print(ep:receive(1000))
        rpmsg.stop()
      end)
    ]])
    assert.equal("waited\t1\t2\nlate:x\n", out)
  end)

  it("gives up after its timeout, naming what was announced", function()
    local out = run([[
      local rpmsg = require "rpmsg"
      rpmsg.spawn(function()
        local t0 = rpmsg.now()
        print(rpmsg.endpoint{service = "never", timeout = 100})
        local waited = rpmsg.now() - t0
        print(waited >= 100)
        rpmsg.stop()
      end)
    ]])
    assert.equal("nil\tservice 'never' was not announced within 100 ms (announced: 'fw-echo')\tETIMEDOUT\ntrue\n", out)
  end)

  it("calls on_announce when the firmware announces and withdraws a channel", function()
    local out = run([[
      local rpmsg = require "rpmsg"
      assert(rpmsg.on_announce(function(ch, event)
        print(event, ch.name, ch.dst)
        if event == "withdraw" then rpmsg.stop() end
      end))
    ]])
    assert.equal("announce\tlate\t43\nwithdraw\tlate\t43\n", out)
  end)

  it("on_announce(nil) stops it, and a bad argument raises", function()
    local out, err = run([[
      local rpmsg = require "rpmsg"
      assert(rpmsg.on_announce(function() print("called") end))
      assert(rpmsg.on_announce(nil))
      print(pcall(rpmsg.on_announce, 5))
      rpmsg.after(800, rpmsg.stop)
    ]])
    assert.matches("^false\t.*function expected", out)
    assert.not_matches("called", out .. err)
  end)
end)
