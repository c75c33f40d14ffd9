-- SPDX-License-Identifier: MIT
-- rpmsg.tty{} in a stock lua5.4: what is refused and how, and the tty of a
-- named channel found through sysfs (a prepared tree under
-- RPMSG_SYSFS_ROOT, whose ttyRPMSG node is a pty master: a real tty).
local helper = require "tests.helper"
local fake = require "tests.fake_sysfs"
local rpmsg = require "rpmsg"

describe("rpmsg.tty", function()
  it("refuses what is not a tty, naming what it is", function()
    local f = os.tmpname()
    local t, err, code = rpmsg.tty{path = f}
    assert.is_nil(t)
    assert.equal(f .. " is a regular file, not a tty", err)
    assert.equal("ENOTTY", code)
    t, err, code = rpmsg.tty{path = "/tmp"}
    assert.same({nil, "/tmp is a directory, not a tty", "ENOTTY"}, {t, err, code})
    t, err, code = rpmsg.tty{path = "/dev/null"}
    assert.same({nil, "/dev/null is a character device, not a tty", "ENOTTY"}, {t, err, code})
    t, err, code = rpmsg.tty{path = "/dev/ttyRPMSG-none"}
    assert.same({nil, "open /dev/ttyRPMSG-none: No such file or directory", "ENOENT"}, {t, err, code})
    os.remove(f)
  end)

  it("refuses bad arguments with an error that names the problem", function()
    assert.has_error(function() rpmsg.tty{} end,
      "rpmsg.tty: give either path (\"/dev/ttyRPMSG0\") or service (the channel's name)")
    assert.has_error(function() rpmsg.tty{path = "/dev/x", service = "y"} end,
      "rpmsg.tty: give either path (\"/dev/ttyRPMSG0\") or service (the channel's name)")
    assert.has_error(function() rpmsg.tty{path = "/dev/ptmx", framing = "slip"} end,
      "rpmsg.tty: unknown framing 'slip' (raw, line or cobs)")
    assert.has_error(function() rpmsg.tty{path = "/dev/ptmx", max = 0} end,
      "rpmsg.tty: max must be an integer of 1 or more")
  end)

  it("opens a tty raw, with read-only fields and handlers as plain fields", function()
    local t = assert(rpmsg.tty{path = "/dev/ptmx", framing = "line"})
    assert.equal("/dev/ptmx", t.path)
    assert.equal("line", t.framing)
    assert.is_false(t.closed)
    assert.is_true(math.type(t.fd) == "integer")
    assert.has_error(function() t.path = "x" end, "rpmsg: tty.path is read-only")
    assert.has_error(function() t.send = print end, "rpmsg: tty.send is a method: it cannot be assigned")
    t.on_message = print
    assert.equal(print, t.on_message)
    assert.has_error(function() t:send("a\nb") end, "rpmsg.tty: a message of line framing cannot hold a newline")
    assert.is_true(t:close())
    assert.is_true(t.closed)
    assert.is_nil(t.fd)
    helper.cancel_armed()
  end)

  describe("by service", function()
    local root
    before_each(function()
      root = fake.root()
      assert(os.execute(table.concat({
        "set -e",
        ("mkdir -p %s/sys/class/tty %s/sys/devices/rpmsg/virtio0.rpmsg-tty.-1.41 %s/sys/devices/rpmsg/virtio0.other.-1.42 %s/dev")
          :format(root, root, root, root),
        ("echo rpmsg-tty > %s/sys/devices/rpmsg/virtio0.rpmsg-tty.-1.41/name"):format(root),
        ("echo other > %s/sys/devices/rpmsg/virtio0.other.-1.42/name"):format(root),
        ("mkdir %s/sys/class/tty/ttyRPMSG3 %s/sys/class/tty/ttyRPMSG1 %s/sys/class/tty/ttyS0"):format(root, root, root),
        ("ln -s %s/sys/devices/rpmsg/virtio0.rpmsg-tty.-1.41 %s/sys/class/tty/ttyRPMSG3/device"):format(root, root),
        ("ln -s %s/sys/devices/rpmsg/virtio0.other.-1.42 %s/sys/class/tty/ttyRPMSG1/device"):format(root, root),
        ("ln -s /dev/ptmx %s/dev/ttyRPMSG3"):format(root),
      }, "\n")))
    end)
    after_each(function() fake.remove(root) end)

    local function in_tree(code)
      return fake.lua(fake.env(root, "sys", "dev"), "local rpmsg = require 'rpmsg'\n" .. code)
    end

    it("finds the ttyRPMSG whose channel has that name", function()
      local status, out, err = in_tree([[
        local t = assert(rpmsg.tty{service = "rpmsg-tty", framing = "cobs"})
        print(t.path, t.service)
        t:close()
      ]])
      assert.equal(0, status, err)
      assert.equal(root .. "/dev/ttyRPMSG3\trpmsg-tty\n", out)
    end)

    it("fails for a name no channel has, listing the rpmsg ttys there are", function()
      local status, out, err = in_tree([[print(rpmsg.tty{service = "nope"})]])
      assert.equal(0, status, err)
      local msg = out:match("^nil\t(.*)\tENOENT\n$")
      assert(msg, out)
      assert.matches("no tty for the service 'nope' (rpmsg ttys: ", msg, 1, true)
      assert.matches("ttyRPMSG3 ('rpmsg-tty')", msg, 1, true)
      assert.matches("ttyRPMSG1 ('other')", msg, 1, true)
    end)
  end)
end)
