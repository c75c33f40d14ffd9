-- SPDX-License-Identifier: MIT
-- The full stack as on a board, inside the QEMU guest: the upstream
-- remoteproc core, virtio_rpmsg_bus, rpmsg_ns, rpmsg_char, rpmsg_ctrl and
-- rpmsg_tty driving fake-r5f (tests/kernel/fakerproc/), whose in-kernel
-- firmware echoes every message from the address it was sent to and
-- announces rpmsg-raw, rpmsg-tty and fw-echo. Only with
-- RUN_IN_GUEST_BACKEND=virtio (the default).
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local guest = require "tests.kernel.guest"
local q = helper.q

if guest.skip_unless_virtio("kernel: full stack") then return end

local RPROC = guest.rproc                      -- "fake-r5f"
local RDIR = "/sys/class/remoteproc/remoteproc0"

local check, until_ = guest.check, guest.until_

-- Open fds of this process (to prove nothing leaks across cycles).
local function fd_count()
  return #guest.ls("/proc/self/fd")
end

-- Endpoints named name under any control device.
local in_sysfs = guest.endpoints_named

-- Leave fake-r5f running with recovery on and its firmware unstalled,
-- whatever a spec did.
local function restore()
  guest.knob("stall", 0)
  guest.knob("delay_ms", 0)
  local r = assert(rpmsg.remoteproc(RPROC))
  r:recovery("enabled")
  local s = r:state()
  -- after a "start" on a crashed core, it takes two stops (see below)
  for _ = 1, 3 do
    if s ~= "crashed" then break end
    r:stop()
    s = r:state()
  end
  -- a spec may have left the control device renumbered: specs expect 0
  if s == "running" and not guest.exists("/dev/rpmsg_ctrl0") then r:stop(); s = r:state() end
  if s ~= "running" then assert(r:start()) end
  guest.wait_tty()
end

-- Endpoints and control devices a spec opened: closed after it whatever
-- happened, so that a failing spec does not make the next ones fail too.
local track, release = guest.tracker()
after_each(function()
  release()
  restore()
end)

