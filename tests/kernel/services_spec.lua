-- SPDX-License-Identifier: MIT
-- Services by name on the full stack, inside the QEMU guest: fake-r5f's
-- firmware announces rpmsg-raw (rpmsg_char makes /dev/rpmsgN), rpmsg-tty
-- (rpmsg_tty) and fw-echo (no driver). rpmsg.list().channels and `list`,
-- rpmsg.endpoint{service = ...} through rpmsg-raw's node and through the
-- control device with the announced dst, waiting for an announcement, the
-- error naming what was announced, on_announce across a remote restart,
-- driver_override binding (asked, and unasked with rpmsg_ctrl unloaded),
-- and `rpmsg-lua doctor`. Only with RUN_IN_GUEST_BACKEND=virtio.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local guest = require "tests.kernel.guest"
local q = helper.q

if guest.skip_unless_virtio("kernel: services") then return end

local RPROC = guest.rproc   -- "fake-r5f"

local check, until_ = guest.check, guest.until_

local function channel(name)
  for _, c in ipairs(rpmsg.list().channels) do
    if c.name == name then return c end
  end
end

-- Endpoints named name under any control device.
local in_sysfs = guest.endpoints_named

-- A remote restart: the channels go and come back unbound, rpmsg_ctrl0 too.
local function restart_remote()
  if guest.read("/sys/class/remoteproc/remoteproc0/state") ~= "offline" then guest.remote_down() end
  guest.remote_up()
  assert(guest.wait_for(function()
    return guest.exists("/dev/ttyRPMSG0") and #guest.channels("fw-echo") == 1
      and guest.channel_dev("rpmsg-raw") ~= nil
  end, 10000), "fake-r5f did not come back with its channels")
end

-- Leave the stack as the other specs expect it: rpmsg_ctrl loaded, fake-r5f
-- running, fw-echo bound to no driver.
local track, release = guest.tracker()
after_each(function()
  release()
  pcall(rpmsg.on_announce, nil)
  if not guest.exists("/sys/module/rpmsg_ctrl") then
    assert(os.execute("insmod " .. q(os.getenv("RPMSG_MODULES_DIR") .. "/rpmsg_ctrl.ko")))
  end
  local fw = guest.channels("fw-echo")[1]
  if guest.read("/sys/class/remoteproc/remoteproc0/state") ~= "running" or not fw
     or guest.exists("/sys/bus/rpmsg/devices/" .. fw .. "/driver")
     or not guest.exists("/dev/rpmsg_ctrl0") then
    restart_remote()
  end
end)

