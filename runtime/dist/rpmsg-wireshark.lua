-- SPDX-License-Identifier: MIT
-- A Wireshark dissector for the pcapng files of `rpmsg-lua --trace-pcap`.
-- Copy it to ~/.local/lib/wireshark/plugins/ (or pass
-- `-X lua_script:rpmsg-wireshark.lua` to tshark/wireshark).
--
-- Each packet is a message of one endpoint (one interface per endpoint,
-- link type DLT_USER0 = 147): the 16-byte header virtio_rpmsg_bus puts on
-- the wire, little-endian (src u32, dst u32, reserved u32, len u16, flags
-- u16), then the payload. Its direction is in the packet's epb_flags
-- (inbound: from the remote). Payload dissectors made by
-- struct.dissector(layout, {addr = N}) register under "rpmsg.addr" and are
-- tried on the destination address, then the source.
local rpmsg = Proto("rpmsg", "RPMsg")

local f = {
  src = ProtoField.uint32("rpmsg.src", "Source address", base.DEC),
  dst = ProtoField.uint32("rpmsg.dst", "Destination address", base.DEC),
  reserved = ProtoField.uint32("rpmsg.reserved", "Reserved", base.HEX),
  len = ProtoField.uint16("rpmsg.len", "Payload length", base.DEC),
  flags = ProtoField.uint16("rpmsg.flags", "Flags", base.HEX),
  payload = ProtoField.bytes("rpmsg.payload", "Payload"),
}
rpmsg.fields = {f.src, f.dst, f.reserved, f.len, f.flags, f.payload}

local by_addr = DissectorTable.new("rpmsg.addr", "RPMsg address", ftypes.UINT32, base.DEC, rpmsg)

local HEADER = 16
local ANY = 0xFFFFFFFF

local function addr(v) return v == ANY and "any" or tostring(v) end

function rpmsg.dissector(tvb, pinfo, tree)
  if tvb:len() < HEADER then return 0 end
  pinfo.cols.protocol = "RPMsg"
  local src, dst = tvb(0, 4):le_uint(), tvb(4, 4):le_uint()
  local len = tvb(12, 2):le_uint()
  local t = tree:add(rpmsg, tvb(0, HEADER), ("RPMsg %s -> %s, %d bytes"):format(addr(src), addr(dst), len))
  t:add_le(f.src, tvb(0, 4))
  t:add_le(f.dst, tvb(4, 4))
  t:add_le(f.reserved, tvb(8, 4))
  t:add_le(f.len, tvb(12, 2))
  t:add_le(f.flags, tvb(14, 2))
  pinfo.cols.src = addr(src)
  pinfo.cols.dst = addr(dst)
  pinfo.cols.info = ("%s -> %s  len=%d"):format(addr(src), addr(dst), len)
  if tvb:len() == HEADER then return HEADER end
  local payload = tvb(HEADER)
  for _, a in ipairs{dst, src} do
    local sub = by_addr:get_dissector(a)
    if sub then
      sub:call(payload:tvb(), pinfo, tree)
      return tvb:len()
    end
  end
  t:add(f.payload, payload)
  return tvb:len()
end

local encaps = wtap_encaps or wtap
DissectorTable.get("wtap_encap"):add(encaps.USER0, rpmsg)
