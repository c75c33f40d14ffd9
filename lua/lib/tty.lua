-- SPDX-License-Identifier: MIT
-- rpmsg.tty: a co-processor's tty (/dev/ttyRPMSGN from rpmsg_tty, or any
-- tty) as a stream of messages, in the same loop and with the same shape
-- as an endpoint:
--
--   local t = rpmsg.tty{path = "/dev/ttyRPMSG0" | service = "rpmsg-tty",
--                       framing = "raw" | "line" | "cobs", max = 4096,
--                       on_message =, on_close =, on_open =, on_error =,
--                       recover = true}
--   t:send(msg)   t:receive([ms]) (in a task)   t:close()
--
-- The fd is opened raw and non-blocking in C (runtime/device/tty.c,
-- rpmsg.open_tty); this module cuts the byte stream into messages:
--   raw   each read is one message (what arrived together; no boundaries)
--   line  a message per "\n" (not part of it; one "\r" before it is dropped
--         too); send adds "\n" and refuses a message holding one
--   cobs  Consistent Overhead Byte Stuffing, each frame ended by a 0 byte:
--         binary-safe with boundaries
-- A line or COBS frame over `max` bytes, or a COBS frame that does not
-- decode, is reported once (on_error, by default the log) and skipped, and
-- the stream goes on from the next delimiter.
local rpmsg = require "rpmsg"

local M = {}

M.DEFAULT_MAX = 4096
M.QUEUE_LIMIT = 256            -- messages no one took yet
M.SEND_LIMIT = 64 * 1024       -- bytes waiting for the tty to take them
local MAX_BACKOFF_MS = 5000

-- ---- framing ---------------------------------------------------------------

