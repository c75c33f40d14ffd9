-- SPDX-License-Identifier: MIT
-- Endpoint semantics, on in-process SOCK_SEQPACKET pairs that keep message
-- boundaries as /dev/rpmsgN does.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

describe("endpoint", function()
  local a, b
  before_each(function() a, b = rpmsg.pair() end)
  after_each(function() a:close(); b:close() end)

  it("keeps message boundaries", function()
    assert.is_true(a:send("one"))
    assert.is_true(a:send("two"))
    assert.equal("one", b:recv())
    assert.equal("two", b:recv())
  end)

  it("returns \"\" for a zero-length message, not nil", function()
    a:send("")
    a:send("after")
    assert.equal("", b:recv(rpmsg.MAX_MESSAGE_SIZE, 1000))
    assert.equal("after", b:recv(rpmsg.MAX_MESSAGE_SIZE, 1000))
  end)

  it("returns nil only when the other side is gone, after what was queued", function()
    a:send("last words")
    a:send("")
    a:close()
    assert.equal("last words", b:recv())
    assert.equal("", b:recv())
    local msg, err, code = b:recv()
    assert.is_nil(msg)
    assert.matches("closed %(remote gone%)", err)
    assert.equal("EPIPE", code)
  end)

  it("sends 496 bytes and refuses 497 with nothing sent", function()
    local big = ("x"):rep(496)
    assert.is_true(a:send(big))
    assert.equal(big, b:recv())
    assert.error_matches(function() a:send(big .. "y") end,
      "message is 497 bytes, over the 496%-byte limit")
    local msg, err, code = b:recv(rpmsg.MAX_MESSAGE_SIZE, 50)
    assert.is_nil(msg)
    assert.equal("timeout", err)
    assert.equal("ETIMEDOUT", code)
  end)

  it("truncates to the buffer size asked for, as the device does", function()
    a:send("abcdef")
    a:send("next")
    assert.equal("abc", b:recv(3))
    assert.equal("next", b:recv())
  end)

  it("times out a blocking recv", function()
    local t0 = rpmsg.now()
    assert.is_nil((b:recv(100, 80)))
    assert.is_true(rpmsg.now() - t0 >= 75)
  end)

  it("says EAGAIN on a full low-level send, and loses nothing", function()
    local n = 0
    repeat
      n = n + 1
      local ok, err, code = a:send(("m%d"):format(n))
    until not ok
    local _, err, code = a:send("again")
    assert.equal("EAGAIN", code)
    assert.matches("no free transmit buffer, nothing was sent", err)
    for i = 1, n - 1 do assert.equal(("m%d"):format(i), b:recv()) end
    assert.is_nil((b:recv(100, 0)))
  end)

  it("queues host-level sends that meet EAGAIN and delivers them in order", function()
    local got = {}
    local accepted, err, code = 0, nil, nil
    b.on_message = function(msg)
      got[#got + 1] = msg
      assert.equal(tostring(#got), msg)   -- in order, none lost or repeated
      if #got == accepted then rpmsg.stop() end
    end
    a.on_close = function() end   -- makes `a` a loop endpoint: its sends queue
    repeat
      local ok
      ok, err, code = a:send(tostring(accepted + 1))
      if ok then accepted = accepted + 1 end
    until not ok
    -- more than the socket holds went in: the queue took the rest
    assert.is_true(accepted > 256)
    assert.equal("EAGAIN", code)
    assert.matches("256 messages already wait for a transmit buffer; nothing was sent", err)
    helper.run(rpmsg, 5000)
    assert.equal(accepted, #got)
    for i = 1, accepted do assert.equal(tostring(i), got[i]) end
  end)

  it("raises on wrong types and use after close", function()
    assert.error_matches(function() a:send(42 == 42 and {}) end, "string expected, got table")
    assert.error_matches(function() a.on_message = "not a function" end,
      "on_message must be a function or nil, got string")
    local c, d = rpmsg.pair()
    assert.is_false(c.closed)
    c:close(); d:close()
    assert.is_true(c.closed)
    assert.error_matches(function() c:send("x") end, "closed endpoint")
  end)

  it("reports send on a vanished peer as closed, not a crash", function()
    b:close()
    local ok, err, code = a:send("anyone?")
    assert.is_nil(ok)
    assert.equal("EPIPE", code)
    assert.matches("closed", err)
  end)
end)

describe("endpoint in the loop", function()
  it("dispatches each message to on_message with the endpoint", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)   -- also when it fails
    local got = {}
    b.on_message = function(msg, ep)
      got[#got + 1] = msg
      assert.equal(b, ep)
      if #got == 3 then rpmsg.stop() end
    end
    a:send("1"); a:send(""); a:send("3")
    helper.run(rpmsg, 2000)
    assert.same({"1", "", "3"}, got)
  end)

  it("fires on_close once, with the reason, when the remote goes", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)   -- also when it fails
    local reasons = {}
    b.on_message = function() end
    b.on_close = function(reason) reasons[#reasons + 1] = reason end
    a:send("bye")
    a:close()
    helper.settle(rpmsg, 100)
    assert.same({"remote gone"}, reasons)
    b:close()
    assert.same({"remote gone"}, reasons)
  end)

  it("fires on_close(\"destroyed\") once on destroy, and the fd stays dead", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)   -- also when it fails
    local reasons = {}
    a.on_close = function(reason) reasons[#reasons + 1] = reason end
    assert.is_true(a:destroy())
    local ok, err = a:destroy()
    assert.is_nil(ok)
    assert.matches("already gone %(destroyed%); not destroying it again", err)
    assert.same({"destroyed"}, reasons)
    local msg, e = a:recv(100, 0)
    assert.is_nil(msg)
    assert.matches("closed %(destroyed%)", e)
  end)

  it("leaves messages queued while there is no on_message", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)   -- also when it fails
    a:send("kept")
    b.on_close = function() end
    helper.settle(rpmsg, 30)
    assert.equal("kept", b:recv(100, 0))
  end)
end)

describe("open_ctrl and open_endpoint", function()
  it("return nil, a message naming the device, and ENOENT for a missing device", function()
    local ctrl, err, code = rpmsg.open_ctrl(97)
    assert.is_nil(ctrl)
    assert.matches("/dev/rpmsg_ctrl97", err)
    assert.equal("ENOENT", code)
    local ep, err2, code2 = rpmsg.open_endpoint("/nonexistent/rpmsg3")
    assert.is_nil(ep)
    assert.matches("open /nonexistent/rpmsg3: No such file or directory", err2)
    assert.equal("ENOENT", code2)
  end)

  it("raise on a device argument of the wrong type", function()
    assert.error_matches(function() rpmsg.open_ctrl({}) end, "device number or path expected, got table")
    assert.error_matches(function() rpmsg.open_endpoint(-1) end, "out of range")
  end)

  it("endpoint{} returns nil and the reason when the control device is missing", function()
    local ep, err, code = rpmsg.endpoint{ctrl = 97, name = "x", src = 1024, dst = 1025}
    assert.is_nil(ep)
    assert.matches("rpmsg_ctrl97", err)
    assert.equal("ENOENT", code)
    assert.error_matches(function() rpmsg.endpoint{ctrl = 97, name = "x", src = 1024} end,
      "needs a dst address")
    assert.error_matches(function() rpmsg.endpoint{name = ("n"):rep(32), dst = 1} end,
      "over the 31%-byte limit")
  end)
end)
