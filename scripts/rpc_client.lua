-- SPDX-License-Identifier: MIT
-- rpc_client.lua: call methods on the co-processor with rpmsg.rpc, one after
-- the other and ten at once, and show what a remote error and a timeout
-- look like. Prints each result on stdout, then exits.
--
--   rpmsg-lua scripts/rpc_client.lua
--
-- Runs on a board (rpmsg_ctrl0, remote RPC server on address 1051) and under
-- --sim scripts/sim/rpc_client_fw.lua. The methods (see sim/rpc_client_fw.lua):
--   version            -> text
--   add    {a, b}      -> {sum}        i32 each, packed little-endian
--   divide {a, b}      -> {quotient}   error reply on b == 0
--   sleep  {ms}        -> text         answers after ms milliseconds
local rpmsg = require "rpmsg"
local rpc = require "rpmsg.rpc"
local struct = require "rpmsg.struct"

local Pair = struct.layout("pair", {{"a", "i32"}, {"b", "i32"}})
local Result = struct.layout("result", {{"value", "i32"}})
local Ms = struct.layout("ms", {{"ms", "u16"}})

local ep = assert(rpmsg.endpoint{ctrl = 0, name = "rpc-client", src = 1050, dst = 1051})
ep.on_close = function(reason)
  rpmsg.log("rpc endpoint closed: %s", reason)
  rpmsg.stop()
end
local peer = rpc.new(ep, {timeout = 1000})

-- Calls a method taking and returning a struct; returns the value, or nil
-- and the error (a remote one, or "timeout").
local function arith(method, a, b)
  local reply, err = peer:call(method, Pair:encode{a = a, b = b})
  if not reply then return nil, err end
  local r, derr = Result:decode(reply)
  if not r then return nil, derr end
  return r.value
end

rpmsg.spawn(function()
  print("version:", peer:call("version"))
  print("add 2 3:", arith("add", 2, 3))
  print("divide 7 0:", arith("divide", 7, 0))

  -- a call the remote answers too late: the caller gets a timeout, and the
  -- reply that comes later is logged and dropped
  print("sleep 300 with a 100 ms timeout:", peer:call("sleep", Ms:encode{ms = 300}, 100))

  -- ten calls in flight at once, each in its own task; replies are matched
  -- to their calls by id, whatever order they come in
  local results, done = {}, 0
  for i = 1, 10 do
    rpmsg.spawn(function()
      results[i] = arith("add", i, i * i)
      done = done + 1
    end)
  end
  while done < 10 do rpmsg.sleep(5) end
  print("10 concurrent adds:", table.concat(results, " "))

  -- stay until the late reply arrives (at most 2 s), to show it dropped
  local deadline = rpmsg.now() + 2000
  while peer.stats.late == 0 and rpmsg.now() < deadline do rpmsg.sleep(10) end
  print(("calls: %d, timeouts: %d, late replies dropped: %d")
    :format(peer.stats.calls, peer.stats.timeouts, peer.stats.late))
  rpmsg.stop()
end)
