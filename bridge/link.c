/*
 * bridge/link.c - the bridge's connection to a NATS server.
 *
 * Owns: what bridge/link.h says. The states: down (waiting for
 * retry_at), connecting (TCP, then the server's INFO, our CONNECT and
 * PING, until its PONG; bounded by LINK_CONNECT_MS) and up (a PING every
 * LINK_PING_MS; LINK_PINGS_LOST unanswered ones fail the link). A
 * failure found while the parser runs (an -ERR, a lame-duck INFO) waits
 * until nats_parse returns, because failing frees the parser's state.
 * Must not know what messages mean: each MSG goes to on_msg.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "bridge/link.h"

#define LINK_RBUF          (64 << 10)
#define LINK_READS         16          /* reads per event before the loop goes on */
#define LINK_CONNECT_MS    5000        /* from connect(2) to the PONG that makes the link up */
#define LINK_PING_MS       5000
#define LINK_PINGS_LOST    2
#define LINK_BACKOFF_MS    100         /* the first wait, after two failures in a row */
#define LINK_STABLE_MS     2000        /* up this long: the next failure counts as the first */
#define LINK_DEFAULT_PORT  "4222"
#define LINK_OBUF_MIN      (64 << 10)

/* link_server_parse - one nats://HOST[:PORT]; 0 or -1 with err. */
static int
link_server_parse(const char *url, struct link_server *s, char *err, size_t errlen)
{
	const char *host = url + 7, *end, *rest;
	unsigned long port = 0;
	char *pend;

	if (strncmp(url, "nats://", 7) != 0) {
		snprintf(err, errlen, "'%s' is not nats://HOST[:PORT] (TLS and other schemes are not spoken)", url);
		return -1;
	}
	if (*host == '[') {
		end = strchr(++host, ']');
		rest = end != NULL ? end + 1 : NULL;
	} else {
		end = host + strcspn(host, ":/");
		rest = end;
	}
	if (end == NULL || end == host || (size_t)(end - host) >= sizeof(s->host) ||
	    memchr(host, '@', (size_t)(end - host)) != NULL) {
		snprintf(err, errlen, "'%s': no usable host (user names and passwords are not supported)", url);
		return -1;
	}
	if (*rest == ':') {
		errno = 0;
		port = strtoul(rest + 1, &pend, 10);
		if (errno != 0 || pend == rest + 1 || port == 0 || port > 65535 || rest[1] == '+' ||
		    rest[1] == '-') {
			snprintf(err, errlen, "'%s': the port is not 1 to 65535", url);
			return -1;
		}
		rest = pend;
	}
	if (*rest == '/')
		rest++;
	if (*rest != '\0') {
		snprintf(err, errlen, "'%s': unexpected '%s' after the address", url, rest);
		return -1;
	}
	memcpy(s->host, host, (size_t)(end - host));
	s->host[end - host] = '\0';
	if (port == 0)
		snprintf(s->port, sizeof(s->port), "%s", LINK_DEFAULT_PORT);
	else
		snprintf(s->port, sizeof(s->port), "%lu", port);
	return 0;
}

int
link_servers_parse(const char *list, struct link_server *out, unsigned max, unsigned *n,
    char *err, size_t errlen)
{
	char buf[CONF_CLUSTER_MAX], *tok, *save;

	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "longer than %zu bytes", sizeof(buf) - 1);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	*n = 0;
	for (tok = strtok_r(buf, " ,\t", &save); tok != NULL; tok = strtok_r(NULL, " ,\t", &save)) {
		if (*n == max) {
			snprintf(err, errlen, "more than %u servers", max);
			return -1;
		}
		if (link_server_parse(tok, &out[*n], err, errlen) < 0)
			return -1;
		(*n)++;
	}
	if (*n == 0) {
		snprintf(err, errlen, "no server");
		return -1;
	}
	return 0;
}

const char *
link_server_name(const struct link_server *s, char *buf, size_t cap)
{
	snprintf(buf, cap, strchr(s->host, ':') != NULL ? "[%s]:%s" : "%s:%s", s->host, s->port);
	return buf;
}

const char *
link_name(const struct bridge *b, char *buf, size_t cap)
{
	return link_server_name(&b->link.servers[b->link.server], buf, cap);
}

/* link_state - a new state, also in the shared counters. */
static void
link_state(struct bridge *b, enum shm_link state)
{
	b->link.state = state;
	bridge_stat_set(&b->st->link, state);
	bridge_stat_set(&b->st->server, b->link.server);
}

