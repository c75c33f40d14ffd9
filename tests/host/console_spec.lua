-- SPDX-License-Identifier: MIT
-- The REPL on the terminal (-i) and on the console socket (--console, attach).
local helper = require "tests.helper"
-- shell commands pace the host with sleeps: longer under valgrind
local function sh(cmd) return helper.sh(helper.slowed(cmd)) end
local q, script = helper.q, helper.script

local function sock_path() return helper.tmp_path(".sock") end

local app = script([[
  local rpmsg = require "rpmsg"
  ep = assert(rpmsg.endpoint{name = "app", src = 1024, dst = 1025})
  ep.on_message = function(m) rpmsg.log("v1 got %s", m) end
]])
local fw = script([[
  local rpmsg = require "rpmsg"
  local ep = assert(rpmsg.endpoint{name = "fw", src = 1025, dst = 1024})
  rpmsg.every(50, function() ep:send("tick") end)
]])

-- Starts the host with a console, runs body (shell), stops the host.
local function with_console(body, extra)
  local path = sock_path()
  local cmd = ("%s --console %s %s --sim %s %s & pid=$!; " ..
    "for i in $(seq 50); do [ -S %s ] && break; sleep 0.05; done; %s\n%s")
    :format(q(helper.bin), q(path), extra or "", q(fw), q(app), q(path), body(path), helper.stop_pid("TERM"))
  return sh(cmd)
end

describe("console", function()
  it("evaluates 1+1, sees the script's endpoints, and replaces on_message live", function()
    local input = table.concat({
      "1+1",
      "ep.name, #require('rpmsg').endpoints()",
      "ep.on_message = function(m) require('rpmsg').log('live %s', m) end",
      "", }, "\n")
    local attach_out = os.tmpname()   -- not a fixed path: other checkouts run this spec too
    local status, out, err = with_console(function(path)
      return ("sleep 0.3; printf %%s %s | %s attach %s > %s; echo attach=$? >> %s; sleep 0.3")
        :format(q(input), q(helper.bin), q(path), q(attach_out), q(attach_out))
    end)
    assert.equal(0, status, err)
    local f = io.open(attach_out)
    local attached = f:read("a")
    f:close()
    os.remove(attach_out)
    assert.matches('console: .*\n> 2\n> "app"\t1\n> > attach=0\n$', attached)
    assert.matches("v1 got tick", err)
    assert.matches("live tick", err)
    assert.is_true(err:find("live tick") > err:find("v1 got tick"))
    helper.assert_no_handler_error(err)
  end)

  it("creates its socket with mode 0600", function()
    local status, out, err = with_console(function(path) return "stat -c %a " .. q(path) end)
    assert.equal(0, status, err)
    assert.equal("600\n", out)
    helper.assert_no_handler_error(err)
  end)

  it("refuses a second uid, by file mode and by peer credentials", function()
    local status, out = with_console(function(path)
      local as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups " .. q(helper.real_bin) .. " attach " .. q(path) .. " </dev/null"
      return ("%s; echo exit=$?; chmod 666 %s; %s; echo exit=$?"):format(as_nobody, q(path), as_nobody)
    end)
    assert.equal(0, status)
    assert.matches("^exit=1\n", out)   -- 0600: the kernel says no
    assert.matches("rpmsg%-lua: console refused: your uid is neither root nor the host's\nexit=1\n$", out)
  end)

  it("serves several sessions, and one that drops leaves the host unharmed", function()
    local s1, s2 = os.tmpname(), os.tmpname()
    local status, out, err = with_console(function(path)
      return table.concat({
        -- a session that vanishes mid-statement
        ("(printf 'for i = 1, 3 do\\n'; sleep 0.2) | timeout -s KILL 0.1 %s attach %s >/dev/null"):format(q(helper.bin), q(path)),
        -- two at once: the second asks once the first has set x (its
        -- prompt came back), and the first stays until the second has its
        -- answer; each wait bounded (under valgrind a start takes seconds)
        ("(printf 'x = 41\\n'; for i in $(seq 200); do grep -q 42 %s 2>/dev/null && break; sleep 0.05; done) | %s attach %s > %s & s1=$!")
          :format(q(s2), q(helper.bin), q(path), q(s1)),
        ("(for i in $(seq 200); do grep -q '^> > ' %s 2>/dev/null && break; sleep 0.05; done; printf 'x + 1\\n') | %s attach %s > %s")
          :format(q(s1), q(helper.bin), q(path), q(s2)),
        ("wait $s1; cat %s %s; rm -f %s %s"):format(q(s1), q(s2), q(s1), q(s2)),
      }, "\n")
    end)
    assert.equal(0, status, err)
    helper.assert_no_handler_error(err)
    assert.matches("^rpmsg%-lua [^\n]*\n> > rpmsg%-lua [^\n]*\n> 42\n> $", out)
  end)

  it("attach says why when there is no console", function()
    local status, _, err = sh(q(helper.bin) .. " attach /nonexistent.sock")
    assert.equal(1, status)
    assert.matches("cannot attach to /nonexistent.sock: No such file or directory", err)
  end)
end)

describe("rpmsg-lua -i", function()
  it("follows lua.c under --plain: values print, incomplete input continues, errors report", function()
    local input = "1+1\nfor i = 1, 2 do\nprint(i)\nend\nerror('boom')\nreturn 'a', nil, 3\n"
    local status, out, err = sh(("printf %%s %s | %s -i --plain"):format(q(input), q(helper.bin)))
    assert.equal(0, status, err)   -- end of input leaves
    helper.assert_no_handler_error(err)
    assert.matches("\n> 2\n> >> >> 1\n2\n> stdin:1: boom\nstack traceback:\n.-\n> a\tnil\t3\n> \n$", out)
  end)

  it("evaluates in the script's environment while the loop runs", function()
    local input = "ep.name\nrequire('rpmsg').stats().messages_in > 0\n"
    -- the input goes in once the script has logged its first message
    local log = os.tmpname()
    local status, out, err = sh(table.concat({
      ("(for i in $(seq 200); do grep -q 'v1 got tick' %s && break; sleep 0.05; done; printf %%s %s)"):format(
        q(log), q(input)),
      ("| %s -i --sim %s %s 2>%s; status=$?"):format(q(helper.bin), q(fw), q(app), q(log)),
      ("cat %s >&2; rm -f %s; exit $status"):format(q(log), q(log)),
    }, " "))
    assert.equal(0, status, err)
    helper.assert_no_handler_error(err)
    assert.matches('> "app"\n> true\n', out)
  end)

  it("lets Ctrl-C interrupt a running chunk without killing the host", function()
    local input = "while true do end\n'still here'\n"
    local out_file = os.tmpname()
    local status, _, err = sh(table.concat({
      ("(printf %%s %s; sleep 5) | %s -i --handler-timeout 0 > %s & pid=$!"):format(
        q(input), q(helper.bin), q(out_file)),
      -- Ctrl-C once the REPL has prompted, so it lands in the running chunk
      ("for i in $(seq 100); do grep -q '> ' %s && break; sleep 0.05; done"):format(q(out_file)),
      "sleep 0.5; kill -INT $pid; sleep 0.3",
      -- a host the interrupt missed loops for ever: killed, the spec fails, never hangs
      helper.stop_pid("TERM"),
    }, "\n"))
    local f = io.open(out_file)
    local out = f:read("a")
    f:close()
    os.remove(out_file)
    assert.equal(0, status, err)
    assert.matches('\n> interrupted!\nstack traceback:\n.-\n> "still here"\n', out)
  end)
end)
