-- SPDX-License-Identifier: MIT
-- rpmsg.watch on a script's own fd: the script may close its fd before it
-- cancels the watch, even while another process still holds the file.
-- epoll keeps a registration as long as any fd refers to the file, so a
-- watch that registered the script's own number could never remove it: the
-- loop then spun on events for a watch long freed (a use after free under
-- the sanitizers). Run in a child lua5.4, so that a crash fails the spec
-- instead of ending busted.
local helper = require "tests.helper"
local q = helper.q

local SCENARIO = [[
package.cpath = BUILD .. "/?.so;" .. package.cpath
local rpmsg = require "rpmsg"
local fifo = os.tmpname(); os.remove(fifo)
assert(os.execute("mkfifo " .. fifo))
local holder = io.popen("exec 3<>" .. fifo .. "; sleep 3")  -- a writer, so opens do not block
local r = assert(io.open(fifo, "r"))
local child = io.popen("sleep 3")   -- inherits r's fd: it holds the same file
local calls = 0
local w = rpmsg.watch(r, function() calls = calls + 1 end)
r:close()            -- the script's number goes first...
w:cancel()           -- ...then the watch
w = nil
collectgarbage(); collectgarbage()
local wr = assert(io.open(fifo, "w")); wr:write("x\n"); wr:flush()
local cpu = os.clock()
rpmsg.run{timeout = 300, raise_errors = true}
print(("calls %d cpu %.3f"):format(calls, os.clock() - cpu))
wr:close(); os.remove(fifo)
]]

describe("rpmsg.watch", function()
  it("lets the script close its fd before cancelling, while another process holds the file", function()
    local code = "BUILD = " .. ("%q"):format(helper.build) .. "\n" .. SCENARIO
    local status, out, err = helper.sh("lua5.4 -e " .. q(code))
    assert.equal(0, status, err)
    local calls, cpu = out:match("calls (%d+) cpu ([%d.]+)")
    assert.equal("0", calls, out)
    -- idle for 300 ms: a stale registration made the loop spin through all of it
    assert.is_true(tonumber(cpu) < 0.1, "the loop spun: " .. out)
  end)
end)
