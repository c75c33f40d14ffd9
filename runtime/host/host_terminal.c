/* SPDX-License-Identifier: MIT */
/* The terminal REPL. readline's callback interface keeps the loop in
 * charge: each readable byte goes to rl_callback_read_char, and a finished
 * line comes back through a handler. Without libedit, or when stdin is not a
 * terminal, lines are split by the line_reader. SIGINT gets a real handler,
 * not the signalfd, because it must reach a chunk that is running: the
 * handler only raises the watchdog's interrupt flag and pokes a self-pipe.
 * SIGHUP is ours while the terminal REPL runs: the terminal going away ends
 * the REPL and the host, any other SIGHUP still asks for a reload. */
#include "host_terminal.h"
#include "host_repl.h"
#include "line_reader.h"
#include "lrpmsg_host.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#ifdef HAVE_LIBEDIT
#include <editline/readline.h>
#endif

/* One terminal per process: readline's state is global anyway. */
static struct terminal {
	struct host *h;
	struct repl_session session;
	struct line_reader lines;
	struct loop_io input;
	struct loop_io interrupts;
	struct loop_timer hangup_check;   /* a SIGHUP's verdict, once the terminal had time to go */
	struct loop_timer file_input;     /* stdin that epoll cannot watch: a file, /dev/null */
	bool input_open;                  /* the session still reads stdin */
	int pipe[2];
	bool editing;
	bool tty_in, tty_out;   /* which of stdin, stdout were a terminal at the start */
	bool installed;         /* the SIGINT handler is ours */
} term = { .pipe = { -1, -1 } };

static void on_sigint(int signo)
{
	(void)signo;
	rpmsg_host_interrupt(term.h->L);
	int saved = errno;
	if (write(term.pipe[1], "", 1) < 0) {
		/* the pipe is full: an interrupt is already on its way */
	}
	errno = saved;
}

/* The REPL's writer: stdout, whole, unless it is gone. */
static void write_stdout(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* a dead terminal or a closed pipe: output is dropped */
		p += w;
		n -= (size_t)w;
	}
}

/* A hung-up terminal fails every terminal ioctl (EIO). */
static bool terminal_gone(void)
{
	struct termios t;
	return (term.tty_in && tcgetattr(STDIN_FILENO, &t) < 0) ||
	       (term.tty_out && tcgetattr(STDOUT_FILENO, &t) < 0);
}

/* The session ends: no more input; the host stops as on Ctrl-D. */
static void leave(void)
{
	term.input_open = false;
	loop_io_stop(term.h->loop, &term.input);
	loop_timer_stop(term.h->loop, &term.file_input);
	write_stdout(NULL, "\n", 1);
	loop_stop(term.h->loop);
}

static void hung_up(void)
{
	rpmsg_logf("the terminal hung up: leaving the REPL");
	leave();
}

#ifdef HAVE_LIBEDIT
static void edited_line(char *line);

/* libedit leaves its character-at-a-time mode (and the terminal's raw mode)
 * before it hands over a line, and only enters it again at the next read:
 * that read then takes a whole cooked line, which the terminal has echoed
 * and libedit echoes again, and where Ctrl-D is a plain character. So the
 * handler is installed afresh, with the new prompt, before the next key. */
static void ready_for_next_line(void)
{
	rl_callback_handler_install(term.session.prompt, edited_line);
}
#endif

static void show_prompt(void)
{
#ifdef HAVE_LIBEDIT
	if (term.editing) {
		ready_for_next_line();
		return;
	}
#endif
	write_stdout(NULL, term.session.prompt, strlen(term.session.prompt));
}

#ifdef HAVE_LIBEDIT
static void edited_line(char *line)
{
	if (!line) {   /* Ctrl-D on an empty line */
		leave();
		return;
	}
	if (*line)
		add_history(line);
	repl_feed(&term.session, line, strlen(line));
	free(line);
	if (!loop_stopping(term.h->loop))
		show_prompt();
}
#endif

static bool piped_line(void *ctx, enum line_kind kind, const char *line, size_t len)
{
	(void)ctx;
	repl_take_line(&term.session, kind, line, len);
	if (loop_stopping(term.h->loop))
		return false;   /* the chunk stopped the host: the rest is not run */
	show_prompt();
	return true;
}

static void read_piped(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* End of input, or an error (EIO: the terminal is gone): never
		 * read again. A last line without a newline still runs. */
		if (n == 0)
			line_reader_finish(&term.lines, piped_line, NULL);
		else
			rpmsg_logf("reading stdin: %s: leaving the REPL", strerror(errno));
		leave();
		return;
	}
	line_reader_feed(&term.lines, buf, (size_t)n, piped_line, NULL);
}

static void readable(struct loop_io *io, uint32_t events)
{
#ifdef HAVE_LIBEDIT
	if (term.editing) {
		/* libedit takes a read error or end of file as nothing typed and
		 * returns; the fd stays readable. Check for ourselves. */
		if ((events & (LOOP_HUP | LOOP_ERR)) || terminal_gone()) {
			hung_up();
			return;
		}
		rl_callback_read_char();
		return;
	}
#endif
	(void)events;
	read_piped(io->fd);
}

/* A regular file is always readable, and epoll refuses it: read it a piece
 * per loop pass instead, so handlers run between its lines too. */
static void read_file_input(struct loop_timer *t)
{
	read_piped(STDIN_FILENO);
	struct rpmsg_err e;
	if (term.input_open && loop_timer_start(term.h->loop, t, 0, 0, &e) < 0) {
		rpmsg_logf("reading stdin: %s: leaving the REPL", e.msg);
		leave();
	}
}

