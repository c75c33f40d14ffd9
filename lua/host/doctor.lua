-- SPDX-License-Identifier: MIT
-- rpmsg.doctor: `rpmsg-lua doctor [--json]`, the checks a user would
-- otherwise ask a forum for, each with a verdict and what to do: the rpmsg
-- modules, the remoteprocs and their states, the control devices, the
-- announced channels and their drivers, /dev permissions for this user, the
-- tail of each firmware's trace0. Exit 0 when a remote is up and reachable.
-- RPMSG_SYSFS_ROOT, RPMSG_DEV_ROOT and RPMSG_DEBUGFS_ROOT move /sys, /dev and
-- /sys/kernel/debug (tests point them at a prepared tree).
local rpmsg = require "rpmsg"
local list = require "rpmsg.list"

local M = {}

local SYS = os.getenv("RPMSG_SYSFS_ROOT") or "/sys"
local DEBUGFS = os.getenv("RPMSG_DEBUGFS_ROOT") or (SYS .. "/kernel/debug")

local MODULES = {
  {"rpmsg_core", "fail", "the RPMsg bus itself (CONFIG_RPMSG)"},
  {"virtio_rpmsg_bus", "warn", "RPMsg over virtio, what remoteproc firmware uses (CONFIG_RPMSG_VIRTIO)"},
  {"rpmsg_char", "fail", "/dev/rpmsgN endpoints (CONFIG_RPMSG_CHAR)"},
  {"rpmsg_ctrl", "warn", "/dev/rpmsg_ctrlN on Linux 5.18 and later (CONFIG_RPMSG_CTRL); "
    .. "without it, named channels are bound to rpmsg_chrdev instead"},
  {"rpmsg_tty", "warn", "/dev/ttyRPMSGN for channels named rpmsg-tty (CONFIG_RPMSG_TTY)"},
}

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() return true end
  return os.rename(path, path) ~= nil   -- a folder or a file we may not read
end

local function whoami()
  local p = io.popen("id -un 2>/dev/null")
  local name = p and p:read("l")
  if p then p:close() end
  return name or os.getenv("USER") or "this user"
end

-- Loaded as a module (/sys/module/X/initstate), built in (modules.builtin,
-- or /sys/module/X without initstate), or missing.
local function module_state(name)
  if read(SYS .. "/module/" .. name .. "/initstate") then return "module" end
  local release = (read("/proc/sys/kernel/osrelease") or ""):gsub("%s+$", "")
  local builtin = read("/lib/modules/" .. release .. "/modules.builtin") or ""
  if builtin:find("/" .. name .. "%.ko") or exists(SYS .. "/module/" .. name) then return "built in" end
  return nil
end

-- Can this user open the node read-write? Returns ok, why.
local function openable(path)
  local f, err = io.open(path, "r+")
  if f then f:close() return true end
  return false, err
end

