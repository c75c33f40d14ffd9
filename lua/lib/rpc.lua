-- SPDX-License-Identifier: MIT
-- rpmsg.rpc: request/response over one endpoint.
--
--   local rpc = require "rpmsg.rpc"
--   local peer = rpc.new(ep [, {timeout = 1000, fragment = false, limit = 65536,
--                               max_requests = 256}])
--   peer:serve{add = function(payload, peer, method) return reply end}
--   rpmsg.spawn(function()
--     local reply, err, code = peer:call("add", payload, 500)
--   end)
--   peer:notify("log", "text")          -- no reply expected
--
-- Either side may call and serve. Frames, little-endian, one per message:
--
--   request  0x01 | id u32 | method length u8 | method | payload
--   reply    0x02 | id u32 | payload
--   error    0x03 | id u32 | error text
--
-- The caller picks the id (1..2^32-1, counting up); the reply carries it
-- back, which is how concurrent calls find their replies in any order. A
-- request with id 0 is a notification: it gets no reply. A reply whose id
-- has no call waiting (the call timed out, or it was never made) is dropped
-- with a log line. Malformed frames, stray replies, refused requests and
-- failed handlers are counted and logged at most frag.LOG_BURST lines a
-- second each per peer: a remote cannot flood the log.
-- The server runs at most max_requests requests at once (each is a task
-- holding memory); the excess gets an error reply and its handler never
-- runs. With {fragment = true} every frame travels through
-- rpmsg.frag (both sides must agree), so payloads may reach `limit` bytes;
-- without it a frame must fit one 496-byte message.
--
-- call() returns the reply payload, or nil, message, ERRNAME:
--   nil, "timeout", "ETIMEDOUT"                 no reply in time
--   nil, error text, "EREMOTE"                  the remote's handler failed or said no
--   nil, "endpoint closed (REASON)", "EPIPE"    the endpoint closed while waiting
local rpmsg = require "rpmsg"
local frag = require "rpmsg.frag"

local M = {}

M.REQUEST, M.REPLY, M.ERROR = 1, 2, 3
M.DEFAULT_TIMEOUT = 1000
M.DEFAULT_MAX_REQUESTS = 256

local HEAD = "<BI4"          -- kind, id
local HEAD_SIZE = string.packsize(HEAD)
local MAX_ID = 0xFFFFFFFF

local Peer = {}
Peer.__index = Peer

-- Every peer, weakly: `rpmsg-lua stats` and --metrics report their latencies.
M.peers = setmetatable({}, {__mode = "k"})
M.LATENCY_SAMPLES = 1024

local function check_timeout(t, who)
  if math.type(t) ~= "integer" or t < 0 or t > 1 << 30 then
    error(("%s: timeout must be an integer number of milliseconds (0..2^30), got %s")
      :format(who, tostring(t)), 3)
  end
  return t
end

local function check_max_requests(n)
  if math.type(n) ~= "integer" or n < 1 then
    error(("rpc.new: max_requests must be a positive integer, got %s"):format(tostring(n)), 3)
  end
  return n
end

function M.new(ep, opts)
  local ok, send = pcall(function() return ep.send end)
  if type(ep) ~= "userdata" or not ok or type(send) ~= "function" then
    error(("rpc.new: expected an endpoint, got %s"):format(type(ep)), 2)
  end
  opts = opts or {}
  local self = setmetatable({
    ep = ep,
    label = (ep.name and ep.name ~= "") and ("endpoint '" .. ep.name .. "'") or tostring(ep),
    timeout = check_timeout(opts.timeout or M.DEFAULT_TIMEOUT, "rpc.new"),
    fragment = opts.fragment and true or false,
    limit = opts.limit or frag.DEFAULT_LIMIT,
    max_requests = check_max_requests(opts.max_requests or M.DEFAULT_MAX_REQUESTS),
    active = 0,         -- requests whose handler is running
    pending = {},       -- id -> call waiting for its reply
    next_id = 1,
    handlers = {},
    stats = {calls = 0, timeouts = 0, late = 0, malformed = 0, served = 0, refused = 0},
    latencies = {},     -- method -> the last LATENCY_SAMPLES round trips, in seconds
  }, Peer)
  M.peers[self] = true
  -- What the remote can make us log, each at a bounded rate.
  local prefix = "rpc: " .. self.label
  self.log_malformed = frag.log_limiter(prefix, "malformed frames dropped")
  self.log_late = frag.log_limiter(prefix, "late replies dropped")
  self.log_refused = frag.log_limiter(prefix, "requests refused")
  self.log_failed = frag.log_limiter(prefix, "handler failures")
  if self.fragment then
    local rx = frag.reassembler{limit = self.limit}
    ep.on_message = function(msg)
      local frame, err = rx:feed(msg)
      if err then
        self.stats.malformed = self.stats.malformed + 1
        self.log_malformed:log("%s", err)
      end
      if frame then self:dispatch(frame) end
    end
  else
    ep.on_message = function(msg) self:dispatch(msg) end
  end
  local chained = ep.on_close
  ep.on_close = function(reason, e)
    self:fail_all(("endpoint closed (%s)"):format(reason))
    if chained then chained(reason, e) end
  end
  return self
