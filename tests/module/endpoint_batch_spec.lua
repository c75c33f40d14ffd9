-- SPDX-License-Identifier: MIT
-- The messages of one wake-up share a protected call after the first: what
-- a script sees must stay per message. A handler error in the middle of a
-- batch is reported for its message and the rest are still handled, in
-- order; the endpoint's counters count each message; a property read in a
-- handler is current at once.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

local function queue(ep, n)
  for i = 1, n do assert(ep:send(tostring(i))) end   -- all queued before the loop wakes
end

describe("a batch of messages", function()
  it("goes on after a handler error in its middle, in order, each error counted once", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    b.on_message = function(msg)
      got[#got + 1] = msg
      if msg == "3" or msg == "5" then error("boom at " .. msg) end
      if #got == 10 then rpmsg.stop() end
    end
    queue(a, 10)
    local before = rpmsg.stats().handler_errors
    -- handler errors are wanted here: a plain run, only bounded in time
    local ok, err = rpmsg.run{timeout = 5000}
    assert.is_true(ok, err)
    assert.same({"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, got)
    assert.equal(2, rpmsg.stats().handler_errors - before)
    local s = b:stats()
    assert.equal(10, s.handler_calls)
    assert.equal(2, s.handler_errors)
    assert.equal(10, s.messages_in)
  end)

  it("reports a handler error for its own message, with its traceback", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    local function fail_on_four(msg)
      if msg == "4" then error("four is wrong") end
    end
    b.on_message = function(msg)
      got[#got + 1] = msg
      fail_on_four(msg)
      if #got == 6 then rpmsg.stop() end
    end
    queue(a, 6)
    local ok, err = pcall(rpmsg.run, {timeout = 5000, raise_errors = true})
    assert.is_false(ok)
    assert.matches("^error in on_message of endpoint '[^']+': [^\n]*: four is wrong\nstack traceback:\n", err)
    assert.matches("in [^\n]*fail_on_four", err)
    assert.same({"1", "2", "3", "4"}, got)   -- raise_errors stops the run at the error
    helper.run(rpmsg, 2000)                    -- the rest still come, in order
    assert.same({"1", "2", "3", "4", "5", "6"}, got)
  end)

  it("times each message's handler on its own", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local n = 0
    b.on_message = function()
      n = n + 1
      if n == 2 then   -- inside the shared protected call
        local t = os.clock()
        while os.clock() - t < 0.03 do end   -- one slow handler among fast ones
      end
      if n == 8 then rpmsg.stop() end
    end
    queue(a, 8)
    helper.run(rpmsg, 5000)
    local s = b:stats()
    assert.equal(8, s.handler_calls)
    assert.is_true(s.handler_max >= 0.03, "max " .. s.handler_max)
    assert.is_true(s.handler_max <= s.handler_time)
    -- each of the 6 after it timed from its own start, not from the slow
    -- one's: together far less than it (a wall clock: a loaded machine
    -- stretches all of them alike)
    assert.is_true(s.handler_time < 3 * s.handler_max, ("time %g, max %g"):format(s.handler_time, s.handler_max))
  end)

  it("lets a handler removed in the middle of a batch leave the rest queued", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    b.on_close = function() end
    b.on_message = function(msg, ep)
      got[#got + 1] = msg
      if msg == "3" then ep.on_message = nil; rpmsg.after(20, rpmsg.stop) end
    end
    queue(a, 6)
    helper.run(rpmsg, 2000)
    assert.same({"1", "2", "3"}, got)
    assert.equal("4", b:recv(100, 0))
  end)
end)

describe("ep.closed", function()
  it("is true inside the handler the moment the endpoint dies", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local seen
    b.on_message = function(_, ep)
      local before = ep.closed
      a:close()                                -- the remote goes
      local ok, _, code = ep:send("reply")     -- EPIPE: the device layer marks it dead
      seen = {before, ok, code, ep.closed}
      rpmsg.stop()
    end
    a:send("x")
    helper.run(rpmsg, 2000)
    assert.same({false, nil, "EPIPE", true}, {seen[1], seen[2], seen[3], seen[4]})
  end)
end)
