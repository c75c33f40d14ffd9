-- SPDX-License-Identifier: MIT
-- Driver of fuzz_struct: rpmsg.struct decoding of arbitrary bytes, against a
-- fixed set of layouts that covers every type. The first byte of the input
-- picks the layout, the second how to decode (below 128: decode; above:
-- unpack from a position, valid or not); the rest is the message.
--
-- Promises checked: decode returns a table or nil and a message (it never
-- raises on data); a decoded table is a valid encode input; encoding it gives
-- the same bytes back (for layouts with no lossy field: char[N] drops what
-- follows its NUL, pad[N] its content, f32 the payload of a signalling NaN),
-- and decoding those gives the same table.
local struct = require "rpmsg.struct"

local L = struct.layout
local LAYOUTS = {
  {exact = true, L("ints", {{"a", "u8"}, {"b", "i8"}, {"c", "u16"}, {"d", "i16"},
    {"e", "u32"}, {"f", "i32"}, {"g", "i64"}, {"h", "u64"}})},
  {exact = true, L("ints_be", {{"c", "u16"}, {"f", "i32"}, {"h", "u64"}}, {endian = ">"})},
  {exact = true, L("arrays", {{"flags", "bool[4]"}, {"ok", "bool"}, {"v", "u16[3]"},
    {"w", "i64[2]"}, {"d", "f64"}, {"u", "u64[2]"}})},
  {exact = false, L("lossy", {{"name", "char[8]"}, {"_", "pad[3]"}, {"t", "f32"}, {"tags", "f32[2]"}})},
  {exact = true, L("strings", {{"s", "str8"}, {"id", "bytes[4]"}, {"t", "str16"}, {"rest", "bytes"}})},
  {exact = false, L("sample", {{"seq", "u32"}, {"temp_mc", "i32"}, {"humidity_cp", "u16"},
    {"status", "u8"}, {"_", "pad[1]"}})},
  {exact = true, L("native", {{"n", "u32"}, {"s", "str8"}, {"b", "bool"}}, {endian = "="})},
  {exact = true, L("empty_rest", {{"body", "bytes"}})},
}

-- Deep equality, where NaN equals NaN.
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then
    if a ~= a and b ~= b then return true end
    return a == b and math.type(a) == math.type(b)
  end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function check_error(who, layout, err)
  if type(err) ~= "string" or not err:find("^struct '" .. layout.name .. "'") then
    error(("%s of %s failed without a message naming the layout: %s"):format(who, layout.name, tostring(err)))
  end
end

-- t decoded from bytes: it must encode, to bytes when the layout is exact.
local function check_round_trip(entry, t, bytes)
  local layout = entry[1]
  local ok, again = pcall(layout.encode, layout, t)
  if not ok then error(("a table decoded by %s does not encode: %s"):format(layout.name, again)) end
  if entry.exact and again ~= bytes then
    error(("%s: decode then encode changed the bytes: %q became %q"):format(layout.name, bytes, again))
  end
  local t2, err = layout:decode(again)
  if not t2 then error(("%s: what encode made does not decode: %s"):format(layout.name, err)) end
  if not same(t, t2) then error(("%s: decode(encode(t)) differs from t"):format(layout.name)) end
end

return function(input)
  if #input < 2 then return end
  local entry = LAYOUTS[input:byte(1) % #LAYOUTS + 1]
  local layout, how, s = entry[1], input:byte(2), input:sub(3)
  if how < 128 then
    local ok, t, err = pcall(layout.decode, layout, s)
    if not ok then error(("decode of %s raised: %s"):format(layout.name, t)) end
    if t == nil then return check_error("decode", layout, err) end
    if type(t) ~= "table" then error("decode returned a " .. type(t)) end
    if layout.size and #s ~= layout.size then
      error(("%s decoded %d bytes; its size is %d"):format(layout.name, #s, layout.size))
    end
    return check_round_trip(entry, t, s)
  end
  -- unpack from a position: in the message, past its end (too short), or
  -- one that is no position at all (below 1, not an integer), which must
  -- raise an error that names it
  local pos
  if how == 255 then pos = 1.5
  elseif how >= 250 then pos = how - 254
  else pos = (how - 128) % (#s + 3) + 1 end
  local ok, t, nextpos = pcall(layout.unpack, layout, s, pos)
  if math.type(pos) ~= "integer" or pos < 1 then
    local want = ("struct '%s': unpack: pos must be"):format(layout.name)
    if ok or not tostring(t):find(want, 1, true) then
      error(("unpack of %s at pos %s: expected an error naming the position, got %s")
        :format(layout.name, tostring(pos), ok and "success" or tostring(t)))
    end
    return
  end
  if not ok then error(("unpack of %s raised: %s"):format(layout.name, t)) end
  if t == nil then return check_error("unpack", layout, nextpos) end
  if math.type(nextpos) ~= "integer" or nextpos < pos or nextpos > #s + 1 then
    error(("unpack of %s returned position %s for a start at %d of %d bytes"):format(layout.name, tostring(nextpos), pos, #s))
  end
  return check_round_trip(entry, t, s:sub(pos, nextpos - 1))
end
