-- SPDX-License-Identifier: MIT
-- tests/bench/guest_echo.lua: rpmsg-lua's side of the in-guest echo benchmark.
--
--   build/rpmsg-lua tests/bench/guest_echo.lua WINDOW BYTES WARM_MS MEASURE_MS
--
-- Inside tests/kernel/run-in-guest, on the full stack (remoteproc,
-- virtio_rpmsg_bus, rpmsg_ctrl and rpmsg_char), the firmware of our fake
-- remote processor echoes every message to its sender. This opens the
-- firmware's `fw-echo` channel by name (through /dev/rpmsg_ctrl0, dst 42,
-- as endpoint "bench-lua"), sends WINDOW messages, and its on_message sends
-- each echo straight back: the work of tests/bench/guest_echo.c. Counts the echoes of
-- MEASURE_MS after WARM_MS, prints "guest impl=rpmsg-lua window= size= rate=
-- msgs=", and stops (which destroys the endpoint).
local rpmsg = require "rpmsg"

local window = tonumber(arg[1]) or 1
local size = tonumber(arg[2]) or 64
local warm_ms = tonumber(arg[3]) or 300
local measure_ms = tonumber(arg[4]) or 1000

local count = 0
local ep = assert(rpmsg.endpoint{
  service = "fw-echo", name = "bench-lua", src = 0x500,
  on_message = function(msg, ep)
    count = count + 1
    ep:send(msg)
  end,
})

local count0, t0
rpmsg.after(warm_ms, function()
  count0, t0 = count, rpmsg.now()
end)
rpmsg.after(warm_ms + measure_ms, function()
  local msgs = count - count0
  local secs = (rpmsg.now() - t0) / 1000
  io.stdout:write(string.format("guest impl=rpmsg-lua window=%d size=%d rate=%.0f msgs=%d\n",
    window, size, msgs / secs, msgs))
  io.stdout:flush()
  rpmsg.stop()
end)

local msg = string.rep("x", size)
for _ = 1, window do
  assert(ep:send(msg))
end
