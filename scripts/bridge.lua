-- SPDX-License-Identifier: MIT
-- bridge.lua: lets other Linux programs talk to the co-processor. Every
-- message from the co-processor goes out on a local channel, and everything
-- that comes in on the channel goes to the co-processor.
--
--   rpmsg-lua scripts/bridge.lua [fifo:PREFIX | fd:N]
--
-- fifo:PREFIX (the default, fifo:/run/rpmsg-bridge): two named pipes, made
--   if missing. Write lines to PREFIX.in, read lines from PREFIX.out:
--     echo "set led 1" > /run/rpmsg-bridge.in
--     cat /run/rpmsg-bridge.out
--   One line is one message (at most 496 bytes once unescaped). A message
--   holding a newline or a backslash travels escaped, both ways: "\n" for a
--   newline, "\\" for a backslash. Any program that can open a file can use
--   it, with no library.
-- fd:N: a connected SOCK_SEQPACKET socket inherited as fd N, one message per
--   datagram, binary-safe, e.g. from systemd socket activation
--   (ListenSequentialPacket=/run/rpmsg-bridge.sock, Accept=yes: each client
--   gets its own bridge, with the connection as fd 3: "fd:3"). The bridge
--   stops when the other end closes.
--
-- Why FIFOs and not a socket we listen on: Lua 5.4 on Debian 12 has no
-- socket library (no luaposix for 5.4), and rpmsg-lua does not create
-- sockets itself; rpmsg.watch() on an opened file is what there is. The FIFOs
-- are opened read-write, so opening never blocks and the bridge never sees
-- end-of-file when a writer goes away. Input is read one byte per loop turn
-- (a read never blocks the loop: the fd was readable); output is written one
-- message per "writable" event (a pipe that polls writable takes a write of
-- up to 4096 bytes without blocking), and when nobody reads PREFIX.out and
-- its 64 KiB fill up, the oldest messages beyond MAX_QUEUED are dropped with
-- a log line rather than blocking the loop.
--
-- Runs on a board (rpmsg_ctrl0, remote on address 1061) and under
-- --sim scripts/sim/bridge_fw.lua.
local rpmsg = require "rpmsg"

local MAX_QUEUED = 1024
local MAX = rpmsg.MAX_MESSAGE_SIZE

local where = arg and arg[1] or "fifo:/run/rpmsg-bridge"
local remote = assert(rpmsg.endpoint{ctrl = 0, name = "bridge", src = 1060, dst = 1061})
remote.on_close = function(reason)
  rpmsg.log("bridge: co-processor endpoint closed: %s", reason)
  rpmsg.stop()
end

local function to_remote(msg)
  local ok, err = remote:send(msg)
  if not ok then rpmsg.log("bridge: message to the co-processor lost: %s", err) end
end

-- fd:N ---------------------------------------------------------------------
local function bridge_fd(fd)
  local ep, err = rpmsg.endpoint{fd = fd}
  if not ep then error(("bridge: fd %d: %s"):format(fd, err), 0) end
  ep.on_message = to_remote
  ep.on_close = function(reason)
    rpmsg.log("bridge: local peer on fd %d went away (%s)", fd, reason)
    rpmsg.stop()
  end
  remote.on_message = function(msg)
    local ok, serr = ep:send(msg)
    if not ok then rpmsg.log("bridge: message to fd %d lost: %s", fd, serr) end
  end
  rpmsg.log("bridge: co-processor <-> SOCK_SEQPACKET fd %d", fd)
end

-- fifo:PREFIX --------------------------------------------------------------
local function escape(msg) return (msg:gsub("\\", "\\\\"):gsub("\n", "\\n")) end
local function unescape(line)
  return (line:gsub("\\([\\n])", function(c) return c == "n" and "\n" or "\\" end))
end

local function open_fifo(path)
  local q = "'" .. path:gsub("'", "'\\''") .. "'"
  if not os.execute(("test -p %s || mkfifo -m 0660 %s"):format(q, q)) then
    error(("bridge: cannot make the FIFO %s"):format(path), 0)
  end
  local f = assert(io.open(path, "r+"))   -- read-write: the open never blocks
  f:setvbuf("no")                         -- no hidden stdio buffer between us and the fd
  return f
end

local function bridge_fifo(prefix)
  local fin, fout = open_fifo(prefix .. ".in"), open_fifo(prefix .. ".out")

  -- PREFIX.in: bytes into lines, lines into messages.
  local line, len, too_long = {}, 0, false
  rpmsg.watch(fin, function()
    local c = fin:read(1)
    if not c then return end
    if c ~= "\n" then
      if len < 2 * MAX + 1 then len = len + 1; line[len] = c else too_long = true end
      return
    end
    local msg = unescape(table.concat(line, "", 1, len))
    line, len = {}, 0
    if too_long or #msg > MAX then
      rpmsg.log("bridge: line over %d bytes from %s.in dropped", MAX, prefix)
    else
      to_remote(msg)
    end
    too_long = false
  end)

  -- PREFIX.out: a queue, written while the pipe has room.
  local queue, head, tail, writer, dropped = {}, 1, 0, nil, 0
  local function write_one()
    if head > tail then writer:cancel(); writer = nil; return end
    fout:write(queue[head])
    queue[head] = nil
    head = head + 1
  end
  remote.on_message = function(msg)
    if tail - head + 1 >= MAX_QUEUED then
      queue[head] = nil
      head = head + 1
      dropped = dropped + 1
      if dropped == 1 or dropped % 100 == 0 then
        rpmsg.log("bridge: nobody reads %s.out: %d messages dropped", prefix, dropped)
      end
    end
    tail = tail + 1
    queue[tail] = escape(msg) .. "\n"
    if not writer then writer = rpmsg.watch(fout, write_one, "w") end
  end
  rpmsg.log("bridge: %s.in -> co-processor -> %s.out", prefix, prefix)
end

local kind, value = where:match("^(%a+):(.+)$")
if kind == "fd" and tonumber(value) then
  bridge_fd(tonumber(value))
elseif kind == "fifo" then
  bridge_fifo(value)
else
  error(("bridge: expected fifo:PREFIX or fd:N, got %q"):format(where), 0)
end
