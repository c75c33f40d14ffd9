-- SPDX-License-Identifier: MIT
-- rpmsg.struct: a layout declared once encodes and decodes messages byte for
-- byte like the firmware's packed C struct, and every mistake names the field.
require "tests.helper"
require "rpmsg"
local struct = require "rpmsg.struct"

describe("rpmsg.struct", function()
  local Sample = struct.layout("sample", {
    {"seq", "u32"},
    {"temp_mc", "i32"},
    {"humidity", "u16"},
    {"status", "u8"},
    {"ok", "bool"},
    {"label", "char[6]"},
    {"_", "pad[2]"},
    {"axes", "i16[3]"},
    {"gain", "f32"},
  })
  local good = {seq = 7, temp_mc = -1250, humidity = 4512, status = 3, ok = true,
    label = "t0", axes = {-1, 0, 1}, gain = 0.5}

  it("encodes the packed little-endian layout a C struct has", function()
    local bytes = Sample:encode(good)
    assert.equal(30, #bytes)
    assert.equal(30, Sample.size)
    assert.equal(string.pack("<I4i4I2I1I1c6xxi2i2i2f", 7, -1250, 4512, 3, 1, "t0\0\0\0\0", -1, 0, 1, 0.5), bytes)
  end)

  it("decodes what it encodes", function()
    assert.same(good, Sample:decode(Sample:encode(good)))
  end)

  it("is big-endian on request", function()
    local L = struct.layout("be", {{"a", "u16"}, {"b", "u32"}}, {endian = ">"})
    assert.equal("\1\2\0\0\0\3", L:encode{a = 0x102, b = 3})
    assert.same({a = 0x102, b = 3}, L:decode("\1\2\0\0\0\3"))
  end)

  it("has variable-length strings and a trailing bytes field", function()
    local L = struct.layout("cmd", {{"op", "u8"}, {"name", "str8"}, {"data", "bytes"}})
    assert.is_nil(L.size)
    local bytes = L:encode{op = 2, name = "led", data = "\0\1\2"}
    assert.equal("\2\3led\0\1\2", bytes)
    assert.same({op = 2, name = "led", data = "\0\1\2"}, L:decode(bytes))
    assert.same({op = 2, name = "", data = ""}, L:decode("\2\0"))
  end)

  it("reads a char[N] up to its first NUL, and takes bytes[N] as they are", function()
    local L = struct.layout("names", {{"c", "char[4]"}, {"b", "bytes[4]"}})
    assert.same({c = "ab", b = "a\0b\0"}, L:decode("ab\0x" .. "a\0b\0"))
  end)

  describe("encode raises, naming the field and what it expected", function()
    local function encode_error(changes)
      local t = {}
      for k, v in pairs(good) do t[k] = v end
      for k, v in pairs(changes) do if v == "nil" then t[k] = nil else t[k] = v end end
      local ok, err = pcall(Sample.encode, Sample, t)
      assert.is_false(ok)
      return err
    end

    it("for an integer out of range", function()
      assert.matches("struct 'sample': field 'humidity': expected an integer in 0..65535, got 70000",
        encode_error{humidity = 70000}, 1, true)
      assert.matches("field 'temp_mc': expected an integer in -2147483648..2147483647, got 2147483648",
        encode_error{temp_mc = 2147483648}, 1, true)
      assert.matches("field 'status': expected an integer in 0..255, got -1", encode_error{status = -1}, 1, true)
    end)

    it("for a value of the wrong type", function()
      assert.matches("field 'seq': expected an integer in 0..4294967295, got 1.5", encode_error{seq = 1.5}, 1, true)
      assert.matches("field 'seq': expected an integer in 0..4294967295, got string", encode_error{seq = "1"}, 1, true)
      assert.matches("field 'ok': expected a boolean, got number", encode_error{ok = 1}, 1, true)
      assert.matches("field 'gain': expected a number, got boolean", encode_error{gain = true}, 1, true)
      assert.matches("field 'label': expected a string, got number", encode_error{label = 5}, 1, true)
    end)

    it("for a missing field, and for a misspelt one", function()
      assert.matches("field 'status': missing (u8)", encode_error{status = "nil"}, 1, true)
      assert.matches("struct 'sample': unknown field 'stauts'", encode_error{stauts = 1}, 1, true)
    end)

    it("for a string too long and an array of the wrong length or content", function()
      assert.matches("field 'label': 7 bytes do not fit char[6]", encode_error{label = "toolong"}, 1, true)
      assert.matches("field 'axes': expected 3 values, got 2", encode_error{axes = {1, 2}}, 1, true)
      assert.matches("field 'axes[2]': expected an integer in -32768..32767, got 40000",
        encode_error{axes = {1, 40000, 3}}, 1, true)
    end)

    it("at the line of the caller", function()
      local ok, err = pcall(function() Sample:encode{} end)
      assert.is_false(ok)
      assert.matches("struct_spec.lua:%d+: struct 'sample'", err)
    end)

    it("unless strict = false, which ignores keys that are not fields", function()
      local L = struct.layout("loose", {{"a", "u8"}}, {strict = false})
      assert.equal("\5", L:encode{a = 5, note = "mine"})
    end)
  end)

  describe("decode returns nil and an error naming the field", function()
    it("for a message cut short", function()
      local bytes = Sample:encode(good)
      local t, err = Sample:decode(bytes:sub(1, 9))
      assert.is_nil(t)
      assert.equal("struct 'sample': message too short: field 'humidity' (u16) at offset 8 is cut off (message is 9 bytes)", err)
    end)

    it("for bytes left over after the layout", function()
      local t, err = Sample:decode(Sample:encode(good) .. "xx")
      assert.is_nil(t)
      assert.equal("struct 'sample': 2 unexpected bytes after the last field (message is 32 bytes, layout takes 30)", err)
    end)

    it("for a boolean that is neither 0 nor 1", function()
      local L = struct.layout("flag", {{"on", "bool"}})
      local t, err = L:decode("\2")
      assert.is_nil(t)
      assert.equal("struct 'flag': field 'on': 2 is not a boolean (0 or 1)", err)
    end)

    it("unpack leaves trailing bytes to the caller and says where they start", function()
      local L = struct.layout("head", {{"kind", "u8"}, {"len", "u16"}})
      local t, nextpos = L:unpack("\1\3\0abc")
      assert.same({kind = 1, len = 3}, t)
      assert.equal(4, nextpos)
      assert.same({{kind = 2, len = 0}, 7}, {L:unpack("xxx\2\0\0", 4)})
    end)
  end)

  describe("a bad declaration raises at once", function()
    it("naming an unknown type and listing the known ones", function()
      assert.error_matches(function() struct.layout("x", {{"a", "u8"}, {"b", "u24"}}) end,
        "struct.layout 'x': field 2 ('b'): unknown type 'u24' (known: u8 i8", nil, true)
    end)
    it("for a duplicate name, and a field after the trailing bytes", function()
      assert.error_matches(function() struct.layout("x", {{"a", "u8"}, {"a", "u16"}}) end,
        "struct.layout 'x': field 2: duplicate field name 'a'", nil, true)
      assert.error_matches(function() struct.layout("x", {{"a", "bytes"}, {"b", "u8"}}) end,
        "field 2 ('b'): comes after 'a', a 'bytes' field that takes the rest", nil, true)
    end)
    it("for a field that is not {name, type}", function()
      assert.error_matches(function() struct.layout("x", {"a u8"}) end,
        "struct.layout 'x': field 1: expected {name, type}", nil, true)
    end)
  end)
end)
