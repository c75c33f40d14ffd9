-- SPDX-License-Identifier: MIT
-- How rpmsg-lua ends: whatever ends it (os.exit in a handler, stdout to a
-- closed pipe), the endpoints it created are destroyed first; --check says
-- that the script would exit; the module in a stock lua5.4 installs no signal
-- handler until it has an endpoint to destroy. The kernel side of this (the
-- next run can create the same endpoint) is tests/kernel/process_end_spec.lua.
local helper = require "tests.helper"
local q = helper.q

local script = helper.script   -- each in a folder of its own

local function firmware()
  return script([[
    local rpmsg = require "rpmsg"
    local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
    ep:send("go")
  ]])
end

describe("process end", function()
  it("destroys the endpoints when a handler calls os.exit, and exits with its status", function()
    local app = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      ep.on_message = function() print("exiting"); os.exit(7) end
    ]])
    local status, out, err = helper.host({"--sim", firmware(), app})
    assert.equal(7, status)
    assert.equal("exiting\n", out)
    -- The simulator takes the firmware's mirror with the app's endpoint, so the
    -- count depends on the order; what matters is that the line is there.
    assert.matches("destroyed %d endpoints? this process created, at exit", err)
  end)

  it("survives stdout to a closed pipe (| head -1) and still destroys its endpoints", function()
    local app = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      local n = 0
      rpmsg.every(1, function()
        for i = 1, 1000 do n = n + 1; print("line " .. n) end
        io.stdout:flush()
        if n >= 20000 then rpmsg.stop() end
      end)
    ]])
    local cmd = ("timeout -s KILL 20 %s --sim %s %s | head -1; exit ${PIPESTATUS[0]}")
      :format(q(helper.bin), q(firmware()), q(app))
    local status, out, err = helper.sh("bash -c " .. q(cmd))
    assert.equal(0, status, err)
    assert.equal("line 1\n", out)
    assert.matches("destroyed endpoint 'app'", err)
  end)

  it("--check fails, naming it, when the top level calls os.exit", function()
    local path = script([[
      print("loading")
      os.exit(0)
    ]])
    local status, out, err = helper.host({"--check", path})
    assert.equal(1, status)
    assert.equal("loading\n", out)
    assert.matches(":2: os.exit called at the top level", err, 1, true)
  end)

  it("in a stock lua5.4, rpmsg.so catches no signal until an endpoint exists", function()
    local path = script([[
      local function caught()
        for line in io.lines("/proc/self/status") do
          local mask = line:match("^SigCgt:%s*(%x+)")
          if mask then return mask end
        end
      end
      local before = caught()
      local rpmsg = require "rpmsg"
      local a, b = rpmsg.pair()
      rpmsg.after(1, rpmsg.stop)
      rpmsg.run{timeout = 5000}
      a:close(); b:close()
      print(before == caught())
    ]])
    local status, out, err = helper.sh(("LUA_CPATH=%s lua5.4 %s"):format(q(helper.build .. "/?.so"), q(path)))
    assert.equal(0, status, err)
    assert.equal("true\n", out)
  end)
end)
