-- SPDX-License-Identifier: MIT
-- What only the rpmsg-lua host gives the module: in a stock lua5.4 it is
-- there by name and says what it needs, never a bare "attempt to call nil".
require "tests.helper"   -- puts the build on package.cpath
local rpmsg = require "rpmsg"

describe("rpmsg.reload in a stock lua5.4", function()
  it("raises an error that names the host it needs", function()
    assert.is_function(rpmsg.reload)
    assert.error_matches(function() rpmsg.reload() end,
      "^rpmsg: reload%(%) needs the rpmsg%-lua host$")
  end)
end)
