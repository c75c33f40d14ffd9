/* SPDX-License-Identifier: MIT */
/* The line splitter of the REPLs: the piped terminal (-i) and every console
 * session feed it bytes as they arrive and get whole lines back. A line over
 * the limit is refused whole (never run in pieces), and a line holding a NUL
 * byte is refused too: Lua source typed at a prompt never contains one, so a
 * NUL means garbage on the wire, not data. Pure C, no Lua, no I/O. */
#ifndef RPMSG_LINE_READER_H
#define RPMSG_LINE_READER_H

#include <stdbool.h>
#include <stddef.h>

enum line_kind {
	LINE_OK,         /* line, len: the text, without "\n" or "\r\n" */
	LINE_TOO_LONG,   /* more than the limit: dropped up to its newline */
	LINE_HAS_NUL,    /* a NUL byte in it: dropped */
};

/* Called once per line, in input order. For LINE_OK, line[len] is '\0' and
 * the text has no '\n' and no NUL; for the refusals line is NULL and len 0.
 * A too-long line is reported as soon as it passes the limit, before its
 * newline arrives. Return false to stop: the rest of the input is dropped
 * (the reader is being abandoned, e.g. its session was closed). */
typedef bool (*line_fn)(void *ctx, enum line_kind kind, const char *line, size_t len);

struct line_reader {
	char *buf;         /* limit + 2: the line, a '\r' that may precede '\n', '\0' */
	size_t limit;      /* longest line accepted, in bytes */
	size_t len;        /* bytes of the unfinished line held */
	bool skipping;     /* inside a refused too-long line: drop up to '\n' */
	bool nul;          /* the unfinished line holds a NUL byte */
};

/* Returns 0, or -1 when out of memory. limit must be at least 1. */
int line_reader_init(struct line_reader *r, size_t limit);
void line_reader_free(struct line_reader *r);

/* Splits data into lines and calls fn for each finished one. Returns false
 * if fn asked to stop. */
bool line_reader_feed(struct line_reader *r, const char *data, size_t n, line_fn fn, void *ctx);

/* End of input: a last line without a newline is delivered like the others.
 * The reader is then empty and can be fed again. */
bool line_reader_finish(struct line_reader *r, line_fn fn, void *ctx);

#endif
