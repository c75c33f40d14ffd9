-- SPDX-License-Identifier: MIT
-- The console and the piped REPL against clients and input that misbehave:
-- a client that stops reading, over-long lines, NUL bytes, a second host on
-- the same socket path; and what a lua.c user expects at the prompt (`rpmsg`
-- at hand, `=expr`).
local helper = require "tests.helper"
local q, script = helper.q, helper.script

local function sock_path() return helper.tmp_path(".sock") end

local slurp = helper.read_file

local app = script([[
  local rpmsg = require "rpmsg"
  ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
  -- the longest wait between two messages: the loop's responsiveness
  got, max_gap = 0, 0
  local last
  ep.on_message = function()
    local now = rpmsg.now()
    if last then max_gap = math.max(max_gap, now - last) end
    last, got = now, got + 1
  end
  function script_sees_rpmsg_global() return _ENV.rpmsg ~= nil end
]])
local fw = script([[
  local rpmsg = require "rpmsg"
  local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
  rpmsg.every(20, function() ep:send("tick") end)
]])

-- Starts a host serving path (runs body, a shell snippet, while it is up),
-- then stops it. Returns status, stdout, stderr of the whole.
-- Runs body once the host's console answers: a socket file is not enough,
-- it may be a stale one the host is about to replace.
local function with_console(path, body)
  local cmd = ("%s --console %s --sim %s %s & pid=$!; " ..
    "for i in $(seq 400); do %s attach %s </dev/null >/dev/null 2>&1 && break; sleep 0.05; done; " ..
    "%s\nkill -TERM $pid; wait $pid")
    :format(q(helper.bin), q(path), q(fw), q(app), q(helper.real_bin), q(path), body)
  return helper.sh(cmd)
end

local function attach(path, input)
  return ("printf %%s %s | timeout -s KILL 10 %s attach %s"):format(q(input), q(helper.bin), q(path))
end

describe("console sessions", function()
  it("never block the loop: a client that stops reading is dropped with a log line", function()
    local path = sock_path()
    -- 2 MB of output to a client whose own output nobody reads, so it stops
    -- reading the socket; meanwhile messages must keep flowing every 20 ms.
    local flood = "local s = ('x'):rep(10000) for i = 1, 200 do print(s) end\n"
    local status, out, err = with_console(path, table.concat({
      ("(printf %%s %s; sleep 2) | timeout -s KILL 10 %s attach %s | sleep 2 &")
        :format(q(flood), q(helper.bin), q(path)),
      "stuck=$!",
      "sleep 1.5",
      attach(path, "max_gap, got\n"),
      "wait $stuck",
    }, "\n"))
    assert.equal(0, status, err)
    assert.matches("console: dropped a session that stopped reading %(%d+ bytes pending%)", err)
    local gap, got = out:match("> (%d+)\t(%d+)\n")
    assert.truthy(gap, out)
    assert.is_true(tonumber(got) >= 5, "messages flowed: " .. got)
    assert.is_true(tonumber(gap) < 500, "the loop stalled for " .. gap .. " ms")
  end)

  it("refuse an over-long line whole, report it once, and never run its tail", function()
    local path = sock_path()
    local long = (" "):rep(20000) .. "tail_ran = true\n"
    local status, out, err = with_console(path, attach(path, long .. "tail_ran\n"))
    assert.equal(0, status, err)
    local _, reports = out:gsub("line too long %(over 16384 bytes%), ignored\n", "")
    assert.equal(1, reports, out)
    assert.matches("ignored\n> nil\n> $", out)
  end)

  it("refuse a line with a NUL byte, and only that line", function()
    local path = sock_path()
    -- printf's own escape makes the NUL: a shell word cannot hold one
    local status, out, err = with_console(path, ("printf 'a = 1\\000b = 2\\nc = 3\\na, b, c\\n' | %s attach %s")
      :format(q(helper.bin), q(path)))
    assert.equal(0, status, err)
    assert.matches("> line has a NUL byte, ignored\n> > nil\tnil\t3\n> $", out)
  end)

  it("have rpmsg at hand without require, and leave the script's globals alone", function()
    local path = sock_path()
    local status, out, err = with_console(path,
      attach(path, "type(rpmsg.state), rpmsg.endpoints()[1] == ep\nscript_sees_rpmsg_global()\n"))
    assert.equal(0, status, err)
    assert.matches('> "table"\ttrue\n> false\n> $', out)
  end)

  it("print the value of =expr, as lua.c does", function()
    local path = sock_path()
    local status, out, err = with_console(path, attach(path, "=1+1\nx = 20\n=x, x * 2\n"))
    assert.equal(0, status, err)
    assert.matches("> 2\n> > 20\t40\n> $", out)
  end)
end)

