-- SPDX-License-Identifier: MIT
-- rpmsg.tty{} under --sim: the simulator pairs the host's tty with the
-- firmware script's (a pty pair, so the host's side is a real tty and the
-- termios parts are real), for framing, recovery and errors without a
-- kernel.
local helper = require "tests.helper"
local host = helper.host

local FW = "scripts/sim/tty_fw.lua"

local function run(script, timeout)
  return host({"--sim", FW, helper.script(script)}, timeout or 20)
end

describe("rpmsg.tty under --sim", function()
  it("the example: COBS frames with 0, \\r and \\n come back intact", function()
    local status, _, err = host({"--sim", FW, "scripts/tty.lua", "5"})
    assert.equal(0, status, err)
    assert.matches("all 5 echoes intact", err, 1, true)
    helper.assert_no_handler_error(err)
  end)

  it("is raw: no echo back to the remote, no newline translation, every byte through", function()
    local status, out, err = run([[
      local rpmsg = require "rpmsg"
      local t = assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "cobs"})
      rpmsg.spawn(function()
        local all = {}
        for b = 0, 255 do all[#all + 1] = string.char(b) end
        local msgs = {"\n", "\r\n", "a\rb\nc", table.concat(all), ("\n"):rep(300), "\3\4\19\17\26"}
        for _, m in ipairs(msgs) do
          assert(t:send(m))
          assert(t:receive(2000) == m, "a message came back changed")
        end
        -- the firmware counted only what we sent: an echoing tty would
        -- have handed it its own replies too
        assert(t:send("count"))
        print("firmware saw " .. t:receive(2000))
        rpmsg.stop()
      end)
    ]])
    assert.equal(0, status, err)
    assert.equal("firmware saw 7\n", out)
    helper.assert_no_handler_error(err)
  end)

  it("line framing: a message per line, CRLF accepted, 600-byte lines", function()
    local fw = helper.script([[
      local rpmsg = require "rpmsg"
      local t = assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "line"})
      t.on_message = function(m) t:send("got " .. #m .. ":" .. m) end
    ]])
    local status, out, err = host({"--sim", fw, helper.script([[
      local rpmsg = require "rpmsg"
      local t = assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "line"})
      local want, n = 3, 0
      t.on_message = function(m)
        print(#m > 40 and m:sub(1, 12) .. "..." .. #m or m)
        n = n + 1
        if n == want then rpmsg.stop() end
      end
      t:send("hello")
      t:send("")
      t:send(("z"):rep(600))
    ]])})
    assert.equal(0, status, err)
    assert.equal("got 5:hello\ngot 0:\ngot 600:zzzz...608\n", out)
    helper.assert_no_handler_error(err)
  end)

  it("recovers when the remote's tty goes and comes back: on_close, ENOTCONN meanwhile, on_open", function()
    local status, out, err = run([[
      local rpmsg = require "rpmsg"
      local t = assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "cobs"})
      local closed, opened = 0, 0
      t.on_close = function(reason, tt) closed = closed + 1; print("on_close " .. reason, tt == t) end
      t.on_open = function() opened = opened + 1; print("on_open") end
      rpmsg.spawn(function()
        for round = 1, 2 do
          assert(t:send("restart"))
          while closed < round do rpmsg.sleep(5) end
          local ok, e, code = t:send("x"); print(("%s,%s,%s"):format(ok, e, code))
          while opened < round do rpmsg.sleep(5) end
          assert(t:send("back " .. round))
          print(t:receive(2000))
        end
        rpmsg.stop()
      end)
    ]])
    assert.equal(0, status, err)
    assert.equal(table.concat({
      "on_close remote gone\ttrue", "nil,tty down,ENOTCONN", "on_open", "back 1",
      "on_close remote gone\ttrue", "nil,tty down,ENOTCONN", "on_open", "back 2", ""}, "\n"), out)
    helper.assert_no_handler_error(err)
  end)

  it("reports a COBS frame that does not decode once, and the next frame arrives", function()
    local status, out, err = run([[
      local rpmsg = require "rpmsg"
      local t = assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "cobs"})
      rpmsg.spawn(function()
        assert(t:send("garbage"))
        print(t:receive(2000))
        print(t.stats.framing_errors, t.stats.messages_in)
        rpmsg.stop()
      end)
    ]])
    assert.equal(0, status, err)
    assert.equal("after garbage\n1\t1\n", out)
    local _, n = err:gsub("COBS frame does not decode", "")
    assert.equal(1, n, err)
    assert.matches("tty /dev/ttyRPMSG0: COBS frame does not decode: the code byte at offset 0 announces 4 bytes, 2 are left: dropped", err, 1, true)
  end)

  it("receive times out, close wakes a waiting task with EPIPE and fires on_close(\"closed\")", function()
    local status, out, err = run([[
      local rpmsg = require "rpmsg"
      local t = assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "cobs"})
      t.on_close = function(reason) print("on_close " .. reason) end
      rpmsg.spawn(function()
        print(t:receive(30))
        rpmsg.after(20, function() t:close() end)
        print(t:receive())
        print(t.closed, pcall(t.send, t, "x"))
        rpmsg.stop()
      end)
    ]])
    assert.equal(0, status, err)
    assert.equal("nil\ttimeout\tETIMEDOUT\non_close closed\nnil\ttty closed (closed)\tEPIPE\n" ..
      "true\tfalse\trpmsg.tty: tty /dev/ttyRPMSG0 is closed\n", out:gsub("[^\n]*script.lua:%d+: ", ""))
  end)

  it("an error in on_message is reported and the messages after it still arrive", function()
    local status, out, err = run([[
      local rpmsg = require "rpmsg"
      local t = assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "cobs"})
      local n = 0
      t.on_message = function(m)
        n = n + 1
        if m == "bad" then error("boom") end
        print(m)
        if m == "last" then rpmsg.stop() end
      end
      t:send("first"); t:send("bad"); t:send("last")
    ]])
    assert.equal(0, status, err)
    assert.equal("first\nlast\n", out)
    assert.matches("on_message of tty /dev/ttyRPMSG0: [^\n]*boom", err)
  end)
