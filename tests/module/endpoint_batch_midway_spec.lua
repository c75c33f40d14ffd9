-- SPDX-License-Identifier: MIT
-- What a handler does in the middle of a batch of messages (one wake-up,
-- one protected call after the first): an error whose object is no string,
-- rpmsg.stop(), a task that starts to receive, the collector. Each message
-- is handled once, in order, and an error is reported once, with its
-- handler's name.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

local N = 100   -- more than one wake-up's 64

local function queue(ep, n)
  for i = 1, n do assert(ep:send(tostring(i))) end   -- all queued before the loop wakes
end

local function upto(n)
  local t = {}
  for i = 1, n do t[i] = tostring(i) end
  return t
end

describe("a handler in the middle of a batch", function()
  local cases = {
    {"a table with __tostring", setmetatable({}, {__tostring = function() return "a table says no" end}),
     "a table says no"},
    {"a number", 42, "42"},
    {"nil", nil, "(error object is a nil value)"},
    {"a plain table", {}, "(error object is a table value)"},
  }
  for _, case in ipairs(cases) do
    it("that raises " .. case[1] .. " is reported once, by name, and the rest follow in order", function()
      local a, b = rpmsg.pair()
      finally(function() a:close(); b:close() end)
      local got = {}
      b.on_message = function(msg)
        got[#got + 1] = msg
        if msg == "10" then error(case[2]) end
        if #got == N then rpmsg.stop() end
      end
      queue(a, N)
      local before = rpmsg.stats().handler_errors
      local ok, err = pcall(rpmsg.run, {timeout = 5000, raise_errors = true})
      assert.is_false(ok)
      assert.equal("error in on_message of endpoint 'pair end b': " .. case[3],
                   err:match("^[^\n]*"))
      assert.same(upto(10), got)
      helper.run(rpmsg, 5000)
      assert.same(upto(N), got)
      assert.equal(1, rpmsg.stats().handler_errors - before)
    end)
  end

  it("that calls rpmsg.stop() ends the batch there; the rest wait for the next run", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    b.on_message = function(msg)
      got[#got + 1] = msg
      if msg == "10" or #got == N then rpmsg.stop() end
    end
    queue(a, N)
    helper.run(rpmsg, 5000)
    assert.same(upto(10), got)
    helper.run(rpmsg, 5000)
    assert.same(upto(N), got)
  end)

  it("that starts a task in ep:receive: the task takes the next message, the batch the rest", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got, by_task = {}, nil
    b.on_message = function(msg, ep)
      got[#got + 1] = msg
      if msg == "10" then
        rpmsg.spawn(function()
          by_task = assert(ep:receive(1000))
          got[#got + 1] = by_task
        end)
      end
      if #got == N then rpmsg.stop() end
    end
    queue(a, N)
    helper.run(rpmsg, 5000)
    assert.equal("11", by_task)
    assert.same(upto(N), got)
  end)

  it("that runs a full collection, or closes another endpoint, loses and repeats nothing", function()
    local a, b = rpmsg.pair()
    local c, d = rpmsg.pair()
    finally(function() a:close(); b:close(); c:close(); d:close() end)
    d.on_message = function() end
    local got = {}
    b.on_message = function(msg)
      got[#got + 1] = msg
      collectgarbage()
      if msg == "20" then d:close() end
      if #got == N then rpmsg.stop() end
    end
    queue(a, N)
    helper.run(rpmsg, 5000)
    assert.same(upto(N), got)
    assert.is_true(d.closed)
  end)
end)
