-- SPDX-License-Identifier: MIT
-- The loop's message handler runs at every error raised while it is the
-- current one, also for an error that never reaches the loop's protected
-- call: load() catches its reader's error under the same message handler.
-- Such a handler succeeded: it must be neither reported nor counted as
-- failed, and its endpoint's next messages come in the usual way.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

describe("an error caught inside on_message", function()
  after_each(helper.cancel_armed)

  it("by load() from its reader is no handler error: nothing reported, nothing counted", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    b.on_message = function(msg)
      local f, err = load(function() error("the reader fails") end)
      assert(f == nil and tostring(err):match("the reader fails"), "load did not catch its reader's error")
      got[#got + 1] = msg
      if #got == 3 then rpmsg.stop() end
    end
    for _, m in ipairs{"1", "2", "3"} do assert(a:send(m)) end
    local before = rpmsg.stats()
    local stats = b:stats()
    local lines = helper.capture_log(rpmsg, function() helper.run(rpmsg, 5000) end)
    assert.same({"1", "2", "3"}, got)
    assert.equal(0, rpmsg.stats().handler_errors - before.handler_errors)
    local now = b:stats()
    assert.equal(3, now.handler_calls - stats.handler_calls)
    assert.equal(0, now.handler_errors - stats.handler_errors)
    assert.same({}, lines)
  end)

  it("by load() and then a real error in the same call: that error is reported, once", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    b.on_message = function(msg)
      got[#got + 1] = msg
      load(function() error("the reader fails") end)
      if msg == "bad" then error("the real failure") end
      if #got == 2 then rpmsg.stop() end
    end
    assert(a:send("bad")); assert(a:send("good"))
    local before = rpmsg.stats().handler_errors
    local ok, err = pcall(rpmsg.run, {timeout = 5000, raise_errors = true})
    assert.is_false(ok)
    assert.matches("the real failure", err, 1, true)
    assert.equal(1, rpmsg.stats().handler_errors - before)
    helper.run(rpmsg, 5000)
    assert.same({"bad", "good"}, got)
  end)
end)
