-- SPDX-License-Identifier: MIT
-- The host runs its scripts under Lua's generational collector (set when
-- the host loads the rpmsg module, before the script runs): most of a
-- handler's garbage, the message string first, dies young. A script may
-- still choose the incremental collector, and keeps it. lua.c (a stock
-- lua5.4) chooses generational for its scripts too; one that requires
-- rpmsg keeps whatever its script chose: the module changes nothing there.
local helper = require "tests.helper"
local host, script = helper.host, helper.script

describe("the host's collector", function()
  it("is generational when the script starts", function()
    local path = script([[
print(collectgarbage("generational"))   -- the mode it had: unchanged by the call
]])
    local status, out, err = host({path})
    assert.equal(0, status, err)
    assert.equal("generational\n", out)
  end)

  it("stays incremental, handlers and all, once the script chose it", function()
    local path = script([[
local rpmsg = require "rpmsg"
collectgarbage("incremental")
local a, b = rpmsg.pair()
local n = 0
b.on_message = function(msg, ep) ep:send(msg) end
a.on_message = function(msg, ep)
  n = n + 1
  if n < 3000 then ep:send(msg) else
    print(n, collectgarbage("incremental"))
    a:close(); b:close()
  end
end
a:send(string.rep("m", 64))
]])
    local status, out, err = host({path})
    assert.equal(0, status, err)
    assert.equal("3000\tincremental\n", out)
  end)

  it("is left as the script chose in a stock lua5.4 that requires rpmsg", function()
    local status, out, err = helper.sh(("timeout -s KILL 20 lua5.4 -e %s </dev/null"):format(helper.q(
      "package.cpath = '" .. helper.build .. "/?.so;' .. package.cpath\n" ..
      "collectgarbage('incremental')\n" ..
      "local rpmsg = require 'rpmsg'\n" ..
      "local a, b = rpmsg.pair()\n" ..
      "b.on_message = function(msg) rpmsg.stop() end\n" ..
      "a:send('x')\n" ..
      "assert(rpmsg.run{timeout = 5000, raise_errors = true})\n" ..
      "io.write(collectgarbage('incremental'))")))
    assert.equal(0, status, err)
    assert.equal("incremental", out)
  end)
end)
