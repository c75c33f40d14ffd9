/* SPDX-License-Identifier: MIT */
/* The console server: the socket, its sessions and their input (its client
 * is host_attach.c, its protocol console_proto.c, each session's output
 * queue console_queue.c). Plain text both ways unless a client asks for
 * frames, so even socat works as a client. */
#include "console_session.h"
#include "host_console.h"
#include "lrpmsg_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static struct console {
	struct host *h;
	struct loop_io listener;
	char path[sizeof ((struct sockaddr_un *)0)->sun_path];
	struct console_session *sessions;
} con = { .listener.fd = -1 };

static void end_session(struct console_session *s)
{
	struct console_session **p = &con.sessions;
	while (*p != s)
		p = &(*p)->next;
	*p = s->next;
	loop_io_stop(con.h->loop, &s->io);
	loop_timer_stop(con.h->loop, &s->reaper);
	repl_close(&s->repl);
	line_reader_free(&s->lines);
	close(s->io.fd);
	free(s->out);
	free(s);
}

static void reap(struct loop_timer *t) { end_session(t->ctx); }

/* The socket can take more: send from the queue. */
static void flush_output(struct console_session *s)
{
	const char *p = s->out + s->head;
	size_t n = console_pending(s);
	if (!console_send_some(s, &p, &n)) {
		end_session(s);
		return;
	}
	s->head = s->len - n;
	if (n > 0)
		return;
	s->head = s->len = 0;
	if (s->input_ended)
		end_session(s);   /* all answered */
	else
		console_watch(s);
}

/* The REPL's writer. */
static void session_output(void *ctx, const char *p, size_t n) { console_send_output(ctx, p, n); }

static bool session_line(void *ctx, enum line_kind kind, const char *line, size_t len)
{
	struct console_session *s = ctx;
	if (kind == LINE_OK) {
		console_take_line(s, line, len);
		return !s->dropped;
	}
	repl_take_line(&s->repl, kind, line, len);
	console_send_prompt(s);
	return !s->dropped;
}

static void input_ended(struct console_session *s)
{
	s->input_ended = true;
	/* A last line without a newline still runs, as in lua.c. */
	if (!line_reader_finish(&s->lines, session_line, s))
		return;
	if (console_pending(s) == 0)
		end_session(s);
	else
		console_watch(s);
}

static void read_input(struct console_session *s)
{
	char buf[4096];
	ssize_t n = recv(s->io.fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n < 0 && console_would_block(errno))
		return;
	if (n <= 0) {   /* the client is done typing, cleanly or not */
		input_ended(s);
		return;
	}
	line_reader_feed(&s->lines, buf, (size_t)n, session_line, s);
}