describe("kernel: full stack: the announced channels", function()
  it("appear where the kernel puts them, and each echoes", function()
    for name, addr in pairs{["rpmsg-raw"] = 40, ["rpmsg-tty"] = 41, ["fw-echo"] = 42} do
      local bus = guest.channels(name)
      assert.equal(1, #bus, name)
      assert.matches("^virtio%d+%." .. name:gsub("%-", "%%-") .. "%.%-1%." .. addr .. "$", bus[1])
      assert.equal(name, guest.read("/sys/bus/rpmsg/devices/" .. bus[1] .. "/name"))
    end
    -- fw-echo: announced, but no driver binds it
    assert.is_false(guest.exists("/sys/bus/rpmsg/devices/" .. guest.channels("fw-echo")[1] .. "/driver"))
    -- rpmsg-raw: rpmsg_char's /dev/rpmsgN, not under any control device
    local raw = assert(guest.channel_dev("rpmsg-raw"))
    local ep = track(assert(rpmsg.endpoint{dev = raw}))
    assert.is_true(ep:send("raw hello"))
    assert.equal("raw hello", ep:recv(496, 3000))
    ep:close()
    assert.is_true(guest.exists(raw))            -- a channel device is not destroyed
    -- rpmsg-tty: /dev/ttyRPMSG0; raw mode, or the tty echoes the echo back
    local status, out = helper.sh(table.concat({
      "exec 3<>/dev/ttyRPMSG0",
      "stty raw -echo <&3",
      "printf 'tty hello' >&3",
      "timeout 3 head -c 9 <&3",
    }, "; "))
    assert.equal(0, status)
    assert.equal("tty hello", out)
  end)
end)

describe("kernel: full stack: rpmsg.remoteproc", function()
  it("reads state, firmware, recovery and its control device through the real sysfs", function()
    local r = assert(rpmsg.remoteproc(RPROC))
    assert.equal(RPROC, r.name)
    assert.equal(0, r.index)
    assert.equal("running", r:state())
    assert.equal("rpmsg-lua-fakefw.bin", r:firmware())
    assert.equal("enabled", r:recovery())
    assert.equal(guest.ctrl_under("/remoteproc0/"), r:ctrl())
    assert.equal(RPROC, assert(rpmsg.remoteproc(0)).name)
  end)

  it("stops and starts it, and its errors name the remoteproc and the file", function()
    local r = assert(rpmsg.remoteproc(RPROC))
    -- the kernel refuses a new firmware name while it runs
    local ok, err, code = r:firmware("other.bin")
    assert.is_nil(ok)
    assert.equal("EBUSY", code)
    assert.matches("remoteproc 'fake%-r5f': write 'other.bin' to " .. RDIR .. "/firmware", err)
    ok, err, code = r:recovery("sometimes")
    assert.is_nil(ok)
    assert.equal("EINVAL", code)
    assert.matches(RDIR .. "/recovery", err, 1, true)
    assert.is_true(r:stop())
    assert.equal("offline", r:state())
    local n, cerr, ccode = r:ctrl()
    assert.is_nil(n)
    assert.equal("ENODEV", ccode)
    assert.matches("remoteproc 'fake%-r5f' has no rpmsg_ctrl device", cerr)
    ok, err, code = r:stop()                   -- stopping it twice
    assert.is_nil(ok)
    assert.equal("EINVAL", code)
    assert.matches(RDIR .. "/state", err, 1, true)
    assert.is_true(r:start())
    assert.equal("running", r:state())
    assert.is_number(r:ctrl())
    local none, nerr, ncode = rpmsg.remoteproc("no-such-core")
    assert.is_nil(none)
    assert.equal("ENOENT", ncode)
    assert.matches("no remoteproc named 'no%-such%-core'", nerr)
  end)
end)

-- One endpoint declared with remoteproc = name, one plain endpoint, through
-- whatever takes the remote down and up (down() and up() run in a task).
local function ride_through(cycles, down, up)
  assert(cycles >= 2)
  local r = assert(rpmsg.remoteproc(RPROC))
  local events, got = {}, {}
  local ep = track(assert(rpmsg.endpoint{remoteproc = RPROC, name = "cycle", src = 700, dst = 701}))
  local opens, closes = 0, 0
  ep.on_message = function(m) got[#got + 1] = m end
  ep.on_close = function(reason) closes = closes + 1; events[#events + 1] = "close: " .. reason end
  ep.on_open = function() opens = opens + 1; events[#events + 1] = "open" end
  local fds, ctrls = nil, {}
  helper.run_task(rpmsg, function()
    check(ep:send("first"))
    until_(function() return got[1] == "first" end, 3000, "the first echo")
    fds = fd_count()
    for c = 1, cycles do
      -- a plain endpoint beside it: it sees the remote go as EPIPE
      local ctrl = track(check(rpmsg.open_ctrl(ep.ctrl)))
      local plain = track(check(rpmsg.open_endpoint(check(ctrl:create_endpoint("plain-" .. c, 710, 711)))))
      -- In cycle 2 a stale fd keeps the old rpmsg_ctrlN's number taken,
      -- so the control device comes back under another number.
      if c ~= 2 then ctrl:close() end
      down(r, c)
      until_(function() return closes == c end, 10000, "on_close in cycle " .. c)
      -- rpmsg_ctrl tears its endpoints down one after the other
      until_(function() return select(3, plain:recv(496, 0)) == "EPIPE" end, 5000,
        "EPIPE on the plain endpoint in cycle " .. c)
      check(plain:destroy() == nil, "a second DESTROY was issued")   -- 6.1 would oops
      plain:close()
      local ok, _, scode = ep:send("while down")
      check(ok == nil and scode == "ENOTCONN", "send while down: " .. tostring(scode))
      up(r, c)
      until_(function() return opens == c end, 10000, "on_open in cycle " .. c)
      ctrls[c] = ep.ctrl
      if c == 2 then
        check(ctrls[2] ~= ctrls[1], "the control device kept its number with the old one held open")
        ctrl:close()
      end
      local sent, serr, scode2 = ep:send("back " .. c)
      if not sent then
        error(("cycle %d: send after on_open: %s (%s); events: %s"):format(c, tostring(serr),
          tostring(scode2), table.concat(events, ", ")))
      end
      until_(function() return got[#got] == "back " .. c end, 3000, "the echo in cycle " .. c)
    end
  end)
  local after = fd_count()
  local seen = table.move(events, 1, #events, 1, {})
  ep:close()
  helper.settle(rpmsg, 20)
  local expected = {}
  for _ = 1, cycles do
    expected[#expected + 1] = "close: remote gone"
    expected[#expected + 1] = "open"
  end
  assert.same(expected, seen)
  assert.equal(fds, after)                       -- no fd leaked
  assert.equal(0, in_sysfs("cycle"))             -- nothing left behind
  for c = 1, cycles do assert.equal(0, in_sysfs("plain-" .. c)) end
  return ctrls
end

describe("kernel: full stack: remoteproc stop and start", function()
  it("closes every endpoint, recreates the remoteproc = name one, three times, leaking nothing", function()
    ride_through(3,
      function(r) check(r:stop()) end,
      function(r) check(r:start()) end)
  end)
end)

describe("kernel: full stack: a crash", function()
  it("with recovery on: the same, with nobody writing to sysfs", function()
    ride_through(3,
      function() guest.knob("crash", 1) end,
      function(r) until_(function() return r:state() == "running" end, 10000, "recovery") end)
  end)

  it("with recovery off: the core stays crashed, the endpoint stays open but unanswered, until a manual stop and start", function()
    local r = assert(rpmsg.remoteproc(RPROC))
    assert(r:recovery("disabled"))
    local got, reasons, opens = {}, {}, 0
    local ep = track(assert(rpmsg.endpoint{remoteproc = RPROC, name = "crash-off", src = 720, dst = 721}))
    ep.on_message = function(m) got[#got + 1] = m end
    ep.on_close = function(reason) reasons[#reasons + 1] = reason end
    ep.on_open = function() opens = opens + 1 end
    helper.run_task(rpmsg, function()
      check(ep:send("before"))
      until_(function() return got[1] == "before" end, 3000, "the echo before the crash")
      guest.knob("crash", 1)
      until_(function() return r:state() == "crashed" end, 5000, "state crashed")
      -- remoteproc with recovery disabled stops nothing: the virtio device
      -- and every endpoint stay, the firmware is just dead.
      check(ep:send("into the void"))
      rpmsg.sleep(1000)
      check(#got == 1, "a dead firmware answered")
      check(#reasons == 0, "closed without recovery:", reasons[1])
      check(r:stop())
      until_(function() return #reasons == 1 end, 5000, "on_close after the manual stop")
      check(r:start())
      until_(function() return opens == 1 end, 10000, "on_open after the manual start")
      check(ep:send("after"))
      until_(function() return got[#got] == "after" end, 3000, "the echo after the manual start")
    end)
    local seen = table.move(reasons, 1, #reasons, 1, {})
    ep:close()
    assert.same({"remote gone"}, seen)
    assert.same({"before", "after"}, got)
  end)
end)

describe("kernel: full stack: a slow remote", function()
  it("waits for a late answer, and a stop while the firmware holds a message loses only that message", function()
    local r = assert(rpmsg.remoteproc(RPROC))
    local ep = track(assert(rpmsg.endpoint{remoteproc = RPROC, name = "slow", src = 750, dst = 751}))
    local got, reasons, opens = {}, {}, 0
    ep.on_message = function(m) got[#got + 1] = m end
    ep.on_close = function(reason) reasons[#reasons + 1] = reason end
    ep.on_open = function() opens = opens + 1 end
    guest.knob("delay_ms", 300)
    helper.run_task(rpmsg, function()
      local t0 = rpmsg.now()
      check(ep:send("late"))
      until_(function() return #got == 1 end, 3000, "the late answer")
      check(rpmsg.now() - t0 >= 300, "answered in less than the firmware's delay")
      check(ep:send("held"))
      rpmsg.sleep(100)                           -- the firmware is sleeping on it
      check(r:stop())
      until_(function() return #reasons == 1 end, 5000, "on_close")
      guest.knob("delay_ms", 0)
      check(r:start())
      until_(function() return opens == 1 end, 10000, "on_open")
      check(ep:send("after"))
      until_(function() return got[#got] == "after" end, 3000, "the answer after the restart")
    end)
    assert.same({"late", "after"}, got)
    assert.same({"remote gone"}, reasons)
  end)
end)

describe("kernel: full stack: stop during traffic", function()
  it("closes once and comes back while echoes are in flight, and the kernel stays well", function()
    local r = assert(rpmsg.remoteproc(RPROC))
    local ep = track(assert(rpmsg.endpoint{remoteproc = RPROC, name = "busy", src = 755, dst = 756}))
    local got, reasons, opens, sent = 0, {}, 0, 0
    ep.on_message = function() got = got + 1 end
    ep.on_close = function(reason) reasons[#reasons + 1] = reason end
    ep.on_open = function() opens = opens + 1 end
    local pump = rpmsg.every(1, function()
      for _ = 1, 8 do
        if ep:send("x") then sent = sent + 1 end
      end
    end)
    helper.run_task(rpmsg, function()
      until_(function() return got >= 50 end, 4000, "50 echoes before the stop")
      check(r:stop())
      until_(function() return #reasons == 1 end, 5000, "on_close")
      check(r:start())
      until_(function() return opens == 1 end, 10000, "on_open")
      local before = got
      until_(function() return got >= before + 50 end, 4000, "50 echoes after the restart")
    end)
    pump:cancel()
    assert.same({"remote gone"}, reasons)
  end)
end)

describe("kernel: full stack: a full transmit ring", function()
  it("queues loop sends in order and delivers all once, gives EAGAIN on a plain endpoint, and does not spin", function()
    local N = 256 + 40                           -- 256 TX buffers (vring_num)
    local got = {}
    local loop_ep = track(assert(rpmsg.endpoint{ctrl = 0, name = "full-loop", src = 730, dst = 731}))
    loop_ep.on_message = function(m) got[#got + 1] = m end
    local ctrl = track(assert(rpmsg.open_ctrl(0)))
    local plain = track(assert(rpmsg.open_endpoint(assert(ctrl:create_endpoint("full-plain", 732, 733)))))
    guest.knob("stall", 1)
    for i = 1, N do assert(loop_ep:send("m" .. i), "send " .. i) end
    -- every TX buffer is taken: the kernel says EAGAIN to a plain endpoint
    local ok, err, code = plain:send("no room")
    assert.is_nil(ok)
    assert.equal("EAGAIN", code, err)
    -- waiting with 40 sends queued: CPU of this process over 2 s
    local t0 = guest.cpu("self")
    helper.settle(rpmsg, 2000)
    local cpu = guest.cpu("self") - t0
    assert.equal(0, #got)
    guest.knob("stall", 0)
    helper.run_task(rpmsg, function()
      until_(function() return #got >= N end, 20000, N .. " echoes")
      rpmsg.sleep(200)                           -- any duplicate would land now
    end)
    local expected = {}
    for i = 1, N do expected[i] = "m" .. i end
    assert.same(expected, got)
    assert.is_nil((plain:recv(496, 0)))         -- its send was refused, not queued
    plain:close()
    loop_ep:close()
    ctrl:destroy_endpoint("full-plain", 732, 733)
    ctrl:close()
    print(("# CPU while 40 sends waited 2 s for a full ring: %.2f s"):format(cpu))
    assert.is_true(cpu < 0.5, ("%.2f s of CPU in a 2 s wait: a busy loop"):format(cpu))
  end)
end)

describe("kernel: full stack: queued sends at close on a full ring", function()
  it("ep:close() reports what the real ring would not take, with count and name", function()
    local loop_ep = track(assert(rpmsg.endpoint{ctrl = 0, name = "close-full", src = 734, dst = 735}))
    loop_ep.on_message = function() end
    local ctrl = track(assert(rpmsg.open_ctrl(0)))
    local plain = track(assert(rpmsg.open_endpoint(assert(ctrl:create_endpoint("close-filler", 736, 737)))))
    guest.knob("stall", 1)
    local filled = 0
    while filled < 1000 and plain:send("fill") do filled = filled + 1 end
    assert.equal(256, filled)                    -- every TX buffer of the remote
    for i = 1, 3 do assert.is_true(loop_ep:send("stuck " .. i)) end
    local ok, err, code = loop_ep:close()
    assert.is_nil(ok)
    assert.equal("EAGAIN", code)
    assert.matches("^endpoint 'close%-full' closed with 3 queued messages unsent: ", err)
    assert.equal(0, in_sysfs("close-full"))
    plain:close()
    ctrl:destroy_endpoint("close-filler", 736, 737)
  end)
end)

describe("kernel: full stack: several endpoints at once", function()
  it("answers reach the endpoint that asked: fixed src, ADDR_ANY (>= 1024) and the rpmsg-raw device", function()
    local eps = {
      fixed = track(assert(rpmsg.endpoint{ctrl = 0, name = "multi-fixed", src = 740, dst = 741})),
      any = track(assert(rpmsg.endpoint{ctrl = 0, name = "multi-any", src = rpmsg.ADDR_ANY, dst = 742})),
      raw = track(assert(rpmsg.endpoint{dev = assert(guest.channel_dev("rpmsg-raw"))})),
    }
    local got, total = {}, 0
    for name, ep in pairs(eps) do
      got[name] = {}
      ep.on_message = function(m) got[name][#got[name] + 1] = m; total = total + 1 end
    end
    -- the dynamic address: only the remote sees it
    assert.is_true(eps.any:send("who am I"))
    helper.run_task(rpmsg, function()
      until_(function() return total == 1 end, 3000, "the first echo")
    end)
    local dyn = tonumber(guest.read(guest.params .. "last_src"))
    assert.is_true(dyn >= 1024, "dynamic src " .. dyn)
    got.any = {}
    total = 0
    for i = 1, 20 do
      for name, ep in pairs(eps) do assert.is_true(ep:send(name .. " " .. i)) end
    end
    helper.run_task(rpmsg, function()
      until_(function() return total == 60 end, 10000, "60 echoes")
      rpmsg.sleep(100)
    end)
    for name in pairs(eps) do
      local expected = {}
      for i = 1, 20 do expected[i] = name .. " " .. i end
      assert.same(expected, got[name])
    end
    for _, ep in pairs(eps) do ep:close() end
  end)

  -- A fixed src >= 1024 may already be the dynamic address of a channel's
  -- endpoint (here rpmsg-raw and rpmsg-tty take 1024 and 1025), which only
  -- the bus device's src in /sys/bus/rpmsg/devices shows. The kernel would
  -- take CREATE_EPT and leave a node that can be neither opened nor
  -- destroyed until the remote restarts: rpmsg-lua refuses it first.
  it("a fixed src held by a channel's endpoint: a clear error and nothing left in sysfs", function()
    local ep, err, code = rpmsg.endpoint{ctrl = 0, name = "collide", src = 1024, dst = 1025}
    assert.is_nil(ep)
    assert.equal("EADDRINUSE", code)
    assert.matches("src 1024", err)
    assert.equal(0, in_sysfs("collide"))
  end)
end)

describe("kernel: full stack: a crashed core with recovery off", function()
  -- remoteproc_core 6.1: writing "start" to a crashed core's state returns
  -- success and does nothing (rproc_boot only counts one more user), and
  -- makes the next "stop" do nothing too. r:start() refuses, naming the state
  -- and what to do.
  it("r:start() says it cannot start a crashed core instead of silently doing nothing", function()
    local r = assert(rpmsg.remoteproc(RPROC))
    assert(r:recovery("disabled"))
    guest.knob("crash", 1)
    assert(guest.wait_for(function() return r:state() == "crashed" end))
    local ok, err = r:start()
    -- if the kernel counted one more user, take it back: else the next stop,
    -- whoever writes it, does nothing
    if ok then r:stop() end
    assert.is_nil(ok)
    assert.matches("crashed", err)
  end)
end)

describe("kernel: full stack: SIGTERM", function()
  it("destroys every endpoint rpmsg-lua created (ctrl, remoteproc = name, ADDR_ANY) and keeps the channel device", function()
    local raw = assert(guest.channel_dev("rpmsg-raw"))
    local app = helper.script(([[
      local rpmsg = require "rpmsg"
      local eps = {
        assert(rpmsg.endpoint{ctrl = 0, name = "term-ctrl", src = 760, dst = 761}),
        assert(rpmsg.endpoint{remoteproc = %q, name = "term-rproc", src = 762, dst = 763}),
        assert(rpmsg.endpoint{ctrl = 0, name = "term-any", dst = 764}),
        assert(rpmsg.endpoint{dev = %q}),
      }
      for _, ep in ipairs(eps) do ep.on_message = function() end; ep:send("hi") end
      print("ready"); io.stdout:flush()
    ]]):format(RPROC, raw))
    local status, out = helper.sh(table.concat({
      ("%s %s > /tmp/term.out & pid=$!"):format(q(helper.bin), q(app)),
      "for i in $(seq 100); do grep -q ready /tmp/term.out && break; sleep 0.05; done",
      "ls /sys/class/rpmsg/rpmsg_ctrl0 | grep -c '^rpmsg[0-9]'",
      "kill -TERM $pid; wait $pid; echo exit=$?",
    }, "\n"))
    assert.equal(0, status)
    assert.equal("3\nexit=0\n", out)
    for _, name in ipairs{"term-ctrl", "term-rproc", "term-any"} do
      assert.equal(0, in_sysfs(name), name)
    end
    assert.is_true(guest.exists(raw))
  end)
end)
