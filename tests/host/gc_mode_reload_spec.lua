-- SPDX-License-Identifier: MIT
-- The host sets the generational collector once, when it loads the rpmsg
-- module; a reload runs the new script in the same Lua state and must not
-- set it again: a script that chose the incremental collector keeps it in
-- its next generations, and one that chose generational keeps that.
local helper = require "tests.helper"
local script = helper.script

local function reload_once(choice)
  return script(([[
local rpmsg = require "rpmsg"
local s = rpmsg.state
s.gens = (s.gens or 0) + 1
if s.gens == 1 then
  collectgarbage(%q)
  rpmsg.after(10, rpmsg.reload)
else
  -- collectgarbage(mode) returns the mode it found
  print(s.gens, collectgarbage(%q))
  rpmsg.stop()
end
]]):format(choice, choice))
end

describe("the collector a script chose", function()
  it("stays incremental across a reload", function()
    local status, out, err = helper.host({reload_once("incremental")}, 20)
    assert.equal(0, status, err)
    assert.equal("2\tincremental\n", out)
    assert.equal(1, select(2, err:gsub("reloaded ", "")))
    helper.assert_no_handler_error(err)
  end)

  it("stays generational across a reload", function()
    local status, out, err = helper.host({reload_once("generational")}, 20)
    assert.equal(0, status, err)
    assert.equal("2\tgenerational\n", out)
    helper.assert_no_handler_error(err)
  end)
end)
