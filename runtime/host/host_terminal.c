/* SPDX-License-Identifier: MIT */
/* The terminal REPL. Line editing (line_edit.c) keeps the loop in charge:
 * each readable byte goes to the editor, and a finished line comes back
 * through a handler. Without libedit, or when stdin is not a
 * terminal, lines are split by the line_reader. SIGINT gets a real handler,
 * not the signalfd, because it must reach a chunk that is running: the
 * handler only raises the watchdog's interrupt flag and pokes a self-pipe.
 * SIGHUP is ours while the terminal REPL runs: the terminal going away ends
 * the REPL and the host, any other SIGHUP still asks for a reload. */
#include "host_terminal.h"
#include "host_output.h"
#include "host_repl.h"
#include "line_edit.h"
#include "line_reader.h"
#include "lrpmsg_host.h"
#include "write_all.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

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
	struct loop_io output;            /* what the script writes to stdout and stderr */
	int out_fd;                       /* the terminal: the REPL's own output */
	int saved_err;                    /* stderr, when it was the terminal too */
	FILE *out;                        /* out_fd, for libedit; set while output is captured */
	bool editing;
	bool tty_in, tty_out;   /* which of stdin, stdout were a terminal at the start */
	bool installed;         /* the SIGINT handler is ours */
} term = { .pipe = { -1, -1 }, .output.fd = -1, .out_fd = STDOUT_FILENO, .saved_err = -1 };

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
	rpmsg_write_all(term.out_fd, p, n);   /* a dead terminal or a closed pipe: output is dropped */
}

/* A hung-up terminal fails every terminal ioctl (EIO). */
static bool terminal_gone(void)
{
	struct termios t;
	return (term.tty_in && tcgetattr(STDIN_FILENO, &t) < 0) ||
	       (term.tty_out && tcgetattr(term.out_fd, &t) < 0);
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

static void show_prompt(void)
{
	if (term.editing) {
		line_edit_prompt(term.session.prompt);
		return;
	}
	if (term.out)   /* plain lines on a terminal: output goes above a new prompt */
		line_edit_prompt(term.session.prompt);
	write_stdout(NULL, term.session.prompt, strlen(term.session.prompt));
}

static void edited_line(char *line, void *ctx)
{
	(void)ctx;
	if (!line) {   /* Ctrl-D on an empty line */
		leave();
		return;
	}
	line_edit_remember(line);
	repl_feed(&term.session, line, strlen(line));
	free(line);
	if (!loop_stopping(term.h->loop))
		show_prompt();
}

static char **complete_word(const char *word, void *ctx)
{
	(void)ctx;
	return repl_complete(&term.session, word);
}

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
	if (term.editing) {
		/* libedit takes a read error or end of file as nothing typed and
		 * returns; the fd stays readable. Check for ourselves. */
		if ((events & (LOOP_HUP | LOOP_ERR)) || terminal_gone()) {
			hung_up();
			return;
		}
		line_edit_read_key();
		return;
	}
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

static void show_output(const char *text, size_t len)
{
	line_edit_print_above(term.out_fd, text, len);
}

/* On a terminal, the script's own stdout and stderr are printed above the
 * prompt (host_output.c); the REPL writes to the terminal itself. */
static int capture_output(struct host *h, struct rpmsg_err *e)
{
	int fd = output_capture(h->loop, show_output, e);
	if (fd < 0)
		return fd;
	term.out_fd = fd;
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	term.out = copy >= 0 ? fdopen(copy, "w") : NULL;
	if (!term.out) {
		if (copy >= 0)
			close(copy);
		return rpmsg_fail_errno(e, ENOMEM, "terminal output");
	}
	return 0;
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
	if (term.editing) {
		line_edit_cancel(term.session.prompt);   /* drops the half-typed line */
		return;
	}
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
	output_release();
	if (term.out)
		fclose(term.out);
	term.out = NULL;
	term.out_fd = STDOUT_FILENO;
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
	char banner[128];
	snprintf(banner, sizeof banner, "rpmsg-lua %s (%s)%s\n", RPMSG_VERSION, LUA_RELEASE,
		 h->script ? "" : ": no script, a fresh environment");
	fflush(stdout);
	if (term.tty_in && term.tty_out && capture_output(h, e) < 0)
		return fail_start(e);
	write_stdout(NULL, banner, strlen(banner));
	term.editing = term.tty_in && line_edit_available();
	if (term.editing)
		line_edit_init(stdin, term.out, edited_line, complete_word, NULL);
	show_prompt();
	return 0;
}

void terminal_stop(void)
{
	if (!term.h)
		return;
	if (term.editing)
		line_edit_end();   /* the terminal back in its own mode */
	term.editing = false;
	loop_io_stop(term.h->loop, &term.input);
	undo_start();
}
