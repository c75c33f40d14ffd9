-- SPDX-License-Identifier: MIT
-- Driver of fuzz_tty: rpmsg.tty's decoders fed a byte stream. Byte 1 picks
-- the framing (line or cobs) and the limit; byte 2 seeds how the stream is
-- cut into reads; the rest is the stream, and, for cobs, every second
-- record may instead be a message to encode (so frames that decode are
-- common, not only garbage).
--
-- Promises checked: feeding never raises; no message is over the limit; a
-- line holds no "\n"; a COBS message that is encoded again decodes to
-- itself; the messages and the number of errors do not depend on how the
-- stream was split into reads; each encoded message fed whole comes out.
local tty = require "rpmsg.tty"

local LIMITS = {1, 8, 64, 4096}

local function run(framing, max, chunks)
  local got, errs = {}, 0
  local feed = tty.decoder(framing, max, function(m) got[#got + 1] = m end,
    function() errs = errs + 1 end)
  for _, c in ipairs(chunks) do feed(c) end
  return got, errs
end

return function(input)
  if #input < 2 then return end
  local b1, seed = input:byte(1, 2)
  local framing = b1 % 2 == 0 and "line" or "cobs"
  local max = LIMITS[(b1 // 2) % #LIMITS + 1]
  local body = input:sub(3)
  -- with b1 >= 128 (cobs), records: len byte, then bytes; odd records are
  -- encoded messages, even ones raw bytes
  local stream, sent = body, {}
  if framing == "cobs" and b1 >= 128 then
    local parts, i, n = {}, 1, 0
    while i <= #body do
      local len = body:byte(i)
      local rec = body:sub(i + 1, i + len)
      i = i + 1 + len
      n = n + 1
      if n % 2 == 1 and #rec <= max then
        parts[#parts + 1] = "\0" .. tty.encode("cobs", rec)
        sent[#sent + 1] = rec
      else
        parts[#parts + 1] = rec
      end
    end
    stream = table.concat(parts) .. "\0"
  end

  local whole, whole_errs = run(framing, max, {stream})
  local chunks, i, s = {}, 1, seed
  while i <= #stream do
    s = (s * 1103515245 + 12345) % 2147483648
    local n = s % 17 + 1
    chunks[#chunks + 1] = stream:sub(i, i + n - 1)
    i = i + n
  end
  local split, split_errs = run(framing, max, chunks)

  assert(#whole == #split, "message count depends on how the stream was read")
  for k = 1, #whole do assert(whole[k] == split[k], "a message depends on how the stream was read") end
  assert(whole_errs == split_errs, "error count depends on how the stream was read")
  for _, m in ipairs(whole) do
    assert(#m <= max, "a message over the limit")
    if framing == "line" then
      assert(not m:find("\n", 1, true), "a line holds a newline")
    else
      assert(tty.cobs_decode(tty.cobs_encode(m)) == m, "COBS does not round-trip")
    end
  end
  -- every encoded message fed whole, after a 0 that ends whatever came
  -- before it, comes out (in order, among the others)
  local k = 1
  for _, m in ipairs(whole) do
    if k <= #sent and m == sent[k] then k = k + 1 end
  end
  assert(k == #sent + 1, ("%d of %d encoded messages lost"):format(#sent - k + 1, #sent))
end
