/*
 * t/bots_fake.c - a tiny, deliberately breakable Part 1 server for testing
 * janus-bots (t/bots_fake.sh).
 *
 * Owns: just enough of PROTOCOL.md Part 1 (greeting, ACK on subscribe,
 * PUBLISH delivered to subscribers with the timestamp first) and the Part 2
 * persistent publish with "ack":true, plus ways to misbehave:
 *   --drop-one    the first subscriber never gets a message
 *   --corrupt     the first subscriber gets every object with a digit changed
 *   --duplicate   the first subscriber gets every message twice
 *   --swap        messages go out in pairs, the second one first, to all
 *                 subscribers alike (fine across publishing connections,
 *                 wrong within one)
 * In faithful mode it still tests the bots' framing: some subscribers get a
 * message in two writes, some get a PING right after it in the same write.
 * Must not be mistaken for janusd: one process, no limits, no shared memory.
 *
 * Usage: bots_fake [-l ADDR] [-p PORT] [--lifetime S] [MODE]; with -p 0 (the
 * default) it prints the port it got on stdout. It exits after --lifetime
 * seconds (300) so that a forgotten one goes away.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum fake_mode { FAITHFUL, DROP_ONE, CORRUPT, DUPLICATE, SWAP };

struct fconn {
	int fd;
	int sub;            /* order of its first subscribe, -1 if none */
	int publish_next;   /* the last frame was PUBLISH */
	char *topic;        /* subscribed topic, NULL if none */
	char *in, *out;
	size_t inlen, incap, outlen, outcap;
};

struct fake {
	enum fake_mode mode;
	int lfd, ep;
	struct fconn **c;   /* by descriptor */
	int maxfd;
	int nsubs;
	uint64_t seq;
	uint64_t tokens;
	char *held;         /* --swap: a delivery waiting for the next one */
	size_t held_len;
	char *held_topic;
};