describe("--console PATH", function()
  it("refuses a path that a running host serves, which keeps its console", function()
    local path = sock_path()
    local second = script("require('rpmsg').after(0, function() print('second host took over') end)")
    local status, out, err = with_console(path, table.concat({
      ("timeout -s KILL 5 %s --console %s %s; echo second=$?"):format(q(helper.bin), q(path), q(second)),
      attach(path, "ep.name\n"),
    }, "\n"))
    assert.equal(0, status, err)
    assert.matches("^second=1\n", out)
    assert.not_matches("second host took over", out)
    assert.matches("rpmsg%-lua: console " .. path:gsub("%p", "%%%0") ..
      " is served by a running host %(pid %d+%)", err)
    assert.matches("console: " .. app:gsub("%p", "%%%0") .. '\n> "app"\n> $', out)
  end)

  it("takes over a socket left behind by a host that is gone", function()
    local path = sock_path()
    -- SIGKILL leaves the socket file with nobody listening
    local status = helper.sh(("%s --console %s --sim %s %s & pid=$!; " ..
      "for i in $(seq 100); do [ -S %s ] && break; sleep 0.05; done; kill -KILL $pid; wait $pid; [ -S %s ]")
      :format(q(helper.bin), q(path), q(fw), q(app), q(path), q(path)))
    assert.equal(0, status, "the stale socket is there")
    local out, err
    status, out, err = with_console(path, attach(path, "ep.name\n"))
    assert.equal(0, status, err)
    assert.matches('> "app"\n> $', out)
  end)

  it("refuses an empty path (Linux would make it an abstract socket)", function()
    local status, out, err = helper.host({"--console", "", "--sim", fw, app}, 5)
    assert.equal(1, status, out .. err)
    assert.matches("console path is empty", err)
  end)
end)

describe("the piped REPL (-i)", function()
  it("refuses an over-long line whole and never runs its tail", function()
    local input = "x = 1\n" .. (" "):rep(20000) .. "x = 2\n" .. (" "):rep(30000) .. "x = 3\n=x\n"
    local status, out = helper.sh(("printf %%s %s | timeout -s KILL 10 %s -i"):format(q(input), q(helper.bin)))
    assert.equal(0, status)
    local _, reports = out:gsub("line too long %(over 16384 bytes%), ignored\n", "")
    assert.equal(2, reports, out)
    assert.matches("> 1\n> \n$", out)
  end)

  it("runs a last line that has no newline, and has rpmsg at hand", function()
    local status, out = helper.sh(("printf %%s %s | timeout -s KILL 10 %s -i")
      :format(q("=type(rpmsg.now())"), q(helper.bin)))
    assert.equal(0, status)
    assert.matches('> "number"\n> \n$', out)
  end)

  it("reads its commands from a file, and from /dev/null nothing, then leaves", function()
    local commands = os.tmpname()
    local f = assert(io.open(commands, "w"))
    f:write("x = 20\n=x + 1\n")
    f:close()
    local status, out, err = helper.sh(("timeout -s KILL 10 %s -i < %s"):format(q(helper.bin), q(commands)))
    assert.equal(0, status, err)
    assert.matches("> > 21\n> \n$", out)
    status, out, err = helper.sh(("timeout -s KILL 10 %s -i < /dev/null"):format(q(helper.bin)))
    assert.equal(0, status, err)
    assert.matches("> \n$", out)
  end)
end)
