/* rpmsg-lua, the command: parses the command line, builds the loop and the
 * backend (kernel or simulated), runs the script, and exits with a code that
 * means something: 0 normal stop, 1 the script failed to load, 2 usage. */
#include "device_sim.h"
#include "host.h"
#include "lrpmsg.h"

#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_SCRIPT = 1, EXIT_USAGE = 2 };

static const char usage[] =
	"usage: rpmsg-lua [options] SCRIPT [ARGS...]\n"
	"\n"
	"Runs SCRIPT, a Lua 5.4 script using the `rpmsg` module, in one event loop\n"
	"that dispatches the messages a co-processor sends over RPMsg.\n"
	"\n"
	"options:\n"
	"  --sim FIRMWARE.lua  simulate the co-processor: no device is touched, and\n"
	"                      the remote side of every endpoint is FIRMWARE.lua\n"
	"  -h, --help          show this help\n"
	"  -v, --version       show the version\n"
	"\n"
	"SIGINT and SIGTERM stop the loop; endpoints the script created are\n"
	"destroyed and rpmsg-lua exits 0. Exit 1: the script failed to load.\n"
	"Exit 2: bad command line.\n";

struct options {
	const char *sim_firmware;
	const char *script;
	int argc;          /* arguments after the script */
	char **argv;
};

static int parse(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof *o);
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return -1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
			printf("rpmsg-lua %s (%s)\n", RPMSG_VERSION, LUA_RELEASE);
			return -1;
		} else if (!strcmp(a, "--sim")) {
			if (++i == argc) {
				fprintf(stderr, "rpmsg-lua: --sim needs a FIRMWARE.lua\n");
				return EXIT_USAGE;
			}
			o->sim_firmware = argv[i];
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			fprintf(stderr, "rpmsg-lua: unknown option '%s'\n%s", a, usage);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		fprintf(stderr, "rpmsg-lua: no script given\n%s", usage);
		return EXIT_USAGE;
	}
	o->script = argv[i];
	o->argc = argc - i - 1;
	o->argv = argv + i + 1;
	return 0;
}

static void stop(int signo, void *loop)
{
	(void)signo;
	loop_stop(loop);
}

static void hangup(int signo, void *ctx)
{
	(void)signo;
	(void)ctx;
	fprintf(stderr, "rpmsg-lua: SIGHUP ignored\n");
}

int main(int argc, char **argv)
{
	struct options o;
	int r = parse(argc, argv, &o);
	if (r)
		return r < 0 ? EXIT_OK : r;

	struct rpmsg_err e;
	struct loop *loop = loop_new(&e);
	if (!loop) {
		fprintf(stderr, "rpmsg-lua: %s\n", e.msg);
		return EXIT_SCRIPT;
	}
	if (loop_signal(loop, SIGINT, stop, loop, &e) < 0 ||
	    loop_signal(loop, SIGTERM, stop, loop, &e) < 0 ||
	    loop_signal(loop, SIGHUP, hangup, NULL, &e) < 0) {
		fprintf(stderr, "rpmsg-lua: %s\n", e.msg);
		return EXIT_SCRIPT;
	}

	struct rpmsg_sim *sim = NULL;
	struct rpmsg_backend *backend = rpmsg_kernel_backend();
	lua_State *firmware = NULL;
	int status = EXIT_OK;
	if (o.sim_firmware) {
		sim = rpmsg_sim_new();
		backend = rpmsg_sim_backend(sim, RPMSG_SIM_HOST);
		firmware = host_new_state(loop, rpmsg_sim_backend(sim, RPMSG_SIM_REMOTE), o.sim_firmware);
		if (!firmware || host_run_script(firmware, o.sim_firmware, 0, NULL) != LUA_OK)
			status = EXIT_SCRIPT;
	}
	lua_State *L = status ? NULL : host_new_state(loop, backend, o.script);
	if (!status && (!L || host_run_script(L, o.script, o.argc, o.argv) != LUA_OK))
		status = EXIT_SCRIPT;
	if (!status) {
		r = loop_run(loop);
		if (r < 0) {
			fprintf(stderr, "rpmsg-lua: event loop: %s\n", strerror(-r));
			status = EXIT_SCRIPT;
		}
	}
	/* Closing the states destroys the endpoints they created. */
	if (L)
		lua_close(L);
	if (firmware)
		lua_close(firmware);
	rpmsg_sim_free(sim);
	loop_free(loop);
	return status;
}
