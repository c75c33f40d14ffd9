-- SPDX-License-Identifier: MIT
-- rpmsg.list() asks the runtime's backend: under --sim it lists the
-- simulation, not the machine the host runs on.
local helper = require "tests.helper"

describe("rpmsg.list() under --sim", function()
  it("lists the simulated control device and endpoints, and no remoteproc", function()
    local fw = helper.script("")
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      local l = rpmsg.list()
      print(#l.ctrls, l.ctrls[1].index, l.ctrls[1].dev)
      local e = l.endpoints[1]
      print(#l.endpoints, e.name, e.src, e.dst, e.ctrl, e.dev == ep.path)
      print(#l.remoteprocs)
      rpmsg.stop()
    ]])
    local status, out, err = helper.host({"--sim", fw, app})
    assert.equal(0, status, err)
    assert.equal("1\t0\tsim:rpmsg_ctrl0\n1\tapp\t1024\t1025\t0\ttrue\n0\n", out)
    helper.assert_no_handler_error(err)
  end)
end)
