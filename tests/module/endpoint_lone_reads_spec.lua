-- SPDX-License-Identifier: MIT
-- An endpoint whose wake-ups find one message each reads one and goes back
-- to epoll (no second read that finds the queue empty); it still tries a
-- whole batch every few wake-ups, so a burst is taken in batches again, and
-- nothing is lost or reordered either way.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

describe("an endpoint that got one message per wake-up", function()
  after_each(helper.cancel_armed)

  it("takes a burst that follows in whole batches again, every message in order", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got, wakeups, marked = {}, 0, false
    local phase = "lone"
    local BURST = 200
    -- one timer per wake-up: armed by its first message, it fires after
    -- that wake-up's messages
    local function count_wakeup()
      if marked then return end
      marked = true
      rpmsg.after(0, function() marked = false; wakeups = wakeups + 1 end)
    end
    a.on_message = function(msg)   -- the remote: answers each lone message with the next
      local i = tonumber(msg)
      if i < 40 then assert(a:send(tostring(i + 1))) return end
      phase = "burst"
      wakeups = 0
      for j = 1, BURST do assert(a:send("burst " .. j)) end
    end
    b.on_message = function(msg)
      if phase == "lone" then
        got[#got + 1] = msg
        assert(b:send(msg))
        return
      end
      count_wakeup()
      got[#got + 1] = msg
      if msg == "burst " .. BURST then rpmsg.stop() end
    end
    assert(a:send("1"))
    helper.run(rpmsg, 10000)
    local want = {}
    for i = 1, 40 do want[i] = tostring(i) end
    for j = 1, BURST do want[40 + j] = "burst " .. j end
    assert.same(want, got)
    -- 200 messages in batches of 64 after at most 15 lone wake-ups: about
    -- 20 wake-ups (10 here); one message per wake-up would be 200
    assert.is_true(wakeups < 60, "the burst took " .. wakeups .. " wake-ups")
  end)

  it("still sees the remote go after lone wake-ups", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local n, reason = 0, nil
    b.on_message = function(msg)
      n = n + 1
      if n < 20 then assert(b:send(msg)) else a:close() end
    end
    b.on_close = function(why) reason = why; rpmsg.stop() end
    a.on_message = function(msg) assert(a:send(msg)) end
    assert(a:send("ping"))
    helper.run(rpmsg, 5000)
    assert.equal(20, n)
    assert.is_string(reason)
  end)

  it("reads an empty message as a message, in lone wake-ups too", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    b.on_message = function(msg)
      got[#got + 1] = msg
      if #got == 30 then rpmsg.stop() else assert(b:send("more")) end
    end
    a.on_message = function() assert(a:send("")) end
    assert(a:send(""))
    helper.run(rpmsg, 5000)
    assert.equal(30, #got)
    for i = 1, 30 do assert.equal("", got[i]) end
  end)
end)
