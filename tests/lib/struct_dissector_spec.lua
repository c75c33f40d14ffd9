-- SPDX-License-Identifier: MIT
-- struct.dissector and runtime/dist/rpmsg-wireshark.lua, run against a
-- stand-in for Wireshark's Lua API that records what each dissector adds
-- to the tree: which field, over which bytes. (tshark, when installed,
-- reads the same sources; the stand-in checks the offsets and lengths.)
require "tests.helper"
require "rpmsg"
local struct = require "rpmsg.struct"

-- The parts of Wireshark's API the dissectors use.
local function wireshark()
  local ws = {tables = {}, items = {}}
  local env = setmetatable({}, {__index = _G})
  env.base = {DEC = "DEC", HEX = "HEX"}
  env.ftypes = {UINT32 = "UINT32"}
  env.wtap = {USER0 = 45}
  env.Proto = function(name, desc) return {name = name, desc = desc} end
  env.ProtoField = setmetatable({}, {__index = function(_, kind)
    return function(abbr, name) return {kind = kind, abbr = abbr, name = name} end
  end})
  local function dtable(name)
    ws.tables[name] = ws.tables[name] or {}
    local t = ws.tables[name]
    return {
      add = function(_, key, proto) t[key] = proto end,
      get_dissector = function(_, key)
        local p = t[key]
        return p and {call = function(_, tvb, pinfo, tree) return p.dissector(tvb, pinfo, tree) end}
      end,
    }
  end
  env.DissectorTable = {new = function(name) return dtable(name) end, get = dtable}
  ws.env = env
  return ws
end

