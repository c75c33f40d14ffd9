-- SPDX-License-Identifier: MIT
-- tests/run-all's verdict: a runner that crashes, exits non-zero or stops
-- short of its plan is counted as failed, whatever its TAP lines say. Fake
-- suites are added to run-all the way a real one is: a suite_NAME function.
local helper = require "tests.helper"
local q = helper.q
-- the sanitizer run preloads ASan, which would catch the fake runners' signals
local NO_PRELOAD = "env -u LD_PRELOAD "

-- Runs run-all with one fake suite whose runner is the shell code given;
-- returns run-all's exit status and output.
local function run_all_with(runner, ctests)
  local prelude = ctests and ("CTESTS=(%s); "):format(ctests) or ""
  local script = ("source tests/run-all; %s" ..
    "suite_fake() { run_tap fake bash -c %s; }; main fake %s"):format(
    prelude, q(runner), ctests and "c" or "")
  local status, out = helper.sh(NO_PRELOAD .. "timeout 60 bash -c " .. q(script))
  return status, out
end

local function last_line(out) return out:match("([^\n]*)\n?$") end

describe("tests/run-all", function()
  it("passes a runner that says ok to its whole plan and exits 0", function()
    local status, out = run_all_with("echo 'ok 1 - a'; echo 'ok 2 - b'; echo 1..2")
    assert.equal("2 passed, 0 failed", last_line(out))
    assert.equal(0, status)
  end)

  it("fails a runner that exits non-zero though all its lines say ok", function()
    local status, out = run_all_with("echo 'ok 1 - a'; echo 1..1; exit 3")
    assert.equal("1 passed, 1 failed", last_line(out))
    assert.matches("# fake: runner exited with status 3\n", out, 1, true)
    assert.not_equal(0, status)
  end)

  it("fails a runner killed by a signal after one passing test", function()
    local status, out = run_all_with("echo 'ok 1 - a'; kill -SEGV $$")
    assert.equal("1 passed, 1 failed", last_line(out))
    assert.matches("# fake: runner killed by signal 11\n", out, 1, true)
    assert.not_equal(0, status)
  end)

  it("kills a runner that hangs after RUN_ALL_TIMEOUT seconds and fails it", function()
    local status, out = helper.sh(NO_PRELOAD .. "timeout 60 bash -c " .. q("RUN_ALL_TIMEOUT=1; source tests/run-all; " ..
      "suite_fake() { run_tap fake bash -c " .. q("echo 'ok 1 - a'; exec sleep 30") .. "; }; main fake"))
    assert.equal("1 passed, 1 failed", last_line(out))
    assert.matches("# fake: runner killed (signal 9", out, 1, true)
    assert.not_equal(0, status)
  end)

  it("fails a runner that stops before its plan, with no plan, or before its first result", function()
    local _, short = run_all_with("echo 'ok 1 - a'; echo 1..3")
    assert.equal("1 passed, 2 failed", last_line(short))
    local _, unplanned = run_all_with("echo 'ok 1 - a'")
    assert.equal("1 passed, 1 failed", last_line(unplanned))
    assert.matches("# fake: no TAP plan", unplanned, 1, true)
    local _, silent = run_all_with("exit 0")
    assert.equal("0 passed, 1 failed", last_line(silent))
  end)

  it("counts each failed test once when the runner also exits non-zero for it", function()
    local _, out = run_all_with("echo 'ok 1 - a'; echo 'not ok 2 - b'; echo 1..2; exit 1")
    assert.equal("1 passed, 1 failed", last_line(out))
  end)

  it("fails a C test binary that exits non-zero or prints fewer results than its plan", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. q(dir)))
    local function binary(name, body)
      local path = dir .. "/" .. name
      local f = assert(io.open(path, "w"))
      f:write("#!/bin/sh\n", body, "\n")
      f:close()
      assert(os.execute("chmod +x " .. q(path)))
      return q(path)
    end
    local good = binary("test_good", "echo 'ok 1 - fine'; echo 1..1")
    local aborts = binary("test_aborts", "echo 'ok 1 - fine'; echo 1..1; kill -ABRT $$")
    local short = binary("test_short", "echo 'ok 1 - fine'; echo 1..2")
    local status, out = run_all_with("echo 'ok 1'; echo 1..1", table.concat({good, aborts, short}, " "))
    os.execute("rm -rf " .. q(dir))
    assert.equal("4 passed, 2 failed", last_line(out))
    assert.matches("# c/test_aborts: runner killed by signal 6\n", out, 1, true)
    assert.matches("# c/test_short: 1 results of the 2 planned", out, 1, true)
    assert.not_equal(0, status)
  end)

  it("counts a pending test neither as passed nor as failed", function()
    local status, out = run_all_with("echo 'ok 1 - a'; echo 'ok 2 - # SKIP later'; echo 1..2")
    assert.equal("1 passed, 0 failed", last_line(out))
    assert.matches("# fake: 1 passed, 0 failed, 1 pending", out, 1, true)
    assert.equal(0, status)
  end)

  it("fails a suite it does not know rather than skipping it", function()
    local status, out = helper.sh(NO_PRELOAD .. "timeout 60 tests/run-all no_such_suite")
    assert.equal("0 passed, 1 failed", last_line(out))
    assert.not_equal(0, status)
  end)
end)
