-- SPDX-License-Identifier: MIT
-- runtime/dist/60-rpmsg-lua.rules against the real devices, inside the QEMU
-- guest (full stack): `udevadm test` (the host's udevadm, seen through the
-- guest's chroot) runs the rule on each device and applies what it decides
-- to the guest's own /dev: group rpmsg, mode 0660, and the stable links
-- /dev/rpmsg/fake-r5f/NAME. Only our rule is read: udev's rule folders are
-- covered with tmpfs, and /etc/group with a copy that has the group rpmsg
-- (all in the guest, whose / is the host's, read-only).
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local guest = require "tests.kernel.guest"
local q = helper.q

local RULE = "runtime/dist/60-rpmsg-lua.rules"
local GID = 4242

local function sh(cmd)
  local status, out, err = helper.sh(cmd)
  return status, out .. err
end

if guest.skip_unless_virtio("kernel: udev rule") then return end
if sh("command -v udevadm") ~= 0 then
  describe("kernel: udev rule", function() pending("needs udevadm (Debian package udev)") end)
  return
end

-- Our rule alone, and a group rpmsg, for this guest's udevadm.
local function setup_udev()
  local status, out = sh(table.concat({
    "set -e",
    "for d in /run /etc/udev/rules.d /usr/lib/udev/rules.d; do mount -t tmpfs tmpfs $d; done",
    "mkdir -p /run/udev/rules.d",
    "cp " .. q(RULE) .. " /run/udev/rules.d/",
    "cp /etc/group /tmp/group.rpmsg",
    ("echo 'rpmsg:x:%d:' >> /tmp/group.rpmsg"):format(GID),
    "mount --bind /tmp/group.rpmsg /etc/group",
  }, "\n"))
  assert(status == 0, out)
end

-- Puts the guest's / back as the specs after this one expect it.
local function teardown_udev()
  sh("umount /etc/group; for d in /usr/lib/udev/rules.d /etc/udev/rules.d /run; do umount $d; done")
end

-- udevadm test on a device; returns its output (udev's log and the result).
local function udev_test(syspath)
  local status, out = sh("udevadm test --action=add " .. q(syspath) .. " 2>&1")
  assert(status == 0, out)
  assert.not_matches("60%-rpmsg%-lua%.rules:%d+ [^\n]*[Ii]nvalid", out)
  assert.not_matches("Unknown group", out)
  return out
end

local function stat(path)
  local _, out = sh("stat -c '%a %g' " .. q(path))
  return out:match("^(%d+) (%d+)")
end

local function link(path)
  local _, out = sh("readlink -f " .. q(path))
  return out:match("^([^\n]*)")
end

describe("kernel: udev rule", function()
  setup(setup_udev)
  teardown(teardown_udev)

  it("gives the control device to group rpmsg, mode 0660, as /dev/rpmsg/REMOTEPROC/rpmsg_ctrl", function()
    local ctrl = "rpmsg_ctrl" .. assert(guest.ctrl_under("/remoteproc0/"))
    local out = udev_test("/sys/class/rpmsg/" .. ctrl)
    assert.matches("LINK 'rpmsg/" .. guest.rproc:gsub("%-", "%%-") .. "/rpmsg_ctrl'", out)
    local mode, gid = stat("/dev/" .. ctrl)
    assert.equal("660", mode)
    assert.equal(tostring(GID), gid)
    assert.equal("/dev/" .. ctrl, link("/dev/rpmsg/" .. guest.rproc .. "/rpmsg_ctrl"))
  end)

  it("links an endpoint by its name: an announced channel's and one we create", function()
    -- rpmsg-raw: rpmsg_char's device for the announced channel
    local raw = assert(guest.channel_dev("rpmsg-raw"))
    udev_test("/sys/class/rpmsg/" .. raw:match("[^/]+$"))
    assert.equal(raw, link("/dev/rpmsg/" .. guest.rproc .. "/rpmsg-raw"))
    assert.equal("660", (stat(raw)))
    -- one of ours, through the control device
    local ctrl = assert(rpmsg.open_ctrl(assert(guest.ctrl_under("/remoteproc0/"))))
    local n = assert(ctrl:create_endpoint("udev-probe", 3000, 40))
    local ok, err = pcall(function()
      udev_test("/sys/class/rpmsg/rpmsg" .. n)
      local mode, gid = stat("/dev/rpmsg" .. n)
      assert.equal("660", mode)
      assert.equal(tostring(GID), gid)
      assert.equal("/dev/rpmsg" .. n, link("/dev/rpmsg/" .. guest.rproc .. "/udev-probe"))
    end)
    ctrl:destroy_endpoint("udev-probe", 3000, 40)
    ctrl:close()
    assert(ok, err)
  end)

  it("gives /dev/ttyRPMSG0 to group rpmsg, mode 0660", function()
    udev_test("/sys/class/tty/ttyRPMSG0")
    local mode, gid = stat("/dev/ttyRPMSG0")
    assert.equal("660", mode)
    assert.equal(tostring(GID), gid)
  end)

  it("lets group rpmsg drive the remoteproc: its RUN commands work on the real sysfs", function()
    local rdir = "/sys/class/remoteproc/remoteproc0"
    local out = udev_test(rdir)
    local runs = {}
    -- the commands as udevd would run them, %p expanded
    for cmd in out:gmatch("\nrun: '([^']+)'") do runs[#runs + 1] = cmd end
    assert.equal(2, #runs, out)
    for _, cmd in ipairs(runs) do
      local status, res = sh(cmd)
      assert.equal(0, status, cmd .. ": " .. res)
    end
    for _, attr in ipairs{"state", "firmware", "recovery", "coredump"} do
      local mode, gid = stat(rdir .. "/" .. attr)
      assert.equal(tostring(GID), gid, attr)
      assert.matches("^6[67]", mode, attr)
    end
  end)
end)
