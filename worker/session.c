/*
 * worker/session.c - a client's session: from accept to free.
 *
 * Owns: what worker/session.h says: the byfd table, the readable and
 * unfinished-frame lists, the request handlers, and struct conn's
 * allocation. The unfinished-frame list is in deadline order because
 * every deadline is now plus the same timeout, so appending keeps it
 * sorted and each check is O(1) per expired connection.
 * Must not write to a socket itself: worker/deliver.h does all output.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "proto/render.h"
#include "proto/request.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/publish.h"
#include "worker/session.h"
#include "worker/subs.h"
#include "worker/transport.h"

#define SESSION_ACCEPT_BATCH 512   /* accepts per loop pass, so clients are not starved */
#define SESSION_READ_BUDGET  4     /* reads per connection per pass */
#define SESSION_TRIM_BYTES   (1 << 20)  /* frame memory given back before malloc_trim runs */
#define SESSION_KEY_WAIT_MS  100        /* the wait after a first wrong key; doubles per wrong key */
#define SESSION_KEY_WAIT_MAX 60000

/* The frame handler's context. */
struct session_in {
	struct worker *w;
	struct conn *c;
	unsigned frames;           /* whole frames handled */
	int replay;                /* the frames come from c->held, not the socket */
	int force;                 /* publish even if reading subscribers still need the room */
};

int
session_init(struct worker *w)
{
	list_init(&w->timeo);
	list_init(&w->htimeo);
	list_init(&w->idle);
	list_init(&w->dead);
	list_init(&w->readable);
	list_init(&w->paced);
	w->rbuf = malloc(WORKER_RBUF);
	if (w->rbuf == NULL) {
		log_error("out of memory for the read buffer");
		return -1;
	}
	return 0;
}

/* session_peer - the client's address; an IPv4-mapped IPv6 address counts as IPv4. */
static void
session_peer(struct conn *c, const struct sockaddr_storage *ss)
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

/* session_refuse - over max_conns: say so and close, without a struct conn. */
static void
session_refuse(struct worker *w, int fd)
{
	char buf[160];
	long n = render_error(buf, sizeof(buf), ERR_LIMIT, "too many connections");

	if (n > 0 && write(fd, buf, (size_t)n) < 0)
		log_debug("write() of a refusal failed: %s", strerror(errno));
	close(fd);
	stat_add(&w->stats->refused, 1);
}

/*
 * session_count_addr - count c on its address's entry, which all workers
 * share. Returns 0, or -1 if the address holds max_conns_per_ip already.
 * An address the table cannot take is not counted (and not limited).
 */
static int
session_count_addr(struct worker *w, struct conn *c)
{
	struct addrs *a = &w->shm->addrs;
	uint32_t id, max = w->conf.max_conns_per_ip;
	int over;

	shm_lock_or_exit(w->shm);
	id = addrs_get_locked(a, c->family, c->addr);
	over = id != SHM_NONE && max != 0 && addrs_conns(a, id) >= max;
	if (id != SHM_NONE && !over)
		addrs_conn_locked(a, id, w->slot, 1);
	shm_unlock(w->shm);
	c->addr_id = over ? SHM_NONE : id;
	return over ? -1 : 0;
}

/* session_uncount_addr - c is gone: its address holds one connection less. */
static void
session_uncount_addr(struct worker *w, struct conn *c)
{
	if (c->addr_id == SHM_NONE)
		return;
	shm_lock_or_exit(w->shm);
	addrs_conn_locked(&w->shm->addrs, c->addr_id, w->slot, -1);
	shm_unlock(w->shm);
}

/*
 * session_proxied - c's peer is in proxy_allow: its first bytes are a
 * PROXY header naming the real client, which its rights, its address's
 * limits and the log go by; until then it is counted nowhere, and the
 * header must come within frame_timeout. 0, or -1 out of memory (closed).
 */
static int
session_proxied(struct worker *w, struct conn *c)
{
	if ((c->pin = calloc(1, sizeof(*c->pin))) == NULL) {
		conn_close(w, c, "out of memory for a PROXY header");
		return -1;
	}
	c->in_since = w->now;
	list_append(&w->timeo, &c->timeo);
	return 0;
}

