/* SPDX-License-Identifier: MIT */
/* The host's observation options (--trace, --trace-file, --trace-time,
 * --trace-pcap, --metrics, --metrics-interval) and the commands that read a
 * running host or a remote: `rpmsg-lua stats PATH` (host_stats.c) and
 * `rpmsg-lua bench` (host_bench.c). */
#ifndef RPMSG_HOST_OBSERVE_H
#define RPMSG_HOST_OBSERVE_H

#include <stdbool.h>

#include "host.h"

struct observe_opts {
	bool trace;                   /* text lines, to trace_file or stderr */
	const char *trace_file;
	const char *trace_time;       /* "a", "d" or "z" */
	const char *trace_pcap;
	const char *metrics;
	int metrics_ms;
};

/* 1: argv[*i] is one of ours (*i is moved past its value); 0: not ours;
 * -1: bad, *why says why. */
int observe_option(int argc, char **argv, int *i, struct observe_opts *o, const char **why);
/* Before the script loads: switches the trace on, writes the metrics file
 * once (an unwritable path fails here, named) and every metrics_ms after. */
int observe_start(struct host *h, const struct observe_opts *o, struct rpmsg_err *e);
/* Writes the metrics a last time and stops. */
void observe_stop(void);

int observe_stats_command(int argc, char **argv);
int observe_bench_command(int argc, char **argv);

#endif
