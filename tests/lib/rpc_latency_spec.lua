-- SPDX-License-Identifier: MIT
-- rpmsg.rpc's call latency per method: p50 and p99 over the last calls
-- answered, count and max over all. An error reply is a round trip and is
-- timed; a call that timed out is not.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local rpc = require "rpmsg.rpc"

describe("rpc call latency", function()
  local a, b, client, server
  before_each(function()
    a, b = rpmsg.pair()
    client, server = rpc.new(a), rpc.new(b)
    server:serve{
      fast = function() return "ok" end,
      slow = function() rpmsg.sleep(30); return "ok" end,
      fail = function() return nil, "no" end,
      gone = function() rpmsg.sleep(200); return "late" end,
    }
  end)
  after_each(function() helper.cancel_armed(); a:close(); b:close() end)

  it("gives count, p50, p99 and max per method, in seconds", function()
    helper.run_task(rpmsg, function()
      for _ = 1, 20 do assert(client:call("fast", "")) end
      for _ = 1, 3 do assert(client:call("slow", "")) end
      assert.is_nil(client:call("fail", ""))
      assert.is_nil(client:call("gone", "", 20))
    end)
    local l = client:latency()
    assert.equal(20, l.fast.count)
    assert.equal(3, l.slow.count)
    assert.equal(1, l.fail.count)               -- an error reply is a round trip too
    assert.is_nil(l.gone)                       -- a timeout is not
    assert.is_true(l.slow.p50 >= 0.029, tostring(l.slow.p50))
    assert.is_true(l.fast.p50 < l.slow.p50)
    assert.is_true(l.fast.p50 <= l.fast.p99 and l.fast.p99 <= l.fast.max)
    assert.is_nil(next(server:latency()))       -- the server made no calls
    assert.is_true(rpc.peers[client])           -- found by rpmsg-lua stats and --metrics
  end)

  it("keeps the last LATENCY_SAMPLES calls for the percentiles", function()
    local peer = rpc.new((rpmsg.pair()))
    for i = 1, rpc.LATENCY_SAMPLES + 10 do peer:record_latency("m", i <= 10 and 100 or 0.001) end
    local l = peer:latency().m
    assert.equal(rpc.LATENCY_SAMPLES + 10, l.count)
    assert.equal(100, l.max)
    assert.equal(0.001, l.p99)                  -- the ten slow ones were overwritten
  end)

  it("takes percentiles by nearest rank", function()
    assert.equal(50, rpc.percentile({100, 1, 50, 2, 99}, 50))
    assert.equal(100, rpc.percentile({100, 1, 50, 2, 99}, 99))
    assert.is_nil(rpc.percentile({}, 50))
  end)
end)
