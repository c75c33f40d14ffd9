/* SPDX-License-Identifier: MIT */
/* REPL sessions in the script's state, for the terminal (-i) and for console
 * clients (--console). The logic is lua/host/repl.lua; this is its C side: a
 * writer the output goes to, and feeding lines in. */
#ifndef RPMSG_HOST_REPL_H
#define RPMSG_HOST_REPL_H

#include <stdbool.h>
#include <stddef.h>

#include "host.h"
#include "line_reader.h"

/* The longest input line a REPL takes; a longer one is refused whole. */
#define REPL_LINE_MAX 16384

/* Where a session's output goes: the terminal writes to stdout, a console
 * session queues for its socket. Must not block the loop for long. */
typedef void (*repl_write_fn)(void *ctx, const char *text, size_t len);

/* Owned by the Lua session (functions a REPL user defined may print long
 * after the client left): write is NULL once the session is closed, and
 * output is then dropped. */
struct repl_channel {
	repl_write_fn write;
	void *ctx;
};

struct repl_session {
	struct host *h;
	int ref;                     /* the Lua session object */
	struct repl_channel *chan;
	char prompt[8];              /* for the next line: "> " or ">> " */
};

int repl_open(struct repl_session *s, struct host *h, repl_write_fn write, void *ctx);
/* Evaluates one line of input (without its newline); updates s->prompt. */
void repl_feed(struct repl_session *s, const char *line, size_t len);
/* One line from a line_reader: evaluated, or the reason it was refused
 * written back to whoever typed it. */
void repl_take_line(struct repl_session *s, enum line_kind kind, const char *line, size_t len);
/* Drops a half-typed statement: Ctrl-C at the prompt. */
void repl_cancel(struct repl_session *s);
void repl_write(struct repl_session *s, const char *text);
/* Completions of word (the end of the line before the cursor): a
 * NULL-terminated array of malloc'd strings, or NULL when there are none.
 * Free with repl_free_completions. */
char **repl_complete(struct repl_session *s, const char *word);
void repl_free_completions(char **list);
/* --plain: results print as lua.c prints them (tostring, tabs), not pretty. */
void repl_plain_values(bool plain);
void repl_close(struct repl_session *s);

#endif
