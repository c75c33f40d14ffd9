-- SPDX-License-Identifier: MIT
-- The loop under stress from the scripts it runs: a nested rpmsg.run() is
-- refused, and a stop signal ends the run after the handler that is
-- running, not after the whole batch of ready messages.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local q, script = helper.q, helper.script

describe("rpmsg.run", function()
  it("refuses to run again from inside a handler, with a clear error, and the outer run goes on", function()
    local a, b = rpmsg.pair()
    local errors, later = {}, false
    b.on_message = function(m)
      if m == "nest" then
        local ok, err = pcall(rpmsg.run)
        errors[#errors + 1] = not ok and err or "rpmsg.run returned"
        a:send("after")
      else
        later = true
        rpmsg.stop()
      end
    end
    a:send("nest")
    helper.run(rpmsg, 2000)
    a:close(); b:close()
    assert.equal(1, #errors)
    assert.matches("the loop is already running", errors[1])
    assert.is_true(later, "the outer run dispatched the next message")
  end)

  it("refuses it from a timer callback and from a task too", function()
    local from_timer, from_task
    rpmsg.after(1, function() from_timer = select(2, pcall(rpmsg.run)) end)
    rpmsg.spawn(function()
      rpmsg.sleep(2)
      from_task = select(2, pcall(rpmsg.run, {timeout = 10}))
      rpmsg.stop()
    end)
    helper.run(rpmsg, 2000)
    assert.matches("the loop is already running", from_timer)
    assert.matches("the loop is already running", from_task)
  end)
end)

-- Three endpoints with 64 ready messages each, a handler that takes 100 ms:
-- the batch is about 19 s. The first handler sends itself a stop signal and
-- waits for kill(1) to finish; the run must end after that handler.
local BUSY_BATCH = [[
  local rpmsg = require "rpmsg"
  local pid = assert(io.open("/proc/self/stat")):read("n")
  local handled = 0
  local pairs_ = {}
  for i = 1, 3 do
    local a, b = rpmsg.pair()
    pairs_[i] = {a, b}
    for n = 1, 64 do assert(a:send(tostring(n))) end
    b.on_message = function()
      handled = handled + 1
      -- popen, not os.execute: system() ignores SIGINT while it waits.
      if handled == 1 then assert(io.popen("kill -%s " .. pid)):close() end
      local t0 = rpmsg.now()
      while rpmsg.now() - t0 < 100 do end
      io.write("handled ", handled, "\n")
      io.stdout:flush()
    end
  end
]]

local function handled(out)
  local n = 0
  for _ in out:gmatch("handled %d+\n") do n = n + 1 end
  return n
end

describe("a stop signal", function()
  for _, sig in ipairs{"TERM", "INT"} do
    it(("(SIG%s) stops rpmsg-lua after the running handler, not after the batch"):format(sig), function()
      local app = script(BUSY_BATCH:format(sig))
      local t0 = os.time()
      local status, out, err = helper.host({app}, 10)
      assert.equal(0, status, err)
      assert.equal(1, handled(out), out)
      assert.is_true(os.time() - t0 <= 4, "took " .. (os.time() - t0) .. " s")
    end)
  end

  it("(SIGTERM) ends rpmsg.run in a stock lua5.4 after the running handler, and only the run", function()
    local app = script(("package.cpath = %q .. '/?.so;' .. package.cpath\n"):format(helper.build)
      .. BUSY_BATCH:format("TERM") .. [[
      local ok = rpmsg.run()
      print("run returned " .. tostring(ok))
      -- SIGTERM has its default action again once the run is over.
      os.execute("kill -TERM " .. pid)
      print("not reached")
    ]])
    local status, out = helper.sh(("timeout -s KILL 10 lua5.4 %s"):format(q(app)))
    assert.equal(143, status, out)   -- killed by the second SIGTERM
    assert.equal(1, handled(out), out)
    assert.matches("run returned true\n", out)
    assert.not_matches("not reached", out)
  end)
end)
