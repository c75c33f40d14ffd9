-- SPDX-License-Identifier: MIT
-- The files a package installs from runtime/dist/, checked by the tools
-- that will read them: systemd-analyze (the unit), systemd-sysusers (the
-- user and group), udevadm (the rule's syntax; the rule against real
-- devices is tests/kernel/udev_spec.lua). A missing tool makes its spec
-- pending with the Debian package to install.
local helper = require "tests.helper"
local q = helper.q

local DIST = "runtime/dist/"
local UNIT = DIST .. "rpmsg-lua@.service"

local function read(path) return assert(helper.read_file(path)) end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local tmpdir = helper.tmpdir

-- The tools run without the sanitizers' LD_PRELOAD of the asan suite.
local NOASAN = "env -u LD_PRELOAD "

local function have(cmd) return helper.sh("command -v " .. cmd) == 0 end

local cwd = helper.cwd()

-- The unit as instance app, in a folder of its own, running the binary
-- built here instead of /usr/bin/rpmsg-lua (not installed on a build
-- machine), with the man page where `man` finds it.
local function instance()
  local dir = tmpdir()
  local unit = read(UNIT):gsub("/usr/bin/rpmsg%-lua", cwd .. "/" .. helper.real_bin)
  write(dir .. "/rpmsg-lua@app.service", unit)
  assert(os.execute(("mkdir -p %s/man/man1 && cp %s %s/man/man1/"):format(q(dir), q(DIST .. "rpmsg-lua.1"), q(dir))))
  return dir
end

describe("rpmsg-lua@.service", function()
  it("passes systemd-analyze verify with nothing to say", function()
    if not have("systemd-analyze") then return pending("needs systemd-analyze (Debian package systemd)") end
    local dir = instance()
    local status, out, err = helper.sh(("cd %s && MANPATH=%s/man " .. NOASAN .. "systemd-analyze verify ./rpmsg-lua@app.service")
      :format(q(dir), q(dir)))
    assert.equal(0, status, out .. err)
    -- verify exits 0 after a misspelt key or a bad value too: it only warns
    assert.equal("", out .. err)
  end)

  it("keeps systemd-analyze security's exposure at 2.0 or below (OK)", function()
    if not have("systemd-analyze") then return pending("needs systemd-analyze (Debian package systemd)") end
    local dir = instance()
    local status, out, err = helper.sh(("cd %s && " .. NOASAN .. "systemd-analyze security --offline=yes --threshold=20 ./rpmsg-lua@app.service")
      :format(q(dir)))
    assert.equal(0, status, out .. err)
    assert.matches("Overall exposure level for rpmsg%-lua@app%.service: [0-2]%.%d OK", out)
  end)

  it("is a notify service that reloads by SIGHUP, runs as rpmsg and can reach the devices and sysfs", function()
    local unit = read(UNIT)
    local function has(line) assert.matches("\n" .. line:gsub("[%p]", "%%%0") .. "\n", unit) end
    has("Type=notify")
    has("ExecReload=/bin/kill -HUP $MAINPID")
    has("Restart=on-failure")
    has("User=rpmsg")
    has("Group=rpmsg")
    has("RuntimeDirectory=rpmsg-lua/%i")
    has("DeviceAllow=char-rpmsg* rw")
    has("DeviceAllow=char-ttyRPMSG rw")
    has("NoNewPrivileges=yes")
    has("ProtectSystem=strict")
    assert.matches("\nWatchdogSec=%d+s\n", unit)
    -- the console lives in the runtime directory; the script under /etc
    assert.matches("\nExecStart=/usr/bin/rpmsg%-lua [^\n]*%-%-console %%t/rpmsg%-lua/%%i/console " ..
      "/etc/rpmsg%-lua/%%i%.lua %$RPMSG_LUA_ARGS\n", unit)
    -- what would hide the devices or make /sys read-only
    assert.not_matches("\nPrivateDevices=yes", unit)
    assert.not_matches("\nProtectKernelTunables=yes", unit)
    assert.not_matches("\nType=notify%-reload", unit)   -- systemd 252 has none
  end)

  it("has a console path rpmsg-lua takes: the ExecStart options work", function()
    -- ExecStart as systemd would run it (%t=/run -> a scratch folder, %i=app)
    local dir = tmpdir()
    write(dir .. "/app.lua", "local rpmsg = require 'rpmsg'\nprint(arg[1])\nrpmsg.after(200, rpmsg.stop)\n")
    local exec = read(UNIT):match("\nExecStart=([^\n]+)")
      :gsub("%$RPMSG_LUA_OPTS", "--sim scripts/sim/echo_fw.lua"):gsub("%$RPMSG_LUA_ARGS", "first-arg")
      :gsub("%%t", dir):gsub("%%i", "app"):gsub("/etc/rpmsg%-lua/", dir .. "/")
      :gsub("^/usr/bin/rpmsg%-lua", q(helper.bin))
    assert(os.execute("mkdir -p " .. q(dir .. "/rpmsg-lua/app")))
    local status, out, err = helper.sh("timeout -s KILL 20 " .. exec)
    assert.equal(0, status, exec .. "\n" .. out .. err)
    assert.equal("first-arg\n", out)
  end)
end)

