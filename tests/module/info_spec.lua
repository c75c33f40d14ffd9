-- SPDX-License-Identifier: MIT
-- The endpoint_info codec: 40 bytes in the kernel's layout, with the checks
-- the kernel does not make (it silently cuts names to 31 bytes).
local helper = require "tests.helper"
local rpmsg = require "rpmsg"

describe("encode_info", function()
  it("lays out name[32], src u32, dst u32 in host byte order, 40 bytes", function()
    local bytes = rpmsg.encode_info{name = "my-ep", src = 1024, dst = 0xDEADBEEF}
    assert.equal(40, #bytes)
    assert.equal(string.pack("c32I4I4", "my-ep" .. ("\0"):rep(27), 1024, 0xDEADBEEF), bytes)
  end)

  it("accepts a 31-byte name and refuses a 32-byte one", function()
    local bytes = rpmsg.encode_info{name = ("n"):rep(31), src = 1, dst = 2}
    assert.equal(("n"):rep(31) .. "\0", bytes:sub(1, 32))
    assert.error_matches(function()
      rpmsg.encode_info{name = ("n"):rep(32), src = 1, dst = 2}
    end, "32 bytes, over the 31%-byte limit")
  end)

  it("refuses a name with an embedded NUL", function()
    assert.error_matches(function()
      rpmsg.encode_info{name = "a\0b", src = 1, dst = 2}
    end, "NUL")
  end)

  it("accepts addresses 0 and ADDR_ANY and refuses those outside 0..0xFFFFFFFF", function()
    local info = rpmsg.decode_info(rpmsg.encode_info{name = "x", src = 0, dst = rpmsg.ADDR_ANY})
    assert.same({name = "x", src = 0, dst = 0xFFFFFFFF}, info)
    assert.error_matches(function() rpmsg.encode_info{name = "x", src = -1, dst = 1} end,
      "src address %-1 is outside")
    assert.error_matches(function() rpmsg.encode_info{name = "x", src = 1, dst = 0x100000000} end,
      "dst address 4294967296 is outside")
  end)

  it("names the field with the wrong type", function()
    assert.error_matches(function() rpmsg.encode_info{name = "x", src = "1", dst = 1} end,
      "field 'src' must be an integer address, got string")
    assert.error_matches(function() rpmsg.encode_info{name = 5, src = 1, dst = 1} end,
      "field 'name' must be a string")
    assert.error_matches(function() rpmsg.encode_info{name = "x", src = 1.5, dst = 1} end,
      "field 'src' must be an integer address, got a fraction")
  end)
end)

describe("decode_info", function()
  it("reads back what encode_info wrote", function()
    local info = {name = "rpmsg-client-sample", src = 0x400, dst = 0x35}
    assert.same(info, rpmsg.decode_info(rpmsg.encode_info(info)))
  end)

  it("reads a struct the kernel laid out", function()
    local raw = string.pack("c32I4I4", "ti.ipc4.ping-pong" .. ("\0"):rep(15), 13, 14)
    assert.same({name = "ti.ipc4.ping-pong", src = 13, dst = 14}, rpmsg.decode_info(raw))
  end)

  it("refuses a wrong size and a name without NUL", function()
    assert.error_matches(function() rpmsg.decode_info("short") end, "must be 40 bytes, got 5")
    assert.error_matches(function() rpmsg.decode_info(("x"):rep(32) .. ("\0"):rep(8)) end,
      "not NUL%-terminated")
  end)
end)

describe("constants", function()
  it("match the kernel's", function()
    assert.equal(496, rpmsg.MAX_MESSAGE_SIZE)
    assert.equal(0xFFFFFFFF, rpmsg.ADDR_ANY)
  end)
end)
