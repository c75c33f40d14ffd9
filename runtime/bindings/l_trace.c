/* SPDX-License-Identifier: MIT */
/* The trace's lines and sinks. A line looks like candump -a output:
 *   (000.001234)  echo-client  1024->1025  TX  [7]  68 65 6C 6C 6F 20 31  'hello 1'
 * with the addresses in the message's direction (an RX line reads
 * remote->local). A sink that fails (a full disk) is logged once and
 * dropped; the host goes on. */
#include "l_trace.h"
#include "l_endpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (256 + RPMSG_MAX_MESSAGE * 4)   /* head, hex, text, a cut mark */

static uint64_t now_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

struct rpmsg_trace *rpmsg_trace_get(struct rpmsg_runtime *rt)
{
	if (rt->trace)
		return rt->trace;
	struct rpmsg_trace *tr = calloc(1, sizeof *tr);
	if (!tr)
		return NULL;
	tr->rt = rt;
	tr->time_mode = 'z';
	tr->start_us = tr->last_us = now_us();
	tr->text_fd = -1;
	tr->pcap.fd = -1;
	tr->listeners_ref = LUA_NOREF;
	loop_timer_init(&tr->deliver, rpmsg_trace_deliver, tr);
	rt->trace = tr;
	return tr;
}

static void text_off(struct rpmsg_trace *tr)
{
	if (tr->text_owned && tr->text_fd >= 0)
		close(tr->text_fd);
	tr->text_fd = -1;
	tr->text_owned = false;
}

int rpmsg_trace_text(struct rpmsg_trace *tr, const char *path, struct rpmsg_err *e)
{
	int fd = STDERR_FILENO;
	if (path && strcmp(path, "-") != 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return rpmsg_fail_errno(e, errno, "cannot open trace file %s", path);
	}
	text_off(tr);
	tr->text_fd = fd;
	tr->text_owned = fd != STDERR_FILENO;
	snprintf(tr->text_path, sizeof tr->text_path, "%s", tr->text_owned ? path : "stderr");
	return 0;
}

int rpmsg_trace_pcap(struct rpmsg_trace *tr, const char *path, struct rpmsg_err *e)
{
	struct pcapng p;
	if (pcapng_open(&p, path, e) < 0)
		return -e->code;
	if (tr->pcap_on)
		pcapng_close(&tr->pcap);
	tr->pcap = p;
	tr->pcap_on = true;
	tr->pcap_gen++;
	snprintf(tr->pcap_path, sizeof tr->pcap_path, "%s", path);
	return 0;
}

void rpmsg_trace_close(struct rpmsg_runtime *rt)
{
	struct rpmsg_trace *tr = rt->trace;
	if (!tr)
		return;
	rt->trace = NULL;
	text_off(tr);
	if (tr->pcap_on)
		pcapng_close(&tr->pcap);
	if (rt->loop)
		loop_timer_stop(rt->loop, &tr->deliver);
	if (tr->listeners_ref != LUA_NOREF && !rt->closed)
		luaL_unref(rt->L, LUA_REGISTRYINDEX, tr->listeners_ref);
	tr->listeners_ref = LUA_NOREF;
	if (tr->delivering)
		return;   /* a listener switched it off: rpmsg_trace_deliver frees it */
	free(tr->pending);
	free(tr);
}

/* The line's timestamp, candump's way. */
static int stamp(struct rpmsg_trace *tr, char *out, size_t size, uint64_t us)
{
	uint64_t t = us;
	if (tr->time_mode == 'd')
		t = us - tr->last_us;
	else if (tr->time_mode == 'z')
		t = us - tr->start_us;
	tr->last_us = us;
	if (tr->time_mode == 'a')
		return snprintf(out, size, "(%llu.%06llu)", (unsigned long long)(t / 1000000),
				(unsigned long long)(t % 1000000));
	return snprintf(out, size, "(%03llu.%06llu)", (unsigned long long)(t / 1000000),
			(unsigned long long)(t % 1000000));
}

