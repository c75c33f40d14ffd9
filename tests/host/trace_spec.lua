-- SPDX-License-Identifier: MIT
-- The host's observation: --trace of a known exchange under --sim, the
-- trace and metrics paths checked at start, a full disk, --trace-pcap,
-- `rpmsg-lua stats` and --metrics against a console, `attach --trace`.
local helper = require "tests.helper"
local function sh(cmd) return helper.sh(helper.slowed(cmd)) end
local q, script = helper.q, helper.script

local function tmp() return helper.tmp_path() end

local slurp = helper.read_file

local ECHO_FW = "scripts/sim/echo_fw.lua"
local ECHO = "scripts/echo.lua"

describe("rpmsg-lua --trace", function()
  it("writes a line per message both ways of a known exchange under --sim", function()
    local status, _, err = helper.host({"--trace", "--sim", ECHO_FW, ECHO, "2"})
    assert.equal(0, status, err)
    local l = {}
    for line in err:gmatch("[^\n]+") do
      if line:match("^%(") then l[#l + 1] = line end
    end
    assert.equal(4, #l, err)
    local P = "^%(%d%d%d%.%d%d%d%d%d%d%)  echo%-client  "
    assert.matches(P .. "any%->1025  TX  %[7%]  68 65 6C 6C 6F 20 31  'hello 1'$", l[1])
    assert.matches(P .. "1025%->any  RX  %[7%]  68 65 6C 6C 6F 20 31  'hello 1'$", l[2])
    assert.matches(P .. "any%->1025  TX  %[7%]  68 65 6C 6C 6F 20 32  'hello 2'$", l[3])
    assert.matches(P .. "1025%->any  RX  %[7%]  68 65 6C 6C 6F 20 32  'hello 2'$", l[4])
    helper.assert_no_handler_error(err)
  end)

  it("writes to --trace-file with --trace-time d, and the close of a destroyed endpoint", function()
    local path = tmp()
    local app = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{ctrl = 0, name = "once", src = rpmsg.ADDR_ANY, dst = 1025})
      ep.on_message = function() ep:destroy(); rpmsg.stop() end
      ep.on_close = function() end
      ep:send("x")
    ]])
    local status, _, err = helper.host({"--trace-file", path, "--trace-time", "d", "--sim", ECHO_FW, app})
    assert.equal(0, status, err)
    local text = assert(slurp(path))
    os.remove(path)
    assert.matches("^%(000%.%d+%)  once  any%->1025  TX  %[1%]  78  'x'\n", text)
    assert.matches("\n%(000%.%d+%)  once  1025%->any  RX  %[1%]  78  'x'\n", text)
    assert.matches("\n%(000%.%d+%)  once  any%->1025  CLOSE  destroyed\n$", text)
    assert.is_nil(err:match("%(000%.%d+%)  once"))   -- not on stderr as well
  end)

  it("refuses an unwritable trace, pcap or metrics path at start, naming it", function()
    for _, args in ipairs{
      {"--trace-file", "/nonexistent/t.log"},
      {"--trace-pcap", "/nonexistent/t.pcapng"},
      {"--metrics", "/nonexistent/m.prom"},
    } do
      local status, out, err = helper.host({args[1], args[2], "--sim", ECHO_FW, ECHO, "1"})
      assert.equal(1, status, err)
      assert.matches("rpmsg%-lua: .*" .. args[2]:gsub("%p", "%%%0"), err)
      assert.equal("", out)
      assert.is_nil(err:match("echo 1"))    -- the script never ran
    end
  end)

  it("refuses a bad --trace-time", function()
    local status, _, err = helper.host({"--trace", "--trace-time", "x", "--sim", ECHO_FW, ECHO})
    assert.equal(2, status)
    assert.matches("%-%-trace%-time wants a", err)
  end)

  it("stops tracing to a full disk with one line, and the script goes on", function()
    local status, _, err = helper.host({"--trace-file", "/dev/full", "--sim", ECHO_FW, ECHO, "5"})
    assert.equal(0, status, err)
    local _, n = err:gsub("trace: cannot write the trace to /dev/full %(No space left on device%): " ..
      "tracing to it stops", "")
    assert.equal(1, n, err)
    assert.matches("all 5 echoes received", err)
  end)

  it("writes --trace-pcap: a pcapng file with the echo's packets", function()
    local path = tmp()
    local status, _, err = helper.host({"--trace-pcap", path, "--sim", ECHO_FW, ECHO, "3"})
    assert.equal(0, status, err)
    local data = assert(slurp(path))
    os.remove(path)
    local kinds, pos, payloads = {}, 1, {}
    while pos <= #data do
      local btype, len = string.unpack("<I4I4", data, pos)
      kinds[#kinds + 1] = btype
      if btype == 6 then
        local caplen = string.unpack("<I4", data, pos + 20)
        payloads[#payloads + 1] = data:sub(pos + 28 + 16, pos + 28 + caplen - 1)
      end
      pos = pos + len
    end
    assert.same({0x0A0D0D0A, 1, 6, 6, 6, 6, 6, 6}, kinds)
    assert.same({"hello 1", "hello 1", "hello 2", "hello 2", "hello 3", "hello 3"}, payloads)
    assert.is_nil(err:match("%(000%.")) -- no text lines without --trace
  end)
end)

describe("a running host's counters", function()
  local fw = ECHO_FW
  local app = script([[
    local rpmsg = require "rpmsg"
    local ep = assert(rpmsg.endpoint{ctrl = 0, name = "ticker", src = rpmsg.ADDR_ANY, dst = 1025})
    local n = 0
    ep.on_message = function(m)
      n = n + 1
      if n == 3 then error("third reply fails on purpose") end
    end
    for i = 1, 5 do ep:send("tick" .. i) end
    print("ready")
    io.stdout:flush()
  ]])

  local function with_host(extra, body)
    local sock = tmp() .. ".sock"
    local cmd = ("%s --console %s %s --sim %s %s >/dev/null & pid=$!; " ..
      "for i in $(seq 100); do [ -S %s ] && break; sleep 0.05; done; sleep 0.3; %s\n%s")
      :format(q(helper.bin), q(sock), extra, q(fw), q(app), q(sock), body(sock), helper.stop_pid("TERM"))
    return sh(cmd)
  end

  it("rpmsg-lua stats prints the per-endpoint table and the totals", function()
    local status, out, err = with_host("", function(sock)
      return ("%s stats %s; echo stats=$?"):format(q(helper.bin), q(sock))
    end)
    assert.equal(0, status, err)
    assert.matches("stats=0", out)
    local head, row = out:match("(endpoint +src%->dst[^\n]*)\n(ticker[^\n]*)")
    assert.truthy(head, out)
    local cells = {}
    for c in row:gmatch("%S+") do cells[#cells + 1] = c end
    -- endpoint, src->dst, rx, tx, rx bytes, tx bytes, eagain, queue, high, drops, errors, handled
    assert.same({"ticker", "any->1025", "5", "5", "25", "25", "0", "0", "0", "0", "1", "5"},
      {table.unpack(cells, 1, 12)})
    assert.matches("total: 5 in, 5 out, 1 handler errors", out)
  end)

  it("--metrics writes a Prometheus textfile, replaced whole", function()
    local prom = tmp() .. ".prom"
    local status, out, err = with_host("--metrics " .. q(prom) .. " --metrics-interval 100", function()
      return ("cat %s; ls %s.tmp 2>&1"):format(q(prom), q(prom))
    end)
    os.remove(prom)
    assert.equal(0, status, err)
    assert.matches('\nrpmsg_messages_total{endpoint="ticker",src="any",dst="1025",direction="rx"} 5\n', out)
    assert.matches('\nrpmsg_bytes_total{endpoint="ticker",src="any",dst="1025",direction="tx"} 25\n', out)
    assert.matches('\nrpmsg_handler_errors_total{endpoint="ticker",src="any",dst="1025"} 1\n', out)
    assert.matches("# TYPE rpmsg_send_queue_high_water gauge\n", out)
    assert.matches("No such file", out)   -- no temporary file left behind
  end)

  it("rpmsg-lua attach PATH --trace streams the trace of the running host", function()
    local ticking = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{ctrl = 0, name = "ticker", src = rpmsg.ADDR_ANY, dst = 1025})
      ep.on_message = function() end
      local n = 0
      rpmsg.every(50, function() n = n + 1; ep:send("t" .. n) end)
    ]])
    local sock = tmp() .. ".sock"
    local out_path = tmp()
    local status, _, err = sh(("%s --console %s --sim %s %s & pid=$!; " ..
      "for i in $(seq 100); do [ -S %s ] && break; sleep 0.05; done; " ..
      "timeout %d %s attach %s --trace </dev/null >%s; echo attach=$? >>%s\n%s")
      :format(q(helper.bin), q(sock), q(fw), q(ticking), q(sock), helper.slow, q(helper.bin), q(sock), q(out_path),
        q(out_path), helper.stop_pid("TERM")))
    local out = slurp(out_path)
    os.remove(out_path)
    assert.equal(0, status, err)
    assert.matches("attach=124", out)          -- it follows until stopped
    local tx = select(2, out:gsub("\n%(%d+%.%d+%)  ticker  any%->1025  TX  %[%d+%]", ""))
    local rx = select(2, out:gsub("\n%(%d+%.%d+%)  ticker  1025%->any  RX  %[%d+%]", ""))
    assert.is_true(tx >= 5 and rx >= 5, out)
    assert.is_nil(err:match("ticker  any"))    -- to the session, not the host's stderr
  end)
end)
