-- SPDX-License-Identifier: MIT
-- However a process ends, short of SIGKILL, the kernel endpoints it created
-- are destroyed: the next run can create the same ones (a leftover would make
-- its CREATE fail with EADDRINUSE). Against the real drivers in the QEMU
-- guest (tests/kernel/run-in-guest), for the host and for a stock lua5.4.
local helper = require "tests.helper"
local q = helper.q

-- A script that creates endpoint src, says "created", then runs `after`.
local function creator(src, after)
  return helper.script(([[
    local rpmsg = require "rpmsg"
    local ep = assert(rpmsg.endpoint{name = "end-%d", src = %d, dst = %d})
    print("created"); io.stdout:flush()
    %s
  ]]):format(src, src, src + 1, after))
end

-- Shell: SIGKILL the background job $pid after s seconds, so that a spec
-- whose signal is not taken fails instead of hanging.
local function kill_after(s)
  return ("(sleep %d; kill -KILL $pid) >/dev/null 2>&1 & true"):format(s)
end

-- The same endpoint again, in a fresh host: it must be free.
local function created_again(src)
  local status, out, err = helper.host({creator(src, "rpmsg.stop()")}, 20)
  assert.equal(0, status, err)
  assert.equal("created\n", out)
end

describe("kernel: process end", function()
  it("destroys the endpoints when a handler calls os.exit", function()
    local status, out, err = helper.host({creator(1910, "rpmsg.after(10, function() os.exit(5) end)")}, 20)
    assert.equal(5, status, err)
    assert.equal("created\n", out)
    created_again(1910)
  end)

  it("destroys the endpoints when the watchdog gives up on a stuck __gc (exit 3)", function()
    local status, out, err = helper.host({"--handler-timeout", "200", creator(1915, [[
      rpmsg.after(10, function()
        setmetatable({}, {__gc = function() while true do end end})
        collectgarbage()
      end)
    ]])}, 20)
    assert.equal(3, status, err)
    assert.equal("created\n", out)
    assert.matches("is stuck where Lua cannot interrupt it", err, 1, true)
    created_again(1915)
  end)

  -- (Not SIGQUIT or SIGINT: sh starts background jobs with those ignored.)
  for _, sig in ipairs{"USR1", "ABRT", "SEGV"} do
    it("destroys the endpoints when SIG" .. sig .. " kills the host", function()
      local status, out = helper.sh(("%s %s & pid=$!; %s; sleep 1; kill -%s $pid; wait $pid")
        :format(q(helper.bin), q(creator(1920, "rpmsg.every(1000, function() end)")), kill_after(20), sig))
      assert.is_true(status > 128 and status ~= 137, "killed by the signal")
      assert.equal("created\n", out)
      created_again(1920)
    end)
  end

  it("destroys them after os.exit in a stock lua5.4 with rpmsg.so", function()
    local status, out, err = helper.sh(("LUA_CPATH=%s lua5.4 %s"):format(
      q(helper.build .. "/?.so"), q(creator(1930, "os.exit(0)"))))
    assert.equal(0, status, err)
    assert.equal("created\n", out)
    created_again(1930)
  end)

  it("destroys them when SIGUSR1 kills a stock lua5.4 running rpmsg.run()", function()
    local status, out = helper.sh(("LUA_CPATH=%s lua5.4 %s & pid=$!; %s; sleep 1; kill -USR1 $pid; wait $pid")
      :format(q(helper.build .. "/?.so"), q(creator(1940, "rpmsg.every(1000, function() end); rpmsg.run()")), kill_after(20)))
    assert.is_true(status > 128 and status ~= 137, "killed by the signal")
    assert.equal("created\n", out)
    created_again(1940)
  end)
end)
