-- SPDX-License-Identifier: MIT
-- help() in the REPL is README.md's API tables (build/apidoc.lua, made by
-- runtime/host/apidoc.lua): every function of the module has a row there,
-- and every function a row names exists. A new function is documented by
-- one row in the README's API tables.
local helper = require "tests.helper"
local q, script = helper.q, helper.script

local check = script([[
  local rpmsg = require "rpmsg"
  local help = require "rpmsg.help"
  local undocumented, unknown = {}, {}
  for name in pairs(help.functions()) do
    if not help.by_name[name] then undocumented[#undocumented + 1] = name end
  end
  for name in pairs(help.by_name) do
    local obj, sep, key = name:match("^([%w_]+)([.:])([%w_]+)$")
    if obj == "rpmsg" then
      if rpmsg[key] == nil then unknown[#unknown + 1] = name end
    elseif sep == ":" then
      local t = help.objects[obj]
      if not t or not help.methods(t)[key] then unknown[#unknown + 1] = name end
    end
  end
  table.sort(undocumented)
  table.sort(unknown)
  print("functions: " .. (function() local n = 0 for _ in pairs(help.functions()) do n = n + 1 end return n end)())
  print("undocumented: " .. table.concat(undocumented, " "))
  print("unknown: " .. table.concat(unknown, " "))
]])

describe("help() and the README's API tables", function()
  it("document every function of the module and its userdata, and name none that does not exist", function()
    local status, out, err = helper.host({check})
    assert.equal(0, status, err)
    local n = tonumber(out:match("functions: (%d+)"))
    assert.is_true(n and n > 40, out)   -- the module and its methods were found at all
    assert.matches("undocumented: \n", out, 1, true)
    assert.matches("unknown: \n", out, 1, true)
  end)

  it("shows one function's row, an object's methods, and the overview", function()
    local input = table.concat({
      "help(rpmsg.every)",
      "ep = rpmsg.pair()",
      "help(ep)",
      "help(ep.send)",
      'help("nothing.here")',
      "help()",
      "", }, "\n")
    local status, out, err = helper.sh(("printf %%s %s | %s -i"):format(q(input), q(helper.bin)))
    assert.equal(0, status, err)
    assert.matches("> rpmsg%.every%(ms, fn%), rpmsg%.after%(ms, fn%)\n    a timer; fn%(timer%); timer:cancel%(%)", out)
    assert.matches("\nep:recv%(%[max %[, timeout_ms%]%]%)%s+reads one message\n", out)
    assert.matches("\n> ep:send%(msg%)  %-> true\n    over 496 bytes raises", out)
    assert.matches("\n> no help for nothing%.here: help%(%) lists what there is\n", out)
    assert.matches("\n%-%- Host level\n", out)
    assert.matches("\nrpmsg%.remoteproc%(name or in%.%.%. r%.name", out)
  end)

  it("is the session's own: a script's global help wins, and is left alone", function()
    local app = script("help = 'the script\\'s'\n")
    local status, out, err = helper.sh(("printf 'help\\n' | %s -i %s"):format(q(helper.bin), q(app)))
    assert.equal(0, status, err)
    assert.matches('> "the script\'s"\n', out)
  end)
end)