local function access_check(checks, what, path, user)
  local ok, err = openable(path)
  if ok then
    checks[#checks + 1] = {check = what, verdict = "ok", detail = path .. ": read-write for " .. user}
    return true
  end
  local fix
  if err:find("Permission denied") then
    fix = "give " .. user .. " access: install the udev rule 60-rpmsg-lua.rules (group rpmsg) "
      .. "and add " .. user .. " to that group, or run as root"
  elseif err:find("busy") then
    fix = "another process holds it open (one opener at a time): find it with fuser " .. path
  else
    fix = "look at " .. path
  end
  checks[#checks + 1] = {check = what, verdict = err:find("busy") and "warn" or "fail", detail = err, fix = fix}
  return false
end

local function tail(text, n)
  local lines = {}
  for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
  return table.concat(lines, "\n", math.max(1, #lines - n + 1))
end

local function trace_check(checks, r)
  local what = "trace of " .. r.name
  local dir = DEBUGFS .. "/remoteproc/remoteproc" .. r.index
  local text = read(dir .. "/trace0")
  if text then
    checks[#checks + 1] = {check = what, verdict = "ok", detail = dir .. "/trace0",
      trace = tail(text, 10)}
  elseif not exists(DEBUGFS .. "/remoteproc") then
    checks[#checks + 1] = {check = what, verdict = "warn", detail = "debugfs is not mounted, or not readable",
      fix = "as root: mount -t debugfs none /sys/kernel/debug, then rpmsg-lua doctor as root"}
  elseif exists(dir .. "/trace0") then
    checks[#checks + 1] = {check = what, verdict = "warn", detail = dir .. "/trace0 is not readable",
      fix = "run rpmsg-lua doctor as root"}
  else
    checks[#checks + 1] = {check = what, verdict = "ok",
      detail = "no trace0: the firmware has no trace buffer (RSC_TRACE) or is not running"}
  end
end

function M.run()
  local checks, user = {}, whoami()
  for _, m in ipairs(MODULES) do
    local state = module_state(m[1])
    checks[#checks + 1] = state
      and {check = "module " .. m[1], verdict = "ok", detail = state == "module" and "loaded" or "built in"}
      or {check = "module " .. m[1], verdict = m[2], detail = "not loaded: " .. m[3],
          fix = "modprobe " .. m[1] .. " (or enable it in the kernel's configuration)"}
  end
  local l = rpmsg.list()
  local running = 0
  for _, r in ipairs(l.remoteprocs) do
    local up = r.state == "running" or r.state == "attached"
    if up then running = running + 1 end
    checks[#checks + 1] = {check = "remoteproc " .. r.name, verdict = up and "ok" or "fail",
      detail = ("remoteproc%d: %s, firmware %s%s"):format(r.index, r.state or "?", r.firmware or "?",
        r.ctrl and (", rpmsg_ctrl" .. r.ctrl) or ""),
      fix = not up and (r.state == "crashed"
        and "echo stop > /sys/class/remoteproc/remoteproc" .. r.index .. "/state, then start it"
        or "echo start > /sys/class/remoteproc/remoteproc" .. r.index .. "/state (firmware in /lib/firmware)") or nil}
  end
  if #l.remoteprocs == 0 then
    checks[#checks + 1] = {check = "remoteprocs", verdict = "warn", detail = "none in " .. SYS .. "/class/remoteproc",
      fix = "load your SoC's remoteproc driver, unless the remote is reached otherwise (Jailhouse, Xen)"}
  end
  local reachable = false
  for _, c in ipairs(l.ctrls) do
    reachable = access_check(checks, "control device rpmsg_ctrl" .. c.index, c.dev, user) or reachable
  end
  if #l.ctrls == 0 then
    checks[#checks + 1] = {check = "control devices", verdict = running > 0 and "warn" or "fail",
      detail = "no /dev/rpmsg_ctrlN",
      fix = running > 0 and "modprobe rpmsg_ctrl (Linux 5.18+), or reach channels by name (bound to rpmsg_chrdev)"
        or "start a remote processor first"}
  end
  for _, ch in ipairs(l.channels) do
    local what = "channel " .. ch.name .. (ch.remoteproc and (" on " .. ch.remoteproc) or "")
    if ch.dev and ch.dev:match("/rpmsg%d+$") then
      reachable = access_check(checks, what, ch.dev, user) or reachable
      checks[#checks].detail = checks[#checks].detail .. " (driver " .. (ch.driver or "?") .. ")"
    elseif ch.dev then
      checks[#checks + 1] = {check = what, verdict = "ok", detail = ("driver %s, %s"):format(ch.driver or "?", ch.dev)}
    else
      checks[#checks + 1] = {check = what, verdict = "ok",
        detail = ("no driver, dst %d: reach it with rpmsg.endpoint{service = %q}"):format(ch.dst, ch.name)}
    end
  end
  if #l.channels == 0 then
    checks[#checks + 1] = {check = "channels", verdict = (running > 0 or reachable) and "warn" or "fail",
      detail = "the remote announced nothing",
      fix = "the firmware must create its endpoints with a name (rpmsg_create_ept + name service)"
        .. (#l.remoteprocs > 0 and "; see its trace below" or "")}
  end
  for _, r in ipairs(l.remoteprocs) do trace_check(checks, r) end
  return {checks = checks, reachable = reachable, user = user}
end

function M.text(report)
  local out, width = {}, 0
  for _, c in ipairs(report.checks) do width = math.max(width, #c.check) end
  for _, c in ipairs(report.checks) do
    out[#out + 1] = ("%-4s  %-" .. width .. "s  %s"):format(c.verdict == "fail" and "FAIL" or c.verdict,
      c.check, c.detail)
    if c.fix then out[#out + 1] = (" "):rep(width + 8) .. "-> " .. c.fix end
    if c.trace then out[#out + 1] = (c.trace:gsub("[^\n]+", function(l) return (" "):rep(width + 8) .. "| " .. l end)) end
  end
  out[#out + 1] = report.reachable and "verdict: a remote is up and reachable"
    or "verdict: no remote is reachable (see FAIL above)"
  return table.concat(out, "\n") .. "\n"
end

function M.main(args)
  if args[1] ~= nil and args[1] ~= "--json" or args[2] ~= nil then
    io.stderr:write("usage: rpmsg-lua doctor [--json]\n")
    return 2
  end
  local report = M.run()
  io.write(args[1] == "--json" and list.json(report) .. "\n" or M.text(report))
  return report.reachable and 0 or 1
end

return M
