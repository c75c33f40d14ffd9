/* SPDX-License-Identifier: MIT */
/* tests/bench/driver.c: the load generator behind `make bench`.
 *
 *   bench-driver [options] -- CMD [ARG...]
 *
 * Makes one SOCK_SEQPACKET socketpair per endpoint, starts CMD with the far
 * ends as fds 3, 4, ... (listed, comma-separated, in $BENCH_FDS) and plays
 * the co-processor: it sends messages, takes the echoes back and measures.
 * CMD is the process under test (rpmsg-lua, the C or the Python baseline),
 * so every one of them does the same work over the same transport.
 *
 * Options:
 *   -n N      endpoints (default 1)
 *   -s BYTES  message size (default 64, at most 496)
 *   -w N      messages in flight in total, spread round robin over the
 *             endpoints: each new message goes to the next endpoint
 *             (default 1)
 *   -m MODE   tput:  -u seconds of warm-up, then -r windows of -d seconds;
 *                    per window: messages/s and the CPU time CMD used per
 *                    message (from /proc/PID/schedstat)
 *             lat:   one message at a time: -U round trips of warm-up, then
 *                    -r runs of -c round trips; per run p50, p99 and max
 *             count: exactly -c messages (window -w), VmRSS of CMD every -k
 *                    messages and at the end
 *   -a D,S    pin the driver to CPU D and CMD to CPU S (-1: do not pin)
 *   -T SECS   how long CMD may take to echo its first message (default 20)
 *   -q        do not read /proc/PID for RSS and CPU (CMD runs under valgrind)
 *   -S        count mode: before each send, wait until CMD sleeps (state S
 *             in /proc/PID/stat), so that every message wakes it from
 *             epoll_wait: one loop iteration per message, and instruction
 *             counts that do not depend on how fast either side runs
 *
 * Output (stdout), one fact per line:
 *   start_us=   from CMD's execve() to its echo of the first message
 *   rss_idle_kb=  VmRSS once that first message is handled
 *   pss_idle_kb= uss_idle_kb=   PSS and private memory (smaps_rollup) then
 *   rss_map kb= anon_kb= name=   the same by mapping (library, [heap], ...)
 *   tput rate= cpu_ns= util= usr_ns= sys_ns= msgs= drv_usr_ns= drv_sys_ns=
 *        drv_util=   per window: messages/s, CMD's CPU time per message,
 *               share of a CPU it used, and its user and system time per
 *               message (clock ticks: coarse); then the driver's own user
 *               and system time per message (getrusage) and share of a CPU:
 *               the side whose share is near 1 sets the pace
 *   lat p50_ns= p90_ns= p98_ns= p99_ns= p995_ns= p999_ns= max_ns= cpu_ns=   per run
 *   count n= at= rss_kb=    per checkpoint
 *   exit=       CMD's exit status after the driver closed its ends
 * Never judges a figure: it only measures. Exit 1 on a protocol error (a
 * lost, short or unexpected echo) or when CMD dies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSG 496
#define MAX_EPS 1024

static struct {
	int n, size, window, repeats, count, warm_count, checkpoint;
	double secs, warm_secs, start_timeout;
	const char *mode;
	int cpu_driver, cpu_server;
	int no_proc, sync_idle;
} opt = {
	.n = 1, .size = 64, .window = 1, .repeats = 3, .count = 20000, .warm_count = 2000,
	.checkpoint = 0, .secs = 1.0, .warm_secs = 0.3, .start_timeout = 20, .mode = "tput",
	.cpu_driver = -1, .cpu_server = -1,
};

static pid_t child = -1;
static int fds[MAX_EPS];    /* the driver's ends */
static int epfd = -1;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench-driver: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (child > 0)
		kill(child, SIGKILL);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0)
		fprintf(stderr, "bench-driver: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
}

