-- SPDX-License-Identifier: MIT
-- rpmsg.bench: `rpmsg-lua bench`, round trips against any echo: a remote
-- that sends every message back, in order (fakerproc's firmware, a board's
-- echo sample, scripts/sim/echo_fw.lua under --sim). W messages are kept in
-- flight; each reply must equal the message it answers (the i-th reply the
-- i-th message). Prints min, average, p50, p99, max and a histogram of the
-- latencies with power-of-two buckets.
local rpmsg = require "rpmsg"

local M = {status = 1}

local USAGE = [[
usage: rpmsg-lua bench [--sim FIRMWARE.lua] [--service NAME | --ctrl N --dst ADDR]
                       [--count N] [--size B] [--window W] [--timeout MS]
  --ctrl N       control device (default 0)
  --dst ADDR     the echo's address (default 1025)
  --service NAME the echo by its announced channel name
  --count N      round trips (default 1000)
  --size B       bytes per message, 0..496 (default 16)
  --window W     messages in flight (default 1)
  --timeout MS   give up when no reply comes for MS (default 2000)]]

local function parse(args)
  local o = {ctrl = 0, dst = 1025, count = 1000, size = 16, window = 1, timeout = 2000}
  local numeric = {["--ctrl"] = "ctrl", ["--dst"] = "dst", ["--count"] = "count", ["--size"] = "size",
    ["--window"] = "window", ["--timeout"] = "timeout"}
  local i = 1
  while i <= #args do
    local a, v = args[i], args[i + 1]
    if a == "-h" or a == "--help" then return nil, USAGE, 0 end
    if not numeric[a] and a ~= "--service" then return nil, ("bench: unknown option '%s'\n%s"):format(a, USAGE) end
    if v == nil then return nil, ("bench: %s needs a value"):format(a) end
    if a == "--service" then
      o.service = v
    else
      local n = math.tointeger(tonumber(v))
      if not n or n < 0 then return nil, ("bench: %s wants a number >= 0, not '%s'"):format(a, v) end
      o[numeric[a]] = n
      o.given = o.given or {}
      o.given[numeric[a]] = true
    end
    i = i + 2
  end
  if o.size > rpmsg.MAX_MESSAGE_SIZE then
    return nil, ("bench: --size %d is over the %d-byte limit"):format(o.size, rpmsg.MAX_MESSAGE_SIZE)
  end
  if o.count < 1 or o.window < 1 then return nil, "bench: --count and --window must be at least 1" end
  return o
end

-- The i-th message: its number in the first bytes, then a pattern.
local function payload(i, size)
  local head = string.pack("<I4", i % 0x100000000)
  if size <= 4 then return head:sub(1, size) end
  return head .. string.rep(string.char(i % 251), size - 4)
end

function M.percentile(sorted, p)
  return sorted[math.max(1, math.ceil(p / 100 * #sorted))]
end

-- Power-of-two buckets in microseconds, from the lowest one used to the
-- highest; bars scaled to the fullest.
function M.histogram(samples_us)
  local counts, lo, hi = {}, math.huge, 0
  for _, v in ipairs(samples_us) do
    local b = v < 1 and 0 or math.floor(math.log(v, 2))
    counts[b] = (counts[b] or 0) + 1
    lo, hi = math.min(lo, b), math.max(hi, b)
  end
  local most = 0
  for _, c in pairs(counts) do most = math.max(most, c) end
  local lines = {}
  for b = lo, hi do
    local c = counts[b] or 0
    local bar = string.rep("#", c == 0 and 0 or math.max(1, math.floor(c / most * 40 + 0.5)))
    lines[#lines + 1] = ("%8d .. %-8d us | %-40s %d"):format(b == 0 and 0 or 1 << b, 1 << (b + 1), bar, c)
  end
  return table.concat(lines, "\n")
end

function M.report(o, samples, seconds, where)
  local us = {}
  local sum = 0
  for i, s in ipairs(samples) do us[i] = s * 1e6; sum = sum + us[i] end
  table.sort(us)
  local out = {
    ("rpmsg-lua bench: %d round trips of %d bytes, window %d, %s"):format(#us, o.size, o.window, where),
    ("min %.1f us  avg %.1f us  p50 %.1f us  p99 %.1f us  max %.1f us  (%.0f round trips/s)")
      :format(us[1], sum / #us, M.percentile(us, 50), M.percentile(us, 99), us[#us], #us / seconds),
    "latency histogram:",
    M.histogram(us),
  }
  return table.concat(out, "\n")
end

local function fail(msg)
  io.stderr:write("rpmsg-lua: ", msg, "\n")
  M.status = 1
  rpmsg.stop()
end

-- Starts the run; false (with the message printed) on bad arguments.
function M.main(args)
  local o, err, code = parse(args)
  if not o then
    (code == 0 and io.stdout or io.stderr):write(err, "\n")
    M.status = code or 2
    return false
  end
  local decl = {ctrl = o.ctrl, name = "rpmsg-lua-bench", src = rpmsg.ADDR_ANY, dst = o.dst}
  local where = ("against ctrl %d dst %d"):format(o.ctrl, o.dst)
  if o.service then
    -- on the control device given, or wherever the remote announced it
    decl = {ctrl = o.given and o.given.ctrl and o.ctrl or nil, service = o.service, name = "rpmsg-lua-bench"}
    where = ("against service '%s'"):format(o.service)
  end
  local ok, ep, eerr = pcall(rpmsg.endpoint, decl)
  if not ok or not ep then
    io.stderr:write("rpmsg-lua: bench: cannot make the endpoint ", where:gsub("^against ", ""), ": ",
      tostring(ok and eerr or ep), "\n")
    M.status = 1
    return false
  end
  local sent, received, started = 0, 0, {}
  local samples = {}
  local t0, last = rpmsg.clock(), rpmsg.clock()
  local function send_one()
    sent = sent + 1
    started[sent] = rpmsg.clock()
    local sok, serr = ep:send(payload(sent, o.size))
    if not sok then fail(("bench: send %d: %s"):format(sent, serr)) end
  end
  ep.on_message = function(msg)
    received = received + 1
    local now = rpmsg.clock()
    last = now
    if msg ~= payload(received, o.size) then
      return fail(("bench: reply %d is not the message sent (%d bytes back, %d sent)")
        :format(received, #msg, o.size))
    end
    samples[received] = now - started[received]
    started[received] = nil
    if received == o.count then
      print(M.report(o, samples, now - t0, where))
      M.status = 0
      rpmsg.stop()
    elseif sent < o.count then
      send_one()
    end
  end
  ep.on_close = function(reason) fail("bench: the endpoint closed: " .. tostring(reason)) end
  rpmsg.every(math.max(10, o.timeout // 4), function()
    if (rpmsg.clock() - last) * 1000 > o.timeout then
      fail(("bench: no reply for %d ms after %d of %d round trips"):format(o.timeout, received, o.count))
    end
  end)
  for _ = 1, math.min(o.window, o.count) do send_one() end
  return true
end

return M
