-- SPDX-License-Identifier: MIT
-- rpmsg.rpc against a faulty or hostile remote: a flood of malformed frames
-- or stray replies is counted in full and logged at a bounded rate, and the
-- server runs a bounded number of requests at once, answering the excess
-- with an error reply instead of running the handler.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local rpc = require "rpmsg.rpc"

local function run_task(fn) return helper.run_task(rpmsg, fn) end

local function wait_for(cond) return helper.wait_for(rpmsg, cond) end
local function capture_log(fn) return helper.capture_log(rpmsg, fn) end

local function request(id, method, payload)
  return string.pack("<BI4s1", rpc.REQUEST, id, method) .. (payload or "")
end

describe("rpmsg.rpc, log floods", function()
  local raw, ep, peer
  before_each(function()
    raw, ep = rpmsg.pair()
    raw.on_message = function() end
  end)
  after_each(function() raw:close(); ep:close() end)

  it("counts every malformed frame, logs the first few per second and then one count line", function()
    local lines = capture_log(function()
      peer = rpc.new(ep)
      for i = 1, 200 do raw:send("\9" .. string.pack("<I4", i)) end   -- unknown kind
      helper.settle(rpmsg, 1300)
    end)
    assert.equal(200, peer.stats.malformed)
    assert.is_true(#lines <= 6, ("%d log lines for 200 malformed frames"):format(#lines))
    assert.matches("malformed frame dropped: unknown kind 0x09", lines[1], 1, true)
    local held = tonumber(lines[#lines]:match(": (%d+) more malformed frames dropped in the last second %(not logged%)$"))
    assert.equal(200 - (#lines - 1), held)
  end)

  it("does the same for replies that no call waits for", function()
    local lines = capture_log(function()
      peer = rpc.new(ep)
      for i = 1, 100 do raw:send(string.pack("<BI4", rpc.REPLY, i) .. "stray") end
      helper.settle(rpmsg, 1300)
    end)
    assert.equal(100, peer.stats.late)
    assert.is_true(#lines <= 6, ("%d log lines for 100 stray replies"):format(#lines))
    assert.matches("more late replies dropped in the last second (not logged)", lines[#lines], 1, true)
  end)

  it("logs a handler that fails on every request at the same bounded rate, and still answers each", function()
    local errors = 0
    raw.on_message = function(m) if m:byte(1) == rpc.ERROR then errors = errors + 1 end end
    local lines = capture_log(function()
      peer = rpc.new(ep)
      peer:serve{crash = function() error("handler crashed") end, note = function() return nil, "refused" end}
      for i = 1, 50 do raw:send(request(i, "crash")) end
      for _ = 1, 50 do raw:send(request(0, "note")) end
      helper.settle(rpmsg, 1300)
    end)
    assert.equal(50, errors)
    assert.is_true(#lines <= 6, ("%d log lines for 50 failed requests and 50 failed notifications"):format(#lines))
    assert.matches("handler for 'crash' failed: .*handler crashed", lines[1])
    local held = tonumber(lines[#lines]:match(": (%d+) more handler failures in the last second %(not logged%)$"))
    assert.equal(100 - (#lines - 1), held)
  end)

  it("with {fragment = true}, counts bad fragments as malformed frames, at the same bounded rate", function()
    local lines = capture_log(function()
      peer = rpc.new(ep, {fragment = true})
      for i = 1, 100 do raw:send(("not a fragment at all "):rep(2) .. i) end
      helper.settle(rpmsg, 1300)
    end)
    assert.equal(100, peer.stats.malformed)
    assert.is_true(#lines <= 6, ("%d log lines for 100 bad fragments"):format(#lines))
  end)
end)

describe("rpmsg.rpc, requests in progress", function()
  local a, b, client, server
  before_each(function() a, b = rpmsg.pair() end)
  after_each(function() a:close(); b:close() end)

  it("runs at most max_requests at once and answers the excess with an error naming the limit", function()
    client, server = rpc.new(a), rpc.new(b, {max_requests = 4})
    local running, release = 0, false
    server:serve{held = function() running = running + 1; wait_for(function() return release end); return "done" end}
    local results = {}
    run_task(function()
      for i = 1, 6 do rpmsg.spawn(function() results[i] = table.pack(client:call("held", "", 5000)) end) end
      wait_for(function() return results[5] and results[6] end)
      release = true
      return wait_for(function() return #results == 6 end)
    end)
    assert.equal(4, running)    -- the refused two never ran the handler
    for i = 1, 4 do assert.same({"done", n = 1}, results[i]) end
    local refusal = "too many requests in progress: this side runs at most 4 at once (rpc.new option max_requests)"
    assert.same({nil, refusal, "EREMOTE", n = 3}, results[5])
    assert.same({nil, refusal, "EREMOTE", n = 3}, results[6])
    assert.equal(2, server.stats.refused)
    assert.equal(4, server.stats.served)
    -- room again once they are done
    assert.same({"done", n = 1}, run_task(function() return client:call("held") end))
  end)

  it("bounds them by default, at rpc.DEFAULT_MAX_REQUESTS", function()
    assert.equal(256, rpc.DEFAULT_MAX_REQUESTS)
    local raw = a
    server = rpc.new(b)
    local release, running = false, 0
    server:serve{held = function() running = running + 1; wait_for(function() return release end) end}
    local errors = 0
    raw.on_message = function(m) if m:byte(1) == rpc.ERROR then errors = errors + 1 end end
    capture_log(function()
      for i = 1, 300 do assert(raw:send(request(i, "held"))) end
      helper.settle(rpmsg, 200)
    end)
    assert.equal(256, running)
    assert.equal(44, errors)
    assert.equal(44, server.stats.refused)
    release = true
    helper.settle(rpmsg, 50)
  end)

  it("drops a notification over the limit, counted and logged", function()
    server = rpc.new(b, {max_requests = 1})
    local release, ran = false, 0
    server:serve{held = function() ran = ran + 1; wait_for(function() return release end) end}
    a.on_message = function(m) error("no reply expected for a notification, got " .. ("%q"):format(m)) end
    local lines = capture_log(function()
      a:send(request(0, "held")); a:send(request(0, "held"))
      helper.settle(rpmsg, 50)
    end)
    assert.equal(1, ran)
    assert.equal(1, server.stats.refused)
    assert.matches("notification 'held' refused: too many requests in progress", lines[1], 1, true)
    release = true
    helper.settle(rpmsg, 50)
  end)

  it("logs, and does not raise, when a handler finishes after its endpoint closed", function()
    client, server = rpc.new(a), rpc.new(b)
    local finished = false
    server:serve{slow = function() rpmsg.sleep(30); finished = true; return "too late" end}
    local lines = capture_log(function()
      a:send(request(1, "slow"))
      rpmsg.after(10, function() b:close() end)
      helper.settle(rpmsg, 100)   -- a raise in the handler's task would fail here
    end)
    assert.is_true(finished)
    assert.matches("reply to 'slow' not sent: the endpoint is closed", table.concat(lines, "\n"), 1, true)
  end)

  it("refuses a max_requests that is not a positive integer", function()
    assert.error_matches(function() rpc.new(a, {max_requests = 0}) end,
      "rpc.new: max_requests must be a positive integer, got 0", nil, true)
  end)
end)
