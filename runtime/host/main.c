/* SPDX-License-Identifier: MIT */
/* rpmsg-lua, the command: parses the command line, builds the loop and the
 * backend (kernel or simulated), runs the script, and exits with a code that
 * means something: 0 normal stop, 1 the script failed to load, 2 usage,
 * 3 the watchdog gave up on a call Lua cannot interrupt. */
#include "device_sim.h"
#include "host.h"
#include "host_console.h"
#include "host_lua.h"
#include "host_notify.h"
#include "host_observe.h"
#include "host_repl.h"
#include "host_state.h"
#include "host_terminal.h"
#include "log.h"
#include "lrpmsg_host.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_SCRIPT = 1, EXIT_USAGE = 2, EXIT_STUCK = RPMSG_EXIT_STUCK };

static const char usage[] =
	"usage: rpmsg-lua [options] SCRIPT [ARGS...]\n"
	"       rpmsg-lua -i [options] [SCRIPT [ARGS...]]\n"
	"       rpmsg-lua --check SCRIPT\n"
	"       rpmsg-lua attach PATH [--trace]\n"
	"       rpmsg-lua list [--json]\n"
	"       rpmsg-lua doctor [--json]\n"
	"       rpmsg-lua stats PATH\n"
	"       rpmsg-lua bench [--sim FIRMWARE.lua] [--ctrl N --dst ADDR | --service NAME]\n"
	"                       [--count N] [--size B] [--window W]\n"
	"\n"
	"Runs SCRIPT, a Lua 5.4 script using the `rpmsg` module, in one event loop\n"
	"that dispatches the messages a co-processor sends over RPMsg.\n"
	"\n"
	"options:\n"
	"  --sim FIRMWARE.lua      simulate the co-processor: no device is touched,\n"
	"                          and the remote side of every endpoint is FIRMWARE.lua\n"
	"  -i                      a REPL on the terminal, in the script's environment,\n"
	"                          while the loop runs; Ctrl-C interrupts a chunk,\n"
	"                          Ctrl-D leaves\n"
	"  --plain                 the REPL prints results as lua.c does (tostring),\n"
	"                          not pretty-printed\n"
	"  --console PATH          serve the same REPL on a unix socket (mode 0600,\n"
	"                          root and our own uid only); `rpmsg-lua attach PATH`\n"
	"                          connects to it\n"
	"  --check                 load SCRIPT against a simulated control device,\n"
	"                          report errors with file and line, run nothing;\n"
	"                          exit 0 if it loads, 1 if not\n"
	"  --handler-timeout MS    abort a handler or chunk running longer (default 1000,\n"
	"                          0 for never)\n"
	"  --log-level LEVEL       log the lines of LEVEL and the more urgent ones: err,\n"
	"                          warn, info (the default) or debug. A line starts with\n"
	"                          the time, or with <N> (its syslog priority) when\n"
	"                          stderr is the journal\n"
	"  --trace                 a line per message and event (candump style) to stderr\n"
	"  --trace-file PATH       the same to PATH\n"
	"  --trace-time a|d|z      timestamps absolute, delta, or from the start (default)\n"
	"  --trace-pcap PATH       the messages as pcapng, one interface per endpoint\n"
	"  --metrics PATH          a Prometheus textfile of the counters, written to a\n"
	"                          temporary file and renamed over PATH\n"
	"  --metrics-interval MS   how often --metrics rewrites it (default 10000)\n"
	"  -h, --help              show this help\n"
	"  -v, --version           show the version\n"
	"\n"
	"SIGHUP, a change to a .lua file in the script's folder, or rpmsg.reload()\n"
	"reloads the script as a transaction: if the new version fails, the running\n"
	"one goes on. SIGINT and SIGTERM stop the loop; endpoints the script created\n"
	"are destroyed and rpmsg-lua exits 0. Exit 1: the script failed to load.\n"
	"Exit 2: bad command line. Exit 3: a handler was stuck where Lua cannot\n"
	"interrupt it (a __gc finalizer) a grace period after its timeout.\n"
	"However rpmsg-lua ends (os.exit, a fatal signal; not SIGKILL), the endpoints\n"
	"it created are destroyed.\n";

