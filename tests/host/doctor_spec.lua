-- SPDX-License-Identifier: MIT
-- rpmsg-lua doctor against a prepared tree (RPMSG_SYSFS_ROOT, RPMSG_DEV_ROOT
-- and RPMSG_DEBUGFS_ROOT move /sys, /dev and debugfs): verdicts, what to
-- do, the trace tail, the exit status. The real drivers:
-- tests/kernel/services_spec.lua.
local helper = require "tests.helper"
local q = helper.q

local fake = require "tests.fake_sysfs"
local write, link = fake.write, fake.link

local root

-- remoteproc0 "r5f0" in `state`, with rpmsg_ctrl0 under it when running,
-- the modules rpmsg_core and rpmsg_char loaded, a trace0 in debugfs.
local function prepare(state)
  root = fake.root()
  local sys = root .. "/sys"
  local rproc = fake.remoteproc(root, "r5f", 0, {name = "r5f0", state = state, firmware = "r5f-fw.elf"})
  write(sys .. "/module/rpmsg_core/initstate", "live\n")
  write(sys .. "/module/rpmsg_char/initstate", "live\n")
  if state == "running" then
    local ctrl = rproc .. "/remoteproc0#vdev0buffer/virtio0/virtio0.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrl0"
    assert(os.execute("mkdir -p " .. q(ctrl)))
    link(ctrl, sys .. "/class/rpmsg/rpmsg_ctrl0")
    write(root .. "/dev/rpmsg_ctrl0", "")
  end
  local lines = {}
  for i = 1, 14 do lines[i] = "fw line " .. i end
  write(root .. "/debug/remoteproc/remoteproc0/trace0", table.concat(lines, "\n") .. "\n")
end

local function doctor(args)
  return helper.sh(("%s %s doctor %s"):format(fake.env(root, "sys", "dev", "debug"), q(helper.bin), args or ""))
end

describe("rpmsg-lua doctor", function()
  after_each(function() fake.remove(root) end)

  it("exits 0 when a remote is up and reachable, each check with its verdict", function()
    prepare("running")
    local status, out, err = doctor()
    assert.equal(0, status, err)
    assert.matches("^ok    module rpmsg_core%s+loaded\n", out)
    assert.matches("\nwarn  module rpmsg_tty%s+not loaded: [^\n]*\n%s+%-> modprobe rpmsg_tty", out)
    assert.matches("\nok    remoteproc r5f0%s+remoteproc0: running, firmware r5f%-fw%.elf, rpmsg_ctrl0\n", out)
    assert.matches("\nok    control device rpmsg_ctrl0%s+[^\n]*/dev/rpmsg_ctrl0: read%-write for ", out)
    assert.matches("\nwarn  channels%s+the remote announced nothing\n", out)
    -- the last 10 lines of trace0
    assert.matches("\nok    trace of r5f0%s+[^\n]*trace0\n%s+| fw line 5\n", out)
    assert.matches("| fw line 14\n", out)
    assert.not_matches("fw line 4\n", out)
    assert.matches("\nverdict: a remote is up and reachable\n$", out)
  end)

  it("exits 1 with what to do when the remote is offline", function()
    prepare("offline")
    local status, out = doctor()
    assert.equal(1, status)
    assert.matches("\nFAIL  remoteproc r5f0%s+remoteproc0: offline, firmware r5f%-fw%.elf\n%s+%-> echo start > /sys/class/remoteproc/remoteproc0/state", out)
    assert.matches("\nFAIL  control devices%s+no /dev/rpmsg_ctrlN\n", out)
    assert.matches("\nverdict: no remote is reachable", out)
  end)

  it("says how to un-crash a crashed core", function()
    prepare("crashed")
    local status, out = doctor()
    assert.equal(1, status)
    assert.matches("%-> echo stop > /sys/class/remoteproc/remoteproc0/state, then start it", out)
  end)

  it("gives JSON with --json, and refuses other arguments", function()
    prepare("running")
    local status, out = doctor("--json")
    assert.equal(0, status)
    assert.matches('^{"checks":%[{"check":"module rpmsg_core","detail":"loaded","verdict":"ok"},', out)
    assert.matches('"reachable":true', out)
    local err
    status, _, err = doctor("--yaml")
    assert.equal(2, status)
    assert.matches("usage: rpmsg%-lua doctor %[%-%-json%]", err)
  end)
end)
