/* REPL sessions in the script's state, for the terminal (-i) and for console
 * clients (--console). The logic is lua/repl.lua; this is its C side: a
 * channel the output goes to, and feeding lines in. */
#ifndef RPMSG_HOST_REPL_H
#define RPMSG_HOST_REPL_H

#include <stdbool.h>

#include "host.h"

/* Where a session's output goes. Owned by the Lua session (functions a REPL
 * user defined may print long after the client left): fd is -1 once the
 * session is closed, and output is then dropped. */
struct repl_channel {
	int fd;
	bool socket;
};

struct repl_session {
	struct host *h;
	int ref;                     /* the Lua session object */
	struct repl_channel *chan;
	char prompt[8];              /* for the next line: "> " or ">> " */
};

int repl_open(struct repl_session *s, struct host *h, int fd, bool socket);
/* Evaluates one line of input (without its newline); updates s->prompt. */
void repl_feed(struct repl_session *s, const char *line);
/* Drops a half-typed statement: Ctrl-C at the prompt. */
void repl_cancel(struct repl_session *s);
void repl_write(struct repl_session *s, const char *text);
void repl_close(struct repl_session *s);

#endif