struct options {
	const char *sim_firmware;
	const char *console;
	bool interactive;
	const char *script;
	bool check;
	int timeout_ms;
	struct observe_opts observe;
	int argc;          /* arguments after the script */
	char **argv;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rpmsg-lua: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return EXIT_USAGE;
}

static int parse(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof *o);
	o->timeout_ms = 1000;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i], *why;
		int mine = observe_option(argc, argv, &i, &o->observe, &why);
		if (mine < 0)
			return usage_error("%s", why);
		if (mine)
			continue;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return -1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
			printf("rpmsg-lua %s (%s)\n", RPMSG_VERSION, LUA_RELEASE);
			return -1;
		} else if (!strcmp(a, "--check")) {
			o->check = true;
		} else if (!strcmp(a, "--plain")) {
			repl_plain_values(true);
		} else if (!strcmp(a, "-i")) {
			o->interactive = true;
		} else if (!strcmp(a, "--sim") || !strcmp(a, "--handler-timeout") ||
			   !strcmp(a, "--console") || !strcmp(a, "--log-level")) {
			if (++i == argc)
				return usage_error("%s needs a value", a);
			if (!strcmp(a, "--log-level")) {
				int level = rpmsg_log_level_parse(argv[i]);
				if (level < 0)
					return usage_error("--log-level wants err, warn, info or debug, not '%s'", argv[i]);
				rpmsg_log_set_level(level);
				continue;
			}
			if (!strcmp(a, "--sim")) {
				o->sim_firmware = argv[i];
				continue;
			}
			if (!strcmp(a, "--console")) {
				o->console = argv[i];
				continue;
			}
			char *end;
			errno = 0;
			long ms = strtol(argv[i], &end, 10);
			if (errno || *end || end == argv[i] || ms < 0 || ms > 3600000)
				return usage_error("--handler-timeout wants milliseconds, not '%s'", argv[i]);
			o->timeout_ms = (int)ms;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	if (i == argc && o->interactive && !o->check)
		return 0;   /* a REPL with no script */
	if (i == argc)
		return usage_error("%s", "no script given");
	o->script = argv[i];
	o->argc = argc - i - 1;
	o->argv = argv + i + 1;
	return 0;
}

/* Under --check, os.exit would end the check and report nothing. */
static int refuse_exit(lua_State *L)
{
	return luaL_error(L, "os.exit called at the top level: the script would exit here "
			  "(--check runs no further)");
}

static void refuse_exit_in(lua_State *L)
{
	lua_getglobal(L, "os");
	lua_pushcfunction(L, refuse_exit);
	lua_setfield(L, -2, "exit");
	lua_pop(L, 1);
}

/* --check: the script's top level against a simulated control device. */
static int check(const struct options *o, struct loop *loop)
{
	struct rpmsg_sim *sim = rpmsg_sim_new();
	struct host h;
	int status = EXIT_SCRIPT;
	if (host_init(&h, loop, rpmsg_sim_backend(sim, RPMSG_SIM_HOST), o->script, o->argc,
		      o->argv, o->timeout_ms) == 0) {
		refuse_exit_in(h.L);
		if (host_load(&h) == LUA_OK) {
			printf("%s: ok\n", o->script);
			status = EXIT_OK;
		}
	}
	host_close(&h);
	rpmsg_sim_free(sim);
	return status;
}

static int run(const struct options *o, struct loop *loop)
{
	struct rpmsg_sim *sim = NULL;
	struct rpmsg_backend *backend = rpmsg_kernel_backend();
	struct host firmware = { 0 }, script = { 0 };
	struct rpmsg_err e;
	int status = EXIT_SCRIPT;
	if (o->sim_firmware) {
		sim = rpmsg_sim_new();
		backend = rpmsg_sim_backend(sim, RPMSG_SIM_HOST);
		if (host_init(&firmware, loop, rpmsg_sim_backend(sim, RPMSG_SIM_REMOTE),
			      o->sim_firmware, 0, NULL, o->timeout_ms) < 0 ||
		    host_load(&firmware) != LUA_OK)
			goto out;
	}
	if (host_init(&script, loop, backend, o->script, o->argc, o->argv, o->timeout_ms) < 0)
		goto out;
	if (observe_start(&script, &o->observe, &e) < 0) {
		fprintf(stderr, "rpmsg-lua: %s\n", e.msg);
		goto out;
	}
	if (host_load(&script) != LUA_OK)
		goto out;
	if (host_enable_reload(&script, &e) < 0)
		rpmsg_logf("reload on file change is off: %s", e.msg);
	if (o->console && console_start(&script, o->console, &e) < 0) {
		fprintf(stderr, "rpmsg-lua: %s\n", e.msg);
		goto out;
	}
	if (o->interactive && terminal_start(&script, &e) < 0) {
		fprintf(stderr, "rpmsg-lua: %s\n", e.msg);
		goto out;
	}
	if (notify_start(&script, &e) < 0)
		rpmsg_log(RPMSG_LOG_ERR, "%s: systemd is not told we are ready", e.msg);
	int r = rpmsg_host_loop_run(script.L, loop);
	notify_stop();
	if (r < 0) {
		fprintf(stderr, "rpmsg-lua: event loop: %s\n", strerror(-r));
		goto out;
	}
	status = EXIT_OK;
out:
	terminal_stop();
	console_stop();
	observe_stop();
	host_close(&script);
	host_close(&firmware);
	rpmsg_sim_free(sim);
	return status;
}