int
link_init(struct bridge *b, nats_op_fn on_msg)
{
	struct bridge_link *l = &b->link;
	char err[256];

	l->fd = -1;
	l->on_msg = on_msg;
	if (link_servers_parse(b->conf.cluster, l->servers, BRIDGE_MAX_SERVERS, &l->nservers,
	    err, sizeof(err)) < 0) {
		log_error("cluster: %s", err);
		return -1;
	}
	if ((l->rbuf = malloc(LINK_RBUF)) == NULL) {
		log_error("out of memory for the NATS read buffer");
		return -1;
	}
	l->retry_at = b->now;
	link_state(b, SHM_LINK_DOWN);
	return 0;
}

/* link_drop - close the socket and forget the connection's state. */
static void
link_drop(struct bridge_link *l)
{
	if (l->fd >= 0 && close(l->fd) < 0)
		log_warn("close() of the NATS connection failed: %s", strerror(errno));
	l->fd = -1;
	l->tcp_up = l->sent_connect = 0;
	l->olen = l->ooff = 0;
	l->pings = 0;
	l->events = 0;
	nats_parser_free(&l->parser);
}

/* link_fail_now - close, move to the next server, and wait if this keeps failing. */
static void
link_fail_now(struct bridge *b, const char *why)
{
	struct bridge_link *l = &b->link;
	uint64_t delay = 0;
	unsigned shift;
	char was[300], next[300];
	int up = l->state == SHM_LINK_UP;

	link_name(b, was, sizeof(was));
	link_drop(l);
	if (up && b->now - l->up_at >= LINK_STABLE_MS)
		l->fails = 0;
	l->fails++;
	l->server = (l->server + 1) % l->nservers;
	if (l->fails > 1) {
		shift = l->fails - 2 < 16 ? l->fails - 2 : 16;
		delay = (uint64_t)LINK_BACKOFF_MS << shift;
		if (delay > b->conf.cluster_reconnect_ms)
			delay = b->conf.cluster_reconnect_ms;
	}
	l->retry_at = b->now + delay;
	link_state(b, SHM_LINK_DOWN);
	log_msg(up || l->fails <= l->nservers ? LOG_LVL_WARN : LOG_LVL_INFO,
	    "NATS server %s: %s; trying %s in %llu ms", was, why, link_name(b, next, sizeof(next)),
	    (unsigned long long)delay);
}

void
link_fail(struct bridge *b, const char *fmt, ...)
{
	struct bridge_link *l = &b->link;
	char why[sizeof(l->why)];
	va_list ap;

	if (l->fd < 0 && l->state == SHM_LINK_DOWN)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!l->parsing) {
		link_fail_now(b, why);
		return;
	}
	if (l->why[0] == '\0')
		memcpy(l->why, why, sizeof(why));
}

/* link_watch - epoll watches for writing only while connecting or while output waits. */
static void
link_watch(struct bridge *b)
{
	struct bridge_link *l = &b->link;
	struct epoll_event ev;
	uint32_t want = EPOLLIN | (!l->tcp_up || l->ooff < l->olen ? EPOLLOUT : 0);

	if (l->fd < 0 || want == l->events)
		return;
	ev.events = want;
	ev.data.ptr = l;
	if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, l->fd, &ev) < 0) {
		link_fail(b, "epoll_ctl(MOD) failed: %s", strerror(errno));
		return;
	}
	l->events = want;
}

/* link_connect - start a non-blocking connect to the current server. */
static void
link_connect(struct bridge *b)
{
	struct bridge_link *l = &b->link;
	const struct link_server *s = &l->servers[l->server];
	struct addrinfo hints, *res;
	struct epoll_event ev;
	char name[300];
	int rc, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	link_state(b, SHM_LINK_CONNECTING);
	if ((rc = getaddrinfo(s->host, s->port, &hints, &res)) != 0) {
		link_fail(b, "cannot resolve '%s': %s", s->host, gai_strerror(rc));
		return;
	}
	l->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		freeaddrinfo(res);
		link_fail(b, "socket() failed: %s", strerror(errno));
		return;
	}
	if (setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		log_warn("setsockopt(TCP_NODELAY) failed: %s", strerror(errno));
	rc = connect(l->fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc < 0 && errno != EINPROGRESS) {
		link_fail(b, "connect() failed: %s", strerror(errno));
		return;
	}
	l->tcp_up = rc == 0;
	l->events = ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = l;
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
		link_fail(b, "epoll_ctl(ADD) failed: %s", strerror(errno));
		return;
	}
	nats_parser_init(&l->parser, 0);
	l->deadline = b->now + LINK_CONNECT_MS;
	log_info("connecting to NATS server %s", link_name(b, name, sizeof(name)));
}

