-- SPDX-License-Identifier: MIT
-- sd_notify: the host tells a service manager when it is ready, reloading,
-- stopping and alive. A small C listener (notify_listener.c) stands in for
-- systemd on a datagram socket of the spec's own and prints what arrives.
local helper = require "tests.helper"
local q = helper.q

local listener = helper.build .. "/notify_listener"

local function build_listener()
  local status, out, err = helper.sh(("env -u LD_PRELOAD cc -Wall -Wextra -Werror -o %s tests/host/notify_listener.c")
    :format(q(listener)))
  assert(status == 0, out .. err)
end

-- Parses the listener's lines into {t = usec, text = "READY=1|STATUS=..."}.
local function messages(out)
  local list = {}
  for t, text in out:gmatch("(%d+) ([^\n]*)\n") do
    list[#list + 1] = {t = tonumber(t), text = text}
  end
  return list
end

local function find(list, pattern, from)
  for i = from or 1, #list do
    if list[i].text:match(pattern) then return i, list[i] end
  end
end

-- Shell code: wait (up to 10 s, stretched under valgrind) until the file
-- holds at least n lines matching pattern.
local function wait_lines(file, pattern, n)
  return ("for i in $(seq 400); do [ \"$(grep -c -- %s %s)\" -ge %d ] && break; sleep 0.025; done")
    :format(q(pattern), q(file), n)
end

-- Runs app under a listener on address with the extra environment env
-- (shell words), drives it with steps(out) (shell code; $pid is the host,
-- out the listener's output file), stops it with TERM. Returns the host's
-- status, the messages, the host's stderr. args replaces the script
-- argument (shell words) when given.
local function under_listener(address, env, app, steps, args)
  local out, herr = os.tmpname(), os.tmpname()
  local status, _, err = helper.sh(table.concat({
    ("%s %s 30 >%s & lpid=$!"):format(q(listener), q(address), q(out)),
    wait_lines(out, "listening", 1),
    ("env NOTIFY_SOCKET=%s %s %s --sim scripts/sim/echo_fw.lua %s </dev/null 2>%s & pid=$!")
      :format(q(address), env, q(helper.bin), args or q(app), q(herr)),
    wait_lines(out, "READY=1", 1),
    steps(out),
    helper.stop_pid("TERM"),
    "status=$?; wait $lpid; exit $status",
  }, "\n"))
  local f = io.open(out)
  local text = f and f:read("a") or ""
  if f then f:close() end
  local e = io.open(herr)
  local stderr = e and e:read("a") or ""
  if e then e:close() end
  os.remove(out); os.remove(herr)
  return status, messages(text), stderr .. err
end

local function abstract_name()
  return ("@rpmsg-lua-notify-%d-%d"):format(os.time(), math.random(1e9))
end

-- The app the specs run: an echo client whose third load fails on purpose.
local APP = [[
  local rpmsg = require "rpmsg"
  rpmsg.state.loads = (rpmsg.state.loads or 0) + 1
  if rpmsg.state.loads == 3 then error("broken on purpose") end
  local ep = assert(rpmsg.endpoint{name = "echo-client", dst = 1025})
  ep.on_message = function() end
  ep:send("hello")
]]

describe("sd_notify", function()
  setup(function()
    math.randomseed(os.time())
    build_listener()
  end)

  it("sends READY, RELOADING with MONOTONIC_USEC, READY after a reload and after a failed one, STOPPING", function()
    local status, list, err = under_listener(abstract_name(), "", helper.script(APP), function(out)
      return table.concat({
        "kill -HUP $pid", wait_lines(out, "READY=1", 2),
        "kill -HUP $pid", wait_lines(out, "READY=1", 3),
      }, "\n")
    end)
    assert.equal(0, status, err)
    local texts = {}
    for k, m in ipairs(list) do texts[k] = m.text end
    local all = table.concat(texts, "\n")

    local i, m = find(list, "^READY=1")
    assert.truthy(m, all)
    assert.matches("^READY=1|STATUS=generation 1, messages in %d+, out %d+, handler errors 0$", m.text)

    -- the reload: RELOADING=1 with the monotonic time it began, then READY=1
    i, m = find(list, "^RELOADING=1", i + 1)
    assert.truthy(m, all)
    local usec = tonumber(m.text:match("^RELOADING=1|MONOTONIC_USEC=(%d+)$"))
    assert.truthy(usec, m.text)
    assert.is_true(usec <= m.t and m.t - usec < 1e6, ("MONOTONIC_USEC %d, received at %d"):format(usec, m.t))
    i, m = find(list, "^READY=1", i + 1)
    assert.truthy(m, all)
    assert.matches("^READY=1|STATUS=generation 2, ", m.text)

    -- the failed reload: READY=1 all the same, and STATUS= says it failed
    i, m = find(list, "^RELOADING=1|MONOTONIC_USEC=%d+$", i + 1)
    assert.truthy(m, all)
    i, m = find(list, "^READY=1", i + 1)
    assert.truthy(m, all)
    assert.matches("^READY=1|STATUS=reload failed, generation 2 runs on: [^|]*broken on purpose; " ..
      "generation 2, messages in %d+, out %d+, handler errors 0$", m.text)

    -- and the last word
    assert.equal("STOPPING=1", list[#list].text, all)
    assert.matches("reload of .* failed, generation 2 keeps running", err)
  end)

  -- The WATCHDOG=1 messages' arrival times.
  local function pings(list)
    local t = {}
    for _, m in ipairs(list) do
      if m.text:match("^WATCHDOG=1") then t[#t + 1] = m.t end
    end
    return t
  end

  it("pings WATCHDOG=1 from the loop at half of WATCHDOG_USEC", function()
    local status, list, err = under_listener(abstract_name(), "WATCHDOG_USEC=200000",
      helper.script(APP), function() return helper.slowed("sleep 1.5") end)
    assert.equal(0, status, err)
    local t = pings(list)
    assert.is_true(#t >= 8, ("%d pings in 1.5 s"):format(#t))
    local gaps = {}
    for k = 2, #t do gaps[#gaps + 1] = t[k] - t[k - 1] end
    table.sort(gaps)
    local median = gaps[(#gaps + 1) // 2]
    assert.is_true(median > 80000 and median < 130000, ("median gap %d us, want 100000"):format(median))
    -- STATUS= follows the counts: the echo's one message each way
    local last
    for _, m in ipairs(list) do last = m.text:match("STATUS=([^|]*)") or last end
    assert.equal("generation 1, messages in 1, out 1, handler errors 0", last)
    assert.equal("STOPPING=1", list[#list].text)
  end)

  it("stops pinging while the loop is stuck in C, which the handler watchdog cannot interrupt", function()
    -- a blocking recv of 1.5 s inside a timer callback, with no handler timeout;
    -- the callback holds b too: a collected peer ends a's recv at once, and
    -- the idle collector may well get to it within the 300 ms
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      local a, b = rpmsg.pair()
      rpmsg.after(300, function() a:recv(496, 1500) return b end)
      rpmsg.every(1000, function() end)
    ]])
    local status, list, err = under_listener(abstract_name(), "WATCHDOG_USEC=200000", app,
      function() return helper.slowed("sleep 2.5") end, "--handler-timeout 0 " .. q(app))
    assert.equal(0, status, err)
    local t = pings(list)
    local longest = 0
    for k = 2, #t do longest = math.max(longest, t[k] - t[k - 1]) end
    assert.is_true(longest > 1300000, ("the longest gap between pings was %d us"):format(longest))
    assert.is_true(#t >= 8, ("%d pings"):format(#t))
  end)

  it("honours WATCHDOG_PID: no pings when it names another process, pings when it names ours", function()
    local status, list, err = under_listener(abstract_name(), "WATCHDOG_USEC=100000 WATCHDOG_PID=1",
      helper.script(APP), function() return helper.slowed("sleep 0.5") end)
    assert.equal(0, status, err)
    assert.equal(0, #pings(list))
    assert.truthy(find(list, "^READY=1"))
    -- the host's own pid, set by a shell that then becomes the host
    status, list, err = under_listener(abstract_name(),
      [[WATCHDOG_USEC=100000 sh -c 'WATCHDOG_PID=$$ exec "$0" "$@"']],
      helper.script(APP), function() return helper.slowed("sleep 0.5") end)
    assert.equal(0, status, err)
    assert.is_true(#pings(list) >= 3, ("%d pings"):format(#pings(list)))
  end)

  it("speaks to a socket path too, and takes NOTIFY_SOCKET out of the script's children's environment", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -m 700 " .. q(dir)))
    local app = helper.script(APP .. [[
      rpmsg.after(100, function()
        print("child sees: " .. io.popen("echo ${NOTIFY_SOCKET:-nothing}"):read("l"))
        io.stdout:flush()
      end)
    ]])
    local out = os.tmpname()
    local status, list, err = under_listener(dir .. "/notify", "", app,
      function(lout) return wait_lines(lout, "x", 0) .. "; sleep 0.3" end,
      q(app) .. " >" .. q(out))
    assert.equal(0, status, err)
    assert.truthy(find(list, "^READY=1|STATUS=generation 1"))
    local f = assert(io.open(out))
    assert.equal("child sees: nothing\n", f:read("a"))
    f:close()
    os.remove(out)
  end)

  it("reports a NOTIFY_SOCKET it cannot use and runs on", function()
    local app = helper.script([[
      local rpmsg = require "rpmsg"
      rpmsg.after(100, rpmsg.stop)
    ]])
    local status, _, err = helper.sh(("NOTIFY_SOCKET=relative/path timeout -s KILL 20 %s %s")
      :format(q(helper.bin), q(app)))
    assert.equal(0, status, err)
    assert.matches("NOTIFY_SOCKET='relative/path' is neither a socket path nor an @abstract name", err)
  end)

  it("still says READY=1 when WATCHDOG_USEC is no number, and reports it", function()
    local status, list, err = under_listener(abstract_name(), "WATCHDOG_USEC=soon",
      helper.script(APP), function() return helper.slowed("sleep 0.3") end)
    assert.equal(0, status, err)
    assert.truthy(find(list, "^READY=1"))
    assert.matches("sd_notify: WATCHDOG_USEC='soon' is not a number of microseconds: no WATCHDOG=1 pings", err)
    assert.equal("STOPPING=1", list[#list].text)
  end)
end)
