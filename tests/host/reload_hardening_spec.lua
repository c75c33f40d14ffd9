-- SPDX-License-Identifier: MIT
-- Reload against a script that tampers with what reload relies on: the
-- helpers come from the host's own file, not package.loaded, and a helper
-- that fails is a failed reload, never a Lua panic.
local helper = require "tests.helper"
local script = helper.script

describe("reload", function()
  it("ignores a script's replacement of package.loaded[\"rpmsg.host\"], and a failed helper is a failed reload", function()
    local app = script([[
      local rpmsg = require "rpmsg"
      local s = rpmsg.state
      s.gen = (s.gen or 0) + 1
      if s.gen == 1 then
        package.loaded["rpmsg.host"] = true   -- not even a table
        rpmsg.after(10, rpmsg.reload)
      elseif s.gen == 2 then
        print("generation 2 loaded")
        -- Now break what the helper itself walks over.
        setmetatable(package.loaded, {__pairs = function() error("no pairs today") end})
        rpmsg.after(10, rpmsg.reload)
        rpmsg.after(300, function() print("generation 2 still running"); rpmsg.stop() end)
      else
        print("generation 3 loaded")
      end
    ]])
    local status, out, err = helper.host({app}, 20)
    assert.equal(0, status, err)
    assert.equal("generation 2 loaded\ngeneration 2 still running\n", out)
    assert.matches("reload of [^\n]* failed, generation 2 keeps running: [^\n]*no pairs today", err)
    assert.not_matches("PANIC", err)
  end)
end)
