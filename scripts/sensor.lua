-- SPDX-License-Identifier: MIT
-- sensor.lua: start the co-processor's sensor stream, decode each sample
-- with a struct layout and print it as CSV on stdout (so another program can
-- read it from a pipe); log gaps and malformed samples on stderr.
--
--   rpmsg-lua scripts/sensor.lua [COUNT [PERIOD_MS]]
--
-- COUNT samples, then stop the stream and exit (default 0: forever);
-- PERIOD_MS between samples (default 100). Runs on a board (rpmsg_ctrl0,
-- remote sensor on address 1041) and under --sim scripts/sim/sensor_fw.lua.
local rpmsg = require "rpmsg"
local struct = require "rpmsg.struct"

local count = tonumber(arg and arg[1]) or 0
local period = tonumber(arg and arg[2]) or 100

-- The layouts, as the firmware declares them (packed, little-endian):
--   struct command { uint8_t cmd; uint16_t period_ms; };           /* 3 bytes */
--   struct sample  { uint32_t seq, time_ms; int32_t temp_mc;
--                    uint16_t humidity_cp; uint8_t status, pad; };  /* 16 bytes */
local Command = struct.layout("command", {{"cmd", "u8"}, {"period_ms", "u16"}})
local Sample = struct.layout("sample", {
  {"seq", "u32"},          -- counts from 1 since the last start
  {"time_ms", "u32"},      -- the firmware's clock
  {"temp_mc", "i32"},      -- milli-degrees Celsius
  {"humidity_cp", "u16"},  -- hundredths of a percent
  {"status", "u8"},        -- bit 0: the sensor reads fine
  {"_", "pad[1]"},
})
local START, STOP = 1, 0

local ep = assert(rpmsg.endpoint{ctrl = 0, name = "sensor", src = 1040, dst = 1041})
io.stdout:setvbuf("line")   -- each sample reaches a reading pipe at once
print("seq,time_ms,temp_c,humidity_pct,ok")

local received, bad, last_seq = 0, 0, 0
local t_min, t_max, t_sum = math.huge, -math.huge, 0

local function finish()
  ep:send(Command:encode{cmd = STOP, period_ms = 0})
  if received > 0 then
    rpmsg.log("%d samples (%d malformed): temperature min %.3f, max %.3f, mean %.3f °C",
      received, bad, t_min / 1000, t_max / 1000, t_sum / received / 1000)
  end
  rpmsg.stop()
end

ep.on_message = function(msg)
  local s, err = Sample:decode(msg)
  if not s then
    bad = bad + 1
    rpmsg.log("malformed sample dropped: %s", err)
    return
  end
  if s.seq ~= last_seq + 1 then rpmsg.log("samples %d..%d missing", last_seq + 1, s.seq - 1) end
  last_seq = s.seq
  received = received + 1
  t_min, t_max, t_sum = math.min(t_min, s.temp_mc), math.max(t_max, s.temp_mc), t_sum + s.temp_mc
  print(("%d,%d,%.3f,%.2f,%s"):format(s.seq, s.time_ms, s.temp_mc / 1000, s.humidity_cp / 100,
    s.status & 1 == 1 and "yes" or "no"))
  if received == count then finish() end
end

ep.on_close = function(reason)
  rpmsg.log("sensor endpoint closed: %s", reason)
  rpmsg.stop()
end

ep:send(Command:encode{cmd = START, period_ms = period})