/* CPU time CMD has used, in ns (the first field of /proc/PID/schedstat). */
static uint64_t child_cpu_ns(void)
{
	if (opt.no_proc)
		return 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/schedstat", (int)child);
	FILE *f = fopen(path, "r");
	unsigned long long ns = 0;
	if (!f || fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	if (f)
		fclose(f);
	return ns;
}

/* The driver's own user and system CPU time in ns: beside CMD's, it shows
 * which side sets the pace. */
static void self_usr_sys(uint64_t *usr, uint64_t *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*usr = (uint64_t)ru.ru_utime.tv_sec * 1000000000u + (uint64_t)ru.ru_utime.tv_usec * 1000u;
	*sys = (uint64_t)ru.ru_stime.tv_sec * 1000000000u + (uint64_t)ru.ru_stime.tv_usec * 1000u;
}

/* CMD's user and system CPU time in ns (/proc/PID/stat, clock ticks). */
static void child_usr_sys(uint64_t *usr, uint64_t *sys)
{
	*usr = *sys = 0;
	if (opt.no_proc)
		return;
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	/* after "pid (comm)": state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return;
	long hz = sysconf(_SC_CLK_TCK);
	*usr = ut * (1000000000ull / (unsigned long long)hz);
	*sys = st * (1000000000ull / (unsigned long long)hz);
}

static long child_rss_kb(void)
{
	if (opt.no_proc)
		return -1;
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)child);
	FILE *f = fopen(path, "r");
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Waits until CMD is asleep (blocked in its event loop). */
static void wait_idle(void)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
	for (int spins = 0;; spins++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = '\0';
		const char *paren = strrchr(buf, ')');   /* "pid (comm) S ..." */
		if (!paren)
			die("cannot read %s", path);
		if (paren[1] == ' ' && paren[2] == 'S')
			return;
		if (spins > 1000)
			usleep(100);
	}
}

/* PSS and USS (Private_Clean + Private_Dirty) of CMD from smaps_rollup:
 * what it costs a board beyond the shared library pages every process maps. */
static void print_private_kb(void)
{
	if (opt.no_proc)
		return;
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)child);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	long kb, pss = -1, clean = 0, dirty = 0;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "Pss: %ld", &kb) == 1)
			pss = kb;
		else if (sscanf(line, "Private_Clean: %ld", &kb) == 1)
			clean = kb;
		else if (sscanf(line, "Private_Dirty: %ld", &kb) == 1)
			dirty = kb;
	}
	fclose(f);
	printf("pss_idle_kb=%ld uss_idle_kb=%ld\n", pss, clean + dirty);
}

/* The idle RSS of CMD by mapping: one "rss_map kb= anon_kb= pclean_kb=
 * pdirty_kb= name=" line per object (shared library, [heap], [anon], ...).
 * The private parts say what USS is made of: a library's clean pages count
 * in it only while no other process maps them (liblua, when no other Lua
 * host runs), so the same binary's USS moves with the machine's other load. */
