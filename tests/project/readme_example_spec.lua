-- SPDX-License-Identifier: MIT
-- The README's "Testing a handler with busted" example, taken from README.md
-- itself and run as a busted process of its own: it passes as written, and
-- fails quickly (never hangs) when its assertion fails or no answer comes.
local helper = require "tests.helper"
local q = helper.q

-- The first ```lua block after the "Testing a handler with busted" line.
local function readme_example()
  local f = assert(io.open("README.md"))
  local text = f:read("a")
  f:close()
  local at = assert(text:find("Testing a handler with busted", 1, true),
    "README.md has no \"Testing a handler with busted\" section")
  local code = text:match("```lua\n(.-)```", at)
  return assert(code, "no ```lua block after \"Testing a handler with busted\" in README.md")
end

-- Replaces plain text once, failing if the example no longer has it.
local function change(code, from, to)
  local at = code:find(from, 1, true)
  assert(at, ("the README example no longer contains %q"):format(from))
  return code:sub(1, at - 1) .. to .. code:sub(at + #from)
end

-- Runs code as a spec file in a busted of its own (killed after 30 s);
-- returns busted's exit status, its output, and the seconds it took.
local function busted(code)
  -- the example loads build/rpmsg.so; the sanitizer run points at its own build
  code = change(code, '"build/?.so;"', ("%q"):format(helper.build .. "/?.so;"))
  local path = helper.script(code)
  local t0 = os.time()
  local status, out, err = helper.sh(("timeout -s KILL 30 lua5.4 /usr/bin/busted -o TAP %s"):format(q(path)))
  os.remove(path)
  return status, out .. err, os.time() - t0
end

describe("the README's busted example", function()
  local example = readme_example()

  it("runs its loop bounded, raising handler errors", function()
    assert.matches("rpmsg.run{timeout = %d+, raise_errors = true}", example)
  end)

  it("passes as written", function()
    local status, out = busted(example)
    assert.equal(0, status, out)
    assert.matches("ok 1 %- acks\n", out)
  end)

  it("fails, and does not hang, when the assertion in its handler fails", function()
    local status, out, seconds = busted(change(example, 'assert.equal("ack:x", m)', 'assert.equal("ack:y", m)'))
    assert.not_equal(0, status, out)
    assert.not_equal(137, status, "busted was killed: the example hung\n" .. out)
    assert.matches("not ok 1 %- acks\n", out)
    assert.matches("error in on_message of endpoint", out, 1, true)
    assert.matches("Expected objects to be equal", out, 1, true)
    assert.is_true(seconds < 10, ("it took %d s to fail"):format(seconds))
  end)

  it("fails with a timeout, and does not hang, when no answer comes", function()
    local status, out, seconds = busted(change(example, 'board:send("ack:" .. m)', "local _ = m"))
    assert.not_equal(0, status, out)
    assert.not_equal(137, status, "busted was killed: the example hung\n" .. out)
    assert.matches("not ok 1 %- acks\n", out)
    assert.matches("timeout", out, 1, true)
    assert.is_true(seconds < 10, ("it took %d s to fail"):format(seconds))
  end)
end)
