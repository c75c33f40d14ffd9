-- SPDX-License-Identifier: MIT
-- Log lines fit for journald, and log levels: when stderr is the journal
-- (JOURNAL_STREAM names stderr's device and inode) each line starts with
-- its syslog priority <N> and no time; otherwise with the time. rpmsg.log
-- has levels, and --log-level drops the lines below one.
local helper = require "tests.helper"
local q = helper.q

local APP = [[
  local rpmsg = require "rpmsg"
  rpmsg.log("plain %d", 1)
  rpmsg.log.err("an %s", "err")
  rpmsg.log.warn("a warn")
  rpmsg.log.info("an info")
  rpmsg.log.debug("a debug")
  rpmsg.log("two\nlines")
  print("level " .. rpmsg.log.level())
  rpmsg.after(10, function() error("boom") end)
  rpmsg.after(50, rpmsg.stop)
]]

-- Runs the app with stderr in a file; journal = true sets JOURNAL_STREAM to
-- that file's device:inode (as systemd does for a service's journal
-- stream), a string sets it to that string. Returns status, stdout, stderr.
local function run(args, journal)
  local app = helper.script(APP)
  local errfile = os.tmpname()
  local env = ""
  if journal == true then
    env = ("JOURNAL_STREAM=$(stat -c %%d:%%i %s) "):format(q(errfile))
  elseif journal then
    env = "JOURNAL_STREAM=" .. q(journal) .. " "
  end
  local status, out = helper.sh(("%stimeout -s KILL 20 %s %s %s </dev/null 2>>%s")
    :format(env, q(helper.bin), args or "", q(app), q(errfile)))
  local f = assert(io.open(errfile))
  local err = f:read("a")
  f:close()
  os.remove(errfile)
  return status, out, err
end

describe("logging", function()
  it("prefixes every line with its syslog priority and no time when stderr is the journal", function()
    local status, out, err = run(nil, true)
    assert.equal(0, status, err)
    assert.equal("level info\n", out)
    assert.matches("^<6>plain 1\n<3>an err\n<4>a warn\n<6>an info\n<6>two\n<6>lines\n", err)
    assert.not_matches("a debug", err)
    -- a handler error is an err line, and so is each line of its traceback
    assert.matches("\n<3>error in rpmsg.after callback: [^\n]*boom\n<3>stack traceback:\n", err)
    for line in err:gmatch("[^\n]*\n") do
      assert.matches("^<[3-7]>", line)
    end
    assert.not_matches("%[%d%d:%d%d:%d%d%.%d%d%d%]", err)
  end)

  it("keeps the time when JOURNAL_STREAM names another stream (stderr sent elsewhere)", function()
    local status, _, err = run(nil, "1:2")
    assert.equal(0, status, err)
    assert.matches("^%[%d%d:%d%d:%d%d%.%d%d%d%] plain 1\n%[[%d:.]+%] an err\n", err)
    assert.not_matches("<%d>", err)
    -- without JOURNAL_STREAM too
    status, _, err = run(nil, nil)
    assert.equal(0, status, err)
    assert.matches("^%[[%d:.]+%] plain 1\n", err)
    -- a traceback stays under one time stamp
    assert.matches("boom\nstack traceback:\n", err)
  end)

  it("--log-level drops the lines below it", function()
    local status, out, err = run("--log-level warn", true)
    assert.equal(0, status, err)
    assert.equal("level warn\n", out)
    assert.matches("^<3>an err\n<4>a warn\n<3>error in", err)
    assert.not_matches("<6>", err)
    status, out, err = run("--log-level debug", true)
    assert.equal(0, status, err)
    assert.equal("level debug\n", out)
    assert.matches("<6>an info\n<7>a debug\n", err)
    status, out, err = run("--log-level err", true)
    assert.equal(0, status, err)
    assert.matches("^<3>an err\n<3>error in", err)
  end)

  it("refuses an unknown level, on the command line and from Lua", function()
    local status, _, err = helper.host({"--log-level", "loud", "x.lua"})
    assert.equal(2, status)
    assert.matches("rpmsg%-lua: %-%-log%-level wants err, warn, info or debug, not 'loud'", err)
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      print(pcall(rpmsg.log.level, "loud"))
      print(rpmsg.log.level("warning"), rpmsg.log.level("error"), rpmsg.log.level("info"))
    ]])
    local out
    status, out, err = helper.host({app})
    assert.equal(0, status, err)
    assert.equal("false\t" .. "rpmsg.log.level: unknown level 'loud' (err, warn, info or debug)\n" ..
      "warn\terr\tinfo\n", (out:gsub("false\t[^\n]*: rpmsg", "false\trpmsg")))
  end)

  it("has the same levels in rpmsg.so under a stock lua5.4", function()
    local status, out, err = helper.sh(("lua5.4 -e %s 2>&1"):format(q(
      ("package.cpath = %q .. '/?.so;' .. package.cpath\n"):format(helper.build) .. [[
      local rpmsg = require "rpmsg"
      rpmsg.log.debug("hidden")
      rpmsg.log.level("debug")
      rpmsg.log.debug("shown")
      rpmsg.log("still %s", "callable")
      rpmsg.log(42)
    ]])))
    assert.equal(0, status, err)
    assert.matches("^%[[%d:.]+%] shown\n%[[%d:.]+%] still callable\n%[[%d:.]+%] 42\n$", out)
  end)

  it("logs a long message whole (no cut at 2 KiB), one prefix per line in the journal", function()
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      rpmsg.log.warn("%s\n%s", string.rep("x", 5000), string.rep("y", 5000))
    ]])
    local errfile = os.tmpname()
    local function run_long(env)
      local status = helper.sh(("%s timeout -s KILL 20 %s %s </dev/null 2>>%s")
        :format(env, q(helper.bin), q(app), q(errfile)))
      local f = assert(io.open(errfile))
      local err = f:read("a")
      f:close()
      os.remove(errfile)
      return status, err
    end
    local status, err = run_long(("JOURNAL_STREAM=$(stat -c %%d:%%i %s)"):format(q(errfile)))
    assert.equal(0, status, err)
    assert.equal("<4>" .. ("x"):rep(5000) .. "\n<4>" .. ("y"):rep(5000) .. "\n", err)
    status, err = run_long("")
    assert.equal(0, status, err)
    assert.matches("^%[[%d:.]+%] " .. ("x"):rep(5000) .. "\n" .. ("y"):rep(5000) .. "\n$", err)
  end)
end)
