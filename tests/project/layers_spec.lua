-- SPDX-License-Identifier: MIT
-- The layers of runtime/ hold: from the symbols of the built objects (nm),
-- no C file's calls climb a layer (device and loop below the bindings, the
-- bindings below the host) and no files call each other in a cycle.
local helper = require "tests.helper"

describe("runtime layers", function()
  it("have no call that climbs a layer and no cycle of calls between files", function()
    local status, out, err = helper.sh("lua5.4 tests/project/callgraph.lua " .. helper.q(helper.build))
    assert.equal(0, status, out .. err)
    assert.matches("0 problems", out .. err)
  end)
end)
