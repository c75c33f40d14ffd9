-- SPDX-License-Identifier: MIT
-- What the REPL shows for the module's userdata: each says what it is and
-- its state (__tostring), not "rpmsg.timer: 0x55...".
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

describe("__tostring of the module's userdata", function()
  after_each(helper.cancel_armed)

  it("says an endpoint's name and addresses, and when it is closed", function()
    local a, b = rpmsg.pair()
    assert.matches("^rpmsg%.endpoint '.*' %(.*src %d+, dst %d+%)$", tostring(a))
    a:close()
    b:close()
    assert.equal("rpmsg.endpoint (closed)", tostring(a))
  end)

  it("says a timer's kind and whether it will still fire", function()
    local once = rpmsg.after(1000, function() end)
    local every = rpmsg.every(250, function() end)
    assert.equal("rpmsg.timer (once, active)", tostring(once))
    assert.equal("rpmsg.timer (every 250 ms, active)", tostring(every))
    once:cancel()
    every:cancel()
    assert.equal("rpmsg.timer (once, done)", tostring(once))
    assert.equal("rpmsg.timer (every 250 ms, cancelled)", tostring(every))
  end)

  it("says whether a task waits, is suspended, done or cancelled", function()
    local sleeper = rpmsg.spawn(function() rpmsg.sleep(1000) end)
    local waiter = rpmsg.spawn(function() rpmsg.suspend() end)
    local quick = rpmsg.spawn(function() end)
    assert.equal("rpmsg.task (waiting)", tostring(sleeper))
    assert.equal("rpmsg.task (suspended)", tostring(waiter))
    assert.equal("rpmsg.task (done)", tostring(quick))
    sleeper:cancel()
    waiter:cancel()
    assert.equal("rpmsg.task (done)", tostring(sleeper))
  end)

  it("says a watch's fd and whether it is watched", function()
    local r = io.popen("exec cat >/dev/null", "w")
    local w = rpmsg.watch(r, function() end, "w")
    assert.matches("^rpmsg%.watch %(fd %d+, active%)$", tostring(w))
    w:cancel()
    assert.matches("^rpmsg%.watch %(fd %d+, cancelled%)$", tostring(w))
    r:close()
  end)

  it("says a control device's path, and a remoteproc's name", function()
    -- their metatables are made with the first object, even one whose
    -- device is not there (tests/module/kinds_on_demand_spec.lua)
    rpmsg.open_ctrl("/dev/rpmsg_ctrl_none")
    rpmsg.remoteproc("no-such-remoteproc")
    local mt = debug.getregistry()["rpmsg.ctrl"]
    assert.is_function(mt and mt.__tostring)
    local rp = debug.getregistry()["rpmsg.remoteproc"]
    assert.is_function(rp and rp.__tostring)
  end)
end)