end)

describe("rpmsg.tty across a reload", function()
  it("the new generation's tty takes over: no message lost, the old fd closed, a failed reload changes nothing", function()
    local status, out, err = run([[
      local rpmsg = require "rpmsg"
      local s = rpmsg.state
      s.gen = (s.gen or 0) + 1
      s.got = s.got or {}
      s.step = s.step or 0
      if s.gen == 3 then error("this reload fails") end
      local t = assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "cobs"})
      local gen = s.gen
      t.on_message = function(m) s.got[#s.got + 1] = gen .. ":" .. m end
      local function fds()   -- of this process (ls's own /proc/self is another)
        local f = io.open("/proc/self/stat")
        local pid = f:read("n")
        f:close()
        local n = 0
        local ls = io.popen("ls /proc/" .. pid .. "/fd")   -- closed here, not left to the collector
        for _ in ls:lines() do n = n + 1 end
        ls:close()
        return n
      end
      local function step()
        s.step = s.step + 1
        if s.step == 1 then s.fds = fds() end   -- the host's own are open by now
        if s.step > 5 then
          print(table.concat(s.got, " "))
          print(fds() - s.fds)
          return rpmsg.stop()
        end
        assert(t:send("m" .. s.step))
        -- a reload that succeeds cancels this generation's timers; after
        -- one that fails, the next step still comes
        if s.step < 4 then rpmsg.after(40, rpmsg.reload) end
        rpmsg.after(80, step)
      end
      rpmsg.after(40, step)
    ]])
    assert.equal(0, status, err)
    -- m1 to generation 1, m2 to 2; the reload to 3 fails, so 2 keeps m3;
    -- the next reload makes 4, which gets m4 and m5
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equal("1:m1 2:m2 2:m3 4:m4 4:m5", lines[1], err)
    assert.equal("0", lines[2], "fds left open by retired generations")
    assert.matches("this reload fails", err, 1, true)
  end)
end)