/*
 * session_turn_away - refuse c for good: the refusal counted and logged
 * (why, text), the client told (code, answer), the connection closed.
 * Returns -1 for tail calls.
 */
static int
session_turn_away(struct worker *w, struct conn *c, enum refusal why, const char *text,
    const char *code, const char *answer)
{
	conn_refused(w, c, why, text);
	deliver_error(w, c, code, answer);
	conn_close(w, c, text);
	return -1;
}

/* session_admit - count c on its address; -1 if that refuses it (then it is answered and closed). */
static int
session_admit(struct worker *w, struct conn *c)
{
	if (session_count_addr(w, c) == 0)
		return 0;
	return session_turn_away(w, c, REFUSE_CONNS_ADDR, "its address holds max_conns_per_ip connections",
	    ERR_LIMIT, "too many connections from this address (max_conns_per_ip)");
}

/* session_open - set up a just-accepted connection (and greet it, if its transport speaks first). */
static void
session_open(struct worker *w, int fd, const struct sockaddr_storage *ss,
    const struct transport *tp)
{
	struct epoll_event ev;
	struct conn *c;

	if ((unsigned)fd >= w->nfd || (c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("cannot take a connection (fd %d): out of memory or descriptors", fd);
		close(fd);
		return;
	}
	c->fd = fd;
	c->tp = tp;
	c->addr_id = SHM_NONE;
	c->last_rx = w->now;
	session_peer(c, ss);
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
	if (tp == &transport_http) {
		stat_add(&w->stats->conns_http, 1);
		stat_add(&w->stats->accepted_http, 1);
	}
	if (conf_nets_match(&w->conf.proxy_allow, c->family, c->addr) ?
	    session_proxied(w, c) < 0 : session_admit(w, c) < 0)
		return;
	list_append(&w->idle, &c->idle);
	if (tp->speaks_first)
		deliver_greet(w, c);
}

/*
 * session_proxy_in - take PROXY header bytes from what was read (n bytes
 * of w->rbuf); *off: where the client's own bytes start. 0 once the
 * header is whole (c now stands for the client it names), 1 if more is
 * needed, -1 if c was closed.
 */
static int
session_proxy_in(struct worker *w, struct conn *c, size_t n, size_t *off)
{
	struct proxy_in *p = c->pin;
	struct proxy_addr a;
	size_t had = p->len, take = n < sizeof(p->buf) - had ? n : sizeof(p->buf) - had;
	long h;
	char why[160];

	memcpy(p->buf + had, w->rbuf, take);
	p->len += (uint32_t)take;
	if ((h = proxy_parse(p->buf, p->len, &a)) == 0)
		return 1;
	if (h < 0) {
		snprintf(why, sizeof(why), "bad PROXY header from a proxy_allow peer: %s", a.why);
		conn_close(w, c, why);
		return -1;
	}
	*off = (size_t)h - had;
	free(p);
	c->pin = NULL;
	list_remove(&c->timeo);
	if (a.family != 0) {
		c->family = a.family;
		memcpy(c->addr, a.src, sizeof(c->addr));
		c->port = a.src_port;
		conn_acl(w, c);
	}
	return session_admit(w, c) < 0 ? -1 : 0;
}

void
session_accept(struct worker *w, int lfd, const struct transport *tp)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, i;

	for (i = 0; i < SESSION_ACCEPT_BATCH; i++) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("accept4() failed: %s", strerror(errno));
			return;
		}
		if (w->nconns >= w->max_conns)
			session_refuse(w, fd);
		else
			session_open(w, fd, &ss, tp);
	}
}

/* session_publish_word - PUBLISH: refuse at once if this client may not publish. */
static int
session_publish_word(struct worker *w, struct conn *c)
{
	if (!publish_allowed(w, c)) {
		deliver_error(w, c, ERR_NOT_ALLOWED, "publishing is not allowed from this client");
		conn_close(w, c, "publish refused");
		return -1;
	}
	c->flags |= CONN_AFTER_PUBLISH;
	return 0;
}

