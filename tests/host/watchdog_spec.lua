-- SPDX-License-Identifier: MIT
-- The watchdog: a handler or chunk running past --handler-timeout is aborted
-- wherever it runs (a coroutine, an xpcall message handler), costs nothing
-- while calls end in time, and gives up on the process, after destroying its
-- endpoints, when Lua cannot interrupt the call at all. Ctrl-C belongs to the
-- chunk it interrupted, and a flood of handler errors is rate-limited per
-- source. All under the simulated co-processor (--sim).
local helper = require "tests.helper"
local q = helper.q

-- Each script in a folder of its own (helper.script); this one holds the
-- REPL's pipes.
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir " .. q(dir)))
local script = helper.script

-- A firmware that sends each of its arguments, then "next".
local function firmware(...)
  local sends = {}
  for i, m in ipairs({...}) do sends[i] = ("ep:send(%q)"):format(m) end
  return script(([[
    local rpmsg = require "rpmsg"
    ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
    %s
    ep:send("next")
  ]]):format(table.concat(sends, "; ")))
end

-- An app whose on_message runs body(m) for every message but "next", which
-- prints the handler error count and stops.
local function app(body, prelude)
  return script(([[
    local rpmsg = require "rpmsg"
    local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
    %s
    ep.on_message = function(m)
      if m == "next" then
        print("handled next, errors " .. rpmsg.stats().handler_errors)
        rpmsg.stop()
        return
      end
      %s
    end
  ]]):format(prelude or "", body))
end

-- Shell: SIGKILL the background job $pid after s seconds, so that a spec
-- that sends it signals can fail but never hang. (`timeout` would forward
-- the signals meant for rpmsg-lua as its own.)
local function kill_after(s)
  return ("(sleep %d; kill -KILL $pid) >/dev/null 2>&1 & true"):format(s)
end

local ABORTED = "on_message of endpoint 'app' ran longer than 200 ms and was aborted by the watchdog"

local function run_app(body, prelude, ...)
  return helper.host({"--handler-timeout", "200", "--sim", firmware(...), app(body, prelude)}, 15)
end

