/* SPDX-License-Identifier: MIT */
/* `rpmsg-lua attach` on a terminal: speaks the console protocol
 * (console_proto.c). It says hello, edits lines with line_edit.c (Tab asks
 * the host for completions, history is kept per user), prints the host's
 * output above the line being typed, and reconnects, with a notice, when
 * the host restarts. Ctrl-C drops the line being typed; while the host runs
 * a chunk it detaches (the chunk goes on, under the host's watchdog). */
#include "attach.h"
#include "write_all.h"
#include "line_edit.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long attach keeps trying to reconnect to a host that went away. */
#define RECONNECT_SECONDS 120
/* How long Tab waits for the host's completions. */
#define COMPLETE_WAIT_MS 2000


static struct client {
	const char *path;
	int fd;
	char *in;                 /* bytes received, not yet parsed */
	size_t in_len, in_cap;
	bool framed;              /* a frame came: the hello was answered */
	bool waiting;             /* a line was sent and its prompt has not come */
	bool quit;                /* Ctrl-D */
	char prompt[16];
	bool completing;          /* inside Tab: output is held until it ends */
	char *held, *completions;
	size_t held_len, completions_len;
	bool got_completions;
	bool reconnecting;        /* connected again, no frame yet */
} cl;

static volatile sig_atomic_t interrupted;

static void on_sigint(int signo)
{
	(void)signo;
	interrupted = 1;
}

static void append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 4096;
		while (c < *len + n + 1)
			c *= 2;
		char *b = realloc(*buf, c);
		if (!b) {
			fprintf(stderr, "rpmsg-lua: out of memory\n");
			exit(1);
		}
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void show_output(const char *p, size_t n)
{
	static size_t cap;
	if (cl.completing)
		append(&cl.held, &cl.held_len, &cap, p, n);
	else
		line_edit_print_above(STDOUT_FILENO, p, n);
}

static void frame_out(const char *p, size_t n) { show_output(p, n); }

static void frame_prompt(const char *p, size_t n)
{
	snprintf(cl.prompt, sizeof cl.prompt, "%.*s", (int)n, p);
	cl.waiting = false;
	line_edit_prompt(cl.prompt);
	if (!line_edit_available())
		rpmsg_write_all(STDOUT_FILENO, cl.prompt, strlen(cl.prompt));
}

static void frame_completions(const char *p, size_t n)
{
	free(cl.completions);
	cl.completions = strndup(p, n);
	cl.completions_len = n;
	cl.got_completions = true;
}

static void frame_error(const char *p, size_t n) { rpmsg_write_all(STDERR_FILENO, p, n); }

/* What each frame kind does; kinds this client does not know are skipped,
 * so a newer host can send more. */
static const struct {
	const char *kind;
	void (*fn)(const char *p, size_t n);
} frames[] = {
	{ "out", frame_out },
	{ "prompt", frame_prompt },
	{ "completions", frame_completions },
	{ "error", frame_error },
};

/* Takes the whole frames received. Before the first, the host's plain
 * greeting is dropped: the hello's answer repeats it, framed. */
static void parse_frames(void)
{
	size_t off = 0;
	if (!cl.framed) {
		char *soh = memchr(cl.in, CONSOLE_SOH, cl.in_len);
		if (!soh)
			return;
		off = (size_t)(soh - cl.in);
		cl.framed = true;
		if (cl.reconnecting)
			dprintf(STDOUT_FILENO, "rpmsg-lua: reconnected to %s\n", cl.path);
		cl.reconnecting = false;
	}
	while (off < cl.in_len && cl.in[off] == CONSOLE_SOH) {
		char *nl = memchr(cl.in + off, '\n', cl.in_len - off);
		if (!nl)
			break;
		char kind[32];
		size_t len;
		if (sscanf(cl.in + off + 1, "%31s %zu", kind, &len) != 2) {
			fprintf(stderr, "rpmsg-lua: the console sent a frame this attach cannot read\n");
			exit(1);
		}
		size_t body = (size_t)(nl - cl.in) + 1;
		if (cl.in_len - body < len)
			break;
		for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++)
			if (!strcmp(kind, frames[i].kind))
				frames[i].fn(cl.in + body, len);
		off = body + len;
	}
	memmove(cl.in, cl.in + off, cl.in_len - off);
	cl.in_len -= off;
}

/* Reads what the host sent. False when the connection is gone. */
static bool receive(void)
{
	char buf[4096];
	ssize_t n = recv(cl.fd, buf, sizeof buf, 0);
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	append(&cl.in, &cl.in_len, &cl.in_cap, buf, (size_t)n);
	parse_frames();
	return true;
}

static void send_request(const char *kind, const char *arg)
{
	char *line;
	if (asprintf(&line, "%c%s %s\n", CONSOLE_SOH, kind, arg) < 0)
		return;
	attach_send_all(cl.fd, line, strlen(line));
	free(line);
}

