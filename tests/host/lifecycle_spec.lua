-- SPDX-License-Identifier: MIT
-- remoteproc from Lua and rpmsg.list(), against a prepared sysfs tree
-- (RPMSG_SYSFS_ROOT and RPMSG_DEV_ROOT move /sys and /dev).
local helper = require "tests.helper"
local q = helper.q

local fake = require "tests.fake_sysfs"
local write = fake.write
local function read(path) return assert(fake.read(path)) end

local root

-- A board with remoteproc0 "r5f0" (running, its rpmsg_ctrl0 under it, one
-- endpoint) and remoteproc1 "m4" (offline).
local function prepare()
  root = fake.root()
  local sys = root .. "/sys"
  local dev = fake.remoteproc(root, "r5f", 0,
    {name = "r5f0", state = "running", firmware = "am64-main-r5f0_0-fw", recovery = "enabled"})
  local ctrl = dev .. "/remoteproc0#vdev0buffer/virtio0/virtio0.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrl0"
  write(ctrl .. "/dev", "243:0\n")
  write(ctrl .. "/rpmsg3/name", "sensor\n")
  write(ctrl .. "/rpmsg3/src", "1024\n")
  write(ctrl .. "/rpmsg3/dst", "-1\n")
  local m4 = fake.remoteproc(root, "m4", 1, {name = "m4", state = "offline", firmware = "m4.elf", recovery = "disabled"})
  fake.link(ctrl, sys .. "/class/rpmsg/rpmsg_ctrl0")
  return sys, dev, m4
end

-- Runs Lua code in a stock lua5.4 with rpmsg.so and the prepared roots.
local function lua(code)
  return fake.lua(fake.env(root, "sys") .. " RPMSG_DEV_ROOT=/dev/fake", code)
end

describe("rpmsg.remoteproc", function()
  local sys, r5f, m4
  before_each(function() sys, r5f, m4 = prepare() end)
  after_each(function() fake.remove(root) end)

  it("finds a remoteproc by name or index and reads its state", function()
    local status, out = lua([[
      local rpmsg = require "rpmsg"
      local r = assert(rpmsg.remoteproc("r5f0"))
      local m = assert(rpmsg.remoteproc(1))
      print(r.name, r.index, r:state(), r:firmware(), r:recovery(), m.name, m:state())
    ]])
    assert.equal(0, status)
    assert.equal("r5f0\t0\trunning\tam64-main-r5f0_0-fw\tenabled\tm4\toffline\n", out)
  end)

  it("starts and stops by writing to state, and changes the firmware", function()
    local status = lua([[
      local rpmsg = require "rpmsg"
      local m = assert(rpmsg.remoteproc("m4"))
      assert(m:firmware("new.elf"))
      assert(m:start())
    ]])
    assert.equal(0, status)
    assert.equal("start", read(m4 .. "/state"))
    assert.equal("new.elf", read(m4 .. "/firmware"))
    lua("assert(require('rpmsg').remoteproc('r5f0'):stop())")
    assert.equal("stop", read(r5f .. "/state"))
  end)

  it("finds the control device under a remoteproc", function()
    local status, out = lua([[
      local rpmsg = require "rpmsg"
      print(rpmsg.remoteproc("r5f0"):ctrl())
      print(rpmsg.remoteproc("m4"):ctrl())
    ]])
    assert.equal(0, status)
    assert.equal("0\nnil\tremoteproc 'm4' has no rpmsg_ctrl device (is it running?)\tENODEV\n", out)
  end)

  it("names the remoteproc and the sysfs file in its errors", function()
    os.execute("chmod 000 " .. q(m4 .. "/recovery"))
    local status, out = lua([[
      local rpmsg = require "rpmsg"
      print(rpmsg.remoteproc("dsp7"))
      print(rpmsg.remoteproc(9))
      os.remove(os.getenv("RPMSG_SYSFS_ROOT") .. "/class/remoteproc/remoteproc1/firmware")
      print(rpmsg.remoteproc("m4"):firmware())
    ]])
    assert.equal(0, status)
    assert.matches("^nil\tno remoteproc named 'dsp7' under .*/sys/class/remoteproc\tENOENT\n", out)
    assert.matches("\nnil\tno remoteproc9 %(.*/remoteproc9/name unreadable%)\tENOENT\n", out)
    assert.matches("\nnil\tremoteproc 'm4': read .*/remoteproc1/firmware: No such file or directory\tENOENT\n$", out)
    assert.error_matches(function() require("rpmsg").remoteproc({}) end, "remoteproc name or index expected")
  end)

  it("is what endpoint{remoteproc = ...} resolves its control device through", function()
    local status, out = lua([[
      local rpmsg = require "rpmsg"
      print(rpmsg.endpoint{remoteproc = "m4", name = "x", src = 1024, dst = 1025})
      print(rpmsg.endpoint{remoteproc = "r5f0", name = "x", src = 1024, dst = 1025})
    ]])
    assert.equal(0, status)
    assert.matches("^nil\tremoteproc 'm4' has no rpmsg_ctrl device %(is it running%?%)\tENODEV\n", out)
    -- r5f0 has rpmsg_ctrl0, which the fake /dev does not have
    assert.matches("\nnil\topen /dev/fake/rpmsg_ctrl0: No such file or directory", out)
  end)
end)

describe("rpmsg-lua list", function()
  before_each(prepare)
  after_each(function() fake.remove(root) end)

  it("shows control devices, endpoints and remoteprocs as a table and as JSON", function()
    local env = fake.env(root, "sys") .. " RPMSG_DEV_ROOT=/dev "
    local status, out = helper.sh(env .. q(helper.bin) .. " list")
    assert.equal(0, status)
    assert.matches("sensor%s+1024%s+ANY%s+/dev/rpmsg3%s+rpmsg_ctrl0", out)
    assert.matches("r5f0%s+running%s+am64%-main%-r5f0_0%-fw%s+rpmsg_ctrl0", out)
    assert.matches("m4%s+offline%s+m4%.elf%s+%-", out)
    status, out = helper.sh(env .. q(helper.bin) .. " list --json")
    assert.equal(0, status)
    assert.equal('{"channels":[],"ctrls":[{"dev":"/dev/rpmsg_ctrl0","index":0}],' ..
      '"endpoints":[{"ctrl":0,"dev":"/dev/rpmsg3","dst":4294967295,"name":"sensor","src":1024}],' ..
      '"remoteprocs":[{"ctrl":0,"firmware":"am64-main-r5f0_0-fw","index":0,"name":"r5f0","state":"running"},' ..
      '{"firmware":"m4.elf","index":1,"name":"m4","state":"offline"}]}\n', out)
  end)

  it("refuses an unknown option", function()
    local status, _, err = helper.host({"list", "--yaml"})
    assert.equal(2, status)
    assert.matches("usage: rpmsg%-lua list %[%-%-json%]", err)
  end)
end)
