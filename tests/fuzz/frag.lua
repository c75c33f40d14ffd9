-- SPDX-License-Identifier: MIT
-- Driver of fuzz_frag: a fresh rpmsg.frag reassembler fed the fragments the
-- input describes. Byte 1 picks the receiver's limit; then records, each an
-- op byte and its arguments:
--   op % 4 == 0   a raw fragment: length (one byte, 255 adds a second), bytes
--   otherwise     a message made by frag.split: id u16, size u16, seed u8,
--                 data size u8, then a fault u8 and where u8 (none, a lost,
--                 repeated or swapped fragment, a flipped byte, a cut end,
--                 a message abandoned part way)
--
-- Promises checked: feed never raises; what it delivers matches the length
-- and CRC its header announced and fits the limit; the same message is never
-- delivered twice in a row; the message in progress never holds more than
-- the limit; a clean message that starts while nothing is in progress (and
-- is no repeat of the last) is delivered.
local frag = require "rpmsg.frag"

local LIMITS = {0, 100, 1000, 4096, 65536}
local MAX_RECORDS, MAX_FRAGMENTS = 32, 400

local function header(msg)
  if #msg < frag.HEADER_SIZE then return nil end
  local magic, version, id, index, count, total, crc = string.unpack(frag.HEADER, msg)
  return {magic = magic, version = version, id = id, index = index, count = count, total = total, crc = crc}
end

local function bytes_from(seed, n)
  local t = {}
  for i = 1, n do t[i] = string.char((i * 131 + seed * 7) % 256) end
  return table.concat(t)
end

-- Applies fault f at fragment k to the list of fragments.
local function damage(parts, f, k)
  k = k % #parts + 1
  if f == 1 then table.remove(parts, k)
  elseif f == 2 then table.insert(parts, k, parts[k])
  elseif f == 3 and k < #parts then parts[k], parts[k + 1] = parts[k + 1], parts[k]
  elseif f == 4 then
    local p = parts[k]
    local at = (k * 37) % #p + 1
    parts[k] = p:sub(1, at - 1) .. string.char(p:byte(at) ~ 0x41) .. p:sub(at + 1)
  elseif f == 5 then parts[k] = parts[k]:sub(1, -2)
  elseif f == 6 then for i = #parts, k + 1, -1 do parts[i] = nil end
  end
  return parts
end

return function(input)
  if #input < 1 then return end
  local limit = LIMITS[input:byte(1) % #LIMITS + 1]
  local rx = frag.reassembler{limit = limit}
  local last_delivered, fed, records, pos = nil, 0, 0, 2

  local function feed(msg, must_deliver)
    fed = fed + 1
    local ok, out, err = pcall(rx.feed, rx, msg)
    if not ok then error("rx:feed raised: " .. tostring(out)) end
    if err ~= nil and type(err) ~= "string" then error("rx:feed returned a " .. type(err) .. " as its error") end
    if out ~= nil then
      if type(out) ~= "string" then error("rx:feed delivered a " .. type(out)) end
      local h = header(msg)
      if not h then error("a payload delivered by something that is no fragment") end
      if #out ~= h.total or frag.crc32(out) ~= h.crc then
        error(("delivered %d bytes with CRC %08X; the header says %d bytes, CRC %08X")
          :format(#out, frag.crc32(out), h.total, h.crc))
      end
      if #out > limit then error(("delivered %d bytes over the limit of %d"):format(#out, limit)) end
      local key = ("%d/%d/%d/%d"):format(h.id, h.count, h.total, h.crc)
      if key == last_delivered then error("message " .. h.id .. " delivered twice in a row") end
      last_delivered = key
    elseif must_deliver then
      error(("a clean message was not delivered (%s)"):format(tostring(err)))
    end
    if rx.cur and (rx.cur.size > limit or rx.cur.size > rx.cur.total) then
      error(("the message in progress holds %d bytes (limit %d)"):format(rx.cur.size, limit))
    end
    if #rx.skip > 4 then error(#rx.skip .. " ids remembered as broken") end
  end

  while pos <= #input and records < MAX_RECORDS and fed < MAX_FRAGMENTS do
    records = records + 1
    local op = input:byte(pos)
    pos = pos + 1
    if op % 4 == 0 then
      local n = input:byte(pos) or 0
      pos = pos + 1
      if n == 255 then n = n + (input:byte(pos) or 0); pos = pos + 1 end
      feed(input:sub(pos, pos + n - 1))
      pos = pos + n
    else
      if pos + 7 > #input then break end
      local id, size, seed, ds, fault, at = string.unpack("<I2I2BBBB", input, pos)
      pos = pos + 8
      size = size % 2000
      local data_size = ds % frag.DATA_SIZE + 1
      if (size + data_size - 1) // data_size > 100 then data_size = size // 100 + 1 end
      local payload = bytes_from(seed, size)
      local parts = frag.split(payload, id, {limit = 65536, data_size = data_size})
      local h = header(parts[1])
      fault = fault % 8   -- 0 and 7: clean
      if fault ~= 0 and fault ~= 7 then parts = damage(parts, fault, at) end
      local key = ("%d/%d/%d/%d"):format(id, h.count, h.total, h.crc)
      local clean = (fault == 0 or fault == 7) and rx.cur == nil and size <= limit and key ~= last_delivered
      for i, p in ipairs(parts) do
        if fed >= MAX_FRAGMENTS then break end
        feed(p, clean and i == #parts)
      end
    end
  end
end
