-- SPDX-License-Identifier: MIT
-- echo_fw.lua: simulated firmware for scripts/echo.lua. It is the remote
-- side: its endpoint mirrors the host's (src 1025, dst 1024) and sends every
-- message straight back.
local rpmsg = require "rpmsg"

local ep = assert(rpmsg.endpoint{ctrl = 0, name = "echo-service", src = 1025, dst = 1024})
ep.on_message = function(msg) ep:send(msg) end
