-- SPDX-License-Identifier: MIT
-- Shared by the specs: where the build is, and how to run rpmsg-lua as a
-- process and read its output and exit status. RPMSG_BUILD picks another
-- build (build/asan for the sanitizer run); RPMSG_VALGRIND=1 runs every
-- rpmsg-lua the specs start under valgrind (make valgrind).
local helper = {}

helper.build = os.getenv("RPMSG_BUILD") or "build"
helper.bin = helper.build .. "/rpmsg-lua"
helper.real_bin = helper.bin   -- never wrapped (valgrind cannot log as another uid)
-- How much longer than usual the host may take: RPMSG_SLOW (3 under
-- qemu-user in tests/run-all cross), 10 under valgrind.
helper.slow = tonumber(os.getenv("RPMSG_SLOW")) or 1
-- Under tests/run-all cross, helper.build is a cross build run by qemu-user
-- (build/ARCH/qemu); this process, the build machine's lua5.4, loads the
-- native rpmsg.so from RPMSG_NATIVE_BUILD. The library modules written in
-- Lua (require "rpmsg.frag") are files beside it: build/rpmsg/NAME.lua.
helper.native = os.getenv("RPMSG_NATIVE_BUILD") or helper.build
package.cpath = helper.native .. "/?.so;" .. package.cpath
package.path = helper.native .. "/?.lua;" .. package.path

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Under RPMSG_VALGRIND=1, helper.bin is a wrapper that runs the real binary
-- under valgrind: any memory error or definite leak makes it exit 99, and
-- valgrind's report goes to build/valgrind/<pid>.log, not to the stderr the
-- specs read. Every spec that starts helper.bin is covered, however it does.
if os.getenv("RPMSG_VALGRIND") == "1" then
  local p = io.popen("pwd")
  local cwd = p:read("l")
  p:close()
  local logs = cwd .. "/" .. helper.build .. "/valgrind"
  assert(os.execute("mkdir -p " .. shell_quote(logs)))
  local wrapper = logs .. "/rpmsg-lua"
  local f = assert(io.open(wrapper, "w"))
  f:write("#!/bin/sh\n",
    "exec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite ",
    "--log-file=", shell_quote(logs .. "/%p.log"), " ", shell_quote(cwd .. "/" .. helper.bin), ' "$@"\n')
  f:close()
  assert(os.execute("chmod +x " .. shell_quote(wrapper)))
  helper.bin = wrapper
  helper.slow = 10
end
helper.q = shell_quote

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  os.remove(path)
  return s
end

-- A shell command's waits (sleep N, timeout -s KILL N) stretched by
-- helper.slow, for specs that pace a host with fixed sleeps. A polling loop
-- (seq N with a sleep) then waits longer, in coarser steps.
function helper.slowed(cmd)
  if helper.slow == 1 then return cmd end
  return (cmd:gsub("(sleep )([%d.]+)", function(w, n) return w .. tonumber(n) * helper.slow end)
    :gsub("(timeout %-s KILL )([%d.]+)", function(w, n) return w .. tonumber(n) * helper.slow end))
end

-- Runs a shell command; returns exit status, stdout, stderr.
function helper.sh(cmd)
  local err = os.tmpname()
  local p = io.popen("(" .. cmd .. ") 2>" .. err .. "; echo \"\n$?\"", "r")
  local out = p:read("a")
  p:close()
  local body, status = out:match("^(.*)\n\n?(%d+)\n$")
  return tonumber(status), body or out, slurp(err)
end

-- Runs rpmsg-lua with args (a list), with a timeout in seconds.
function helper.host(args, timeout)
  local parts = {}
  for i, a in ipairs(args) do parts[i] = shell_quote(a) end
  return helper.sh(("timeout -s KILL %d %s %s </dev/null"):format(
    (timeout or 20) * helper.slow, shell_quote(helper.bin), table.concat(parts, " ")))
end

-- Starts rpmsg-lua with args (a list) in the background, waits up to 10 s
-- for its first line on stdout (so a loaded machine cannot make the signal
-- come too early), sends it signal ("TERM", "INT"...), and returns exit
-- status, stdout, stderr.
function helper.host_signal(args, signal)
  local parts = {}
  for i, a in ipairs(args) do parts[i] = shell_quote(a) end
  local out = os.tmpname()
  local status, _, err = helper.sh(table.concat({
    ("%s %s </dev/null >%s & pid=$!"):format(
      shell_quote(helper.bin), table.concat(parts, " "), shell_quote(out)),
    ("for i in $(seq %d); do [ -s %s ] && break; sleep 0.05; done"):format(
      200 * helper.slow, shell_quote(out)),
    helper.stop_pid(signal),
  }, "\n"))
  return status, slurp(out), err
end

-- Shell code that sends signal to the background host in $pid and waits for
-- it; its status is the host's. A host that ignores the signal is killed
-- after 20 s (longer under valgrind): the spec fails, it never hangs.
function helper.stop_pid(signal)
  return table.concat({
    ("kill -%s $pid"):format(signal),
    ("(sleep %d; kill -KILL $pid) >/dev/null 2>&1 & guard=$!"):format(20 * helper.slow),
    "wait $pid; status=$?; kill $guard 2>/dev/null; (exit $status)",
  }, "\n")
end

