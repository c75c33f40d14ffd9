-- SPDX-License-Identifier: MIT
-- Live reload as a transaction, and the watchdog, under the simulated
-- co-processor.
local helper = require "tests.helper"
-- shell commands pace the host with sleeps: longer under valgrind
local function sh(cmd) return helper.sh(helper.slowed(cmd)) end
local q, script = helper.q, helper.script

local tmpdir = helper.tmpdir

local function write(path, text)
  local f = assert(io.open(path .. ".new", "w"))
  f:write(text)
  f:close()
  assert(os.rename(path .. ".new", path))   -- as editors do
end

describe("reload", function()
  it("loses no message while the script is reloaded 20 times under a stream", function()
    local fw = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "stream", src = 1025, dst = 1024})
      local n = 0
      ep.on_message = function()   -- "start": stream numbered messages, forever
        rpmsg.every(1, function()
          for _ = 1, 20 do
            if not ep:send(tostring(n + 1)) then break end
            n = n + 1
          end
        end)
      end
    ]])
    local app = script([[
      local rpmsg = require "rpmsg"
      local s = rpmsg.state
      s.gens = (s.gens or 0) + 1
      s.got = s.got or {}
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      ep.on_message = function(m)
        s.got[#s.got + 1] = tonumber(m)
        if s.gens > 20 and #s.got >= s.at_last_reload + 200 then
          for i, n in ipairs(s.got) do
            if n ~= i then print("gap or duplicate at " .. i .. ": " .. n); rpmsg.stop(); return end
          end
          print(("%d generations, %d messages in order"):format(s.gens, #s.got))
          rpmsg.stop()
        end
      end
      if s.gens == 1 then ep:send("start") end
      s.at_last_reload = #s.got
      if s.gens <= 20 then rpmsg.after(10, rpmsg.reload) end
    ]])
    local status, out, err = helper.host({"--sim", fw, app}, 60)
    assert.equal(0, status, err)
    local gens, count = out:match("^(%d+) generations, (%d+) messages in order\n$")
    assert.equal("21", gens, out)
    assert.is_true(tonumber(count) > 200)
    assert.equal(20, select(2, err:gsub("reloaded ", "")))
    helper.assert_no_handler_error(err)
  end)

  it("keeps the running generation through a syntax error, a raise and an endless loop", function()
    local dir = tmpdir()
    local app = dir .. "/app.lua"
    local version = [[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      ep.on_message = function(m) ep:send("%s") end
    ]]
    write(app, version:format("v1"))
    local fw = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      ep.on_message = function(m) rpmsg.log("reply %s", m) end
      rpmsg.every(20, function() ep:send("ping") end)
    ]])
    local steps = {
      "local x = = 1\n",                                   -- syntax error
      "local t = nil\nlocal y = t.field\n",                -- raises at top level
      "while true do end\n",                                -- never ends
      version:format("v2"),                                 -- good again
    }
    local cmd = {("%s --handler-timeout 300 --sim %s %s & pid=$!; sleep 0.5"):format(q(helper.bin), q(fw), q(app))}
    for i, text in ipairs(steps) do
      local path = dir .. "/step" .. i
      local f = assert(io.open(path, "w")); f:write(text); f:close()
      cmd[#cmd + 1] = ("cp %s %s.tmp && mv %s.tmp %s; sleep 0.8"):format(q(path), q(app), q(app), q(app))
    end
    cmd[#cmd + 1] = helper.stop_pid("TERM")
    local status, _, err = sh(table.concat(cmd, "; "))
    assert.equal(0, status)
    -- each failure is reported with file and line, and v1 answers after it
    local events = {}
    for line in err:gmatch("[^\n]+") do
      if line:match("reload of .* failed") then events[#events + 1] = "failed: " .. line
      elseif line:match("reloaded ") then events[#events + 1] = "reloaded"
      elseif line:match("reply v1") and events[#events] ~= "v1" then events[#events + 1] = "v1"
      elseif line:match("reply v2") and events[#events] ~= "v2" then events[#events + 1] = "v2"
      end
    end
    assert.equal(9, #events, table.concat(events, "\n"))
    assert.equal("v1", events[1])
    assert.matches("app%.lua:1: unexpected symbol near '='", events[2])
    assert.equal("v1", events[3])
    assert.matches("app%.lua:2: attempt to index a nil value", events[4])
    assert.equal("v1", events[5])
    assert.matches("ran longer than 300 ms and was aborted by the watchdog", events[6])
    assert.equal("v1", events[7])
    assert.equal("reloaded", events[8])   -- a file change, not a signal, did this one
    assert.equal("v2", events[9])
    helper.assert_no_handler_error(err)   -- the failures were the reloads', not v1's handlers
  end)

  it("keeps rpmsg.state and adopted endpoints, and destroys the endpoint it dropped", function()
    local dir = tmpdir()
    local app = dir .. "/app.lua"
    write(app, [[
      local rpmsg = require "rpmsg"
      local a = assert(rpmsg.endpoint{name = "kept", src = 1024, dst = 1025})
      local b = assert(rpmsg.endpoint{name = "dropped", src = 1026, dst = 1027})
      a.on_message = function() end
      rpmsg.state.a, rpmsg.state.fd, rpmsg.state.boots = a, a.fd, 1
      rpmsg.after(50, function()
        local f = assert(io.open(arg[0] .. ".new", "w"))
        f:write(io.open(arg[0] .. ".v2"):read("a"))
        f:close()
        os.rename(arg[0] .. ".new", arg[0])
      end)
    ]])
    local f = assert(io.open(app .. ".v2", "w"))
    f:write([[
      local rpmsg = require "rpmsg"
      local a = assert(rpmsg.endpoint{name = "kept", src = 1024, dst = 1025})
      rpmsg.state.boots = rpmsg.state.boots + 1
      print("same endpoint", a == rpmsg.state.a, a.fd == rpmsg.state.fd, "boots", rpmsg.state.boots)
      a.on_message = function(m) print("v2 got " .. m); rpmsg.stop() end
      a:send("hello from v2")
    ]])
    f:close()
    local fw = script([[
      local rpmsg = require "rpmsg"
      local a = assert(rpmsg.endpoint{name = "fw-kept", src = 1025, dst = 1024})
      local b = assert(rpmsg.endpoint{name = "fw-dropped", src = 1027, dst = 1026})
      a.on_message = function(m) a:send("echo " .. m) end
      b.on_close = function(reason) print("dropped endpoint closed: " .. reason) end
    ]])
    local status, out, err = helper.host({"--sim", fw, app}, 30)
    assert.equal(0, status, err)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    table.sort(lines)
    assert.same({"dropped endpoint closed: remote gone", "same endpoint\ttrue\ttrue\tboots\t2",
      "v2 got echo hello from v2"}, lines)
    helper.assert_no_handler_error(err)
  end)

  it("calls the old generation's on_unload once the new one has loaded", function()
    local app = script([[
      local rpmsg = require "rpmsg"
      rpmsg.state.n = (rpmsg.state.n or 0) + 1
      local n = rpmsg.state.n
      function on_unload() print("unload generation " .. n) end
      rpmsg.after(10, function() if n < 3 then rpmsg.reload() else rpmsg.stop() end end)
    ]])
    local status, out, err = helper.host({app})
    assert.equal(0, status, err)
    assert.equal("unload generation 1\nunload generation 2\n", out)
    helper.assert_no_handler_error(err)
  end)

  it("cancels the old generation's timers", function()
    local app = script([[
      local rpmsg = require "rpmsg"
      rpmsg.state.n = (rpmsg.state.n or 0) + 1
      local n = rpmsg.state.n
      rpmsg.every(5, function() rpmsg.state.last = n end)
      if n == 1 then rpmsg.after(20, rpmsg.reload) end
      if n == 2 then rpmsg.after(100, function() print("ticks from", rpmsg.state.last); rpmsg.stop() end) end
    ]])
    local status, out, err = helper.host({app})
    assert.equal(0, status, err)
    assert.equal("ticks from\t2\n", out)
    helper.assert_no_handler_error(err)
  end)

  it("reloads modules required from the script's folder", function()
    local dir = tmpdir()
    write(dir .. "/proto.lua", "return {version = 1}\n")
    write(dir .. "/app.lua", [[
      local rpmsg = require "rpmsg"
      local proto = require "proto"
      print("proto", proto.version)
      if proto.version == 1 then
        rpmsg.after(50, function()   -- once the host watches the folder
          local f = io.open(arg[0]:gsub("app%.lua$", "proto.lua"), "w")
          f:write("return {version = 2}\n")
          f:close()
        end)
        rpmsg.after(5000, rpmsg.stop)
      else
        rpmsg.stop()
      end
    ]])
    local status, out, err = helper.host({dir .. "/app.lua"})
    assert.equal(0, status, err)
    assert.equal("proto\t1\nproto\t2\n", out)
    helper.assert_no_handler_error(err)
  end)
end)

describe("watchdog", function()
  it("aborts an endless handler within the limit, and the next message is handled", function()
    local fw = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      ep:send("hang"); ep:send("swallow"); ep:send("next")
    ]])
    local app = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      local t0
      ep.on_message = function(m)
        if m == "hang" then t0 = rpmsg.now(); while true do end end
        if m == "swallow" then   -- pcall cannot swallow the watchdog
          print("first abort after <= 400 ms", rpmsg.now() - t0 <= 400 * tonumber(arg[1]))
          while true do pcall(function() while true do end end) end
        end
        print("handled " .. m, "errors", rpmsg.stats().handler_errors)
        rpmsg.stop()
      end
    ]])
    -- arg[1]: how much slower the host may be (valgrind), which stretches the bound
    local status, out, err = helper.host({"--handler-timeout", "200", "--sim", fw, app, tostring(helper.slow)})
    assert.equal(0, status)
    assert.equal("first abort after <= 400 ms\ttrue\nhandled next\terrors\t2\n", out)
    assert.matches("on_message of endpoint 'app' ran longer than 200 ms and was aborted by the watchdog", err)
  end)

  it("refuses a bad --handler-timeout", function()
    local status, _, err = helper.host({"--handler-timeout", "soon", "x.lua"})
    assert.equal(2, status)
    assert.matches("wants milliseconds, not 'soon'", err)
  end)
end)

describe("--check", function()
  it("exits 0 for a script that loads, touching no device", function()
    local status, out = helper.host({"--check", "scripts/echo.lua"})
    assert.equal(0, status)
    assert.equal("scripts/echo.lua: ok\n", out)
  end)

  it("exits 1 with file and line for a syntax error or a raise", function()
    local bad = script("local ep = 1\nep = = 2\n")
    local status, _, err = helper.host({"--check", bad})
    assert.equal(1, status)
    assert.matches(":2: unexpected symbol near '='", err)
    bad = script("local rpmsg = require 'rpmsg'\nrpmsg.endpoint{name = ('x'):rep(40), dst = 1}\n")
    status, _, err = helper.host({"--check", bad})
    assert.equal(1, status)
    assert.matches(":2: rpmsg: endpoint name 'x+' is 40 bytes, over the 31%-byte limit", err)
  end)
end)
