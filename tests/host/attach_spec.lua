-- SPDX-License-Identifier: MIT
-- rpmsg-lua attach and the console protocol: a plain client's session, the
-- protocol's requests and frames (spoken here by python3, as any client
-- would), and attach on a terminal (tmux): completion, history across
-- restarts, a session's output above the line being typed, reconnecting
-- when the host restarts, and clear messages when it cannot attach.
local helper = require "tests.helper"
local q, script = helper.q, helper.script
local tmux = require "tests.tmux"

local sleep = tmux.sleep
-- Debian's python3 (tests/install-deps), not a version manager's shim,
-- which can take seconds to start on a loaded machine.
local python = io.open("/usr/bin/python3") and "/usr/bin/python3" or "python3"
local function alive(pid) return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true end

local tmp_path = helper.tmp_path

local state_dir = tmux.state_dir

local app = script([[
  local rpmsg = require "rpmsg"
  ep = rpmsg.pair()
  rpmsg.every(60000, function() end)
]])

-- Starts a host serving a console at path; returns its pid once the
-- socket answers.
local function start_host(path)
  local pidfile = tmp_path(".pid")
  assert(os.execute(("%s --console %s %s >/dev/null 2>&1 & echo $! > %s"):format(
    q(helper.bin), q(path), q(app), q(pidfile))))
  local f = assert(io.open(pidfile))
  local pid = assert(tonumber(f:read("l")))
  f:close()
  os.remove(pidfile)
  -- the socket file appears between bind and listen: a moment later, it answers
  for _ = 1, 200 * helper.slow do
    if os.execute("test -S " .. q(path)) then
      sleep(0.1)
      return pid
    end
    sleep(0.05)
  end
  error("the host never served " .. path)
end

local function stop_host(pid)
  os.execute("kill -TERM " .. pid .. " 2>/dev/null")
  for _ = 1, 100 do
    if not alive(pid) then return end
    sleep(0.05)
  end
  os.execute("kill -KILL " .. pid .. " 2>/dev/null")
end

-- A client that sends bytes (Python escapes: \x01) and returns all it got
-- until the host closes.
local client = [[
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode('unicode_escape').encode('latin1'))
time.sleep(0.3)
s.shutdown(socket.SHUT_WR)
out = b''
while True:
    d = s.recv(4096)
    if not d: break
    out += d
sys.stdout.write(out.decode('latin1'))
]]
local function speak(path, bytes)
  -- not under the sanitizers a spec run may preload (python is not ours)
  local status, out, err = helper.sh(("timeout 20 env -u LD_PRELOAD %s -c %s %s %s"):format(
    python, q(client), q(path), q(bytes)))
  assert(status == 0, err)
  return out
end

