-- SPDX-License-Identifier: MIT
-- rpmsg.complete: Tab completion for the REPL. Given the word before the
-- cursor ("ep:se", "rpmsg.en", "pri"), finds the names it can become: global
-- names, the fields of tables and the methods of userdata (from their
-- metatables: an __index table, a `methods` table, or the tables an __index
-- function keeps as upvalues, as the endpoint's does). Functions complete
-- with "(", the rest as they are.
local M = {}

local keywords = {}
for w in ([[and break do else elseif end false for function goto if in local
  nil not or repeat return then true until while]]):gmatch("%a+") do keywords[w] = true end

local function add_keys(out, t)
  if type(t) ~= "table" then return end
  for k, v in pairs(t) do
    if type(k) == "string" and k:match("^[%a_][%w_]*$") and out[k] == nil then out[k] = v end
  end
end

-- The names reachable through v's metatable: what `v.x` and `v:x()` find.
local function add_meta(out, v, depth)
  local mt = debug.getmetatable(v)
  if type(mt) ~= "table" or depth > 3 then return end
  local index = rawget(mt, "__index")
  if type(index) == "table" then
    add_keys(out, index)
    add_meta(out, index, depth + 1)
  elseif type(index) == "function" then
    for i = 1, 255 do
      local name, up = debug.getupvalue(index, i)
      if not name then break end
      if type(up) == "table" then add_keys(out, up) end
    end
  end
  add_keys(out, rawget(mt, "methods"))
end

-- The fields the README documents for our userdata (ep.name, ep.on_message):
-- their __index is C, so only the docs know them.
local function add_documented(out, v)
  local help = require "rpmsg.help"
  for short, type_name in pairs(help.objects) do
    if help.is_a(v, type_name) then
      for name in pairs(help.by_name) do
        local field = name:match("^" .. short .. "%.([%w_]+)$")
        if field and out[field] == nil then out[field] = false end
      end
    end
  end
end

local function members(v)
  local out = {}
  if type(v) == "table" then add_keys(out, v) end
  add_meta(out, v, 0)
  if type(v) == "userdata" then add_documented(out, v) end
  return out
end

local function lookup(v, name)
  local ok, r = pcall(function() return v[name] end)
  if ok then return r end
end

-- word: the end of the line before the cursor. env: the script's globals;
-- ... : more tables of names at hand (the REPL's rpmsg, print, help).
-- Returns the completions, each the whole word, sorted.
function M.words(word, env, ...)
  local head, expr = word:match("^(.-)([%w_%.:]*)$")
  local base, sep, partial = expr:match("^(.*)([%.:])([%w_]*)$")
  local names
  if base then
    if base == "" or base:find(":") or base:find("%.%.") or base:match("^%d") then return {} end
    local v
    for part in base:gmatch("[^%.]+") do
      if v == nil then
        v = env[part]
        for i = 1, select("#", ...) do
          if v == nil then v = (select(i, ...))[part] end
        end
      else
        v = lookup(v, part)
      end
      if v == nil then return {} end
    end
    names = members(v)
  else
    partial, sep, base = expr, "", ""
    if partial:match("^%d") then return {} end
    names = {}
    add_keys(names, env)
    add_meta(names, env, 0)
    for i = 1, select("#", ...) do add_keys(names, (select(i, ...))) end
    for k in pairs(keywords) do if names[k] == nil then names[k] = false end end
  end
  local out = {}
  for name, value in pairs(names) do
    if name:sub(1, #partial) == partial and (sep ~= ":" or type(value) == "function") then
      local call = type(value) == "function" and "(" or ""
      out[#out + 1] = head .. base .. sep .. name .. call
    end
  end
  table.sort(out)
  return out
end

return M
