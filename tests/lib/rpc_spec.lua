-- SPDX-License-Identifier: MIT
-- rpmsg.rpc: calls from coroutines find their own replies, however many are
-- in flight and in whatever order replies come; timeouts, remote errors and
-- a closing endpoint each give their documented result.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local rpc = require "rpmsg.rpc"

local function run_task(fn) return helper.run_task(rpmsg, fn) end

local function wait_for(cond) return helper.wait_for(rpmsg, cond) end

describe("rpmsg.rpc", function()
  local a, b, client, server
  before_each(function()
    a, b = rpmsg.pair()
    client, server = rpc.new(a), rpc.new(b)
    server:serve{
      echo = function(p) return "re:" .. p end,
      empty = function() end,
      refuse = function() return nil, "not today" end,
      crash = function() error("handler crashed", 0) end,
      number = function() return 42 end,
      big = function(p) return ("x"):rep(tonumber(p)) end,
    }
  end)
  after_each(function() helper.cancel_armed(); a:close(); b:close() end)   -- leftovers never run into the next spec

  it("returns the reply to a call", function()
    assert.same({"re:hello", n = 1}, run_task(function() return client:call("echo", "hello") end))
    assert.same({"", n = 1}, run_task(function() return client:call("empty") end))
  end)

  it("matches 100 concurrent calls to their replies, which come back in reverse order", function()
    local arrived, turn, results, done, in_flight = 0, 100, {}, {}, 0
    server:serve{slow = function(p)
      arrived = arrived + 1
      local me = arrived
      wait_for(function() return turn == me end)   -- the last request is answered first
      turn = turn - 1
      return "done:" .. p
    end}
    local r = run_task(function()
      for i = 1, 100 do
        rpmsg.spawn(function()
          results[i] = table.pack(client:call("slow", tostring(i), 8000))
          done[#done + 1] = i
        end)
      end
      for _ in pairs(client.pending) do in_flight = in_flight + 1 end
      return wait_for(function() return #done == 100 end)
    end)
    assert.is_true(r[1])
    assert.equal(100, in_flight)          -- all were waiting at once
    for i = 1, 100 do assert.same({"done:" .. i, n = 1}, results[i]) end
    assert.same({100, 99, 98}, {done[1], done[2], done[3]})
    assert.same({calls = 100, timeouts = 0, late = 0, malformed = 0, served = 0, refused = 0}, client.stats)
  end)

  it("times out with nil, \"timeout\", \"ETIMEDOUT\", and drops the late reply", function()
    local release = false
    server:serve{held = function() wait_for(function() return release end); return "late" end}
    local r = run_task(function()
      local first = table.pack(client:call("held", "", 30))
      release = true
      wait_for(function() return client.stats.late == 1 end)
      local after = client:call("echo", "next")   -- ids stay matched after a late reply
      return first, after
    end)
    assert.same({nil, "timeout", "ETIMEDOUT", n = 3}, r[1])
    assert.equal("re:next", r[2])
    assert.equal(1, client.stats.late)
    assert.equal(1, client.stats.timeouts)
  end)

  it("gives nil, message, \"EREMOTE\" when the remote says no or fails", function()
    local r = run_task(function()
      return {client:call("refuse")}, {client:call("crash")}, {client:call("nope")}, {client:call("number")}
    end)
    assert.same({nil, "not today", "EREMOTE"}, r[1])
    assert.same({nil, "handler crashed", "EREMOTE"}, r[2])
    assert.same({nil, "unknown method 'nope'", "EREMOTE"}, r[3])
    assert.same({nil, "handler for 'number' returned a number, not a string", "EREMOTE"}, r[4])
  end)

  it("wakes waiting calls with nil, \"endpoint closed (...)\", \"EPIPE\" when the endpoint closes", function()
    server:serve{never = function() rpmsg.sleep(5000) end}
    local r = run_task(function()
      rpmsg.after(20, function() b:close() end)
      return client:call("never", "", 5000)
    end)
    assert.same({nil, "endpoint closed (remote gone)", "EPIPE", n = 3}, r)
  end)

  -- A handler that finishes after its own endpoint closed: its reply is
  -- logged as not sent (tests/lib/rpc_hardening_spec.lua).

  it("returns the send error when the remote is already gone", function()
    b:close()
    local r = run_task(function() return client:call("echo", "x") end)
    assert.is_nil(r[1])
    assert.equal("EPIPE", r[3])
    assert.same({}, client.pending)
  end)

  it("forgets a call whose task is cancelled: its reply then counts as late", function()
    local release = false
    server:serve{held = function() wait_for(function() return release end); return "late" end}
    local task = rpmsg.spawn(function() client:call("held", "", 5000) end)
    local r = run_task(function()
      wait_for(function() return server.stats.served == 1 end)
      task:cancel()
      local pending_after_cancel = next(client.pending)
      release = true
      wait_for(function() return client.stats.late == 1 end)
      return pending_after_cancel, client:call("echo", "after")
    end)
    assert.same({nil, "re:after", n = 2}, r)
    assert.equal(1, client.stats.late)
  end)

  it("runs notifications without replying", function()
    local got
    server:serve{note = function(p) got = p; return "ignored" end}
    run_task(function()
      assert(client:notify("note", "n1"))
      return wait_for(function() return got ~= nil end)
    end)
    assert.equal("n1", got)
    assert.equal(0, client.stats.late)
    assert.same({}, client.pending)
  end)

  it("lets either side call the other, also from inside a handler", function()
    client:serve{whoami = function() return "client" end}
    server:serve{ask_back = function(_, peer) return "server asked: " .. peer:call("whoami") end}
    assert.same({"server asked: client", n = 1}, run_task(function() return client:call("ask_back") end))
  end)

  it("refuses misuse with an error that names it", function()
    assert.error_matches(function() client:call("echo", "x") end,
      "rpc:call('echo') must be called inside rpmsg.spawn: it waits for the reply", nil, true)
    local r = run_task(function()
      return select(2, pcall(client.call, client, "echo", ("x"):rep(491))),
        select(2, pcall(client.call, client, "", "x")),
        select(2, pcall(client.call, client, "echo", 5)),
        select(2, pcall(client.call, client, "echo", "x", -1))
    end)
    assert.matches("rpc:call('echo'): request of 501 bytes (491 of payload) is over the 496-byte limit "
      .. "(use rpc.new(ep, {fragment = true}) for more)", r[1], 1, true)
    assert.matches("rpc:call: method must be a string of 1..255 bytes, got 0 bytes", r[2], 1, true)
    assert.matches("rpc:call('echo'): payload must be a string, got number", r[3], 1, true)
    assert.matches("rpc:call: timeout must be an integer number of milliseconds", r[4], 1, true)
    assert.same({}, client.pending)
  end)

  it("turns a reply too big for one message into an error reply", function()
    assert.same({nil, "reply of 500 bytes is over the 491-byte limit (use rpc.new(ep, {fragment = true}) for more)", "EREMOTE", n = 3},
      run_task(function() return client:call("big", "500") end))
  end)

  it("drops malformed frames, and goes on", function()
    local r = run_task(function()
      b:send("\1")                   -- shorter than the header
      b:send("\9\1\0\0\0")           -- unknown kind
      a:send("\1\1\0\0\0\9echo")     -- method name cut off
      return client:call("echo", "still fine")
    end)
    assert.equal("re:still fine", r[1])
    assert.equal(2, client.stats.malformed)
    assert.equal(1, server.stats.malformed)
  end)

  it("speaks the documented frames", function()
    local raw_a, raw_b = rpmsg.pair()
    local peer = rpc.new(raw_a)
    local seen
    raw_b.on_message = function(m)
      seen = m
      local _, id = string.unpack("<BI4", m)
      raw_b:send(string.pack("<BI4", 2, id) .. "pong")
    end
    local r = run_task(function() return peer:call("ping", "data") end)
    assert.equal("pong", r[1])
    assert.equal("\1\1\0\0\0\4pingdata", seen)
    raw_a:close(); raw_b:close()
  end)

  describe("with {fragment = true}", function()
    it("round-trips 64 KiB each way", function()
      local c2, s2 = rpmsg.pair()
      local big_client = rpc.new(c2, {fragment = true, limit = 70000})
      rpc.new(s2, {fragment = true, limit = 70000}):serve{reverse = function(p) return p:reverse() end}
      local parts = {}
      for i = 1, 65536 do parts[i] = string.char(i % 256) end
      local data = table.concat(parts)
      local r = run_task(function() return big_client:call("reverse", data, 8000) end)
      assert.equal(65536, #r[1])
      assert.is_true(r[1] == data:reverse())
      c2:close(); s2:close()
    end)
  end)
end)

describe("rpmsg.rpc under rpmsg-lua", function()
  it("logs the late reply it drops", function()
    local fw = helper.script([[
      local rpmsg, rpc = require "rpmsg", require "rpmsg.rpc"
      local ep = assert(rpmsg.endpoint{name = "srv", src = 1051, dst = 1050})
      local released = false
      rpc.new(ep):serve{
        held = function() while not released do rpmsg.sleep(5) end; return "late" end,
        release = function() released = true end,
      }
    ]])
    local app = helper.script([[
      local rpmsg, rpc = require "rpmsg", require "rpmsg.rpc"
      local ep = assert(rpmsg.endpoint{name = "cli", src = 1050, dst = 1051})
      local peer = rpc.new(ep)
      rpmsg.spawn(function()
        print(peer:call("held", "", 20))
        peer:notify("release")
        while peer.stats.late == 0 do rpmsg.sleep(5) end
        rpmsg.stop()
      end)
    ]])
    local status, out, err = helper.host({"--sim", fw, app})
    assert.equal(0, status)
    assert.equal("nil\ttimeout\tETIMEDOUT\n", out)
    assert.matches("rpc: endpoint 'cli': late reply to call 1 dropped", err, 1, true)
    helper.assert_no_handler_error(err)
  end)
end)
