/*
 * t/tlib.c - what the C end-to-end tests share: a janusd of their own and
 * clients that speak frames.
 *
 * Owns: the test's server process (at most a few per test, tracked here
 * so they are stopped however the test ends) and client buffers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"

#define TLIB_MAX_SERVERS 8

static struct tsrv *tlib_servers[TLIB_MAX_SERVERS];

uint64_t
tlib_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
tlib_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* tlib_cleanup - at exit or on a fatal signal: no server outlives its test. */
static void
tlib_cleanup(void)
{
	char path[256];
	int i;

	for (i = 0; i < TLIB_MAX_SERVERS; i++) {
		struct tsrv *s = tlib_servers[i];

		if (s == NULL)
			continue;
		if (s->pid > 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
		}
		snprintf(path, sizeof(path), "/dev/shm/janusd.%u", s->port);
		unlink(path);
		unlink(s->log);
		rmdir(s->dir);
		tlib_servers[i] = NULL;
	}
}

static void
tlib_on_signal(int sig)
{
	tlib_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
tlib_track(struct tsrv *s)
{
	static int hooked;
	int i;

	if (!hooked) {
		hooked = 1;
		atexit(tlib_cleanup);
		signal(SIGINT, tlib_on_signal);
		signal(SIGTERM, tlib_on_signal);
		signal(SIGALRM, tlib_on_signal);
		signal(SIGPIPE, SIG_IGN);
	}
	for (i = 0; i < TLIB_MAX_SERVERS; i++)
		if (tlib_servers[i] == NULL || tlib_servers[i] == s) {
			tlib_servers[i] = s;
			return;
		}
}

static void
tlib_untrack(struct tsrv *s)
{
	int i;

	for (i = 0; i < TLIB_MAX_SERVERS; i++)
		if (tlib_servers[i] == s)
			tlib_servers[i] = NULL;
}

/* tlib_random_port - from the kernel's generator: tests started together must not agree. */
static unsigned
tlib_random_port(void)
{
	unsigned r = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned)getpid() * 2654435761u ^ (unsigned)tlib_ms();
	return 10000 + r % 20000;
}

