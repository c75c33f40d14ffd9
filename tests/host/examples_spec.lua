-- SPDX-License-Identifier: MIT
-- The examples in scripts/, each run end to end by rpmsg-lua against its
-- simulated firmware in scripts/sim/, unchanged from how they run on a board.
local helper = require "tests.helper"
local host, q = helper.host, helper.q

-- Asserts that the patterns (plain text) occur in s in this order.
local function assert_in_order(s, patterns)
  local pos = 1
  for _, p in ipairs(patterns) do
    local at = s:find(p, pos, true)
    assert(at, ("%q not found (in order) in:\n%s"):format(p, s))
    pos = at + #p
  end
end

local function count(s, pattern)
  local n = 0
  for _ in s:gmatch(pattern) do n = n + 1 end
  return n
end

describe("example", function()
  it("echo: every message comes back", function()
    local status, _, err = host({"--sim", "scripts/sim/echo_fw.lua", "scripts/echo.lua", "3"})
    assert.equal(0, status)
    assert_in_order(err, {'echo 1: "hello 1"', 'echo 3: "hello 3"', "all 3 echoes received"})
    helper.assert_no_handler_error(err)
  end)

  it("heartbeat: raises one alarm when the remote hangs, and sees it come back", function()
    -- The firmware ignores pings 6 to 10; the alarm goes after 3 misses.
    local status, _, err = host({"--sim", "scripts/sim/heartbeat_fw.lua", "scripts/heartbeat.lua", "150", "14"})
    assert.equal(0, status)
    assert_in_order(err, {"pong 1\n", "pong 5\n",
      "ALARM: the remote stopped answering (3 pings in a row without a pong)",
      "remote answering again after", "pong 14\n", "heartbeat done: 14 pings"})
    assert.equal(1, count(err, "ALARM"))
    assert.matches("alarms raised: 1\n", err)
    helper.assert_no_handler_error(err)
  end)

  it("sensor: decodes the struct samples and prints them as CSV", function()
    local status, out, err = host({"--sim", "scripts/sim/sensor_fw.lua", "scripts/sensor.lua", "10", "20"})
    assert.equal(0, status)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equal("seq,time_ms,temp_c,humidity_pct,ok", lines[1])
    assert.equal(11, #lines)
    local last_time = -1
    for i = 1, 10 do
      -- the firmware's pattern: temp_mc = 20000 + 250 * seq, humidity_cp = 4000 + 10 * seq
      local seq, time, rest = lines[i + 1]:match("^(%d+),(%d+),(.*)$")
      assert.equal(i, tonumber(seq))
      assert.equal(("%.3f,%.2f,%s"):format((20000 + 250 * i) / 1000, (4000 + 10 * i) / 100,
        i % 7 == 0 and "no" or "yes"), rest)
      assert.is_true(tonumber(time) >= last_time)
      last_time = tonumber(time)
    end
    assert.matches("10 samples (0 malformed): temperature min 20.250, max 22.500, mean 21.375 °C", err, 1, true)
    helper.assert_no_handler_error(err)
  end)

  it("sensor: logs a malformed sample, naming the field, and goes on", function()
    local fw = helper.script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "sensor-fw", src = 1041, dst = 1040})
      ep.on_message = function(m)
        if m:byte(1) ~= 1 then return end
        ep:send(string.pack("<I4I4", 1, 0))   -- cut off after time_ms
        ep:send(string.pack("<I4I4i4I2BB", 1, 5, 21500, 4200, 1, 0))
      end
    ]])
    local status, out, err = host({"--sim", fw, "scripts/sensor.lua", "1"})
    assert.equal(0, status)
    assert.matches("malformed sample dropped: struct 'sample': message too short: field 'temp_mc' (i32) at offset 8",
      err, 1, true)
    assert.equal("seq,time_ms,temp_c,humidity_pct,ok\n1,5,21.500,42.00,yes\n", out)
    helper.assert_no_handler_error(err)
  end)

  it("rpc_client: calls, a remote error, a timeout with its late reply, ten calls at once", function()
    local status, out, err = host({"--sim", "scripts/sim/rpc_client_fw.lua", "scripts/rpc_client.lua"})
    assert.equal(0, status)
    assert.equal(table.concat({
      "version:\trpc_fw 1.0",
      "add 2 3:\t5",
      "divide 7 0:\tnil\tdivision by zero",
      "sleep 300 with a 100 ms timeout:\tnil\ttimeout\tETIMEDOUT",
      "10 concurrent adds:\t2 6 12 20 30 42 56 72 90 110",
      "calls: 14, timeouts: 1, late replies dropped: 1",
    }, "\n") .. "\n", out)
    assert.matches("rpc: endpoint 'rpc-client': late reply to call 4 dropped", err, 1, true)
    helper.assert_no_handler_error(err)
  end)

  describe("bridge", function()
    it("fifo: lines written to PREFIX.in reach the co-processor, its answers come out of PREFIX.out", function()
      local prefix = os.tmpname()
      os.remove(prefix)
      local log = prefix .. ".log"
      -- Lines to send: plain, one with an escaped newline and backslash, and
      -- one that makes the firmware answer three times on its own.
      local input = helper.script("hello\nwith a \\n newline and \\\\ backslash\nburst 3\n")
      local status, out = helper.sh(table.concat({
        -- bridge.lua's top level runs mkfifo through os.execute: under the
        -- sanitizers' preload on a loaded machine that alone has taken over
        -- the default 1 s, so the watchdog gets room here.
        ("%s --handler-timeout 10000 --sim scripts/sim/bridge_fw.lua scripts/bridge.lua %s 2>%s & pid=$!"):format(
          q(helper.bin), q("fifo:" .. prefix), q(log)),
        ("for i in $(seq 200); do [ -p %s ] && [ -p %s ] && break; sleep 0.05; done"):format(
          q(prefix .. ".in"), q(prefix .. ".out")),
        ("timeout 10 sh -c 'cat \"$1\" > \"$2\"' sh %s %s"):format(q(input), q(prefix .. ".in")),
        ("timeout 10 head -n 5 %s"):format(q(prefix .. ".out")),
        helper.stop_pid("TERM"),
      }, "\n"))
      local f = io.open(log)
      local err = f and f:read("a") or ""
      if f then f:close() end
      os.remove(log); os.remove(input); os.remove(prefix .. ".in"); os.remove(prefix .. ".out")
      assert.equal(0, status)
      assert.equal(table.concat({
        "fw got: hello",
        "fw got: with a \\n newline and \\\\ backslash",   -- the message held a real newline: escaped again
        "burst 1/3", "burst 2/3", "burst 3/3",
      }, "\n") .. "\n", out)
      assert.matches("bridge: " .. prefix .. ".in -> co-processor -> " .. prefix .. ".out", err, 1, true)
      helper.assert_no_handler_error(err)
    end)

    it("fd: an inherited SOCK_SEQPACKET carries binary messages both ways, and its close stops the bridge", function()
      local py = helper.script([=[
import os, socket, subprocess, sys
# the sanitizer run preloads its runtime: into rpmsg-lua, not into python
env = dict(os.environ)
if "HOST_PRELOAD" in env:
    env["LD_PRELOAD"] = env.pop("HOST_PRELOAD")
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
p = subprocess.Popen([sys.argv[1], "--sim", "scripts/sim/bridge_fw.lua", "scripts/bridge.lua",
                      "fd:%d" % b.fileno()], pass_fds=[b.fileno()], stderr=subprocess.PIPE, env=env)
b.close()
a.settimeout(10)
for msg in [b"bin\x00ary\nmsg", b"", b"x" * 480]:
    a.send(msg)
    print(repr(a.recv(1000)))
a.close()
try:
    err = p.communicate(timeout=10)[1].decode()
except subprocess.TimeoutExpired:
    p.kill()
    err = "bridge did not stop"
print(p.returncode)
sys.stderr.write(err)
]=])
      local status, out, err = helper.sh(
        ("HOST_PRELOAD=\"${LD_PRELOAD:-}\" LD_PRELOAD= timeout 30 python3 %s %s"):format(q(py), q(helper.bin)))
      os.remove(py)
      assert.equal(0, status)
      assert.equal(table.concat({
        [[b'fw got: bin\x00ary\nmsg']],
        [[b'fw got: ']],
        "b'fw got: " .. ("x"):rep(480) .. "'",
        "0",
      }, "\n") .. "\n", out)
      assert.matches("bridge: local peer on fd %d+ went away", err)
      helper.assert_no_handler_error(err)
    end)
  end)
end)
