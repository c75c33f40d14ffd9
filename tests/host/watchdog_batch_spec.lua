-- SPDX-License-Identifier: MIT
-- The watchdog under a batch of messages: the handlers of one wake-up share
-- a protected call, yet each gets the whole --handler-timeout. Fast
-- handlers that together run longer than it are never aborted; a slow one
-- among them is, alone, and the messages after it are still handled.
local helper = require "tests.helper"

describe("the watchdog with many messages per wake-up", function()
  it("aborts only the slow handler, not a batch of fast ones that add up past the timeout", function()
    local sends = {}
    for i = 1, 30 do sends[#sends + 1] = ("ep:send(%q)"):format("f" .. i) end
    sends[#sends + 1] = 'ep:send("slow")'
    for i = 1, 5 do sends[#sends + 1] = ("ep:send(%q)"):format("a" .. i) end
    local fw = helper.script(([[
      local rpmsg = require "rpmsg"
      ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      %s
      ep:send("next")
    ]]):format(table.concat(sends, "; ")))
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      local got = {}
      ep.on_message = function(m)
        if m == "next" then
          print(("handled %d, errors %d, %s"):format(#got, rpmsg.stats().handler_errors, table.concat(got, " ")))
          rpmsg.stop()
          return
        end
        got[#got + 1] = m
        local t = os.clock()
        if m == "slow" then while true do end end
        while os.clock() - t < 0.02 do end   -- 30 of these: 600 ms, three times the timeout
      end
    ]])
    local status, out, err = helper.host({"--handler-timeout", "200", "--sim", fw, app}, 30)
    assert.equal(0, status, err)
    local handled, errors, order = out:match("^handled (%d+), errors (%d+), (.-)\n$")
    assert.equal("36", handled, out)
    assert.equal("1", errors, out .. err)
    local want = {}
    for i = 1, 30 do want[#want + 1] = "f" .. i end
    want[#want + 1] = "slow"
    for i = 1, 5 do want[#want + 1] = "a" .. i end
    assert.equal(table.concat(want, " "), order)
    assert.matches("on_message of endpoint 'app' ran longer than 200 ms and was aborted by the watchdog", err)
    assert.equal(1, select(2, err:gsub("aborted by the watchdog", "")))
  end)
end)