/* Remembers what the endpoint is called while it is open (l_ep_stats.h). */
static void remember(struct lendpoint *le)
{
	if (!le->ep)
		return;
	snprintf(le->stats.trace_name, sizeof le->stats.trace_name, "%s", rpmsg_endpoint_label(le));
	le->stats.trace_src = le->ep->info.src;
	le->stats.trace_dst = le->ep->info.dst;
}

static const char *label(const struct lendpoint *le)
{
	return le->ep || !le->stats.trace_name[0] ? rpmsg_endpoint_label(le) : le->stats.trace_name;
}

static int addresses(char *out, size_t size, const struct lendpoint *le, bool inbound)
{
	uint32_t src = le->stats.trace_src, dst = le->stats.trace_dst;
	if (le->ep || !le->stats.trace_name[0]) {
		const struct rpmsg_info *i = le->ep ? &le->ep->info : &le->decl.info;
		src = i->src;
		dst = i->dst;
	}
	uint32_t from = inbound ? dst : src, to = inbound ? src : dst;
	char a[16], b[16];
	if (from == RPMSG_ANY)
		snprintf(a, sizeof a, "any");
	else
		snprintf(a, sizeof a, "%u", from);
	if (to == RPMSG_ANY)
		snprintf(b, sizeof b, "any");
	else
		snprintf(b, sizeof b, "%u", to);
	return snprintf(out, size, "%s->%s", a, b);
}

/* A sink failed: said once, then it is gone. */
static void sink_failed(const char *what, const char *path, const char *why)
{
	rpmsg_logf("trace: cannot write %s %s (%s): tracing to it stops", what, path, why);
}

static void emit(struct rpmsg_trace *tr, char *line, size_t len)
{
	line[len++] = '\n';
	if (tr->text_fd >= 0) {
		ssize_t w = write(tr->text_fd, line, len);
		if (w != (ssize_t)len) {
			sink_failed("the trace to", tr->text_path, w < 0 ? strerror(errno) : "short write");
			text_off(tr);
		}
	}
	if (tr->listeners_ref != LUA_NOREF)
		rpmsg_trace_queue_line(tr, line, len);
}

/* Ends the trace when its last sink went (written to a full disk, a
 * listener that left): nothing to pay for then. */
static bool still_tracing(struct rpmsg_runtime *rt)
{
	if (!rpmsg_trace_idle(rt->trace) || rt->trace->delivering)
		return true;
	rpmsg_trace_close(rt);
	return false;
}

static size_t head(struct rpmsg_trace *tr, char *line, struct lendpoint *le, bool inbound,
		   const char *what)
{
	remember(le);
	size_t n = (size_t)stamp(tr, line, 64, now_us());
	n += (size_t)snprintf(line + n, 100, "  %.64s  ", label(le));
	n += (size_t)addresses(line + n, 40, le, inbound);
	n += (size_t)snprintf(line + n, 24, "  %s", what);
	return n;
}

