-- SPDX-License-Identifier: MIT
-- Simulated firmware behind a ttyRPMSG (`rpmsg-lua --sim scripts/sim/tty_fw.lua
-- scripts/tty.lua`): its side of the simulated /dev/ttyRPMSG0 is the master
-- of a pty pair, read raw; it decodes COBS frames itself, so it can also
-- send what a broken firmware would. Commands: "restart" (its tty goes
-- away for 300 ms, as rpmsg_tty's does when the remote restarts), "garbage"
-- (a frame that does not decode, then a good one), "count" (how many
-- messages it got: an echoing tty would have fed it its own replies);
-- anything else comes back as it was.
local rpmsg = require "rpmsg"
local framing = require "rpmsg.tty"

local seen = 0
local t

local function reply(msg) t:send(framing.encode("cobs", msg)) end

local function open()
  t = assert(rpmsg.tty{path = "/dev/ttyRPMSG0", framing = "raw"})
  local feed = framing.decoder("cobs", 4096, function(msg)
    seen = seen + 1
    if msg == "restart" then
      t:close()
      rpmsg.after(300, open)
    elseif msg == "garbage" then
      t:send("\5xy\0" .. framing.encode("cobs", "after garbage"))
    elseif msg == "count" then
      reply(tostring(seen))
    else
      reply(msg)
    end
  end, function(err) rpmsg.log("fw: %s", err) end)
  t.on_message = function(chunk) feed(chunk) end
end

open()
