/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the REPL line splitter (runtime/host/line_reader.c): the
 * input, cut into pieces of fuzzer-chosen sizes, must come out as a model
 * splitter says: each line in order, accepted whole with exactly its bytes,
 * or refused whole (too long, or holding a NUL); never a line over the limit,
 * never a piece of a refused line. */
#include "line_reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct event {
	enum line_kind kind;
	const char *text;
	size_t len;
};

struct check {
	struct event *want;
	size_t nwant, seen;
	size_t limit;
};

/* What the reader must say about one line (without its newline). */
static struct event model(const char *line, size_t len, size_t limit)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > limit)
		return (struct event){ LINE_TOO_LONG, NULL, 0 };
	if (memchr(line, '\0', len))
		return (struct event){ LINE_HAS_NUL, NULL, 0 };
	return (struct event){ LINE_OK, line, len };
}

static size_t expected(const char *data, size_t n, size_t limit, struct event *out)
{
	size_t count = 0;
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t seg = nl ? (size_t)(nl - data) : n;
		out[count++] = model(data, seg, limit);
		if (!nl)
			break;
		data += seg + 1;
		n -= seg + 1;
	}
	return count;
}

static bool on_line(void *ctx, enum line_kind kind, const char *line, size_t len)
{
	struct check *c = ctx;
	if (c->seen >= c->nwant)
		abort();   /* a line the input does not have */
	const struct event *w = &c->want[c->seen++];
	if (kind != w->kind)
		abort();
	if (kind == LINE_OK) {
		if (len > c->limit || len != w->len || memcmp(line, w->text, len) != 0 ||
		    line[len] != '\0' || memchr(line, '\n', len) || memchr(line, '\0', len))
			abort();
	} else if (line != NULL || len != 0) {
		abort();
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* First byte: the limit (1..64, small so the fuzzer reaches it); second:
	 * a seed for the sizes of the pieces the input arrives in. */
	size_t limit = (size_t)(data[0] % 64) + 1;
	unsigned seed = data[1];
	const char *text = (const char *)data + 2;
	size_t n = size - 2;

	struct event *want = calloc(n + 1, sizeof *want);
	struct check c = { .want = want, .limit = limit };
	c.nwant = expected(text, n, limit, want);

	struct line_reader r;
	if (!want || line_reader_init(&r, limit) < 0)
		abort();
	size_t off = 0;
	while (off < n) {
		seed = seed * 1103515245u + 12345u;
		size_t piece = (seed >> 16) % (limit * 3 + 2) + 1;
		if (piece > n - off)
			piece = n - off;
		line_reader_feed(&r, text + off, piece, on_line, &c);
		off += piece;
	}
	line_reader_finish(&r, on_line, &c);
	if (c.seen != c.nwant)
		abort();   /* a line lost */
	line_reader_free(&r);
	free(want);
	return 0;
}
