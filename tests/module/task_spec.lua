-- SPDX-License-Identifier: MIT
-- Coroutines in the loop: rpmsg.spawn, ep:receive, rpmsg.sleep.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

describe("rpmsg.spawn", function()
  local a, b
  before_each(function()
    a, b = rpmsg.pair()
    b.on_message = function(m) if m ~= "ignore me" then b:send("re:" .. m) end end
  end)
  after_each(function() helper.cancel_armed(); a:close(); b:close() end)   -- leftovers never run into the next spec

  local function run_task(fn) return helper.run_task(rpmsg, fn) end

  it("runs sequential protocol code: send, receive the reply", function()
    local r = run_task(function()
      a:send("get")
      return a:receive(1000)
    end)
    assert.same({"re:get", n = 1}, r)
  end)

  it("gives nil, \"timeout\" after the timeout", function()
    local r = run_task(function()
      a:send("ignore me")
      local t0 = rpmsg.now()
      local msg, err, code = a:receive(60)
      return msg, err, code, rpmsg.now() - t0 >= 55
    end)
    assert.same({nil, "timeout", "ETIMEDOUT", true, n = 4}, r)
  end)

  it("sleeps without blocking the loop", function()
    local ticks = 0
    local t = rpmsg.every(5, function() ticks = ticks + 1 end)
    run_task(function() rpmsg.sleep(60) end)
    t:cancel()
    assert.is_true(ticks >= 5)
  end)

  it("hands a message to a waiting coroutine first, otherwise to on_message", function()
    local seen = {}
    a.on_message = function(m) seen[#seen + 1] = "handler:" .. m end
    local r = run_task(function()
      a:send("first")
      local got = a:receive(1000)
      a:send("second")
      rpmsg.sleep(50)
      return got
    end)
    assert.same({"re:first", n = 1}, r)
    assert.same({"handler:re:second"}, seen)
  end)

  it("serves waiting coroutines in order", function()
    local order = {}
    for i = 1, 3 do
      rpmsg.spawn(function()
        local m = assert(a:receive(1000))
        order[#order + 1] = i .. "=" .. m
        if #order == 3 then rpmsg.stop() end
      end)
    end
    a:send("x"); a:send("y"); a:send("z")
    helper.run(rpmsg, 5000)
    assert.same({"1=re:x", "2=re:y", "3=re:z"}, order)
  end)

  it("wakes a waiting coroutine with nil when the endpoint closes", function()
    local r = run_task(function()
      rpmsg.after(10, function() b:close() end)
      return a:receive(1000)
    end)
    assert.same({nil, "endpoint closed (remote gone)", "EPIPE", n = 3}, r)
  end)

  it("reports a coroutine's error like a handler error", function()
    local before = rpmsg.stats().handler_errors
    rpmsg.spawn(function() rpmsg.sleep(1); error("coroutine failed") end)
    rpmsg.after(30, rpmsg.stop)
    -- the error is wanted here: a plain run, only bounded in time
    assert.is_true(rpmsg.run{timeout = 5000})
    assert.equal(before + 1, rpmsg.stats().handler_errors)
  end)

  it("refuses receive and sleep outside a coroutine", function()
    assert.error_matches(function() a:receive(10) end, "must be called inside rpmsg.spawn")
    assert.error_matches(function() rpmsg.sleep(10) end, "must be called inside rpmsg.spawn")
  end)

  it("suspends until task:wake(...) and returns its values", function()
    local got
    local task = rpmsg.spawn(function()
      assert.is_not_nil(rpmsg.current())
      got = table.pack(rpmsg.suspend(1000))
    end)
    assert.is_true(task:wake("a", nil, 3))
    assert.is_false(task:wake("twice"))   -- not suspended any more
    assert.is_nil(got)                    -- resumed from the loop, not inside wake
    helper.settle(rpmsg, 20)
    assert.same({"a", nil, 3, n = 3}, got)
    assert.is_nil(rpmsg.current())
  end)

  it("gives nil, \"timeout\" when nobody wakes a suspended task", function()
    local r = run_task(function() return rpmsg.suspend(30) end)
    assert.same({nil, "timeout", "ETIMEDOUT", n = 3}, r)
  end)

  it("can be cancelled", function()
    local after = false
    local task = rpmsg.spawn(function() rpmsg.sleep(20); after = true end)
    assert.is_true(task:alive())
    task:cancel()
    helper.settle(rpmsg, 50)
    assert.is_false(after)
    assert.is_false(task:alive())
  end)
end)

describe("reload and coroutines", function()
  it("cancels the old generation's coroutines", function()
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      rpmsg.state.n = (rpmsg.state.n or 0) + 1
      local n = rpmsg.state.n
      rpmsg.spawn(function()
        while true do rpmsg.sleep(5); rpmsg.state.last = n end
      end)
      if n == 1 then rpmsg.after(30, rpmsg.reload) end
      if n == 2 then rpmsg.after(100, function() print("last from", rpmsg.state.last); rpmsg.stop() end) end
    ]])
    local status, out, err = helper.host({app})
    assert.equal(0, status, err)
    assert.equal("last from\t2\n", out)
    helper.assert_no_handler_error(err)
  end)
end)