-- Fails the spec if the host's stderr shows a handler error: the host logs
-- "error in <handler>: ..." and serves on, so a run whose handler broke can
-- still print what a spec looks for and exit 0.
function helper.assert_no_handler_error(stderr)
  local line = stderr:match("[^\n]*error in [^\n]*")
  if line then
    error(("the host logged a handler error:\n%s\n(all of stderr:)\n%s"):format(line, stderr), 2)
  end
end

-- A new path under /tmp ending in suffix (default none), not created.
function helper.tmp_path(suffix)
  local p = os.tmpname()
  os.remove(p)
  return p .. (suffix or "")
end

-- The current directory (the project's, where the specs run).
function helper.cwd()
  local p = io.popen("pwd")
  local dir = p:read("l")
  p:close()
  return dir
end

-- The contents of the file at path, or nil when it cannot be opened.
function helper.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Makes a new, empty folder under /tmp and returns its path.
function helper.tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. shell_quote(dir)))
  return dir
end

-- Writes a temporary Lua script and returns its path.
-- Each in a folder of its own: the host reloads when any .lua file in its
-- script's folder changes, and /tmp is shared with every other process.
function helper.script(source)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -m 700 " .. shell_quote(dir)))
  local path = dir .. "/script.lua"
  local f = assert(io.open(path, "w"))
  f:write(source)
  f:close()
  return path
end

-- What the specs arm in the loop (timers, watches, tasks), held weakly: a
-- spec that fails in the middle of a run has its leftovers cancelled, so
-- they do not fire into the specs after it and fail those too.
local armed = setmetatable({}, {__mode = "k"})
local function keep(handle)
  if handle ~= nil then armed[handle] = true end
  return handle
end
do
  local rpmsg = require "rpmsg"
  local after, every, watch, spawn = rpmsg.after, rpmsg.every, rpmsg.watch, rpmsg.spawn
  rpmsg.after = function(...) return keep(after(...)) end
  rpmsg.every = function(...) return keep(every(...)) end
  rpmsg.watch = function(...) return keep(watch(...)) end
  rpmsg.spawn = function(...) return keep(spawn(...)) end
end

local function cancel_armed()
  for handle in pairs(armed) do pcall(handle.cancel, handle) end
  armed = setmetatable({}, {__mode = "k"})
end
-- For after_each: what a spec left running (a server coroutine still asleep,
-- a timer) must not wake in a later spec's loop, even in another file.
helper.cancel_armed = cancel_armed

-- Runs the loop until rpmsg.stop() and fails the spec on a handler error
-- (raised from rpmsg.run with its traceback) or when timeout_ms (default
-- 5000) passes first. Use it wherever a spec asserts inside a callback: an
-- assertion there is a handler error, which the runtime would only log.
function helper.run(rpmsg, timeout_ms)
  timeout_ms = timeout_ms or 5000
  local raised, ok, err, code = pcall(rpmsg.run, {timeout = timeout_ms, raise_errors = true})
  if not raised then
    cancel_armed()
    error(ok, 0)
  end
  if not ok then
    cancel_armed()
    error(code == "ETIMEDOUT" and ("the loop did not stop within %d ms"):format(timeout_ms)
      or ("rpmsg.run failed: %s"):format(err), 2)
  end
end

-- Runs the loop for ms milliseconds (default 50), so pending events land;
-- a handler error meanwhile fails the spec.
function helper.settle(rpmsg, ms)
  local t = rpmsg.after(ms or 50, function() rpmsg.stop() end)
  helper.run(rpmsg, (ms or 50) + 5000)
  t:cancel()
  return true
end

-- Runs fn as an rpmsg.spawn task and the loop until it returns; fails the
-- spec if it raises, if any handler fails meanwhile, or after 10 s. Returns
-- fn's results as a packed table.
function helper.run_task(rpmsg, fn)
  local result, failure
  rpmsg.spawn(function()
    -- caught here too: an error before the task's first wait happens
    -- outside rpmsg.run, where the runtime would only log it
    local r = table.pack(xpcall(fn, debug.traceback))
    if r[1] then result = table.pack(table.unpack(r, 2, r.n)) else failure = r[2] end
    rpmsg.stop()
  end)
  if not result and not failure then helper.run(rpmsg, 10000) end
  if failure then
    cancel_armed()
    error("the task failed: " .. tostring(failure), 2)
  end
  assert(result, "the task did not finish")
  return result
end

-- Inside a task: waits until cond() is true, checking every 5 ms; false
-- after 10 s.
function helper.wait_for(rpmsg, cond)
  for _ = 1, 2000 do
    if cond() then return true end
    rpmsg.sleep(5)
  end
  return false
end

-- Replaces rpmsg.log for the length of fn; returns the lines logged.
function helper.capture_log(rpmsg, fn)
  local lines, log = {}, rpmsg.log
  rpmsg.log = function(fmt, ...) lines[#lines + 1] = fmt:format(...) end
  local ok, err = pcall(fn)
  rpmsg.log = log
  assert(ok, err)
  return lines
end

-- A payload of n bytes, each depending on its position and on seed.
function helper.payload(n, seed)
  local t = {}
  for i = 1, n do t[i] = string.char((i * 31 + (seed or 0)) % 251) end
  return table.concat(t)
end

return helper
