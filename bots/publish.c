/*
 * bots/publish.c - publishing the run's messages to a server.
 *
 * Owns: the publisher sockets (Part 1: blocking, bounded by SO_SNDTIMEO;
 * persistent: non-blocking, with a queue of frames per connection), the
 * replies, and the publish counters.
 * Must not know about clients or the floor.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bots/publish.h"
#include "bots/util.h"

#define PUB_TIMEOUT_S 5
#define PUB_REPLY_MAX 65536
/* a connection's queue: grown in steps, never past PUB_OUT_MAX */
#define PUB_OUT_MIN (256 * 1024)
#define PUB_OUT_MAX (64 * 1024 * 1024)

/* pub_note - keep the first publishing error for the report. */
static void
pub_note(struct publisher *p, const char *what, int err)
{
	if (p->first_err[0] != '\0')
		return;
	if (err != 0)
		snprintf(p->first_err, sizeof(p->first_err), "%s: %s", what,
		    strerror(err));
	else
		snprintf(p->first_err, sizeof(p->first_err), "%s", what);
}

int
pub_init(struct publisher *p, const struct bots_opts *o)
{
	unsigned i;

	memset(p, 0, sizeof(*p));
	p->o = o;
	msg_spec_init(&p->spec, o);
	p->dst.sin_family = AF_INET;
	p->dst.sin_addr = o->host;
	p->dst.sin_port = htons(o->port);
	for (i = 0; i < BOTS_MAX_PUBLISHERS; i++)
		p->c[i].fd = -1;
	p->buf = malloc(msg_cap(&p->spec));
	return p->buf != NULL ? 0 : -1;
}

/* pub_connect - a connected blocking socket whose waits are bounded. */
static int
pub_connect(struct publisher *p)
{
	struct timeval tv = { PUB_TIMEOUT_S, 0 };
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		pub_note(p, "socket() failed", errno);
		return -1;
	}
	/* Linux bounds connect() by the send timeout too */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		pub_note(p, "setsockopt() failed", errno);
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&p->dst, sizeof(p->dst)) < 0) {
		pub_note(p, "publisher connect() failed", errno);
		close(fd);
		return -1;
	}
	return fd;
}

int
pub_open(struct publisher *p, int ep, uint64_t tag)
{
	struct epoll_event ev;
	unsigned i;

	p->n = p->o->publishers;
	for (i = 0; i < p->n; i++) {
		if ((p->c[i].fd = pub_connect(p)) < 0)
			return -1;
		if (fcntl(p->c[i].fd, F_SETFL, O_NONBLOCK) < 0) {
			pub_note(p, "fcntl(O_NONBLOCK) failed", errno);
			return -1;
		}
		/* edge-triggered: replies are read and the queue written until EAGAIN */
		ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
		ev.data.u64 = tag + i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, p->c[i].fd, &ev) < 0) {
			pub_note(p, "epoll_ctl() failed", errno);
			return -1;
		}
	}
	return 0;
}

/* pub_drop - a persistent publisher is unusable from now on. */
static void
pub_drop(struct publisher *p, struct pubconn *c, const char *what, int err)
{
	pub_note(p, what, err);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->rb);
	c->rb = NULL;
	c->rlen = 0;
	c->ooff = c->olen = 0;
}