end

-- Sends one frame, through rpmsg.frag when the peer fragments.
function Peer:send_frame(frame)
  if self.fragment then return frag.send(self.ep, frame, {limit = self.limit}) end
  return self.ep:send(frame)
end

-- The largest frame this peer can send, and advice for the error message.
function Peer:frame_limit()
  if self.fragment then return self.limit, "raise {limit = N} on both sides" end
  return rpmsg.MAX_MESSAGE_SIZE, "use rpc.new(ep, {fragment = true}) for more"
end

function Peer:new_id()
  local id = self.next_id
  while self.pending[id] do id = id % MAX_ID + 1 end
  self.next_id = id % MAX_ID + 1
  return id
end

local function check_args(method, payload, who)
  if type(method) ~= "string" or #method == 0 or #method > 255 then
    error(("%s: method must be a string of 1..255 bytes, got %s")
      :format(who, type(method) == "string" and ("%d bytes"):format(#method) or type(method)), 3)
  end
  if payload ~= nil and type(payload) ~= "string" then
    error(("%s('%s'): payload must be a string, got %s"):format(who, method, type(payload)), 3)
  end
end

function Peer:request_frame(id, method, payload, who)
  local frame = string.pack("<BI4s1", M.REQUEST, id, method) .. (payload or "")
  local max, advice = self:frame_limit()
  if #frame > max then
    error(("%s('%s'): request of %d bytes (%d of payload) is over the %d-byte limit (%s)")
      :format(who, method, #frame, #(payload or ""), max, advice), 3)
  end
  return frame
end

-- Calls method on the remote and waits for its reply, inside rpmsg.spawn.
function Peer:call(method, payload, timeout)
  check_args(method, payload, "rpc:call")
  timeout = timeout == nil and self.timeout or check_timeout(timeout, "rpc:call")
  if not rpmsg.current() then
    error(("rpc:call('%s') must be called inside rpmsg.spawn: it waits for the reply"):format(method), 2)
  end
  local id = self:new_id()
  local frame = self:request_frame(id, method, payload, "rpc:call")
  -- The call suspends its task; the reply (or the endpoint closing) stores
  -- the result and wakes it.
  local call = {task = rpmsg.current()}
  self.pending[id] = call
  -- If the task is cancelled while it waits, forget the call: a reply that
  -- comes later is then "late".
  local _ <close> = setmetatable({}, {__close = function()
    if not call.done and self.pending[id] == call then self.pending[id] = nil end
  end})
  self.stats.calls = self.stats.calls + 1
  local started = rpmsg.clock()
  local ok, err, code = self:send_frame(frame)
  if not ok then
    self.pending[id] = nil
    call.done = true
    return nil, err, code
  end
  if not call.result then   -- a reply may already be in: send_frame can wait for room
    local _, rerr, rcode = rpmsg.suspend(timeout)
    err, code = rerr, rcode
  end
  call.done = true
  if call.result then
    self:record_latency(method, rpmsg.clock() - started)
    return table.unpack(call.result, 1, call.result.n)
  end
  self.pending[id] = nil
  if code == "ETIMEDOUT" then self.stats.timeouts = self.stats.timeouts + 1 end
  return nil, err, code
end

-- Keeps the last LATENCY_SAMPLES round trips of each method, in a ring.
function Peer:record_latency(method, seconds)
  local l = self.latencies[method]
  if not l then
    l = {count = 0, max = 0}
    self.latencies[method] = l
  end
  l.count = l.count + 1
  l[(l.count - 1) % M.LATENCY_SAMPLES + 1] = seconds
  if seconds > l.max then l.max = seconds end
end

-- The p-th percentile (0..100) of a list of numbers, nearest rank.
function M.percentile(samples, p)
  local sorted = table.move(samples, 1, #samples, 1, {})
  table.sort(sorted)
  if #sorted == 0 then return nil end
  return sorted[math.max(1, math.ceil(p / 100 * #sorted))]
end

-- Call latency per method, in seconds: {method = {count =, p50 =, p99 =,
-- max =}}; p50 and p99 over the last LATENCY_SAMPLES calls answered, count
-- and max over all of them.
function Peer:latency()
  local out = {}
  for method, l in pairs(self.latencies) do
    out[method] = {count = l.count, max = l.max, p50 = M.percentile(l, 50), p99 = M.percentile(l, 99)}
  end
  return out
end

-- Sends a request with id 0: the remote runs the handler and never replies.
function Peer:notify(method, payload)
  check_args(method, payload, "rpc:notify")
  return self:send_frame(self:request_frame(0, method, payload, "rpc:notify"))
end

-- Serves the methods in handlers: handler(payload, peer, method) returns the
-- reply payload (a string, or nothing for an empty reply), or nil, message
-- for an error reply; an error it raises becomes an error reply too (and a
-- log line with the traceback). Each request runs in its own rpmsg.spawn
-- task, so a handler may sleep, receive, or call the other side.
function Peer:serve(handlers)
  if type(handlers) ~= "table" then error("rpc:serve: expected a table of method = handler", 2) end
  for name, h in pairs(handlers) do
    if type(name) ~= "string" or type(h) ~= "function" then
      error(("rpc:serve: handler '%s' must be a function under a string name"):format(tostring(name)), 2)
    end
    self.handlers[name] = h
  end
  return self
end

local function malformed(self, why)
  self.stats.malformed = self.stats.malformed + 1
  self.log_malformed:log("malformed frame dropped: %s", why)
end

-- Wakes every waiting call with nil, reason, "EPIPE".
function Peer:fail_all(reason)
  for id, call in pairs(self.pending) do
    self.pending[id] = nil
    call.result = {nil, reason, "EPIPE", n = 3}
    call.task:wake()
  end
end

function Peer:dispatch(frame)
  if #frame < HEAD_SIZE then
    return malformed(self, ("%d bytes, shorter than the %d-byte header"):format(#frame, HEAD_SIZE))
  end
  local kind, id, pos = string.unpack(HEAD, frame)
  if kind == M.REQUEST then
    local ok, method, body = pcall(string.unpack, "s1", frame, pos)
    if not ok then return malformed(self, "request cut off in its method name") end
    return self:handle(id, method, frame:sub(body))
  elseif kind == M.REPLY or kind == M.ERROR then
    local call = self.pending[id]
    if not call then
      self.stats.late = self.stats.late + 1
      self.log_late:log("late reply to call %d dropped: no call waits for it (timed out or cancelled)", id)
      return
    end
    self.pending[id] = nil
    local body = frame:sub(pos)
    call.result = kind == M.REPLY and {body, n = 1} or {nil, body, "EREMOTE", n = 3}
    call.task:wake()
  else
    return malformed(self, ("unknown kind 0x%02X"):format(kind))
  end
end

-- Sends the reply (or error reply) for request id; 0 means none wanted.
function Peer:reply(id, method, kind, body)
  if id == 0 then
    if kind == M.ERROR then self.log_failed:log("notification '%s': %s", method, body) end
    return
  end
  local frame = string.pack(HEAD, kind, id) .. body
  local max, advice = self:frame_limit()
  if #frame > max then
    local why = ("reply of %d bytes is over the %d-byte limit (%s)"):format(#body, max - HEAD_SIZE, advice)
    rpmsg.log("rpc: %s: method '%s': %s", self.label, method, why)
    frame = string.pack(HEAD, M.ERROR, id) .. why
  end
  if self.ep.closed then   -- closed while the handler ran: sending would raise
    rpmsg.log("rpc: %s: reply to '%s' not sent: the endpoint is closed", self.label, method)
    return
  end
  local ok, err = self:send_frame(frame)
  if not ok then rpmsg.log("rpc: %s: reply to '%s' not sent: %s", self.label, method, err) end
end

local function catch(e)
  return {msg = tostring(e), trace = debug.traceback(tostring(e), 2)}
end

-- Answers a request over the max_requests limit without running its handler.
function Peer:refuse(id, method)
  self.stats.refused = self.stats.refused + 1
  local why = ("too many requests in progress: this side runs at most %d at once (rpc.new option max_requests)")
    :format(self.max_requests)
  self.log_refused:log("%s '%s' refused: %s", id == 0 and "notification" or "request", method, why)
  if id ~= 0 then self:reply(id, method, M.ERROR, why) end
end

function Peer:handle(id, method, payload)
  local h = self.handlers[method]
  if not h then return self:reply(id, method, M.ERROR, ("unknown method '%s'"):format(method)) end
  if self.active >= self.max_requests then return self:refuse(id, method) end
  self.stats.served = self.stats.served + 1
  self.active = self.active + 1
  rpmsg.spawn(function()
    -- counted out however the task ends: returned, failed or cancelled
    local _ <close> = setmetatable({}, {__close = function() self.active = self.active - 1 end})
    local ok, r, e = xpcall(h, catch, payload, self, method)
    if not ok then
      self.log_failed:log("handler for '%s' failed: %s", method, r.trace)
      return self:reply(id, method, M.ERROR, r.msg)
    end
    if r == nil and e ~= nil then return self:reply(id, method, M.ERROR, tostring(e)) end
    if r ~= nil and type(r) ~= "string" then
      local why = ("handler for '%s' returned a %s, not a string"):format(method, type(r))
      rpmsg.log("rpc: %s: %s", self.label, why)
      return self:reply(id, method, M.ERROR, why)
    end
    self:reply(id, method, M.REPLY, r or "")
  end)
end

return M
