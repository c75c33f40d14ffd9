-- SPDX-License-Identifier: MIT
-- Endpoints under misuse and at their edges: queued sends at close, a
-- cancelled receive, reloads that fail after closing, the simulator's
-- re-declared endpoints, what may become an endpoint, read-only
-- properties, and a truncating recv. Nothing is silently lost.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local q, script = helper.q, helper.script

-- Runs Lua code in a stock lua5.4 with rpmsg.so; returns status, stdout,
-- stderr. `prefix` goes before the command (environment, redirections).
local function lua(code, prefix)
  return helper.sh(("%s lua5.4 -e %s"):format(prefix or "", q(
    "package.cpath = '" .. helper.build .. "/?.so;' .. package.cpath\n" .. code)))
end

-- Sends numbered messages on a loop endpoint until its queue is full; the
-- peer reads nothing meanwhile. Returns how many were accepted.
local function fill(ep)
  local n = 0
  while true do
    local ok, err, code = ep:send(tostring(n + 1))
    if not ok then
      assert.equal("EAGAIN", code, err)
      return n
    end
    n = n + 1
  end
end

local tmpdir = helper.tmpdir

-- A script in a folder of its own: the host reloads on any .lua file
-- changing beside the script, and /tmp sees many.
local own_script = helper.script   -- a folder of its own: nothing else reloads it

describe("queued sends when an endpoint closes", function()
  it("ep:close() sends what the transport takes and reports the rest, with count and name", function()
    local a, b = rpmsg.pair()
    a.on_close = function() end          -- a loop endpoint: its sends queue
    local accepted = fill(a)
    assert.is_true(accepted > 256)
    for i = 1, 10 do assert.equal(tostring(i), b:recv(496, 0)) end   -- room for a few more
    local ok, err, code = a:close()
    assert.is_nil(ok)
    assert.equal("EAGAIN", code)
    assert.matches("^endpoint 'pair end a' closed with %d+ queued messages unsent", err)
    local unsent = tonumber(err:match("with (%d+) queued"))
    assert.is_true(unsent < 256, err)    -- some went out at close
    local got = 10
    while true do
      local m = b:recv(496, 0)
      if not m then break end
      got = got + 1
      assert.equal(tostring(got), m)      -- in order, no gap
    end
    assert.equal(accepted, got + unsent)
    assert.is_true(a.closed)
    b:close()
  end)

  it("ep:close() returns true once every queued message went out", function()
    local a, b = rpmsg.pair()
    a.on_close = function() end
    local accepted = fill(a)
    local got = 0
    b.on_message = function() got = got + 1; if got == accepted then rpmsg.stop() end end
    helper.run(rpmsg, 5000)
    assert.is_true(a:close())
    b:close()
  end)

  it("reports what is left at exit, when the remote goes, and on a reload that drops it", function()
    local _, _, err = lua([[
      local rpmsg = require "rpmsg"
      local a, b = rpmsg.pair()
      a.on_close = function() end
      repeat until not a:send("x")
      rpmsg.state.peer = b       -- never reads; both go at exit
    ]])
    assert.matches("endpoint 'pair end a': 256 queued messages unsent", err)

    _, _, err = lua([[
      local rpmsg = require "rpmsg"
      local a, b = rpmsg.pair()
      a.on_close = function(reason) print("closed: " .. reason) end
      repeat until not a:send("x")
      b:close()
      rpmsg.run{timeout = 200}
    ]])
    assert.matches("endpoint 'pair end a': 256 queued messages unsent", err)

    local app = own_script([[
      local rpmsg = require "rpmsg"
      rpmsg.state.n = (rpmsg.state.n or 0) + 1
      if rpmsg.state.n == 1 then
        local a, b = rpmsg.pair()
        a.on_close = function() end
        repeat until not a:send("x")
        rpmsg.state.peer = b
        rpmsg.after(20, rpmsg.reload)
      else
        print("generation 2")
        rpmsg.after(20, rpmsg.stop)
      end
    ]])
    local status, out
    status, out, err = helper.host({app})
    assert.equal(0, status, err)
    assert.equal("generation 2\n", out)
    assert.matches("endpoint 'pair end a' closed with 256 queued messages unsent", err)
  end)
end)