static void print_rss_map(void)
{
	if (opt.no_proc)
		return;
	char path[64], line[512], name[256] = "[anon]";
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)child);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	struct { char name[256]; long kb, anon_kb, pclean_kb, pdirty_kb; } objs[64];
	int nobj = 0;
	long kb;
	while (fgets(line, sizeof line, f)) {
		char a[64], b[64], c[64], d[64], e[64], nm[256] = "";
		if (sscanf(line, "%63s %63s %63s %63s %63s %255s", a, b, c, d, e, nm) >= 5 &&
		    strchr(a, '-') && !strchr(a, ':')) {
			snprintf(name, sizeof name, "%s", nm[0] ? nm : "[anon]");
			const char *slash = strrchr(name, '/');
			if (slash)
				memmove(name, slash + 1, strlen(slash));
			continue;
		}
		int field;
		if (sscanf(line, "Rss: %ld", &kb) == 1)
			field = 0;
		else if (sscanf(line, "Anonymous: %ld", &kb) == 1)
			field = 1;
		else if (sscanf(line, "Private_Clean: %ld", &kb) == 1)
			field = 2;
		else if (sscanf(line, "Private_Dirty: %ld", &kb) == 1)
			field = 3;
		else
			continue;
		int i = 0;
		while (i < nobj && strcmp(objs[i].name, name) != 0)
			i++;
		if (i == nobj) {
			if (nobj == 64)
				continue;
			snprintf(objs[nobj].name, sizeof objs[nobj].name, "%s", name);
			objs[nobj].kb = objs[nobj].anon_kb = objs[nobj].pclean_kb = objs[nobj].pdirty_kb = 0;
			nobj++;
		}
		long *to[] = { &objs[i].kb, &objs[i].anon_kb, &objs[i].pclean_kb, &objs[i].pdirty_kb };
		*to[field] += kb;
	}
	fclose(f);
	for (int i = 0; i < nobj; i++)
		if (objs[i].kb)
			printf("rss_map kb=%ld anon_kb=%ld pclean_kb=%ld pdirty_kb=%ld name=%s\n", objs[i].kb,
			       objs[i].anon_kb, objs[i].pclean_kb, objs[i].pdirty_kb, objs[i].name);
}

/* Moves fd above the range the child's fds land in, close-on-exec. */
static int high(int fd, int floor)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, floor);
	if (h < 0)
		die("F_DUPFD: %s", strerror(errno));
	close(fd);
	return h;
}

static void spawn(char **argv)
{
	int theirs[MAX_EPS];
	int floor = 3 + opt.n + 8;
	for (int i = 0; i < opt.n; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			die("socketpair: %s", strerror(errno));
		fds[i] = high(sv[0], floor);
		theirs[i] = high(sv[1], floor);
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
	}
	/* The child writes the moment it calls execve() here. */
	uint64_t *exec_at = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (exec_at == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	*exec_at = 0;

	char list[8 * MAX_EPS] = "";
	size_t used = 0;
	for (int i = 0; i < opt.n; i++)
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%d", i ? "," : "", 3 + i);

	child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		pin(opt.cpu_server);
		for (int i = 0; i < opt.n; i++)
			if (dup2(theirs[i], 3 + i) < 0)   /* dup2 clears close-on-exec */
				_exit(126);
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(2, 1);   /* our stdout carries results only */
		setenv("BENCH_FDS", list, 1);
		*exec_at = now_ns();
		execvp(argv[0], argv);
		fprintf(stderr, "bench-driver: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < opt.n; i++)
		close(theirs[i]);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < opt.n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			die("epoll_ctl: %s", strerror(errno));
	}

	/* The first message waits in the socket while CMD starts. */
	char msg[MAX_MSG];
	memset(msg, 'x', sizeof msg);
	if (send(fds[0], msg, (size_t)opt.size, MSG_NOSIGNAL) != opt.size)
		die("first send: %s", strerror(errno));
	uint64_t deadline = now_ns() + (uint64_t)(opt.start_timeout * 1e9);
	for (;;) {
		char buf[MAX_MSG + 16];
		ssize_t r = recv(fds[0], buf, sizeof buf, 0);
		if (r == opt.size)
			break;
		if (r >= 0)
			die("first echo: %zd bytes instead of %d (CMD gone?)", r, opt.size);
		if (errno != EAGAIN)
			die("first echo: %s", strerror(errno));
		uint64_t t = now_ns();
		if (t > deadline)
			die("no echo of the first message within %.0f s", opt.start_timeout);
		struct epoll_event ev;
		epoll_wait(epfd, &ev, 1, 10);
		int status;
		if (waitpid(child, &status, WNOHANG) == child) {
			child = -1;
			die("CMD exited before echoing the first message (status 0x%x)", status);
		}
	}
	uint64_t first = now_ns();
	while (*exec_at == 0)   /* set before execve, so long before the echo */
		sched_yield();
	printf("start_us=%.1f\n", (double)(first - *exec_at) / 1e3);
	printf("rss_idle_kb=%ld\n", child_rss_kb());
	print_private_kb();
	print_rss_map();
	fflush(stdout);
	munmap(exec_at, 4096);
}

/* ---- the streaming modes (tput, count) ---------------------------------- */

static char payload[MAX_MSG];
static int rr;              /* the endpoint the next message goes to */
static long owed;           /* messages to send as soon as sockets take them */

/* Sends what is owed, round robin; consecutive messages for one endpoint
 * (all of them when there is one) go in one sendmmsg(), so that the driver
 * spends less per message than the process under test. */
static void pump(void)
{
	static struct mmsghdr vec[64];
	static struct iovec iov = { .iov_base = payload };
	if (!iov.iov_len) {   /* sendmmsg reads the headers and writes only msg_len */
		iov.iov_len = (size_t)opt.size;
		for (int i = 0; i < 64; i++)
			vec[i].msg_hdr = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
	}
	while (owed > 0) {
		int batch = opt.n == 1 ? (owed < 64 ? (int)owed : 64) : 1;
		int r = sendmmsg(fds[rr], vec, (unsigned)batch, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN)
				return;   /* retried after the next wakeup, on the same endpoint */
			die("send: %s", strerror(errno));
		}
		for (int i = 0; i < r; i++)
			if ((int)vec[i].msg_len != opt.size)
				die("short send");
		owed -= r;
		if (r == batch && ++rr == opt.n)
			rr = 0;
		if (r < batch)
			return;
	}
}