describe("the console protocol", function()
  local path, pid
  before_each(function()
    path = tmp_path(".sock")
    pid = start_host(path)
  end)
  after_each(function() stop_host(pid) end)

  it("serves a plain client plain text: no frame, no control byte", function()
    local out = speak(path, [[1+1\nlocal t = {b = 2, a = 1} return t\n]])
    assert.matches("^rpmsg%-lua [^\n]* console: [^\n]*\n> 2\n> {a = 1, b = 2}\n> $", out)
    assert.is_nil(out:find("\1", 1, true))
  end)

  it("answers a completion request, and frames its output after hello", function()
    local out = speak(path, [[\x01hello 1\n\x01complete ep:sen\n\x01complete rpmsg.endp\n1+1\n\x01bogus\n]])
    local framed = out:sub((out:find("\1", 1, true)))   -- the plain greeting comes first
    local n, banner, rest = framed:match("^\1out (%d+)\n(rpmsg%-lua [^\n]* console: [^\n]*\n)(.*)$")
    assert(n, (framed:gsub("%c", function(c) return ("\\x%02x"):format(c:byte()) end)))
    assert.equal(#banner, tonumber(n))
    assert.equal(table.concat({
      "\1prompt 2\n> ",
      "\1completions 9\nep:send(\n",
      "\1completions 33\nrpmsg.endpoint(\nrpmsg.endpoints(\n",
      "\1out 2\n2\n\1prompt 2\n> ",
      "\1error 32\nunknown console request 'bogus'\n",
    }), rest)
  end)

  it("cancels a half-typed statement on request", function()
    local out = speak(path, [[\x01hello 1\nfor i = 1, 2 do\n\x01cancel\n1+1\n]])
    assert.matches("\1prompt 3\n>> \1out 3\n%^C\n\1prompt 2\n> \1out 2\n2\n\1prompt 2\n> $", out)
  end)
end)

-- attach on a terminal, in tmux.
local function open_terminal(command, state)
  return tmux.open(("XDG_STATE_HOME=%s %s; echo exit=$?; sleep 60"):format(q(state), command),
    {width = 120})
end

describe("rpmsg-lua attach on a terminal", function()
  local path, pid, term
  before_each(function()
    path = tmp_path(".sock")
    pid = start_host(path)
  end)
  after_each(function()
    if term then term:close() end
    term = nil
    stop_host(pid)
  end)

  local function attach(state)
    return open_terminal(("%s attach %s"):format(q(helper.bin), q(path)), state or state_dir())
  end

  it("completes a method through the host, and pretty-prints", function()
    term = attach()
    term:wait_for("\n>$")
    term:keys("ep:sen", "Tab")
    term:wait_for("\n> ep:send%($")
    term:keys("C-u", "{x = {1, 'two'}}", "Enter")
    term:wait_for('\n{x = {1, "two"}}\n>$')
  end)

  it("recalls a line typed in an earlier attach (history in XDG_STATE_HOME)", function()
    local state = state_dir()
    term = attach(state)
    term:wait_for("\n>$")
    term:keys("'from before' .. 1", "Enter")
    term:wait_for('"from before1"\n>$')
    term:keys("C-d")
    term:wait_for("exit=0$")
    term:close()
    term = attach(state)
    term:wait_for("\n>$")
    term:keys("Up")
    term:wait_for("\n> 'from before' .. 1$")
  end)

  it("prints the session's output above the line being typed", function()
    term = attach()
    term:wait_for("\n>$")
    term:keys("n = 0 t = rpmsg.every(250, function() n = n + 1 print('tick ' .. n) end)", "Enter")
    term:wait_for("tick %d+\n>$")   -- the prompt is back under the first ticks
    term:keys("1 + ")
    term:wait_for("tick 3\n", true)
    term:keys("2")
    local screen = term:wait_for("tick %d+\n> 1 %+ 2$")
    assert.not_matches("1 %+[^\n]*tick", screen)
    term:keys("Enter")
    term:wait_for("\n3\n")
    term:keys("t:cancel()", "Enter")
  end)

  it("reconnects when the host restarts, with a notice", function()
    term = attach()
    term:wait_for("\n>$")
    stop_host(pid)
    term:wait_for("lost the console at " .. path .. " (the host stopped?): reconnecting", true)
    pid = start_host(path)
    term:wait_for("reconnected to " .. path, true)
    term:wait_for("\n>$")
    term:keys("40 + 2", "Enter")
    term:wait_for("\n42\n>$")
    local _, notices = term:screen():gsub("lost the console", "")
    assert.equal(1, notices)
  end)
end)

describe("rpmsg-lua attach says why it cannot attach", function()
  it("to a socket that no host serves (left behind): connection refused", function()
    local path = tmp_path(".sock")
    assert(helper.sh(("env -u LD_PRELOAD %s -c %s %s"):format(python, q(
      "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])"), q(path))) == 0)
    local status, _, err = helper.sh(("%s attach %s </dev/null"):format(q(helper.bin), q(path)))
    os.remove(path)
    assert.equal(1, status)
    assert.matches("cannot attach to .*: Connection refused %(no host serves it: a socket left by a host that is gone%)", err)
  end)

  it("to a path with no socket", function()
    local status, _, err = helper.sh(q(helper.bin) .. " attach /nonexistent.sock </dev/null")
    assert.equal(1, status)
    assert.matches("cannot attach to /nonexistent.sock: No such file or directory %(no console there", err)
  end)
end)
