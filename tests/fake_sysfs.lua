-- SPDX-License-Identifier: MIT
-- Shared by the specs that run rpmsg against a prepared tree instead of the
-- machine's /sys, /dev and debugfs (RPMSG_SYSFS_ROOT, RPMSG_DEV_ROOT,
-- RPMSG_DEBUGFS_ROOT): a fresh root, files and links written into it with
-- their folders, the environment that points rpmsg at it, stock lua5.4 run
-- there with the build's rpmsg.so, and the tree removed.
local helper = require "tests.helper"
local q = helper.q

local fake = {}

-- A new path under /tmp, not created yet: the tree's root.
function fake.root() return helper.tmp_path() end

-- Removes the tree at root (for after_each).
function fake.remove(root)
  if root then os.execute("rm -rf " .. q(root)) end
end

-- Writes text to path, making its folders first.
function fake.write(path, text)
  assert(os.execute("mkdir -p " .. q(path:match("^(.*)/"))))
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- The file's contents, or nil when it cannot be opened.
fake.read = helper.read_file

-- Makes the symlink name (and its folder) pointing at target.
function fake.link(target, name)
  assert(os.execute("mkdir -p " .. q(name:match("^(.*)/")) .. " && ln -s " .. q(target) .. " " .. q(name)))
end

-- A remoteproc device remoteproc<index> under the platform device named
-- platform in root/sys, with a file of one line for each of attrs
-- ({name = "r5f0", state = "running", ...}) and its class link in
-- /sys/class/remoteproc; returns its sysfs folder.
function fake.remoteproc(root, platform, index, attrs)
  local sys = root .. "/sys"
  local dir = ("%s/devices/platform/%s/remoteproc/remoteproc%d"):format(sys, platform, index)
  local keys = {}
  for k in pairs(attrs) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do fake.write(dir .. "/" .. k, attrs[k] .. "\n") end
  fake.link(dir, ("%s/class/remoteproc/remoteproc%d"):format(sys, index))
  return dir
end

local vars = {sys = "RPMSG_SYSFS_ROOT", dev = "RPMSG_DEV_ROOT", debug = "RPMSG_DEBUGFS_ROOT"}

-- Shell assignments pointing rpmsg at the tree's parts named ("sys", "dev",
-- "debug": root/sys, root/dev, root/debug), e.g. fake.env(root, "sys", "dev").
function fake.env(root, ...)
  local parts = {}
  for i, name in ipairs({...}) do parts[i] = ("%s=%s"):format(assert(vars[name], name), q(root .. "/" .. name)) end
  return table.concat(parts, " ")
end

-- Runs Lua code in a stock lua5.4 with the build's rpmsg.so and its Lua
-- library modules, after env (shell assignments, as fake.env gives);
-- returns status, stdout, stderr.
function fake.lua(env, code)
  return helper.sh(("%s lua5.4 -e %s"):format(env, q(
    "package.cpath = " .. ("%q"):format(helper.build .. "/?.so;") .. " .. package.cpath\n" ..
    "package.path = " .. ("%q"):format(helper.build .. "/?.lua;") .. " .. package.path\n" .. code)))
end

return fake
