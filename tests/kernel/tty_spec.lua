-- SPDX-License-Identifier: MIT
-- rpmsg.tty{} on the real rpmsg_tty: /dev/ttyRPMSG0 of fake-r5f's
-- rpmsg-tty channel, whose firmware echoes every message back. Full stack
-- only (RUN_IN_GUEST_BACKEND=virtio, the default).
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local guest = require "tests.kernel.guest"
local tty = require "rpmsg.tty"

if guest.skip_unless_virtio("kernel: rpmsg.tty") then return end

local RPROC = guest.rproc

-- Leave fake-r5f running with its channels, whatever a spec did.
local function restore()
  local r = assert(rpmsg.remoteproc(RPROC))
  if r:state() ~= "running" then assert(r:start()) end
  guest.wait_tty("fake-r5f did not come back with its tty")
end

local track, release = guest.tracker()
after_each(function()
  release()
  helper.cancel_armed()
  restore()
end)

-- Collects what arrives for ms milliseconds after the task's last send.
local function drain(t, ms)
  local got = {}
  while true do
    local m = t:receive(ms)
    if not m then break end
    got[#got + 1] = m
  end
  return got
end

describe("kernel: rpmsg.tty on /dev/ttyRPMSG0", function()
  it("echoes binary COBS frames intact: raw mode, no echo loop, no CR/LF translation", function()
    local t = track(assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "cobs"}))
    local all = {}
    for b = 0, 255 do all[#all + 1] = string.char(b) end
    local msgs = {"hello", "\r", "\n", "a\r\nb", table.concat(all), helper.payload(1500, 7), ""}
    local r = helper.run_task(rpmsg, function()
      for _, m in ipairs(msgs) do assert(t:send(m)) end
      -- with the tty's echo on, each echo would go back to the firmware,
      -- which echoes it again: copies would keep coming
      return drain(t, 300)
    end)
    assert.same(msgs, r[1])
    assert.equal(0, t.stats.framing_errors)
  end)

  it("line framing, and the tty found by its channel's name", function()
    local t = track(assert(rpmsg.tty{service = "rpmsg-tty", framing = "line"}))
    assert.equal("/dev/ttyRPMSG0", t.path)
    local r = helper.run_task(rpmsg, function()
      assert(t:send("one"))
      assert(t:send(("x"):rep(700)))
      assert(t:send("three\r"))
      return drain(t, 300)
    end)
    assert.same({"one", ("x"):rep(700), "three"}, r[1])
  end)

  it("reports a frame that does not decode once, and the stream goes on", function()
    local t = track(assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "cobs"}))
    -- a second fd on the same tty, only written to: the firmware echoes the
    -- garbage back into the tty that t reads
    local raw = track(assert(rpmsg.open_tty("/dev/ttyRPMSG0")))
    local errors = {}
    t.on_error = function(err) errors[#errors + 1] = err end
    local r = helper.run_task(rpmsg, function()
      local bytes = "\5xy\0" .. tty.encode("cobs", "after")
      assert.equal(#bytes, raw:write(bytes))
      return drain(t, 300)
    end)
    assert.same({"after"}, r[1])
    assert.equal(1, #errors)
    assert.matches("COBS frame does not decode", errors[1], 1, true)
  end)

  it("goes down with the remote and comes back with it: on_close, ENOTCONN, on_open, echo", function()
    local t = track(assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "line"}))
    local events = {}
    t.on_close = function(reason) events[#events + 1] = "close " .. reason end
    t.on_open = function() events[#events + 1] = "open" end
    local r = assert(rpmsg.remoteproc(RPROC))
    local res = helper.run_task(rpmsg, function()
      assert(t:send("before"))
      assert.equal("before", t:receive(3000))
      for cycle = 1, 2 do
        assert(r:stop())
        assert(helper.wait_for(rpmsg, function() return #events == 2 * cycle - 1 end), "no on_close")
        local ok, _, code = t:send("while down")
        assert.is_nil(ok)
        assert.equal("ENOTCONN", code)
        assert(r:start())
        assert(helper.wait_for(rpmsg, function() return #events == 2 * cycle end), "no on_open")
        assert(t:send("after " .. cycle))
        assert.equal("after " .. cycle, t:receive(3000))
      end
      return true
    end)
    assert.is_true(res[1])
    assert.same({"close remote gone", "open", "close remote gone", "open"}, events)
  end)

  it("comes back when the kernel announces the new tty, not at the next retry", function()
    local t = track(assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "line"}))
    local closed_at, opened_at
    t.on_close = function() closed_at = rpmsg.now() end
    t.on_open = function() opened_at = rpmsg.now() end
    local r = assert(rpmsg.remoteproc(RPROC))
    local started_at
    helper.run_task(rpmsg, function()
      assert(r:stop())
      assert(helper.wait_for(rpmsg, function() return closed_at end), "no on_close")
      -- down 3 s: the retry timer's backoff has grown past 2 s by now
      rpmsg.sleep(3000)
      started_at = rpmsg.now()
      assert(r:start())
      assert(helper.wait_for(rpmsg, function() return opened_at end), "no on_open")
      assert(t:send("quick"))
      assert.equal("quick", t:receive(3000))
    end)
    local delay = opened_at - started_at
    assert(delay < 1000, ("on_open came %d ms after the start: the uevent did not wake it"):format(delay))
  end)

  it("refuses a device that is not a tty, naming it", function()
    local t, err, code = rpmsg.tty{path = "/dev/rpmsg_ctrl0"}
    assert.is_nil(t)
    assert.equal("/dev/rpmsg_ctrl0 is a character device, not a tty", err)
    assert.equal("ENOTTY", code)
    t, err, code = rpmsg.tty{service = "fw-echo"}
    assert.is_nil(t)
    assert.equal("ENOENT", code)
    assert.equal("no tty for the service 'fw-echo' (rpmsg ttys: ttyRPMSG0 ('rpmsg-tty'))", err)
  end)
end)
