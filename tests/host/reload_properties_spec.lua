-- SPDX-License-Identifier: MIT
-- Reading an endpoint during a reload: the loading script sees the
-- endpoint's properties as they are, and its own staged fields, not the
-- running generation's; after the commit the staged fields are the live
-- ones.
local helper = require "tests.helper"

describe("an endpoint read while a reload loads", function()
  it("gives its properties, and the loading script's own fields", function()
    local fw = helper.script([[
      local rpmsg = require "rpmsg"
      local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
      ep.on_message = function() end
    ]])
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      local s = rpmsg.state
      s.gens = (s.gens or 0) + 1
      local ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
      s.first = s.first or ep
      print(("gen %d loading: same=%s name=%s src=%s dst=%s fd=%s closed=%s tag=%s"):format(
        s.gens, tostring(s.first == ep), ep.name, ep.src, ep.dst, math.type(ep.fd),
        tostring(ep.closed), tostring(ep.tag)))
      ep.tag = "v" .. s.gens
      print(("gen %d wrote: tag=%s"):format(s.gens, ep.tag))
      if s.gens == 1 then
        rpmsg.after(10, rpmsg.reload)
      else
        rpmsg.after(10, function() print(("gen 2 running: tag=%s"):format(ep.tag)); rpmsg.stop() end)
      end
    ]])
    local status, out, err = helper.host({"--sim", fw, app}, 20)
    assert.equal(0, status, err)
    assert.equal(table.concat({
      "gen 1 loading: same=true name=app src=1024 dst=1025 fd=integer closed=false tag=nil",
      "gen 1 wrote: tag=v1",
      "gen 2 loading: same=true name=app src=1024 dst=1025 fd=integer closed=false tag=nil",
      "gen 2 wrote: tag=v2",
      "gen 2 running: tag=v2",
      "",
    }, "\n"), out)
    helper.assert_no_handler_error(err)
  end)
end)