function M.cobs_encode(s)
  local out, i, n = {}, 1, #s
  while true do
    -- a block: up to 254 bytes without a zero
    local z = s:find("\0", i, true)
    local stop = z and z - 1 or n
    if stop - i + 1 >= 254 then
      out[#out + 1] = "\255" .. s:sub(i, i + 253)
      i = i + 254
      if i > n and not z then break end
    else
      out[#out + 1] = string.char(stop - i + 2) .. s:sub(i, stop)
      if not z then break end
      i = z + 1
    end
  end
  return table.concat(out)
end

-- The frame's bytes (no 0 in them); nil and why when they do not decode.
function M.cobs_decode(f)
  local out, i, n = {}, 1, #f
  while i <= n do
    local code = f:byte(i)
    if i + code - 1 > n then
      return nil, ("COBS frame does not decode: the code byte at offset %d announces %d bytes, %d are left")
        :format(i - 1, code - 1, n - i)
    end
    out[#out + 1] = f:sub(i + 1, i + code - 1)
    i = i + code
    if code < 255 and i <= n then out[#out + 1] = "\0" end
  end
  return table.concat(out)
end

-- A decoder: feed(chunk) calls emit(msg) per message and fail(err) per
-- broken one, in stream order. A message may be max bytes; its frame
-- (delimiter excluded) frame_max, which holds the framing's overhead.
local function delimited(delim, decode, what, frame_max, max, emit, fail)
  local buf, skipping = "", false
  local function over(n)
    return ("%s of %d bytes is over the limit of %d bytes: dropped"):format(what, n, max)
  end
  return function(chunk)
    buf = buf .. chunk
    local start = 1
    while true do
      local d = buf:find(delim, start, true)
      if not d then break end
      local frame = buf:sub(start, d - 1)
      start = d + 1
      if skipping then
        skipping = false
      elseif #frame > frame_max then   -- its message would be over max too
        fail(("%s over the limit of %d bytes: dropped"):format(what, max))
      else
        local msg, err = decode(frame)
        if msg and #msg > max then fail(over(#msg))
        elseif msg then emit(msg)
        elseif err then fail(err .. ": dropped") end
      end
    end
    buf = buf:sub(start)
    if #buf > frame_max then
      if not skipping then
        fail(("%s over the limit of %d bytes: dropped up to the next delimiter"):format(what, max))
        skipping = true
      end
      buf = ""
    end
  end
end

local framings = {
  raw = {
    decoder = function(_, emit) return emit end,
    encode = function(msg) return msg end,
  },
  line = {
    decoder = function(max, emit, fail)
      return delimited("\n", function(l)
        if l:sub(-1) == "\r" then l = l:sub(1, -2) end
        return l
      end, "line", max + 1, max, emit, fail)   -- + the "\r" of a CRLF
    end,
    encode = function(msg)
      if msg:find("\n", 1, true) then
        error("rpmsg.tty: a message of line framing cannot hold a newline", 3)
      end
      return msg .. "\n"
    end,
  },
  cobs = {
    decoder = function(max, emit, fail)
      return delimited("\0", function(f)
        if f == "" then return nil end   -- 0 0: an empty gap some senders put between frames
        return M.cobs_decode(f)
      end, "COBS frame", max + max // 254 + 1, max, emit, fail)   -- + COBS's overhead
    end,
    encode = function(msg) return M.cobs_encode(msg) .. "\0" end,
  },
}

-- Exposed for tests and firmware scripts: decoder(framing, max, emit, fail).
function M.decoder(framing, max, emit, fail)
  local f = framings[framing] or error(("rpmsg.tty: unknown framing '%s' (raw, line or cobs)"):format(tostring(framing)), 2)
  return f.decoder(max or M.DEFAULT_MAX, emit, fail)
end

function M.encode(framing, msg)
  local f = framings[framing] or error(("rpmsg.tty: unknown framing '%s' (raw, line or cobs)"):format(tostring(framing)), 2)
  return f.encode(msg)
end

-- ---- the object --------------------------------------------------------------

local Tty = {}
local state = setmetatable({}, {__mode = "k"})   -- proxy -> its state
local READ_ONLY = {path = true, framing = true, service = true, closed = true, fd = true, max = true, stats = true}

local function label(s) return s.service and ("service '" .. s.service .. "'") or s.path end

-- Calls handler `name` with the arguments; an error is kept for the end of
-- the batch (so one bad message does not cost the ones after it), then
-- raised once from the loop's callback, which logs and counts it.
local function call(s, name, ...)
  local fn = s.fields[name]
  if type(fn) ~= "function" then return end
  local ok, err = xpcall(fn, debug.traceback, ...)
  if not ok then
    s.errors[#s.errors + 1] = ("%s of tty %s: %s"):format(name, label(s), tostring(err))
  end
end

local function raise_kept(s)
  local errs = s.errors
  if #errs == 0 then return end
  s.errors = {}
  local more = #errs > 1 and ("\n(and %d more handler errors in this batch)"):format(#errs - 1) or ""
  error(errs[1] .. more, 0)
end

local function deliver(s, msg)
  s.stats.messages_in = s.stats.messages_in + 1
  while #s.waiters > 0 do
    local task = table.remove(s.waiters, 1)
    if task:wake(msg) then return end
  end
  if type(s.fields.on_message) == "function" then
    call(s, "on_message", msg, s.proxy)
  elseif #s.queue < M.QUEUE_LIMIT then
    s.queue[#s.queue + 1] = msg
  else
    table.remove(s.queue, 1)
    s.stats.dropped = s.stats.dropped + 1
    rpmsg.log("tty %s: %d messages wait with no on_message or receive: dropped the oldest",
      label(s), M.QUEUE_LIMIT)
  end
end

local function framing_error(s, err)
  s.stats.framing_errors = s.stats.framing_errors + 1
  if type(s.fields.on_error) == "function" then
    call(s, "on_error", err, s.proxy)
  else
    rpmsg.log("tty %s: %s", label(s), err)
  end
end

local function stop_io(s)
  if s.rwatch then s.rwatch:cancel(); s.rwatch = nil end
  if s.wwatch then s.wwatch:cancel(); s.wwatch = nil end
end

local function stop_waiting(s)
  if s.retry then s.retry:cancel(); s.retry = nil end
  if s.uwatch then s.uwatch:cancel(); s.uwatch = nil end
  if s.uevents then s.uevents:close(); s.uevents = nil end
end

local start_io, reopen

-- The tty went (hung up) or was closed: on_close once, waiters told, and a
-- tty that recovers waits for its node to come back.
local function went(s, reason, recover)
  stop_io(s)
  if s.fd then s.fd:close(); s.fd = nil end
  if #s.out > 0 then
    rpmsg.log("tty %s: %d bytes unsent (%s)", label(s), #s.out, reason)
    s.out = ""
  end
  s.down = recover
  s.closed = not recover
  local waiters = s.waiters
  s.waiters = {}
  for _, task in ipairs(waiters) do task:wake(nil, ("tty closed (%s)"):format(reason), "EPIPE") end
  call(s, "on_close", reason, s.proxy)
  if recover then
    -- The kernel announces the new ttyRPMSG (a uevent for a device under
    -- the remoteproc) once its node is in /dev: try then. The timer, its
    -- backoff growing to 5 s, is for what no uevent announces (a node
    -- whose permissions udev sets a moment later, a simulated tty).
    s.backoff = 20
    s.retry = rpmsg.after(s.backoff, function() reopen(s) end)
    local ev = rpmsg.open_remoteproc_events()
    if ev then
      s.uevents = ev
      s.uwatch = rpmsg.watch(ev.uevent_fd, function()
        if ev:read_uevents() and s.down then
          if s.retry then s.retry:cancel() end
          s.backoff = 20
          reopen(s)
        end
      end)
    end
  end
end

local function flush(s)
  while #s.out > 0 do
    local n, err, code = s.fd:write(s.out)
    if not n then
      if code == "EPIPE" then return went(s, "remote gone", s.recover) end
      rpmsg.log("tty %s: write: %s", label(s), err)
      return
    end
    if n == 0 then break end
    s.stats.bytes_out = s.stats.bytes_out + n
    s.out = s.out:sub(n + 1)
  end
  if #s.out > 0 and not s.wwatch then
    s.wwatch = rpmsg.watch(s.fd.fd, function() flush(s) end, "w")
  elseif #s.out == 0 and s.wwatch then
    s.wwatch:cancel()
    s.wwatch = nil
  end
end

local function readable(s)
  for _ = 1, 64 do   -- a busy tty cannot starve the rest of the loop
    if not s.fd then break end
    local chunk, err, code = s.fd:read()
    if not chunk then
      if code == "EPIPE" then went(s, "remote gone", s.recover)
      elseif code ~= "EAGAIN" then rpmsg.log("tty %s: read: %s", label(s), err) end
      break
    end
    s.stats.bytes_in = s.stats.bytes_in + #chunk
    s.feed(chunk)
  end
  raise_kept(s)
end

function start_io(s)
  s.rwatch = rpmsg.watch(s.fd.fd, function() readable(s) end, "r")
end

local function open(s)
  if s.service then return rpmsg.open_tty{service = s.service} end
  return rpmsg.open_tty(s.path)
end

function reopen(s)
  s.retry = nil
  if not s.down then return end
  local fd = open(s)
  if not fd then
    s.backoff = math.min(s.backoff * 2, MAX_BACKOFF_MS)
    s.retry = rpmsg.after(s.backoff, function() reopen(s) end)
    return
  end
  stop_waiting(s)
  s.fd, s.down = fd, false
  s.path = fd.path
  start_io(s)
  call(s, "on_open", s.proxy)
  raise_kept(s)
end

function Tty.send(self, msg)
  local s = state[self]
  if type(msg) ~= "string" then error(("rpmsg.tty: send: expected a string, got %s"):format(type(msg)), 2) end
  local bytes = framings[s.framing].encode(msg)
  if s.closed then error(("rpmsg.tty: tty %s is closed"):format(label(s)), 2) end
  if s.down then return nil, "tty down", "ENOTCONN" end
  if #s.out + #bytes > M.SEND_LIMIT then
    return nil, ("tty %s: %d bytes already wait for the tty to take them"):format(label(s), #s.out), "EAGAIN"
  end
  s.out = s.out .. bytes
  s.stats.messages_out = s.stats.messages_out + 1
  flush(s)
  return true
end

function Tty.receive(self, timeout)
  local s = state[self]
  if #s.queue > 0 then return table.remove(s.queue, 1) end
  if s.closed then return nil, "tty closed (closed)", "EPIPE" end
  local task = rpmsg.current()
  if not task then error("rpmsg.tty: receive must be called inside rpmsg.spawn: it waits", 2) end
  s.waiters[#s.waiters + 1] = task
  local msg, err, code = rpmsg.suspend(timeout)
  if msg ~= nil then return msg end
  for i, t in ipairs(s.waiters) do
    if t == task then table.remove(s.waiters, i) break end
  end
  return nil, err, code
end

function Tty.close(self)
  local s = state[self]
  if s.closed then return true end
  stop_waiting(s)
  if s.fd then flush(s) end
  if s.closed then return true end   -- the flush found it hung up
  s.recover = false
  went(s, "closed", false)
  return true
end

local mt = {
  __index = function(proxy, k)
    local s = state[proxy]
    if Tty[k] then return Tty[k] end
    if k == "closed" then return s.closed end
    if k == "fd" then return s.fd and s.fd.fd end
    if READ_ONLY[k] then return s[k] end
    return s.fields[k]
  end,
  __newindex = function(proxy, k, v)
    local s = state[proxy]
    if READ_ONLY[k] then error(("rpmsg: tty.%s is read-only"):format(k), 2) end
    if Tty[k] then error(("rpmsg: tty.%s is a method: it cannot be assigned"):format(k), 2) end
    s.fields[k] = v
    if k == "on_message" and type(v) == "function" and #s.queue > 0 then
      -- messages that waited for a taker go first, from the loop
      rpmsg.after(0, function()
        while #s.queue > 0 and type(s.fields.on_message) == "function" do
          call(s, "on_message", table.remove(s.queue, 1), proxy)
        end
        raise_kept(s)
      end)
    end
  end,
  __tostring = function(proxy)
    local s = state[proxy]
    return ("rpmsg.tty %s (%s framing)%s"):format(label(s), s.framing, s.closed and " closed" or s.down and " down" or "")
  end,
  __name = "rpmsg.tty",
}

-- help() in the REPL lists a tty's methods from here.
M.metatable = mt

function M.new(opts)
  if type(opts) ~= "table" then error("rpmsg.tty{path = ... or service = ..., framing = ...}: expected a table", 2) end
  if (opts.path == nil) == (opts.service == nil) then
    error("rpmsg.tty: give either path (\"/dev/ttyRPMSG0\") or service (the channel's name)", 2)
  end
  if opts.path ~= nil and type(opts.path) ~= "string" then error("rpmsg.tty: path must be a string", 2) end
  if opts.service ~= nil and type(opts.service) ~= "string" then error("rpmsg.tty: service must be a string", 2) end
  local framing = opts.framing or "raw"
  if not framings[framing] then
    error(("rpmsg.tty: unknown framing '%s' (raw, line or cobs)"):format(tostring(framing)), 2)
  end
  local max = opts.max or M.DEFAULT_MAX
  if math.type(max) ~= "integer" or max < 1 then error("rpmsg.tty: max must be an integer of 1 or more", 2) end
  local proxy = setmetatable({}, mt)
  local s = {
    proxy = proxy, path = opts.path, service = opts.service, framing = framing, max = max,
    recover = opts.recover ~= false, fields = {}, queue = {}, waiters = {}, errors = {},
    out = "", closed = false, down = false,
    stats = {messages_in = 0, messages_out = 0, bytes_in = 0, bytes_out = 0, framing_errors = 0, dropped = 0},
  }
  state[proxy] = s
  local fd, err, code = open(s)
  if not fd then return nil, err, code end
  s.fd = fd
  s.path = fd.path
  s.feed = framings[framing].decoder(max, function(msg) deliver(s, msg) end,
    function(e) framing_error(s, e) end)
  for _, k in ipairs{"on_message", "on_close", "on_open", "on_error"} do
    if opts[k] ~= nil then s.fields[k] = opts[k] end
  end
  start_io(s)
  return proxy
end

return M
