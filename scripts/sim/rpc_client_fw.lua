-- SPDX-License-Identifier: MIT
-- rpc_client_fw.lua: simulated firmware for scripts/rpc_client.lua: an RPC server
-- (rpmsg.rpc) on an endpoint mirroring the host's (src 1051, dst 1050).
-- Arguments and results are packed little-endian structs, as a C firmware
-- would lay them out.
local rpmsg = require "rpmsg"
local rpc = require "rpmsg.rpc"
local struct = require "rpmsg.struct"

local Pair = struct.layout("pair", {{"a", "i32"}, {"b", "i32"}})
local Result = struct.layout("result", {{"value", "i32"}})
local Ms = struct.layout("ms", {{"ms", "u16"}})

local ep = assert(rpmsg.endpoint{ctrl = 0, name = "rpc-server", src = 1051, dst = 1050})

-- Decodes the arguments or raises: the caller gets the message as an error reply.
local function args(layout, payload) return assert(layout:decode(payload)) end

local function i32(v)
  if v < -0x80000000 or v > 0x7FFFFFFF then return nil, "result out of i32 range" end
  return Result:encode{value = v}
end

rpc.new(ep):serve{
  version = function() return "rpc_fw 1.0" end,
  add = function(p)
    local x = args(Pair, p)
    return i32(x.a + x.b)
  end,
  divide = function(p)
    local x = args(Pair, p)
    if x.b == 0 then return nil, "division by zero" end
    return i32(x.a // x.b)
  end,
  sleep = function(p)
    local x = args(Ms, p)
    rpmsg.sleep(x.ms)   -- each request runs in its own task: others are served meanwhile
    return ("slept %d ms"):format(x.ms)
  end,
}
