/*
 * worker/conn.c - a worker's client connections: accept, read, act, close.
 *
 * Owns: the life of struct conn and the input side: reading, splitting
 * into frames, and acting on each request. Closing is deferred: a closed
 * connection is marked, its descriptor closed at once, and its memory
 * freed at the end of the loop pass (conn_reap), so code that walks
 * subscriber arrays never sees them change under it. A client's error
 * closes that client only; nothing here may end the worker.
 * Must not write to a socket itself: worker/out.c does all output.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "proto/render.h"
#include "proto/request.h"
#include "worker/worker.h"

#define CONN_ACCEPT_BATCH 512      /* accepts per loop pass, so clients are not starved */
#define CONN_READ_BUDGET  4        /* reads per connection per pass */

/* The frame handler's context. */
struct conn_in {
	struct worker *w;
	struct conn *c;
	unsigned frames;           /* whole frames handled */
};

const char *
conn_name(const struct conn *c, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, cap, c->family == 4 ? "%s:%u" : "[%s]:%u", a, c->port);
	return buf;
}

/* conn_acl - what the client's address may do, from the live settings. */
void
conn_acl(const struct worker *w, struct conn *c)
{
	c->flags &= ~(uint32_t)(CONN_NET_PUB | CONN_NET_SUB);
	if (conf_nets_match(&w->conf.publish_allow, c->family, c->addr))
		c->flags |= CONN_NET_PUB;
	if (conf_nets_match(&w->conf.subscribe_allow, c->family, c->addr))
		c->flags |= CONN_NET_SUB;
}

/* conn_peer - the client's address; an IPv4-mapped IPv6 address counts as IPv4. */
static void
conn_peer(struct conn *c, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET) {
		c->family = 4;
		memcpy(c->addr, &a4->sin_addr, 4);
		c->port = ntohs(a4->sin_port);
	} else if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		c->family = 4;
		memcpy(c->addr, &a6->sin6_addr.s6_addr[12], 4);
		c->port = ntohs(a6->sin6_port);
	} else {
		c->family = 6;
		memcpy(c->addr, &a6->sin6_addr, 16);
		c->port = ntohs(a6->sin6_port);
	}
}

/* conn_token - 32 hex digits unique to the connection: a keyed counter. */
static void
conn_token(struct worker *w, char out[RENDER_TOKEN_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t v[2] = { w->token_key[0], w->token_key[1] ^ ++w->token_ctr };
	const unsigned char *b = (const unsigned char *)v;
	unsigned i;

	/* mix the counter into both halves so tokens do not look sequential */
	v[0] ^= (v[1] * 0x9e3779b97f4a7c15ULL);
	v[1] ^= (v[0] >> 29) * 0xbf58476d1ce4e5b9ULL;
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
}

/* conn_greet - the greeting, the first bytes of every connection. */
static void
conn_greet(struct worker *w, struct conn *c)
{
	char buf[128], token[RENDER_TOKEN_LEN];
	size_t n;

	conn_token(w, token);
	n = render_greeting(buf, clock_wall_usec(), token);
	out_reply(w, c, buf, n);
}

/* conn_refuse - over max_conns: say so and close, without a struct conn. */
static void
conn_refuse(struct worker *w, int fd)
{
	char buf[160];
	long n = render_error(buf, sizeof(buf), ERR_LIMIT, "too many connections");

	if (n > 0 && write(fd, buf, (size_t)n) < 0)
		log_debug("write() of a refusal failed: %s", strerror(errno));
	close(fd);
	stat_add(&w->stats->refused, 1);
}

/* conn_open - set up a just-accepted connection and greet it. */
static void
conn_open(struct worker *w, int fd, const struct sockaddr_storage *ss)
{
	struct epoll_event ev;
	struct conn *c;

	if ((unsigned)fd >= w->nfd || (c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("cannot take a connection (fd %d): out of memory or descriptors", fd);
		close(fd);
		return;
	}
	c->fd = fd;
	c->last_rx = w->now;
	conn_peer(c, ss);
	conn_acl(w, c);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_error("epoll_ctl(ADD) failed: %s", strerror(errno));
		close(fd);
		free(c);
		return;
	}
	w->byfd[fd] = c;
	w->nconns++;
	atomic_store_explicit(&w->stats->conns, w->nconns, memory_order_relaxed);
	stat_add(&w->stats->accepted, 1);
	conn_greet(w, c);
}

void
conn_accept_all(struct worker *w)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, i;

	for (i = 0; i < CONN_ACCEPT_BATCH; i++) {
		sl = sizeof(ss);
		fd = accept4(w->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("accept4() failed: %s", strerror(errno));
			return;
		}
		if (w->nconns >= w->max_conns)
			conn_refuse(w, fd);
		else
			conn_open(w, fd, &ss);
	}
}

