-- SPDX-License-Identifier: MIT
-- rpmsg-lua as a command: its exit codes, errors, signals, and the simulated
-- co-processor.
local helper = require "tests.helper"
local host, script, q = helper.host, helper.script, helper.q

describe("rpmsg-lua", function()
  it("prints help and version and exits 0", function()
    local status, out = host({"--help"})
    assert.equal(0, status)
    assert.matches("usage: rpmsg%-lua", out)
    status, out = host({"--version"})
    assert.equal(0, status)
    assert.matches("^rpmsg%-lua %d+%.%d+%.%d+", out)
  end)

  it("exits 2 on a bad command line", function()
    local status, _, err = host({})
    assert.equal(2, status)
    assert.matches("no script given", err)
    status, _, err = host({"--frobnicate", "x.lua"})
    assert.equal(2, status)
    assert.matches("unknown option '%-%-frobnicate'", err)
    status, _, err = host({"--sim"})
    assert.equal(2, status)
    assert.matches("%-%-sim needs a value", err)
  end)

  it("exits 1 with file and line on stderr when the script has a syntax error", function()
    local path = script("local x = \nlocal = 3\n")
    local status, _, err = host({path})
    assert.equal(1, status)
    assert.matches(path:gsub("%p", "%%%0") .. ":2:", err)
  end)

  it("exits 1 with a traceback when the script raises at its top level", function()
    local path = script("local function f() error('cannot start') end\nf()\n")
    local status, _, err = host({path})
    assert.equal(1, status)
    assert.matches(":1: cannot start", err)
    assert.matches("stack traceback", err)
  end)

  it("exits 1 naming a missing script", function()
    local status, _, err = host({"/nonexistent/script.lua"})
    assert.equal(1, status)
    assert.matches("cannot open /nonexistent/script.lua", err)
  end)

  it("exits 0 when the script stops the loop, and passes arguments in arg", function()
    local path = script("print(arg[0] ~= nil, arg[1], arg[2]); require('rpmsg').after(1, require('rpmsg').stop)")
    local status, out, err = host({path, "one", "two"})
    assert.equal(0, status, err)
    assert.equal("true\tone\ttwo\n", out)
    helper.assert_no_handler_error(err)
  end)

  it("finds modules in the script's own folder", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. q(dir)))
    local f = assert(io.open(dir .. "/proto.lua", "w"))
    f:write("return {answer = 42}\n")
    f:close()
    f = assert(io.open(dir .. "/main.lua", "w"))
    f:write("print(require('proto').answer)\n")
    f:close()
    local status, out = host({dir .. "/main.lua"})
    assert.equal(0, status)
    assert.equal("42\n", out)
  end)

  it("stops on SIGTERM, destroys the endpoints it created and exits 0", function()
    local fw = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      ep.on_message = function(m) ep:send(m) end
    ]])
    local app = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      ep.on_message = function(m) print("got " .. m); io.stdout:flush() end
      ep:send("up")
    ]])
    local status, out, err = helper.host_signal({"--sim", fw, app}, "TERM")
    assert.equal(0, status)
    assert.equal("got up\n", out)
    assert.matches("destroyed endpoint 'app'", err)
    helper.assert_no_handler_error(err)
  end)

  it("stops on SIGINT too, and exits 0", function()
    local app = script([[
      local rpmsg = require "rpmsg"
      rpmsg.every(10, function() end)
      print("running"); io.stdout:flush()
    ]])
    local status, out, err = helper.host_signal({app}, "INT")
    assert.equal(0, status)
    assert.equal("running\n", out)
    helper.assert_no_handler_error(err)
  end)

  it("installs under PREFIX and DESTDIR", function()
    local dest = os.tmpname()
    os.remove(dest)
    -- make and install as themselves, not under the asan suite's preload
    local status = helper.sh(("unset LD_PRELOAD; make -s install DESTDIR=%s PREFIX=/usr"):format(q(dest)))
    assert.equal(0, status)
    assert.is_true(os.execute("test -x " .. q(dest .. "/usr/bin/rpmsg-lua")))
    -- the module where the target's Lua looks (Debian: /usr/lib/<triplet>/lua/5.4)
    local _, cmod = helper.sh("pkg-config --variable=INSTALL_CMOD lua5.4")
    assert.is_true(os.execute("test -f " .. q(dest .. cmod:gsub("\n$", "") .. "/rpmsg.so")))
    local _, out = helper.sh(q(dest .. "/usr/bin/rpmsg-lua") .. " --version")
    assert.matches("^rpmsg%-lua ", out)
    os.execute("rm -rf " .. q(dest))
  end)

  it("keeps serving after 1000 handler errors in a row", function()
    local fw = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      ep.on_close = function() end
      local sent = 0
      rpmsg.every(1, function(t)   -- as fast as the queue takes them
        while sent < 1001 and ep:send(sent < 1000 and "bad" or "good") do sent = sent + 1 end
        if sent == 1001 then t:cancel() end
      end)
    ]])
    local app = script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      ep.on_message = function(m)
        if m == "bad" then error("handler failed") end
        print("served " .. m, rpmsg.stats().handler_errors)
        rpmsg.stop()
      end
    ]])
    local status, out, err = host({"--sim", fw, app})
    assert.equal(0, status)
    assert.equal("served good\t1000\n", out)
    assert.matches("error in on_message of endpoint 'app': .*:4: handler failed", err)
  end)
