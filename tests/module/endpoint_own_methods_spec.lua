-- SPDX-License-Identifier: MIT
-- ep:send is a closure of each endpoint's own, holding its endpoint, so
-- that its type check is one comparison. What a script sees must stay as
-- it was: called on another endpoint it sends on that one, on anything
-- else it refuses as before, and a method held after the endpoint was
-- dropped neither loses the endpoint under it nor reaches freed memory.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

describe("an endpoint's own send", function()
  it("sends on the endpoint it is called on, whichever endpoint it was taken from", function()
    local a, b = rpmsg.pair()
    local c, d = rpmsg.pair()
    finally(function() a:close(); b:close(); c:close(); d:close() end)
    local send_a = a.send
    assert.is_true(send_a(c, "to d"))
    assert.is_true(send_a(a, "to b"))
    assert.is_true(c.send(a, "to b again"))
    assert.equal("to d", d:recv(100, 0))
    assert.equal("to b", b:recv(100, 0))
    assert.equal("to b again", b:recv(100, 0))
    local nothing, why = d:recv(100, 0)
    assert.is_nil(nothing)
    assert.equal("timeout", why)
  end)

  it("refuses anything else that is not an endpoint, as the shared method did", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local timer = rpmsg.after(10000, function() end)
    finally(function() timer:cancel() end)
    for _, self in ipairs{{}, "x", 1, timer, io.stdout, a.send, getmetatable(a).__index} do
      assert.error_matches(function() a.send(self, "x") end, "rpmsg.endpoint expected")
    end
    assert.error_matches(function() a.send() end, "rpmsg.endpoint expected, got no value")
    assert.error_matches(function() a.send(a, {}) end, "string expected, got table")
  end)

  it("says a closed endpoint is closed when called on it", function()
    local a, b = rpmsg.pair()
    finally(function() b:close() end)
    local send = a.send
    a:close()
    assert.error_matches(function() send(a, "x") end, "attempt to use a closed endpoint")
  end)

  it("keeps its endpoint open while the script holds the method, and lets it go after", function()
    local a, b = rpmsg.pair()
    finally(function() b:close() end)
    local send = a.send
    a = nil
    for _ = 1, 3 do collectgarbage() end
    -- a is only reachable through its method: not collected, so not closed
    local nothing, why = b:recv(100, 0)
    assert.is_nil(nothing)
    assert.equal("timeout", why)
    send = nil
    for _ = 1, 3 do collectgarbage() end
    local gone, how = b:recv(100, 0)
    assert.is_nil(gone)
    assert.is_not.equal("timeout", how)   -- the peer closed when a was collected
  end)

  it("held after its endpoint was collected and new userdata made, refuses them all", function()
    local status, out, err = helper.sh(("timeout -s KILL 20 lua5.4 -e %s </dev/null"):format(helper.q(
      "package.cpath = '" .. helper.build .. "/?.so;' .. package.cpath\n" .. [[
      local rpmsg = require 'rpmsg'
      local sends = {}
      for i = 1, 50 do local a, b = rpmsg.pair(); sends[i] = a.send; a:close(); b:close() end
      for _ = 1, 3 do collectgarbage() end
      local refused = 0
      for i = 1, 50 do
        local x, y = rpmsg.pair()
        for _, s in ipairs(sends) do
          local ok, e = pcall(s, io.stdout, "x")
          if not ok and e:match("rpmsg.endpoint expected") then refused = refused + 1 end
        end
        assert(sends[i](x, "ok") == true and y:recv(10, 0) == "ok")
        x:close(); y:close()
      end
      io.write(refused)
    ]])))
    assert.equal(0, status, "the process failed: " .. tostring(err))
    assert.equal(tostring(50 * 50), out)
  end)
end)
