-- SPDX-License-Identifier: MIT
-- rpmsg.observe: the host's reports of what flows. collect() gathers the
-- totals (rpmsg.stats()), every open endpoint's ep:stats() and the call
-- latencies of rpmsg.rpc peers; table() prints them for `rpmsg-lua stats`,
-- prometheus() as a Prometheus text exposition for --metrics, and
-- write_metrics() writes that to a temporary file renamed over PATH, as
-- node_exporter's textfile collector expects.
local rpmsg = require "rpmsg"

local M = {}

-- Marks the report in a console session's output (banner and prompts
-- around it), for `rpmsg-lua stats`.
M.BEGIN, M.END = "--- rpmsg-lua stats ---", "--- end ---"

-- An address as the trace shows it: ADDR_ANY (the kernel picked one that
-- userspace cannot see) is "any".
function M.address(a)
  return a == rpmsg.ADDR_ANY and "any" or tostring(a)
end

function M.collect()
  local out = {totals = rpmsg.stats(), endpoints = {}, rpc = {}}
  for _, ep in ipairs(rpmsg.endpoints()) do
    out.endpoints[#out.endpoints + 1] = {
      name = ep.name ~= "" and ep.name or ep.path, src = M.address(ep.src), dst = M.address(ep.dst),
      stats = ep:stats(),
    }
  end
  local rpc = package.loaded["rpmsg.rpc"]
  if type(rpc) == "table" and rpc.peers then
    for peer in pairs(rpc.peers) do
      for method, l in pairs(peer:latency()) do
        out.rpc[#out.rpc + 1] = {peer = peer.label, method = method, latency = l}
      end
    end
    table.sort(out.rpc, function(a, b) return a.peer .. a.method < b.peer .. b.method end)
  end
  return out
end

local function us(seconds)
  if not seconds then return "-" end
  return ("%.0f"):format(seconds * 1e6)
end

local function columns(rows)
  local widths = {}
  for _, row in ipairs(rows) do
    for i, cell in ipairs(row) do widths[i] = math.max(widths[i] or 0, #cell) end
  end
  local lines = {}
  for _, row in ipairs(rows) do
    local cells = {}
    for i, cell in ipairs(row) do
      cells[i] = i == 1 and ("%-" .. widths[i] .. "s"):format(cell) or ("%" .. widths[i] .. "s"):format(cell)
    end
    lines[#lines + 1] = table.concat(cells, "  ")
  end
  return table.concat(lines, "\n")
end

function M.table(data)
  data = data or M.collect()
  local rows = {{"endpoint", "src->dst", "rx", "tx", "rx bytes", "tx bytes", "eagain", "queue", "high",
    "drops", "errors", "handled", "avg us", "max us"}}
  for _, e in ipairs(data.endpoints) do
    local s = e.stats
    rows[#rows + 1] = {e.name, ("%s->%s"):format(e.src, e.dst), tostring(s.messages_in),
      tostring(s.messages_out), tostring(s.bytes_in), tostring(s.bytes_out), tostring(s.eagain),
      tostring(s.queue), tostring(s.queue_high), tostring(s.drops), tostring(s.handler_errors),
      tostring(s.handler_calls), s.handler_calls > 0 and us(s.handler_time / s.handler_calls) or "-",
      us(s.handler_max)}
  end
  local t = data.totals
  local parts = {columns(rows), ("total: %d in, %d out, %d handler errors (%d not logged)")
    :format(t.messages_in, t.messages_out, t.handler_errors, t.errors_not_logged)}
  if #data.rpc > 0 then
    local rpc = {{"rpc peer", "method", "calls", "p50 us", "p99 us", "max us"}}
    for _, r in ipairs(data.rpc) do
      rpc[#rpc + 1] = {r.peer, r.method, tostring(r.latency.count), us(r.latency.p50),
        us(r.latency.p99), us(r.latency.max)}
    end
    parts[#parts + 1] = columns(rpc)
  end
  return table.concat(parts, "\n\n")
end

-- What `rpmsg-lua stats` asks the console for.
function M.report()
  return M.BEGIN .. "\n" .. M.table() .. "\n" .. M.END
end

local function label(s)
  return (tostring(s):gsub("[\\\"\n]", {["\\"] = "\\\\", ["\""] = "\\\"", ["\n"] = "\\n"}))
end

local METRICS = {
  {"rpmsg_messages_total", "counter", "Messages by endpoint and direction.", function(s, dir)
    return dir == "rx" and s.messages_in or s.messages_out end, true},
  {"rpmsg_bytes_total", "counter", "Payload bytes by endpoint and direction.", function(s, dir)
    return dir == "rx" and s.bytes_in or s.bytes_out end, true},
  {"rpmsg_eagain_total", "counter", "Sends that met EAGAIN and waited in the send queue.",
    function(s) return s.eagain end},
  {"rpmsg_send_queue_depth", "gauge", "Messages waiting in the send queue.", function(s) return s.queue end},
  {"rpmsg_send_queue_high_water", "gauge", "The send queue's high-water mark.",
    function(s) return s.queue_high end},
  {"rpmsg_drops_total", "counter", "Queued messages never sent.", function(s) return s.drops end},
  {"rpmsg_handler_errors_total", "counter", "Errors raised by on_message.",
    function(s) return s.handler_errors end},
  {"rpmsg_handler_calls_total", "counter", "on_message calls.", function(s) return s.handler_calls end},
  {"rpmsg_handler_seconds_total", "counter", "Time spent in on_message.",
    function(s) return s.handler_time end},
  {"rpmsg_handler_seconds_max", "gauge", "The longest on_message call.", function(s) return s.handler_max end},
}

function M.prometheus(data)
  data = data or M.collect()
  local out = {}
  local function add(fmt, ...) out[#out + 1] = fmt:format(...) end
  for _, m in ipairs(METRICS) do
    local name, kind, help, get, by_direction = table.unpack(m)
    add("# HELP %s %s", name, help)
    add("# TYPE %s %s", name, kind)
    for _, e in ipairs(data.endpoints) do
      for _, dir in ipairs(by_direction and {"rx", "tx"} or {false}) do
        add("%s{endpoint=\"%s\",src=\"%s\",dst=\"%s\"%s} %s", name, label(e.name), e.src, e.dst,
          dir and (",direction=\"" .. dir .. "\"") or "", get(e.stats, dir))
      end
    end
  end
  local t = data.totals
  add("# HELP rpmsg_host_handler_errors_total Errors in every handler of the script.")
  add("# TYPE rpmsg_host_handler_errors_total counter")
  add("rpmsg_host_handler_errors_total %d", t.handler_errors)
  if #data.rpc > 0 then
    add("# HELP rpmsg_rpc_call_seconds Call latency per method over the last calls answered.")
    add("# TYPE rpmsg_rpc_call_seconds summary")
    for _, r in ipairs(data.rpc) do
      local l = ("peer=\"%s\",method=\"%s\""):format(label(r.peer), label(r.method))
      add("rpmsg_rpc_call_seconds{%s,quantile=\"0.5\"} %s", l, r.latency.p50)
      add("rpmsg_rpc_call_seconds{%s,quantile=\"0.99\"} %s", l, r.latency.p99)
      add("rpmsg_rpc_call_seconds_count{%s} %d", l, r.latency.count)
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- Writes the metrics to PATH.tmp, then renames it over PATH: a reader never
-- sees half a file. true, or nil and a message naming the path.
function M.write_metrics(path)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "w")
  if not f then return nil, ("cannot write metrics file %s: %s"):format(path, err) end
  local ok, werr = f:write(M.prometheus())
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    return nil, ("cannot write metrics file %s: %s"):format(path, werr or cerr)
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    return nil, ("cannot write metrics file %s: %s"):format(path, rerr)
  end
  return true
end

return M
