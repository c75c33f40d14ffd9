/* SPDX-License-Identifier: MIT */
/* The REPL line splitter: whole lines out in order, CRLF accepted, an
 * over-long line refused whole (never a piece of it run) and reported once,
 * a NUL byte refusing its line, however the input is cut. */
#include "line_reader.h"
#include "tap.h"

#include <string.h>

/* What the reader said, one entry per line: "ok:TEXT", "long" or "nul". */
struct log {
	char text[1024];
	size_t len;
	int stop_after;   /* ask to stop after this many lines (0: never) */
	int lines;
};

static bool record(void *ctx, enum line_kind kind, const char *line, size_t len)
{
	struct log *l = ctx;
	char item[256];
	if (kind == LINE_OK)
		snprintf(item, sizeof item, "ok:%.*s|", (int)len, line);
	else
		snprintf(item, sizeof item, "%s|", kind == LINE_TOO_LONG ? "long" : "nul");
	size_t n = strlen(item);
	if (l->len + n < sizeof l->text) {
		memcpy(l->text + l->len, item, n + 1);
		l->len += n;
	}
	return ++l->lines != l->stop_after;
}

/* Feeds input (n bytes) in pieces of step bytes, then ends it. */
static const char *split(size_t limit, const char *input, size_t n, size_t step)
{
	static struct log l;
	memset(&l, 0, sizeof l);
	struct line_reader r;
	if (line_reader_init(&r, limit) < 0)
		return "init failed";
	for (size_t off = 0; off < n; off += step)
		line_reader_feed(&r, input + off, off + step > n ? n - off : step, record, &l);
	line_reader_finish(&r, record, &l);
	line_reader_free(&r);
	return l.text;
}

static bool same_for_every_cut(size_t limit, const char *input, size_t n, const char *want)
{
	for (size_t step = 1; step <= n; step++)
		if (strcmp(split(limit, input, n, step), want) != 0)
			return false;
	return true;
}

#define SPLITS(limit, lit, want, name) \
	CHECK(same_for_every_cut(limit, lit, sizeof lit - 1, want), name)

int main(void)
{
	SPLITS(8, "a\nbc\n\nd", "ok:a|ok:bc|ok:|ok:d|", "lines in order, the last without a newline");
	SPLITS(8, "x = 1\r\ny\r\n", "ok:x = 1|ok:y|", "CRLF line ends are stripped");
	SPLITS(4, "abcd\nabcde\nok\n", "ok:abcd|long|ok:ok|",
	       "a line of the limit passes, one byte more is refused whole");
	SPLITS(4, "abcd\r\nabcd\r", "ok:abcd|ok:abcd|", "a CR before the newline does not count");
	SPLITS(4, "abcdefghijklmnop\nnext\n", "long|ok:next|",
	       "a long line is reported once and its tail never runs");
	SPLITS(4, "abcdefgh", "long|", "a long last line without a newline is refused");
	SPLITS(8, "a\0b\nok\n", "nul|ok:ok|", "a NUL byte refuses its line, not the next");
	SPLITS(2, "a\0bcdef\n", "long|", "too long wins over a NUL");
	SPLITS(8, "", "", "no input, no line");
	SPLITS(8, "\n", "ok:|", "an empty line is a line");

	/* Stopping: the session went away while a line ran. */
	struct line_reader r;
	struct log l = { .stop_after = 1 };
	line_reader_init(&r, 8);
	bool went_on = line_reader_feed(&r, "a\nb\nc", 5, record, &l);
	line_reader_finish(&r, record, &l);
	CHECK(!went_on && strcmp(l.text, "ok:a|") == 0, "returning false stops and drops the rest");
	line_reader_free(&r);

	/* Once refused, the reader takes new lines again. */
	memset(&l, 0, sizeof l);
	line_reader_init(&r, 3);
	line_reader_feed(&r, "abcdef", 6, record, &l);
	line_reader_finish(&r, record, &l);
	line_reader_feed(&r, "abc\n", 4, record, &l);
	CHECK(strcmp(l.text, "long|ok:abc|") == 0, "after the end of input the reader starts afresh");
	line_reader_free(&r);

	CHECK(line_reader_init(&r, 0) < 0, "a limit of 0 is refused");
	return tap_done();
}
