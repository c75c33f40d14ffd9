-- SPDX-License-Identifier: MIT
-- rpmsg.frag: payloads bigger than one 496-byte RPMsg message, sent as a
-- numbered run of fragments and put back together on the other side.
--
--   frag.send(ep, bytes [, {limit = N}])         -- true, or nil, message, ERRNAME
--   local rx = frag.reassembler{limit = N}
--   local payload, err = rx:feed(msg)           -- payload once the last fragment is in
--   frag.receiver(ep, function(payload, ep) ... end [, opts])   -- the same, as ep.on_message
--
-- Each fragment is one message: a 16-byte header, then up to 480 bytes of
-- data. Little-endian:
--
--   offset size  field
--   0      1     magic    0xFA
--   1      1     version  1
--   2      2     id       message id: the sender counts messages, wrapping at 65536
--   4      2     index    0 .. count-1, sent in order
--   6      2     count    fragments in this message, 1..65535
--   8      4     total    payload bytes in the whole message
--   12     4     crc32    CRC-32 (IEEE 802.3, as zlib's crc32()) of the whole payload
--   16     ...   data     this fragment's share (every fragment but the last is full)
--
-- RPMsg is reliable and ordered, so the receiver expects fragments in order
-- and treats anything else as a fault of the sender: a gap (lost), a repeat
-- (duplicated), another message's fragment in the middle (interleaved), a
-- header that disagrees with the first fragment, a length or CRC mismatch.
-- Each fault is reported once, and a damaged message is dropped whole: it is
-- never delivered, not even in part. A repeated fragment is ignored (the CRC
-- still guards the message). A duplicate is a fragment of the message just
-- delivered (same id, count, total and CRC): it is reported and ignored, so a
-- message is never delivered twice, and it does not disturb the message in
-- progress. The receiver holds at most one message in progress (at most
-- `limit` bytes); a message the sender abandons is reported when the next
-- one starts.
local rpmsg = require "rpmsg"

local M = {}

M.MAGIC = 0xFA
M.VERSION = 1
M.HEADER = "<BBI2I2I2I4I4"
M.HEADER_SIZE = string.packsize(M.HEADER)          -- 16
M.DEFAULT_LIMIT = 64 * 1024
M.DATA_SIZE = rpmsg.MAX_MESSAGE_SIZE - M.HEADER_SIZE -- 480

-- CRC-32 (reflected, polynomial 0xEDB88320), the one zlib and Ethernet use:
-- every C firmware has it at hand. In C (runtime/base/crc32.c): the same
-- loop in Lua cost about 60 VM instructions a byte.
M.crc32 = rpmsg.crc32

local function check_limit(limit, who)
  limit = limit or M.DEFAULT_LIMIT
  if math.type(limit) ~= "integer" or limit < 0 or limit > 0xFFFFFFFF then
    error(("%s: limit must be an integer in 0..4294967295, got %s"):format(who, tostring(limit)), 3)
  end
  return limit
end

-- frag.split(bytes, id [, opts]): the fragments of one message, as a list
-- of strings. opts.limit (default 64 KiB) caps the payload; opts.data_size
-- (default 480) is the data per fragment, for a remote with smaller buffers.
function M.split(bytes, id, opts)
  opts = opts or {}
  if type(bytes) ~= "string" then error(("frag: payload must be a string, got %s"):format(type(bytes)), 2) end
  local limit = check_limit(opts.limit, "frag")
  if #bytes > limit then
    error(("frag: payload of %d bytes is over the limit of %d bytes (raise {limit = N} on both sides)")
      :format(#bytes, limit), 2)
  end
  if math.type(id) ~= "integer" or id < 0 or id > 0xFFFF then
    error(("frag: id must be an integer in 0..65535, got %s"):format(tostring(id)), 2)
  end
  local size = opts.data_size or M.DATA_SIZE
  if math.type(size) ~= "integer" or size < 1 or size > M.DATA_SIZE then
    error(("frag: data_size must be an integer in 1..%d"):format(M.DATA_SIZE), 2)
  end
  local count = math.max(1, (#bytes + size - 1) // size)
  if count > 0xFFFF then
    error(("frag: %d bytes need %d fragments of %d, over 65535"):format(#bytes, count, size), 2)
  end
  local crc, out = M.crc32(bytes), {}
  for i = 0, count - 1 do
    out[i + 1] = string.pack(M.HEADER, M.MAGIC, M.VERSION, id, i, count, #bytes, crc)
      .. bytes:sub(i * size + 1, (i + 1) * size)
  end
  return out
end

-- Per endpoint: the next message id, and whether a send is under way.
-- Weak, so they go with the endpoint.
local next_id = setmetatable({}, {__mode = "k"})
local busy = setmetatable({}, {__mode = "k"})

-- Waits 1 ms if we are inside rpmsg.spawn; false elsewhere.
local function nap() return pcall(rpmsg.sleep, 1) end

-- Waits 1 ms for room, marking ep busy meanwhile. The mark is a
-- to-be-closed variable so that it also goes if the task is cancelled.
local function nap_for_room(ep)
  busy[ep] = true
  local _ <close> = setmetatable({}, {__close = function() busy[ep] = nil end})
  return nap()
end

-- frag.send(ep, bytes [, opts]): sends every fragment with ep:send. On a
-- full send queue (EAGAIN) it waits for room when called inside
-- rpmsg.spawn; elsewhere it returns nil, message, "EAGAIN" with part of the
-- message sent, which the receiver reports and drops. Two sends on one
-- endpoint never interleave: one that finds another waiting for room waits
-- its turn (inside rpmsg.spawn) or returns nil, message, "EBUSY".
function M.send(ep, bytes, opts)
  local ok, parts = pcall(M.split, bytes, next_id[ep] or 0, opts)
  if not ok then error(parts, 2) end
  while busy[ep] do
    if not nap() then
      return nil, "frag: another frag.send on this endpoint is waiting for room", "EBUSY"
    end
  end
  -- the id is taken only now: ids go out in order
  local id = next_id[ep] or 0
  next_id[ep] = (id + 1) & 0xFFFF
  if id ~= (string.unpack("<I2", parts[1], 3)) then parts = M.split(bytes, id, opts) end
  for i = 1, #parts do
    while true do
      local sent, err, code = ep:send(parts[i])
      if sent then break end
      if code ~= "EAGAIN" or not nap_for_room(ep) then
        return nil, ("frag: fragment %d of %d: %s"):format(i, #parts, err), code
      end
    end
  end
  return true
end

-- A log for faults that the remote causes, one per source (an endpoint): a
-- flood of bad messages must not become a flood of log lines. The first
-- LOG_BURST lines of each second are written; the rest are counted, and
-- when that second is over one line says how many were not logged.
-- rpmsg.rpc shares it.
M.LOG_BURST = 5
local LOG_WINDOW = 1000   -- ms

local LogLimiter = {}
LogLimiter.__index = LogLimiter

-- When the limiter goes (its endpoint is dropped, or the process exits and
-- the Lua state closes) before its timer has written the count, the count
-- is written now: nothing is lost without a word. Its timer may be gone
-- already, so it is left alone.
function LogLimiter:__gc()
  if self.held > 0 then
    rpmsg.log("%s: %d more %s in the last second (not logged)", self.prefix, self.held, self.what)
  end
end

-- frag.log_limiter(prefix, what): prefix starts every line ("frag:
-- endpoint 'x'"), what names the lines held back ("faults").
function M.log_limiter(prefix, what)
  return setmetatable({prefix = prefix, what = what, since = nil, logged = 0, held = 0}, LogLimiter)
end

-- Writes the count of lines held back, if any.
function LogLimiter:flush()
  if self.timer then self.timer:cancel(); self.timer = nil end
  if self.held > 0 then
    rpmsg.log("%s: %d more %s in the last second (not logged)", self.prefix, self.held, self.what)
    self.held = 0
  end
end

function LogLimiter:log(fmt, ...)
  local now = rpmsg.now()
  if not self.since or now - self.since >= LOG_WINDOW then
    self:flush()
    self.since, self.logged = now, 0
  end
  if self.logged < M.LOG_BURST then
    self.logged = self.logged + 1
    rpmsg.log("%s: %s", self.prefix, fmt:format(...))
    return
  end
  self.held = self.held + 1
  if not self.timer then   -- so that the count comes out even if the flood stops
    self.timer = rpmsg.after(math.max(0, self.since + LOG_WINDOW - now), function()
      self.timer = nil
      self:flush()
    end)
  end
end

local Reassembler = {}
Reassembler.__index = Reassembler

-- frag.reassembler{limit = N}: N (default 64 KiB) bounds the payload it
-- accepts, and so its memory. rx.errors counts the faults reported.
function M.reassembler(opts)
  opts = opts or {}
  return setmetatable({
    limit = check_limit(opts.limit, "frag.reassembler"),
    cur = nil,    -- the message in progress: header fields, parts, size
    last = nil,   -- header fields of the message delivered last: its repeats are duplicates
    skip = {},    -- ids of messages already reported broken: their later fragments go quietly
    errors = 0,
  }, Reassembler)
end

local function describe(cur)
  return ("message %d (%d of %d fragments in)"):format(cur.id, cur.next, cur.count)
end

-- Forgets a broken message; later fragments of it are dropped without a word.
function Reassembler:drop(id)
  self.cur = nil
  self.skip[#self.skip + 1] = id
  if #self.skip > 4 then table.remove(self.skip, 1) end
end

function Reassembler:skipping(id)
  for _, s in ipairs(self.skip) do if s == id then return true end end
  return false
end

function Reassembler:fault(msg)
  self.errors = self.errors + 1
  return msg
end

-- Feeds one message. Returns payload, err: the payload when this fragment
-- completes a message, and a description when something was dropped. Both
-- can come at once: a one-fragment message that cuts off a broken one.
function Reassembler:feed(msg)
  if #msg < M.HEADER_SIZE then
    return nil, self:fault(("not a fragment: %d bytes, shorter than the %d-byte header"):format(#msg, M.HEADER_SIZE))
  end
  local magic, version, id, index, count, total, crc = string.unpack(M.HEADER, msg)
  if magic ~= M.MAGIC then
    return nil, self:fault(("not a fragment: magic byte 0x%02X, expected 0x%02X"):format(magic, M.MAGIC))
  end
  if version ~= M.VERSION then
    return nil, self:fault(("fragment version %d, this side speaks %d"):format(version, M.VERSION))
  end
  if count == 0 or index >= count then
    return nil, self:fault(("message %d: bad fragment header (index %d of %d)"):format(id, index, count))
  end
  local last = self.last
  if last and id == last.id and count == last.count and total == last.total and crc == last.crc then
    return nil, self:fault(("message %d: fragment %d repeated after the message was delivered, ignored")
      :format(id, index))
  end
  local data = msg:sub(M.HEADER_SIZE + 1)
  local cur, err = self.cur, nil

  if cur and id == cur.id and index < cur.next then
    -- A repeat. Fragment 0 with a different header is a new message that
    -- reuses the id (a restarted sender): that one cuts off the current.
    if index > 0 or (count == cur.count and total == cur.total and crc == cur.crc) then
      return nil, self:fault(("message %d: fragment %d repeated, ignored"):format(id, index))
    end
  end
  if cur and (id ~= cur.id or index ~= cur.next) then
    if index == 0 then
      err = self:fault(("%s cut off by the start of message %d: dropped"):format(describe(cur), id))
      self:drop(cur.id)
    elseif id ~= cur.id then
      err = self:fault(("fragment %d of message %d interleaved into %s: both dropped"):format(index, id, describe(cur)))
      self:drop(cur.id)
      self:drop(id)
      return nil, err
    else
      local lost = cur.next == index - 1 and ("fragment %d"):format(cur.next)
        or ("fragments %d..%d"):format(cur.next, index - 1)
      err = self:fault(("%s: %s lost: dropped"):format(describe(cur), lost))
      self:drop(id)
      return nil, err
    end
    cur = nil
  end

  if not cur then
    if index ~= 0 then
      if self:skipping(id) then return nil end
      self:drop(id)
      return nil, self:fault(("message %d: fragment %d of %d without the fragments before it: dropped")
        :format(id, index, count))
    end
    for i, s in ipairs(self.skip) do if s == id then table.remove(self.skip, i) break end end
    if total > self.limit then
      self:drop(id)
      local e2 = self:fault(("message %d announces %d bytes, over the limit of %d: dropped")
        :format(id, total, self.limit))
      return nil, err and (err .. "; " .. e2) or e2
    end
    cur = {id = id, count = count, total = total, crc = crc, next = 0, size = 0, parts = {}}
    self.cur = cur
  elseif count ~= cur.count or total ~= cur.total or crc ~= cur.crc then
    self:drop(id)
    return nil, self:fault(("%s: fragment %d disagrees with the first about count, total or CRC: dropped")
      :format(describe(cur), index))
  end

  cur.size = cur.size + #data
  if cur.size > cur.total then
    self:drop(id)
    return nil, self:fault(("%s: fragments carry more than the %d bytes announced: dropped")
      :format(describe(cur), cur.total))
  end
  cur.next = index + 1
  cur.parts[cur.next] = data
  if cur.next < cur.count then return nil, err end

  self.cur = nil
  if cur.size ~= cur.total then
    self:drop(id)
    return nil, self:fault(("message %d: fragments carry %d bytes, %d announced: dropped")
      :format(id, cur.size, cur.total))
  end
  local payload = table.concat(cur.parts)
  if M.crc32(payload) ~= cur.crc then
    self:drop(id)
    return nil, self:fault(("message %d: CRC mismatch, the payload is corrupt: dropped"):format(id))
  end
  self.last = {id = id, count = cur.count, total = cur.total, crc = cur.crc}
  return payload, err
end

-- frag.receiver(ep, fn [, opts]): reassembles what arrives on ep and calls
-- fn(payload, ep) for each whole message. Faults go to opts.on_error(err, ep),
-- or to rpmsg.log, at most LOG_BURST lines a second (see log_limiter).
-- Returns the reassembler (rx.errors counts every fault).
function M.receiver(ep, fn, opts)
  opts = opts or {}
  if type(fn) ~= "function" then error("frag.receiver: expected a function for the payloads", 2) end
  local rx = M.reassembler(opts)
  local on_error = opts.on_error
  if not on_error then
    local label = (ep.name and ep.name ~= "") and ("'" .. ep.name .. "'") or tostring(ep)
    local log = M.log_limiter("frag: endpoint " .. label, "faults")
    on_error = function(err) log:log("%s", err) end
  end
  ep.on_message = function(msg, e)
    local payload, err = rx:feed(msg)
    if err then on_error(err, e) end
    if payload then fn(payload, e) end
  end
  return rx
end

return M
