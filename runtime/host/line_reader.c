/* SPDX-License-Identifier: MIT */
/* The REPL line splitter: holds at most one unfinished line, decides whether
 * it is acceptable as its bytes arrive, and hands finished lines to the
 * caller. See line_reader.h for what is refused and why. */
#include "line_reader.h"

#include <stdlib.h>
#include <string.h>

int line_reader_init(struct line_reader *r, size_t limit)
{
	memset(r, 0, sizeof *r);
	if (limit == 0)
		return -1;
	/* The line, one '\r' that may turn out to precede '\n', and a '\0'. */
	r->buf = malloc(limit + 2);
	if (!r->buf)
		return -1;
	r->limit = limit;
	return 0;
}

void line_reader_free(struct line_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

static void reset(struct line_reader *r)
{
	r->len = 0;
	r->nul = false;
}

/* A held line of limit + 1 bytes is still acceptable if its last byte is a
 * '\r' that the newline will strip. */
static bool over_limit(const struct line_reader *r, size_t total, char last)
{
	return total > r->limit + 1 || (total == r->limit + 1 && last != '\r');
}

static bool deliver(struct line_reader *r, line_fn fn, void *ctx)
{
	if (r->len > 0 && r->buf[r->len - 1] == '\r')
		r->len--;
	r->buf[r->len] = '\0';
	bool nul = r->nul;
	size_t len = r->len;
	reset(r);
	return nul ? fn(ctx, LINE_HAS_NUL, NULL, 0) : fn(ctx, LINE_OK, r->buf, len);
}

/* Takes the bytes of one line (seg, without the newline); ended says the
 * newline came. Returns false if fn asked to stop. */
static bool take(struct line_reader *r, const char *seg, size_t n, bool ended, line_fn fn,
		 void *ctx)
{
	if (r->skipping) {
		r->skipping = !ended;
		return true;
	}
	size_t total = r->len + n;
	char last = n ? seg[n - 1] : r->len ? r->buf[r->len - 1] : '\0';
	if (over_limit(r, total, last)) {
		reset(r);
		r->skipping = !ended;
		return fn(ctx, LINE_TOO_LONG, NULL, 0);
	}
	if (memchr(seg, '\0', n))
		r->nul = true;
	memcpy(r->buf + r->len, seg, n);
	r->len = total;
	return ended ? deliver(r, fn, ctx) : true;
}

static bool reader_stop(struct line_reader *r)
{
	reset(r);
	r->skipping = false;
	return false;
}

bool line_reader_feed(struct line_reader *r, const char *data, size_t n, line_fn fn, void *ctx)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t seg = nl ? (size_t)(nl - data) : n;
		if (!take(r, data, seg, nl != NULL, fn, ctx))
			return reader_stop(r);
		if (!nl)
			break;
		data += seg + 1;
		n -= seg + 1;
	}
	return true;
}

bool line_reader_finish(struct line_reader *r, line_fn fn, void *ctx)
{
	if (r->skipping) {
		r->skipping = false;
		return true;
	}
	if (r->len == 0)
		return true;
	return deliver(r, fn, ctx) || reader_stop(r);
}
