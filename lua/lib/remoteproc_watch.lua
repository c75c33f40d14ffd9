-- SPDX-License-Identifier: MIT
-- rpmsg.on_remoteproc(fn) and r:trace(): following a remote processor.
--
-- State changes: remoteproc's sysfs `state` gives no notification (the
-- 6.1 core calls neither sysfs_notify nor kobject_uevent for it), so the
-- events come from what the kernel does emit, read without polling
-- (runtime/device/rproc_events.c): uevents for the core's virtio and
-- rpmsg devices, which a start, stop, attach, detach or recovery adds or
-- removes, and for a coredump; and, where /dev/kmsg is readable (root, or
-- kernel.dmesg_restrict=0), remoteproc's "handling crash #N in NAME", the
-- only trace of a crash whose recovery is off. Each event makes it read
-- every core's state again, then again 50, 250 and 1000 ms later: the
-- kernel sets a state after the device changes it announces.
--
-- The trace: debugfs trace files do not notify either, and here there is
-- no event to stand in, so r:trace() reads traceK on a timer (500 ms by
-- default) and hands on the lines that are new.
local rpmsg = require "rpmsg"

local M = {}

local SETTLE_MS = {50, 250, 1000}

local function sorted_names(t)
  local names = {}
  for name in pairs(t) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- rpmsg.on_remoteproc(fn): fn{name =, index =, state =, previous =} for
-- each change seen: "running", "offline", "crashed", "attached",
-- "detached", "suspended", or "gone" when the core itself disappears.
-- Returns a handle with :cancel().
function M.on_remoteproc(fn)
  if type(fn) ~= "function" then
    error(("rpmsg.on_remoteproc: expected a function, got %s"):format(type(fn)), 2)
  end
  local ev, err, code = rpmsg.open_remoteproc_events()
  if not ev then return nil, err, code end
  local last = ev:states()
  local handle = {sources = {"uevents"}, kmsg_error = ev.kmsg_error}
  local watches, timers, cancelled = {}, {}, false

  local function report(name, s, state, previous)
    fn{name = name, index = s.index, state = state, previous = previous}
  end

  local function rescan(crashed)
    if cancelled then return end
    local now = ev:states()
    for _, name in ipairs(sorted_names(now)) do
      local s, before = now[name], last[name]
      local prev = before and before.state
      if crashed and crashed[name] and prev ~= "crashed" and s.state ~= "crashed" then
        -- recovered before we looked: the crash still happened
        report(name, s, "crashed", prev)
        prev = "crashed"
      end
      if prev ~= s.state then report(name, s, s.state, prev) end
    end
    for _, name in ipairs(sorted_names(last)) do
      if not now[name] then report(name, last[name], "gone", last[name].state) end
    end
    last = now
  end

  local function event(crashed)
    rescan(crashed)
    for _, t in ipairs(timers) do t:cancel() end
    timers = {}
    for i, ms in ipairs(SETTLE_MS) do timers[i] = rpmsg.after(ms, function() rescan() end) end
  end

  watches[1] = rpmsg.watch(ev.uevent_fd, function()
    if ev:read_uevents() then event() end
  end)
  if ev.kmsg_fd then
    handle.sources[2] = "kmsg"
    watches[2] = rpmsg.watch(ev.kmsg_fd, function()
      local relevant, names = ev:read_kmsg()
      if #names > 0 then
        local crashed = {}
        for _, n in ipairs(names) do crashed[n] = true end
        event(crashed)
      elseif relevant then
        event()
      end
    end)
  end

  function handle.cancel()
    cancelled = true
    for _, w in ipairs(watches) do w:cancel() end
    for _, t in ipairs(timers) do t:cancel() end
    ev:close()
  end
  return handle
end

-- r:trace([on_line or {on_line =, interval = 500, trace = 0, existing = true}]):
-- each new line of debugfs traceK goes to on_line(line, r), by default
-- to the log as "remoteproc NAME: LINE". Returns a handle with :cancel().
function M.trace(r, opts)
  if type(opts) == "function" then opts = {on_line = opts} end
  opts = opts or {}
  if type(opts) ~= "table" then error("r:trace: expected a function or an options table", 2) end
  local interval, k = opts.interval or 500, opts.trace or 0
  if math.type(interval) ~= "integer" or interval < 1 then error("r:trace: interval must be a whole number of ms, at least 1", 2) end
  local on_line = opts.on_line or function(line)
    rpmsg.log("remoteproc %s: %s", r.name, line)
  end
  local seen, missing = "", nil

  local function poll()
    local text, err = r:trace_text(k)
    if not text then
      if not missing then
        missing = err
        seen = ""
        if opts.on_line == nil then rpmsg.log("remoteproc %s: trace%d is not there (%s); waiting for it", r.name, k, err) end
      end
      return
    end
    missing = nil
    local continues = text:sub(1, #seen) == seen
    local fresh = continues and text:sub(#seen + 1) or text
    local last_nl = fresh:match(".*()\n")
    if not last_nl then return end   -- no complete line yet
    local complete = fresh:sub(1, last_nl)
    seen = continues and seen .. complete or complete
    for line in complete:gmatch("([^\n]*)\n") do on_line(line, r) end
  end

  if opts.existing == false then
    local text = r:trace_text(k)
    if text then seen = text:sub(1, (text:match(".*()\n") or 0)) end
  end
  poll()
  local timer = rpmsg.every(interval, poll)
  return {cancel = function() timer:cancel() end, active = function() return timer:active() end}
end

return M