static void
fake_die(const char *what)
{
	fprintf(stderr, "bots_fake: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int64_t
fake_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* fake_stamp - {"timestamp":[M,S,U] into OUT; its length. */
static int
fake_stamp(char *out, size_t cap)
{
	int64_t us = fake_wall_us();
	long long sec = us / 1000000;

	return snprintf(out, cap, "{\"timestamp\":[%lld,%lld,%lld]",
	    sec / 1000000, sec % 1000000, (long long)(us % 1000000));
}

static void
fake_close(struct fake *f, struct fconn *c)
{
	f->c[c->fd] = NULL;
	close(c->fd);
	free(c->topic);
	free(c->in);
	free(c->out);
	free(c);
}

/* fake_queue - keep bytes the socket would not take. */
static void
fake_queue(struct fconn *c, const char *p, size_t n)
{
	if (c->outlen + n > c->outcap) {
		c->outcap = (c->outlen + n) * 2;
		if ((c->out = realloc(c->out, c->outcap)) == NULL)
			fake_die("realloc()");
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

/* fake_write - one write of its own (as far as the kernel lets it). */
static void
fake_write(struct fake *f, struct fconn *c, const char *p, size_t n)
{
	struct epoll_event ev;
	ssize_t w = 0;

	if (c->outlen == 0) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN)
			return;   /* the read side will see the error and close */
		if (w < 0)
			w = 0;
	}
	if ((size_t)w == n)
		return;
	if (c->outlen == 0) {
		ev.events = EPOLLIN | EPOLLOUT;
		ev.data.fd = c->fd;
		epoll_ctl(f->ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
	fake_queue(c, p + w, n - (size_t)w);
}

static void
fake_flush(struct fake *f, struct fconn *c)
{
	struct epoll_event ev;
	ssize_t w;

	w = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
	if (w <= 0)
		return;
	memmove(c->out, c->out + w, c->outlen - (size_t)w);
	c->outlen -= (size_t)w;
	if (c->outlen == 0) {
		ev.events = EPOLLIN;
		ev.data.fd = c->fd;
		epoll_ctl(f->ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

/* fake_string - the string value of "KEY":"..." in P, malloc'd, or NULL. */
static char *
fake_string(const char *p, size_t n, const char *key)
{
	char pat[64];
	const char *s, *e;
	char *v;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	s = memmem(p, n, pat, strlen(pat));
	if (s == NULL)
		return NULL;
	s += strlen(pat);
	e = memchr(s, '"', n - (size_t)(s - p));
	if (e == NULL || (v = malloc((size_t)(e - s) + 1)) == NULL)
		return NULL;
	memcpy(v, s, (size_t)(e - s));
	v[e - s] = '\0';
	return v;
}

/* fake_send_to - one delivery to subscriber C, misbehaving as told. */
static void
fake_send_to(struct fake *f, struct fconn *c, char *msg, size_t n)
{
	char *d, *both, keep;

	if (c->sub == 0 && f->mode == DROP_ONE)
		return;
	if (c->sub == 0 && f->mode == CORRUPT) {
		d = memmem(msg, n, "\"data\":\"", 8);
		if (d != NULL && d[8] >= '1' && d[8] <= '9') {
			keep = d[8];
			d[8] = keep == '9' ? '1' : (char)(keep + 1);
			fake_write(f, c, msg, n);
			d[8] = keep;
			return;
		}
	}
	if (c->sub == 0 && f->mode == DUPLICATE)
		fake_write(f, c, msg, n);
	if (c->sub % 3 == 1) {
		fake_write(f, c, msg, n / 2);
		fake_write(f, c, msg + n / 2, n - n / 2);
	} else if (c->sub % 5 == 2 && (both = malloc(n + 5)) != NULL) {
		memcpy(both, msg, n);
		memcpy(both + n, "PING\1", 5);
		fake_write(f, c, both, n + 5);
		free(both);
	} else {
		fake_write(f, c, msg, n);
	}
}

/* fake_fanout - frame MSG to every subscriber of TOPIC. */
static void
fake_fanout(struct fake *f, const char *topic, char *msg, size_t len)
{
	int fd;

	for (fd = 0; fd <= f->maxfd; fd++)
		if (f->c[fd] != NULL && f->c[fd]->topic != NULL &&
		    strcmp(f->c[fd]->topic, topic) == 0)
			fake_send_to(f, f->c[fd], msg, len);
}

/* fake_publish - deliver object OBJ to every subscriber of its topic. */
static void
fake_publish(struct fake *f, struct fconn *from, const char *obj, size_t n,
    int ack)
{
	char *topic, *msg, reply[64];
	size_t len;
	int k;

	if (n < 2 || obj[0] != '{' || (topic = fake_string(obj, n, "topic")) == NULL)
		return;
	if ((msg = malloc(n + 64)) == NULL)
		fake_die("malloc()");
	k = fake_stamp(msg, 64);
	msg[k++] = ',';
	memcpy(msg + k, obj + 1, n - 1);
	len = (size_t)k + n - 1;
	msg[len++] = '\1';
	if (f->mode == SWAP && f->held == NULL) {
		f->held = msg;
		f->held_len = len;
		f->held_topic = topic;
		msg = NULL;
		topic = NULL;
	} else {
		fake_fanout(f, topic, msg, len);
	}
	if (f->mode == SWAP && msg != NULL) {
		fake_fanout(f, f->held_topic, f->held, f->held_len);
		free(f->held);
		free(f->held_topic);
		f->held = NULL;
	}
	f->seq++;
	if (ack) {
		k = snprintf(reply, sizeof(reply), "{\"published\":{\"seq\":%llu}}\1",
		    (unsigned long long)f->seq);
		fake_write(f, from, reply, (size_t)k);
	}
	free(msg);
	free(topic);
}

/* fake_part2 - {"action":"publish",["ack":true,]...}: drop those members. */
static void
fake_part2(struct fake *f, struct fconn *c, const char *p, size_t n)
{
	static const char action[] = "{\"action\":\"publish\",";
	static const char ack[] = "\"ack\":true,";
	size_t skip = sizeof(action) - 1;
	int want_ack = 0;
	char *obj;

	if (n <= skip || memcmp(p, action, skip) != 0)
		return;
	if (n - skip > sizeof(ack) - 1 && memcmp(p + skip, ack, sizeof(ack) - 1) == 0) {
		skip += sizeof(ack) - 1;
		want_ack = 1;
	}
	/* rebuild "{" + the remaining members */
	if ((obj = malloc(n - skip + 1)) == NULL)
		fake_die("malloc()");
	obj[0] = '{';
	memcpy(obj + 1, p + skip, n - skip);
	fake_publish(f, c, obj, n - skip + 1, want_ack);
	free(obj);
}

/* fake_frame - one \0-terminated frame from a client; -1 to close it. */
static int
fake_frame(struct fake *f, struct fconn *c, const char *p, size_t n)
{
	char *action, *topic;

	if (c->publish_next) {
		fake_publish(f, c, p, n, 0);
		return -1;   /* the original closes after a publish */
	}
	if ((n == 17 && memcmp(p, "<regular-socket/>", 17) == 0) ||
	    (n == 4 && (memcmp(p, "PING", 4) == 0 || memcmp(p, "PONG", 4) == 0)))
		return 0;
	if (n == 7 && memcmp(p, "PUBLISH", 7) == 0) {
		c->publish_next = 1;
		return 0;
	}
	action = fake_string(p, n, "action");
	if (action != NULL && strcmp(action, "subscribe") == 0 &&
	    (topic = fake_string(p, n, "data")) != NULL) {
		free(c->topic);
		c->topic = topic;
		if (c->sub < 0)
			c->sub = f->nsubs++;
		fake_write(f, c, "ACK\1", 4);
	} else if (action != NULL && strcmp(action, "publish") == 0) {
		fake_part2(f, c, p, n);
	} else {
		fake_write(f, c, "{\"error\":\"bad_frame\",\"message\":\"?\"}\1", 37);
	}
	free(action);
	return 0;
}

/* fake_read - bytes from C; frames end with \0, or with the stream after PUBLISH. */
static void
fake_read(struct fake *f, struct fconn *c)
{
	char buf[65536];
	size_t off = 0;
	ssize_t n;
	char *e;

	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* the 2009 bots' publish ends with the stream, or with a reset */
		if (c->publish_next && c->inlen > 0)
			fake_publish(f, c, c->in, c->inlen, 0);
		fake_close(f, c);
		return;
	}
	if (c->inlen + (size_t)n > c->incap) {
		c->incap = (c->inlen + (size_t)n) * 2;
		if ((c->in = realloc(c->in, c->incap)) == NULL)
			fake_die("realloc()");
	}
	memcpy(c->in + c->inlen, buf, (size_t)n);
	c->inlen += (size_t)n;
	while ((e = memchr(c->in + off, '\0', c->inlen - off)) != NULL) {
		if (fake_frame(f, c, c->in + off, (size_t)(e - c->in) - off) < 0) {
			fake_close(f, c);
			return;
		}
		off = (size_t)(e - c->in) + 1;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
}

static void
fake_accept(struct fake *f)
{
	struct epoll_event ev;
	struct fconn *c;
	char g[128];
	int fd, one = 1, k;

	while ((fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (fd > f->maxfd)
			f->maxfd = fd;
		if ((c = calloc(1, sizeof(*c))) == NULL)
			fake_die("calloc()");
		c->fd = fd;
		c->sub = -1;
		f->c[fd] = c;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			fake_die("epoll_ctl()");
		k = fake_stamp(g, sizeof(g));
		k += snprintf(g + k, sizeof(g) - (size_t)k,
		    ",\"token\":\"%016llx%016llx\"}\1",
		    (unsigned long long)getpid(), (unsigned long long)++f->tokens);
		fake_write(f, c, g, (size_t)k);
	}
}

static int
fake_listen(const char *addr, int port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "bots_fake: bad address '%s'\n", addr);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fake_die("socket()");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fake_die("bind()");
	if (listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		fake_die("listen()");
	printf("%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

static void
fake_loop(struct fake *f, time_t end)
{
	struct epoll_event ev[256];
	struct fconn *c;
	int n, k;

	while (time(NULL) < end) {
		n = epoll_wait(f->ep, ev, 256, 1000);
		for (k = 0; k < n; k++) {
			if (ev[k].data.fd == f->lfd) {
				fake_accept(f);
				continue;
			}
			if ((c = f->c[ev[k].data.fd]) == NULL)
				continue;
			if ((ev[k].events & EPOLLOUT) && c->outlen > 0)
				fake_flush(f, c);
			if (ev[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				fake_read(f, c);
		}
	}
}

int
main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	struct epoll_event ev;
	struct rlimit rl;
	struct fake f;
	int port = 0, i, lifetime = 300;

	memset(&f, 0, sizeof(f));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0 && i + 1 < argc)
			addr = argv[++i];
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--lifetime") == 0 && i + 1 < argc)
			lifetime = atoi(argv[++i]);
		else if (strcmp(argv[i], "--faithful") == 0)
			f.mode = FAITHFUL;
		else if (strcmp(argv[i], "--drop-one") == 0)
			f.mode = DROP_ONE;
		else if (strcmp(argv[i], "--corrupt") == 0)
			f.mode = CORRUPT;
		else if (strcmp(argv[i], "--duplicate") == 0)
			f.mode = DUPLICATE;
		else if (strcmp(argv[i], "--swap") == 0)
			f.mode = SWAP;
		else {
			fprintf(stderr, "usage: bots_fake [-l ADDR] [-p PORT] "
			    "[--lifetime S] [--faithful|--drop-one|--corrupt|--duplicate|--swap]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		fake_die("getrlimit()");
	if ((f.c = calloc(rl.rlim_cur, sizeof(*f.c))) == NULL)
		fake_die("calloc()");
	f.lfd = fake_listen(addr, port);
	if ((f.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fake_die("epoll_create1()");
	ev.events = EPOLLIN;
	ev.data.fd = f.lfd;
	if (epoll_ctl(f.ep, EPOLL_CTL_ADD, f.lfd, &ev) < 0)
		fake_die("epoll_ctl()");
	fake_loop(&f, time(NULL) + lifetime);
	return 0;
}
