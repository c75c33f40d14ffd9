-- SPDX-License-Identifier: MIT
-- A co-processor's ttyRPMSG as messages: COBS frames over /dev/ttyRPMSG0,
-- binary bytes (0, \n, \r) intact both ways. `rpmsg-lua scripts/tty.lua
-- [COUNT [PATH]]` on a board whose firmware speaks COBS on its rpmsg-tty
-- channel; `rpmsg-lua --sim scripts/sim/tty_fw.lua scripts/tty.lua` without.
local rpmsg = require "rpmsg"

local count = tonumber(arg[1]) or 3
local t = assert(rpmsg.tty{path = arg[2] or "/dev/ttyRPMSG0", framing = "cobs"})
t.on_close = function(reason) rpmsg.log("tty closed: %s", reason) end
t.on_open = function() rpmsg.log("tty back") end

rpmsg.spawn(function()
  for i = 1, count do
    local msg = ("msg %d\0\r\n%s"):format(i, ("\255"):rep(i))
    assert(t:send(msg))
    local back, err = t:receive(2000)
    if back ~= msg then
      rpmsg.log("echo %d: expected %q, got %q (%s)", i, msg, tostring(back), tostring(err))
      os.exit(1)
    end
    rpmsg.log("echo %d: %d bytes intact", i, #back)
  end
  rpmsg.log("all %d echoes intact", count)
  t:close()
  rpmsg.stop()   -- the firmware's side would wait for the tty to come back
end)