int
link_queue(struct bridge *b, const void *p, size_t n)
{
	struct bridge_link *l = &b->link;
	size_t cap;
	char *nb;

	if (l->fd < 0)
		return -1;
	if (l->olen + n > l->ocap && l->ooff > 0) {
		memmove(l->obuf, l->obuf + l->ooff, l->olen - l->ooff);
		l->olen -= l->ooff;
		l->ooff = 0;
	}
	if (l->olen + n > l->ocap) {
		for (cap = l->ocap ? l->ocap * 2 : LINK_OBUF_MIN; cap < l->olen + n; cap *= 2)
			;
		if ((nb = realloc(l->obuf, cap)) == NULL) {
			link_fail(b, "out of memory for %zu bytes of output", cap);
			return -1;
		}
		l->obuf = nb;
		l->ocap = cap;
	}
	memcpy(l->obuf + l->olen, p, n);
	l->olen += n;
	return 0;
}

void
link_unqueue(struct bridge *b, size_t mark)
{
	if (mark >= b->link.ooff && mark <= b->link.olen)
		b->link.olen = mark;
}

long
link_writev(struct bridge *b, const struct iovec *iov, int n)
{
	struct msghdr msg;
	ssize_t k;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = (struct iovec *)(uintptr_t)iov;
	msg.msg_iovlen = (size_t)n;
	do
		k = sendmsg(b->link.fd, &msg, MSG_NOSIGNAL);
	while (k < 0 && errno == EINTR);
	if (k >= 0)
		return (long)k;
	if (errno == EAGAIN)
		return 0;
	link_fail(b, "sendmsg() failed: %s", strerror(errno));
	return -1;
}

