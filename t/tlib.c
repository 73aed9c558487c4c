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

/* tlib_port_free - nothing listens on 127.0.0.1:port right now. */
static int
tlib_port_free(unsigned port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
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
	const char *argv[64];
	char port[16];
	int n = 0, fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	snprintf(port, sizeof(port), "%u", s->port);
	argv[n++] = "janusd";
	argv[n++] = "-l";
	argv[n++] = "127.0.0.1";
	argv[n++] = "-p";
	argv[n++] = port;
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
	char buf[8192], want[48];

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

int
tsrv_start(struct tsrv *s, const char *const *args)
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
	char buf[8192], key[64];
	const char *p;

	if (tsrv_stats(s, buf, sizeof(buf)) < 0)
		return -1;
	snprintf(key, sizeof(key), "{\"slot\":%u,", slot);
	p = strstr(buf, key);
	if (p == NULL)
		return -1;
	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(p, key);
	return p == NULL ? -1 : strtoll(p + strlen(key), NULL, 10);
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

struct tc *
tc_open_small(unsigned port, int rcvbuf, int mss)
{
	struct sockaddr_in a;
	struct tc *c = malloc(sizeof(*c));
	int one = 1;

	if (c == NULL)
		return NULL;
	c->len = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (c->fd >= 0 && rcvbuf > 0)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (c->fd >= 0 && mss > 0)
		setsockopt(c->fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return NULL;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return c;
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

/* tc_fill - read more into the buffer; bytes read, -1 timeout, -2 EOF. */
static long
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
	uint64_t end = tlib_ms() + (uint64_t)timeout_ms;
	char *one;
	size_t n;
	long rc;

	while ((one = memchr(c->buf, '\1', c->len)) == NULL) {
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