/* `rpmsg-lua list` and `rpmsg-lua doctor`: lua/host/NAME.lua in a state of
 * its own. */
static int tool(const char *name, int argc, char **argv)
{
	lua_State *L = host_newstate();
	if (!L) {
		fprintf(stderr, "rpmsg-lua: out of memory (no Lua state)\n");
		return EXIT_SCRIPT;
	}
	luaL_openlibs(L);
	luaL_requiref(L, "rpmsg", luaopen_rpmsg, 0);
	host_lua_preload(L);
	lua_getglobal(L, "require");
	lua_pushfstring(L, "rpmsg.%s", name);
	int status = lua_pcall(L, 1, 1, 0);
	if (status == LUA_OK) {
		lua_getfield(L, -1, "main");
		lua_createtable(L, argc, 0);
		for (int i = 0; i < argc; i++) {
			lua_pushstring(L, argv[i]);
			lua_rawseti(L, -2, i + 1);
		}
		status = lua_pcall(L, 1, 1, 0);
	}
	int code = status == LUA_OK ? (int)lua_tointeger(L, -1) : EXIT_SCRIPT;
	if (status != LUA_OK)
		fprintf(stderr, "rpmsg-lua: %s\n", lua_tostring(L, -1));
	host_closestate(L);
	return code;
}

/* A write to a closed pipe (rpmsg-lua ... | head -1) fails with EPIPE instead
 * of killing us before the endpoints are destroyed. A handler, not SIG_IGN,
 * so that programs the script starts get the default action back. */
static void on_sigpipe(int signo) { (void)signo; }

static void survive_closed_pipes(void)
{
	struct sigaction sa = { .sa_handler = on_sigpipe, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

int main(int argc, char **argv)
{
	survive_closed_pipes();
	if (argc >= 2 && (!strcmp(argv[1], "list") || !strcmp(argv[1], "doctor")))
		return tool(argv[1], argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "stats"))
		return observe_stats_command(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return observe_bench_command(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "attach"))
		return console_attach(argv[2], false);
	if (argc == 4 && !strcmp(argv[1], "attach") && !strcmp(argv[3], "--trace"))
		return console_attach(argv[2], true);
	if (argc >= 2 && !strcmp(argv[1], "attach"))
		return usage_error("%s", "attach needs exactly one PATH (and --trace, if wanted, after it)");
	struct options o;
	int r = parse(argc, argv, &o);
	if (r)
		return r < 0 ? EXIT_OK : r;

	struct rpmsg_err e;
	/* Static: when the watchdog gives up from its signal handler (_exit),
	 * the loop is still reachable, so valgrind reports no leak there. */
	static struct loop *loop;
	loop = loop_new(&e);
	/* Stop after the running handler, not after the batch. With -i,
	 * SIGINT interrupts chunks instead (host_terminal.c). */
	if (!loop || (!o.interactive && loop_stop_on_signal(loop, SIGINT, &e) < 0) ||
	    loop_stop_on_signal(loop, SIGTERM, &e) < 0) {
		fprintf(stderr, "rpmsg-lua: %s\n", e.msg);
		return EXIT_SCRIPT;
	}
	int status = o.check ? check(&o, loop) : run(&o, loop);
	loop_free(loop);
	return status;
}