/* tlib_loopback - the address 127.0.0.1:port. */
static void
tlib_loopback(struct sockaddr_in *a, unsigned port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* tlib_port_free - nothing listens on 127.0.0.1:port right now. */
static int
tlib_port_free(unsigned port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	tlib_loopback(&a, port);
	ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* tlib_exec - the child: janusd with its log in the scratch directory. */
static void __attribute__((noreturn))
tlib_exec(const struct tsrv *s, const char *const *args)
{
	const char *bin = getenv("JANUSD") ? getenv("JANUSD") : "./janusd";
	const char *argv[64], *extra = getenv("JANUSD_TEST_ARGS");
	char port[16], hport[32], *more = extra != NULL ? strdup(extra) : NULL, *save = NULL, *a;
	int n = 0, fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	snprintf(port, sizeof(port), "%u", s->port);
	snprintf(hport, sizeof(hport), "http_port=%u", s->hport);
	argv[n++] = "janusd";
	argv[n++] = "-l";
	argv[n++] = "127.0.0.1";
	argv[n++] = "-p";
	argv[n++] = port;
	/* the HTTP listener is off unless the test asks for it (a later -o wins) */
	argv[n++] = "-o";
	argv[n++] = hport;
	/* the suite's own options (make check JANUSD_TEST_ARGS=...), before the test's, which win */
	for (a = more != NULL ? strtok_r(more, " \t", &save) : NULL; a != NULL && n < 48;
	    a = strtok_r(NULL, " \t", &save))
		argv[n++] = a;
	while (args != NULL && *args != NULL && n < 62)
		argv[n++] = *args++;
	argv[n] = NULL;
	execv(bin, (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
	_exit(127);
}

/* tlib_accepts - whether something accepts on 127.0.0.1:port. */
static int
tlib_accepts(unsigned port)
{
	struct tc *c = tc_open(port);

	if (c == NULL)
		return 0;
	tc_close(c);
	return 1;
}

/* tsrv_is_ours - whether the janusd serving the port is the one we started. */
static int
tsrv_is_ours(const struct tsrv *s)
{
	char buf[16384], want[48];

	snprintf(want, sizeof(want), "\"master_pid\":%ld,", (long)s->pid);
	return tsrv_stats(s, buf, sizeof(buf)) == 0 && strstr(buf, want) != NULL;
}

/*
 * tsrv_try - one start on one port: 0 up, 1 port taken (retry), -1 failed.
 * A port that accepts is not proof: another test's janusd may hold it.
 */
static int
tsrv_try(struct tsrv *s, const char *const *args)
{
	int status, i;

	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0)
		tlib_exec(s, args);
	for (i = 0; i < 400; i++) {
		if (tlib_accepts(s->port) && tsrv_is_ours(s))
			return 0;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(status) && WEXITSTATUS(status) == 2 &&
			    tsrv_log_has(s, "uses the port") ? 1 : -1;
		}
		tlib_sleep_ms(25);
	}
	return -1;
}

/* tsrv_launch - start janusd on free ports (the HTTP one too if http), retrying on a taken one. */
static int
tsrv_launch(struct tsrv *s, const char *const *args, int http)
{
	int attempt, rc = -1;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/janusd-t.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->log, sizeof(s->log), "%s/janusd.log", s->dir);
	tlib_track(s);
	for (attempt = 0; attempt < 10 && rc != 0; attempt++) {
		do
			s->port = tlib_random_port();
		while (!tlib_port_free(s->port));
		do
			s->hport = http ? tlib_random_port() : 0;
		while (http && (s->hport == s->port || !tlib_port_free(s->hport)));
		rc = tsrv_try(s, args);
		if (rc < 0)
			break;
	}
	if (rc != 0) {
		tap_diag("janusd did not start; its log:");
		tsrv_log_show(s);
	}
	return rc == 0 ? 0 : -1;
}

int
tsrv_start(struct tsrv *s, const char *const *args)
{
	return tsrv_launch(s, args, 0);
}

int
tsrv_start_http(struct tsrv *s, const char *const *args)
{
	return tsrv_launch(s, args, 1);
}

/* tsrv_log_show - the server's log as TAP diagnostics. */
void
tsrv_log_show(const struct tsrv *s)
{
	char line[1024];
	FILE *f = fopen(s->log, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		tap_diag("  %s", line);
	}
	fclose(f);
}

int
tsrv_wait_exit(struct tsrv *s, int ms)
{
	uint64_t end = tlib_ms() + (uint64_t)ms;
	int status;

	while (s->pid > 0) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		if (tlib_ms() >= end)
			return -1;
		tlib_sleep_ms(10);
	}
	return -1;
}

int
tsrv_stop(struct tsrv *s, int sig)
{
	char path[256];
	int rc = -1;

	if (s->pid > 0) {
		kill(s->pid, sig ? sig : SIGTERM);
		rc = tsrv_wait_exit(s, 10000);
		if (rc < 0) {
			tap_diag("janusd did not stop in 10 s; killing it");
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
			s->pid = 0;
		}
	}
	if (tap_failed())
		tsrv_log_show(s);
	snprintf(path, sizeof(path), "/dev/shm/janusd.%u", s->port);
	unlink(path);
	unlink(s->log);
	rmdir(s->dir);
	tlib_untrack(s);
	return rc;
}

int
tsrv_stats(const struct tsrv *s, char *buf, size_t cap)
{
	const char *bin = getenv("JANUSD") ? getenv("JANUSD") : "./janusd";
	char cmd[512];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' -s -p %u", bin, s->port);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	n = fread(buf, 1, cap - 1, p);
	buf[n] = '\0';
	return pclose(p) == 0 && n > 0 ? 0 : -1;
}

long long
tsrv_stat(const struct tsrv *s, unsigned slot, const char *name)
{
	char buf[16384];

	return tsrv_stats(s, buf, sizeof(buf)) < 0 ? -1 : tsrv_stat_in(buf, slot, name);
}

long long
tsrv_stat_in(const char *stats, unsigned slot, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "{\"slot\":%u,", slot);
	p = strstr(stats, key);
	if (p == NULL)
		return -1;
	snprintf(key, sizeof(key), "\"%s\":", name);
	return tc_num_after(p, key);
}

/* tsrv_bridge_member - where "name": is in the "bridge" object of `janusd -s`, in buf; NULL if absent. */
static const char *
tsrv_bridge_member(const struct tsrv *s, const char *name, char *buf, size_t cap)
{
	char key[64];
	const char *p;

	if (tsrv_stats(s, buf, cap) < 0 || (p = strstr(buf, "\"bridge\":{")) == NULL)
		return NULL;
	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(p, key);
	return p == NULL ? NULL : p + strlen(key);
}