/* conn_on_publish_word - PUBLISH: refuse at once if this client may not publish. */
static int
conn_on_publish_word(struct worker *w, struct conn *c)
{
	if (!publish_allowed(w, c)) {
		out_error(w, c, ERR_NOT_ALLOWED, "publishing is not allowed from this client");
		conn_close(w, c, "publish refused");
		return -1;
	}
	c->flags |= CONN_AFTER_PUBLISH;
	return 0;
}

/* conn_on_hello - a version 2 session: seq numbers and heartbeats from now on. */
static void
conn_on_hello(struct worker *w, struct conn *c)
{
	char buf[128];
	long n = render_hello(buf, sizeof(buf), w->shm->hdr->epoch, ring_head(&w->shm->ring));

	c->flags |= CONN_V2;
	out_reply(w, c, buf, (size_t)n);
	timer_sent(w, c);
}

/* conn_key_eq - compare keys in time independent of where they differ. */
static int
conn_key_eq(const char *want, const char *got, size_t len)
{
	size_t i, wl = strlen(want);
	unsigned char d = wl != len;

	for (i = 0; i < len; i++)
		d |= (unsigned char)(got[i] ^ want[i < wl ? i : 0]);
	return d == 0 && wl > 0;
}

static void
conn_on_auth(struct worker *w, struct conn *c, const struct request *r)
{
	char key[CONF_KEY_MAX], buf[64];
	long n = json_str_decode(&r->key, key, sizeof(key));

	if (n < 0 || !conn_key_eq(w->conf.publish_key, key, (size_t)n)) {
		out_error(w, c, ERR_NOT_ALLOWED, "wrong key");
		return;
	}
	c->flags |= CONN_AUTHED;
	n = render_auth(buf, sizeof(buf));
	out_reply(w, c, buf, (size_t)n);
}

/* conn_on_publish - a message; a Part 1 publisher is closed afterwards, as the original did. */
static int
conn_on_publish(struct worker *w, struct conn *c, const struct request *r)
{
	if (r->part1) {
		c->flags &= ~(uint32_t)CONN_AFTER_PUBLISH;
		publish_message(w, c, r);
		conn_close(w, c, "published (Part 1 publisher)");
		return -1;
	}
	if (!publish_allowed(w, c))
		return out_error(w, c, ERR_NOT_ALLOWED, "publishing is not allowed from this client");
	return publish_message(w, c, r);
}

/* conn_on_bad - an error reply; after a bad Part 1 message the client is closed. */
static int
conn_on_bad(struct worker *w, struct conn *c, const struct request *r)
{
	if (out_error(w, c, r->code, r->text) < 0)
		return -1;
	if (c->flags & CONN_AFTER_PUBLISH) {
		conn_close(w, c, "bad message after PUBLISH");
		return -1;
	}
	return 0;
}

/* conn_frame - act on one frame; -1 once the connection is closed. */
static int
conn_frame(void *ctx, const char *frame, size_t len)
{
	struct conn_in *in = ctx;
	struct worker *w = in->w;
	struct conn *c = in->c;
	struct request r;

	if (c->flags & CONN_CLOSING)
		return -1;
	in->frames++;
	request_parse(&r, frame, len, (c->flags & CONN_AFTER_PUBLISH) != 0,
	    w->conf.max_topic_len);
	switch (r.kind) {
	case REQ_IGNORE:
		return 0;
	case REQ_PUBLISH_NEXT:
		return conn_on_publish_word(w, c);
	case REQ_SUBSCRIBE:
		return subs_subscribe(w, c, &r);
	case REQ_UNSUBSCRIBE:
		subs_unsubscribe(w, c, &r);
		return 0;
	case REQ_HELLO:
		conn_on_hello(w, c);
		return 0;
	case REQ_AUTH:
		conn_on_auth(w, c, &r);
		return 0;
	case REQ_PUBLISH:
		return conn_on_publish(w, c, &r);
	default:
		return conn_on_bad(w, c, &r);
	}
}

