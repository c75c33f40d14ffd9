-- SPDX-License-Identifier: MIT
-- The endpoint's message path keeps its handler in a slot and finds its
-- methods without a call into C: what the script sees must not change.
-- A handler set or replaced at any time takes the next message; methods
-- check what they are called on; fields and methods keep their places.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

describe("endpoint handler slots", function()
  it("a handler set after creation takes the next message", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    b.on_close = function() end   -- watched, but nothing takes messages yet
    a:send("early")
    helper.settle(rpmsg, 30)
    local got = {}
    b.on_message = function(msg) got[#got + 1] = msg; rpmsg.stop() end
    helper.run(rpmsg, 2000)
    assert.same({"early"}, got)
  end)

  it("a handler replaced inside a handler takes the very next message of the same wake-up", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local first, second = {}, {}
    b.on_message = function(msg, ep)
      first[#first + 1] = msg
      ep.on_message = function(m)
        second[#second + 1] = m
        if #second == 2 then rpmsg.stop() end
      end
    end
    a:send("1"); a:send("2"); a:send("3")   -- all queued before the loop wakes
    helper.run(rpmsg, 2000)
    assert.same({"1"}, first)
    assert.same({"2", "3"}, second)
  end)

  it("a handler removed inside a handler leaves the rest queued", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local got = {}
    b.on_message = function(msg, ep)
      got[#got + 1] = msg
      ep.on_message = nil
      rpmsg.after(20, rpmsg.stop)
    end
    b.on_close = function() end
    a:send("1"); a:send("2"); a:send("3")
    helper.run(rpmsg, 2000)
    assert.same({"1"}, got)
    assert.equal("2", b:recv(100, 0))
    assert.equal("3", b:recv(100, 0))
  end)

  it("reads back the handler the script set", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local f = function() end
    b.on_message = f
    assert.equal(f, b.on_message)
    b.on_message = nil
    assert.is_nil(b.on_message)
  end)
end)

describe("endpoint methods and fields", function()
  it("methods refuse to run on anything but an endpoint, naming the type", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local timer = rpmsg.after(10000, function() end)
    finally(function() timer:cancel() end)
    for _, self in ipairs{{}, "x", 1, timer, io.stdout} do
      assert.error_matches(function() a.send(self, "x") end, "rpmsg.endpoint expected")
      assert.error_matches(function() a.close(self) end, "rpmsg.endpoint expected")
    end
    assert.error_matches(function() a.send() end, "rpmsg.endpoint expected, got no value")
  end)

  it("the metatable's __index is a table of the methods; the fallback behind it answers only for an endpoint", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local methods = getmetatable(a).__index
    assert.equal("table", type(methods))
    assert.equal(a.send, rawget(methods, "send"))
    assert.is_nil(rawget(methods, "fd"))
    local fallback = debug.getmetatable(methods).__index   -- the kind is hidden from getmetatable
    assert.equal(a.fd, fallback(methods, "fd"))
    assert.is_nil(fallback({}, "fd"))
    assert.is_nil(fallback(getmetatable(a), "fd"))
    assert.is_nil(getmetatable(a).fd)   -- the metatable itself holds no endpoint
    assert.is_nil(a.__gc)               -- nor are the metamethods fields
  end)

  it("a method name always means the method, and one endpoint's method serves another", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    assert.is_true(b.send(a, "by b's send, on a"))   -- ep:send is each endpoint's own closure
    assert.equal("by b's send, on a", b:recv(100, 0))
    assert.equal(a.recv, b.recv)
    assert.error_matches(function() a.send = function() end end, "is a method")
    assert.equal("function", type(a.send))
    assert.is_true(a:send("still the method"))
    assert.equal("still the method", b:recv(100, 0))
  end)

  it("a field named like no property or method is the script's, and unknown names are nil", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    a.count = 1
    a.count = a.count + 1
    assert.equal(2, a.count)
    assert.is_nil(a.nothing_here)
    assert.equal("number", type(a.fd))   -- properties still answer
    assert.is_false(a.closed)
  end)
end)
