-- SPDX-License-Identifier: MIT
-- Where the dynamic loader looks for the binary's libraries at every start
-- (issue 15, start-up). glibc tries each RUNPATH folder and ten hwcaps
-- subfolders of it (an open and a stat each) for every library not found
-- yet, so each folder in RUNPATH that does not hold rpmsg.so costs a start
-- about twenty failed system calls. A binary carries one folder: its own in
-- the build tree, its installed rpmsg.so's once installed (make install
-- installs a binary linked for that). Read from LD_DEBUG=libs, which prints
-- the search path ld.so walks.
local helper = require "tests.helper"
local q = helper.q

-- make as itself, not under the asan suite's preload
local function sh(cmd) return helper.sh("unset LD_PRELOAD; " .. cmd) end

-- The folders ld.so searched because of the binary's RUNPATH, one list per
-- library it looked for.
local function runpath_searches(bin)
  local status, out, err = sh("LD_DEBUG=libs " .. q(bin) .. " --version")
  assert.equal(0, status, err)
  local searches = {}
  for path in err:gmatch("search path=([^\t\n]*)\t*%(RUNPATH from file") do
    local dirs = {}
    for dir in path:gmatch("[^:]+") do dirs[#dirs + 1] = dir end
    searches[#searches + 1] = dirs
  end
  assert.is_true(#searches > 0, "LD_DEBUG=libs showed no RUNPATH search:\n" .. err)
  return searches
end

local function realpath(path)
  local status, out, err = sh("realpath " .. q(path))
  assert.equal(0, status, err)
  return (out:gsub("\n$", ""))
end

-- Each searched folder is dir or a subfolder of it (glibc's hwcaps ones):
-- what follows dir has no "..".
local function assert_only_under(dir, searches)
  for _, dirs in ipairs(searches) do
    for _, d in ipairs(dirs) do
      local rest = d:sub(#dir + 1)
      assert.is_true(d:sub(1, #dir) == dir and (rest == "" or rest:sub(1, 1) == "/")
        and not (rest .. "/"):find("/../", 1, true), ("searched %s, outside %s"):format(d, dir))
    end
  end
end

describe("the rpmsg-lua binary's library search", function()
  it("in the build tree, is its own folder only, where rpmsg.so is", function()
    local dir = realpath(helper.build)
    assert_only_under(dir, runpath_searches(helper.real_bin))
  end)

  describe("installed by make install", function()
    local dest, bin
    setup(function()
      dest = helper.tmpdir()
      local status, out, err = sh(("make -s install DESTDIR=%s PREFIX=/opt/rl LUA_CMOD=/opt/rl/lib/lua/5.4 " ..
        "LUA_LMOD=/opt/rl/share/lua/5.4"):format(q(dest)))
      assert(status == 0, "make install failed:\n" .. out .. err)
      bin = dest .. "/opt/rl/bin/rpmsg-lua"
    end)
    teardown(function()
      -- the build's own binary again, built for the default PREFIX
      sh("make -s all >/dev/null")
      sh("rm -rf " .. q(dest))
    end)

    it("is its installed rpmsg.so's folder only, not the binary's own", function()
      local bindir = realpath(dest .. "/opt/rl/bin")
      local searches = runpath_searches(bin)
      assert_only_under(bindir .. "/../lib/lua/5.4", searches)
      assert.equal(realpath(dest .. "/opt/rl/lib/lua/5.4"), realpath(bindir .. "/../lib/lua/5.4"))
    end)
  end)
end)
