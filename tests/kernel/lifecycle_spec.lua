-- SPDX-License-Identifier: MIT
-- The co-processor's lifecycle against the real drivers: endpoints that ride
-- through the remote going away and coming back, `rpmsg-lua list`, channel
-- devices and flow control where the kernel or backend lacks them.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local guest = require "tests.kernel.guest"
local q = helper.q

describe("kernel: recovery", function()
  it("keeps a script with two endpoints running through three remote restarts", function()
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      local eps, events, cycle = {}, {}, 0
      local function note(s) events[#events + 1] = s end
      for i, src in ipairs{1800, 1802} do
        local ep = assert(rpmsg.endpoint{name = "rec-" .. i, src = src, dst = src + 1})
        ep.on_message = function(m) note(("%d got %s"):format(i, m)) end
        ep.on_close = function(reason)
          note(("%d closed: %s"):format(i, reason))
          local ok, err = ep:send("while down")
          note(("%d send while down: %s, %s"):format(i, tostring(ok), err))
        end
        ep.on_open = function() note(("%d open"):format(i)); ep:send("back " .. cycle) end
        eps[i] = ep
      end
      local function restart()
        cycle = cycle + 1
        if cycle > 3 then
          print(table.concat(events, "\n"))
          rpmsg.stop()
          return
        end
        os.execute(os.getenv("RPMSG_REMOTE_DOWN"))
        rpmsg.after(300, function()
          os.execute(os.getenv("RPMSG_REMOTE_UP"))
          rpmsg.after(700, restart)
        end)
      end
      for i, ep in ipairs(eps) do ep:send("first") end
      rpmsg.after(300, restart)
    ]])
    local status, out, err = helper.host({app}, 60)
    assert.equal(0, status, err)
    helper.assert_no_handler_error(err)
    for i = 1, 2 do
      local mine = {}
      for line in out:gmatch("[^\n]+") do
        local who, what = line:match("^(%d) (.*)$")
        if tonumber(who) == i then mine[#mine + 1] = what end
      end
      local expected = {"got first"}
      for c = 1, 3 do
        expected[#expected + 1] = "closed: remote gone"
        expected[#expected + 1] = "send while down: nil, endpoint down"
        expected[#expected + 1] = "open"
        expected[#expected + 1] = "got back " .. c
      end
      assert.same(expected, mine)
    end
  end)

  it("uses no CPU while it waits for the remote to come back", function()
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "idle", src = 1810, dst = 1811})
      ep.on_message = function() end
      print("ready"); io.stdout:flush()
    ]])
    local cmd = table.concat({
      ("%s %s > /tmp/idle.out & pid=$!"):format(q(helper.bin), q(app)),
      "until grep -q ready /tmp/idle.out; do sleep 0.05; done",
      'eval "$RPMSG_REMOTE_DOWN"; sleep 0.5',
      "a=$(cut -d' ' -f14,15 /proc/$pid/stat)",
      "sleep 5",
      "b=$(cut -d' ' -f14,15 /proc/$pid/stat)",
      'eval "$RPMSG_REMOTE_UP"',
      "for i in $(seq 50); do [ -e /sys/class/rpmsg/rpmsg_ctrl0/rpmsg0 ] || [ -n \"$(ls /sys/class/rpmsg/rpmsg_ctrl0 | grep '^rpmsg[0-9]')\" ] && break; sleep 0.1; done",
      "ls /sys/class/rpmsg/rpmsg_ctrl0 | grep -c '^rpmsg[0-9]'",
      "kill -TERM $pid; wait $pid; echo exit=$?",
      "echo $a $b $(getconf CLK_TCK)",
    }, "\n")
    local status, out = helper.sh(cmd)
    assert.equal(0, status)
    local recreated, exit, u1, s1, u2, s2, hz = out:match("^(%d+)\nexit=(%d+)\n(%d+) (%d+) (%d+) (%d+) (%d+)\n$")
    assert.equal("1", recreated, out)   -- it came back by itself
    assert.equal("0", exit)
    local cpu = ((u2 + s2) - (u1 + s1)) / hz
    assert.is_true(cpu < 0.05, ("%.3f s of CPU in a 5 s wait"):format(cpu))
  end)
end)

describe("kernel: rpmsg-lua list", function()
  it("shows the endpoints with their real /dev nodes", function()
    local ctrl = assert(rpmsg.open_ctrl(0))
    local n = assert(ctrl:create_endpoint("listed", 1820, 1821))
    local status, out = helper.host({"list"})
    local jstatus, json = helper.host({"list", "--json"})
    ctrl:destroy_endpoint("listed", 1820, 1821)
    ctrl:close()
    assert.equal(0, status)
    assert.matches("/dev/rpmsg_ctrl0", out)
    assert.matches("listed%s+1820%s+1821%s+/dev/rpmsg" .. n .. "%s+rpmsg_ctrl0", out)
    assert.equal(0, jstatus)
    assert.matches('{"ctrl":0,"dev":"/dev/rpmsg' .. n .. '","dst":1821,"name":"listed","src":1820}', json, 1, true)
  end)
end)

describe("kernel: channel devices and flow control", function()
  it("says why CREATE_DEV fails on a backend that cannot make channels (the loopback)", function()
    local n = guest.loopback_ctrl()
    local ctrl = assert(rpmsg.open_ctrl(n))
    local ok, err, code = ctrl:create_dev("raw-channel", 1830, 1831)
    ctrl:close()
    guest.loopback_unload()
    assert.is_nil(ok)
    assert.equal("ENXIO", code)
    assert.matches("this backend cannot make channels", err)
  end)

  it("gives a clear error for flow control on a kernel without it (6.1)", function()
    local ep = assert(rpmsg.endpoint{name = "flow", src = 1840, dst = 1841})
    local ok, err, code = ep:set_flow(false)
    ep:close()
    assert.is_nil(ok)
    assert.equal("EOPNOTSUPP", code)
    assert.matches("no flow control here %(it needs Linux 6.6", err)
  end)
end)