/* Receives whatever has come back; returns how many echoes. */
static long drain(int timeout_ms)
{
	struct epoll_event evs[MAX_EPS];
	static struct mmsghdr vec[64];
	static struct iovec iov[64];
	static char bufs[64][MAX_MSG + 16];
	if (!iov[0].iov_base)   /* recvmmsg writes msg_len and msg_flags only */
		for (int k = 0; k < 64; k++) {
			iov[k] = (struct iovec){ .iov_base = bufs[k], .iov_len = sizeof bufs[k] };
			vec[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
		}
	int n = epoll_wait(epfd, evs, MAX_EPS, owed > 0 ? 1 : timeout_ms);
	if (n < 0 && errno != EINTR)
		die("epoll_wait: %s", strerror(errno));
	long got = 0;
	for (int i = 0; i < n; i++) {
		int fd = fds[evs[i].data.u32];
		for (;;) {
			int r = recvmmsg(fd, vec, 64, MSG_DONTWAIT, NULL);
			if (r < 0) {
				if (errno == EAGAIN)
					break;
				die("recv: %s", strerror(errno));
			}
			for (int k = 0; k < r; k++)
				if ((int)vec[k].msg_len != opt.size)
					die("an echo of %u bytes, expected %d%s", vec[k].msg_len, opt.size,
					    vec[k].msg_len == 0 ? " (CMD closed the endpoint)" : "");
			if (r == 0)
				die("CMD closed an endpoint");
			got += r;
			if (r < 64)
				break;
		}
	}
	return got;
}

static void run_tput(void)
{
	owed = opt.window;   /* the first message is back: nothing in flight */
	pump();
	uint64_t t = now_ns();
	uint64_t end_warm = t + (uint64_t)(opt.warm_secs * 1e9);
	while (now_ns() < end_warm) {
		long got = drain(1000);
		owed += got;
		pump();
	}
	for (int w = 0; w < opt.repeats; w++) {
		uint64_t t0 = now_ns(), cpu0 = child_cpu_ns(), usr0, sys0, usr1, sys1;
		uint64_t dusr0, dsys0, dusr1, dsys1;
		child_usr_sys(&usr0, &sys0);
		self_usr_sys(&dusr0, &dsys0);
		uint64_t end = t0 + (uint64_t)(opt.secs * 1e9);
		long msgs = 0;
		uint64_t t1;
		while ((t1 = now_ns()) < end) {
			long got = drain(1000);
			msgs += got;
			owed += got;
			pump();
		}
		uint64_t cpu1 = child_cpu_ns();
		child_usr_sys(&usr1, &sys1);
		self_usr_sys(&dusr1, &dsys1);
		double rate = (double)msgs / ((double)(t1 - t0) / 1e9);
		double m = msgs ? (double)msgs : 1.0;
		/* util: the share of one CPU the process under test used; well
		 * below 1 means it was waiting for the driver. */
		printf("tput rate=%.0f cpu_ns=%.1f util=%.2f usr_ns=%.1f sys_ns=%.1f msgs=%ld "
		       "drv_usr_ns=%.1f drv_sys_ns=%.1f drv_util=%.2f\n", rate,
		       (double)(cpu1 - cpu0) / m, (double)(cpu1 - cpu0) / (double)(t1 - t0),
		       (double)(usr1 - usr0) / m, (double)(sys1 - sys0) / m, msgs,
		       (double)(dusr1 - dusr0) / m, (double)(dsys1 - dsys0) / m,
		       (double)(dusr1 - dusr0 + dsys1 - dsys0) / (double)(t1 - t0));
		fflush(stdout);
	}
	/* Take back what is still in flight, so CMD ends with nothing queued. */
	long left = opt.window - owed;
	owed = 0;
	while (left > 0)
		left -= drain(5000);
}

static void run_count(void)
{
	long sent = 1, got = 1;   /* the first message */
	long total = opt.count;
	long next_check = opt.checkpoint > 0 ? opt.checkpoint : total;
	uint64_t t0 = now_ns();
	owed = opt.window < total - sent ? opt.window : total - sent;
	sent += owed;
	if (opt.sync_idle)
		wait_idle();
	pump();
	while (got < total) {
		long g = drain(30000);
		if (g == 0 && owed == 0)
			die("no echo for 30 s (%ld of %ld)", got, total);
		got += g;
		long more = total - sent < g ? total - sent : g;
		owed += more;
		sent += more;
		if (opt.sync_idle && owed > 0)
			wait_idle();
		pump();
		if (got >= next_check) {
			printf("count n=%ld secs=%.3f rss_kb=%ld\n", got, (double)(now_ns() - t0) / 1e9,
			       child_rss_kb());
			fflush(stdout);
			next_check += opt.checkpoint > 0 ? opt.checkpoint : total;
		}
	}
}

/* ---- ping-pong ------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t round_trip(int i, uint32_t seq)
{
	int fd = fds[i];
	memcpy(payload, &seq, sizeof seq);
	uint64_t t0 = now_ns();
	if (send(fd, payload, (size_t)opt.size, MSG_NOSIGNAL) != opt.size)
		die("send: %s", strerror(errno));
	for (;;) {
		struct epoll_event ev;
		int n = epoll_wait(epfd, &ev, 1, 30000);
		if (n == 0)
			die("no echo for 30 s");
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		char buf[MAX_MSG + 16];
		ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r < 0 && errno == EAGAIN)
			continue;
		uint64_t t1 = now_ns();
		uint32_t back;
		if (r != opt.size)
			die("an echo of %zd bytes, expected %d", r, opt.size);
		memcpy(&back, buf, sizeof back);
		if (back != seq)
			die("echo out of order: %u, expected %u", back, seq);
		return t1 - t0;
	}
}

static void run_lat(void)
{
	uint64_t *samples = calloc((size_t)opt.count, sizeof *samples);
	if (!samples)
		die("out of memory");
	uint32_t seq = 1;
	for (int k = 0; k < opt.warm_count; k++) {
		round_trip(rr, seq++);
		rr = (rr + 1) % opt.n;
	}
	for (int w = 0; w < opt.repeats; w++) {
		uint64_t cpu0 = child_cpu_ns();
		for (int k = 0; k < opt.count; k++) {
			samples[k] = round_trip(rr, seq++);
			rr = (rr + 1) % opt.n;
		}
		uint64_t cpu1 = child_cpu_ns();
		qsort(samples, (size_t)opt.count, sizeof *samples, cmp_u64);
		size_t n = (size_t)opt.count;
		printf("lat p50_ns=%llu p90_ns=%llu p98_ns=%llu p99_ns=%llu p995_ns=%llu p999_ns=%llu "
		       "max_ns=%llu cpu_ns=%.1f\n",
		       (unsigned long long)samples[n / 2], (unsigned long long)samples[(n * 90) / 100],
		       (unsigned long long)samples[(n * 98) / 100],
		       (unsigned long long)samples[(n * 99) / 100],
		       (unsigned long long)samples[(n * 995) / 1000],
		       (unsigned long long)samples[(n * 999) / 1000],
		       (unsigned long long)samples[n - 1], (double)(cpu1 - cpu0) / (double)n);
		fflush(stdout);
	}
	free(samples);
}

/* ---- the end -------------------------------------------------------------- */

static int reap(double secs)
{
	uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
	int status;
	while (now_ns() < end) {
		pid_t r = waitpid(child, &status, WNOHANG);
		if (r == child)
			return status;
		usleep(2000);
	}
	return -1;
}

static void finish(void)
{
	for (int i = 0; i < opt.n; i++)
		close(fds[i]);
	/* Closing our ends is "remote gone" for every endpoint: CMD ends its loop. */
	int status = reap(opt.no_proc ? 120 : 10);
	if (status == -1) {
		fprintf(stderr, "bench-driver: CMD still running after its endpoints closed; SIGTERM\n");
		kill(child, SIGTERM);
		status = reap(opt.no_proc ? 120 : 10);
	}
	if (status == -1) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}
	child = -1;
	if (WIFEXITED(status))
		printf("exit=%d\n", WEXITSTATUS(status));
	else
		printf("exit=signal%d\n", WTERMSIG(status));
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-driver [-n N] [-s BYTES] [-w N] [-m tput|lat|count] [-d S] [-u S] "
			"[-r N] [-c N] [-U N] [-k N] [-a D,S] [-T S] [-q] [-S] -- CMD [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "+n:s:w:m:d:u:r:c:U:k:a:T:qS")) != -1) {
		switch (c) {
		case 'n': opt.n = atoi(optarg); break;
		case 's': opt.size = atoi(optarg); break;
		case 'w': opt.window = atoi(optarg); break;
		case 'm': opt.mode = optarg; break;
		case 'd': opt.secs = atof(optarg); break;
		case 'u': opt.warm_secs = atof(optarg); break;
		case 'r': opt.repeats = atoi(optarg); break;
		case 'c': opt.count = atoi(optarg); break;
		case 'U': opt.warm_count = atoi(optarg); break;
		case 'k': opt.checkpoint = atoi(optarg); break;
		case 'a':
			if (sscanf(optarg, "%d,%d", &opt.cpu_driver, &opt.cpu_server) != 2)
				usage();
			break;
		case 'T': opt.start_timeout = atof(optarg); break;
		case 'q': opt.no_proc = 1; break;
		case 'S': opt.sync_idle = 1; break;
		default: usage();
		}
	}
	if (optind >= argc || opt.n < 1 || opt.n > MAX_EPS || opt.size < 4 || opt.size > MAX_MSG ||
	    opt.window < 1 || opt.count < 1 || opt.repeats < 1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	memset(payload, 'x', sizeof payload);
	pin(opt.cpu_driver);
	spawn(argv + optind);
	if (strcmp(opt.mode, "tput") == 0)
		run_tput();
	else if (strcmp(opt.mode, "lat") == 0)
		run_lat();
	else if (strcmp(opt.mode, "count") == 0)
		run_count();
	else
		usage();
	finish();
	return 0;
}
