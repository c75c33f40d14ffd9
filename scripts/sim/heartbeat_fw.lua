-- SPDX-License-Identifier: MIT
-- heartbeat_fw.lua: simulated firmware for scripts/heartbeat.lua. Its
-- endpoint mirrors the host's (src 1031, dst 1030) and answers "ping N" with
-- "pong N", except that it plays a hang: pings 6 to 10 get no answer, as if
-- the remote were stuck, then it answers again. The scenario counts pings,
-- not time, so it plays out the same on a slow machine.
local rpmsg = require "rpmsg"

local HANG_FROM, HANG_TO = 6, 10

local ep = assert(rpmsg.endpoint{ctrl = 0, name = "heartbeat-fw", src = 1031, dst = 1030})
local pings = 0
ep.on_message = function(msg)
  local n = msg:match("^ping (%d+)$")
  if not n then return end
  pings = pings + 1
  if pings < HANG_FROM or pings > HANG_TO then ep:send("pong " .. n) end
end
