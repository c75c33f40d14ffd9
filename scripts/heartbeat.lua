-- SPDX-License-Identifier: MIT
-- heartbeat.lua: ping the co-processor every INTERVAL ms and raise an alarm
-- when it stops answering; say so again when it comes back.
--
--   rpmsg-lua scripts/heartbeat.lua [INTERVAL_MS [COUNT [MISSES]]]
--
-- INTERVAL_MS (default 1000) between pings; COUNT pings, then stop (default
-- 0: forever); the alarm goes after MISSES pings in a row without a pong
-- (default 3). Protocol, text: we send "ping N", the remote answers
-- "pong N". Runs on a board (rpmsg_ctrl0, remote heartbeat on address
-- 1031) and under --sim scripts/sim/heartbeat_fw.lua.
--
-- Written as one sequential loop in a coroutine: send, wait for the answer
-- with a timeout, sleep out the rest of the interval. The watchdog counts
-- unanswered pings rather than measuring time since the last pong, so a
-- late pong is never mistaken for a missed one twice.
local rpmsg = require "rpmsg"

local interval = tonumber(arg and arg[1]) or 1000
local count = tonumber(arg and arg[2]) or 0
local max_misses = tonumber(arg and arg[3]) or 3

local ep = assert(rpmsg.endpoint{ctrl = 0, name = "heartbeat", src = 1030, dst = 1031})

-- Where an alarm goes: the log here; a real system would also set a GPIO,
-- notify systemd, or restart the remote through remoteproc.
local function alarm(misses)
  rpmsg.log("ALARM: the remote stopped answering (%d pings in a row without a pong)", misses)
end

local function recovered(misses)
  rpmsg.log("remote answering again after %d missed pings", misses)
end

-- Waits until `deadline` for "pong seq"; pongs to older pings (late ones)
-- are skipped. Returns true when the right pong came.
local function await_pong(seq, deadline)
  local want = "pong " .. seq
  while true do
    local left = deadline - rpmsg.now()
    if left <= 0 then return false end
    local msg, err = ep:receive(left)
    if msg == want then return true end
    if not msg and err ~= "timeout" then
      rpmsg.log("heartbeat: %s", err)
      rpmsg.stop()
      return false
    end
    if msg and not msg:match("^pong %d+$") then rpmsg.log("heartbeat: unexpected message %q", msg) end
  end
end

rpmsg.spawn(function()
  local seq, pongs, misses, alarms = 0, 0, 0, 0
  while count == 0 or seq < count do
    seq = seq + 1
    local started = rpmsg.now()
    local deadline = started + interval
    ep:send("ping " .. seq)
    if await_pong(seq, deadline) then
      pongs = pongs + 1
      rpmsg.log("pong %d", seq)
      if misses >= max_misses then recovered(misses) end
      misses = 0
    else
      misses = misses + 1
      if misses == max_misses then
        alarms = alarms + 1
        alarm(misses)
      end
    end
    local left = deadline - rpmsg.now()
    if left > 0 then rpmsg.sleep(left) end
  end
  rpmsg.log("heartbeat done: %d pings, %d pongs, alarms raised: %d", seq, pongs, alarms)
  rpmsg.stop()
end)
