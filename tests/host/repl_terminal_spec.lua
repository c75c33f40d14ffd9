-- SPDX-License-Identifier: MIT
-- The terminal REPL as a person sees it, driven through tmux: values
-- pretty-printed, Tab completing a method, history recalled after a
-- restart, and a handler's output printed above the line being typed.
local helper = require "tests.helper"
local q, script = helper.q, helper.script
local tmux = require "tests.tmux"

local sleep, state_dir = tmux.sleep, tmux.state_dir

-- command runs with XDG_STATE_HOME at state (the history's folder).
local function open_terminal(command, state)
  return tmux.open(("export XDG_STATE_HOME=%s; %s"):format(q(state), command))
end

describe("the terminal REPL, as a person sees it", function()
  local term
  after_each(function()
    if term then term:close() end
    term = nil
  end)

  it("pretty-prints a nested table: keys sorted, strings quoted, bytes as \\xNN", function()
    term = open_terminal(q(helper.bin) .. " -i", state_dir())
    term:wait_for("\n>$")
    term:keys('t = {zeta = 1, alpha = {"x", "a\\0b"}, [10] = true}; t.self = t', "Enter")
    term:wait_for("\n>$")
    term:keys("t", "Enter")
    local screen = term:wait_for('\n{\n  %[10%] = true,\n  alpha = {"x", "a\\x00b"},\n' ..
      '  self = <cycle: table: 0x%x+>,\n  zeta = 1\n}\n>$')
    assert.not_matches("\ntable: 0x", screen)
    term:keys("{{{{{{1}}}}}}, {n = 1}", "Enter")
    term:wait_for("\n{{{{{%.%.%.}}}}}%s+{n = 1}\n>$")
    term:keys("local l = {} for i = 1, 40 do l[i] = i end return l", "Enter")
    term:wait_for("32,%s+%.%.%. %(8 more%)\n?}\n>$")
  end)

  it("prints as lua.c does under --plain", function()
    term = open_terminal(q(helper.bin) .. " -i --plain", state_dir())
    term:wait_for("\n>$")
    term:keys("{1}", "Enter")
    term:wait_for("\ntable: 0x%x+\n>$")
  end)

  it("completes with Tab: ep:sen gives ep:send(, ep:se lists two, ep.na gives ep.name", function()
    term = open_terminal(q(helper.bin) .. " -i", state_dir())
    term:wait_for("\n>$")
    -- the peer held too: a collected peer would make ep:send fail (EPIPE)
    term:keys("ep, peer = rpmsg.pair()", "Enter")
    term:wait_for("\n>$")
    term:keys("ep:se", "Tab", "Tab")
    term:wait_for("ep:send(     ep:set_flow(", true)
    term:keys("n", "Tab")
    term:wait_for("\n> ep:send%($")
    term:keys("'x')", "Enter")
    term:wait_for("\ntrue\n>$")
    term:keys("rpmsg.endp", "Tab")
    term:wait_for("\n> rpmsg.endpoint$")
    -- fields of a userdata whose __index is C: from the README's API rows
    term:keys("C-u", "ep.na", "Tab")
    term:wait_for("\n> ep.name$")
  end)

  it("recalls a line typed before a restart (history in XDG_STATE_HOME)", function()
    local state = state_dir()
    term = open_terminal(q(helper.bin) .. " -i", state)
    term:wait_for("\n>$")
    term:keys("'remember ' .. 42", "Enter")
    term:wait_for('"remember 42"\n>$')
    term:keys("C-d")
    for _ = 1, 100 do
      local f = io.open(state .. "/rpmsg-lua/history")
      if f then f:close() break end
      sleep(0.05)
    end
    term:close()
    term = open_terminal(q(helper.bin) .. " -i", state)
    term:wait_for("\n>$")
    term:keys("Up")
    term:wait_for("\n> 'remember ' .. 42$")
    term:keys("Enter")
    term:wait_for('"remember 42"\n>$')
  end)

  it("prints a handler's output above the line being typed, which stays whole", function()
    local app = script([[
      local rpmsg = require "rpmsg"
      local n = 0
      rpmsg.every(300, function() n = n + 1; print("tick " .. n) end)
    ]])
    term = open_terminal(q(helper.bin) .. " -i " .. q(app), state_dir())
    term:wait_for("\n>")
    term:keys("1 + ")
    term:wait_for("tick 2\n", true)
    term:keys("2")
    local screen = term:wait_for("tick %d+\n> 1 %+ 2$")
    -- each tick on a line of its own, never inside the typed line
    assert.not_matches("1 +[^\n]*tick", screen)
    assert.not_matches("tick %d+>", screen)
    term:keys("Enter")
    term:wait_for("\n3\n")
  end)

  it("still shows what the script wrote before os.exit from the REPL", function()
    term = open_terminal(q(helper.bin) .. " -i; echo exit=$?; sleep 60", state_dir())
    term:wait_for("\n>$")
    term:keys([[io.write("last words\n") os.exit(4)]], "Enter")
    term:wait_for("\nlast words\nexit=4$")
  end)
end)
