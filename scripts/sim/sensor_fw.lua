-- SPDX-License-Identifier: MIT
-- sensor_fw.lua: simulated firmware for scripts/sensor.lua. Its endpoint
-- mirrors the host's (src 1041, dst 1040). A start command starts a stream
-- of samples every period_ms, a stop command stops it. The values follow a
-- fixed pattern so a test can check what the host decoded:
--   temp_mc = 20000 + 250 * seq, humidity_cp = 4000 + 10 * seq,
--   status = 1 except every 7th sample (0: "sensor not ok").
-- It declares the same layouts the firmware's C header would.
local rpmsg = require "rpmsg"
local struct = require "rpmsg.struct"

local Command = struct.layout("command", {{"cmd", "u8"}, {"period_ms", "u16"}})
local Sample = struct.layout("sample", {
  {"seq", "u32"}, {"time_ms", "u32"}, {"temp_mc", "i32"},
  {"humidity_cp", "u16"}, {"status", "u8"}, {"_", "pad[1]"},
})

local ep = assert(rpmsg.endpoint{ctrl = 0, name = "sensor-fw", src = 1041, dst = 1040})
local boot = rpmsg.now()
local stream

ep.on_message = function(msg)
  local c, err = Command:decode(msg)
  if not c then return rpmsg.log("sensor-fw: bad command: %s", err) end
  if stream then stream:cancel(); stream = nil end
  if c.cmd ~= 1 then return end
  local seq = 0
  stream = rpmsg.every(math.max(c.period_ms, 1), function()
    seq = seq + 1
    ep:send(Sample:encode{
      seq = seq, time_ms = rpmsg.now() - boot, temp_mc = 20000 + 250 * seq,
      humidity_cp = 4000 + 10 * seq, status = seq % 7 == 0 and 0 or 1,
    })
  end)
end
