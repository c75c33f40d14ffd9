-- SPDX-License-Identifier: MIT
-- runtime/dist/rpmsg-lua.1 and `rpmsg-lua --help` stay in step: every
-- option of one is in the other, and so is every command; the page is
-- clean roff (groff's warnings, when groff is installed).
local helper = require "tests.helper"

local MAN = "runtime/dist/rpmsg-lua.1"

local function read(path) return assert(helper.read_file(path)) end

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- Names in a but not in b, sorted, as one string ("" when none).
local function missing(a, b)
  local out = {}
  for k in pairs(a) do
    if not b[k] then out[#out + 1] = k end
  end
  table.sort(out)
  return table.concat(out, " ")
end

-- From --help: the options of its "options:" block, and the commands of its
-- usage lines ("rpmsg-lua attach PATH" gives attach).
local function from_help(help)
  local options, commands = {}, {}
  local block = help:match("\noptions:\n(.-)\n\n") or ""
  for line in (block .. "\n"):gmatch("([^\n]*)\n") do
    local names = line:match("^  (%-[^ ]*,? ?%-?%-?[%w-]*)")
    if names then
      for o in names:gmatch("%-%-?[%w][%w-]*") do options[#options + 1] = o end
    end
  end
  for word in help:gmatch("rpmsg%-lua ([%w][%w-]*)") do
    if help:match("usage: rpmsg%-lua " .. word:gsub("%-", "%%-")) or
       help:match("\n       rpmsg%-lua " .. word:gsub("%-", "%%-")) then
      commands[#commands + 1] = word
    end
  end
  return set_of(options), set_of(commands)
end

-- The entries (.TP, then the line that names them) of one section.
local function tagged(man, section)
  local body = man:match("\n%.SH " .. section .. "\n(.-)\n%.SH ") or ""
  local tags = {}
  for tag in body:gmatch("%.TP\n([^\n]*)") do
    tags[#tags + 1] = tag:gsub("\\%-", "-"):gsub("^%.%a+ ", "")
  end
  return tags
end

local function from_man(man)
  local options, commands = {}, {}
  for _, tag in ipairs(tagged(man, "OPTIONS")) do
    for o in tag:gmatch("%-%-?[%w][%w-]*") do options[#options + 1] = o end
  end
  for _, tag in ipairs(tagged(man, "COMMANDS")) do
    commands[#commands + 1] = tag:match("^([%w][%w-]*)")
  end
  return set_of(options), set_of(commands)
end

describe("the man page", function()
  local help, man
  setup(function()
    local status, out, err = helper.host({"--help"})
    assert(status == 0, err)
    help, man = out, read(MAN)
  end)

  it("has every option of --help, and no option --help lacks", function()
    local h, m = from_help(help), from_man(man)
    assert.is_true(next(h) ~= nil, "no option found in --help")
    assert.equal("", missing(h, m), "in --help, not in " .. MAN)
    assert.equal("", missing(m, h), "in " .. MAN .. ", not in --help")
  end)

  it("has every command of --help's usage, and no other", function()
    local _, h = from_help(help)
    local _, m = from_man(man)
    assert.is_true(h.attach and h.list, "commands not found in --help")
    assert.equal("", missing(h, m), "in --help, not in " .. MAN)
    assert.equal("", missing(m, h), "in " .. MAN .. ", not in --help")
  end)

  it("names each exit status of --help", function()
    local codes = man:match("\n%.SH EXIT STATUS\n(.-)\n%.SH ")
    for code in help:gmatch("Exit (%d+)") do
      assert.matches("%.TP\n%.B " .. code .. "\n", codes)
    end
  end)

  it("is clean roff for groff", function()
    if helper.sh("command -v groff") ~= 0 then
      pending("groff is not installed (Debian package groff-base)")
      return
    end
    local status, out, err = helper.sh("env -u LD_PRELOAD groff -man -Tutf8 -ww -z " .. helper.q(MAN))
    assert.equal(0, status)
    assert.equal("", out .. err)
  end)
end)