/* session_hello - a version 2 session: seq numbers and heartbeats from now on. */
static void
session_hello(struct worker *w, struct conn *c)
{
	char buf[128];
	long n = render_hello(buf, sizeof(buf), w->shm->hdr->epoch, ring_head(&w->shm->ring));

	c->flags |= CONN_V2 | CONN_HB_EVERY;
	deliver_reply(w, c, buf, (size_t)n);
	deliver_heartbeat_start(w, c);
}

/* session_key_eq - compare keys in time independent of where they differ. */
static int
session_key_eq(const char *want, const char *got, size_t len)
{
	size_t i, wl = strlen(want);
	unsigned char d = wl != len;

	for (i = 0; i < len; i++)
		d |= (unsigned char)(got[i] ^ want[i < wl ? i : 0]);
	return d == 0 && wl > 0;
}

/* session_key_wait - ms c's address must still wait after wrong keys (0 if untracked). */
static uint64_t
session_key_wait(struct worker *w, const struct conn *c)
{
	return c->addr_id == SHM_NONE ? 0 : addrs_key_wait(&w->shm->addrs, c->addr_id, w->now);
}

/* session_key_result - tell c's address entry (all workers see it) how its key went. */
static void
session_key_result(struct worker *w, const struct conn *c, int right)
{
	if (c->addr_id == SHM_NONE)
		return;
	shm_lock_or_exit(w->shm);
	if (right)
		addrs_key_ok_locked(&w->shm->addrs, c->addr_id);
	else
		addrs_key_failed_locked(&w->shm->addrs, c->addr_id, w->now, SESSION_KEY_WAIT_MS,
		    SESSION_KEY_WAIT_MAX);
	shm_unlock(w->shm);
}

/*
 * session_auth - a publish key. A wrong one closes the connection, and
 * its address waits before its next key is even read: 100 ms after the
 * first wrong key, doubling with each one more, up to a minute, on
 * every worker, so guessing costs a connection and a growing wait per try.
 */
static int
session_auth(struct worker *w, struct conn *c, const struct request *r)
{
	char key[CONF_KEY_MAX], buf[96];
	uint64_t wait = session_key_wait(w, c);
	long n;

	if (wait > 0) {
		snprintf(buf, sizeof(buf), "too many wrong keys from this address; try again in %llu ms",
		    (unsigned long long)wait);
		return session_turn_away(w, c, REFUSE_KEY_DELAY, buf, ERR_NOT_ALLOWED, buf);
	}
	n = json_str_decode(&r->key, key, sizeof(key));
	if (n < 0 || !session_key_eq(w->conf.publish_key, key, (size_t)n)) {
		session_key_result(w, c, 0);
		return session_turn_away(w, c, REFUSE_BAD_KEY, "wrong publish key", ERR_NOT_ALLOWED, "wrong key");
	}
	if (c->addr_id != SHM_NONE && w->shm->addrs.tab[c->addr_id].key_fails != 0)
		session_key_result(w, c, 1);
	c->flags |= CONN_AUTHED;
	n = render_auth(buf, sizeof(buf));
	deliver_reply(w, c, buf, (size_t)n);
	return 0;
}

/* session_publish - a message; a Part 1 publisher is closed afterwards, as the original did. */
static int
session_publish(struct worker *w, struct conn *c, const struct request *r, int force)
{
	int rc;

	if (!r->part1 && !publish_allowed(w, c))
		return deliver_error(w, c, ERR_NOT_ALLOWED, "publishing is not allowed from this client");
	rc = publish_message(w, c, r, force);
	if (rc == PUBLISH_WAIT || !r->part1)
		return rc;
	c->flags &= ~(uint32_t)CONN_AFTER_PUBLISH;
	conn_close(w, c, "published (Part 1 publisher)");
	return -1;
}