void
link_flush(struct bridge *b)
{
	struct bridge_link *l = &b->link;
	ssize_t k;

	if (l->fd < 0 || !l->tcp_up)
		return;
	while (l->ooff < l->olen) {
		k = send(l->fd, l->obuf + l->ooff, l->olen - l->ooff, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			break;
		if (k < 0) {
			link_fail(b, "send() failed: %s", strerror(errno));
			return;
		}
		l->ooff += (size_t)k;
	}
	if (l->ooff == l->olen)
		l->olen = l->ooff = 0;
	link_watch(b);
}

/* link_on_info - the server's INFO: the first one is answered with CONNECT and PING. */
static int
link_on_info(struct bridge *b, const struct nats_info *in)
{
	struct bridge_link *l = &b->link;
	char buf[1024];
	long n;

	l->max_payload = in->max_payload;
	if (in->ldm) {
		link_fail(b, "the server is going away (lame duck mode)");
		return -1;
	}
	if (l->sent_connect)
		return 0;
	if (in->tls_required || in->auth_required || in->proto < 1) {
		link_fail(b, "the server wants %s, which the bridge does not speak",
		    in->tls_required ? "TLS" : in->auth_required ? "credentials" : "an old protocol");
		return -1;
	}
	if ((n = nats_put_connect(buf, sizeof(buf), b->name, PACKAGE_VERSION)) < 0) {
		link_fail(b, "cluster_name does not fit in CONNECT");
		return -1;
	}
	l->sent_connect = 1;
	return link_queue(b, buf, (size_t)n) < 0 || link_queue(b, NATS_PING, sizeof(NATS_PING) - 1) < 0 ?
	    -1 : 0;
}

/* link_on_pong - the answer to a PING; the first one makes the link up. */
static void
link_on_pong(struct bridge *b)
{
	struct bridge_link *l = &b->link;
	char name[300];

	l->pings = 0;
	if (l->state != SHM_LINK_CONNECTING)
		return;
	link_state(b, SHM_LINK_UP);
	l->up_at = b->now;
	l->ping_at = b->now + LINK_PING_MS;
	l->just_up = 1;
	if (l->ever_up)
		bridge_stat_add(&b->st->reconnects, 1);
	l->ever_up = 1;
	log_notice("connected to NATS server %s (%s, version %s)", link_name(b, name, sizeof(name)),
	    l->parser.info.server_name, l->parser.info.version);
}

/* link_on_err - -ERR: permission refusals leave the connection open; the server closes it after any other. */
static int
link_on_err(struct bridge *b, const char *text, size_t len)
{
	static const char keep[] = "Permissions Violation";
	char name[300];

	if (len >= sizeof(keep) - 1 && strncasecmp(text, keep, sizeof(keep) - 1) == 0) {
		log_warn("NATS server %s: -ERR '%.*s'", link_name(b, name, sizeof(name)), (int)len, text);
		return 0;
	}
	link_fail(b, "-ERR '%.*s'", (int)len, text);
	return -1;
}

/* link_on_op - each operation from the server; MSG goes to on_msg. */
static int
link_on_op(void *ctx, const struct nats_op *op)
{
	struct bridge *b = ctx;

	switch (op->type) {
	case NATS_OP_MSG:
		return b->link.on_msg(b, op);
	case NATS_OP_INFO:
		return link_on_info(b, op->info);
	case NATS_OP_PING:
		return link_queue(b, NATS_PONG, sizeof(NATS_PONG) - 1);
	case NATS_OP_PONG:
		link_on_pong(b);
		return 0;
	case NATS_OP_OK:
		return 0;
	case NATS_OP_ERR:
		return link_on_err(b, op->data, op->len);
	}
	return 0;
}

/* link_read - read and parse what the server sent, a bounded number of reads per event. */
static void
link_read(struct bridge *b)
{
	struct bridge_link *l = &b->link;
	enum nats_result r;
	ssize_t n;
	int i;

	for (i = 0; i < LINK_READS && l->fd >= 0; i++) {
		n = recv(l->fd, l->rbuf, LINK_RBUF, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == 0) {
			link_fail(b, "the server closed the connection");
			return;
		}
		if (n < 0) {
			link_fail(b, "recv() failed: %s", strerror(errno));
			return;
		}
		l->parsing = 1;
		r = nats_parse(&l->parser, l->rbuf, (size_t)n, link_on_op, b);
		l->parsing = 0;
		if (l->why[0] != '\0') {
			link_fail_now(b, l->why);
			l->why[0] = '\0';
			return;
		}
		if (r != NATS_MORE && r != NATS_STOP) {
			link_fail(b, "protocol error: %s", nats_parse_error(&l->parser));
			return;
		}
		if ((size_t)n < LINK_RBUF)
			return;
	}
}

void
link_event(struct bridge *b, uint32_t events)
{
	struct bridge_link *l = &b->link;
	socklen_t len = sizeof(int);
	int err = 0;

	if (l->fd < 0)
		return;
	if (!l->tcp_up && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			link_fail(b, "connect() failed: %s", strerror(err));
			return;
		}
		l->tcp_up = 1;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		link_read(b);
	link_flush(b);
}

int
link_take_up(struct bridge *b)
{
	int up = b->link.just_up;

	b->link.just_up = 0;
	return up && link_up(b);
}

void
link_due(struct bridge *b)
{
	struct bridge_link *l = &b->link;

	switch (l->state) {
	case SHM_LINK_DOWN:
		if (b->now >= l->retry_at)
			link_connect(b);
		break;
	case SHM_LINK_CONNECTING:
		if (b->now >= l->deadline)
			link_fail(b, "not up within %d ms", LINK_CONNECT_MS);
		break;
	case SHM_LINK_UP:
		if (b->now < l->ping_at)
			break;
		if (l->pings >= LINK_PINGS_LOST) {
			link_fail(b, "no PONG to %u PINGs in %d ms", l->pings, LINK_PINGS_LOST * LINK_PING_MS);
			break;
		}
		l->pings++;
		l->ping_at = b->now + LINK_PING_MS;
		link_queue(b, NATS_PING, sizeof(NATS_PING) - 1);
		break;
	}
}

int
link_next_ms(const struct bridge *b, int cap)
{
	const struct bridge_link *l = &b->link;
	uint64_t at = l->state == SHM_LINK_DOWN ? l->retry_at :
	    l->state == SHM_LINK_CONNECTING ? l->deadline : l->ping_at;

	if (at <= b->now)
		return 0;
	return at - b->now < (uint64_t)cap ? (int)(at - b->now) : cap;
}

void
link_close(struct bridge *b)
{
	struct bridge_link *l = &b->link;

	if (l->fd >= 0 && l->tcp_up && l->ooff < l->olen &&
	    send(l->fd, l->obuf + l->ooff, l->olen - l->ooff, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN)
		log_info("the last output to NATS was not sent: %s", strerror(errno));
	link_drop(l);
	free(l->obuf);
	free(l->rbuf);
	l->obuf = l->rbuf = NULL;
	l->ocap = 0;
}
