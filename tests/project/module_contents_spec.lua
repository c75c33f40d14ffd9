-- SPDX-License-Identifier: MIT
-- What rpmsg.so holds: the module a stock lua5.4 loads carries none of the
-- host's own parts (script generations, the reload request), which the
-- rpmsg-lua binary links in alone, and neither holds Lua source: that is
-- installed as files (tests/project/install_spec.lua). Read from the
-- symbols (nm, local ones too) and the strings of the built files.
local helper = require "tests.helper"

local function symbols(file)
  local status, out, err = helper.sh("nm " .. helper.q(file))
  assert.equal(0, status, err)
  local names = {}
  for name in out:gmatch("%S+ [%a] ([%w_.]+)\n") do names[#names + 1] = name end
  assert.is_true(#names > 100, "nm found only " .. #names .. " symbols in " .. file)
  return names
end

-- The symbols of file whose name has the word generation or reload
local function host_only(file)
  local found = {}
  for _, name in ipairs(symbols(file)) do
    local lower = name:lower()
    if lower:find("%f[%a]generation") or lower:find("%f[%a]reload") then
      found[#found + 1] = name
    end
  end
  table.sort(found)
  return found
end

describe("rpmsg.so", function()
  it("has no symbol of script generations or of the reload request", function()
    assert.same({}, host_only(helper.build .. "/rpmsg.so"))
  end)

  it("is told from the binary, which has them (so the check above can fail)", function()
    local bin = table.concat(host_only(helper.real_bin), " ")
    assert.matches("rpmsg_generation_begin", bin)
    assert.matches("rpmsg_host_take_reload_request", bin)
  end)

  it("holds no Lua source: the library modules are files beside it, not a second copy", function()
    for _, file in ipairs{helper.build .. "/rpmsg.so", helper.real_bin} do
      local status, out = helper.sh("strings " .. helper.q(file))
      assert.equal(0, status)
      -- a line of lua/lib/struct.lua, one of lua/host/repl.lua
      assert.not_matches("local function parse_type(t)", out, 1, true)
      assert.not_matches("function Session:chunk_env()", out, 1, true)
      assert.not_matches("@lua/", out, 1, true)
    end
  end)
end)