/* conn_eof - the client is gone; a Part 1 message cut short by it still counts. */
static void
conn_eof(struct worker *w, struct conn *c, const char *why)
{
	struct conn_in in = { w, c, 0 };

	if ((c->flags & CONN_AFTER_PUBLISH) && framer_pending(&c->in) > 0 &&
	    conn_frame(&in, c->in.part, c->in.len) < 0)
		return;
	conn_close(w, c, why);
}

/* conn_feed - split what was read into frames and act on them. */
static int
conn_feed(struct worker *w, struct conn *c, size_t n)
{
	struct conn_in in = { w, c, 0 };
	enum frame_result r;

	r = framer_feed(&c->in, w->rbuf, n, w->conf.max_frame, conn_frame, &in);
	if (r == FRAME_STOP || (c->flags & CONN_CLOSING))
		return -1;
	if (r == FRAME_TOO_LARGE) {
		out_error(w, c, ERR_TOO_LARGE, "frame larger than max_frame");
		conn_close(w, c, "frame too large");
		return -1;
	}
	if (r == FRAME_NO_MEMORY) {
		conn_close(w, c, "out of memory for a frame");
		return -1;
	}
	timer_frame(w, c, in.frames > 0);
	return 0;
}

/*
 * conn_readable - read and act on what the client sent. With edge-triggered
 * epoll a short read ends the work unless the peer already hung up
 * (hup): then the end of stream is waiting behind the data, and no new
 * event would announce it.
 */
void
conn_readable(struct worker *w, struct conn *c, int hup)
{
	ssize_t n;
	int budget;

	if (c->flags & CONN_CLOSING)
		return;
	list_remove(&c->dead);  /* the readable list shares this link until close */
	for (budget = CONN_READ_BUDGET; budget > 0 && !(c->flags & CONN_CLOSING);) {
		n = read(c->fd, w->rbuf, WORKER_RBUF);
		if (n > 0) {
			c->last_rx = w->now;
			stat_add(&w->stats->bytes_in, (uint64_t)n);
			if (conn_feed(w, c, (size_t)n) < 0 || (n < WORKER_RBUF && !hup))
				return;
			budget--;
		} else if (n == 0) {
			conn_eof(w, c, "client closed");
			return;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (c->flags & CONN_WDEAD)
				conn_close(w, c, "writing to the client failed");
			return;
		} else {
			conn_eof(w, c, strerror(errno));
			return;
		}
	}
	/* more to read: next pass (a failed write may have queued it already) */
	if (!(c->flags & CONN_CLOSING) && !list_linked(&c->dead))
		list_append(&w->readable, &c->dead);
}

void
conn_close(struct worker *w, struct conn *c, const char *why)
{
	char name[64];

	if (c->flags & CONN_CLOSING)
		return;
	c->flags |= CONN_CLOSING;
	log_info("client %s closed: %s", conn_name(c, name, sizeof(name)), why);
	if (close(c->fd) < 0)
		log_warn("close() failed: %s", strerror(errno));
	w->byfd[c->fd] = NULL;
	list_remove(&c->dead);
	list_append(&w->dead, &c->dead);
}

/* conn_free - release what a closed connection holds. */
static void
conn_free(struct worker *w, struct conn *c)
{
	subs_drop_all(w, c);
	list_remove(&c->hb);
	list_remove(&c->timeo);
	list_remove(&c->behind);
	framer_free(&c->in);
	out_free(c);
	if (c->subs != &c->sub1)
		free(c->subs);
	free(c);
	w->nconns--;
	atomic_store_explicit(&w->stats->conns, w->nconns, memory_order_relaxed);
}

void
conn_reap(struct worker *w)
{
	struct conn *c;

	while (!list_empty(&w->dead)) {
		c = list_entry(w->dead.next, struct conn, dead);
		list_remove(&c->dead);
		conn_free(w, c);
	}
}

void
conn_close_all(struct worker *w)
{
	uint32_t fd;

	for (fd = 0; fd < w->nfd; fd++)
		if (w->byfd[fd] != NULL)
			conn_close(w, w->byfd[fd], "server stopping");
	conn_reap(w);
}
