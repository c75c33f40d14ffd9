-- SPDX-License-Identifier: MIT
-- Shared by the terminal specs: a program run on a real terminal under tmux,
-- keys typed into it, its screen read back and waited on, and the terminal
-- closed. One tmux server of our own per terminal, so nothing else's is
-- touched. tests/install-deps test installs tmux; without it these specs fail.
local helper = require "tests.helper"
local q = helper.q

local tmux = {}

local Term = {}
Term.__index = Term

local function sleep(s) os.execute("sleep " .. s) end
tmux.sleep = sleep

-- Starts a shell command in a new tmux session, opts.width columns wide
-- (default 100) and 30 lines high; returns the terminal.
function tmux.open(command, opts)
  opts = opts or {}
  local self = setmetatable({server = "rpmsg-spec-" .. tostring(os.time()) .. math.random(1e6)}, Term)
  local status, _, err = self:tmux(("new-session -d -s spec -x %d -y 30 %s"):format(
    opts.width or 100, q(command)))
  assert(status == 0, "tmux could not start: " .. err)
  return self
end

-- Runs a tmux command on this terminal's server; returns status, stdout, stderr.
-- Without the sanitizer suite's LD_PRELOAD: it made every capture take a
-- third of a second, so a screen shown for 250 ms could be missed. The
-- programs in the terminal are the asan build itself, linked with it.
function Term:tmux(args)
  return helper.sh(("env -u LD_PRELOAD tmux -L %s -f /dev/null %s"):format(self.server, args))
end

-- Types keys: text, or tmux key names ("Enter", "Tab", "C-d"...).
function Term:keys(...)
  local parts = {}
  for i, k in ipairs({...}) do parts[i] = q(k) end
  assert(self:tmux("send-keys -t spec " .. table.concat(parts, " ")) == 0)
end

-- What the terminal shows, trailing blanks cut.
function Term:screen()
  local _, out = self:tmux("capture-pane -p -t spec")
  return (out:gsub("%s+$", ""))
end

-- Waits (up to 10 s) until the screen matches pattern (found as plain text
-- when plain is true); returns the screen, or fails the spec showing it.
function Term:wait_for(pattern, plain)
  for _ = 1, 200 do
    local s = self:screen()
    if s:find(pattern, 1, plain) then return s end
    sleep(0.05)
  end
  error(("the terminal never showed %q; it shows:\n%s"):format(pattern, self:screen()), 2)
end

-- kill-session, not kill-server: the server ends itself with SIGTERM, which
-- a test runner may have blocked for its children (rpmsg.run does).
function Term:close() self:tmux("kill-session -t spec") end

-- A new private (mode 700) folder, e.g. for XDG_STATE_HOME.
function tmux.state_dir()
  local d = helper.tmp_path(".state")
  assert(os.execute("mkdir -m 700 " .. q(d)))
  return d
end

return tmux
