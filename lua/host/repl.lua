-- SPDX-License-Identifier: MIT
-- rpmsg.repl: the read-eval-print logic shared by the terminal REPL
-- (rpmsg-lua -i) and the console sessions (rpmsg-lua --console PATH). It
-- follows lua.c: prompts "> " and ">> ", an expression prints its values, and
-- input that ends too early ("<eof>" in the error) waits for more lines,
-- and "=expr" on a first line prints the value of expr.
local rpmsg = require "rpmsg"
local pretty = require "rpmsg.pretty"
local complete = require "rpmsg.complete"
local help = require "rpmsg.help"

local M = {}

local Session = {}
Session.__index = Session

-- opts.write(text): where output goes.
-- opts.env(): the environment to evaluate in (the running script's).
-- opts.run(fn): calls fn under the watchdog; returns true, results... or
--   false, traceback.
-- opts.plain: results print as lua.c prints them (tostring), for scripts
--   that parse the output; otherwise through rpmsg.pretty.
function M.session(opts)
  local self = setmetatable({write = opts.write, env = opts.env, run = opts.run,
    plain = opts.plain}, Session)
  self.print = function(...)
    local parts = table.pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    -- false once the session closed, so a trace listener (attach --trace) goes
    return self.write(table.concat(parts, "\t", 1, parts.n) .. "\n")
  end
  self.help = function(...) self.write(help.text(...)) end
  return self
end

function Session:prompt()
  return self.pending and ">> " or "> "
end

-- What a REPL user has at hand without require, unless the script has a
-- global of the same name. Never written into the script's globals.
-- help is the session's own, so its text goes to whoever asked.
local at_hand = {rpmsg = rpmsg}

-- Globals read and written by REPL chunks are the script's; only print is
-- the session's own, so output goes back to whoever typed.
function Session:chunk_env()
  local env = self.env()
  local function lookup(_, name)
    local value = env[name]
    if value == nil then return name == "help" and self.help or at_hand[name] end
    return value
  end
  return setmetatable({print = self.print}, {__index = lookup, __newindex = env})
end

local function incomplete(err)
  return err:sub(-5) == "<eof>"
end

-- Compiles source as an expression first (to print its value), then as a
-- statement.
local function compile(source, env)
  local fn = load("return " .. source, "=stdin", "t", env)
  if fn then return fn end
  return load(source, "=stdin", "t", env)
end

-- Feeds one line of input; returns the prompt for the next one.
function Session:feed(line)
  if not self.pending and line:sub(1, 1) == "=" then
    line = "return " .. line:sub(2)   -- lua.c's shorthand
  end
  local source = self.pending and (self.pending .. "\n" .. line) or line
  local fn, err = compile(source, self:chunk_env())
  if not fn then
    if incomplete(err) then
      self.pending = source
    else
      self.pending = nil
      self.write(err .. "\n")
    end
    return self:prompt()
  end
  self.pending = nil
  local results = table.pack(self.run(fn))
  if not results[1] then
    -- the traceback stops where the REPL's own frames begin
    local trace = tostring(results[2]):gsub("\n\t%[C%]: in field 'run'.*$", "")
    self.write(trace .. "\n")
  elseif results.n > 1 and self.plain then
    self.print(table.unpack(results, 2, results.n))
  elseif results.n > 1 then
    self.write(pretty.format_all(table.unpack(results, 2, results.n)) .. "\n")
  end
  return self:prompt()
end

-- Completions of word (the end of the line before the cursor, e.g.
-- "ep:se"): a list of whole words ("ep:send("), sorted.
function Session:complete(word)
  return complete.words(word, self.env(), at_hand, {print = self.print, help = self.help})
end

-- Drops a half-typed statement (Ctrl-C at the prompt).
function Session:cancel()
  self.pending = nil
  return self:prompt()
end

return M
