-- SPDX-License-Identifier: MIT
-- rpmsg.struct: declare a binary message layout once, then encode and decode
-- it. A thin layer over string.pack: the layout is checked when declared,
-- encode raises naming the field and what it expected (a bug in our code),
-- decode returns nil and a message naming the field (bad data from the
-- remote must not kill a handler).
--
--   local struct = require "rpmsg.struct"
--   local Sample = struct.layout("sample", {
--     {"seq", "u32"}, {"temp_mc", "i32"}, {"status", "u8"}, {"label", "char[8]"},
--   })
--   local bytes = Sample:encode{seq = 1, temp_mc = -500, status = 1, label = "t0"}
--   local t, err = Sample:decode(bytes)
--
-- Layouts are packed (no implicit padding, like __attribute__((packed))) and
-- little-endian unless {endian = ">"} is given: spell padding out with pad[N].
local M = {}

-- Scalar types: string.pack code, and the range an integer must be in.
local SCALARS = {
  u8  = {code = "I1", min = 0, max = 0xFF},
  i8  = {code = "i1", min = -0x80, max = 0x7F},
  u16 = {code = "I2", min = 0, max = 0xFFFF},
  i16 = {code = "i2", min = -0x8000, max = 0x7FFF},
  u32 = {code = "I4", min = 0, max = 0xFFFFFFFF},
  i32 = {code = "i4", min = -0x80000000, max = 0x7FFFFFFF},
  -- Lua integers are signed 64-bit: u64 holds 0..2^63-1 here.
  u64 = {code = "I8", min = 0, max = math.maxinteger},
  i64 = {code = "i8", min = math.mininteger, max = math.maxinteger},
  f32 = {code = "f", float = true},
  f64 = {code = "d", float = true},
  bool = {code = "I1", bool = true},
}
local TYPE_NAMES = "u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 bool, T[N] of those, " ..
  "char[N], bytes[N], pad[N], str8, str16, bytes (last field: the rest)"

-- Checks one scalar value; returns an error text or nil.
local function check_scalar(s, v)
  if s.bool then
    if type(v) ~= "boolean" then return ("expected a boolean, got %s"):format(type(v)) end
  elseif s.float then
    if type(v) ~= "number" then return ("expected a number, got %s"):format(type(v)) end
  else
    local i = type(v) == "number" and math.tointeger(v)   -- not "1": a string is a bug
    if not i or i < s.min or i > s.max then
      local got = type(v) == "number" and tostring(v) or type(v)
      return ("expected an integer in %d..%d, got %s"):format(s.min, s.max, got)
    end
  end
end

-- Turns a decoded scalar into its Lua value, or returns nil and an error.
local function post_scalar(s, v)
  if s.bool then
    if v > 1 then return nil, ("%d is not a boolean (0 or 1)"):format(v) end
    return v == 1
  end
  if s.code == "I8" and v < 0 then
    return nil, "value does not fit a Lua integer (over 2^63-1)"
  end
  return v
end

-- Parses a type string into a field description.
local function parse_type(t)
  local s = SCALARS[t]
  if s then return {kind = "scalar", scalar = s, code = s.code} end
  if t == "str8" then return {kind = "string", code = "s1", max = 0xFF} end
  if t == "str16" then return {kind = "string", code = "s2", max = 0xFFFF} end
  if t == "bytes" then return {kind = "rest"} end
  local base, n = t:match("^(%w+)%[(%d+)%]$")
  n = tonumber(n)
  if not base or n < 1 then return nil end
  if base == "char" then return {kind = "char", n = n, code = "c" .. n} end
  if base == "bytes" then return {kind = "bytes", n = n, code = "c" .. n} end
  if base == "pad" then return {kind = "pad", n = n, code = ("x"):rep(n)} end
  s = SCALARS[base]
  if s then return {kind = "array", scalar = s, n = n, code = s.code:rep(n)} end
end

local Layout = {}
Layout.__index = Layout

