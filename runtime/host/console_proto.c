/* SPDX-License-Identifier: MIT */
/* The console protocol (README: "The console protocol"). Plain text both
 * ways for plain clients (socat): lines in, output and prompts out. A client
 * that wants more (rpmsg-lua attach) sends requests, lines that start with
 * the byte 0x01: "\1KIND[ ARG]". "hello 1" turns the session's output into
 * frames, "\1KIND LEN\n" and LEN bytes, kinds "out", "prompt",
 * "completions" (one candidate a line) and "error". A new request is one
 * entry in `requests` below. */
#include "console_session.h"
#include "lrpmsg_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROTOCOL_VERSION 1

/* Queues one frame: "\1KIND LEN\n" and LEN bytes. */
static void console_send_frame(struct console_session *s, const char *kind, const char *p, size_t n)
{
	char head[48];
	int h = snprintf(head, sizeof head, "%c%s %zu\n", CONSOLE_SOH, kind, n);
	console_send_raw(s, head, (size_t)h);
	console_send_raw(s, p, n);
}

void console_send_output(struct console_session *s, const char *p, size_t n)
{
	if (s->framed)
		console_send_frame(s, "out", p, n);
	else
		console_send_raw(s, p, n);
}

void console_send_banner(struct console_session *s)
{
	char banner[512];
	const char *script = s->repl.h->script;
	int n = snprintf(banner, sizeof banner, "rpmsg-lua %s console: %s\n", RPMSG_VERSION,
			 script ? script : "no script");
	console_send_output(s, banner, n < (int)sizeof banner ? (size_t)n : sizeof banner - 1);
	console_send_prompt(s);
}

void console_send_prompt(struct console_session *s)
{
	if (s->framed)
		console_send_frame(s, "prompt", s->repl.prompt, strlen(s->repl.prompt));
	else
		console_send_raw(s, s->repl.prompt, strlen(s->repl.prompt));
}

/* "hello VERSION": the client reads frames from now on. The answer is the
 * banner again, framed, so the client can drop what came before. */
static void request_hello(struct console_session *s, const char *arg)
{
	if (atoi(arg) < 1) {
		static const char why[] = "hello needs a protocol version (1)\n";
		console_send_output(s, why, sizeof why - 1);
		return;
	}
	s->framed = true;
	console_send_banner(s);
}

/* "complete WORD": the completions of WORD, one a line. */
static void request_complete(struct console_session *s, const char *arg)
{
	char **list = repl_complete(&s->repl, arg);
	size_t n = 0;
	for (size_t i = 0; list && list[i]; i++)
		n += strlen(list[i]) + 1;
	char *text = malloc(n + 1);
	size_t len = 0;
	for (size_t i = 0; text && list && list[i]; i++)
		len += (size_t)sprintf(text + len, "%s\n", list[i]);
	if (s->framed)
		console_send_frame(s, "completions", text ? text : "", text ? len : 0);
	else if (text)
		console_send_raw(s, text, len);
	free(text);
	repl_free_completions(list);
}

/* "cancel": drops a half-typed statement (Ctrl-C in attach). */
static void request_cancel(struct console_session *s, const char *arg)
{
	(void)arg;
	repl_cancel(&s->repl);
	console_send_output(s, "^C\n", 3);
	console_send_prompt(s);
}

/* "line TEXT": TEXT is Lua input, whatever byte it starts with. */
static void request_line(struct console_session *s, const char *arg)
{
	repl_feed(&s->repl, arg, strlen(arg));
	if (!s->dropped)
		console_send_prompt(s);
}

static const struct {
	const char *kind;
	void (*fn)(struct console_session *s, const char *arg);
} requests[] = {
	{ "hello", request_hello },
	{ "complete", request_complete },
	{ "cancel", request_cancel },
	{ "line", request_line },
};

static void take_request(struct console_session *s, const char *line)
{
	size_t kind_len = strcspn(line, " ");
	const char *arg = line[kind_len] ? line + kind_len + 1 : "";
	for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
		if (strlen(requests[i].kind) == kind_len && !strncmp(line, requests[i].kind, kind_len)) {
			requests[i].fn(s, arg);
			return;
		}
	}
	char why[96];
	int n = snprintf(why, sizeof why, "unknown console request '%.*s'\n", (int)(kind_len > 32 ? 32 : kind_len), line);
	if (s->framed)
		console_send_frame(s, "error", why, (size_t)n);
	else
		console_send_raw(s, why, (size_t)n);
}

void console_take_line(struct console_session *s, const char *line, size_t len)
{
	if (len > 0 && line[0] == CONSOLE_SOH) {
		take_request(s, line + 1);
		return;
	}
	repl_feed(&s->repl, line, len);
	if (!s->dropped)
		console_send_prompt(s);
}
