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
for i = 1, 5000 do t[i] = string.rep("x", i % 900) .. i end
local held = collectgarbage("count")
t = nil
collectgarbage()
local after = collectgarbage("count")
assert(held - base > 2000, "5000 strings counted: " .. (held - base))
assert(after - base < 64, "all of them freed (the string table may stay larger): " .. (after - base))
print("ok")
]])
    -- Under valgrind (make valgrind) the chunk may take longer than the
    -- watchdog's default second.
    local status, out, err = host({"--handler-timeout", tostring(1000 * helper.slow), path})
    assert.equal(0, status, err)
    assert.equal("ok\n", out)
  end)
end)

describe("the host's Lua allocator under valgrind's memcheck", function()
  -- Memcheck must see every Lua object as a block of its own (libc's
  -- allocator), or it could not report an overrun or a use after free in
  -- one: a script's thousand strings are then a thousand heap blocks.
  local has_valgrind = os.execute("command -v valgrind >/dev/null 2>&1")
  -- A native build without ASan: not build/asan, and not a cross build
  -- run by qemu-user (valgrind cannot run those).
  local plain_build = not helper.build:find("asan") and helper.native == helper.build
  local run = (has_valgrind and plain_build) and it or pending

  run("gives every Lua object its own heap block", function()
    local path = script([[
local t = {}
for i = 1, 1000 do t[i] = string.rep("y", 50) .. i end
print(#t)
]])
    local status, out, err = helper.sh(("valgrind --tool=memcheck %s %s </dev/null"):format(
      helper.q(helper.real_bin), helper.q(path)))
    assert.equal(0, status, err)
    assert.equal("1000\n", out)
    local allocs = tonumber((err:match("total heap usage: ([%d,]+) allocs") or ""):gsub(",", ""), 10)
    assert.is_truthy(allocs, err)
    assert.is_true(allocs > 1000, ("only %d heap blocks: the pool hid the Lua objects"):format(allocs))
  end)
end)
