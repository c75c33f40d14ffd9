-- SPDX-License-Identifier: MIT
-- The collector works between wake-ups of the loop, not in the middle of a
-- message: handlers that allocate a little each never pay for a collector
-- step (seen here through finalizers, which only run inside a step).
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

describe("the collector between wake-ups", function()
  it("takes its steps outside handlers while each wake-up allocates little", function()
    local in_handler, inside, total = false, 0, 0
    local mt = { __gc = function()
      total = total + 1
      if in_handler then inside = inside + 1 end
    end }
    local a, b = rpmsg.pair()
    local trips = 0
    local payload = string.rep("x", 64)
    b.on_message = function(msg, ep)
      in_handler = true
      setmetatable({}, mt)
      ep:send(msg)
      in_handler = false
    end
    a.on_message = function(msg, ep)
      in_handler = true
      setmetatable({}, mt)
      trips = trips + 1
      if trips < 20000 then ep:send(msg) else rpmsg.stop() end
      in_handler = false
    end
    assert(a:send(payload))
    helper.run(rpmsg, 30000)
    a:close()
    b:close()
    assert.equal(20000, trips)
    assert.is_true(total > 1000, "the collector ran (" .. total .. " finalizers)")
    assert.equal(0, inside)
  end)

  it("leaves a stopped collector stopped", function()
    -- In a fresh lua5.4 with a small heap, where a collector step would
    -- soon free the garbage (busted's own heap is too big to show it).
    local script = [[
      package.cpath = ... .. "/?.so;" .. package.cpath
      local rpmsg = require "rpmsg"
      collectgarbage("stop")
      local before = collectgarbage("count")
      local a, b = rpmsg.pair()
      local n, last = 0, nil
      b.on_message = function(msg, ep) ep:send(msg) end
      a.on_message = function(msg, ep)
        n = n + 1
        if n < 2000 then ep:send(msg) else last = collectgarbage("count"); rpmsg.stop() end
      end
      assert(a:send(string.rep("y", 64)))
      assert(rpmsg.run{timeout = 10000, raise_errors = true})
      print(n, collectgarbage("isrunning"), math.floor(last - before))
    ]]
    local status, out, err = helper.sh("lua5.4 -e " .. helper.q(script:gsub("%.%.%.", helper.q(helper.build)))
      .. " 2>&1")
    assert.equal(0, status, out .. err)
    local n, running, grown = out:match("(%d+)%s+(%a+)%s+(%d+)")
    assert.equal("2000", n, out)
    assert.equal("false", running)
    -- 4,000 messages of 64 bytes: at least 256 KiB of strings, none freed
    assert.is_true(tonumber(grown) > 256, "the heap grew, uncollected: " .. out)
  end)
end)