-- A tvb over bytes s starting at offset base (a range's tvb()).
local function tvb(s, base)
  base = base or 0
  local t = {}
  local range_mt = {__index = {
    le_uint = function(r) return (string.unpack("<I" .. r.len, s, base + r.off + 1)) end,
    uint = function(r) return (string.unpack(">I" .. r.len, s, base + r.off + 1)) end,
    tvb = function(r) return tvb(s, base + r.off) end,
  }}
  return setmetatable(t, {
    __call = function(_, off, len)
      off = off or 0
      len = len or (#s - base - off)
      assert(off + len <= #s - base, ("range %d+%d past the end (%d bytes)"):format(off, len, #s - base))
      return setmetatable({off = base + off - base, len = len, abs = base + off}, range_mt)
    end,
    __index = {len = function() return #s - base end},
  })
end

-- A tree that records every item: {field abbr or label, absolute offset, length, le}.
local function tree(items)
  local node = {}
  local function add(le)
    return function(_, a, b)
      local field, range = a, b
      if type(a) == "table" and a.off then field, range = b, a end   -- add(range, label)
      items[#items + 1] = {type(field) == "table" and (field.abbr or field.name) or field,
        range and range.abs, range and range.len, le}
      return node
    end
  end
  node.add, node.add_le = add(false), add(true)
  return node
end

local function load_source(ws, source, name)
  return assert(load(source, name, "t", ws.env))()
end

describe("struct.dissector", function()
  local Sample = struct.layout("sample", {
    {"seq", "u32"}, {"temp", "i16"}, {"v", "u16[3]"}, {"gap", "pad[2]"}, {"label", "char[8]"},
    {"note", "str8"}, {"rest", "bytes"},
  })

  it("makes a dissector whose fields cover the layout's bytes, in order", function()
    local ws = wireshark()
    local proto = load_source(ws, struct.dissector(Sample, {addr = 1025}), "=sample")
    assert.equal("rpmsg_sample", proto.name)
    assert.equal(proto, ws.tables["rpmsg.addr"][1025])
    local msg = Sample:encode{seq = 7, temp = -3, v = {1, 2, 3}, label = "ab", note = "hey", rest = "tail"}
    local items, pinfo = {}, {cols = {}}
    local used = proto.dissector(tvb(msg), pinfo, tree(items))
    assert.equal(#msg, used)
    assert.equal("sample", pinfo.cols.protocol)
    assert.same({
      {"rpmsg_sample", 0, #msg, false},
      {"rpmsg_sample.seq", 0, 4, true},
      {"rpmsg_sample.temp", 4, 2, true},
      {"v[3]", 6, 6, false},
      {"rpmsg_sample.v", 6, 2, true}, {"rpmsg_sample.v", 8, 2, true}, {"rpmsg_sample.v", 10, 2, true},
      {"rpmsg_sample.label", 14, 8, false},           -- after pad[2]
      {"rpmsg_sample.note", 23, 3, false},            -- str8: its length byte, then 3 bytes
      {"rpmsg_sample.rest", 26, 4, false},
    }, items)
    local kinds = {}
    for _, f in ipairs(proto.fields) do kinds[f.abbr] = f.kind end
    assert.same({["rpmsg_sample.seq"] = "uint32", ["rpmsg_sample.temp"] = "int16",
      ["rpmsg_sample.v"] = "uint16", ["rpmsg_sample.label"] = "string", ["rpmsg_sample.note"] = "string",
      ["rpmsg_sample.rest"] = "bytes"}, kinds)
  end)

  it("reads big-endian layouts with add, not add_le", function()
    local ws = wireshark()
    local Be = struct.layout("be", {{"n", "u16"}, {"s", "str16"}}, {endian = ">"})
    local proto = load_source(ws, struct.dissector(Be, {name = "my_be"}), "=be")
    assert.equal("my_be", proto.name)
    local items = {}
    proto.dissector(tvb(Be:encode{n = 1, s = "xyz"}), {cols = {}}, tree(items))
    assert.same({{"my_be", 0, 7, false}, {"my_be.n", 0, 2, false}, {"my_be.s", 4, 3, false}}, items)
  end)

  it("refuses what is not a layout, a bad name or a bad address", function()
    assert.error_matches(function() struct.dissector({}) end, "expected a layout")
    assert.error_matches(function() struct.dissector(Sample, {name = "a-b"}) end, "letters, digits")
    assert.error_matches(function() struct.dissector(Sample, {addr = -1}) end, "RPMsg address")
  end)
end)

describe("runtime/dist/rpmsg-wireshark.lua", function()
  local f = assert(io.open("runtime/dist/rpmsg-wireshark.lua"))
  local source = f:read("a")
  f:close()

  local function packet(src, dst, payload)
    return string.pack("<I4I4I4I2I2", src, dst, 0, #payload, 0) .. payload
  end

  it("registers for DLT_USER0 and shows the header fields", function()
    local ws = wireshark()
    load_source(ws, source, "=rpmsg-wireshark")
    local rpmsg = ws.tables.wtap_encap[45]
    assert.equal("rpmsg", rpmsg.name)
    local items, pinfo = {}, {cols = {}}
    local msg = packet(1024, 1025, "hello")
    assert.equal(#msg, rpmsg.dissector(tvb(msg), pinfo, tree(items)))
    assert.same({
      {"rpmsg", 0, 16, false}, {"rpmsg.src", 0, 4, true}, {"rpmsg.dst", 4, 4, true},
      {"rpmsg.reserved", 8, 4, true}, {"rpmsg.len", 12, 2, true}, {"rpmsg.flags", 14, 2, true},
      {"rpmsg.payload", 16, 5, false},
    }, items)
    assert.equal("1024 -> 1025  len=5", pinfo.cols.info)
    assert.equal("RPMsg", pinfo.cols.protocol)
  end)

  it("hands the payload to a struct.dissector registered on either address", function()
    local ws = wireshark()
    load_source(ws, source, "=rpmsg-wireshark")
    local L = struct.layout("pair", {{"a", "u8"}, {"b", "u8"}})
    load_source(ws, struct.dissector(L, {addr = 1025}), "=pair")
    for _, addrs in ipairs{{1024, 1025}, {1025, 1024}} do
      local items = {}
      ws.tables.wtap_encap[45].dissector(tvb(packet(addrs[1], addrs[2], "\1\2")), {cols = {}}, tree(items))
      assert.same({"rpmsg_pair.a", 16, 1, true}, items[#items - 1])
      assert.same({"rpmsg_pair.b", 17, 1, true}, items[#items])
    end
  end)
end)
