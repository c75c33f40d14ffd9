-- SPDX-License-Identifier: MIT
-- runtime/dist/rpmsg-lua.bash-completion, sourced in bash and its function
-- called as bash's completion would: COMP_WORDS and COMP_CWORD set, the
-- answer read from COMPREPLY. bash runs without the sanitizers' LD_PRELOAD
-- of the asan suite (it would report bash's own leaks).
local helper = require "tests.helper"
local q = helper.q

local FILE = "runtime/dist/rpmsg-lua.bash-completion"
local root = helper.cwd()

-- Completes the last of words (the word being typed) in folder dir;
-- returns the candidates, sorted, one string per line.
local function complete(words, dir)
  local quoted = {}
  for i, w in ipairs(words) do quoted[i] = q(w) end
  local status, out, err = helper.sh(("cd %s && env -u LD_PRELOAD bash -c %s"):format(q(dir or root), q(table.concat({
    "source " .. q(root .. "/" .. FILE),
    "COMP_WORDS=(" .. table.concat(quoted, " ") .. ")",
    "COMP_CWORD=" .. (#words - 1),
    "COMP_LINE=\"${COMP_WORDS[*]}\"",
    "_rpmsg_lua",
    "[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\\n' \"${COMPREPLY[@]}\" | sort",
  }, "\n"))))
  assert(status == 0, err)
  assert.equal("", err)
  return out
end

local function lines(...)
  local t = {...}
  table.sort(t)
  return #t == 0 and "" or table.concat(t, "\n") .. "\n"
end

-- A folder with a script, a module folder and a file that is no script.
local function scratch()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute(("mkdir -p %s/mods && touch %s/app.lua %s/notes.txt %s/mods/m.lua")
    :format(q(dir), q(dir), q(dir), q(dir))))
  return dir
end

describe("bash completion", function()
  it("offers exactly the options of --help", function()
    local _, help = helper.host({"--help"})
    local want = {}
    local block = help:match("\noptions:\n(.-)\n\n")
    for line in block:gmatch("[^\n]+") do
      local names = line:match("^  (%-[^ ]*,? ?%-?%-?[%w-]*)")
      if names then
        for o in names:gmatch("%-%-?[%w][%w-]*") do want[#want + 1] = o end
      end
    end
    assert.is_true(#want >= 8)
    assert.equal(lines(table.unpack(want)), complete({"rpmsg-lua", "-"}))
    assert.equal(lines("--log-level"), complete({"rpmsg-lua", "--log-l"}))
  end)

  it("offers the commands and Lua scripts first, scripts and folders after options", function()
    local dir = scratch()
    assert.equal(lines("app.lua", "attach", "bench", "doctor", "list", "mods", "stats"), complete({"rpmsg-lua", ""}, dir))
    assert.equal(lines("attach"), complete({"rpmsg-lua", "at"}, dir))
    assert.equal(lines("app.lua", "mods"), complete({"rpmsg-lua", "-i", ""}, dir))
    assert.equal(lines("mods/m.lua"), complete({"rpmsg-lua", "--check", "mods/"}, dir))
  end)

  it("completes the values of --sim, --log-level and --handler-timeout", function()
    local dir = scratch()
    assert.equal(lines("app.lua", "mods"), complete({"rpmsg-lua", "--sim", ""}, dir))
    assert.equal(lines("err", "warn", "info", "debug"), complete({"rpmsg-lua", "--log-level", ""}))
    assert.equal(lines("debug"), complete({"rpmsg-lua", "--log-level", "d"}))
    assert.equal("", complete({"rpmsg-lua", "--handler-timeout", ""}))
    -- a value is not taken for the script: options still follow it
    assert.equal(lines("--check"), complete({"rpmsg-lua", "--sim", "fw.lua", "--che"}, dir))
  end)

  it("leaves the words after SCRIPT to the script (bash's default: any file)", function()
    local dir = scratch()
    assert.equal("", complete({"rpmsg-lua", "--sim", "fw.lua", "app.lua", ""}, dir))
    assert.equal("", complete({"rpmsg-lua", "app.lua", "-"}, dir))
  end)

  it("completes attach with a path and list with --json", function()
    local dir = scratch()
    assert.equal(lines("notes.txt"), complete({"rpmsg-lua", "attach", "no"}, dir))
    assert.equal(lines("--json"), complete({"rpmsg-lua", "list", "-"}))
    assert.equal("", complete({"rpmsg-lua", "list", "--json", ""}))
  end)

  it("completes doctor with --json, bench with its options, and the values of --trace-time", function()
    local dir = scratch()
    assert.equal(lines("--json"), complete({"rpmsg-lua", "doctor", "-"}))
    assert.equal(lines("--window"), complete({"rpmsg-lua", "bench", "--w"}))
    assert.equal(lines("app.lua", "mods"), complete({"rpmsg-lua", "bench", "--sim", ""}, dir))
    assert.equal("", complete({"rpmsg-lua", "bench", "--count", ""}))
    assert.equal(lines("a", "d", "z"), complete({"rpmsg-lua", "--trace-time", ""}))
    assert.equal(lines("notes.txt"), complete({"rpmsg-lua", "--trace-pcap", "no"}, dir))
  end)

  it("is registered for rpmsg-lua", function()
    local status, out = helper.sh(("env -u LD_PRELOAD bash -c %s"):format(q("source " .. FILE .. "; complete -p rpmsg-lua")))
    assert.equal(0, status)
    assert.equal("complete -F _rpmsg_lua rpmsg-lua\n", out)
  end)
end)
