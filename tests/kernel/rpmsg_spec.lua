-- SPDX-License-Identifier: MIT
-- The device layer and the host against the real rpmsg_ctrl / rpmsg_char
-- drivers, inside the QEMU guest (tests/kernel/run-in-guest): over the full
-- virtio stack with fake-r5f by default, or the loopback backend. Both echo
-- every message back.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local guest = require "tests.kernel.guest"
local q = helper.q

local SYS = "/sys/class/rpmsg/rpmsg_ctrl0"

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("l")
  f:close()
  return s
end

-- The endpoints under rpmsg_ctrl0 as sysfs shows them.
local function sysfs_endpoints()
  local list = {}
  local p = io.popen("ls " .. SYS .. " 2>/dev/null")
  for entry in p:lines() do
    local n = entry:match("^rpmsg(%d+)$")
    if n then
      local dir = SYS .. "/" .. entry
      list[#list + 1] = {index = tonumber(n), name = read(dir .. "/name"),
        src = tonumber(read(dir .. "/src")), dst = tonumber(read(dir .. "/dst"))}
    end
  end
  p:close()
  return list
end

local function named(name)
  local found = {}
  for _, e in ipairs(sysfs_endpoints()) do
    if e.name == name then found[#found + 1] = e end
  end
  return found
end

local function exists(path) return os.execute("test -e " .. q(path)) == true end

local function wait_for(cond, ms)
  local deadline = rpmsg.now() + (ms or 3000)
  while not cond() do
    if rpmsg.now() > deadline then return false end
    os.execute("sleep 0.02")
  end
  return true
end

local backend_down, backend_up = guest.remote_down, guest.remote_up

describe("kernel: control device", function()
  it("creates an endpoint and finds its /dev/rpmsgN by name with two endpoints alive", function()
    local ctrl = assert(rpmsg.open_ctrl(0))
    local n1 = assert(ctrl:create_endpoint("find-one", 1100, 1101))
    local n2 = assert(ctrl:create_endpoint("find-two", 1102, 1103))
    assert.not_equal(n1, n2)
    assert.same({{index = n1, name = "find-one", src = 1100, dst = 1101}}, named("find-one"))
    assert.same({{index = n2, name = "find-two", src = 1102, dst = 1103}}, named("find-two"))
    local ep = assert(rpmsg.open_endpoint(n2))
    assert.equal("find-two", ep.name)
    assert.equal(0, ep.ctrl)
    ep:close()
    assert.is_true(ctrl:destroy_endpoint("find-one", 1100, 1101))
    assert.is_true(ctrl:destroy_endpoint("find-two", 1102, 1103))
    assert.same({}, named("find-one"))
    assert.same({}, named("find-two"))
    ctrl:close()
  end)

  it("refuses a src already bound, before the kernel makes an undestroyable device", function()
    local ctrl = assert(rpmsg.open_ctrl("/dev/rpmsg_ctrl0"))
    assert(ctrl:create_endpoint("dup-first", 1110, 1111))
    local n, err, code = ctrl:create_endpoint("dup-second", 1110, 1112)
    assert.is_nil(n)
    assert.equal("EADDRINUSE", code)
    assert.matches("src 1110 is already held by our endpoint 'dup%-first' on rpmsg_ctrl0", err)
    assert.same({}, named("dup-second"))
    assert.is_true(ctrl:destroy_endpoint("dup-first", 1110, 1111))
    ctrl:close()
  end)

  it("refuses a src held by another process's endpoint too", function()
    local status = helper.sh(("%s -e %s"):format("lua5.4", q([[
      package.cpath = "build/?.so;" .. package.cpath
      local rpmsg = require "rpmsg"
      local ctrl = assert(rpmsg.open_ctrl(0))
      assert(ctrl:create_endpoint("other-proc", 1120, 1121))
      -- however it exits, rpmsg.so destroys what it created (even at
      -- os.exit): keep the endpoint by dying of SIGKILL
      local pid = io.open("/proc/self/stat"):read("n")
      os.execute("kill -KILL " .. pid)
    ]])))
    assert.equal(137, status)
    assert.equal(1, #named("other-proc"))
    local ctrl = assert(rpmsg.open_ctrl(0))
    local n, err = ctrl:create_endpoint("mine", 1120, 1122)
    assert.is_nil(n)
    assert.matches("src 1120 is already held by endpoint 'other%-proc' %(rpmsg%d+%)", err)
    assert.is_true(ctrl:destroy_endpoint("other-proc", 1120, 1121))
    ctrl:close()
  end)

  it("names the device in the error when it is missing", function()
    local ctrl, err, code = rpmsg.open_ctrl(7)
    assert.is_nil(ctrl)
    assert.matches("open /dev/rpmsg_ctrl7: No such file or directory", err)
    assert.equal("ENOENT", code)
  end)
end)

describe("kernel: endpoint", function()
  local ctrl, ep, n
  before_each(function()
    ctrl = assert(rpmsg.open_ctrl(0))
    n = assert(ctrl:create_endpoint("io", 1200, 1201))
    ep = assert(rpmsg.open_endpoint(n))
  end)
  after_each(function()
    ep:close()
    ctrl:destroy_endpoint("io", 1200, 1201)
    ctrl:close()
  end)

  it("has one opener at a time: a second open fails with a clear error", function()
    local again, err, code = rpmsg.open_endpoint(n)
    assert.is_nil(again)
    assert.equal("EBUSY", code)
    assert.matches("one opener at a time", err)
  end)

  it("keeps message boundaries through the echo", function()
    for _, m in ipairs{"one", "two", "three"} do assert.is_true(ep:send(m)) end
    assert.equal("one", ep:recv(496, 2000))
    assert.equal("two", ep:recv(496, 2000))
    assert.equal("three", ep:recv(496, 2000))
  end)

  it("delivers an empty message as \"\", not as end of file", function()
    assert.is_true(ep:send(""))
    assert.is_true(ep:send("after"))
    assert.equal("", ep:recv(496, 2000))
    assert.equal("after", ep:recv(496, 2000))
  end)

  it("sends 496 bytes and refuses 497 before the syscall", function()
    local big = ("z"):rep(496)
    assert.is_true(ep:send(big))
    assert.equal(big, ep:recv(496, 2000))
    assert.error_matches(function() ep:send(big .. "!") end, "497 bytes, over the 496%-byte limit")
    assert.is_nil((ep:recv(496, 100)))
  end)

  it("times out a recv when nothing comes", function()
    local msg, err, code = ep:recv(496, 50)
    assert.is_nil(msg)
    assert.equal("timeout", err)
    assert.equal("ETIMEDOUT", code)
  end)
end)

-- virtio_rpmsg_bus takes 496 bytes and rpmsg-lua refuses 497 itself, so the
-- kernel's own EMSGSIZE can only be provoked on the loopback backend, whose
-- limit a parameter lowers: it is loaded beside the full stack for this.
describe("kernel: the loopback backend", function()
  it("maps the kernel's own EMSGSIZE to a clear error", function()
    local n = guest.loopback_ctrl()
    local ok, err, code
    local run_ok, run_err = pcall(function()
      local ep = assert(rpmsg.endpoint{ctrl = n, name = "emsgsize", src = 1210, dst = 1211})
      local param = "/sys/module/rpmsg_loopback/parameters/max_payload"
      assert(os.execute("echo 100 > " .. param))
      ok, err, code = ep:send(("m"):rep(200))
      assert(os.execute("echo 496 > " .. param))
      ep:close()
    end)
    guest.loopback_unload()
    assert(run_ok, run_err)
    assert.is_nil(ok)
    assert.equal("EMSGSIZE", code)
    assert.matches("the transport refused a 200%-byte message as too long", err)
  end)
end)

describe("kernel: destroy", function()
  it("fires on_close once, and never issues a second DESTROY", function()
    local ep = assert(rpmsg.endpoint{name = "destroy-once", src = 1300, dst = 1301})
    local reasons = {}
    ep.on_close = function(reason) reasons[#reasons + 1] = reason end
    assert.is_true(ep:destroy())
    assert.same({}, named("destroy-once"))
    local ok, err = ep:destroy()   -- would oops a 6.1 kernel if it reached the ioctl
    assert.is_nil(ok)
    assert.matches("not destroying it again", err)
    local msg, e, code = ep:recv(496, 0)
    assert.is_nil(msg)
    assert.equal("EPIPE", code)
    ep:close()
    helper.settle(rpmsg, 20)
    assert.same({"destroyed"}, reasons)
  end)

  it("destroys by info through the fd it already holds", function()
    local ctrl = assert(rpmsg.open_ctrl(0))
    local ep = assert(rpmsg.open_endpoint(assert(ctrl:create_endpoint("by-info", 1310, 1311))))
    assert.is_true(ctrl:destroy_endpoint("by-info", 1310, 1311))
    assert.same({}, named("by-info"))
    local ok, err = ep:destroy()
    assert.is_nil(ok)
    assert.matches("not destroying it again", err)
    ep:close()
    ctrl:close()
  end)
end)

describe("kernel: the remote going away", function()
  it("closes every endpoint with a reason (recover = false), the host keeps running, and a new endpoint works after", function()
    local reasons = {}
    local eps = {}
    for i, src in ipairs{1400, 1402} do
      local ep = assert(rpmsg.endpoint{name = "gone-" .. i, src = src, dst = src + 1, recover = false})
      ep.on_message = function() end
      ep.on_close = function(reason)
        reasons[#reasons + 1] = reason
        if #reasons == 2 then rpmsg.stop() end
      end
      eps[i] = ep
    end
    backend_down()
    helper.run(rpmsg, 3000)
    assert.same({"remote gone", "remote gone"}, reasons)
    for _, ep in ipairs(eps) do
      local ok, err, code = ep:send("anyone?")
      assert.is_nil(ok)
      assert.equal("EPIPE", code)
      assert.matches("remote gone", err)
      local d, derr = ep:destroy()   -- the kernel destroyed it already
      assert.is_nil(d)
      assert.matches("not destroying it again", derr)
      ep:close()
    end
    backend_up()
    local ep = assert(rpmsg.endpoint{name = "back", src = 1400, dst = 1401})
    assert.is_true(ep:send("again"))
    assert.equal("again", ep:recv(496, 2000))
    ep:close()
    assert.same({}, named("back"))
  end)
end)

describe("kernel: a control device whose remote went away", function()
  it("refuses CREATE with a clear error instead of provoking the kernel", function()
    local ctrl = assert(rpmsg.open_ctrl(0))
    backend_down()
    local n, err, code = ctrl:create_endpoint("too-late", 1700, 1701)
    assert.is_nil(n)
    assert.equal("ENODEV", code)
    assert.matches("/dev/rpmsg_ctrl0 is gone %(the remote processor stopped%?%)", err)
    ctrl:close()   -- before the backend returns, or it comes back as rpmsg_ctrl1
    backend_up()
  end)
end)

describe("kernel: rpmsg-lua", function()
  -- echo.lua lets the kernel pick its src: on the full stack the channels
  -- the firmware announced already hold 1024 and 1025.
  it("runs scripts/echo.lua against the echoing remote", function()
    local status, _, err = helper.host({"scripts/echo.lua", "10"}, 60)
    assert.equal(0, status, err)
    assert.matches("all 10 echoes received", err)
    helper.assert_no_handler_error(err)
    assert.same({}, named("echo-client"))
  end)

  it("destroys its endpoints on SIGTERM and exits 0: none is left in sysfs", function()
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      for i = 1, 3 do
        local ep = assert(rpmsg.endpoint{name = "term-" .. i, src = 1500 + i, dst = 1600 + i})
        ep.on_message = function() end
      end
      local ctrl = assert(rpmsg.open_ctrl(0))
      assert(ctrl:create_endpoint("term-low", 1510, 1511))   -- low level, never opened
      print("ready"); io.stdout:flush()
    ]])
    local status, out, err = helper.sh(("%s %s & pid=$!; sleep 1; ls %s > /tmp/during; kill -TERM $pid; wait $pid")
      :format(q(helper.bin), q(app), SYS))
    assert.equal(0, status, err)
    assert.equal("ready\n", out)
    helper.assert_no_handler_error(err)
    local during = io.open("/tmp/during"):read("a")
    assert.equal(4, select(2, during:gsub("rpmsg%d+", "")))
    for _, name in ipairs{"term-1", "term-2", "term-3", "term-low"} do
      assert.same({}, named(name))
    end
  end)
end)
