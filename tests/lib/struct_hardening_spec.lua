-- SPDX-License-Identifier: MIT
-- rpmsg.struct found by fuzzing (tests/fuzz/fuzz_struct): unpack's position
-- is checked, so a bad one is an error that names it, never a decode from
-- some other place in the message.
require "tests.helper"
local struct = require "rpmsg.struct"

describe("rpmsg.struct unpack position", function()
  local L = struct.layout("pair", {{"a", "u16"}, {"b", "u8"}})
  local msg = "\1\0\2\3"

  it("decodes from any position in 1..#s+1, and past the end says the message is too short", function()
    assert.same({{a = 1, b = 2}, 4}, {L:unpack(msg, 1)})
    assert.same({{a = 0x200, b = 3}, 5}, {L:unpack(msg, 2)})
    local t, err = L:unpack(msg, 6)
    assert.is_nil(t)
    assert.matches("struct 'pair': message too short: field 'a' (u16) at offset 5 is cut off", err, 1, true)
  end)

  it("refuses a position below 1, which string.unpack would count from the end", function()
    for _, pos in ipairs{0, -1, -3} do
      assert.error_matches(function() L:unpack(msg, pos) end,
        ("struct 'pair': unpack: pos must be an integer from 1 (the first byte), got %d"):format(pos), nil, true)
    end
  end)

  it("refuses a position that is not an integer, naming it", function()
    assert.error_matches(function() L:unpack(msg, 1.5) end,
      "struct 'pair': unpack: pos must be an integer from 1 (the first byte), got 1.5", nil, true)
    assert.error_matches(function() L:unpack(msg, "2") end,
      "struct 'pair': unpack: pos must be an integer from 1 (the first byte), got string", nil, true)
  end)
end)