/* session_hold - keep a frame of c until its waiting publish went (in order); -1 if out of memory. */
static int
session_hold(struct worker *w, struct conn *c, const char *frame, size_t len)
{
	struct held *h = c->held;
	uint32_t n = (uint32_t)len, want = (h != NULL ? h->len : 0) + 4 + n, cap;

	if (h == NULL || want > h->cap) {
		cap = h != NULL && h->cap * 2 > want ? h->cap * 2 : want;
		if ((h = realloc(h, sizeof(*h) + cap)) == NULL) {
			conn_close(w, c, "out of memory for frames waiting to be published");
			return -1;
		}
		if (c->held == NULL) {
			h->len = h->off = 0;
			c->paced_since = w->now;
			list_append(&w->paced, &c->paced);
		}
		h->cap = cap;
		c->held = h;
	}
	memcpy(h->buf + h->len, &n, 4);
	memcpy(h->buf + h->len + 4, frame, n);
	h->len += 4 + n;
	return 0;
}

/* session_bad - an error reply; after a bad Part 1 message the client is closed. */
static int
session_bad(struct worker *w, struct conn *c, const struct request *r)
{
	if (r->bad_members)
		conn_refused(w, c, REFUSE_MEMBERS, r->text);
	if (deliver_error(w, c, r->code, r->text) < 0)
		return -1;
	if (c->flags & CONN_AFTER_PUBLISH) {
		conn_close(w, c, "bad message after PUBLISH");
		return -1;
	}
	return 0;
}

/* session_body - room to render a frame's message body, for the current max_frame. */
static int
session_body(struct worker *w)
{
	size_t want = REQUEST_BODY_CAP((size_t)w->conf.max_frame);
	char *p;

	if (w->body_cap >= want)
		return 0;
	if ((p = realloc(w->body, want)) == NULL)
		return -1;
	w->body = p;
	w->body_cap = want;
	return 0;
}

/* session_json_frame - whether a frame is a JSON object (after blanks), not a Part 1 word or marker. */
static int
session_json_frame(const char *frame, size_t len)
{
	size_t i = 0;

	while (i < len && (frame[i] == ' ' || frame[i] == '\t' || frame[i] == '\r' || frame[i] == '\n'))
		i++;
	return i < len && frame[i] == '{';
}

/* session_frame - act on one frame; -1 once the connection is closed. */
static int
session_frame(void *ctx, const char *frame, size_t len)
{
	struct session_in *in = ctx;
	struct worker *w = in->w;
	struct conn *c = in->c;
	struct request r;
	int rc;

	if (c->flags & CONN_CLOSING)
		return -1;
	in->frames++;
	if (c->held != NULL && !in->replay)
		return session_hold(w, c, frame, len);  /* behind a waiting publish, in order */
	if (c->tp->json_only && !session_json_frame(frame, len))
		return deliver_error(w, c, ERR_BAD_FRAME,
		    "over WebSocket a message is a JSON action (no PUBLISH, PING or PONG words)");
	request_parse(&r, frame, len, (c->flags & CONN_AFTER_PUBLISH) != 0,
	    w->conf.max_topic_len, w->body, w->body_cap);
	switch (r.kind) {
	case REQ_IGNORE:
		return 0;
	case REQ_PUBLISH_NEXT:
		return session_publish_word(w, c);
	case REQ_SUBSCRIBE:
		return subs_subscribe(w, c, &r);
	case REQ_UNSUBSCRIBE:
		subs_unsubscribe(w, c, &r);
		if (c->nsubs == 0 && !list_linked(&c->idle))
			list_append(&w->idle, &c->idle);
		return 0;
	case REQ_HELLO:
		session_hello(w, c);
		return 0;
	case REQ_AUTH:
		return session_auth(w, c, &r);
	case REQ_PUBLISH:
		rc = session_publish(w, c, &r, in->force);
		if (rc != PUBLISH_WAIT)
			return rc;
		if (in->replay)
			return PUBLISH_WAIT;
		stat_add(&w->stats->paced, 1);
		return session_hold(w, c, frame, len);
	default:
		return session_bad(w, c, &r);
	}
}

/* session_eof - the client is gone; a Part 1 message cut short by it still counts. */
static void
session_eof(struct worker *w, struct conn *c, const char *why)
{
	struct session_in in = { w, c, 0, 0, 0 };
	const char *tail;
	size_t len;

	if ((c->flags & CONN_AFTER_PUBLISH) && (tail = c->tp->eof_frame(c, &len)) != NULL &&
	    session_frame(&in, tail, len) < 0)
		return;
	if (c->held != NULL) {
		c->flags |= CONN_EOF_HELD;  /* what it sent is still published, then it goes */
		return;
	}
	conn_close(w, c, why);
}

