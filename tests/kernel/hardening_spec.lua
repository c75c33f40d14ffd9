-- SPDX-License-Identifier: MIT
-- Endpoint hardening against the real rpmsg_ctrl / rpmsg_char drivers,
-- inside the QEMU guest (tests/kernel/run-in-guest): queued sends at close
-- (on the loopback backend, whose tx_full and sent parameters make a full
-- transmit ring at will and count what was sent; it is loaded beside the
-- full stack for them), and what may be opened or adopted as an endpoint.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local guest = require "tests.kernel.guest"
local q = helper.q

local PARAMS = "/sys/module/rpmsg_loopback/parameters/"

local function param(name, value)
  if value ~= nil then
    assert(os.execute(("echo %s > %s"):format(value, PARAMS .. name)))
    return
  end
  local f = assert(io.open(PARAMS .. name))
  local s = f:read("l")
  f:close()
  return tonumber(s) or s
end

-- The loopback's count of messages it accepted for sending.
local function sent() return param("sent") end

describe("kernel: queued sends when an endpoint closes", function()
  local lctrl                                   -- the loopback's rpmsg_ctrlN
  before_each(function() lctrl = guest.loopback_ctrl() end)
  after_each(function()
    param("tx_full", 0)
    guest.loopback_unload()
  end)

  it("flushes the queue at ep:close() once transmit buffers are free again", function()
    local ep = assert(rpmsg.endpoint{ctrl = lctrl, name = "flush-all", src = 1900, dst = 1901})
    ep.on_close = function() end                -- a loop endpoint: sends queue
    param("tx_full", 1)
    for i = 1, 5 do assert.is_true(ep:send("queued " .. i)) end
    local before = sent()
    param("tx_full", 0)
    assert.is_true(ep:close())                  -- the last flush sent all five
    assert.equal(before + 5, sent())
  end)

  it("reports at ep:close() what the kernel would not take, with count and name", function()
    local ep = assert(rpmsg.endpoint{ctrl = lctrl, name = "flush-none", src = 1910, dst = 1911})
    ep.on_close = function() end
    param("tx_full", 1)
    for i = 1, 3 do assert.is_true(ep:send("stuck " .. i)) end
    local before = sent()
    local ok, err, code = ep:close()
    assert.is_nil(ok)
    assert.equal("EAGAIN", code)
    assert.matches("^endpoint 'flush%-none' closed with 3 queued messages unsent: ", err)
    assert.equal(before, sent())
    assert.is_true(ep.closed)
  end)

  it("reports them at exit too", function()
    local app = helper.script(([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{ctrl = %d, name = "flush-exit", src = 1920, dst = 1921})
      ep.on_close = function() end
      for i = 1, 4 do assert(ep:send("stuck " .. i)) end
      rpmsg.after(20, rpmsg.stop)
    ]]):format(lctrl))
    param("tx_full", 1)
    local status, _, err = helper.host({app})
    assert.equal(0, status, err)
    assert.matches("endpoint 'flush%-exit': 4 queued messages unsent", err)
    assert.matches("destroyed endpoint 'flush%-exit' %(/dev/rpmsg%d+%)", err)
  end)
end)

describe("kernel: what may become an endpoint", function()
  local ctrl, n
  before_each(function()
    ctrl = assert(rpmsg.open_ctrl(0))
    n = assert(ctrl:create_endpoint("class-check", 1950, 1951))
  end)
  after_each(function()
    ctrl:destroy_endpoint("class-check", 1950, 1951)
    ctrl:close()
  end)

  it("opens an rpmsg endpoint device, found in class rpmsg in sysfs", function()
    local ep = assert(rpmsg.open_endpoint(n))
    assert.is_true(ep:send("through the class check"))
    assert.equal("through the class check", ep:recv(496, 2000))
    ep:close()
  end)

  it("refuses the control device, another device and a regular file, saying what each is", function()
    local ep, err, code = rpmsg.open_endpoint("/dev/rpmsg_ctrl0")
    assert.is_nil(ep)
    assert.equal("EINVAL", code)
    assert.matches("^/dev/rpmsg_ctrl0 is rpmsg_ctrl0, an rpmsg control device, not an endpoint device", err)
    ep, err = rpmsg.open_endpoint("/dev/null")
    assert.is_nil(ep)
    assert.equal("/dev/null is a character device of class 'mem' (null), not an rpmsg endpoint device", err)
    local file = os.tmpname()
    ep, err = rpmsg.endpoint{dev = file}
    os.remove(file)
    assert.is_nil(ep)
    assert.equal(file .. " is a regular file, not an rpmsg endpoint device", err)
  end)

  it("adopts an inherited fd on /dev/rpmsgN once, and refuses one on another device", function()
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{fd = 5})
      print(ep:send("adopted"), ep:recv(496, 2000))
      print(rpmsg.endpoint{fd = 5})
      ep:close()
    ]])
    local status, out, err = helper.sh(("%s %s 5<>/dev/rpmsg%d"):format(q(helper.bin), q(app), n))
    assert.equal(0, status, err)
    assert.equal("true\tadopted\nnil\tfd 5 already belongs to endpoint 'fd 5': an fd makes one endpoint\tEBUSY\n", out)
    status, _, err = helper.sh(("%s %s 5<>/dev/rpmsg_ctrl0"):format(q(helper.bin), q(app)))
    assert.equal(1, status)
    assert.matches("fd 5 is rpmsg_ctrl0, an rpmsg control device, not an endpoint device", err)
  end)
end)
