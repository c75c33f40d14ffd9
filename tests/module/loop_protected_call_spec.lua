-- SPDX-License-Identifier: MIT
-- The loop runs inside one protected call and on_message is called without
-- one of its own: a handler's error unwinds to that call, is reported there
-- once for its message, and the loop goes on with the rest of the wake-up,
-- the failed endpoint's next messages first, then the other events.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

local function queue(ep, ...)
  for _, m in ipairs{...} do assert(ep:send(m)) end   -- all queued before the loop wakes
end

describe("the loop's protected call", function()
  after_each(helper.cancel_armed)

  it("reports each failing handler once and goes on with the same wake-up's messages in order", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    b.on_message = function(msg)
      got[#got + 1] = msg
      if msg:match("^bad") then error("no " .. msg) end
      if #got == 6 then rpmsg.stop() end
    end
    queue(a, "1", "bad2", "3", "bad4", "bad5", "6")
    local before = rpmsg.stats()
    local stats = b:stats()
    -- errors are wanted here: a plain run, only bounded in time
    local ok, err = rpmsg.run{timeout = 5000}
    assert.is_true(ok, err)
    assert.same({"1", "bad2", "3", "bad4", "bad5", "6"}, got)
    local after = rpmsg.stats()
    assert.equal(3, after.handler_errors - before.handler_errors)
    assert.equal(6, after.messages_in - before.messages_in)
    local now = b:stats()
    assert.equal(6, now.handler_calls - stats.handler_calls)
    assert.equal(3, now.handler_errors - stats.handler_errors)
    assert.equal(6, now.messages_in - stats.messages_in)
  end)

  it("gives the failed endpoint's next messages before the other endpoints of that wake-up", function()
    local a1, b1 = rpmsg.pair()
    local a2, b2 = rpmsg.pair()
    finally(function() a1:close(); b1:close(); a2:close(); b2:close() end)
    local got = {}
    b1.on_message = function(msg)
      got[#got + 1] = "b1:" .. msg
      if msg == "bad" then error("b1 fails") end
    end
    b2.on_message = function(msg)
      got[#got + 1] = "b2:" .. msg
      rpmsg.stop()
    end
    queue(a1, "bad", "x")
    queue(a2, "y")
    local ok, err = rpmsg.run{timeout = 5000}
    assert.is_true(ok, err)
    assert.same({"b1:bad", "b1:x", "b2:y"}, got)
  end)

  it("raises from rpmsg.run{raise_errors = true} and leaves the loop ready for the next run", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    b.on_message = function(msg)
      got[#got + 1] = msg
      if msg == "bad" then error("it failed here") end
      rpmsg.stop()
    end
    queue(a, "bad", "good")
    local ok, err = pcall(rpmsg.run, {timeout = 5000, raise_errors = true})
    assert.is_false(ok)
    assert.matches("^error in on_message of endpoint 'pair end b': [^\n]*it failed here\nstack traceback:", err)
    assert.same({"bad"}, got)
    helper.run(rpmsg, 5000)   -- a loop left running would refuse this one
    assert.same({"bad", "good"}, got)
  end)

  it("keeps the protected calls of timers and tasks: their errors end no wake-up", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    b.on_message = function(msg)
      got[#got + 1] = msg
      if #got == 2 then rpmsg.stop() end
    end
    local before = rpmsg.stats().handler_errors
    rpmsg.after(0, function() error("a timer fails") end)
    rpmsg.spawn(function() rpmsg.sleep(1); error("a task fails") end)
    rpmsg.after(20, function() queue(a, "1", "2") end)
    local ok, err = rpmsg.run{timeout = 5000}
    assert.is_true(ok, err)
    assert.same({"1", "2"}, got)
    assert.equal(2, rpmsg.stats().handler_errors - before)
  end)
end)
