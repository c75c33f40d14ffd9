-- Shared by the specs: where the build is, and how to run rpmsg-lua as a
-- process and read its output and exit status. RPMSG_BUILD picks another
-- build (build/asan for the sanitizer run).
local helper = {}

helper.build = os.getenv("RPMSG_BUILD") or "build"
helper.bin = helper.build .. "/rpmsg-lua"
package.cpath = helper.build .. "/?.so;" .. package.cpath

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
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
    timeout or 20, shell_quote(helper.bin), table.concat(parts, " ")))
end

-- Writes a temporary Lua script and returns its path.
function helper.script(source)
  local path = os.tmpname() .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(source)
  f:close()
  return path
end

-- Runs the loop for ms milliseconds (default 50), so pending events land.
function helper.settle(rpmsg, ms)
  local done = false
  local t = rpmsg.after(ms or 50, function() done = true; rpmsg.stop() end)
  rpmsg.run()
  t:cancel()
  return done
end

-- Runs fn as an rpmsg.spawn task and the loop until it returns (or 10 s
-- pass); returns fn's results as a packed table.
function helper.run_task(rpmsg, fn)
  local result
  rpmsg.spawn(function()
    result = table.pack(fn())
    rpmsg.stop()
  end)
  local guard = rpmsg.after(10000, rpmsg.stop)
  if not result then rpmsg.run() end
  guard:cancel()
  assert(result, "the task did not finish")
  return result
end

return helper
