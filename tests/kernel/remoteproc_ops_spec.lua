-- SPDX-License-Identifier: MIT
-- remoteproc complete, on the real remoteproc core driving fake-r5f: its
-- trace buffer (debugfs trace0) followed, state changes as events from
-- uevents and the kernel log, a crash's coredump read and freed, and
-- attach/detach of a core "a bootloader started" (fakerproc reloaded with
-- start_detached=1). Full stack only.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local guest = require "tests.kernel.guest"

if guest.skip_unless_virtio("kernel: remoteproc operations") then return end

local RPROC = guest.rproc
local FAKE_KO = os.getenv("RPMSG_MODULES_DIR") .. "/fakerproc.ko"

if not guest.exists("/sys/kernel/debug/remoteproc") then
  assert(os.execute("mount -t debugfs debugfs /sys/kernel/debug"))
end

-- Frees any coredump left (it holds the rproc device, and so its number).
local function free_dumps()
  for _, d in ipairs(guest.ls("/sys/class/devcoredump", "^(devcd%d+)$")) do
    guest.write("/sys/class/devcoredump/" .. d .. "/data", "1")
  end
end

-- Leave fake-r5f as remoteproc0, running, recovery on, no coredump.
local function restore()
  free_dumps()
  local r = rpmsg.remoteproc(RPROC)
  if not r or r.index ~= 0 or r:state() == "detached" or r:state() == "attached" then
    os.execute("rmmod fakerproc")
    free_dumps()
    assert(os.execute("insmod " .. helper.q(FAKE_KO)))
    assert(guest.wait_for(function()
      r = rpmsg.remoteproc(RPROC)
      return r and r:state() == "running"
    end, 10000), "fake-r5f did not boot again")
    assert.equal(0, r.index)
  end
  r:recovery("enabled")
  r:coredump("disabled")
  for _ = 1, 3 do
    if r:state() ~= "crashed" then break end
    r:stop()
  end
  if r:state() ~= "running" then assert(r:start()) end
  guest.wait_tty()
end

local track, release = guest.tracker()
after_each(function()
  release()
  helper.cancel_armed()
  restore()
end)

local function knob(name, value) guest.knob(name, value) end

