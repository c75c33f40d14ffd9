-- SPDX-License-Identifier: MIT
-- echo.lua: send a few messages to the co-processor's echo service and check
-- that each comes back. Runs unchanged on a board (rpmsg_ctrl0, the remote
-- echoing on address 1025) and under `rpmsg-lua --sim scripts/sim/echo_fw.lua`.
--
--   rpmsg-lua scripts/echo.lua [COUNT]
local rpmsg = require "rpmsg"

local count = tonumber(arg and arg[1]) or 5
-- src = ADDR_ANY: the kernel picks our address. A fixed one could already
-- be taken: a firmware that announces channels (rpmsg-raw, rpmsg-tty) gives
-- them the first dynamic addresses, from 1024 up. The remote answers to the
-- source of our first message, so it needs no fixed address of ours.
local ep = assert(rpmsg.endpoint{ctrl = 0, name = "echo-client", src = rpmsg.ADDR_ANY, dst = 1025})

local sent, received = 0, 0

local function send_next()
  sent = sent + 1
  ep:send(("hello %d"):format(sent))
end

ep.on_message = function(msg)
  received = received + 1
  rpmsg.log("echo %d: %q", received, msg)
  if msg ~= ("hello %d"):format(received) then
    rpmsg.log("unexpected echo %q", msg)
  end
  if received == count then
    rpmsg.log("all %d echoes received", count)
    rpmsg.stop()
  else
    send_next()
  end
end

ep.on_close = function(reason)
  rpmsg.log("endpoint closed: %s", reason)
  rpmsg.stop()
end

send_next()   -- the remote learns our address from our first message