describe("kernel: services: channels", function()
  it("rpmsg.list() has every announced channel, its driver and its node", function()
    local raw, tty, echo = channel("rpmsg-raw"), channel("rpmsg-tty"), channel("fw-echo")
    assert.equal(3, #rpmsg.list().channels)
    for _, c in ipairs{raw, tty, echo} do
      assert.equal(RPROC, c.remoteproc)
      assert.equal(0, c.ctrl)
      assert.equal(guest.channels(c.name)[1], c.bus)
    end
    assert.same({40, 41, 42}, {raw.dst, tty.dst, echo.dst})
    assert.equal("rpmsg_chrdev", raw.driver)
    assert.equal(guest.channel_dev("rpmsg-raw"), raw.dev)
    assert.is_true(raw.src >= 1024)
    assert.equal("rpmsg_tty", tty.driver)
    assert.equal("/dev/ttyRPMSG0", tty.dev)
    assert.is_nil(echo.driver)
    assert.is_nil(echo.dev)
    assert.equal(rpmsg.ADDR_ANY, echo.src)
  end)

  it("rpmsg-lua list shows them, as text and as JSON", function()
    local status, out = helper.sh(q(helper.bin) .. " list")
    assert.equal(0, status)
    assert.matches("channels\n  NAME%s+SRC%s+DST%s+REMOTEPROC%s+CONTROL%s+DRIVER%s+DEVICE\n", out)
    assert.matches("\n  fw%-echo%s+ANY%s+42%s+fake%-r5f%s+rpmsg_ctrl0%s+%-%s+%-\n", out)
    assert.matches("\n  rpmsg%-raw%s+%d+%s+40%s+fake%-r5f%s+rpmsg_ctrl0%s+rpmsg_chrdev%s+/dev/rpmsg%d+\n", out)
    status, out = helper.sh(q(helper.bin) .. " list --json")
    assert.equal(0, status)
    assert.matches('"channels":%[{"bus":"virtio%d+%.fw%-echo%.%-1%.42","ctrl":0,"dst":42,"name":"fw%-echo","remoteproc":"fake%-r5f","src":4294967295}', out)
    assert.matches('"driver":"rpmsg_tty"', out)
  end)
end)

describe("kernel: services: rpmsg.endpoint{service = ...}", function()
  it("opens rpmsg-raw's own device, which close leaves in place", function()
    local dev = guest.channel_dev("rpmsg-raw")
    local ep = track(assert(rpmsg.endpoint{service = "rpmsg-raw"}))
    assert.equal(dev, ep.path)
    assert.equal("rpmsg-raw", ep.name)
    assert.equal(40, ep.dst)
    helper.run_task(rpmsg, function()
      check(ep:send("raw by name"))
      assert.equal("raw by name", check(ep:receive(3000)))
    end)
    ep:close()
    assert.is_true(guest.exists(dev))
  end)

  it("reaches fw-echo, which has no device, through the control device with the announced dst", function()
    local ep = track(assert(rpmsg.endpoint{service = "fw-echo", name = "to-fw-echo"}))
    assert.equal(42, ep.dst)
    assert.equal(0, ep.ctrl)
    assert.equal(1, in_sysfs("to-fw-echo"))
    helper.run_task(rpmsg, function()
      check(ep:send("echo by name"))
      assert.equal("echo by name", check(ep:receive(3000)))
    end)
    ep:close()
    assert.equal(0, in_sysfs("to-fw-echo"))   -- ours: destroyed
  end)

  it("fails naming what was announced when the name is wrong", function()
    local ep, err, code = rpmsg.endpoint{service = "fw-ecko"}
    assert.is_nil(ep)
    assert.equal("ENOENT", code)
    assert.equal("service 'fw-ecko' is not announced (announced: 'fw-echo' on fake-r5f, "
      .. "'rpmsg-raw' on fake-r5f, 'rpmsg-tty' on fake-r5f); to wait for it, declare it inside rpmsg.spawn", err)
    ep, err = rpmsg.endpoint{service = "fw-echo", remoteproc = "r5f0"}
    assert.is_nil(ep)
    assert.matches("service 'fw%-echo' on r5f0 is not announced", err)
  end)

  it("waits inside a task until the remote announces it, and times out listing what came", function()
    guest.remote_down()
    helper.run_task(rpmsg, function()
      assert.equal(0, #rpmsg.list().channels)
      local ep, err, code = rpmsg.endpoint{service = "fw-echo", timeout = 200}
      assert.is_nil(ep)
      assert.equal("ETIMEDOUT", code)
      assert.equal("service 'fw-echo' was not announced within 200 ms (announced: nothing)", err)
      rpmsg.after(100, function() assert(os.execute(os.getenv("RPMSG_REMOTE_UP"))) end)
      ep = track(check(rpmsg.endpoint{service = "fw-echo", timeout = 15000}))
      check(ep:send("after the wait"))
      assert.equal("after the wait", check(ep:receive(3000)))
    end)
  end)

  it("recovers like a declared endpoint when the remote restarts, and on_announce sees it all", function()
    local events = {}
    assert(rpmsg.on_announce(function(ch, event)
      events[#events + 1] = event .. " " .. ch.name
    end))
    local closed, opened = 0, 0
    local ep = track(assert(rpmsg.endpoint{service = "rpmsg-raw",
      on_close = function() closed = closed + 1 end,
      on_open = function() opened = opened + 1 end}))
    local function count(what)
      local n = 0
      for _, e in ipairs(events) do if e == what then n = n + 1 end end
      return n
    end
    helper.run_task(rpmsg, function()
      rpmsg.sleep(20)
      guest.remote_down()
      until_(function() return count("withdraw rpmsg-raw") == 1 and closed == 1 end, 5000, "the withdrawal")
      assert.equal(1, count("withdraw fw-echo"))
      assert.equal(1, count("withdraw rpmsg-tty"))
      assert.equal(0, count("announce rpmsg-raw"))
      check(os.execute(os.getenv("RPMSG_REMOTE_UP")))
      until_(function() return opened == 1 and count("announce fw-echo") == 1 end, 10000, "the announcement")
      assert.equal(1, count("announce rpmsg-raw"))
      assert.equal(1, count("announce rpmsg-tty"))
      assert.equal(guest.channel_dev("rpmsg-raw"), ep.path)
      check(ep:send("after the restart"))
      assert.equal("after the restart", check(ep:receive(3000)))
    end)
    assert.equal(1, closed)
  end)
end)

describe("kernel: services: driver_override", function()
  -- A host process: the binding is said in the host's log (stderr).
  local BIND = [[
    local rpmsg = require "rpmsg"
    local ep = assert(rpmsg.endpoint{service = "fw-echo"%s})
    print(ep.path)
    ep:send("bound")
    print(ep:recv(496, 3000))
    ep:close()
    rpmsg.after(0, rpmsg.stop)
  ]]

  it("binds fw-echo to rpmsg_chrdev when asked, opens the node it makes, and says so", function()
    local bus = guest.channels("fw-echo")[1]
    local status, out, err = helper.host({helper.script(BIND:format(", bind = true"))})
    assert.equal(0, status, err)
    local dev = guest.channel_dev("fw-echo")
    assert.is_not_nil(dev)
    assert.equal(dev .. "\nbound\n", out)
    assert.equal("rpmsg_chrdev", guest.read("/sys/bus/rpmsg/devices/" .. bus .. "/driver_override"))
    assert.matches("bound channel 'fw%-echo' %(" .. bus:gsub("%p", "%%%0")
      .. "%) to rpmsg_chrdev through driver_override: " .. dev, err)
    assert.is_true(guest.exists(dev))   -- the kernel's node: not ours to destroy
    -- once bound, the next one opens its node without binding again
    status, out, err = helper.host({helper.script(BIND:format(""))})
    assert.equal(0, status, err)
    assert.equal(dev .. "\nbound\n", out)
    assert.not_matches("driver_override", err)
  end)

  it("binds it unasked where no control device reaches it (rpmsg_ctrl not loaded)", function()
    assert(os.execute("rmmod rpmsg_ctrl"))
    assert.is_false(guest.exists("/dev/rpmsg_ctrl0"))
    local status, out, err = helper.host({helper.script(BIND:format(""))})
    assert.equal(0, status, err)
    assert.equal(guest.channel_dev("fw-echo") .. "\nbound\n", out)
    assert.matches("to rpmsg_chrdev through driver_override", err)
  end)
end)

describe("kernel: services: rpmsg-lua doctor", function()
  local function doctor(prefix, args)
    return helper.sh((prefix or "") .. q(helper.bin) .. " doctor" .. (args or ""))
  end

  local function line(out, pattern)
    for l in out:gmatch("[^\n]+") do
      if l:match(pattern) then return l end
    end
    return nil
  end

  it("says a remote is up and reachable (exit 0), check by check", function()
    local status, out, err = doctor()
    assert.equal(0, status, out .. err)
    for _, m in ipairs{"rpmsg_core", "rpmsg_char", "rpmsg_ctrl", "virtio_rpmsg_bus", "rpmsg_tty"} do
      assert.is_not_nil(line(out, "^ok%s+module " .. m .. "%s+loaded$"), m)
    end
    assert.is_not_nil(line(out, "^ok%s+remoteproc fake%-r5f%s+remoteproc0: running, firmware %S+, rpmsg_ctrl0$"))
    assert.is_not_nil(line(out, "^ok%s+control device rpmsg_ctrl0%s+/dev/rpmsg_ctrl0: read%-write for root$"))
    assert.is_not_nil(line(out, "^ok%s+channel rpmsg%-raw on fake%-r5f%s+/dev/rpmsg%d+: read%-write for root %(driver rpmsg_chrdev%)$"))
    assert.is_not_nil(line(out, "^ok%s+channel rpmsg%-tty on fake%-r5f%s+driver rpmsg_tty, /dev/ttyRPMSG0$"))
    assert.is_not_nil(line(out, '^ok%s+channel fw%-echo on fake%-r5f%s+no driver, dst 42: reach it with rpmsg.endpoint{service = "fw%-echo"}$'))
    assert.matches("\nverdict: a remote is up and reachable\n$", out)
  end)

  it("shows the tail of the firmware's trace from debugfs, and says when debugfs is not mounted", function()
    os.execute("umount /sys/kernel/debug 2>/dev/null")
    local _, out = doctor()
    assert.is_not_nil(line(out, "^warn%s+trace of fake%-r5f%s+debugfs is not mounted"))
    assert(os.execute("mount -t debugfs none /sys/kernel/debug"))
    _, out = doctor()
    os.execute("umount /sys/kernel/debug")
    -- fake-r5f's firmware keeps a trace buffer (RSC_TRACE): its tail is shown
    assert.is_not_nil(line(out, "^ok%s+trace of fake%-r5f%s+/sys/kernel/debug/remoteproc/remoteproc%d+/trace0$"), out)
    assert.is_not_nil(line(out, "^%s+| .*fakefw: announced rpmsg%-raw, rpmsg%-tty, fw%-echo$"), out)
  end)

  it("fails (exit 1) with what to do when the remote is stopped", function()
    guest.remote_down()
    local status, out = doctor()
    assert.equal(1, status)
    assert.is_not_nil(line(out, "^FAIL%s+remoteproc fake%-r5f%s+remoteproc0: offline"))
    assert.matches("%-> echo start > /sys/class/remoteproc/remoteproc0/state", out)
    assert.is_not_nil(line(out, "^warn%s+control devices%s+no /dev/rpmsg_ctrlN$") or line(out, "^FAIL%s+control devices"))
    assert.is_not_nil(line(out, "^FAIL%s+channels%s+the remote announced nothing$"))
    assert.matches("\nverdict: no remote is reachable", out)
  end)

  it("fails when this user may not open the devices, naming the udev rule", function()
    local status, out = doctor("setpriv --reuid=65534 --regid=65534 --clear-groups ")
    assert.equal(1, status, out)
    assert.is_not_nil(line(out, "^FAIL%s+control device rpmsg_ctrl0%s+/dev/rpmsg_ctrl0: Permission denied"))
    assert.matches("60%-rpmsg%-lua%.rules", out)
  end)

  it("gives the same as JSON", function()
    local status, out = doctor(nil, " --json")
    assert.equal(0, status)
    assert.matches('^{"checks":%[{"check":"module rpmsg_core","detail":"loaded","verdict":"ok"}', out)
    assert.matches('"reachable":true', out)
    status = doctor(nil, " --yaml")
    assert.equal(2, status)
  end)
end)