static void pcap_write(struct rpmsg_trace *tr, struct lendpoint *le, bool inbound, const char *msg,
		       size_t len)
{
	struct rpmsg_err e;
	if (le->stats.pcap_gen != tr->pcap_gen) {
		char name[80], desc[320], addrs[40];
		snprintf(name, sizeof name, "%s", label(le));
		addresses(addrs, sizeof addrs, le, false);
		snprintf(desc, sizeof desc, "rpmsg endpoint %.64s %s%s%.180s", label(le), addrs,
			 le->ep ? " " : "", le->ep ? le->ep->path : "");
		if (pcapng_interface(&tr->pcap, name, desc, PCAPNG_LINKTYPE_USER0, &le->stats.pcap_if, &e) < 0)
			goto failed;
		le->stats.pcap_gen = tr->pcap_gen;
	}
	/* The header virtio_rpmsg_bus puts on the wire (struct rpmsg_hdr,
	 * little-endian): src, dst, reserved, len, flags. A message is only
	 * ever traced while the endpoint is open. */
	const struct rpmsg_info *i = &le->ep->info;
	uint32_t src = inbound ? i->dst : i->src, dst = inbound ? i->src : i->dst;
	uint8_t hdr[16] = { 0 };
	for (int b = 0; b < 4; b++) {
		hdr[b] = (uint8_t)(src >> (8 * b));
		hdr[4 + b] = (uint8_t)(dst >> (8 * b));
	}
	hdr[12] = (uint8_t)len;
	hdr[13] = (uint8_t)(len >> 8);
	size_t kept = len > RPMSG_MAX_MESSAGE ? RPMSG_MAX_MESSAGE : len;
	if (pcapng_packet(&tr->pcap, le->stats.pcap_if, now_us(), hdr, sizeof hdr, msg, kept, len,
			  inbound ? PCAPNG_INBOUND : PCAPNG_OUTBOUND, &e) == 0)
		return;
failed:
	sink_failed("the pcapng file", tr->pcap_path, e.msg);
	pcapng_close(&tr->pcap);
	tr->pcap_on = false;
}

void rpmsg_trace_message(struct lendpoint *le, enum rpmsg_trace_kind dir, const char *msg, size_t len)
{
	struct rpmsg_trace *tr = le->rt->trace;
	bool inbound = dir == RPMSG_TRACE_RX;
	if (tr->pcap_on)
		pcap_write(tr, le, inbound, msg, len);
	if (tr->text_fd >= 0 || tr->listeners_ref != LUA_NOREF) {
		static const char hex[] = "0123456789ABCDEF";
		char line[LINE_MAX_BYTES];
		size_t n = head(tr, line, le, inbound, inbound ? "RX" : "TX");
		n += (size_t)snprintf(line + n, 24, "  [%zu] ", len);
		/* A socket adopted with fd = may carry more than virtio's 496
		 * bytes: the line shows the first 496 and says so. */
		size_t shown = len > RPMSG_MAX_MESSAGE ? RPMSG_MAX_MESSAGE : len;
		for (size_t k = 0; k < shown; k++) {
			line[n++] = ' ';
			line[n++] = hex[(unsigned char)msg[k] >> 4];
			line[n++] = hex[(unsigned char)msg[k] & 15];
		}
		line[n++] = ' ';
		line[n++] = ' ';
		line[n++] = '\'';
		for (size_t k = 0; k < shown; k++)
			line[n++] = msg[k] >= 0x20 && msg[k] < 0x7f ? msg[k] : '.';
		line[n++] = '\'';
		if (shown < len)
			n += (size_t)snprintf(line + n, 16, " ...");
		emit(tr, line, n);
	}
	still_tracing(le->rt);
}

void rpmsg_trace_event(struct lendpoint *le, enum rpmsg_trace_kind kind, size_t len, size_t n,
		       const char *text)
{
	struct rpmsg_trace *tr = le->rt->trace;
	if (tr->text_fd >= 0 || tr->listeners_ref != LUA_NOREF) {
		static const char *const names[] = { "TX", "RX", "EAGAIN", "DROP", "CLOSE", "REOPEN" };
		char line[768];
		size_t k = head(tr, line, le, false, names[kind]);
		if (kind == RPMSG_TRACE_EAGAIN)
			k += (size_t)snprintf(line + k, 80, "  [%zu]  queued, %zu waiting", len, n);
		else if (kind == RPMSG_TRACE_DROP)
			k += (size_t)snprintf(line + k, 300, "  %zu queued message%s unsent (%.200s)", n,
					      n == 1 ? "" : "s", text ? text : "");
		else if (text)
			k += (size_t)snprintf(line + k, 300, "  %.200s", text);
		emit(tr, line, k);
	}
	still_tracing(le->rt);
}
