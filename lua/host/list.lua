-- SPDX-License-Identifier: MIT
-- rpmsg.list: `rpmsg-lua list [--json]`, what the kernel has now: control
-- devices, endpoints (with their /dev nodes), the channels the remote
-- announced and remoteprocs, as a table for
-- people or as JSON for scripts.
local rpmsg = require "rpmsg"

local M = {}

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ({['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\t'] = '\\t'})[c]
      or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

-- JSON for the shapes rpmsg.list() returns: arrays of flat records.
function M.json(value)
  local t = type(value)
  if t == "string" then return json_string(value) end
  if t == "number" or t == "boolean" then return tostring(value) end
  if t ~= "table" then return "null" end
  if value[1] ~= nil or next(value) == nil then
    local items = {}
    for i, v in ipairs(value) do items[i] = M.json(v) end
    return "[" .. table.concat(items, ",") .. "]"
  end
  local keys = {}
  for k in pairs(value) do keys[#keys + 1] = k end
  table.sort(keys)
  local items = {}
  for i, k in ipairs(keys) do items[i] = json_string(k) .. ":" .. M.json(value[k]) end
  return "{" .. table.concat(items, ",") .. "}"
end

local function address(a)
  return a == rpmsg.ADDR_ANY and "ANY" or tostring(a)
end

-- Columns padded to their widest cell.
local function table_text(title, header, rows)
  local widths = {}
  for i, h in ipairs(header) do widths[i] = #h end
  for _, row in ipairs(rows) do
    for i, cell in ipairs(row) do widths[i] = math.max(widths[i], #cell) end
  end
  local lines = {title}
  local function line(cells)
    local out = {}
    for i, c in ipairs(cells) do out[i] = c .. (" "):rep(widths[i] - #c) end
    lines[#lines + 1] = "  " .. table.concat(out, "  "):gsub("%s+$", "")
  end
  line(header)
  for _, row in ipairs(rows) do line(row) end
  if #rows == 0 then lines[#lines + 1] = "  (none)" end
  return table.concat(lines, "\n") .. "\n"
end

function M.text(l)
  local ctrls, eps, procs, chans = {}, {}, {}, {}
  for _, c in ipairs(l.ctrls) do ctrls[#ctrls + 1] = {c.dev} end
  for _, e in ipairs(l.endpoints) do
    eps[#eps + 1] = {e.name, address(e.src), address(e.dst), e.dev, "rpmsg_ctrl" .. e.ctrl}
  end
  for _, c in ipairs(l.channels or {}) do
    chans[#chans + 1] = {c.name, address(c.src), address(c.dst), c.remoteproc or "-",
      c.ctrl and ("rpmsg_ctrl" .. c.ctrl) or "-", c.driver or "-", c.dev or "-"}
  end
  for _, r in ipairs(l.remoteprocs) do
    procs[#procs + 1] = {r.name, r.state or "?", r.firmware or "?",
      r.ctrl and ("rpmsg_ctrl" .. r.ctrl) or "-"}
  end
  return table_text("control devices", {"DEVICE"}, ctrls) .. "\n" ..
    table_text("endpoints", {"NAME", "SRC", "DST", "DEVICE", "CONTROL"}, eps) .. "\n" ..
    table_text("channels", {"NAME", "SRC", "DST", "REMOTEPROC", "CONTROL", "DRIVER", "DEVICE"}, chans) .. "\n" ..
    table_text("remoteprocs", {"NAME", "STATE", "FIRMWARE", "CONTROL"}, procs)
end

function M.main(args)
  local l = rpmsg.list()
  local by_index = function(a, b) return (a.index or 0) < (b.index or 0) end
  table.sort(l.ctrls, by_index)
  table.sort(l.remoteprocs, by_index)
  table.sort(l.endpoints, function(a, b) return a.dev < b.dev end)
  if args[1] == "--json" then
    io.write(M.json(l), "\n")
  elseif args[1] == nil then
    io.write(M.text(l))
  else
    io.stderr:write("usage: rpmsg-lua list [--json]\n")
    return 2
  end
  return 0
end

return M