describe("kernel: remoteproc trace", function()
  it("reads trace0 as the firmware wrote it", function()
    local r = assert(rpmsg.remoteproc(RPROC))
    local text = assert(r:trace_text())
    assert.matches("fakefw: started\n", text, 1, true)
    assert.matches("fakefw: announced rpmsg-raw, rpmsg-tty, fw-echo\n", text, 1, true)
    local none, err, code = r:trace_text(1)
    assert.is_nil(none)
    assert.equal("ENOENT", code)
    assert.matches("remoteproc0/trace1", err, 1, true)
  end)

  it("follows it: each new line once, and again from the start after a restart", function()
    local r = assert(rpmsg.remoteproc(RPROC))
    local lines = {}
    track(r:trace{interval = 20, existing = false, on_line = function(l) lines[#lines + 1] = l end})
    helper.run_task(rpmsg, function()
      knob("trace_line", "first from the test")
      knob("trace_line", "second from the test")
      assert(helper.wait_for(rpmsg, function() return #lines >= 2 end))
      assert(r:stop())
      rpmsg.sleep(100)
      assert(r:start())
      assert(helper.wait_for(rpmsg, function() return #lines >= 4 end))
      rpmsg.sleep(100)
    end)
    -- "fakefw: stopped" is the firmware's last line before the kernel
    -- removes trace0: seen only if a read fell in between (trace0 cannot
    -- be waited on, only read)
    if lines[3] == "fakefw: stopped" then table.remove(lines, 3) end
    assert.same({"first from the test", "second from the test", "fakefw: started",
      "fakefw: announced rpmsg-raw, rpmsg-tty, fw-echo"}, lines)
  end)

  it("r:trace() puts the firmware's lines into the host's log", function()
    local script = helper.script([[
      local rpmsg = require "rpmsg"
      local r = assert(rpmsg.remoteproc("fake-r5f"))
      r:trace{interval = 20}
      rpmsg.after(100, function()
        local f = assert(io.open("/sys/module/fakerproc/parameters/trace_line", "w"))
        f:write("hello host log"); f:close()
      end)
      rpmsg.after(400, rpmsg.stop)
    ]])
    local status, _, err = helper.host({script})
    assert.equal(0, status, err)
    assert.matches("remoteproc fake%-r5f: fakefw: started\n", err)
    assert.matches("remoteproc fake%-r5f: hello host log\n", err)
  end)
end)

describe("kernel: rpmsg.on_remoteproc", function()
  it("reports stop, start, and a crash with recovery off, without polling", function()
    local r = assert(rpmsg.remoteproc(RPROC))
    local seen = {}
    local h = track(assert(rpmsg.on_remoteproc(function(ev)
      assert.equal(RPROC, ev.name)
      seen[#seen + 1] = ev.state
    end)))
    assert.same({"uevents", "kmsg"}, h.sources)
    local function has(state, from)
      for i = from or 1, #seen do if seen[i] == state then return i end end
    end
    helper.run_task(rpmsg, function()
      assert(r:stop())
      assert(helper.wait_for(rpmsg, function() return has("offline") end), "no offline event")
      assert(r:start())
      assert(helper.wait_for(rpmsg, function() return has("running") end), "no running event")
      -- recovery off: the core stays crashed and no device changes; only
      -- the kernel log tells (past the re-reads that follow the start's
      -- uevents, which would see it too)
      rpmsg.sleep(1500)
      local mark = #seen
      assert(r:recovery("disabled"))
      knob("crash", 1)
      assert(helper.wait_for(rpmsg, function() return has("crashed", mark + 1) end), "no crashed event")
      assert.equal("crashed", r:state())
      assert(r:stop())
      assert(helper.wait_for(rpmsg, function() return has("offline", mark + 1) end), "no offline after the crash")
      assert(r:recovery("enabled"))
      assert(r:start())
      assert(helper.wait_for(rpmsg, function() return has("running", mark + 1) end))
    end)
    -- consecutive events always differ: each is a change
    for i = 2, #seen do assert.are_not.equal(seen[i - 1], seen[i]) end
  end)

  it("reports a crash that recovery undoes at once: crashed, then running", function()
    local seen = {}
    track(assert(rpmsg.on_remoteproc(function(ev) seen[#seen + 1] = ev.state end)))
    helper.run_task(rpmsg, function()
      knob("crash", 1)
      assert(helper.wait_for(rpmsg, function()
        for i = 1, #seen - 1 do
          if seen[i] == "crashed" and seen[#seen] == "running" then return true end
        end
      end), "no crashed then running: " .. table.concat(seen, ","))
    end)
    for i = 2, #seen do assert.are_not.equal(seen[i - 1], seen[i]) end
  end)
end)

describe("kernel: remoteproc coredump", function()
  it("sets the mode, and reads the crash's dump once: an ELF of the firmware's memory", function()
    local r = assert(rpmsg.remoteproc(RPROC))
    assert.equal("disabled", r:coredump())
    assert.has_error(function() r:coredump("default") end,
      "rpmsg: coredump mode must be \"disabled\", \"enabled\" or \"inline\", not \"default\"")
    local none, _, code = r:dump()
    assert.is_nil(none)
    assert.equal("ENOENT", code)
    assert.is_true(r:coredump("enabled"))
    assert.equal("enabled", r:coredump())
    knob("trace_line", "last words")
    knob("crash", 1)
    local dump
    assert(guest.wait_for(function()
      dump = r:dump()
      return dump
    end, 10000), "no coredump appeared")
    assert.equal("\127ELF", dump:sub(1, 4))
    assert.matches("last words\nfakefw: crashing\n", dump, 1, true)
    local again, err = r:dump()
    assert.is_nil(again, "a dump is read once: reading it freed it")
    assert.matches("has no coredump", err, 1, true)
    assert(guest.wait_for(function() return r:state() == "running" end, 10000))
  end)
end)

describe("kernel: attach and detach", function()
  it("attaches to a core a bootloader started, detaches, attaches again; the tty follows", function()
    free_dumps()
    assert(os.execute("rmmod fakerproc"))
    assert(os.execute("insmod " .. helper.q(FAKE_KO) .. " start_detached=1"))
    local r
    assert(guest.wait_for(function() r = rpmsg.remoteproc(RPROC); return r end, 5000))
    assert.equal("detached", r:state())
    local ok, err, code = r:detach()
    assert.is_nil(ok)
    assert.equal("EINVAL", code)
    assert.matches("is detached, not attached", err, 1, true)
    ok, err = r:start()   -- start on a detached core attaches too; attach() says what it does
    assert.is_true(ok, err)
    assert.equal("attached", r:state())
    ok, err, code = r:attach()
    assert.is_nil(ok)
    assert.matches("is attached, not detached", err, 1, true)
    guest.wait_tty()
    local events = {}
    local h = track(assert(rpmsg.on_remoteproc(function(ev) events[#events + 1] = ev.state end)))
    local t = track(assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "line"}))
    local tty_events = {}
    t.on_close = function(reason) tty_events[#tty_events + 1] = "close " .. reason end
    t.on_open = function() tty_events[#tty_events + 1] = "open" end
    helper.run_task(rpmsg, function()
      assert(t:send("attached"))
      assert.equal("attached", t:receive(3000))
      assert(r:detach())
      assert.equal("detached", r:state())
      assert(helper.wait_for(rpmsg, function() return #tty_events == 1 end), "tty not closed")
      assert(helper.wait_for(rpmsg, function() return events[#events] == "detached" end), "no detached event")
      assert(r:attach())
      assert(helper.wait_for(rpmsg, function() return #tty_events == 2 end), "tty not back")
      assert(t:send("again"))
      assert.equal("again", t:receive(3000))
      assert(helper.wait_for(rpmsg, function() return events[#events] == "attached" end), "no attached event")
    end)
    assert.same({"close remote gone", "open"}, tty_events)
    assert.same({"detached", "attached"}, events)
    local text = assert(r:trace_text())
    assert.matches("fakefw: started by the bootloader\nfakefw: host attached\n", text, 1, true)
    assert.matches("fakefw: host detached, running on\nfakefw: host attached\n", text, 1, true)
    h:cancel()
  end)
end)
