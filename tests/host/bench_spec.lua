-- SPDX-License-Identifier: MIT
-- `rpmsg-lua bench` against the simulated echo (scripts/sim/echo_fw.lua):
-- the report's figures and histogram, a window, a remote that does not
-- echo, and bad arguments.
local helper = require "tests.helper"
local script = helper.script

local ECHO_FW = "scripts/sim/echo_fw.lua"

-- The report's figures: {min=, avg=, p50=, p99=, max=} in µs, the
-- histogram's counts, and the header.
local function parse(out)
  local r = {}
  for k, v in out:gmatch("(%a%w*) ([%d.]+) us") do r[k] = tonumber(v) end
  r.counts = {}
  for c in out:gmatch("| #+%s+(%d+)") do r.counts[#r.counts + 1] = tonumber(c) end
  r.header = out:match("^[^\n]*")
  return r
end

describe("rpmsg-lua bench", function()
  it("runs N round trips against the simulated echo and reports the latencies and a histogram", function()
    local status, out, err = helper.host({"bench", "--sim", ECHO_FW, "--dst", "1025", "--count", "300",
      "--size", "32"})
    assert.equal(0, status, err)
    local r = parse(out)
    assert.equal("rpmsg-lua bench: 300 round trips of 32 bytes, window 1, against ctrl 0 dst 1025", r.header)
    assert.is_true(r.min > 0 and r.min <= r.p50 and r.p50 <= r.p99 and r.p99 <= r.max, out)
    assert.is_true(r.min <= r.avg and r.avg <= r.max, out)
    local total = 0
    for _, c in ipairs(r.counts) do total = total + c end
    assert.equal(300, total)
    assert.matches("latency histogram:\n +%d+ %.%. %d+ +us |", out)
    assert.matches("round trips/s", out)
  end)

  it("finds the echo by its announced name with --service", function()
    local status, out, err = helper.host({"bench", "--sim", ECHO_FW, "--service", "echo-service",
      "--count", "50"})
    assert.equal(0, status, err)
    local r = parse(out)
    assert.equal("rpmsg-lua bench: 50 round trips of 16 bytes, window 1, against service 'echo-service'", r.header)
    local total = 0
    for _, c in ipairs(r.counts) do total = total + c end
    assert.equal(50, total)
    status, out, err = helper.host({"bench", "--sim", ECHO_FW, "--service", "no-such", "--count", "5"})
    assert.not_equal(0, status)
    assert.matches("echo%-service", err)   -- the error lists what was announced
  end)

  it("keeps a window of messages in flight, at the largest size", function()
    local status, out, err = helper.host({"bench", "--sim", ECHO_FW, "--count", "500", "--size", "496",
      "--window", "8"})
    assert.equal(0, status, err)
    assert.matches("^rpmsg%-lua bench: 500 round trips of 496 bytes, window 8", out)
  end)

  it("fails, saying how far it got, when the remote does not echo", function()
    local silent = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{ctrl = 0, name = "silent", src = 1025, dst = 1024})
      local n = 0
      ep.on_message = function(m) n = n + 1; if n <= 3 then ep:send(m) end end
    ]])
    local status, out, err = helper.host({"bench", "--sim", silent, "--count", "10", "--timeout", "200"})
    assert.equal(1, status, out)
    assert.matches("bench: no reply for 200 ms after 3 of 10 round trips", err)
  end)

  it("fails when a reply is not the message sent", function()
    local wrong = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{ctrl = 0, name = "wrong", src = 1025, dst = 1024})
      ep.on_message = function(m) ep:send(m:upper() .. "!") end
    ]])
    local status, _, err = helper.host({"bench", "--sim", wrong, "--count", "10"})
    assert.equal(1, status)
    assert.matches("bench: reply 1 is not the message sent", err)
  end)

  it("refuses bad arguments with exit 2", function()
    for _, args in ipairs{{"--size", "497"}, {"--count", "x"}, {"--window", "0"}, {"--bogus", "1"}} do
      local status, _, err = helper.host({"bench", "--sim", ECHO_FW, args[1], args[2]})
      assert.equal(2, status, err)
      assert.matches("bench: ", err)
    end
  end)
end)