/*
 * session_frame_clock - after a read: the clock runs while a frame is
 * unfinished, and starts again for each new frame (finished says one was
 * completed).
 */
static void
session_frame_clock(struct worker *w, struct conn *c, int finished)
{
	size_t pending = c->tp->pending(c);

	if (c->pin != NULL)
		return;  /* the PROXY header's deadline runs */

	if (pending == 0 || finished)
		list_remove(&c->timeo);
	if (pending > 0 && !list_linked(&c->timeo)) {
		c->in_since = w->now;
		list_append(c->tp->deadline == TRANSPORT_HEAD_TIMEOUT ? &w->htimeo : &w->timeo, &c->timeo);
	}
}

/*
 * session_in_bytes - c's input holds held bytes now: keep the worker's sum
 * in step, and count what it gave back (a frame finished or its
 * connection closed) for session_reap's malloc_trim.
 */
static void
session_in_bytes(struct worker *w, struct conn *c, size_t held)
{
	if (held < c->in_held)
		w->frame_freed += c->in_held - held;
	w->frame_bytes = w->frame_bytes + held - c->in_held;
	c->in_held = (uint32_t)held;
}

/*
 * session_frame_memory - after a read: a connection whose unfinished
 * frame takes the worker past max_frame_memory is closed, so frames
 * many clients leave unfinished cannot take the worker's memory.
 */
static int
session_frame_memory(struct worker *w, struct conn *c)
{
	session_in_bytes(w, c, c->tp->held(c));
	if (w->frame_bytes <= w->conf.max_frame_memory)
		return 0;
	return session_turn_away(w, c, REFUSE_FRAME_MEMORY, "unfinished frames hold max_frame_memory",
	    ERR_LIMIT, "the server holds too many unfinished frames (max_frame_memory)");
}

/* session_feed - split n bytes read (at data, in w->rbuf) into frames and act on them. */
static int
session_feed(struct worker *w, struct conn *c, char *data, size_t n)
{
	struct session_in in = { w, c, 0, 0, 0 };
	enum frame_result r;

	if (session_body(w) < 0) {
		conn_close(w, c, "out of memory for a message body");
		return -1;
	}
	r = c->tp->feed(w, c, data, n, session_frame, &in);
	if (r == FRAME_STOP || (c->flags & CONN_CLOSING) || deliver_finishing(c))
		return -1;
	if (r == FRAME_TOO_LARGE) {
		deliver_error(w, c, ERR_TOO_LARGE, "frame larger than max_frame");
		conn_close(w, c, "frame too large");
		return -1;
	}
	if (r == FRAME_NO_MEMORY) {
		conn_close(w, c, "out of memory for a frame");
		return -1;
	}
	session_frame_clock(w, c, in.frames > 0);
	return session_frame_memory(w, c);
}

