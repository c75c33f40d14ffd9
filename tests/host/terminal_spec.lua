-- SPDX-License-Identifier: MIT
-- The REPL on a real terminal (-i with libedit line editing), driven through
-- tmux (tests/tmux.lua): keys typed, the screen read back, the terminal
-- closed under it.
local helper = require "tests.helper"
local q, script = helper.q, helper.script
local tmux = require "tests.tmux"

local function slurp(path) return helper.read_file(path) or "" end

local sleep = tmux.sleep

local function open_terminal(command) return tmux.open(command) end

local function alive(pid) return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true end

describe("the terminal REPL (-i on a terminal)", function()
  local term, pids = nil, {}
  -- Closing the terminal ends a host that works; one that does not is killed.
  after_each(function()
    if term then term:close() end
    term = nil
    for _, pid in ipairs(pids) do
      for _ = 1, 40 do
        if not alive(pid) then break end
        sleep(0.05)
      end
      os.execute("kill -KILL " .. pid .. " 2>/dev/null")
    end
    pids = {}
  end)

  it("shows each typed line once and leaves on Ctrl-D after a line", function()
    term = open_terminal(("%s -i; echo exit=$?; sleep 60"):format(q(helper.bin)))
    term:wait_for("\n>$")
    term:keys("1+1", "Enter")
    term:wait_for("\n2\n>$")
    term:keys("x = 5", "Enter")
    term:wait_for("x = 5\n>$")
    term:keys("x", "Enter")
    term:wait_for("\n5\n>$")
    term:keys("C-d")
    local screen = term:wait_for("exit=%d+")
    assert.matches("\n> 1%+1\n2\n> x = 5\n> x\n5\n>[^\n]*\nexit=0$", screen)
    local _, typed = screen:gsub("x = 5", "")
    assert.equal(1, typed, screen)
  end)

  it("drops the half-typed line on Ctrl-C and goes on", function()
    term = open_terminal(("%s -i; echo exit=$?; sleep 60"):format(q(helper.bin)))
    term:wait_for("\n>$")
    term:keys("1 +", "C-c")
    term:wait_for("%^C\n>$")
    term:keys("2", "Enter")
    term:wait_for("\n2\n>$")
    term:keys("C-d")
    term:wait_for("exit=0$")
  end)

  it("ends the REPL and the host when its terminal closes: no reload, no spin", function()
    local pidfile, errfile, marker = os.tmpname(), os.tmpname(), os.tmpname()
    os.remove(marker)
    -- lua_close runs this finalizer: the host stopped cleanly, not killed
    local app = script(([[
      local rpmsg = require "rpmsg"
      closed_cleanly = setmetatable({}, {__gc = function()
        local f = io.open(%q, "w") f:write("closed") f:close()
      end})
    ]]):format(marker))
    term = open_terminal(("sh -c %s"):format(q(("echo $$ > %s; exec %s -i %s 2> %s")
      :format(q(pidfile), q(helper.bin), q(app), q(errfile)))))
    term:wait_for("\n>$")
    local pid = assert(tonumber(slurp(pidfile)), "no pid")
    pids[#pids + 1] = pid
    term:close()   -- the terminal goes away: SIGHUP, then reads fail
    term = nil
    local gone = false
    for _ = 1, 100 do
      if not alive(pid) then gone = true break end
      sleep(0.05)
    end
    local err = slurp(errfile)
    assert.is_true(gone, "the host still runs after its terminal closed:\n" .. err)
    assert.not_matches("reload", err)
    assert.matches("the terminal hung up", err)
    assert.equal("closed", slurp(marker))
  end)

  it("still reloads on kill -HUP while its terminal is there", function()
    local pidfile, errfile = os.tmpname(), os.tmpname()
    local app = script("require 'rpmsg'\n")
    term = open_terminal(("sh -c %s; sleep 60"):format(q(("echo $$ > %s; exec %s -i %s 2> %s")
      :format(q(pidfile), q(helper.bin), q(app), q(errfile)))))
    term:wait_for("\n>$")
    local pid = assert(tonumber(slurp(pidfile)), "no pid")
    pids[#pids + 1] = pid
    os.execute("kill -HUP " .. pid)
    for _ = 1, 100 do
      if slurp(errfile):find("reloaded") then break end
      sleep(0.05)
    end
    assert.matches("reloaded .*generation 2", slurp(errfile))
    assert.is_true(alive(pid))
    term:keys("1+1", "Enter")
    term:wait_for("\n2\n>$")
  end)
end)
