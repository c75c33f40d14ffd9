/* The terminal REPL. readline's callback interface keeps the loop in
 * charge: each readable byte goes to rl_callback_read_char, and a finished
 * line comes back through a handler. Without libedit, or when stdin is not a
 * terminal, lines are read and split here. SIGINT gets a real handler, not
 * the signalfd, because it must reach a chunk that is running: the handler
 * only raises the watchdog's interrupt flag and pokes a self-pipe. */
#include "host_terminal.h"
#include "host_repl.h"
#include "lrpmsg_host.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBEDIT
#include <editline/readline.h>
#endif

/* One terminal per process: readline's state is global anyway. */
static struct terminal {
	struct host *h;
	struct repl_session session;
	struct loop_io input;
	struct loop_io interrupts;
	int pipe[2];
	bool editing;
	char buf[4096];
	size_t len;
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

static void show_prompt(void)
{
#ifdef HAVE_LIBEDIT
	if (term.editing) {
		rl_set_prompt(term.session.prompt);
		return;
	}
#endif
	fputs(term.session.prompt, stdout);
	fflush(stdout);
}

static void leave(void)
{
	fputs("\n", stdout);
	loop_stop(term.h->loop);
}

static void line_entered(char *line)
{
	if (!line) {   /* Ctrl-D */
		leave();
		return;
	}
#ifdef HAVE_LIBEDIT
	if (term.editing && *line)
		add_history(line);
#endif
	repl_feed(&term.session, line);
	show_prompt();
}

#ifdef HAVE_LIBEDIT
static void edited_line(char *line)
{
	line_entered(line);
	free(line);
}
#endif

static void readable(struct loop_io *io, uint32_t events)
{
	(void)events;
#ifdef HAVE_LIBEDIT
	if (term.editing) {
		rl_callback_read_char();
		return;
	}
#endif
	ssize_t n = read(io->fd, term.buf + term.len, sizeof term.buf - term.len - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		loop_io_stop(term.h->loop, io);
		leave();
		return;
	}
	term.len += (size_t)n;
	term.buf[term.len] = '\0';
	char *start = term.buf, *nl;
	while ((nl = strchr(start, '\n'))) {
		*nl = '\0';
		line_entered(start);
		start = nl + 1;
	}
	term.len = strlen(start);
	memmove(term.buf, start, term.len);
	if (term.len == sizeof term.buf - 1)
		term.len = 0;   /* a line longer than the buffer: dropped */
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
	fputs("^C\n", stdout);
	repl_cancel(&term.session);
#ifdef HAVE_LIBEDIT
	if (term.editing) {
		rl_callback_handler_remove();
		rl_callback_handler_install(term.session.prompt, edited_line);
		return;
	}
#endif
	show_prompt();
}

int terminal_start(struct host *h, struct rpmsg_err *e)
{
	term.h = h;
	if (repl_open(&term.session, h, STDOUT_FILENO, false) < 0)
		return rpmsg_fail(e, EINVAL, "cannot start the REPL");
	if (pipe2(term.pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return rpmsg_fail_errno(e, errno, "pipe");
	struct sigaction sa = { .sa_handler = on_sigint };
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	term.interrupts.weak = true;
	if (loop_io_start(h->loop, &term.interrupts, term.pipe[0], LOOP_IN, interrupted, NULL, e) < 0)
		return -e->code;
	printf("rpmsg-lua %s (%s)%s\n", RPMSG_VERSION, LUA_RELEASE,
	       h->script ? "" : ": no script, a fresh environment");
#ifdef HAVE_LIBEDIT
	term.editing = isatty(STDIN_FILENO);
	if (term.editing)
		rl_callback_handler_install(term.session.prompt, edited_line);
#endif
	if (!term.editing)
		show_prompt();
	return loop_io_start(h->loop, &term.input, STDIN_FILENO, LOOP_IN, readable, NULL, e);
}

void terminal_stop(void)
{
	if (!term.h)
		return;
#ifdef HAVE_LIBEDIT
	if (term.editing)
		rl_callback_handler_remove();
#endif
	loop_io_stop(term.h->loop, &term.input);
	loop_io_stop(term.h->loop, &term.interrupts);
	repl_close(&term.session);
	close(term.pipe[0]);
	close(term.pipe[1]);
	signal(SIGINT, SIG_DFL);
	term.h = NULL;
}