void
session_discard(struct worker *w, struct conn *c)
{
	ssize_t n;

	while ((n = read(c->fd, w->rbuf, WORKER_RBUF)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		conn_close(w, c, "client closed while draining");
}

/* session_take - what a read brought: a PROXY header first if one is due, then frames. */
static int
session_take(struct worker *w, struct conn *c, size_t n)
{
	size_t off = 0;
	int rc;

	if (c->pin != NULL && (rc = session_proxy_in(w, c, n, &off)) != 0)
		return rc < 0 ? -1 : 0;
	return off < n ? session_feed(w, c, w->rbuf + off, n - off) : 0;
}

/*
 * session_readable - with edge-triggered epoll a short read ends the work
 * unless the peer already hung up (hup): then the end of stream is
 * waiting behind the data, and no new event would announce it.
 */
void
session_readable(struct worker *w, struct conn *c, int hup)
{
	ssize_t n;
	int budget;

	if (c->flags & CONN_CLOSING)
		return;
	if (deliver_finishing(c)) {
		session_discard(w, c);  /* ending: its input means nothing any more */
		return;
	}
	if (c->held != NULL)
		return;   /* paced: what it sends waits in its socket, which pushes back on it */
	list_remove(&c->readable);
	for (budget = SESSION_READ_BUDGET; budget > 0 && !(c->flags & CONN_CLOSING);) {
		n = read(c->fd, w->rbuf, WORKER_RBUF);
		if (n > 0) {
			c->last_rx = w->now;
			if (list_linked(&c->idle)) {
				list_remove(&c->idle);
				list_append(&w->idle, &c->idle);
			}
			stat_add(&w->stats->bytes_in, (uint64_t)n);
			if (session_take(w, c, (size_t)n) < 0 || (n < WORKER_RBUF && !hup))
				return;
			budget--;
		} else if (n == 0) {
			session_eof(w, c, "client closed");
			return;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (deliver_dead(c))
				conn_close(w, c, "writing to the client failed");
			return;
		} else {
			session_eof(w, c, strerror(errno));
			return;
		}
	}
	/* more to read: next pass (a failed write may have queued it already) */
	if (!(c->flags & CONN_CLOSING) && !list_linked(&c->readable))
		list_append(&w->readable, &c->readable);
}

void
session_read_more(struct worker *w)
{
	struct link todo;
	struct conn *c;

	if (list_empty(&w->readable))
		return;
	todo = w->readable;
	todo.next->prev = &todo;
	todo.prev->next = &todo;
	list_init(&w->readable);
	while (!list_empty(&todo)) {
		c = list_entry(todo.next, struct conn, readable);
		list_remove(&c->readable);
		session_readable(w, c, 1);
	}
}

/* session_idle - close connections without subscriptions that sent nothing for idle_timeout. */
static void
session_idle(struct worker *w)
{
	struct conn *c;

	while (w->conf.idle_timeout_ms != 0 && !list_empty(&w->idle)) {
		c = list_entry(w->idle.next, struct conn, idle);
		if (c->nsubs > 0 || (c->flags & CONN_CLOSING)) {
			list_remove(&c->idle);  /* a subscriber is idle by nature */
			continue;
		}
		if (c->last_rx + w->conf.idle_timeout_ms > w->now)
			break;
		list_remove(&c->idle);
		stat_add(&w->stats->idle_closed, 1);
		conn_close(w, c, "idle without a subscription for idle_timeout");
	}
}

/* session_overdue - close the connections of list whose input is not finished within ms. */
static void
session_overdue(struct worker *w, struct link *list, uint32_t ms)
{
	struct conn *c;
	char text[96];

	while (!list_empty(list)) {
		c = list_entry(list->next, struct conn, timeo);
		if (c->in_since + ms > w->now)
			break;
		list_remove(&c->timeo);
		snprintf(text, sizeof(text), "frame not finished within %u ms", ms);
		if (c->tp->end != NULL) {
			c->tp->end(w, c, WS_CLOSE_POLICY, text);
		} else if (c->tp->deadline == TRANSPORT_HEAD_TIMEOUT) {
			conn_close(w, c, "HTTP request head not finished within http_timeout");
		} else {
			deliver_error(w, c, ERR_BAD_FRAME, text);
			conn_close(w, c, "stalled in the middle of a frame");
		}
	}
}

void
session_deadlines(struct worker *w)
{
	session_overdue(w, &w->timeo, w->conf.frame_timeout_ms);
	session_overdue(w, &w->htimeo, w->conf.http_timeout_ms);
	session_idle(w);
}

int
session_next_ms(const struct worker *w, int cap)
{
	const struct conn *c;

	if (!list_empty(&w->readable))
		return 0;   /* input left in a socket on the read budget: no new edge will announce it */
	if (w->conf.idle_timeout_ms != 0 && !list_empty(&w->idle)) {
		c = list_entry(w->idle.next, struct conn, idle);
		cap = worker_ms_until(w, c->last_rx + w->conf.idle_timeout_ms, cap);
	}
	if (!list_empty(&w->htimeo)) {
		c = list_entry(w->htimeo.next, struct conn, timeo);
		cap = worker_ms_until(w, c->in_since + w->conf.http_timeout_ms, cap);
	}
	if (list_empty(&w->timeo))
		return cap;
	c = list_entry(w->timeo.next, struct conn, timeo);
	return worker_ms_until(w, c->in_since + w->conf.frame_timeout_ms, cap);
}

/* session_free - release what a closed connection holds. */
static void
session_free(struct worker *w, struct conn *c)
{
	subs_drop_all(w, c);
	session_uncount_addr(w, c);
	free(c->held);
	free(c->pin);
	list_remove(&c->paced);
	list_remove(&c->timeo);
	list_remove(&c->idle);
	c->tp->release(c);
	session_in_bytes(w, c, 0);
	if (c->tp == &transport_ws)
		stat_add(&w->stats->conns_ws, (uint64_t)-1);
	else if (c->tp == &transport_http)
		stat_add(&w->stats->conns_http, (uint64_t)-1);
	deliver_free(c);
	if (c->subs != &c->sub1)
		free(c->subs);
	free(c);
	w->nconns--;
	atomic_store_explicit(&w->stats->conns, w->nconns, memory_order_relaxed);
}

/*
 * session_unhold - replay c's held frames in order; 1 when all went, 0 if
 * its publish still waits. Past pace_timeout it goes all the same: the
 * subscribers behind lose what it overwrites, as stalled ones would.
 */
static int
session_unhold(struct worker *w, struct conn *c)
{
	struct session_in in = { w, c, 0, 1, 0 };
	struct held *h = c->held;
	char name[64];
	uint32_t n;
	int rc;

	if (w->conf.pace_timeout_ms != 0 && w->now - c->paced_since >= w->conf.pace_timeout_ms) {
		in.force = 1;
		stat_add(&w->stats->pace_forced, 1);
		log_notice("client %s: a publish waited pace_timeout (%u ms); it goes ahead, and the oldest "
		    "reading subscribers lose what it overwrites", conn_name(c, name, sizeof(name)),
		    w->conf.pace_timeout_ms);
	}
	while (h->off < h->len && !(c->flags & CONN_CLOSING)) {
		memcpy(&n, h->buf + h->off, 4);
		rc = session_frame(&in, h->buf + h->off + 4, n);
		if (rc == PUBLISH_WAIT)
			return 0;
		h->off += 4 + n;
		in.force = 0;
	}
	return 1;
}

void
session_paced(struct worker *w)
{
	struct link todo, *l;
	struct conn *c;

	if (list_empty(&w->paced)) {
		atomic_store_explicit(&w->me->paced, 0, memory_order_relaxed);
		return;
	}
	todo = w->paced;
	todo.next->prev = &todo;
	todo.prev->next = &todo;
	list_init(&w->paced);
	while (!list_empty(&todo)) {
		l = todo.next;
		c = list_entry(l, struct conn, paced);
		list_remove(l);
		if ((c->flags & CONN_CLOSING) || !session_unhold(w, c)) {
			if (!(c->flags & CONN_CLOSING))
				list_append(&w->paced, &c->paced);
			continue;
		}
		stat_add(&w->stats->paced_ms, w->now - c->paced_since);
		free(c->held);
		c->held = NULL;
		if (c->flags & CONN_EOF_HELD)
			conn_close(w, c, "client closed (its publishes went)");
		else if (!list_linked(&c->readable))
			list_append(&w->readable, &c->readable);  /* what waited in its socket: no new edge comes */
	}
	atomic_store_explicit(&w->me->paced, !list_empty(&w->paced), memory_order_relaxed);
}

void
session_reap(struct worker *w)
{
	struct conn *c;

	while (!list_empty(&w->dead)) {
		c = list_entry(w->dead.next, struct conn, dead);
		list_remove(&c->dead);
		session_free(w, c);
	}
	/*
	 * Frame buffers given back (frames finished, connections closed)
	 * stay in the allocator's heap, counted in the worker's memory; once
	 * a megabyte or more of them went, hand the free pages back to the
	 * kernel.
	 */
	if (w->frame_freed >= SESSION_TRIM_BYTES) {
		w->frame_freed = 0;
		malloc_trim(0);
	}
}

void
session_close_all(struct worker *w)
{
	uint32_t fd;

	for (fd = 0; fd < w->nfd; fd++)
		if (w->byfd[fd] != NULL)
			conn_close(w, w->byfd[fd], "server stopping");
	session_reap(w);
}
