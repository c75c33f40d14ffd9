-- SPDX-License-Identifier: MIT
-- What rpmsg.so holds: the module a stock lua5.4 loads carries none of the
-- host's own parts (script generations, the reload request, the host's Lua
-- modules), which the rpmsg-lua binary links in alone. Read from the
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
-- (rpmsg_preload_embedded is neither).
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

  it("does not embed the host's Lua modules (lua/host/)", function()
    local status, out = helper.sh("strings " .. helper.q(helper.build .. "/rpmsg.so"))
    assert.equal(0, status)
    assert.not_matches("@lua/host/", out, 1, true)
    assert.matches("@lua/lib/struct.lua", out, 1, true)
  end)
end)