/* pub_part1 - the original way: connect, one write, close at once. */
static int
pub_part1(struct publisher *p, uint32_t seq, int64_t *send_ns)
{
	size_t len;
	ssize_t n;
	int fd;

	if ((fd = pub_connect(p)) < 0)
		return -1;
	*send_ns = util_mono_ns();
	len = msg_part1(&p->spec, seq, *send_ns, p->buf);
	n = send(fd, p->buf, len, MSG_NOSIGNAL);
	if (n != (ssize_t)len)
		pub_note(p, "publish send() failed", n < 0 ? errno : EAGAIN);
	/* no read of the greeting: the kernel answers it with a reset */
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* pub_room - make room for LEN more queued bytes on C; -1 if it is full. */
static int
pub_room(struct pubconn *c, size_t len)
{
	size_t cap;
	char *nb;

	if (c->ooff == c->olen)
		c->ooff = c->olen = 0;
	if (c->olen + len <= c->ocap)
		return 0;
	if (c->ooff > 0) {
		memmove(c->out, c->out + c->ooff, c->olen - c->ooff);
		c->olen -= c->ooff;
		c->ooff = 0;
		if (c->olen + len <= c->ocap)
			return 0;
	}
	cap = c->ocap < PUB_OUT_MIN ? PUB_OUT_MIN : c->ocap * 2;
	while (cap < c->olen + len)
		cap *= 2;
	if (cap > PUB_OUT_MAX || (nb = realloc(c->out, cap)) == NULL)
		return -1;
	c->out = nb;
	c->ocap = cap;
	return 0;
}

int
pub_queue(struct publisher *p, uint32_t seq, int64_t send_ns)
{
	struct pubconn *c = &p->c[seq % p->n];

	if (c->fd < 0 || pub_room(c, msg_cap(&p->spec)) < 0) {
		pub_note(p, c->fd < 0 ? "a persistent publisher is closed" :
		    "the server does not read a persistent publisher", 0);
		p->failed++;
		return -1;
	}
	c->olen += msg_part2(&p->spec, seq, send_ns, c->out + c->olen);
	p->sent++;
	return 0;
}

/* pub_write - write C's queue until it is empty or the socket is full. */
static void
pub_write(struct publisher *p, struct pubconn *c)
{
	ssize_t n;

	while (c->fd >= 0 && c->ooff < c->olen) {
		n = send(c->fd, c->out + c->ooff, c->olen - c->ooff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			c->ooff += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			return;
		else
			pub_drop(p, c, "publish send() failed", n < 0 ? errno : EPIPE);
	}
}

size_t
pub_flush(struct publisher *p)
{
	size_t left = 0;
	unsigned i;

	for (i = 0; i < p->n; i++) {
		pub_write(p, &p->c[i]);
		if (p->c[i].fd >= 0)
			left += p->c[i].olen - p->c[i].ooff;
	}
	return left;
}

int
pub_send(struct publisher *p, uint32_t seq, int64_t *send_ns)
{
	int rc;

	*send_ns = 0;
	if (p->o->persistent) {
		*send_ns = util_mono_ns();
		rc = pub_queue(p, seq, *send_ns);
		pub_flush(p);
		return rc;
	}
	rc = pub_part1(p, seq, send_ns);
	if (rc == 0)
		p->sent++;
	else
		p->failed++;
	return rc;
}

/* pub_reply - one frame from the server on a persistent publisher. */
static void
pub_reply(struct publisher *p, struct pubconn *c, const char *f, size_t len)
{
	static const char published[] = "{\"published\":{\"seq\":";
	static const char error[] = "{\"error\":";

	if (!c->greeted) {
		c->greeted = 1;
		return;
	}
	if (len >= sizeof(published) - 1 &&
	    memcmp(f, published, sizeof(published) - 1) == 0) {
		p->acks++;
	} else if (len >= sizeof(error) - 1 &&
	    memcmp(f, error, sizeof(error) - 1) == 0) {
		p->refused++;
		if (p->first_err[0] == '\0')
			snprintf(p->first_err, sizeof(p->first_err),
			    "the server refused a publish: %.*s",
			    (int)(len > 120 ? 120 : len), f);
	}
}

/* pub_split - cut bytes into \1 frames, holding a split one. */
static int
pub_split(struct publisher *p, struct pubconn *c, const char *s, size_t n)
{
	const char *e;
	char *nb;
	size_t flen;

	while (n > 0) {
		e = memchr(s, '\1', n);
		flen = e != NULL ? (size_t)(e - s) : n;
		if (c->rlen + flen > PUB_REPLY_MAX)
			return -1;
		if (e == NULL || c->rlen > 0) {
			nb = realloc(c->rb, c->rlen + flen + 1);
			if (nb == NULL)
				return -1;
			memcpy(nb + c->rlen, s, flen);
			c->rb = nb;
			c->rlen += flen;
		}
		if (e == NULL)
			return 0;
		if (c->rlen > 0) {
			pub_reply(p, c, c->rb, c->rlen);
			c->rlen = 0;
		} else {
			pub_reply(p, c, s, flen);
		}
		s = e + 1;
		n -= flen + 1;
	}
	return 0;
}

/* pub_readable - read replies on C until EAGAIN. */
static void
pub_readable(struct publisher *p, struct pubconn *c)
{
	char buf[65536];
	ssize_t n;

	while (c->fd >= 0) {
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			pub_drop(p, c, "the server closed a persistent publisher",
			    n < 0 ? errno : 0);
			return;
		}
		if (pub_split(p, c, buf, (size_t)n) < 0) {
			pub_drop(p, c, "a reply to a publisher is too long", 0);
			return;
		}
	}
}

void
pub_event(struct publisher *p, unsigned i, uint32_t events)
{
	struct pubconn *c = &p->c[i];

	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		pub_readable(p, c);
	if (events & EPOLLOUT)
		pub_write(p, c);
}

void
pub_free(struct publisher *p)
{
	unsigned i;

	for (i = 0; i < BOTS_MAX_PUBLISHERS; i++) {
		if (p->c[i].fd >= 0)
			close(p->c[i].fd);
		free(p->c[i].rb);
		free(p->c[i].out);
	}
	free(p->buf);
	memset(p, 0, sizeof(*p));
}
