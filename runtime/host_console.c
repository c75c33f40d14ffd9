/* The console server and its client. The stream carries plain text both
 * ways: lines in, output and prompts out, so `attach` is a simple pump and
 * even socat works as a client. */
#include "host_console.h"
#include "host_repl.h"
#include "lrpmsg_host.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define REFUSED "rpmsg-lua: console refused"

struct session {
	struct session *next;
	struct loop_io io;
	struct repl_session repl;
	char buf[LINE_MAX_BYTES];
	size_t len;
};

static struct console {
	struct host *h;
	struct loop_io listener;
	char path[sizeof ((struct sockaddr_un *)0)->sun_path];
	struct session *sessions;
} con = { .listener.fd = -1 };

static void end_session(struct session *s)
{
	struct session **p = &con.sessions;
	while (*p != s)
		p = &(*p)->next;
	*p = s->next;
	loop_io_stop(con.h->loop, &s->io);
	repl_close(&s->repl);
	close(s->io.fd);
	free(s);
}

static void session_readable(struct loop_io *io, uint32_t events)
{
	(void)events;
	struct session *s = io->ctx;
	ssize_t n = recv(io->fd, s->buf + s->len, sizeof s->buf - s->len - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {   /* the client left, cleanly or not */
		end_session(s);
		return;
	}
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	char *start = s->buf, *nl;
	while ((nl = strchr(start, '\n'))) {
		*nl = '\0';
		if (nl > start && nl[-1] == '\r')
			nl[-1] = '\0';
		repl_feed(&s->repl, start);
		repl_write(&s->repl, s->repl.prompt);
		start = nl + 1;
	}
	s->len = strlen(start);
	memmove(s->buf, start, s->len);
	if (s->len == sizeof s->buf - 1) {
		repl_write(&s->repl, "line too long, dropped\n");
		s->len = 0;
	}
}

static bool peer_allowed(int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*uid = cred.uid;
	return cred.uid == 0 || cred.uid == getuid();
}

static void accept_client(struct loop_io *io, uint32_t events)
{
	(void)events;
	int fd = accept4(io->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	uid_t uid = (uid_t)-1;
	if (!peer_allowed(fd, &uid)) {
		static const char why[] = REFUSED ": your uid is neither root nor the host's\n";
		send(fd, why, sizeof why - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		rpmsg_logf("console: refused a connection from uid %d", (int)uid);
		close(fd);
		return;
	}
	/* A client that stops reading must not stall the loop for long. */
	struct timeval tv = { .tv_sec = 1 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	struct session *s = calloc(1, sizeof *s);
	struct rpmsg_err e;
	if (!s || repl_open(&s->repl, con.h, fd, true) < 0) {
		free(s);
		close(fd);
		return;
	}
	s->io.weak = true;
	if (loop_io_start(con.h->loop, &s->io, fd, LOOP_IN, session_readable, s, &e) < 0) {
		repl_close(&s->repl);
		free(s);
		close(fd);
		return;
	}
	s->next = con.sessions;
	con.sessions = s;
	char banner[512];
	snprintf(banner, sizeof banner, "rpmsg-lua %s console: %s\n%s", RPMSG_VERSION,
		 con.h->script ? con.h->script : "no script", s->repl.prompt);
	repl_write(&s->repl, banner);
}

int console_start(struct host *h, const char *path, struct rpmsg_err *e)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof addr.sun_path)
		return rpmsg_fail(e, ENAMETOOLONG, "console path %s is too long for a unix socket", path);
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return rpmsg_fail(e, EEXIST, "console path %s exists and is not a socket", path);
		unlink(path);   /* left by a previous run */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "console socket");
	/* Created 0600 from the start: no window where others could connect. */
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&addr, sizeof addr);
	umask(old);
	if (r < 0 || listen(fd, 8) < 0) {
		int err = errno;
		close(fd);
		return rpmsg_fail_errno(e, err, "console %s", path);
	}
	con.h = h;
	snprintf(con.path, sizeof con.path, "%s", path);
	/* Not weak: a host with a console stays up to be attached to. */
	return loop_io_start(h->loop, &con.listener, fd, LOOP_IN, accept_client, NULL, e);
}

void console_stop(void)
{
	if (!con.h)
		return;
	while (con.sessions)
		end_session(con.sessions);
	loop_io_stop(con.h->loop, &con.listener);
	close(con.listener.fd);
	unlink(con.path);
	con.h = NULL;
}

/* ---- the client ---------------------------------------------------------- */

static bool refused;

static bool pump(int from, int to, bool to_socket)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof buf);
	if (n <= 0)
		return false;
	if (!to_socket && !strncmp(buf, REFUSED, sizeof REFUSED - 1))
		refused = true;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = to_socket ? send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL)
				      : write(to, buf + off, (size_t)(n - off));
		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

int console_attach(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof addr.sun_path) {
		fprintf(stderr, "rpmsg-lua: console path %s is too long\n", path);
		return 1;
	}
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		fprintf(stderr, "rpmsg-lua: cannot attach to %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = fd, .events = POLLIN } };
	bool input_open = true;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents && !pump(fd, STDOUT_FILENO, false))
			break;   /* the host closed the session */
		if (input_open && p[0].revents && !pump(STDIN_FILENO, fd, true)) {
			/* End of our input: let the host finish answering, then go. */
			input_open = false;
			p[0].fd = -1;
			shutdown(fd, SHUT_WR);
		}
	}
	close(fd);
	return refused || input_open ? 1 : 0;
}
