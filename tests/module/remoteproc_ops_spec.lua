-- SPDX-License-Identifier: MIT
-- remoteproc beyond start/stop, on a prepared sysfs and debugfs tree
-- (RPMSG_SYSFS_ROOT, RPMSG_DEBUGFS_ROOT): attach and detach refuse the
-- wrong state and write what the kernel expects, coredump settings,
-- reading and freeing a devcoredump, the trace followed line by line.
-- The real kernel's side is tests/kernel/remoteproc_ops_spec.lua.
local helper = require "tests.helper"
local fake = require "tests.fake_sysfs"

local root
local function tree(state)
  root = fake.root()
  local rp = fake.remoteproc(root, "fake", 0, {name = "fake-r5f", state = state, coredump = "disabled"})
  assert(os.execute(("mkdir -p %s/sys/class/devcoredump %s/debug/remoteproc/remoteproc0"):format(root, root)))
  return rp
end

local function run(code)
  return fake.lua(fake.env(root, "sys", "debug"),
    "local rpmsg = require 'rpmsg'\nlocal r = assert(rpmsg.remoteproc('fake-r5f'))\n" .. code)
end

local function read(path) return assert(fake.read(path)) end
local write = fake.write

describe("remoteproc operations", function()
  after_each(function() fake.remove(root) end)

  it("attach writes start to a detached core, and refuses any other state", function()
    local rp = tree("detached")
    local status, out, err = run([[print(r:attach())]])
    assert.equal(0, status, err)
    assert.equal("true\n", out)
    assert.equal("start", read(rp .. "/state"))
    write(rp .. "/state", "running\n")
    status, out = run([[print(r:attach())]])
    assert.equal(0, status)
    assert.equal("nil\tremoteproc 'fake-r5f' is running, not detached: only a core that runs without " ..
      "Linux (started by a bootloader, or detached) can be attached\tEINVAL\n", out)
    assert.equal("running\n", read(rp .. "/state"))
  end)

  it("detach writes detach to an attached core, and refuses a core Linux booted", function()
    local rp = tree("attached")
    local status, out, err = run([[print(r:detach())]])
    assert.equal(0, status, err)
    assert.equal("true\n", out)
    assert.equal("detach", read(rp .. "/state"))
    write(rp .. "/state", "running\n")
    status, out = run([[print(r:detach())]])
    assert.equal(0, status)
    assert.matches("is running, not attached: only a core Linux attached to can be detached", out, 1, true)
    assert.equal("running\n", read(rp .. "/state"))
  end)

  it("coredump reads and sets the mode, refusing a mode the kernel does not know", function()
    local rp = tree("running")
    local status, out, err = run([[
      print(r:coredump())
      print(r:coredump("inline"))
      print(pcall(r.coredump, r, "default"))
    ]])
    assert.equal(0, status, err)
    assert.equal("disabled\ntrue\nfalse\trpmsg: coredump mode must be \"disabled\", \"enabled\" or \"inline\", not \"default\"\n", out)
    assert.equal("inline", read(rp .. "/coredump"))
  end)

  it("dump reads the newest devcoredump of this core, frees it, and says when there is none", function()
    local rp = tree("running")
    local status, out = run([[print(r:dump())]])
    assert.equal(0, status)
    assert.matches("^nil\tremoteproc 'fake%-r5f' has no coredump in .*devcoredump.*\tENOENT\n$", out)
    local elf = "\127ELF" .. helper.payload(200000, 3)
    for n, target in pairs{[1] = rp, [2] = rp, [4] = root .. "/sys/devices/platform/fake"} do
      local d = ("%s/sys/class/devcoredump/devcd%d"):format(root, n)
      assert(os.execute(("mkdir -p %s && ln -s %s %s/failing_device"):format(d, target, d)))
      write(d .. "/data", n == 2 and elf or "older or another device's")
    end
    local file = root .. "/core.elf"
    local code
    write(root .. "/expected", elf)
    status, out, code = run(([[
      local s = assert(r:dump())
      local f = assert(io.open(%q, "rb"))
      print(#s, s == f:read("a"))
    ]]):format(root .. "/expected"))
    assert.equal(0, status, code)
    assert.equal(#elf .. "\ttrue\n", out)
    assert.equal("1", read(root .. "/sys/class/devcoredump/devcd2/data"):sub(1, 1), "freed by a write")
    write(root .. "/sys/class/devcoredump/devcd2/data", elf)
    status, out = run(("print(r:dump(%q))"):format(file))
    assert.equal(0, status)
    assert.equal(#elf .. "\n", out)
    assert.equal(elf, read(file))
  end)

  it("trace_text gives what trace0 holds, up to its first NUL; a missing one is named", function()
    tree("running")
    local status, out = run([[print(r:trace_text())]])
    assert.equal(0, status)
    assert.matches("^nil\tremoteproc 'fake%-r5f': open .*/debug/remoteproc/remoteproc0/trace0: No such file or directory %(the firmware has no trace buffer, or the core is stopped%)\tENOENT\n$", out)
    write(root .. "/debug/remoteproc/remoteproc0/trace0", "boot\nready\n\0\0garbage")
    status, out = run([[io.write(r:trace_text())]])
    assert.equal(0, status)
    assert.equal("boot\nready\n", out)
  end)

  it("trace follows the buffer: new complete lines once each, a restart from its start", function()
    tree("running")
    local t0 = root .. "/debug/remoteproc/remoteproc0/trace0"
    write(t0, "old line\n")
    local status, out, err = run(([[
      local t0 = %q
      local function put(s) local f = assert(io.open(t0, "wb")); f:write(s); f:close() end
      local h = r:trace{interval = 10, on_line = function(line) print("line: " .. line) end}
      local steps = {
        function() put("old line\nnew 1\npart") end,
        function() put("old line\nnew 1\npartial done\n") end,
        function() os.remove(t0) end,
        function() put("rebooted\n") end,
        function() h:cancel(); rpmsg.stop() end,
      }
      for i, step in ipairs(steps) do rpmsg.after(60 * i, step) end
      assert(rpmsg.run{timeout = 3000, raise_errors = true})
    ]]):format(t0))
    assert.equal(0, status, err)
    assert.equal("line: old line\nline: new 1\nline: partial done\nline: rebooted\n", out)
  end)

  it("on_remoteproc refuses a non-function, and reports nothing while nothing changes", function()
    tree("running")
    local status, out, err = run([[
      print(pcall(rpmsg.on_remoteproc, 42))
      local seen = 0
      local h = assert(rpmsg.on_remoteproc(function() seen = seen + 1 end))
      rpmsg.after(100, function() h:cancel(); rpmsg.stop() end)
      assert(rpmsg.run{timeout = 3000, raise_errors = true})
      print(seen, h.sources[1])
    ]])
    assert.equal(0, status, err)
    assert.equal("false\trpmsg.on_remoteproc: expected a function, got number\n0\tuevents\n", out)
  end)
end)
