-- SPDX-License-Identifier: MIT
-- Announced channels against a prepared sysfs tree (RPMSG_SYSFS_ROOT and
-- RPMSG_DEV_ROOT move /sys and /dev): rpmsg.list().channels, and
-- rpmsg.endpoint{service = ...} choosing the channel's node, binding it
-- through driver_override, and naming what was announced when it fails.
-- The real drivers: tests/kernel/services_spec.lua.
local helper = require "tests.helper"
local q = helper.q

local fake = require "tests.fake_sysfs"
local write, read, link = fake.write, fake.read, fake.link

local root

-- remoteproc0 "r5f0" whose virtio0 carries the bus's own rpmsg_ns and
-- rpmsg_ctrl (with rpmsg_ctrl0) and two announced channels: rpmsg-raw,
-- bound to rpmsg_chrdev with /dev/rpmsg3, and fw-echo with no driver.
local function prepare(opts)
  root = fake.root()
  local sys = root .. "/sys"
  local rproc = fake.remoteproc(root, "r5f", 0, {name = "r5f0"})
  local virtio = rproc .. "/remoteproc0#vdev0buffer/virtio0"
  local function channel(bus, name, src, dst)
    write(virtio .. "/" .. bus .. "/name", name .. "\n")
    write(virtio .. "/" .. bus .. "/src", src .. "\n")
    write(virtio .. "/" .. bus .. "/dst", dst .. "\n")
    write(virtio .. "/" .. bus .. "/driver_override", "(null)\n")
    link(virtio .. "/" .. bus, sys .. "/bus/rpmsg/devices/" .. bus)
    return virtio .. "/" .. bus
  end
  channel("virtio0.rpmsg_ns.53.53", "rpmsg_ns", "0x35", "0x35")
  if not opts.no_ctrl then
    local ctrl = channel("virtio0.rpmsg_ctrl.0.0", "rpmsg_ctrl", "0x0", "0x0")
    assert(os.execute("mkdir -p " .. q(ctrl .. "/rpmsg/rpmsg_ctrl0")))
    link(ctrl .. "/rpmsg/rpmsg_ctrl0", sys .. "/class/rpmsg/rpmsg_ctrl0")
  end
  local raw = channel("virtio0.rpmsg-raw.-1.40", "rpmsg-raw", "0x400", "0x28")
  assert(os.execute("mkdir -p " .. q(raw .. "/rpmsg/rpmsg3") .. " " .. q(sys .. "/bus/rpmsg/drivers/rpmsg_chrdev")))
  link(sys .. "/bus/rpmsg/drivers/rpmsg_chrdev", raw .. "/driver")
  write(sys .. "/bus/rpmsg/drivers/rpmsg_chrdev/bind", "")
  channel("virtio0.fw-echo.-1.42", "fw-echo", "0xffffffff", "0x2a")
  write(root .. "/dev/rpmsg3", "not a device\n")
  return sys, virtio
end

-- Runs Lua code in a stock lua5.4 with rpmsg.so and the prepared roots.
local function lua(code)
  return fake.lua(fake.env(root, "sys", "dev"), code)
end