static void edited_line(char *line, void *ctx)
{
	(void)ctx;
	if (!line) {
		cl.quit = true;
		rpmsg_write_all(STDOUT_FILENO, "\n", 1);
		return;
	}
	line_edit_remember(line);
	if (line[0] == CONSOLE_SOH) {
		send_request("line", line);
	} else {
		attach_send_all(cl.fd, line, strlen(line));
		attach_send_all(cl.fd, "\n", 1);
	}
	cl.waiting = true;
	free(line);
}

/* Tab: asks the host, and waits a moment for its answer. */
static char **complete_word(const char *word, void *ctx)
{
	(void)ctx;
	if (cl.waiting)
		return NULL;
	cl.got_completions = false;
	cl.completing = true;
	send_request("complete", word);
	while (!cl.got_completions) {
		struct pollfd p = { .fd = cl.fd, .events = POLLIN };
		if (poll(&p, 1, COMPLETE_WAIT_MS) <= 0 || !receive())
			break;
	}
	cl.completing = false;
	if (!cl.got_completions || cl.completions_len == 0)
		return NULL;
	size_t n = 0;
	for (char *c = cl.completions; *c; c++)
		n += *c == '\n';
	char **list = calloc(n + 1, sizeof *list);
	char *save = NULL;
	size_t i = 0;
	for (char *w = strtok_r(cl.completions, "\n", &save); list && w && i < n;
	     w = strtok_r(NULL, "\n", &save))
		list[i++] = strdup(w);
	return list;
}

static void flush_held(void)
{
	if (cl.held_len) {
		line_edit_print_above(STDOUT_FILENO, cl.held, cl.held_len);
		cl.held_len = 0;
	}
}

/* The host went away: try again until it is back. A host that is still
 * going down may take a connection and close it: that is not news. */
static bool reconnect(void)
{
	line_edit_end();
	if (!cl.reconnecting)
		dprintf(STDOUT_FILENO, "\r\033[Krpmsg-lua: lost the console at %s (the host stopped?): "
			"reconnecting, Ctrl-C to give up\n", cl.path);
	close(cl.fd);
	cl.fd = -1;
	for (int tries = 0; tries < RECONNECT_SECONDS * 4; tries++) {
		poll(NULL, 0, 250);
		if (interrupted)
			return false;
		int fd = attach_connect(cl.path);
		if (fd >= 0) {
			cl.fd = fd;
			cl.in_len = 0;
			cl.framed = false;
			cl.waiting = true;
			cl.reconnecting = true;
			send_request("hello", "1");
			return true;
		}
	}
	fprintf(stderr, "rpmsg-lua: gave up: no console at %s for %d s\n", cl.path, RECONNECT_SECONDS);
	return false;
}

/* The connection closed before any frame: the host refused us, or is not
 * one that speaks the protocol. Says which. */
static int closed_at_once(void)
{
	if (cl.in_len >= sizeof REFUSED - 1 && !strncmp(cl.in, REFUSED, sizeof REFUSED - 1)) {
		rpmsg_write_all(STDERR_FILENO, cl.in, cl.in_len);
		return 1;
	}
	fprintf(stderr, "rpmsg-lua: the console at %s closed the connection at once\n", cl.path);
	return 1;
}

static void ctrl_c(void)
{
	interrupted = 0;
	if (cl.waiting) {   /* the host runs a chunk: detach, it goes on */
		rpmsg_write_all(STDOUT_FILENO, "\n", 1);
		cl.quit = true;
		return;
	}
	line_edit_end();
	cl.waiting = true;
	send_request("cancel", "");
}

int attach_edit_session(const char *path, int fd)
{
	cl.path = path;
	cl.fd = fd;
	cl.waiting = true;
	struct sigaction sa = { .sa_handler = on_sigint };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	line_edit_init(stdin, stdout, edited_line, complete_word, NULL);
	send_request("hello", "1");
	while (!cl.quit) {
		struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = cl.waiting ? 0 : POLLIN },
				       { .fd = cl.fd, .events = POLLIN } };
		int r = poll(p, 2, -1);
		if (interrupted)
			ctrl_c();
		if (r < 0)
			continue;
		if (p[1].revents && !receive()) {
			if (!cl.framed && !cl.reconnecting)
				return closed_at_once();
			if (!reconnect())
				break;
			continue;
		}
		if (!cl.waiting && (p[0].revents & POLLIN)) {
			if (line_edit_available()) {
				line_edit_read_key();
				flush_held();
			} else {
				char buf[4096];
				ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
				if (n <= 0)
					cl.quit = true;
				else if (attach_send_all(cl.fd, buf, (size_t)n) && memchr(buf, '\n', (size_t)n))
					cl.waiting = true;
			}
		}
	}
	line_edit_end();
	if (cl.fd >= 0)
		close(cl.fd);
	return cl.quit ? 0 : 1;
}

