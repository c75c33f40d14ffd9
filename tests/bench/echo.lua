-- SPDX-License-Identifier: MIT
-- tests/bench/echo.lua: the process under test for the echo benchmark.
--
-- Adopts every fd listed in $BENCH_FDS (inherited SOCK_SEQPACKET ends, see
-- tests/bench/driver.c) as an endpoint whose on_message sends the message
-- straight back. Runs under the host (build/rpmsg-lua tests/bench/echo.lua)
-- and under a stock interpreter with build/rpmsg.so (lua5.4 ... , with
-- LUA_CPATH pointing at build/): rpmsg.run() returns at once under the host.
-- The loop ends when the driver closes its ends (every endpoint "remote gone").
-- BENCH_LUA_GC=incremental, generational or stop: an experiment on the
-- collector's share of the latency tail (tests/bench/run reports the host's
-- default, generational, next to incremental; stopped, the heap grows and
-- page faults blur the picture).
local rpmsg = require "rpmsg"

local gc = os.getenv("BENCH_LUA_GC")
if gc == "generational" or gc == "incremental" then
  collectgarbage(gc)
elseif gc == "stop" then
  collectgarbage("stop")
end

local fds = assert(os.getenv("BENCH_FDS"), "BENCH_FDS is not set")

local function echo(msg, ep)
  ep:send(msg)
end

for fd in fds:gmatch("%d+") do
  assert(rpmsg.endpoint{fd = tonumber(fd), on_message = echo})
end

rpmsg.run()
