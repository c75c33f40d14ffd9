-- SPDX-License-Identifier: MIT
-- rpmsg.tty's framing (lua/lib/tty.lua): COBS both ways, and the decoders
-- that cut a byte stream into messages, reporting a broken message once
-- and going on with the stream.
local helper = require "tests.helper"
local tty = require "rpmsg.tty"

local function collect(framing, max)
  local got, errs = {}, {}
  local feed = tty.decoder(framing, max, function(m) got[#got + 1] = m end,
    function(e) errs[#errs + 1] = e end)
  return feed, got, errs
end

describe("COBS", function()
  it("encodes the textbook vectors", function()
    assert.equal("\1\1", tty.cobs_encode("\0"))
    assert.equal("\1\1\1", tty.cobs_encode("\0\0"))
    assert.equal("\3\17\34\2\51", tty.cobs_encode("\17\34\0\51"))
    assert.equal("\1", tty.cobs_encode(""))
    local s254 = helper.payload(254):gsub("%z", "\1")
    assert.equal("\255" .. s254, tty.cobs_encode(s254))
    assert.equal("\255" .. s254 .. "\2\1", tty.cobs_encode(s254 .. "\1"))
  end)

  it("decodes what it encodes, zeros and long runs included", function()
    for _, n in ipairs{0, 1, 2, 253, 254, 255, 256, 508, 509, 1000, 4000} do
      for seed = 0, 3 do
        local s = helper.payload(n, seed)
        local enc = tty.cobs_encode(s)
        assert.is_nil(enc:find("\0", 1, true), "no 0 byte in an encoded frame")
        assert.equal(s, tty.cobs_decode(enc))
      end
    end
  end)

  it("refuses a frame whose code byte runs past its end, naming where", function()
    local msg, err = tty.cobs_decode("\5ab")
    assert.is_nil(msg)
    assert.matches("COBS frame does not decode: the code byte at offset 0 announces 4 bytes, 2 are left", err, 1, true)
  end)
end)

describe("tty framing", function()
  it("line: one message per newline, CRLF too, across chunks", function()
    local feed, got, errs = collect("line")
    feed("one\ntw")
    feed("o\r\nthree\n\n")
    feed("four")
    assert.same({"one", "two", "three", ""}, got)
    assert.same({}, errs)
    feed("\n")
    assert.equal("four", got[5])
  end)

  it("line: a line over the limit is reported once and the stream goes on", function()
    local feed, got, errs = collect("line", 8)
    feed("ok\n" .. ("x"):rep(5))
    feed(("x"):rep(5))      -- over 8 with no newline yet
    feed(("x"):rep(20))     -- still the same line: not reported again
    feed("x\nnext\n")
    assert.same({"ok", "next"}, got)
    assert.equal(1, #errs)
    assert.matches("line over the limit of 8 bytes", errs[1], 1, true)
    feed(("y"):rep(9) .. "\nafter\n")   -- over the limit inside one chunk
    assert.same({"ok", "next", "after"}, got)
    assert.equal(2, #errs)
    assert.matches("line of 9 bytes is over the limit of 8 bytes: dropped", errs[2], 1, true)
  end)

  it("cobs: frames end at 0; a frame that does not decode is reported once, the next arrives", function()
    local feed, got, errs = collect("cobs")
    local a, b = "bin\0ary\n", helper.payload(600, 1)
    feed(tty.encode("cobs", a) .. "\5xy\0" .. tty.encode("cobs", b):sub(1, 100))
    feed(tty.encode("cobs", b):sub(101) .. "\0" .. tty.encode("cobs", ""))
    assert.same({a, b, ""}, got)
    assert.equal(1, #errs)
    assert.matches("COBS frame does not decode", errs[1], 1, true)
  end)

  it("cobs: the limit is the message's, not its encoded frame's (found by fuzz_tty)", function()
    local feed, got, errs = collect("cobs", 1)
    feed(tty.encode("cobs", "x") .. tty.encode("cobs", "") .. tty.encode("cobs", "xy"))
    assert.same({"x", ""}, got)
    assert.same({"COBS frame over the limit of 1 bytes: dropped"}, errs)
    local feed2, got2 = collect("cobs", 300)
    local m = helper.payload(300, 5):gsub("%z", "\1")
    feed2(tty.encode("cobs", m))   -- 300 bytes take a 302-byte frame
    assert.same({m}, got2)
  end)

  it("line: a CRLF line of exactly the limit arrives", function()
    local feed, got, errs = collect("line", 3)
    feed("abc\r\nabcd\n")
    assert.same({"abc"}, got)
    assert.same({"line of 4 bytes is over the limit of 3 bytes: dropped"}, errs)
  end)

  it("cobs: an empty gap between frames (0 0) is no message and no error", function()
    local feed, got, errs = collect("cobs")
    feed("\0" .. tty.encode("cobs", "x") .. "\0")
    assert.same({"x"}, got)
    assert.same({}, errs)
  end)

  it("raw: each chunk is a message", function()
    local feed, got = collect("raw")
    feed("a\0b")
    feed("\r\n")
    assert.same({"a\0b", "\r\n"}, got)
  end)

  it("line: send refuses a message holding a newline; an unknown framing is named", function()
    assert.equal("x\n", tty.encode("line", "x"))
    assert.has_error(function() tty.encode("line", "a\nb") end,
      "rpmsg.tty: a message of line framing cannot hold a newline")
    assert.has_error(function() tty.decoder("slip") end,
      "rpmsg.tty: unknown framing 'slip' (raw, line or cobs)")
  end)
end)
