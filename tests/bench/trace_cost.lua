-- SPDX-License-Identifier: MIT
-- tests/bench/trace_cost.lua N [MODE]: the workload of tests/bench/trace_cost.
-- N round trips between the two ends of an in-process pair in a stock
-- lua5.4 with the rpmsg.so found on LUA_CPATH: a sends, b's on_message
-- sends it back, a's on_message sends the next. MODE "trace" traces to
-- /dev/null (the cost when on); anything else leaves the trace off.
-- Prints "seconds=S" (CPU time of the loop).
local rpmsg = require "rpmsg"

local n = assert(math.tointeger(tonumber(arg[1])), "usage: trace_cost.lua N [trace]")
if arg[2] == "trace" then assert(rpmsg.trace{file = "/dev/null"}) end

local a, b = rpmsg.pair()
local msg = ("x"):rep(32)
local done = 0
b.on_message = function(m) b:send(m) end
a.on_message = function()
  done = done + 1
  if done == n then rpmsg.stop() else a:send(msg) end
end
local t0 = os.clock()
a:send(msg)
rpmsg.run()
print(("seconds=%.6f"):format(os.clock() - t0))