describe("rpmsg.list().channels", function()
  after_each(function() fake.remove(root) end)

  it("lists every announced channel with its addresses, remoteproc, control device, driver and node", function()
    prepare{}
    local status, out = lua([[
      local rpmsg = require "rpmsg"
      for _, c in ipairs(rpmsg.list().channels) do
        print(c.name, c.src, c.dst, c.bus, c.remoteproc, c.ctrl, c.driver, c.dev)
      end
    ]])
    assert.equal(0, status)
    assert.equal(table.concat({
      "fw-echo\t4294967295\t42\tvirtio0.fw-echo.-1.42\tr5f0\t0\tnil\tnil",
      "rpmsg-raw\t1024\t40\tvirtio0.rpmsg-raw.-1.40\tr5f0\t0\trpmsg_chrdev\t" .. root .. "/dev/rpmsg3",
    }, "\n") .. "\n", out)
  end)

  it("is empty where there is no rpmsg bus", function()
    prepare{}
    os.execute("rm -rf " .. q(root .. "/sys/bus"))
    local status, out = lua([[print(#require("rpmsg").list().channels)]])
    assert.equal(0, status)
    assert.equal("0\n", out)
  end)
end)

describe("rpmsg.endpoint{service = ...} on a prepared tree", function()
  after_each(function() fake.remove(root) end)

  it("opens the node the kernel made for the channel", function()
    prepare{}
    local status, out = lua([[print(require("rpmsg").endpoint{service = "rpmsg-raw"})]])
    assert.equal(0, status)
    -- the node is a regular file here: refused, which shows it was the one tried
    assert.matches("nil\t" .. root:gsub("%p", "%%%0") .. "/dev/rpmsg3 is a regular file, not an rpmsg endpoint device", out)
  end)

  it("fails naming what was announced when the name is wrong", function()
    prepare{}
    local status, out = lua([[print(require("rpmsg").endpoint{service = "fw-ecko"})]])
    assert.equal(0, status)
    assert.equal("nil\tservice 'fw-ecko' is not announced (announced: 'fw-echo' on r5f0, "
      .. "'rpmsg-raw' on r5f0); to wait for it, declare it inside rpmsg.spawn\tENOENT\n", out)
  end)

  it("looks only at the remoteproc or control device it is given", function()
    prepare{}
    local status, out = lua([[
      local rpmsg = require "rpmsg"
      print(select(2, rpmsg.endpoint{service = "rpmsg-raw", remoteproc = "m4"}))
      print(select(2, rpmsg.endpoint{service = "rpmsg-raw", ctrl = 1}))
      print(select(2, rpmsg.endpoint{service = "rpmsg-raw", remoteproc = "r5f0"}))
    ]])
    assert.equal(0, status)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.matches("^service 'rpmsg%-raw' on m4 is not announced", lines[1])
    assert.matches("^service 'rpmsg%-raw' is not announced", lines[2])
    assert.matches("rpmsg3 is a regular file", lines[3])
  end)

  it("binds a channel to rpmsg_chrdev through driver_override when asked, and says so", function()
    local sys, virtio = prepare{}
    local status, out, err = lua([[print(require("rpmsg").endpoint{service = "fw-echo", bind = true})]])
    assert.equal(0, status)
    assert.equal("rpmsg_chrdev", read(virtio .. "/virtio0.fw-echo.-1.42/driver_override"))
    assert.equal("virtio0.fw-echo.-1.42", read(sys .. "/bus/rpmsg/drivers/rpmsg_chrdev/bind"))
    assert.matches("bound channel 'fw%-echo' %(virtio0%.fw%-echo%.%-1%.42%) to rpmsg_chrdev through driver_override", err)
    -- no node appeared in this tree: it goes on through the control device
    assert.matches("rpmsg_ctrl0", out)
  end)

  it("binds it unasked when no control device reaches the channel", function()
    local sys = prepare{no_ctrl = true}
    local status, out, err = lua([[print(require("rpmsg").endpoint{service = "fw-echo"})]])
    assert.equal(0, status)
    assert.equal("virtio0.fw-echo.-1.42", read(sys .. "/bus/rpmsg/drivers/rpmsg_chrdev/bind"))
    assert.matches("through driver_override", err)
    assert.matches("has no device and no control device reaches it", out)
  end)

  it("refuses a negative timeout, and a plain endpoint ignores the field as before", function()
    prepare{}
    local status, out = lua([[
      local rpmsg = require "rpmsg"
      print(pcall(rpmsg.endpoint, {service = "fw-echo", timeout = -1}))
      print(select(2, rpmsg.endpoint{ctrl = 7, name = "x", dst = 1, timeout = "soon"}))
    ]])
    assert.equal(0, status)
    assert.matches("^false\t[^\n]*timeout must not be negative", out)
    assert.matches("\n[^\n]*rpmsg_ctrl7", out)
  end)

  it("refuses a dst: the announcement gives it", function()
    prepare{}
    local status, _, err = lua([[require("rpmsg").endpoint{service = "fw-echo", dst = 42}]])
    assert.is_not.equal(0, status)
    assert.matches("takes its dst from the announcement", err)
  end)
end)
