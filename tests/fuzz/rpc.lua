-- SPDX-License-Identifier: MIT
-- Driver of fuzz_rpc: arbitrary frames sent to an rpmsg.rpc peer over
-- rpmsg.pair, through the real loop. Byte 1: bit 0 turns fragmentation on,
-- bits 1-2 pick max_requests (1..4); then frames, each a length byte (255
-- adds a second byte) and that many bytes (at most 496).
--
-- Promises checked: nothing raises out of the endpoint's handler or the
-- tasks rpc runs (the loop runs with raise_errors); every frame is handled
-- before the loop's deadline; without fragmentation, the frames counted as
-- malformed are exactly those the documented frame layout rejects, and
-- never more requests run at once than max_requests.
local rpmsg = require "rpmsg"
local rpc = require "rpmsg.rpc"

rpmsg.log = function(fmt, ...) return fmt:format(...) end   -- quiet, but the format is still checked

local MAX_FRAMES = 64

-- What the README's frame table rejects.
local function is_malformed(f)
  if #f < 5 then return true end
  local kind = f:byte(1)
  if kind == rpc.REQUEST then return #f < 6 or #f < 6 + f:byte(6) end
  return kind ~= rpc.REPLY and kind ~= rpc.ERROR
end

local function frames_of(input, pos)
  local frames = {}
  while pos <= #input and #frames < MAX_FRAMES do
    local n = input:byte(pos)
    pos = pos + 1
    if n == 255 then n = n + (input:byte(pos) or 0); pos = pos + 1 end
    n = math.min(n, rpmsg.MAX_MESSAGE_SIZE)
    frames[#frames + 1] = input:sub(pos, pos + n - 1)
    pos = pos + n
  end
  return frames
end

return function(input)
  if #input < 1 then return end
  local mode = input:byte(1)
  local fragment = mode & 1 == 1
  local max_requests = (mode >> 1) % 4 + 1
  local raw, ep = rpmsg.pair()
  raw.on_message = function() end
  local peer = rpc.new(ep, {fragment = fragment, max_requests = max_requests, timeout = 1000})
  local running, most = 0, 0
  local function counted(fn)
    return function(...)
      running = running + 1
      most = math.max(most, running)
      local _ <close> = setmetatable({}, {__close = function() running = running - 1 end})
      return fn(...)
    end
  end
  peer:serve{
    echo = counted(function(p) return p end),
    fail = counted(function() error("handler failed") end),
    no = counted(function() return nil, "no" end),
    nap = counted(function() rpmsg.sleep(1); return "rested" end),
    number = counted(function() return 42 end),
    call = counted(function(p, self) return self:call("back", p, 5) end),
  }
  -- calls in flight, so that replies find ids 1..3 waiting
  for i = 1, 3 do rpmsg.spawn(function() peer:call("remote", tostring(i), 1000) end) end

  local frames = frames_of(input, 2)
  local seen, handler = 0, ep.on_message
  ep.on_message = function(msg, e)
    seen = seen + 1
    handler(msg, e)
    if seen == #frames then rpmsg.stop() end
  end
  for _, f in ipairs(frames) do
    local ok, err = raw:send(f)
    if not ok then error("the test could not send a frame: " .. tostring(err)) end
  end
  if #frames > 0 then
    local ok, err = rpmsg.run{timeout = 5000, raise_errors = true}
    if not ok then error(("rpc: %d of %d frames handled: %s"):format(seen, #frames, tostring(err))) end
  end
  if most > max_requests then
    error(("%d requests ran at once, over max_requests = %d"):format(most, max_requests))
  end
  if not fragment then
    local want = 0
    for _, f in ipairs(frames) do if is_malformed(f) then want = want + 1 end end
    if peer.stats.malformed ~= want then
      error(("stats.malformed is %d; %d frames were malformed"):format(peer.stats.malformed, want))
    end
  end
  raw:close()
  ep:close()
end