describe("a cancelled ep:receive", function()
  it("takes no message: it stays queued for on_message or recv, and no handler error is counted", function()
    local a, b = rpmsg.pair()
    local t = rpmsg.spawn(function() return b:receive() end)
    t:cancel()
    local errors = rpmsg.stats().handler_errors
    b.on_close = function() end
    a:send("kept")
    helper.settle(rpmsg, 30)
    assert.equal(errors, rpmsg.stats().handler_errors)
    assert.equal("kept", b:recv(496, 0))
    local got
    b.on_message = function(m) got = m; rpmsg.stop() end
    a:send("next")
    helper.run(rpmsg, 2000)
    assert.equal("next", got)
    assert.equal(errors, rpmsg.stats().handler_errors)
    a:close(); b:close()
  end)

  it("is skipped for the next waiting task, first come first served", function()
    local a, b = rpmsg.pair()
    local first = rpmsg.spawn(function() return b:receive() end)
    local got
    rpmsg.spawn(function() got = b:receive(); rpmsg.stop() end)
    first:cancel()
    a:send("for the second")
    helper.run(rpmsg, 2000)
    assert.equal("for the second", got)
    a:close(); b:close()
  end)
end)

describe("a failed reload", function()
  it("leaves the running generation's endpoint open when its top level closed or destroyed it", function()
    local fw = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      rpmsg.after(600, function() ep:send("after the failed reloads") end)
    ]])
    local app = own_script([[
      local rpmsg = require "rpmsg"
      local s = rpmsg.state
      s.gen = (s.gen or 0) + 1
      if s.gen == 1 then
        s.ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
        s.ep.on_message = function(m) print("v1 got: " .. m); rpmsg.stop() end
        s.ep.note = "v1"
        for i = 1, 3 do rpmsg.after(100 * i, rpmsg.reload) end
        rpmsg.after(3000, function() print("no message after the failed reloads"); rpmsg.stop() end)
      elseif s.gen == 2 then
        local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})   -- adopted
        ep:close()
        error("v2 fails after closing its adopted endpoint")
      elseif s.gen == 3 then
        s.ep.note = "v3"
        s.ep.on_message = function() print("v3's handler ran") end
        s.ep:close()
        error("v3 fails after closing the running endpoint")
      else
        s.ep:destroy()
        error("v4 fails after destroying the running endpoint")
      end
    ]])
    local status, out, err = helper.host({"--sim", fw, app}, 20)
    assert.equal(0, status, err)
    assert.equal("v1 got: after the failed reloads\n", out)
    assert.equal(3, select(2, err:gsub("reload of [^\n]* failed", "")))
    -- destroyed once, at exit, not by any of the failed reloads
    assert.equal(1, select(2, err:gsub("destroyed endpoint 'app'", "")))
  end)

  it("closes at commit what a successful reload's top level closed", function()
    local fw = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      ep.on_message = function() end
    ]])
    local app = own_script([[
      local rpmsg = require "rpmsg"
      local s = rpmsg.state
      s.gen = (s.gen or 0) + 1
      if s.gen == 1 then
        s.ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
        s.ep.on_close = function(reason) print("v1 on_close: " .. reason) end
        rpmsg.after(50, rpmsg.reload)
      else
        local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
        ep.on_close = function(reason) print("v2 on_close: " .. reason) end
        ep:close()
        print("closed in v2", ep.closed)
        print("use after close", pcall(ep.send, ep, "x"))
        rpmsg.after(50, function() print("after commit", ep.closed); rpmsg.stop() end)
      end
    ]])
    local status, out, err = helper.host({"--sim", fw, app}, 20)
    assert.equal(0, status, err)
    assert.matches("^closed in v2\ttrue\nuse after close\tfalse\t[^\n]*closed endpoint\n" ..
      "v2 on_close: destroyed\nafter commit\ttrue\n$", out)
  end)
end)

describe("--sim", function()
  it("pairs an endpoint closed and declared again with its firmware mirror, which sees on_close", function()
    local fw = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      ep.on_message = function(m) ep:send("echo " .. m) end
      ep.on_close = function(reason) print("fw on_close: " .. reason) end
      ep.on_open = function() print("fw on_open") end
    ]])
    local app = own_script([[
      local rpmsg = require "rpmsg"
      local function declare(then_)
        local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
        ep.on_message = function(m) print("app got: " .. m); then_(ep) end
        return ep
      end
      declare(function(first)
        first:close()
        local second = declare(function() rpmsg.stop() end)
        assert(second:send("two"))
      end):send("one")
      rpmsg.after(3000, function() print("no echo of two"); rpmsg.stop() end)
    ]])
    local status, out, err = helper.host({"--sim", fw, app}, 20)
    assert.equal(0, status, err)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.same({"app got: echo one", "fw on_close: remote gone", "fw on_open", "app got: echo two"}, lines)
  end)
end)

