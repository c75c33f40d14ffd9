-- SPDX-License-Identifier: MIT
-- rpmsg.frag: payloads up to the limit cross 496-byte messages intact, and
-- a damaged message (lost, repeated, interleaved or corrupt fragments) is
-- reported and never delivered.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local frag = require "rpmsg.frag"

local payload = helper.payload

-- Runs the loop until done() is true (checked every 5 ms); fails the spec on
-- a handler or task error, or when 10 s pass first.
local function run_until(done)
  local t = rpmsg.every(5, function() if done() then rpmsg.stop() end end)
  helper.run(rpmsg, 10000)
  t:cancel()
end

-- Feeds fragments to a fresh reassembler; returns what it delivered and reported.
local function feed_all(parts, opts)
  local rx = frag.reassembler(opts)
  local got, errs = {}, {}
  for _, p in ipairs(parts) do
    local out, err = rx:feed(p)
    if out then got[#got + 1] = out end
    if err then errs[#errs + 1] = err end
  end
  return got, errs, rx
end

local function concat(...)
  local out = {}
  for _, list in ipairs{...} do for _, x in ipairs(list) do out[#out + 1] = x end end
  return out
end

describe("rpmsg.frag", function()
  local a, b
  before_each(function() a, b = rpmsg.pair() end)
  after_each(function() helper.cancel_armed(); a:close(); b:close() end)   -- leftovers never run into the next spec

  it("carries 64 KiB and the sizes around a fragment's edge across endpoints intact", function()
    local sizes = {0, 1, 479, 480, 481, 496, 4096, 65535, 65536}
    local got, errors = {}, {}
    local rx = frag.receiver(b, function(p) got[#got + 1] = p end,
      {on_error = function(err) errors[#errors + 1] = err end})
    rpmsg.spawn(function()
      for i, n in ipairs(sizes) do assert(frag.send(a, payload(n, i))) end
    end)
    run_until(function() return #got == #sizes end)
    assert.same({}, errors)
    assert.equal(#sizes, #got)
    for i, n in ipairs(sizes) do
      assert.equal(n, #got[i])
      assert.is_true(got[i] == payload(n, i), "payload " .. i .. " differs")
    end
    assert.equal(0, rx.errors)
  end)

  it("puts the documented 16-byte header on each fragment of at most 496 bytes", function()
    local data = payload(1000)
    local parts = frag.split(data, 42)
    assert.equal(3, #parts)
    assert.same({496, 496, 56}, {#parts[1], #parts[2], #parts[3]})
    for i, p in ipairs(parts) do
      local magic, version, id, index, count, total, crc = string.unpack("<BBI2I2I2I4I4", p)
      assert.same({0xFA, 1, 42, i - 1, 3, 1000, frag.crc32(data)}, {magic, version, id, index, count, total, crc})
    end
    assert.equal(data, parts[1]:sub(17) .. parts[2]:sub(17) .. parts[3]:sub(17))
  end)

  it("uses the CRC-32 of zlib and Ethernet", function()
    assert.equal(0xCBF43926, frag.crc32("123456789"))
    assert.equal(0, frag.crc32(""))
  end)

  it("numbers the messages it sends on an endpoint", function()
    local ids = {}
    b.on_message = function(m) ids[#ids + 1] = string.unpack("<I2", m, 3) end
    for _ = 1, 3 do assert(frag.send(a, "x")) end
    run_until(function() return #ids == 3 end)
    assert.same({0, 1, 2}, ids)
  end)

  it("never interleaves concurrent sends on one endpoint, even when the queue fills", function()
    local got, errors = {}, {}
    frag.receiver(b, function(p) got[#got + 1] = p end,
      {on_error = function(err) errors[#errors + 1] = err end})
    a.on_message = function() end    -- a loop endpoint: sends that meet EAGAIN queue
    local sent = {}
    for i = 1, 6 do sent[i] = payload(65536, i) end
    local sleep, naps = rpmsg.sleep, 0
    rpmsg.sleep = function(ms) naps = naps + 1; return sleep(ms) end
    finally(function() rpmsg.sleep = sleep end)
    for i = 1, 6 do rpmsg.spawn(function() assert(frag.send(a, sent[i])) end) end
    run_until(function() return #got == 6 end)
    assert.is_true(naps > 0, "the send queue never filled: the test proves nothing")
    assert.same({}, errors)
    local seen = {}
    for _, p in ipairs(got) do
      for i = 1, 6 do if p == sent[i] then seen[i] = true end end
    end
    assert.same({true, true, true, true, true, true}, seen)
  end)

  describe("limit", function()
    it("refuses a payload over the limit, naming sizes and the fix", function()
      assert.error_matches(function() frag.send(a, payload(65537)) end,
        "frag: payload of 65537 bytes is over the limit of 65536 bytes (raise {limit = N} on both sides)", nil, true)
      assert.error_matches(function() frag.send(a, 42) end, "frag: payload must be a string, got number", nil, true)
    end)

    it("is configurable on both sides", function()
      local data = payload(200000)
      local got = feed_all(frag.split(data, 1, {limit = 200000}), {limit = 200000})
      assert.is_true(got[1] == data)
    end)

    it("makes the receiver drop a message announced over its limit, without holding it", function()
      local got, errs = feed_all(frag.split(payload(5000), 9, {limit = 10000}), {limit = 4096})
      assert.same({}, got)
      assert.same({"message 9 announces 5000 bytes, over the limit of 4096: dropped"}, errs)
    end)
  end)

  describe("detects and reports, and never delivers damaged data:", function()
    local one, two
    before_each(function()
      one = frag.split(payload(2000, 1), 1)   -- 5 fragments
      two = frag.split(payload(700, 2), 2)    -- 2 fragments
    end)

    it("a lost fragment", function()
      local got, errs = feed_all(concat({one[1], one[2], one[4], one[5]}, two))
      assert.same({"message 1 (2 of 5 fragments in): fragment 2 lost: dropped"}, errs)
      assert.same({payload(700, 2)}, got)   -- the next message is fine
    end)

    it("lost fragments at the start", function()
      local got, errs = feed_all(concat({one[3], one[4], one[5]}, two))
      assert.same({"message 1: fragment 2 of 5 without the fragments before it: dropped"}, errs)
      assert.same({payload(700, 2)}, got)
    end)

    it("a message cut off by the next one", function()
      local got, errs = feed_all(concat({one[1], one[2]}, two))
      assert.same({"message 1 (2 of 5 fragments in) cut off by the start of message 2: dropped"}, errs)
      assert.same({payload(700, 2)}, got)
    end)

    it("a duplicated fragment, which is ignored while the message still arrives intact", function()
      local got, errs = feed_all({one[1], one[2], one[3], one[3], one[4], one[5]})
      assert.same({"message 1: fragment 2 repeated, ignored"}, errs)
      assert.same({payload(2000, 1)}, got)
    end)

    it("interleaved messages: neither is delivered", function()
      local got, errs = feed_all({one[1], one[2], two[1], one[3], two[2], one[4], one[5]})
      -- two[1] cuts message 1 off; one[3] then lands in the middle of message 2
      assert.same({
        "message 1 (2 of 5 fragments in) cut off by the start of message 2: dropped",
        "fragment 2 of message 1 interleaved into message 2 (1 of 2 fragments in): both dropped",
      }, errs)
      assert.same({}, got)
    end)

    it("a corrupt payload byte, by the CRC", function()
      local bad = one[3]:sub(1, 100) .. "\255" .. one[3]:sub(102)
      local got, errs = feed_all(concat({one[1], one[2], bad, one[4], one[5]}, two))
      assert.same({"message 1: CRC mismatch, the payload is corrupt: dropped"}, errs)
      assert.same({payload(700, 2)}, got)
    end)

    it("a fragment whose header disagrees with the first", function()
      local h = {string.unpack("<BBI2I2I2I4I4", one[2])}
      local bad = string.pack("<BBI2I2I2I4I4", h[1], h[2], h[3], h[4], h[5], 1999, h[7]) .. one[2]:sub(17)
      local got, errs = feed_all({one[1], bad, one[3], one[4], one[5]})
      assert.same({"message 1 (1 of 5 fragments in): fragment 1 disagrees with the first about count, total or CRC: dropped"}, errs)
      assert.same({}, got)
    end)

    it("a truncated fragment, by the length", function()
      local got, errs = feed_all({one[1], one[2], one[3], one[4], one[5]:sub(1, -2)})
      assert.same({"message 1: fragments carry 1999 bytes, 2000 announced: dropped"}, errs)
      assert.same({}, got)
    end)

    it("a message that is not a fragment at all", function()
      local got, errs, rx = feed_all({"hello", ("x"):rep(20), one[1]:sub(1, 1) .. "\2" .. one[1]:sub(3)})
      assert.same({
        "not a fragment: 5 bytes, shorter than the 16-byte header",
        "not a fragment: magic byte 0x78, expected 0xFA",
        "fragment version 2, this side speaks 1",
      }, errs)
      assert.same({}, got)
      assert.equal(3, rx.errors)
    end)
  end)

  it("frag.receiver logs faults with rpmsg.log when no on_error is given, and goes on", function()
    local got = {}
    frag.receiver(b, function(p) got[#got + 1] = p end)
    a:send("garbage")
    for _, p in ipairs(frag.split("fine", 3)) do a:send(p) end
    run_until(function() return #got == 1 end)
    assert.same({"fine"}, got)
  end)
end)
