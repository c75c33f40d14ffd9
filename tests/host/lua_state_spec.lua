-- SPDX-License-Identifier: MIT
-- The host's Lua state (runtime/host/host_state.c): made with the pool
-- allocator, it must behave as luaL_newstate's does for a script: warnings
-- off until "@on", shown as lua.c shows them, and memory that a script
-- allocates and drops counted and reused.
local helper = require "tests.helper"
local host, script = helper.host, helper.script

describe("the host's Lua state", function()
  it("keeps warnings off until warn('@on'), and '@off' silences them again", function()
    local path = script([[
warn("before")
warn("@on")
warn("one ", "line")
warn("@off")
warn("silenced")
warn("@on")
warn("again")
]])
    local status, _, err = host({path})
    assert.equal(0, status)
    assert.equal("Lua warning: one line\nLua warning: again\n", err)
  end)

  it("counts what a script allocates and gets it back from the collector", function()
    local path = script([[
collectgarbage()
local base = collectgarbage("count")
local t = {}
for i = 1, 20000 do t[i] = string.rep("x", i % 900) .. i end
local held = collectgarbage("count")
t = nil
collectgarbage()
local after = collectgarbage("count")
assert(held - base > 8000, "20000 strings counted: " .. (held - base))
assert(after - base < 64, "all of them freed (the string table may stay larger): " .. (after - base))
print("ok")
]])
    local status, out, err = host({path})
    assert.equal(0, status, err)
    assert.equal("ok\n", out)
  end)
end)