describe("watchdog", function()
  it("installs no hook while handlers end in time, and none is left after a trip", function()
    local status, out, err = run_app([[
      local co = coroutine.wrap(function() return debug.gethook() end)
      print(m, debug.gethook(), co())
      if m == "hang" then while true do end end
    ]], nil, "before", "hang", "after")
    assert.equal(0, status, err)
    assert.equal("before\tnil\tnil\nhang\tnil\tnil\nafter\tnil\tnil\nhandled next, errors 1\n", out)
    assert.matches(ABORTED, err, 1, true)
  end)

  it("aborts a runaway message handler of xpcall", function()
    local status, out, err = run_app([[
      xpcall(function() error("first") end, function() while true do end end)
    ]], nil, "go")
    assert.equal(0, status, err)
    assert.equal("handled next, errors 1\n", out)
    assert.matches(ABORTED, err, 1, true)
  end)

  it("aborts a runaway xpcall handler that the watchdog's own error reached", function()
    local status, out, err = run_app([[
      xpcall(function() while true do end end, function(e) while true do end end)
    ]], nil, "go")
    assert.equal(0, status, err)
    assert.equal("handled next, errors 1\n", out)
    assert.matches(ABORTED, err, 1, true)
  end)

  it("aborts a runaway loop in a coroutine resumed under pcall, made before the handler ran", function()
    local status, out, err = run_app([[
      if m == "resume" then
        while true do pcall(coroutine.resume, spin) end
      else
        while true do pcall(wrapped) end
      end
    ]], [[
      spin = coroutine.create(function() while true do pcall(function() while true do end end) end end)
      wrapped = coroutine.wrap(function() while true do pcall(function() while true do end end) end end)
    ]], "resume", "wrap")
    assert.equal(0, status, err)
    assert.equal("handled next, errors 2\n", out)
    assert.matches(ABORTED, err, 1, true)
  end)

  it("aborts nested variants: coroutines in coroutines, xpcall inside them, pcall around all", function()
    local status, out, err = run_app([[
      local inner = coroutine.wrap(function()
        xpcall(function() error("x") end, function() while true do pcall(coroutine.resume, spin) end end)
      end)
      local outer = coroutine.create(function() while true do pcall(inner) end end)
      while true do pcall(coroutine.resume, outer) end
    ]], [[
      spin = coroutine.create(function() while true do end end)
    ]], "go")
    assert.equal(0, status, err)
    assert.equal("handled next, errors 1\n", out)
    assert.matches(ABORTED, err, 1, true)
  end)

  it("keeps coroutine.resume, coroutine.wrap and xpcall as Lua 5.4 has them", function()
    local body = [[
      local out = {}
      local function p(...)
        local t = table.pack(...)
        for i = 1, t.n do
          t[i] = type(t[i]) == "table" and "table " .. tostring(t[i].tag) or tostring(t[i])
        end
        out[#out + 1] = table.concat(t, " ", 1, t.n)
      end
      local co = coroutine.create(function(a, b) coroutine.yield(a + b); error({tag = "obj"}) end)
      p(coroutine.resume(co, 1, 2)); p(coroutine.resume(co)); p(coroutine.resume(co))
      p(coroutine.status(co)); p(pcall(coroutine.resume, 42))
      p(coroutine.resume(coroutine.running()))
      local closed = {}
      local w = coroutine.wrap(function()
        local x <close> = setmetatable({}, {__close = function() closed[#closed + 1] = "closed" end})
        coroutine.yield(1)
        error("boom", 0)
      end)
      p(w()); p(pcall(w)); p(table.concat(closed, ",")); p(pcall(w))
      local w2 = coroutine.wrap(function() return 1, nil, 3 end)
      p(w2()); p(pcall(w2)); p(pcall(coroutine.wrap, 1))
      p(xpcall(function(...) return ... end, print, 1, nil, 3))
      p(xpcall(error, function(e) return "handled " .. tostring(e) end, "x", 0))
      p(xpcall(error, function(e) return e end, {tag = "t"}))
      p(pcall(xpcall, print))
      local tb = select(2, xpcall(function() error("tb", 0) end, debug.traceback))
      p((tb:gsub("\n[^\n]*in main chunk.*", "")))
      local y = coroutine.wrap(function()
        return xpcall(function() return coroutine.yield("in") * 2 end, debug.traceback)
      end)
      p(y()); p(y(21))
      io.write(table.concat(out, "\n"), "\n")
      local hosted, rpmsg = pcall(require, "rpmsg")
      if hosted then rpmsg.stop() end
    ]]
    local path = script(body)
    local stock_status, stock = helper.sh("lua5.4 " .. q(path))
    assert.equal(0, stock_status)
    local status, out, err = helper.host({path}, 15)
    assert.equal(0, status, err)
    assert.equal(stock, out)
  end)

  it("gives up on a __gc finalizer that never returns: one line, exit 3", function()
    local status, out, err = run_app([[
      setmetatable({}, {__gc = function() while true do end end})
      collectgarbage()
    ]], nil, "go")
    assert.equal(3, status)
    assert.equal("", out)
    assert.matches("watchdog: on_message of endpoint 'app' is stuck where Lua cannot interrupt it " ..
      "%(a __gc finalizer%?%); exiting\n", err)
  end)

  it("ends on SIGTERM while a handler is stuck where Lua cannot interrupt it", function()
    local fw, a = firmware("go"), app([[
      setmetatable({}, {__gc = function() while true do end end})
      collectgarbage()
    ]])
    -- Tripped at 3 s, it would be given up at 6 s without a word about
    -- SIGTERM: SIGTERM ends it at the trip. (The KILL is a backstop.)
    -- SIGTERM once the handler is stuck, before the trip: 1 s in, 4 s under
    -- valgrind, whose start-up takes seconds (give-up would come at 6 s).
    local status, _, err = helper.sh(("%s --handler-timeout 3000 --sim %s %s & pid=$!; %s; " ..
      "sleep %d; kill -TERM $pid; wait $pid"):format(q(helper.bin), q(fw), q(a),
      kill_after(15 * helper.slow), helper.slow > 1 and 4 or 1))
    assert.equal(3, status, err)
    assert.matches("stuck where Lua cannot interrupt it %(a __gc finalizer%?%) and SIGTERM came; exiting", err)
  end)

  it("with --handler-timeout 0 never aborts, however long a handler runs", function()
    local status, out, err = helper.host({"--handler-timeout", "0", "--sim", firmware("go"), app([[
      local t0 = rpmsg.now()
      while rpmsg.now() - t0 < 1500 do end
      print("ran 1.5 s")
    ]])}, 15)
    assert.equal(0, status, err)
    assert.equal("ran 1.5 s\nhandled next, errors 0\n", out)
  end)
end)

describe("Ctrl-C", function()
  it("is consumed by the chunk it interrupted: one at an idle prompt aborts nothing later", function()
    -- The firmware's timer runs Lua all the time; a Ctrl-C at the idle
    -- prompt is the prompt's, never that timer's, nor the next chunk's.
    local fw = script([[
      local rpmsg = require "rpmsg"
      rpmsg.every(1, function() local x = 0; for i = 1, 2e5 do x = x + i end end)
    ]])
    local a = script([[ local rpmsg = require "rpmsg" ]])
    local out, fifo = dir .. "/repl.out", dir .. "/repl.in"
    -- Each step waits for the REPL to show the state it needs: load on the
    -- machine must not turn an interrupted chunk into an idle prompt.
    local status, _, err = helper.sh(([[
      out=%s; fifo=%s; mkfifo "$fifo"; : > "$out"
      wait_for() { i=0; until grep -q "$1" "$out" || [ $i -gt 100 ]; do sleep 0.05; i=$((i+1)); done; }
      %s -i --handler-timeout 5000 --sim %s %s < "$fifo" > "$out" & pid=$!
      exec 3> "$fifo"; %s
      wait_for '^> '
      kill -INT $pid; wait_for '\^C'
      echo 'print("looping"); io.stdout:flush(); while true do end' >&3; wait_for looping
      kill -INT $pid
      echo "'still here'" >&3; wait_for 'still here'
      kill -TERM $pid; wait $pid]]):format(q(out), q(fifo), q(helper.bin), q(fw), q(a), kill_after(20)))
    out = assert(io.open(out)):read("a")
    assert.equal(0, status, err)
    assert.not_matches("interrupted", err)
    assert.matches("> ^C\n> ", out, 1, true)
    assert.matches('> looping\ninterrupted!\nstack traceback:\n.-\n> "still here"\n', out)
  end)
end)

describe("handler errors", function()
  it("are logged a few a second per source, the rest counted and reported at exit", function()
    local fw = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      for i = 1, 200 do ep:send("bad frame " .. i) end
      ep:send("next")
    ]])
    local a = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      local t = rpmsg.every(1000, function() error("tick") end)
      ep.on_message = function(m)
        if m == "next" then
          local s = rpmsg.stats()
          print(s.handler_errors, s.errors_not_logged)
          rpmsg.after(1100, rpmsg.stop)   -- the timer's error, from a source of its own
          return
        end
        error("cannot parse " .. m)
      end
    ]])
    local status, out, err = helper.host({"--sim", fw, a}, 15)
    assert.equal(0, status, err)
    assert.equal("200\t195\n", out)
    local _, logged = err:gsub("error in on_message of endpoint 'app': [^\n]*cannot parse", "")
    assert.equal(5, logged)
    assert.matches("%(error in on_message of endpoint 'app' repeated 195 more times", err)
    assert.matches("error in rpmsg.every callback: [^\n]*tick", err)
  end)
end)