long long
tsrv_bridge_stat(const struct tsrv *s, const char *name)
{
	char buf[16384];
	const char *p = tsrv_bridge_member(s, name, buf, sizeof(buf));

	return p == NULL ? -1 : strtoll(p, NULL, 10);
}

int
tsrv_bridge_up(const struct tsrv *s)
{
	char buf[16384];
	const char *p = tsrv_bridge_member(s, "link", buf, sizeof(buf));

	return p != NULL && strncmp(p, "\"up\"", 4) == 0;
}

long long
tsrv_bridge_wait(const struct tsrv *s, const char *name, long long want, int ms)
{
	uint64_t end = tlib_ms() + (uint64_t)ms;
	long long v;

	while ((v = tsrv_bridge_stat(s, name)) < want && tlib_ms() < end)
		tlib_sleep_ms(20);
	return v;
}

int
tsrv_stat2(const struct tsrv *s, const char *name, long long v[2])
{
	char buf[16384];

	if (tsrv_stats(s, buf, sizeof(buf)) < 0)
		return -1;
	v[0] = tsrv_stat_in(buf, 0, name);
	v[1] = tsrv_stat_in(buf, 1, name);
	return v[0] < 0 || v[1] < 0 ? -1 : 0;
}

long long
tsrv_total(const struct tsrv *s, const char *name)
{
	char buf[16384], key[64];
	const char *p;

	if (tsrv_stats(s, buf, sizeof(buf)) < 0 || (p = strstr(buf, "\"totals\":{")) == NULL)
		return -1;
	snprintf(key, sizeof(key), "\"%s\":", name);
	return tc_num_after(p, key);
}

unsigned
tsrv_log_alerts(const struct tsrv *s, const char *expected)
{
	char line[2048];
	FILE *f = fopen(s->log, "r");
	unsigned n = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if ((strstr(line, ": error: ") != NULL || strstr(line, ": warn: ") != NULL) &&
		    (expected == NULL || strstr(line, expected) == NULL)) {
			n++;
			tap_diag("log: %s", strtok(line, "\n"));
		}
	if (f != NULL)
		fclose(f);
	return n;
}