static void session_ready(struct loop_io *io, uint32_t events)
{
	struct console_session *s = io->ctx;
	if (s->input_ended) {
		/* Only output is left; a hang-up means nobody will read it. */
		if (events & (LOOP_HUP | LOOP_ERR))
			end_session(s);
		else if (events & LOOP_OUT)
			flush_output(s);
		return;
	}
	if (events & LOOP_OUT) {
		flush_output(s);
		return;   /* input, if any, is still readable next time */
	}
	read_input(s);
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

static struct console_session *new_session(int fd)
{
	struct console_session *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	loop_timer_init(&s->reaper, reap, s);
	s->loop = con.h->loop;
	s->io.fd = fd;
	s->io.weak = true;
	if (line_reader_init(&s->lines, REPL_LINE_MAX) < 0) {
		free(s);
		return NULL;
	}
	if (repl_open(&s->repl, con.h, session_output, s) < 0) {
		line_reader_free(&s->lines);
		free(s);
		return NULL;
	}
	return s;
}

static void accept_client(struct loop_io *io, uint32_t events)
{
	(void)events;
	int fd = accept4(io->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	uid_t uid = (uid_t)-1;
	if (!peer_allowed(fd, &uid)) {
		static const char why[] = REFUSED ": your uid is neither root nor the host's\n";
		if (send(fd, why, sizeof why - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* it will see the connection close all the same */
		}
		rpmsg_logf("console: refused a connection from uid %d", (int)uid);
		close(fd);
		return;
	}
	struct console_session *s = new_session(fd);
	struct rpmsg_err e;
	if (!s) {
		rpmsg_logf("console: cannot start a session (out of memory or no REPL)");
		close(fd);
		return;
	}
	if (loop_io_start(con.h->loop, &s->io, fd, LOOP_IN, session_ready, s, &e) < 0) {
		rpmsg_logf("console: %s", e.msg);
		repl_close(&s->repl);
		line_reader_free(&s->lines);
		free(s);
		close(fd);
		return;
	}
	s->next = con.sessions;
	con.sessions = s;
	console_send_banner(s);
}

/* Is a host listening on addr? 1: yes (its pid in *pid), 0: the socket is
 * left over from a host that is gone, <0: -errno, cannot tell. */
static int served(const struct sockaddr_un *addr, int *pid)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int r = connect(fd, (const struct sockaddr *)addr, sizeof *addr);
	int err = r < 0 ? errno : 0;
	struct ucred cred = { .pid = 0 };
	socklen_t len = sizeof cred;
	if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		*pid = (int)cred.pid;
	close(fd);
	if (r == 0 || err == EAGAIN)   /* EAGAIN: alive, its backlog full */
		return 1;
	return err == ECONNREFUSED ? 0 : -err;
}

/* A socket already at path: take it over only if no host serves it. */
static int claim_stale_socket(const struct sockaddr_un *addr, struct rpmsg_err *e)
{
	const char *path = addr->sun_path;
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return rpmsg_fail(e, EEXIST, "console path %s exists and is not a socket", path);
	int pid = 0;
	int r = served(addr, &pid);
	if (r > 0)
		return pid > 0 ? rpmsg_fail(e, EADDRINUSE, "console %s is served by a running host (pid %d)",
					    path, pid)
			       : rpmsg_fail(e, EADDRINUSE, "console %s is served by a running host", path);
	if (r < 0)
		return rpmsg_fail_errno(e, -r, "console %s: cannot tell whether a host serves it", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return rpmsg_fail_errno(e, errno, "console %s: cannot remove the stale socket", path);
	return 0;
}

static int listen_on(const struct sockaddr_un *addr, struct rpmsg_err *e)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return rpmsg_fail_errno(e, errno, "console socket");
	/* Created 0600 from the start: no window where others could connect. */
	mode_t old = umask(0177);
	int r = bind(fd, (const struct sockaddr *)addr, sizeof *addr);
	umask(old);
	if (r < 0 || listen(fd, 8) < 0) {
		int err = errno;
		close(fd);
		return rpmsg_fail_errno(e, err, "console %s", addr->sun_path);
	}
	return fd;
}

int console_start(struct host *h, const char *path, struct rpmsg_err *e)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	/* An empty path would bind Linux's abstract namespace: no file, no mode. */
	if (!*path)
		return rpmsg_fail(e, EINVAL, "console path is empty: give a file path for the socket");
	if (strlen(path) >= sizeof addr.sun_path)
		return rpmsg_fail(e, ENAMETOOLONG, "console path %s is too long for a unix socket", path);
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	int r = claim_stale_socket(&addr, e);
	if (r < 0)
		return r;
	int fd = listen_on(&addr, e);
	if (fd < 0)
		return fd;
	/* Not weak: a host with a console stays up to be attached to. */
	if (loop_io_start(h->loop, &con.listener, fd, LOOP_IN, accept_client, NULL, e) < 0) {
		close(fd);
		unlink(path);
		return -e->code;
	}
	con.h = h;
	snprintf(con.path, sizeof con.path, "%s", path);
	return 0;
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
