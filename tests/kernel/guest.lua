-- SPDX-License-Identifier: MIT
-- Shared by the kernel specs (tests/kernel/*_spec.lua), which run inside the
-- QEMU guest of tests/kernel/run-in-guest: which backend is loaded, how to
-- make the remote go away and come back, the fake remote processor's knobs,
-- and sysfs reading with bounded waits (a spec must never hang).
local rpmsg = require "rpmsg"
local helper = require "tests.helper"
local q = helper.q

local guest = {}

-- "virtio" (the full stack with fake-r5f) or "loopback".
guest.backend = os.getenv("RPMSG_BACKEND") or "loopback"
guest.virtio = guest.backend == "virtio"
guest.rproc = os.getenv("RPMSG_REMOTEPROC")          -- "fake-r5f" on virtio
guest.params = "/sys/module/fakerproc/parameters/"
guest.loopback_ko = os.getenv("RPMSG_LOOPBACK_KO")

function guest.read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("l")
  f:close()
  return s
end

function guest.write(path, value)
  local f = assert(io.open(path, "w"))
  local ok, err = f:write(value)
  local cok, cerr = f:close()
  return ok and cok, err or cerr
end

function guest.exists(path) return os.execute("test -e " .. q(path)) == true end

-- Entries of a directory matching a Lua pattern (captures: the first one).
function guest.ls(dir, pattern)
  local list = {}
  local p = io.popen("ls " .. q(dir) .. " 2>/dev/null")
  for entry in p:lines() do
    local m = entry:match(pattern or ".*")
    if m then list[#list + 1] = m end
  end
  p:close()
  return list
end

-- Polls cond every 20 ms for at most ms milliseconds; true if it held.
function guest.wait_for(cond, ms)
  local deadline = rpmsg.now() + (ms or 5000)
  while not cond() do
    if rpmsg.now() > deadline then return false end
    os.execute("sleep 0.02")
  end
  return true
end

-- The remote goes away / comes back: remoteproc stop/start on virtio, rmmod
-- / insmod of the backend on loopback (same commands as RPMSG_REMOTE_*).
function guest.remote_down() assert(os.execute(os.getenv("RPMSG_REMOTE_DOWN"))) end
function guest.remote_up()
  assert(os.execute(os.getenv("RPMSG_REMOTE_UP")))
  assert(guest.wait_for(function() return guest.exists("/dev/rpmsg_ctrl0") end),
    "rpmsg_ctrl0 did not come back")
end

-- For the files whose specs need the full stack: on another backend,
-- declares them (under title) pending and returns true, and the file
-- returns: if guest.skip_unless_virtio("kernel: X") then return end
function guest.skip_unless_virtio(title)
  if guest.virtio then return false end
  local busted = require "busted"
  busted.describe(title, function() busted.pending("needs RUN_IN_GUEST_BACKEND=virtio") end)
  return true
end

-- A knob of the fake remote processor (stall, delay_ms, crash).
function guest.knob(name, value)
  assert(guest.write(guest.params .. name, tostring(value)))
end

-- The index of the control device whose sysfs path contains needle.
function guest.ctrl_under(needle)
  for _, n in ipairs(guest.ls("/sys/class/rpmsg", "^rpmsg_ctrl(%d+)$")) do
    local p = io.popen("readlink -f /sys/class/rpmsg/rpmsg_ctrl" .. n)
    local path = p:read("l") or ""
    p:close()
    if path:find(needle, 1, true) then return tonumber(n) end
  end
  return nil
end

-- The loopback backend's control device: rpmsg_ctrl0 when it is the backend,
-- else loaded beside the full stack (call guest.loopback_unload() after).
function guest.loopback_ctrl()
  if not guest.virtio then return 0 end
  assert(os.execute("insmod " .. q(guest.loopback_ko)))
  local n
  assert(guest.wait_for(function() n = guest.ctrl_under("/rpmsg_loopback/"); return n end),
    "the loopback's control device did not appear")
  return n
end
function guest.loopback_unload()
  if guest.virtio then assert(os.execute("rmmod rpmsg_loopback")) end
end

-- The bus devices (/sys/bus/rpmsg/devices) of a channel name.
function guest.channels(name)
  return guest.ls("/sys/bus/rpmsg/devices", "^(virtio%d+%." .. name:gsub("%-", "%%-") .. "%.%-?%d+%.%-?%d+)$")
end

-- The /dev/rpmsgN made by rpmsg_char for a channel (not under a ctrl).
function guest.channel_dev(name)
  for _, bus in ipairs(guest.channels(name)) do
    local nodes = guest.ls("/sys/bus/rpmsg/devices/" .. bus .. "/rpmsg", "^rpmsg(%d+)$")
    if nodes[1] then return "/dev/rpmsg" .. nodes[1] end
  end
  return nil
end

-- Waits up to 10 s for fake-r5f's /dev/ttyRPMSG0, the last of its channels
-- to appear after a start; fails with what (the spec's words) if it does not.
function guest.wait_tty(what)
  assert(guest.wait_for(function() return guest.exists("/dev/ttyRPMSG0") end, 10000),
    what or "fake-r5f did not come back with its channels")
end

-- How many endpoints named name there are under all the control devices.
function guest.endpoints_named(name)
  local found = 0
  for _, c in ipairs(guest.ls("/sys/class/rpmsg", "^(rpmsg_ctrl%d+)$")) do
    for _, e in ipairs(guest.ls("/sys/class/rpmsg/" .. c, "^(rpmsg%d+)$")) do
      if guest.read("/sys/class/rpmsg/" .. c .. "/" .. e .. "/name") == name then found = found + 1 end
    end
  end
  return found
end

-- assert() for rpmsg.spawn tasks: luassert's error objects are tables,
-- which the loop reports as "(error object is not a string)".
function guest.check(v, ...)
  if not v then
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
    error(table.concat(parts, " "), 2)
  end
  return v, ...
end

-- Inside an rpmsg.spawn task: runs the loop until cond() holds; fails,
-- naming what, after ms milliseconds (default 5000).
function guest.until_(cond, ms, what)
  local deadline = rpmsg.now() + (ms or 5000)
  while not cond() do
    if rpmsg.now() > deadline then error("timed out waiting for " .. what, 2) end
    rpmsg.sleep(10)
  end
end

-- What a spec opened or armed (endpoints, control devices, ttys, event
-- handles, watches), so that after_each closes or cancels it whatever
-- happened and a failing spec does not make the next ones fail too.
-- Returns track(x, ...), which keeps x and returns its arguments, and
-- release(), which closes (or cancels) the kept in reverse order.
function guest.tracker()
  local live = {}
  local function track(x, ...)
    if x then live[#live + 1] = x end
    return x, ...
  end
  local function release()
    for i = #live, 1, -1 do pcall(live[i].cancel or live[i].close, live[i]); live[i] = nil end
  end
  return track, release
end

local clk_tck
-- CPU time (user + system) of a process, in seconds.
function guest.cpu(pid)
  if not clk_tck then
    local p = io.popen("getconf CLK_TCK")
    clk_tck = tonumber(p:read("l"))
    p:close()
  end
  local stat = guest.read("/proc/" .. pid .. "/stat")
  local fields = {}
  for f in stat:gsub("^.*%) ", ""):gmatch("%S+") do fields[#fields + 1] = f end
  -- after "pid (comm) ": state is field 1, utime 12, stime 13
  return (tonumber(fields[12]) + tonumber(fields[13])) / clk_tck
end

return guest
