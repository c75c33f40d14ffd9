-- SPDX-License-Identifier: MIT
-- Observation on the full stack in the QEMU guest (fake-r5f's firmware
-- echoes every message): the --trace of a known exchange, the pcapng
-- file, the per-endpoint counters, and `rpmsg-lua bench` against the
-- in-kernel echo. Only with RUN_IN_GUEST_BACKEND=virtio (the default).
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local guest = require "tests.kernel.guest"

if guest.skip_unless_virtio("kernel: observation") then return end

local check, until_ = guest.check, guest.until_

local function trace_lines(text)
  local l = {}
  for line in text:gmatch("[^\n]+") do
    if line:match("^%(%d+%.%d+%)") then l[#l + 1] = line end
  end
  return l
end

describe("kernel: observation", function()
  it("traces a known exchange with the real drivers, both ways", function()
    local status, _, err = helper.host({"--trace", "scripts/echo.lua", "3"}, 60)
    assert.equal(0, status, err)
    local l = trace_lines(err)
    assert.equal(6, #l, err)
    for i = 1, 3 do
      local hex = ("68 65 6C 6C 6F 20 %02X"):format(0x30 + i)
      assert.matches("^%(%d%d%d%.%d+%)  echo%-client  %S+%->1025  TX  %[7%]  " .. hex ..
        "  'hello " .. i .. "'$", l[2 * i - 1])
      assert.matches("^%(%d%d%d%.%d+%)  echo%-client  1025%->%S+  RX  %[7%]  " .. hex ..
        "  'hello " .. i .. "'$", l[2 * i])
    end
    assert.matches("all 3 echoes received", err)
  end)

  it("writes the exchange as pcapng", function()
    local path = os.tmpname()
    local status, _, err = helper.host({"--trace-pcap", path, "scripts/echo.lua", "2"}, 60)
    assert.equal(0, status, err)
    local f = assert(io.open(path, "rb"))
    local data = f:read("a")
    f:close()
    os.remove(path)
    local kinds, pos = {}, 1
    while pos <= #data do
      local btype, len = string.unpack("<I4I4", data, pos)
      assert.equal(len, (string.unpack("<I4", data, pos + len - 4)))
      kinds[#kinds + 1] = btype
      pos = pos + len
    end
    assert.same({0x0A0D0D0A, 1, 6, 6, 6, 6}, kinds)
  end)

  it("counts messages, bytes and handler calls of an endpoint on /dev/rpmsgN", function()
    local ep = assert(rpmsg.endpoint{ctrl = 0, name = "obs-count", dst = 1025})
    local got = {}
    ep.on_message = function(m) got[#got + 1] = m; if #got == 3 then rpmsg.stop() end end
    for _, m in ipairs{"a", "bb", "ccc"} do assert(ep:send(m)) end
    helper.run(rpmsg, 5000)
    local s = ep:stats()
    ep:close()
    assert.same({"a", "bb", "ccc"}, got)
    assert.same({3, 3, 6, 6, 3, 0, 0}, {s.messages_out, s.messages_in, s.bytes_out, s.bytes_in,
      s.handler_calls, s.handler_errors, s.drops})
  end)

  it("rpmsg-lua bench measures round trips against the in-kernel echo (fw-echo's address)", function()
    local status, out, err = helper.host({"bench", "--ctrl", "0", "--dst", "42", "--count", "200",
      "--size", "64"}, 60)
    assert.equal(0, status, err)
    assert.matches("^rpmsg%-lua bench: 200 round trips of 64 bytes, window 1, against ctrl 0 dst 42\n", out)
    assert.matches("\nmin [%d.]+ us  avg [%d.]+ us  p50 [%d.]+ us  p99 [%d.]+ us  max [%d.]+ us", out)
    local total = 0
    for c in out:gmatch("| #+%s+(%d+)") do total = total + tonumber(c) end
    assert.equal(200, total)
    status, out, err = helper.host({"bench", "--ctrl", "0", "--dst", "42", "--count", "300",
      "--size", "496", "--window", "8"}, 60)
    assert.equal(0, status, err)
    assert.matches("300 round trips of 496 bytes, window 8", out)
  end)

  it("traces the close and the reopen of an endpoint whose remote stopped and started", function()
    local r = assert(rpmsg.remoteproc(guest.rproc))
    local lines = {}
    assert(rpmsg.trace{to = function(text)
      for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    end})
    local ep = assert(rpmsg.endpoint{remoteproc = guest.rproc, name = "obs-cycle", src = 720, dst = 721})
    local got, closed, opened = {}, false, false
    ep.on_message = function(m) got[#got + 1] = m end
    ep.on_close = function() closed = true end
    ep.on_open = function() opened = true end
    local ok, err = pcall(helper.run_task, rpmsg, function()
      check(ep:send("before"))
      until_(function() return got[1] == "before" end, 3000, "the first echo")
      check(r:stop())
      until_(function() return closed end, 10000, "on_close")
      check(r:start())
      until_(function() return opened end, 10000, "on_open")
      check(ep:send("after"))
      until_(function() return got[2] == "after" end, 3000, "the echo after the restart")
    end)
    helper.settle(rpmsg, 50)             -- the listener's last lines
    rpmsg.trace(false)
    local s = ep:stats()
    ep:close()
    if r:state() ~= "running" then r:start() end
    guest.wait_tty()
    assert(ok, err)
    local events = {}
    for _, l in ipairs(lines) do
      local what = l:match("^%(%d+%.%d+%)  obs%-cycle  %d+%->%d+  (%u+)")
      if what then events[#events + 1] = what end
    end
    assert.same({"TX", "RX", "CLOSE", "REOPEN", "TX", "RX"}, events)
    local close = table.concat(lines, "\n"):match("obs%-cycle  720%->721  CLOSE  ([^\n]*)")
    assert.equal("remote gone", close)
    assert.same({1, 1, 2, 2}, {s.closes, s.reopens, s.messages_out, s.messages_in})
  end)
end)