int
tsrv_log_has(const struct tsrv *s, const char *needle)
{
	char line[2048];
	FILE *f = fopen(s->log, "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

unsigned
tsrv_log_count(const struct tsrv *s, const char *const *needles)
{
	char line[2048];
	FILE *f = fopen(s->log, "r");
	unsigned n = 0, i;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		for (i = 0; needles[i] != NULL && strstr(line, needles[i]) != NULL; i++)
			;
		n += needles[i] == NULL;
	}
	if (f != NULL)
		fclose(f);
	return n;
}

int
tsrv_log_wait(const struct tsrv *s, const char *needle, int ms)
{
	uint64_t end = tlib_ms() + (uint64_t)ms;

	while (!tsrv_log_has(s, needle)) {
		if (tlib_ms() >= end)
			return 0;
		tlib_sleep_ms(10);
	}
	return 1;
}

int
tc_connect_from(unsigned port, const char *src, int rcvbuf, int mss)
{
	struct sockaddr_in a, from;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	tlib_loopback(&a, port);
	tlib_loopback(&from, 0);
	if (fd >= 0 && src != NULL && (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0)) {
		tap_diag("bind() to %s failed: %s", src, strerror(errno));
		close(fd);
		return -1;
	}
	if (fd >= 0 && rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd >= 0 && mss > 0)
		setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

int
tc_connect(unsigned port, int rcvbuf, int mss)
{
	return tc_connect_from(port, NULL, rcvbuf, mss);
}

/* tlib_client - a client buffer around a connected fd (closed if out of memory); NULL if fd < 0. */
static struct tc *
tlib_client(int fd)
{
	struct tc *c;

	if (fd < 0)
		return NULL;
	if ((c = malloc(sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->len = 0;
	return c;
}

struct tc *
tc_open_small(unsigned port, int rcvbuf, int mss)
{
	return tlib_client(tc_connect(port, rcvbuf, mss));
}

struct tc *
tc_open_from(unsigned port, const char *src)
{
	return tlib_client(tc_connect_from(port, src, 0, 0));
}

int
tc_open_spread(const struct tsrv *s, const char *src, unsigned n, struct tc **c)
{
	long long was[2], now[2];
	unsigned have = 0, on[2] = { 0, 0 }, slot, tries;
	struct tc *t;
	uint64_t end;

	if (tsrv_stat2(s, "accepted", was) < 0)
		return -1;
	for (tries = 0; have < n && tries < 64; tries++) {
		t = tlib_client(tc_connect_from(s->port, src, 0, 0));
		if (t == NULL || tc_greeting(t) < 0) {
			tc_close(t);    /* e.g. refused while a closed one is still counted */
			tlib_sleep_ms(20);
			continue;
		}
		end = tlib_ms() + 5000;
		while (tsrv_stat2(s, "accepted", now) == 0 && now[0] + now[1] == was[0] + was[1] && tlib_ms() < end)
			tlib_sleep_ms(5);
		slot = now[1] > was[1];
		was[0] = now[0];
		was[1] = now[1];
		if (have == n - 1 && on[!slot] == 0) {
			tc_close(t);
			continue;
		}
		on[slot]++;
		c[have++] = t;
	}
	if (have == n)
		return 0;
	while (have > 0)
		tc_close(c[--have]);
	return -1;
}

int
tc_listen(unsigned *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	tlib_loopback(&a, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		tap_diag("a loopback listener: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int
tc_pair(int lfd, unsigned port, int fds[2], int sndbuf, int rcvbuf)
{
	int one = 1;

	if ((fds[1] = tc_connect(port, rcvbuf, 0)) < 0)
		return -1;
	fds[0] = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fds[0] < 0 || setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    (sndbuf > 0 && setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0)) {
		tap_diag("a loopback pair: %s", strerror(errno));
		if (fds[0] >= 0)
			close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

struct tc *
tc_open(unsigned port)
{
	return tc_open_small(port, 0, 0);
}

void
tc_close(struct tc *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c);
}

/* tc_wait - poll for events on c; 1 ready, 0 timeout. */
static int
tc_wait(const struct tc *c, short events, int timeout_ms)
{
	struct pollfd p = { c->fd, events, 0 };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc > 0;
}

int
tc_send(struct tc *c, const void *p, size_t n)
{
	const char *b = p;
	ssize_t k;

	while (n > 0) {
		k = write(c->fd, b, n);
		if (k > 0) {
			b += k;
			n -= (size_t)k;
		} else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!tc_wait(c, POLLOUT, 5000))
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

int
tc_sends(struct tc *c, const char *s)
{
	return tc_send(c, s, strlen(s));
}

long
tc_fill(struct tc *c, int timeout_ms)
{
	ssize_t n;

	if (c->len == sizeof(c->buf))
		return -2;
	if (!tc_wait(c, POLLIN, timeout_ms))
		return -1;
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0)
		return n < 0 && errno == EAGAIN ? 0 : -2;
	c->len += (size_t)n;
	return n;
}

long
tc_frame(struct tc *c, char *out, size_t cap, int timeout_ms)
{
	return tc_until(c, '\1', out, cap, timeout_ms);
}

long
tc_until(struct tc *c, char delim, char *out, size_t cap, int timeout_ms)
{
	uint64_t end = tlib_ms() + (uint64_t)timeout_ms;
	char *one;
	size_t n;
	long rc;

	while ((one = memchr(c->buf, delim, c->len)) == NULL) {
		int left = (int)(end > tlib_ms() ? end - tlib_ms() : 0);

		if ((rc = tc_fill(c, left)) < 0)
			return rc;
		if (rc == 0 && left == 0)
			return -1;
	}
	n = (size_t)(one - c->buf);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, c->buf, n);
	out[n] = '\0';
	n = (size_t)(one - c->buf);
	memmove(c->buf, one + 1, c->len - n - 1);
	c->len -= n + 1;
	return (long)n;
}

long
tc_raw(struct tc *c, char *out, size_t cap, int timeout_ms)
{
	ssize_t n;

	if (!tc_wait(c, POLLIN, timeout_ms))
		return -1;
	n = read(c->fd, out, cap);
	return n > 0 ? (long)n : -2;
}

int
tc_eof(struct tc *c, int timeout_ms)
{
	uint64_t end = tlib_ms() + (uint64_t)timeout_ms;
	long rc;

	for (;;) {
		int left = (int)(end > tlib_ms() ? end - tlib_ms() : 0);

		c->len = 0;
		rc = tc_fill(c, left);
		if (rc == -2)
			return 1;
		if (rc == -1 || left == 0)
			return 0;
	}
}

int
tc_greeting(struct tc *c)
{
	char f[256];
	long n = tc_frame(c, f, sizeof(f), 5000);

	return n > 0 && strncmp(f, "{\"timestamp\":[", 14) == 0 && strstr(f, "\"token\":\"") ? 0 : -1;
}

int
tc_subscribe(struct tc *c, const char *topic)
{
	char msg[512], f[256];

	snprintf(msg, sizeof(msg), "{\"action\":\"subscribe\",\"data\":\"%s\"}", topic);
	if (tc_send(c, msg, strlen(msg) + 1) < 0)
		return -1;
	return tc_frame(c, f, sizeof(f), 5000) == 3 && strcmp(f, "ACK") == 0 ? 0 : -1;
}

int
tc_subscribe_each(struct tc *c, const char *prefix, unsigned first, unsigned n,
    unsigned *acks, unsigned *limits)
{
	size_t cap = (size_t)n * (40 + strlen(prefix) + 10) + 1, len = 0;
	char *req = calloc(1, cap), f[512];
	unsigned i, a = 0, l = 0;
	int rc = 0;

	if (req == NULL)
		return -1;
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(req + len, cap - len, "{\"action\":\"subscribe\",\"data\":\"%s%u\"}%c",
		    prefix, first + i, '\0');
	if (tc_send(c, req, len) < 0)
		rc = -1;
	for (i = 0; rc == 0 && i < n; i++) {
		if (tc_frame(c, f, sizeof(f), 10000) < 0) {
			tap_diag("  subscribe %s%u: no reply", prefix, first + i);
			rc = -1;
		} else if (strcmp(f, "ACK") == 0) {
			a++;
		} else if (tc_is_error(f, "limit")) {
			l++;
		} else {
			tap_diag("  subscribe %s%u: '%s'", prefix, first + i, f);
			rc = -1;
		}
	}
	free(req);
	if (acks != NULL)
		*acks = a;
	if (limits != NULL)
		*limits = l;
	return rc;
}

int
tc_publish1(unsigned port, const char *object)
{
	struct tc *c = tc_open(port);
	int rc;

	if (c == NULL)
		return -1;
	rc = tc_sends(c, "<regular-socket/>") < 0 || tc_send(c, "\0PUBLISH\0", 9) < 0 ||
	    tc_sends(c, object) < 0 ? -1 : 0;
	tc_close(c);
	return rc;
}

int
tc_strip_ts(char *f)
{
	char *end;

	if (strncmp(f, "{\"timestamp\":[", 14) != 0 || (end = strstr(f, "],")) == NULL)
		return -1;
	memmove(f + 1, end + 2, strlen(end + 2) + 1);
	return 0;
}

int
tc_sendz(struct tc *c, const char *s)
{
	return tc_send(c, s, strlen(s) + 1);
}

struct tc *
tc_open_greeted(unsigned port)
{
	struct tc *c = tc_open(port);

	if (c == NULL || tc_greeting(c) < 0)
		tap_bail("cannot open a greeted connection to port %u", port);
	return c;
}

int
tc_is_error(const char *f, const char *code)
{
	char head[64];
	size_t n = strlen(f), h;

	h = (size_t)snprintf(head, sizeof(head), "{\"error\":\"%s\",\"message\":\"", code);
	return n > h + 2 && strncmp(f, head, h) == 0 && strcmp(f + n - 2, "\"}") == 0;
}

int
tc_quiet(struct tc *c, int ms, const char *name)
{
	char f[4096];
	long n = c != NULL ? tc_frame(c, f, sizeof(f), ms) : -2;

	if (n >= 0)
		tap_diag("  unexpected frame: '%s'", f);
	return tap_ok(n == -1, "%s", name);
}

long long
tc_strip_seq(char *f)
{
	char *end;
	long long seq;

	if (strncmp(f, "{\"seq\":", 7) != 0)
		return -1;
	seq = strtoll(f + 7, &end, 10);
	if (*end != ',')
		return -1;
	memmove(f + 1, end + 1, strlen(end + 1) + 1);
	return seq;
}

long long
tc_num_after(const char *f, const char *key)
{
	const char *p = strstr(f, key);

	return p == NULL ? -1 : strtoll(p + strlen(key), NULL, 10);
}
