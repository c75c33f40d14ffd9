-- SPDX-License-Identifier: MIT
-- Tasks at their limits: thousands of values in and out, a task that
-- cancels itself, and waits too long for an int.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

local function count(...) return select("#", ...) end

describe("rpmsg.spawn and task:wake", function()
  it("pass a few thousand values to the task", function()
    local values = {}
    for i = 1, 5000 do values[i] = i end
    local got
    rpmsg.spawn(function(...) got = {n = count(...), last = select(count(...), ...)} end,
      table.unpack(values))
    assert.same({n = 5000, last = 5000}, got)
  end)

  it("wake a suspended task with a few thousand values", function()
    local values = {}
    for i = 1, 5000 do values[i] = i end
    local got
    local task = rpmsg.spawn(function()
      local function keep(...) got = {n = count(...), last = select(count(...), ...)} end
      keep(rpmsg.suspend(1000))
      rpmsg.stop()
    end)
    assert.is_true(task:wake(table.unpack(values)))
    helper.run(rpmsg, 2000)
    assert.same({n = 5000, last = 5000}, got)
  end)
end)

describe("task:cancel() of the running task", function()
  local function closer(flag)
    return setmetatable({}, {__close = function() flag.closed = true end})
  end

  it("ends it there: the code after it does not run, to-be-closed variables are closed", function()
    local flag, after = {}, false
    local task = rpmsg.spawn(function()
      local _ <close> = closer(flag)
      rpmsg.sleep(1)
      rpmsg.current():cancel()
      after = true
    end)
    helper.settle(rpmsg, 30)
    assert.is_false(after)
    assert.is_true(flag.closed)
    assert.is_false(task:alive())
  end)

  it("is not caught by a pcall around it, and counts no handler error", function()
    local errors = rpmsg.stats().handler_errors
    local after = false
    local task = rpmsg.spawn(function()
      pcall(function() rpmsg.current():cancel() end)
      after = true
    end)
    helper.settle(rpmsg, 10)
    assert.is_false(after)
    assert.is_false(task:alive())
    assert.equal(errors, rpmsg.stats().handler_errors)
  end)

  it("where the task cannot yield (a C boundary), ends it at its next wait", function()
    local flag, reached_wait, after = {}, false, false
    local task = rpmsg.spawn(function()
      local _ <close> = closer(flag)
      local me = rpmsg.current()
      table.sort({3, 2, 1}, function(x, y) me:cancel(); return x < y end)
      assert.is_false(me:alive(), "alive() is false as soon as it is cancelled")
      reached_wait = true
      rpmsg.sleep(1)
      after = true
    end)
    helper.settle(rpmsg, 30)
    assert.is_true(reached_wait)
    assert.is_false(after)
    assert.is_true(flag.closed)
    assert.is_false(task:alive())
  end)

  it("of a task waiting, as before, ends it at once", function()
    local flag = {}
    local task = rpmsg.spawn(function()
      local _ <close> = closer(flag)
      rpmsg.sleep(10000)
    end)
    task:cancel()
    assert.is_true(flag.closed)
    assert.is_false(task:alive())
  end)
end)

describe("milliseconds beyond an int", function()
  it("rpmsg.sleep(2^32) sleeps, rather than returning at once", function()
    local woke = false
    local task = rpmsg.spawn(function() rpmsg.sleep(2^32); woke = true end)
    helper.settle(rpmsg, 30)
    assert.is_false(woke)
    assert.is_true(task:alive())
    task:cancel()
  end)

  it("rpmsg.suspend(2^32) waits, rather than timing out at once", function()
    local got
    local task = rpmsg.spawn(function() got = {rpmsg.suspend(2^32)} end)
    helper.settle(rpmsg, 30)
    assert.is_nil(got)
    assert.is_true(task:wake("here"))
    helper.settle(rpmsg, 10)
    assert.same({"here"}, got)
  end)

  it("rpmsg.after and rpmsg.every take math.maxinteger: armed, never due", function()
    local fired = false
    local a = rpmsg.after(math.maxinteger, function() fired = true end)
    local e = rpmsg.every(math.maxinteger, function() fired = true end)
    helper.settle(rpmsg, 20)
    assert.is_false(fired)
    assert.is_true(a:active() and e:active())
    a:cancel(); e:cancel()
  end)

  it("ep:receive refuses a timeout it cannot honour with a clear error, not a wrapped one", function()
    local a, b = rpmsg.pair()
    local err
    rpmsg.spawn(function() err = select(2, pcall(a.receive, a, 2^32)) end)
    a:close(); b:close()
    assert.matches("timeout out of range", err)
  end)

  it("refuses negative and fractional milliseconds with a clear error", function()
    local errs = {}
    local task = rpmsg.spawn(function()
      errs[1] = select(2, pcall(rpmsg.sleep, -1))
      errs[2] = select(2, pcall(rpmsg.sleep, 1.5))
      errs[3] = select(2, pcall(rpmsg.suspend, -5))
      errs[4] = select(2, pcall(rpmsg.sleep, 2^63))
    end)
    assert.is_false(task:alive())
    assert.matches("must not be negative", errs[1])
    assert.matches("number has no integer representation", errs[2])
    assert.matches("must not be negative", errs[3])
    assert.matches("number has no integer representation", errs[4])
  end)
end)
