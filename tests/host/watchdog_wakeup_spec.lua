-- SPDX-License-Identifier: MIT
-- The first on_message of a wake-up gets the whole --handler-timeout from
-- when it starts, whatever Lua ran before it in the same wake-up: a task
-- resumed by another endpoint's message, or a timer. Its deadline must not
-- be counted from the wake-up, which would abort a handler that is not slow.
local helper = require "tests.helper"

describe("the watchdog across one wake-up", function()
  it("gives on_message its own time after a task that another endpoint's message resumed", function()
    local fw = helper.script([[
      local rpmsg = require "rpmsg"
      a = assert(rpmsg.endpoint{name = "fw-a", src = 1025, dst = 1024})
      b = assert(rpmsg.endpoint{name = "fw-b", src = 1027, dst = 1026})
      rpmsg.after(200, function()   -- both wait by then: one wake-up takes both
        a:send("to a")
        b:send("to b")
      end)
    ]])
    -- Wall time (rpmsg.now), so a loaded machine stretches nothing: each
    -- runs 600 ms, well under the 1000 ms timeout, the two together over it.
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      local function busy(ms) local t = rpmsg.now() while rpmsg.now() - t < ms do end end
      local order = {}
      local a = assert(rpmsg.endpoint{name = "app-a", src = 1024, dst = 1025})
      local b = assert(rpmsg.endpoint{name = "app-b", src = 1026, dst = 1027})
      local function done()
        if #order == 2 then
          print(("%s, errors %d"):format(table.concat(order, " "), rpmsg.stats().handler_errors))
          rpmsg.stop()
        end
      end
      rpmsg.after(5000, function()   -- a failure ends the run, not the spec's timeout
        print("gave up after " .. table.concat(order, " "))
        rpmsg.stop()
      end)
      rpmsg.spawn(function()
        local m = assert(a:receive(10000))
        busy(600)
        order[#order + 1] = m
        done()
      end)
      b.on_message = function(m)
        busy(600)
        order[#order + 1] = m
        done()
      end
    ]])
    local status, out, err = helper.host({"--handler-timeout", "1000", "--sim", fw, app}, 30)
    assert.equal(0, status, err)
    assert.equal("to a to b, errors 0\n", out, err)
    assert.not_matches("aborted by the watchdog", err)
  end)
end)