describe("rpmsg-lua.sysusers", function()
  it("creates the group rpmsg and the system user rpmsg in it", function()
    if not have("systemd-sysusers") then return pending("needs systemd-sysusers (Debian package systemd)") end
    local root = tmpdir()
    assert(os.execute("mkdir -p " .. q(root .. "/etc")))
    local status, out, err = helper.sh((NOASAN .. "systemd-sysusers --root=%s %s/%s")
      :format(q(root), q(cwd), DIST .. "rpmsg-lua.sysusers"))
    assert.equal(0, status, out .. err)
    local gid = read(root .. "/etc/group"):match("^rpmsg:x:(%d+):\n$")
    assert.truthy(gid, read(root .. "/etc/group"))
    local uid, ugid, shell = read(root .. "/etc/passwd"):match("^rpmsg:x:(%d+):(%d+):[^:]*:[^:]*:([^\n]*)\n$")
    assert.equal(gid, ugid)
    assert.is_true(tonumber(uid) < 1000, "a system user")
    assert.matches("nologin$", shell)
  end)
end)

describe("60-rpmsg-lua.rules", function()
  it("is read by udevadm with no complaint", function()
    if not have("udevadm") then return pending("needs udevadm (Debian package udev)") end
    if not have("unshare") or helper.sh("unshare -m true") ~= 0 then
      return pending("needs root and unshare -m: udevadm test applies its result to /dev, so it runs " ..
        "in a mount namespace of its own; tests/kernel/udev_spec.lua runs the rule in the guest")
    end
    -- In a mount namespace: udev's rule folders, /run and /dev are scratch
    -- tmpfs, and /etc/group has a group rpmsg; only our rule is read, and
    -- what udevadm test applies lands in the scratch /dev.
    local group = os.tmpname()
    assert(os.execute(("cp /etc/group %s && echo 'rpmsg:x:4242:' >> %s"):format(q(group), q(group))))
    local status, out, err = helper.sh(("unshare -m sh -c %s"):format(q(table.concat({
      "set -e",
      "for d in /etc/udev/rules.d /usr/lib/udev/rules.d /run /dev; do mount -t tmpfs tmpfs $d; done",
      "mknod -m 666 /dev/null c 1 3",
      "mkdir -p /run/udev/rules.d",
      "cp " .. q(cwd .. "/" .. DIST .. "60-rpmsg-lua.rules") .. " /run/udev/rules.d/",
      "mount --bind " .. q(group) .. " /etc/group",
      NOASAN .. "udevadm test --action=add /sys/class/mem/null 2>&1",
    }, "\n"))))
    os.remove(group)
    assert.equal(0, status, out .. err)
    assert.matches("Reading rules file: /run/udev/rules.d/60%-rpmsg%-lua%.rules", out)
    -- any line about our file would be a complaint: /dev/null matches none of it
    assert.not_matches("60%-rpmsg%-lua%.rules:%d", out)
  end)
end)
