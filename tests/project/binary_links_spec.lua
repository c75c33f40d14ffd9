-- SPDX-License-Identifier: MIT
-- What the binary loads at every start (issue 15: size and start-up): the
-- bindings once, from rpmsg.so beside it or where it is installed, not a
-- second copy inside it; and not libedit, which only a REPL on a terminal
-- opens. Read from the ELF dynamic section (readelf -d).
local helper = require "tests.helper"

local function dynamic(file)
  local status, out, err = helper.sh("readelf -d " .. helper.q(file))
  assert.equal(0, status, err)
  local needed, runpath = {}, out:match("Library runpath: %[([^%]]*)%]")
  for lib in out:gmatch("Shared library: %[([^%]]+)%]") do needed[lib] = true end
  return needed, runpath
end

describe("the rpmsg-lua binary", function()
  it("links rpmsg.so, found relative to itself, and holds none of the module's code", function()
    local needed, runpath = dynamic(helper.real_bin)
    assert.is_true(needed["rpmsg.so"], "rpmsg.so is not needed")
    -- its own folder only: make install installs a binary linked for its
    -- rpmsg.so's folder (tests/project/library_search_spec.lua)
    assert.equal("$ORIGIN", runpath)
    local _, syms = helper.sh("nm --defined-only " .. helper.q(helper.real_bin))
    assert.not_matches(" [Tt] luaopen_rpmsg\n", syms)
    assert.not_matches(" [Tt] loop_run\n", syms)
  end)

  it("does not load libedit (or libtinfo, libbsd) at start", function()
    local needed = dynamic(helper.real_bin)
    for lib in pairs(needed) do
      assert.is_nil(lib:match("^libedit") or lib:match("^libtinfo") or lib:match("^libbsd"), lib)
    end
  end)

  it("exports from rpmsg.so only luaopen_rpmsg and what the binary calls", function()
    local _, dyn = helper.sh("nm -D --defined-only " .. helper.q(helper.build .. "/rpmsg.so"))
    assert.matches(" T luaopen_rpmsg\n", dyn)
    assert.matches(" T rpmsg_host_loop_run\n", dyn)   -- the host runs its loop through the bindings
    -- a function only the module uses
    assert.not_matches(" T rpmsg_endpoint_register\n", dyn)
  end)
end)
