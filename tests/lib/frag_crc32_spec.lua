-- SPDX-License-Identifier: MIT
-- frag.crc32 (and rpmsg.crc32, the same C function): CRC-32 as zlib's
-- crc32() computes it, on the standard check vectors, continued across
-- calls, and with bad arguments refused by name.
require "tests.helper"
local rpmsg = require "rpmsg"
local frag = require "rpmsg.frag"

local function bytes(from, to)
  local t = {}
  for i = from, to do t[#t + 1] = string.char(i) end
  return table.concat(t)
end

describe("frag.crc32", function()
  it("is the module's C function, not a Lua loop", function()
    assert.equal(rpmsg.crc32, frag.crc32)
    assert.equal("C", debug.getinfo(frag.crc32, "S").what)
  end)

  it("matches the known CRC-32 vectors (zlib, IEEE 802.3)", function()
    local vectors = {
      { "", 0x00000000 },
      { "a", 0xE8B7BE43 },
      { "abc", 0x352441C2 },
      { "123456789", 0xCBF43926 },
      { "The quick brown fox jumps over the lazy dog", 0x414FA339 },
      { bytes(0, 255), 0x29058C73 },
      { string.rep("\0", 496), 0x2BC892BA },
      { "\xff\xff\xff\xff", 0xFFFFFFFF },
    }
    for _, v in ipairs(vectors) do
      assert.equal(v[2], frag.crc32(v[1]), ("crc32 of %d bytes"):format(#v[1]))
    end
  end)

  it("continues from a previous CRC, as zlib's crc32(crc, buf, len)", function()
    local whole = bytes(0, 255) .. "123456789"
    for cut = 0, #whole, 37 do
      assert.equal(frag.crc32(whole), frag.crc32(whole:sub(cut + 1), frag.crc32(whole:sub(1, cut))))
    end
  end)

  it("keeps embedded zero bytes and returns a 32-bit unsigned integer", function()
    local c = frag.crc32("\0\0\0\0")
    assert.equal(0x2144DF1C, c)
    assert.equal("integer", math.type(c))
  end)

  it("refuses a non-string and a CRC outside 32 bits, naming the argument", function()
    assert.has_error(function() frag.crc32({}) end)
    local ok, err = pcall(frag.crc32, "x", -1)
    assert.is_false(ok)
    assert.matches("bad argument #2.*CRC out of range", err)
    ok, err = pcall(frag.crc32, "x", 0x100000000)
    assert.is_false(ok)
    assert.matches("CRC out of range", err)
  end)
end)
