-- SPDX-License-Identifier: MIT
-- rpmsg.frag under a faulty or hostile sender: a duplicated message is
-- reported as a duplicate and never delivered twice, and a flood of bad
-- fragments is counted in full but logged at a bounded rate.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local frag = require "rpmsg.frag"

local payload = helper.payload

-- Feeds fragments to one reassembler; returns what it delivered and reported.
local function feed_all(parts, rx)
  rx = rx or frag.reassembler()
  local got, errs = {}, {}
  for _, p in ipairs(parts) do
    local out, err = rx:feed(p)
    if out then got[#got + 1] = out end
    if err then errs[#errs + 1] = err end
  end
  return got, errs, rx
end

local function capture_log(fn) return helper.capture_log(rpmsg, fn) end

describe("rpmsg.frag, duplicates", function()
  it("delivers a duplicated one-fragment message once, and reports the repeat", function()
    local one = frag.split("only once", 7)
    assert.equal(1, #one)
    local got, errs, rx = feed_all({one[1], one[1]})
    assert.same({"only once"}, got)
    assert.same({"message 7: fragment 0 repeated after the message was delivered, ignored"}, errs)
    assert.equal(1, rx.errors)
  end)

  it("reports a repeated last fragment as a repeat, not as a message without its start", function()
    local parts = frag.split(payload(1000, 1), 3)   -- 3 fragments
    local got, errs = feed_all({parts[1], parts[2], parts[3], parts[3]})
    assert.same({payload(1000, 1)}, got)
    assert.same({"message 3: fragment 2 repeated after the message was delivered, ignored"}, errs)
  end)

  it("delivers the next message after a repeat", function()
    local a, b = frag.split("first", 1), frag.split("second", 2)
    local got, errs = feed_all({a[1], a[1], b[1]})
    assert.same({"first", "second"}, got)
    assert.equal(1, #errs)
  end)

  it("takes a new message that reuses the id of the last one with other content (a restarted sender)", function()
    local got, errs = feed_all({frag.split("before", 0)[1], frag.split("after restart", 0)[1]})
    assert.same({"before", "after restart"}, got)
    assert.same({}, errs)
  end)

  it("does not let a late repeat of the last message cut off the one in progress", function()
    local a, b = frag.split("done", 1), frag.split(payload(1000, 2), 2)
    local got, errs = feed_all({a[1], b[1], a[1], b[2], b[3]})
    assert.same({"done", payload(1000, 2)}, got)
    assert.same({"message 1: fragment 0 repeated after the message was delivered, ignored"}, errs)
  end)
end)

describe("frag.receiver under a flood of bad fragments", function()
  local a, b
  before_each(function() a, b = rpmsg.pair() end)
  after_each(function() a:close(); b:close() end)

  it("logs the first few per second, then one line with the number not logged, and counts them all", function()
    local got = {}
    local rx
    local lines = capture_log(function()
      rx = frag.receiver(b, function(p) got[#got + 1] = p end)
      for i = 1, 200 do a:send(("garbage "):rep(3) .. i) end
      for _, p in ipairs(frag.split("fine", 3)) do a:send(p) end
      helper.settle(rpmsg, 1300)   -- the summary comes when the second is over
    end)
    assert.same({"fine"}, got)
    assert.equal(200, rx.errors)
    assert.is_true(#lines <= 6, ("%d log lines for 200 bad fragments"):format(#lines))
    assert.matches("^frag: endpoint .*: not a fragment: magic byte 0x67, expected 0xFA$", lines[1])
    assert.matches("^frag: endpoint .*: %d+ more faults in the last second %(not logged%)$", lines[#lines])
    local shown = #lines - 1
    assert.equal(200 - shown, tonumber(lines[#lines]:match(": (%d+) more faults")))
  end)
end)

describe("frag.receiver's log limit under rpmsg-lua", function()
  it("writes the count of lines held back when the host stops within the second", function()
    local script = helper.script([[
      local rpmsg, frag = require "rpmsg", require "rpmsg.frag"
      local a, b = rpmsg.pair()
      frag.receiver(b, function() end)
      for i = 1, 50 do a:send(("garbage "):rep(3) .. i) end
      rpmsg.after(100, rpmsg.stop)
    ]])
    local status, _, err = helper.host({script})
    assert.equal(0, status)
    local _, lines = err:gsub("not a fragment", "")
    assert.is_true(lines <= 5, lines .. " lines logged")
    assert.matches(": " .. (50 - lines) .. " more faults in the last second (not logged)", err, 1, true)
  end)
end)
