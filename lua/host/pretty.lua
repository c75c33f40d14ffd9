-- SPDX-License-Identifier: MIT
-- rpmsg.pretty: how the REPL shows values. Tables nested with their keys
-- sorted, cycles marked, depth and width bounded (an ellipsis says what was
-- left out), strings quoted with their binary bytes as \xNN, userdata by
-- their __tostring. One line when it fits, indented lines when not.
local M = {}

M.defaults = {depth = 4, width = 32, line = 76}

local ident_rx = "^[%a_][%w_]*$"
local keywords = {}
for w in ([[and break do else elseif end false for function goto if in local
  nil not or repeat return then true until while]]):gmatch("%a+") do keywords[w] = true end

local escapes = {["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\v"] = "\\v"}

-- A string as Lua source would write it: text stays readable (valid UTF-8
-- included), control and binary bytes become \xNN.
function M.quote(s)
  local utf8_ok = utf8.len(s) ~= nil
  local out = s:gsub('[%c\\"\128-\255]', function(c)
    if escapes[c] then return escapes[c] end
    if c:byte() >= 128 and utf8_ok then return c end
    return ("\\x%02X"):format(c:byte())
  end)
  return '"' .. out .. '"'
end

local type_rank = {number = 1, string = 2, boolean = 3}

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (type_rank[ta] or 9) < (type_rank[tb] or 9) or
    ((type_rank[ta] or 9) == (type_rank[tb] or 9) and ta < tb) end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function scalar(v)
  local t = type(v)
  if t == "string" then return M.quote(v) end
  if t == "number" and math.type(v) == "float" and v == math.floor(v) and v == v
    and math.abs(v) < 2^63 then
    return ("%.1f"):format(v)
  end
  return tostring(v)   -- __tostring of userdata and tables with one
end

local function key_text(k)
  if type(k) == "string" and k:match(ident_rx) and not keywords[k] then return k end
  return "[" .. scalar(k) .. "]"
end

-- Returns the text of v, with opts and the tables on the path being shown.
local function show(v, opts, level, path)
  if type(v) ~= "table" then return scalar(v) end
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__tostring") then return tostring(v) end
  if path[v] then return "<cycle: " .. tostring(v) .. ">" end
  if next(v) == nil then return "{}" end
  if level >= opts.depth then return "{...}" end
  path[v] = true
  local keys, n = {}, #v
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_less)
  local items, shown, total = {}, 0, n + #keys
  for i = 1, n do
    if shown == opts.width then break end
    items[#items + 1] = show(v[i], opts, level + 1, path)
    shown = shown + 1
  end
  for _, k in ipairs(keys) do
    if shown == opts.width then break end
    items[#items + 1] = key_text(k) .. " = " .. show(v[k], opts, level + 1, path)
    shown = shown + 1
  end
  if shown < total then items[#items + 1] = ("... (%d more)"):format(total - shown) end
  path[v] = nil
  local flat = "{" .. table.concat(items, ", ") .. "}"
  if #flat + level * 2 <= opts.line and not flat:find("\n") then return flat end
  local pad = ("  "):rep(level + 1)
  return "{\n" .. pad .. table.concat(items, ",\n" .. pad) .. "\n" .. ("  "):rep(level) .. "}"
end

-- The text of one value. opts (optional): depth (levels of tables shown),
-- width (entries shown per table), line (the longest line kept on one).
function M.format(v, opts)
  local o = setmetatable(opts or {}, {__index = M.defaults})
  return show(v, o, 0, {})
end

-- Several values, as the REPL prints results: separated by tabs.
function M.format_all(...)
  local n, parts = select("#", ...), {}
  for i = 1, n do parts[i] = M.format((select(i, ...))) end
  return table.concat(parts, "\t")
end

return M
