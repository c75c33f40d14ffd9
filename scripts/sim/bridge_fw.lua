-- SPDX-License-Identifier: MIT
-- bridge_fw.lua: simulated firmware for scripts/bridge.lua. Its endpoint
-- mirrors the host's (src 1061, dst 1060) and answers each message with
-- "fw got: " and the message, byte for byte (binary and newlines included),
-- so what a local program sends through the bridge comes back recognisably.
-- "burst N" gets N numbered answers, to show messages the co-processor sends
-- on its own.
local rpmsg = require "rpmsg"

local ep = assert(rpmsg.endpoint{ctrl = 0, name = "bridge-fw", src = 1061, dst = 1060})
ep.on_message = function(msg)
  local n = tonumber(msg:match("^burst (%d+)$"))
  if n then
    for i = 1, n do ep:send(("burst %d/%d"):format(i, n)) end
  else
    ep:send("fw got: " .. msg)
  end
end