static int start_input(struct host *h, struct rpmsg_err *e)
{
	term.input_open = true;
	if (loop_io_start(h->loop, &term.input, STDIN_FILENO, LOOP_IN, readable, NULL, e) == 0)
		return 0;
	if (e->code != EPERM)
		return -e->code;
	return loop_timer_start(h->loop, &term.file_input, 0, 0, e);
}

static void interrupted(struct loop_io *io, uint32_t events)
{
	(void)events;
	char drain[64];
	while (read(io->fd, drain, sizeof drain) > 0) {
	}
	/* A running chunk took the Ctrl-C already, or it was for the prompt. */
	if (!rpmsg_host_clear_interrupt(term.h->L))
		return;
	write_stdout(NULL, "^C\n", 3);
	repl_cancel(&term.session);
#ifdef HAVE_LIBEDIT
	if (term.editing) {
		rl_callback_handler_remove();   /* drops the half-typed line */
		ready_for_next_line();
		return;
	}
#endif
	show_prompt();
}

/* The terminal is gone: the REPL ends. It is there: kill -HUP, a reload as
 * without -i. */
static void judge_hangup(struct host *h)
{
	if (!terminal_gone())
		h->reload_wanted = true;
	else if (term.input_open)
		hung_up();
}

static void hangup_checked(struct loop_timer *t) { judge_hangup(t->ctx); }

/* Closing a terminal window hangs the terminal up before the kernel sends
 * SIGHUP, but tmux and some emulators send SIGHUP first and close a moment
 * later: give the terminal that moment before taking the signal for a
 * reload request. */
#define HANGUP_GRACE_MS 300

static void terminal_hangup(int signo, void *ctx)
{
	(void)signo;
	struct host *h = ctx;
	struct rpmsg_err e;
	if (!(term.tty_in || term.tty_out) || terminal_gone() ||
	    loop_timer_start(h->loop, &term.hangup_check, HANGUP_GRACE_MS, 0, &e) < 0)
		judge_hangup(h);
}

static void undo_start(void)
{
	loop_timer_stop(term.h->loop, &term.hangup_check);
	loop_timer_stop(term.h->loop, &term.file_input);
	term.input_open = false;
	if (term.installed)
		signal(SIGINT, SIG_DFL);
	term.installed = false;
	loop_io_stop(term.h->loop, &term.interrupts);
	for (int i = 0; i < 2; i++) {
		if (term.pipe[i] >= 0)
			close(term.pipe[i]);
		term.pipe[i] = -1;
	}
	line_reader_free(&term.lines);
	repl_close(&term.session);
	term.h = NULL;
}

static int fail_start(struct rpmsg_err *e)
{
	undo_start();
	return -e->code;
}

int terminal_start(struct host *h, struct rpmsg_err *e)
{
	term.h = h;
	loop_timer_init(&term.hangup_check, hangup_checked, h);
	loop_timer_init(&term.file_input, read_file_input, NULL);
	term.tty_in = isatty(STDIN_FILENO);
	term.tty_out = isatty(STDOUT_FILENO);
	if (line_reader_init(&term.lines, REPL_LINE_MAX) < 0) {
		rpmsg_fail(e, ENOMEM, "out of memory");
		return fail_start(e);
	}
	if (repl_open(&term.session, h, write_stdout, NULL) < 0) {
		rpmsg_fail(e, EINVAL, "cannot start the REPL");
		return fail_start(e);
	}
	if (pipe2(term.pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		rpmsg_fail_errno(e, errno, "pipe");
		return fail_start(e);
	}
	term.interrupts.weak = true;
	if (loop_io_start(h->loop, &term.interrupts, term.pipe[0], LOOP_IN, interrupted, NULL, e) < 0)
		return fail_start(e);
	/* Replaces host.c's reload-only SIGHUP callback while we run. */
	if (loop_signal(h->loop, SIGHUP, terminal_hangup, h, e) < 0)
		return fail_start(e);
	struct sigaction sa = { .sa_handler = on_sigint };
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGINT, &sa, NULL) < 0) {
		rpmsg_fail_errno(e, errno, "SIGINT handler");
		return fail_start(e);
	}
	term.installed = true;
	/* A parent may have handed the mask down with SIGINT blocked (a test
	 * runner, a supervisor): Ctrl-C must reach on_sigint all the same. */
	sigset_t sigint;
	sigemptyset(&sigint);
	sigaddset(&sigint, SIGINT);
	sigprocmask(SIG_UNBLOCK, &sigint, NULL);
	if (start_input(h, e) < 0)
		return fail_start(e);
	printf("rpmsg-lua %s (%s)%s\n", RPMSG_VERSION, LUA_RELEASE,
	       h->script ? "" : ": no script, a fresh environment");
	fflush(stdout);
#ifdef HAVE_LIBEDIT
	term.editing = term.tty_in;
	/* Signals are ours (SIGINT above, the rest through the loop): libedit's
	 * own handlers would re-send them to the whole process group. */
	rl_catch_signals = 0;
#endif
	show_prompt();
	return 0;
}

void terminal_stop(void)
{
	if (!term.h)
		return;
#ifdef HAVE_LIBEDIT
	if (term.editing)
		rl_callback_handler_remove();   /* the terminal back in its own mode */
	term.editing = false;
#endif
	loop_io_stop(term.h->loop, &term.input);
	undo_start();
}
