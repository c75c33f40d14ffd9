-- SPDX-License-Identifier: MIT
-- A stock lua5.4 closing its state: finalizers run newest first, so one made
-- before require "rpmsg" runs after the module's own. From then on every
-- module function and method raises a clear error instead of touching the
-- loop the module already freed.
local helper = require "tests.helper"
local q, script = helper.q, helper.script

local SHUT = "the module was shut down %(the Lua state is closing%)"

describe("after the rpmsg module is shut down", function()
  it("a finalizer made before require \"rpmsg\" gets a clear error from every call, not a crash", function()
    local app = script(("package.cpath = %q .. '/?.so;' .. package.cpath\n"):format(helper.build) .. [[
      local rpmsg, timer, task, watch, ep, peer
      KEEP = setmetatable({}, {__gc = function()
        local function try(name, fn, ...)
          local ok, err = pcall(fn, ...)
          io.write(name, ": ", ok and "no error" or tostring(err), "\n")
        end
        try("after", rpmsg.after, 10, print)
        try("every", rpmsg.every, 10, print)
        try("spawn", rpmsg.spawn, print)
        try("pair", rpmsg.pair)
        try("watch", rpmsg.watch, 0, print)
        try("run", rpmsg.run)
        try("stop", rpmsg.stop)
        try("now", rpmsg.now)
        try("timer:cancel", function() timer:cancel() end)
        try("timer:active", function() return timer:active() end)
        try("task:cancel", function() task:cancel() end)
        try("task:wake", function() task:wake() end)
        try("watch:cancel", function() watch:cancel() end)
        try("ep:send", function() return assert(ep:send("late")) end)
        try("ep:close", function() ep:close() end)
        package.loaded.rpmsg = nil
        try("require", require, "rpmsg")
        io.stdout:flush()
      end})
      rpmsg = require "rpmsg"
      timer = rpmsg.every(1000, print)
      task = rpmsg.spawn(function() rpmsg.suspend() end)
      ep, peer = rpmsg.pair()
      watch = rpmsg.watch(peer.fd, print)
    ]])
    local status, out, err = helper.sh(("timeout -s KILL 20 lua5.4 %s"):format(q(app)))
    assert.equal(0, status, out .. err)
    for _, name in ipairs{"after", "every", "spawn", "pair", "watch", "run", "stop", "now",
                          "timer:cancel", "timer:active", "task:cancel", "task:wake",
                          "watch:cancel", "require"} do
      assert.matches("\n?" .. name:gsub("%p", "%%%0") .. ": [^\n]*" .. SHUT, out)
    end
    -- The endpoint was closed by its own finalizer first: its methods say so.
    assert.not_matches("ep:send: no error", out)
  end)
end)