-- struct.layout(name, fields [, opts]): fields is a list of {name, type};
-- opts.endian is "<" (little, the default), ">" (big) or "=" (native);
-- opts.strict = false lets encode ignore keys that are not fields.
function M.layout(name, fields, opts)
  if type(name) ~= "string" then error("struct.layout: name must be a string", 2) end
  if type(fields) ~= "table" then error(("struct.layout '%s': fields must be a list"):format(name), 2) end
  opts = opts or {}
  local endian = opts.endian or "<"
  if endian ~= "<" and endian ~= ">" and endian ~= "=" then
    error(("struct.layout '%s': endian must be \"<\", \">\" or \"=\""):format(name), 2)
  end
  -- strict (the default): encode refuses keys that are not fields, which
  -- catches a misspelt field name that would otherwise be "missing".
  local self = setmetatable({name = name, fields = {}, names = {}, known = {},
    strict = opts.strict ~= false}, Layout)
  local codes, fixed, seen = {endian}, true, {}
  for i, f in ipairs(fields) do
    local where = ("struct.layout '%s': field %d"):format(name, i)
    if type(f) ~= "table" or type(f[1]) ~= "string" or type(f[2]) ~= "string" then
      error(where .. ": expected {name, type}", 2)
    end
    local fname, ftype = f[1], f[2]
    local d = parse_type(ftype)
    if not d then error(("%s ('%s'): unknown type '%s' (known: %s)"):format(where, fname, ftype, TYPE_NAMES), 2) end
    if d.kind ~= "pad" then
      if seen[fname] then error(("%s: duplicate field name '%s'"):format(where, fname), 2) end
      seen[fname] = true
      self.names[#self.names + 1] = fname
      self.known[fname] = true
    end
    if self.rest then error(("%s ('%s'): comes after '%s', a 'bytes' field that takes the rest"):format(where, fname, self.rest.name), 2) end
    d.name, d.type = fname, ftype
    if d.kind == "rest" then
      self.rest = d
    else
      codes[#codes + 1] = d.code
      if d.kind == "string" then fixed = false end
    end
    self.fields[#self.fields + 1] = d
  end
  self.format = table.concat(codes)
  self.min_size = string.packsize((self.format:gsub("s[12]", function(c) return "I" .. c:sub(2) end)))
  self.size = (fixed and not self.rest) and self.min_size or nil
  return self
end

-- Validates t and flattens it into values for string.pack; raises naming
-- the field.
function Layout:encode(t)
  if type(t) ~= "table" then
    error(("struct '%s': encode expects a table, got %s"):format(self.name, type(t)), 2)
  end
  local values, n = {}, 0
  local function fail(field, msg) error(("struct '%s': field '%s': %s"):format(self.name, field, msg), 3) end
  for _, d in ipairs(self.fields) do
    local v = t[d.name]
    if d.kind == "pad" then
      -- nothing: "x" writes zero bytes
    elseif v == nil then
      fail(d.name, ("missing (%s)"):format(d.type))
    elseif d.kind == "scalar" then
      local err = check_scalar(d.scalar, v)
      if err then fail(d.name, err) end
      n = n + 1
      values[n] = d.scalar.bool and (v and 1 or 0) or v
    elseif d.kind == "array" then
      if type(v) ~= "table" then fail(d.name, ("expected a table of %d values, got %s"):format(d.n, type(v))) end
      if #v ~= d.n then fail(d.name, ("expected %d values, got %d"):format(d.n, #v)) end
      for i = 1, d.n do
        local err = check_scalar(d.scalar, v[i])
        if err then fail(("%s[%d]"):format(d.name, i), err) end
        n = n + 1
        values[n] = d.scalar.bool and (v[i] and 1 or 0) or v[i]
      end
    else   -- char, bytes, string, rest
      if type(v) ~= "string" then fail(d.name, ("expected a string, got %s"):format(type(v))) end
      if d.kind == "char" then
        if #v > d.n then fail(d.name, ("%d bytes do not fit char[%d]"):format(#v, d.n)) end
        v = v .. ("\0"):rep(d.n - #v)
      elseif d.kind == "bytes" and #v ~= d.n then
        fail(d.name, ("expected exactly %d bytes, got %d"):format(d.n, #v))
      elseif d.kind == "string" and #v > d.max then
        fail(d.name, ("%d bytes are over the %s limit of %d"):format(#v, d.type, d.max))
      end
      if d.kind ~= "rest" then
        n = n + 1
        values[n] = v
      end
    end
  end
  if self.strict then
    for k in pairs(t) do
      if not self.known[k] then
        error(("struct '%s': unknown field '%s'"):format(self.name, tostring(k)), 2)
      end
    end
  end
  local bytes = string.pack(self.format, table.unpack(values, 1, n))
  if self.rest then bytes = bytes .. t[self.rest.name] end
  return bytes
end

-- Finds which field a failed string.unpack tripped on, for the message.
local function locate_short(self, s, pos)
  local endian = self.format:sub(1, 1)
  for _, d in ipairs(self.fields) do
    if d.kind == "rest" then break end
    local ok, _, nextpos = pcall(string.unpack, endian .. d.code, s, pos)
    if not ok then
      return ("struct '%s': message too short: field '%s' (%s) at offset %d is cut off (message is %d bytes)")
        :format(self.name, d.name, d.type, pos - 1, #s)
    end
    pos = nextpos
  end
  return ("struct '%s': message too short (%d bytes)"):format(self.name, #s)
end

-- Decodes from position pos (default 1); returns the table and the position
-- after it, or nil and an error. Bytes after the layout are left for the caller.
function Layout:unpack(s, pos)
  if type(s) ~= "string" then
    error(("struct '%s': decode expects a string, got %s"):format(self.name, type(s)), 2)
  end
  pos = pos or 1
  -- A position from 1 (past the end: the message is too short). string.unpack
  -- would count a negative one from the end and decode from the wrong place.
  if math.type(pos) ~= "integer" or pos < 1 then
    error(("struct '%s': unpack: pos must be an integer from 1 (the first byte), got %s")
      :format(self.name, type(pos) == "number" and tostring(pos) or type(pos)), 2)
  end
  local raw = table.pack(pcall(string.unpack, self.format, s, pos))
  if not raw[1] then return nil, locate_short(self, s, pos) end
  local t, i = {}, 2
  for _, d in ipairs(self.fields) do
    local err
    if d.kind == "scalar" then
      t[d.name], err = post_scalar(d.scalar, raw[i])
      i = i + 1
    elseif d.kind == "array" then
      local a = {}
      for k = 1, d.n do
        a[k], err = post_scalar(d.scalar, raw[i])
        i = i + 1
        if err then err = ("[%d] %s"):format(k, err); break end
      end
      t[d.name] = a
    elseif d.kind == "char" then
      t[d.name] = raw[i]:match("^[^\0]*")   -- a C string: up to the first NUL
      i = i + 1
    elseif d.kind == "bytes" or d.kind == "string" then
      t[d.name] = raw[i]
      i = i + 1
    elseif d.kind == "rest" then
      t[d.name] = s:sub(raw[raw.n])
      raw[raw.n] = #s + 1
    end
    if err then return nil, ("struct '%s': field '%s': %s"):format(self.name, d.name, err) end
  end
  return t, raw[raw.n]
end

-- Decodes a whole message: bytes left over are an error too (a layout
-- mismatch between the two sides shows at once, not as odd values).
function Layout:decode(s)
  local t, nextpos = self:unpack(s)
  if not t then return nil, nextpos end
  if nextpos <= #s then
    return nil, ("struct '%s': %d unexpected bytes after the last field (message is %d bytes, layout takes %d)")
      :format(self.name, #s - nextpos + 1, #s, nextpos - 1)
  end
  return t
end

-- struct.dissector(layout [, opts]): the source of a Wireshark Lua
-- dissector for messages of this layout, to save beside
-- runtime/dist/rpmsg-wireshark.lua: each field shown by name with its
-- value. opts.addr: the RPMsg address whose messages (to or from it) it
-- dissects (else register it yourself: it returns the Proto as `proto`);
-- opts.name: the protocol's short name (default "rpmsg_" .. layout name).
local WS_TYPES = {
  u8 = {"uint8", 1}, u16 = {"uint16", 2}, u32 = {"uint32", 4}, u64 = {"uint64", 8},
  i8 = {"int8", 1}, i16 = {"int16", 2}, i32 = {"int32", 4}, i64 = {"int64", 8},
  f32 = {"float", 4}, f64 = {"double", 8}, bool = {"uint8", 1},
}

function M.dissector(layout, opts)
  if getmetatable(layout) ~= Layout then error("struct.dissector: expected a layout from struct.layout", 2) end
  opts = opts or {}
  local short = opts.name or ("rpmsg_" .. layout.name:gsub("[^%w_]", "_"))
  if not short:match("^[%a_][%w_]*$") then
    error(("struct.dissector: name '%s' must be letters, digits and _"):format(short), 2)
  end
  if opts.addr ~= nil and (math.type(opts.addr) ~= "integer" or opts.addr < 0 or opts.addr > 0xFFFFFFFF) then
    error("struct.dissector: addr must be an RPMsg address (0..2^32-1)", 2)
  end
  local add = layout.format:sub(1, 1) == ">" and "add" or "add_le"
  local out, fields, body = {}, {}, {}
  local function line(t, fmt, ...) t[#t + 1] = fmt:format(...) end
  line(out, "-- Generated by rpmsg.struct.dissector from layout '%s'.", layout.name)
  line(out, "local proto = Proto(%q, %q)", short, "RPMsg " .. layout.name)
  line(out, "local f = {}")
  for i, d in ipairs(layout.fields) do
    local abbr = short .. "." .. d.name
    local ws = (d.kind == "scalar" or d.kind == "array") and WS_TYPES[d.type:match("^%w+")]
    if ws then
      line(fields, "f[%d] = ProtoField.%s(%q, %q)", i, ws[1], abbr, d.name)
    elseif d.kind == "char" or d.kind == "string" then
      line(fields, "f[%d] = ProtoField.string(%q, %q)", i, abbr, d.name)
    elseif d.kind ~= "pad" then
      line(fields, "f[%d] = ProtoField.bytes(%q, %q)", i, abbr, d.name)
    end
    if d.kind == "scalar" then
      line(body, "  t:%s(f[%d], tvb(off, %d)); off = off + %d", add, i, ws[2], ws[2])
    elseif d.kind == "array" then
      line(body, "  do local a = t:add(tvb(off, %d), %q)", ws[2] * d.n, d.name .. "[" .. d.n .. "]")
      line(body, "    for _ = 1, %d do a:%s(f[%d], tvb(off, %d)); off = off + %d end end", d.n, add, i, ws[2], ws[2])
    elseif d.kind == "char" or d.kind == "bytes" then
      line(body, "  t:add(f[%d], tvb(off, %d)); off = off + %d", i, d.n, d.n)
    elseif d.kind == "pad" then
      line(body, "  off = off + %d", d.n)
    elseif d.kind == "string" then
      local w = d.code == "s1" and 1 or 2
      line(body, "  do local n = tvb(off, %d):%suint(); t:add(f[%d], tvb(off + %d, n)); off = off + %d + n end",
        w, add == "add" and "" or "le_", i, w, w)
    else   -- rest
      line(body, "  if off < tvb:len() then t:add(f[%d], tvb(off)) end; off = tvb:len()", i)
    end
  end
  for _, l in ipairs(fields) do out[#out + 1] = l end
  line(out, "local list = {}")
  line(out, "for _, field in pairs(f) do list[#list + 1] = field end")
  line(out, "proto.fields = list")
  line(out, "function proto.dissector(tvb, pinfo, tree)")
  line(out, "  pinfo.cols.protocol = %q", layout.name)
  line(out, "  local t = tree:add(proto, tvb())")
  line(out, "  local off = 0")
  for _, l in ipairs(body) do out[#out + 1] = l end
  line(out, "  return off")
  line(out, "end")
  if opts.addr then line(out, "DissectorTable.get(\"rpmsg.addr\"):add(%d, proto)", opts.addr) end
  line(out, "return proto")
  return table.concat(out, "\n") .. "\n"
end

return M