describe("what may become an endpoint", function()
  local file
  before_each(function()
    file = os.tmpname()
    local f = assert(io.open(file, "w")); f:write("precious"); f:close()
  end)
  after_each(function() os.remove(file) end)

  local function content()
    local f = assert(io.open(file)); local s = f:read("a"); f:close(); return s
  end

  it("refuses a regular file by path, naming it, and leaves it alone", function()
    local ep, err, code = rpmsg.open_endpoint(file)
    assert.is_nil(ep)
    assert.equal(file .. " is a regular file, not an rpmsg endpoint device", err)
    assert.equal("EINVAL", code)
    ep, err = rpmsg.endpoint{dev = file, on_message = function() end}
    assert.is_nil(ep)
    assert.matches("is a regular file, not an rpmsg endpoint device", err)
    assert.equal("precious", content())
  end)

  it("refuses a character device of another class, naming its class", function()
    local ep, err = rpmsg.open_endpoint("/dev/null")
    assert.is_nil(ep)
    assert.equal("/dev/null is a character device of class 'mem' (null), not an rpmsg endpoint device", err)
  end)

  it("refuses an fd that is a regular file or another device", function()
    local _, out = lua("print(require('rpmsg').endpoint{fd = 5})", "5<>" .. q(file))
    assert.equal("nil\tfd 5 is a regular file, not an rpmsg endpoint device\tEINVAL\n", out)
    _, out = lua("print(require('rpmsg').endpoint{fd = 5})", "5<>/dev/null")
    assert.matches("^nil\tfd 5 is a character device of class 'mem' %(null%), not an rpmsg endpoint device", out)
    assert.equal("precious", content())
  end)

  it("accepts a device sysfs (RPMSG_SYSFS_ROOT) puts in class rpmsg", function()
    local root = tmpdir()
    local node = root .. "/devices/virtual/rpmsg/rpmsg7"
    assert(os.execute(("mkdir -p %s %s/dev/char %s/class/rpmsg && ln -s %s %s/dev/char/1:3 && ln -s %s %s/subsystem")
      :format(q(node), q(root), q(root), q(node), q(root), q(root .. "/class/rpmsg"), q(node))))
    local status, out = lua([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.open_endpoint("/dev/null"))
      print(ep:send("into the void"))
      ep:close()
      print(rpmsg.endpoint{fd = 5})
    ]], ("RPMSG_SYSFS_ROOT=%s 5<>/dev/null"):format(q(root)))
    os.execute("rm -rf " .. q(root))
    assert.equal(0, status)
    assert.matches("^true\nrpmsg.endpoint ", out)
  end)

  it("takes each fd once: a second endpoint on an fd an endpoint owns is refused", function()
    local a, b = rpmsg.pair()
    local ep, err, code = rpmsg.endpoint{fd = a.fd}
    assert.is_nil(ep)
    assert.equal("EBUSY", code)
    assert.equal(("fd %d already belongs to endpoint 'pair end a': an fd makes one endpoint"):format(a.fd), err)
    assert.is_true(a:send("still mine"))
    assert.equal("still mine", b:recv(496, 0))
    a:close(); b:close()
  end)
end)

describe("endpoint properties", function()
  it("refuse assignment, naming the property, and keep their value", function()
    local a, b = rpmsg.pair()
    local fd = a.fd
    for _, key in ipairs{"fd", "path", "name", "src", "dst", "index", "ctrl", "closed", "down"} do
      assert.error_matches(function() a[key] = 5 end, "rpmsg: ep%." .. key .. " is read%-only")
    end
    for _, key in ipairs{"send", "recv", "receive", "close", "destroy", "set_flow"} do
      assert.error_matches(function() a[key] = print end,
        "rpmsg: ep%." .. key .. " is a method: it cannot be assigned")
    end
    assert.equal(fd, a.fd)
    assert.equal("pair end a", a.path)
    a.note = "user fields stay"                -- and so do handlers
    a.on_message = function() end
    a.on_message = nil
    assert.equal("user fields stay", a.note)
    a:close(); b:close()
  end)
end)

describe("ep:recv(max)", function()
  it("truncates a longer message as the kernel does, and says so with its full length", function()
    local a, b = rpmsg.pair()
    a:send("abcdef")
    a:send("xyz")
    local m, full = b:recv(3)
    assert.equal("abc", m)
    assert.equal(6, full)
    m, full = b:recv(3)
    assert.equal("xyz", m)
    assert.is_nil(full)
    a:close(); b:close()
  end)
end)

describe("at exit", function()
  it("logs an endpoint as destroyed only once the destroy succeeded", function()
    local fw = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      rpmsg.after(20, function() ep:close() end)   -- the app's endpoint goes with it
    ]])
    local app = own_script([[
      local rpmsg = require "rpmsg"
      assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})   -- not watched
      assert(rpmsg.endpoint{name = "other", src = 1030, dst = 1031})
      rpmsg.after(200, rpmsg.stop)
    ]])
    local status, _, err = helper.host({"--sim", fw, app}, 20)
    assert.equal(0, status, err)
    assert.not_matches("destroyed endpoint 'app'", err)
    assert.matches("endpoint 'app' %(sim:rpmsg%d+%) was already gone with its remote", err)
    assert.matches("destroyed endpoint 'other' %(sim:rpmsg%d+%)", err)
  end)
end)
