-- SPDX-License-Identifier: MIT
-- The per-endpoint metatables against scripts that reach into them with
-- the base library alone (getmetatable, setmetatable, rawset, pairs): no
-- other value can pass for an endpoint, and a script that tampers with one
-- endpoint's tables breaks that endpoint at most, never the process. Each
-- case runs in a stock lua5.4 of its own, so a crash is a failure here,
-- not the end of the run.
local helper = require "tests.helper"
local rpmsg = require "rpmsg"
local q = helper.q

-- Runs code after `local rpmsg = require "rpmsg"; local a, b = rpmsg.pair()`
-- in a lua5.4 of its own; returns status, stdout, stderr.
local function run(code)
  return helper.sh(("timeout -s KILL 20 lua5.4 -e %s </dev/null"):format(q(
    "package.cpath = '" .. helper.build .. "/?.so;' .. package.cpath\n" ..
    "local rpmsg = require 'rpmsg'\nlocal a, b = rpmsg.pair()\n" .. code)))
end

-- Expects the code to end normally and print `want`.
local function expect(code, want)
  local status, out, err = run(code)
  assert.equal(0, status, "the process failed: " .. tostring(err))
  assert.equal(want, out)
end

describe("what may pass for an endpoint", function()
  it("the kind behind the endpoint's metatable cannot be reached or replaced", function()
    local a = rpmsg.pair()
    local mt = getmetatable(a)
    assert.equal("table", type(mt))            -- its own metatable stays visible
    assert.equal("rpmsg.endpoint", mt.__name)
    assert.is_not.equal("table", type(getmetatable(mt)))
    assert.is_not.equal("table", type(getmetatable(mt.__index)))
    assert.has_error(function() setmetatable(mt, nil) end)
    a:close()
  end)

  it("a table that wears an endpoint's metatable is named a table when refused, not an endpoint", function()
    local a, b = rpmsg.pair()
    finally(function() a:close(); b:close() end)
    local t = setmetatable({}, getmetatable(a))
    for _, v in ipairs({t, getmetatable(a).__index, getmetatable(a)}) do
      for _, f in ipairs({a.send, a.close, v == t and tostring or a.stats}) do
        local ok, err = pcall(f, v, "x")
        assert.is_false(ok)
        assert.matches("rpmsg.endpoint expected, got table", err, 1, true)
      end
    end
    assert.error_matches(function() t.on_message = print end, "rpmsg.endpoint expected, got table", 1, true)
  end)

  it("another userdata whose metatable a script gave the kind is no endpoint", function()
    expect([[
      local kind = getmetatable(getmetatable(a))
      if type(kind) == "table" then pcall(setmetatable, getmetatable(io.stdout), kind) end
      local ok, err = pcall(a.send, io.stdout, "x")
      assert(not ok and err:match("rpmsg.endpoint expected"), err)
      ok, err = pcall(a.close, io.stdout)
      assert(not ok and err:match("rpmsg.endpoint expected"), err)
      io.write(tostring(a:send("still")), " ", b:recv(496, 0))
    ]], "true still")
  end)

  it("a foreign value put in an endpoint's method table is never taken for it", function()
    expect([[
      local methods = getmetatable(a).__index
      for k in pairs(methods) do
        if type(k) ~= "string" then methods[k] = io.stdout end
      end
      local ok, fd = pcall(function() return a.fd end)
      io.write(tostring(ok), " ", tostring(fd), " ", tostring(b.fd ~= nil))
    ]], "true nil true")
  end)

  it("reading through another endpoint's method table looks nothing up in a foreign value", function()
    expect([[
      local methods = getmetatable(a).__index
      local t = {}
      for k in pairs(methods) do if type(k) ~= "string" then t[k] = io.stderr end end
      local kind = getmetatable(methods)
      if type(kind) == "table" then setmetatable(t, kind) end
      local ok, v = pcall(function() return t.fd end)
      io.write(tostring(ok), " ", tostring(v))
    ]], "true nil")
  end)
end)