end)

describe("rpmsg.so in a stock lua5.4", function()
  it("finds the library modules on package.path beside it, even before require \"rpmsg\"", function()
    local status, out = helper.sh(("lua5.4 -e %s"):format(q(
      "package.cpath = '" .. helper.build .. "/?.so;' .. package.cpath " ..
      "package.path = '" .. helper.build .. "/?.lua;' .. package.path " ..
      "local rpc = require 'rpmsg.rpc' local struct = require 'rpmsg.struct' " ..
      "print(type(rpc.new), type(struct.layout), package.loaded.rpmsg.MAX_MESSAGE_SIZE)")))
    assert.equal(0, status)
    assert.equal("function\tfunction\t496\n", out)
  end)
end)

describe("rpmsg-lua --sim", function()
  it("runs scripts/echo.lua unchanged against scripts/sim/echo_fw.lua", function()
    local status, _, err = host({"--sim", "scripts/sim/echo_fw.lua", "scripts/echo.lua", "20"})
    assert.equal(0, status)
    assert.matches("echo 20: \"hello 20\"", err)
    assert.matches("all 20 echoes received", err)
    assert.not_matches("unexpected", err)
    helper.assert_no_handler_error(err)
  end)

  it("pairs endpoints by mirrored addresses, whichever side comes first", function()
    local fw = script([[
      local rpmsg = require "rpmsg"
      for _, a in ipairs{2000, 3000} do
        local ep = assert(rpmsg.endpoint{name = "fw" .. a, src = a + 1, dst = a})
        ep.on_message = function(m) ep:send(a .. ":" .. m) end
      end
    ]])
    local app = script([[
      local rpmsg = require "rpmsg"
      local got = {}
      for _, a in ipairs{3000, 2000} do
        local ep = assert(rpmsg.endpoint{name = "app" .. a, src = a, dst = a + 1})
        ep.on_message = function(m)
          got[#got + 1] = m
          if #got == 2 then table.sort(got); print(table.concat(got, " ")); rpmsg.stop() end
        end
        ep:send("hi")
      end
    ]])
    local status, out, err = host({"--sim", fw, app})
    assert.equal(0, status, err)
    assert.equal("2000:hi 3000:hi\n", out)
    helper.assert_no_handler_error(err)
  end)

  it("refuses a src its own endpoint already holds, with a clear error", function()
    local fw = script("")
    local app = script([[
      local rpmsg = require "rpmsg"
      assert(rpmsg.endpoint{name = "first", src = 1024, dst = 1025})
      local ep, err, code = rpmsg.endpoint{name = "second", src = 1024, dst = 1026}
      print(ep, err, code)
      rpmsg.stop()
    ]])
    local status, out, err = host({"--sim", fw, app})
    assert.equal(0, status, err)
    assert.equal("nil\tsrc 1024 is already held by our endpoint 'first' on rpmsg_ctrl0\tEADDRINUSE\n", out)
    helper.assert_no_handler_error(err)
  end)

  it("gives one opener at a time, as /dev/rpmsgN does", function()
    local app = script([[
      local rpmsg = require "rpmsg"
      local ctrl = assert(rpmsg.open_ctrl(0))
      local n = assert(ctrl:create_endpoint("low", 1024, 1025))
      local ep = assert(rpmsg.open_endpoint(n))
      print(rpmsg.open_endpoint(n))
      ep:close()
      print(assert(ctrl:destroy_endpoint("low", 1024, 1025)))
      ctrl:close()
    ]])
    local status, out, err = host({"--sim", script(""), app})
    assert.equal(0, status, err)
    assert.matches("^nil\topen sim:rpmsg%d+: the endpoint is already open.*\tEBUSY\ntrue\n$", out)
    helper.assert_no_handler_error(err)
  end)

  it("exits 1 when the firmware script fails to load", function()
    local status, _, err = host({"--sim", script("error('bad firmware')"), "scripts/echo.lua"})
    assert.equal(1, status)
    assert.matches("bad firmware", err)
  end)
end)
