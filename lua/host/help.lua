-- SPDX-License-Identifier: MIT
-- rpmsg.help: help() and help(rpmsg.endpoint) in the REPL. The text is the
-- README's API tables (rpmsg.apidoc, generated at build time by
-- runtime/host/apidoc.lua), found by name ("ep:send") or by the function
-- itself (rpmsg.every, ep.send).
local rpmsg = require "rpmsg"
local apidoc = require "rpmsg.apidoc"

local M = {}

-- The names the README gives the module's userdata, and their types.
-- Each object's metatable: its registry name (a C type), or a function
-- that returns it (a type written in Lua, whose metatable is its module's).
M.objects = {ep = "rpmsg.endpoint", ctrl = "rpmsg.ctrl", timer = "rpmsg.timer",
  task = "rpmsg.task", r = "rpmsg.remoteproc", watch = "rpmsg.watch", h = "rpmsg.tty_fd",
  t = function() return require("rpmsg.tty").metatable end}

-- The module makes most kinds' metatables with their first object; the
-- registry's "rpmsg.kind" makes one now, for its methods' names.
function M.metatable_of(type_name)
  if type(type_name) == "function" then return type_name() end
  local reg = debug.getregistry()
  local mt = reg[type_name]
  if mt == nil and reg["rpmsg.kind"] then mt = reg["rpmsg.kind"](type_name) end
  return mt
end

-- Whether v is of the kind: its metatable is the kind's, or (an endpoint,
-- whose metatable is its own) has the kind's as its metatable.
function M.is_a(v, type_name)
  local mt, kind = debug.getmetatable(v), M.metatable_of(type_name)
  return mt ~= nil and (mt == kind or debug.getmetatable(mt) == kind)
end

-- name -> entries: first those whose call column names it, then those whose
-- notes mention it.
local by_name = {}
for _, e in ipairs(apidoc) do
  for _, n in ipairs(e.names) do
    by_name[n] = by_name[n] or {}
    table.insert(by_name[n], e)
  end
end
for _, e in ipairs(apidoc) do
  for _, n in ipairs(e.mentions) do
    if not by_name[n] then by_name[n] = {e} end
  end
end
M.by_name = by_name

-- The methods of one of our userdata types, by name, from its metatable.
function M.methods(type_name)
  local mt = M.metatable_of(type_name)
  local out = {}
  if type(mt) ~= "table" then return out end
  local function take(t)
    if type(t) ~= "table" then return end
    for k, v in pairs(t) do
      if type(k) == "string" and type(v) == "function" and not k:match("^__") then out[k] = v end
    end
  end
  take(rawget(mt, "__index"))
  take(rawget(mt, "methods"))
  if type(rawget(mt, "__index")) == "function" then
    for i = 1, 255 do
      local name, up = debug.getupvalue(mt.__index, i)
      if not name then break end
      take(up)
    end
  end
  return out
end

-- Every function of the module with the name the README gives it:
-- "rpmsg.every", "ep:send". What the spec checks against the docs.
function M.functions()
  local out = {}
  for k, v in pairs(rpmsg) do
    if type(v) == "function" then out["rpmsg." .. k] = v end
  end
  for short, type_name in pairs(M.objects) do
    for k, v in pairs(M.methods(type_name)) do out[short .. ":" .. k] = v end
  end
  return out
end

local function name_of(v)
  for name, fn in pairs(M.functions()) do
    if fn == v then return name end
  end
  -- An endpoint's own method (ep.send), a closure that holds its endpoint
  -- as upvalue 2: named by its key in that endpoint's method table.
  if type(v) == "function" then
    local _, ep = debug.getupvalue(v, 2)
    if M.is_a(ep, "rpmsg.endpoint") then
      for k, f in pairs(debug.getmetatable(ep).__index) do
        if f == v and type(k) == "string" then return "ep:" .. k end
      end
    end
  end
  for short, type_name in pairs(M.objects) do
    if M.is_a(v, type_name) then return short end
  end
end

local function wrap(text, indent, width)
  local lines, line = {}, indent
  for word in text:gmatch("%S+") do
    if #line + #word + 1 > width and line ~= indent then
      lines[#lines + 1] = line
      line = indent
    end
    line = line == indent and line .. word or line .. " " .. word
  end
  if line ~= indent then lines[#lines + 1] = line end
  return table.concat(lines, "\n")
end

local function entry_text(e)
  local head = e.call .. (e.returns ~= "" and ("  -> " .. e.returns) or "")
  if e.notes == "" then return head .. "\n" end
  return head .. "\n" .. wrap(e.notes, "    ", 78) .. "\n"
end

-- One line of the overview: the call, and the notes' first clause.
local function summary(e)
  local call = #e.call <= 30 and e.call or (e.call:sub(1, 27) .. "...")
  local s = (e.notes:match("^(.-)[%.;] ") or e.notes):gsub("%.$", "")
  if #s > 46 then s = s:sub(1, 43) .. "..." end
  return ("%-30s %s"):format(call, s)
end

local function overview(filter)
  local out, section = {}, nil
  for _, e in ipairs(apidoc) do
    local wanted = not filter
    for _, n in ipairs(e.names) do
      if filter and n:sub(1, #filter + 1):match("^" .. filter .. "[.:]") then wanted = true end
    end
    if wanted then
      if e.section ~= section and not filter then
        section = e.section
        out[#out + 1] = "-- " .. section
      end
      out[#out + 1] = summary(e)
    end
  end
  if not filter then
    out[#out + 1] = 'help(rpmsg.every), help(ep.send) or help("ep:send") for one of them.'
  end
  return table.concat(out, "\n") .. "\n"
end

-- The text help(what) shows: every function for help() or help(rpmsg), an
-- object's methods for help(ep), one function's row for help(fn) or
-- help("name").
function M.text(...)
  local what = ...
  if select("#", ...) == 0 or what == rpmsg then return overview() end
  local name = type(what) == "string" and what or name_of(what)
  if name and M.objects[name] then return overview(name) end
  local entries = name and by_name[name]
  if not entries then
    return ("no help for %s: help() lists what there is\n"):format(
      type(what) == "string" and what or tostring(what))
  end
  local parts = {}
  for i, e in ipairs(entries) do parts[i] = entry_text(e) end
  return table.concat(parts, "\n")
end

return M
