-- SPDX-License-Identifier: MIT
-- The event loop as scripts see it: timers, watched fds, run and stop.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

describe("timers", function()
  it("fire after, every, in due order, and stop when cancelled", function()
    local log = {}
    rpmsg.after(30, function() log[#log + 1] = "after30" end)
    rpmsg.after(10, function() log[#log + 1] = "after10" end)
    local ticks = 0
    local every
    every = rpmsg.every(5, function(t)
      ticks = ticks + 1
      assert.equal(every, t)
      if ticks == 3 then t:cancel() end
    end)
    rpmsg.after(60, rpmsg.stop)
    helper.run(rpmsg, 2000)
    assert.same({"after10", "after30"}, log)
    assert.equal(3, ticks)
    assert.is_false(every:active())
  end)

  it("fire timers due at the same time in the order they were set", function()
    local log = {}
    for i = 1, 20 do
      rpmsg.after(5, function()
        log[#log + 1] = i
        assert.equal(#log, i)
        if i == 20 then rpmsg.stop() end
      end)
    end
    helper.run(rpmsg, 2000)
    for i = 1, 20 do assert.equal(i, log[i]) end
  end)

  it("lets a callback cancel another timer that is already due", function()
    local fired = false
    local victim
    rpmsg.after(1, function() victim:cancel() end)
    victim = rpmsg.after(1, function() fired = true end)
    rpmsg.after(20, rpmsg.stop)
    helper.run(rpmsg, 2000)
    assert.is_false(fired)
  end)

  it("keep firing while the script holds no reference", function()
    local ticks = 0
    rpmsg.every(2, function(t)
      ticks = ticks + 1
      if ticks == 5 then t:cancel(); rpmsg.stop() end
    end)
    collectgarbage(); collectgarbage()
    helper.run(rpmsg, 2000)
    assert.equal(5, ticks)
  end)

  it("refuse bad arguments with a clear error", function()
    assert.error_matches(function() rpmsg.every(0, function() end) end, "at least 1 ms")
    assert.error_matches(function() rpmsg.after(-1, function() end) end, "must not be negative")
    assert.error_matches(function() rpmsg.after(5, "nope") end, "function expected")
  end)
end)

describe("run and stop", function()
  it("stop ends run from a handler", function()
    local t = rpmsg.every(1, function() rpmsg.stop() end)
    assert.is_true(rpmsg.run{timeout = 2000, raise_errors = true})
    t:cancel()
  end)

  it("run returns once no timer is left", function()
    -- in a process of its own, which timeout ends if run never returns
    local status, out, err = helper.sh(("timeout -s KILL 10 lua5.4 -e %s"):format(helper.q(
      "package.cpath = '" .. helper.build .. "/?.so;' .. package.cpath " ..
      "local rpmsg = require 'rpmsg' " ..
      "local ticks, after = 0, false " ..
      "rpmsg.after(10, function() after = true end) " ..
      "rpmsg.every(5, function(t) ticks = ticks + 1; if ticks == 3 then t:cancel() end end) " ..
      "print(rpmsg.run(), ticks, after)")))
    assert.equal(0, status, err)
    assert.equal("true\t3\ttrue\n", out)
  end)

  it("run{timeout = ms} ends with nil, \"timeout\", \"ETIMEDOUT\"", function()
    local t = rpmsg.every(5, function() end)
    local t0 = rpmsg.now()
    local ok, err, code = rpmsg.run{timeout = 50, raise_errors = true}
    t:cancel()
    assert.same({nil, "timeout", "ETIMEDOUT"}, {ok, err, code})
    assert.is_true(rpmsg.now() - t0 >= 45)
  end)

  it("run{raise_errors = true} ends at the first handler error and raises it", function()
    local later = false
    rpmsg.after(1, function() error("first failure") end)
    rpmsg.after(30, function() later = true; rpmsg.stop() end)
    local before = rpmsg.stats().handler_errors
    local ok, err = pcall(rpmsg.run, {timeout = 2000, raise_errors = true})
    assert.is_false(ok)
    assert.matches("error in rpmsg.after callback: .*: first failure", err)
    assert.is_false(later)
    assert.equal(before + 1, rpmsg.stats().handler_errors)
    helper.run(rpmsg, 2000)   -- what was left still runs
    assert.is_true(later)
  end)
end)

describe("watch", function()
  it("calls the script back when its own fd is readable", function()
    local pipe = io.popen("printf 'from a child'", "r")
    local got
    local w
    w = rpmsg.watch(pipe, function(fd, events)
      assert.matches("r", events)
      got = pipe:read("a")
      w:cancel()
      rpmsg.stop()
    end)
    helper.run(rpmsg, 5000)
    pipe:close()
    assert.equal("from a child", got)
  end)

  it("takes a plain fd number, as from luaposix or an endpoint", function()
    local a, b = rpmsg.pair()
    local got
    local w
    w = rpmsg.watch(b.fd, function(fd)
      assert.equal(b.fd, fd)
      got = b:recv()
      w:cancel()
      rpmsg.stop()
    end)
    a:send("via watch")
    helper.run(rpmsg, 5000)
    assert.equal("via watch", got)
    a:close(); b:close()
  end)

  it("refuses a bad mode", function()
    assert.error_matches(function() rpmsg.watch(0, function() end, "x") end, "mode must be")
  end)
end)

describe("handler errors", function()
  it("are caught, counted, and 1000 in a row leave the loop serving", function()
    local a, b = rpmsg.pair()
    a.on_close = function() end   -- a loop endpoint: sends queue, none is lost
    local before = rpmsg.stats().handler_errors
    local served = 0
    b.on_message = function(msg)
      if msg == "bad" then error("handler exploded") end
      served = served + 1
      rpmsg.stop()
    end
    local sent = 0
    local pump = rpmsg.every(1, function()
      for _ = 1, 100 do
        if sent < 1000 then sent = sent + 1; a:send("bad") end
      end
      if sent == 1000 then sent = sent + 1; a:send("good") end
    end)
    -- handler errors are wanted here: a plain run, only bounded in time
    local ok, err = rpmsg.run{timeout = 10000}
    pump:cancel()
    assert.is_true(ok, err)
    assert.equal(1, served)
    assert.equal(1000, rpmsg.stats().handler_errors - before)
    a:close(); b:close()
  end)
end)
