/*
 * worker/out.c - everything a worker writes to its clients.
 *
 * Owns: the output state of a connection and the order bytes leave in:
 * first the rest of a record a full socket cut short (copied aside, the
 * only bytes at risk of being overwritten in the ring), then queued
 * replies (each in a write of its own, as the original bots need for
 * ACK), then gap reports, then ring records from the connection's cursor.
 * Records go out straight from the ring as iovecs; after every write the
 * ring is asked whether the bytes were still whole, and a connection that
 * may have received a torn message is closed.
 * A client that cannot keep up is handled here too: closed with
 * slow_consumer, or (version 2, slow_policy skip) moved to the newest
 * record with a gap report. Its memory stays bounded either way.
 * Must not read from sockets or change subscriptions.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "lib/log.h"
#include "proto/render.h"
#include "worker/worker.h"

#define OUT_MAX_CTL 256            /* replies a client may leave unread */

int
out_pending(const struct conn *c)
{
	return c->part != NULL || c->nctl > 0 || c->gap_to != 0;
}

void
out_free(struct conn *c)
{
	uint32_t i;

	free(c->part);
	for (i = 0; i < c->nctl; i++)
		free(c->ctl[i].buf);
	free(c->ctl);
	c->part = NULL;
	c->ctl = NULL;
	c->nctl = c->ctlcap = 0;
}

/* out_dead - writes fail: read what the client sent before it went, then close. */
static void
out_dead(struct worker *w, struct conn *c, int err)
{
	char name[64];

	c->flags |= CONN_WDEAD;
	log_debug("client %s: write failed: %s", conn_name(c, name, sizeof(name)), strerror(err));
	if (!list_linked(&c->dead))
		list_append(&w->readable, &c->dead);
}

/* out_result - account a write's result: bytes written, 0 if full, -1 if dead. */
static ssize_t
out_result(struct worker *w, struct conn *c, ssize_t n, size_t want)
{
	if (n >= 0) {
		stat_add(&w->stats->bytes_out, (uint64_t)n);
		if ((size_t)n < want)
			c->flags |= CONN_BLOCKED;
		return n;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		c->flags |= CONN_BLOCKED;
		return 0;
	}
	out_dead(w, c, errno);
	return -1;
}

/*
 * out_write - send bytes. send(2) and sendmsg(2), not write(2) and
 * writev(2): they find the socket directly, without the file layer's
 * position handling, which is measurable at one call per subscriber.
 */
static ssize_t
out_write(struct worker *w, struct conn *c, const char *p, size_t n)
{
	ssize_t r;

	do
		r = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return out_result(w, c, r, n);
}

/* out_sendv - send a batch's iovecs in one call. */
static ssize_t
out_sendv(const struct conn *c, const struct out_batch *b)
{
	struct msghdr mh;
	ssize_t r;

	if (b->niov == 1)
		return send(c->fd, b->iov[0].iov_base, b->iov[0].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = (struct iovec *)b->iov;
	mh.msg_iovlen = b->niov;
	do
		r = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

/* out_queue - keep a reply (or its unwritten rest) until the socket has room. */
static int
out_queue(struct worker *w, struct conn *c, const char *p, size_t n)
{
	struct cctl *nc;
	uint32_t cap;

	if (c->nctl >= OUT_MAX_CTL) {
		conn_close(w, c, "slow consumer: too many replies unread");
		stat_add(&w->stats->slow, 1);
		return -1;
	}
	if (c->nctl == c->ctlcap) {
		cap = c->ctlcap ? c->ctlcap * 2 : 4;
		nc = realloc(c->ctl, cap * sizeof(*nc));
		if (nc == NULL) {
			conn_close(w, c, "out of memory for a reply");
			return -1;
		}
		c->ctl = nc;
		c->ctlcap = cap;
	}
	nc = &c->ctl[c->nctl];
	if ((nc->buf = malloc(n)) == NULL) {
		conn_close(w, c, "out of memory for a reply");
		return -1;
	}
	memcpy(nc->buf, p, n);
	nc->len = (uint32_t)n;
	nc->off = 0;
	c->nctl++;
	return 0;
}

/*
 * out_reply - send a reply frame in a write of its own, or queue it.
 * Returns 0, or -1 if the connection was closed.
 */
int
out_reply(struct worker *w, struct conn *c, const char *buf, size_t len)
{
	ssize_t n = 0;

	if (c->flags & (CONN_CLOSING | CONN_WDEAD))
		return 0;
	if (!(c->flags & CONN_BLOCKED) && c->part == NULL && c->nctl == 0) {
		n = out_write(w, c, buf, len);
		if (n < 0 || (size_t)n == len)
			return 0;
	}
	return out_queue(w, c, buf + n, len - (size_t)n);
}

int
out_error(struct worker *w, struct conn *c, const char *code, const char *text)
{
	char buf[320];
	long n = render_error(buf, sizeof(buf), code, text);

	stat_add(&w->stats->errors, 1);
	return n < 0 ? 0 : out_reply(w, c, buf, (size_t)n);
}

void
out_behind(struct worker *w, struct conn *c, uint64_t cursor)
{
	if (c->flags & CONN_BEHIND)
		return;
	c->flags |= CONN_BEHIND;
	c->cursor = cursor;
	c->owed = 0;
	list_append(&w->behind, &c->behind);
}

void
out_ahead(struct worker *w, struct conn *c)
{
	c->flags &= ~(uint32_t)CONN_BEHIND;
	c->owed = 0;
	list_remove(&c->behind);
}

void
out_batch_build(struct out_batch *b, const struct ring_rec *recs, uint32_t nrec, int v2)
{
	struct iovec *last = NULL;
	uint32_t i;

	b->recs = recs;
	b->nrec = nrec;
	b->v2 = v2;
	b->niov = 0;
	b->total = 0;
	for (i = 0; i < nrec; i++) {
		const struct ring_rec *r = &recs[i];

		b->total += r->len;
		if (!v2) {
			/* adjacent records in the ring go out as one range */
			if (last != NULL && (const char *)last->iov_base + last->iov_len == r->bytes)
				last->iov_len += r->len;
			else {
				last = &b->iov[b->niov++];
				last->iov_base = (void *)r->bytes;
				last->iov_len = r->len;
			}
			continue;
		}
		b->seqlen[i] = (uint8_t)render_seq(b->seq[i], r->seq);
		b->total += b->seqlen[i];
		b->iov[b->niov++] = (struct iovec){ (void *)r->bytes, r->pfx };
		b->iov[b->niov++] = (struct iovec){ b->seq[i], b->seqlen[i] };
		b->iov[b->niov++] = (struct iovec){ (void *)(r->bytes + r->pfx), r->len - r->pfx };
	}
}

/* out_rec_len - the bytes record i of b takes on the wire. */
static size_t
out_rec_len(const struct out_batch *b, uint32_t i)
{
	return b->recs[i].len + (b->v2 ? b->seqlen[i] : 0);
}

/* out_copy_from - copy a record's wire bytes from offset off on into dst. */
static void
out_copy_from(const struct out_batch *b, uint32_t i, size_t off, char *dst)
{
	const struct ring_rec *r = &b->recs[i];
	const char *seg[3] = { r->bytes, b->seq[i], r->bytes + r->pfx };
	size_t len[3] = { r->pfx, b->v2 ? b->seqlen[i] : 0, r->len - r->pfx };
	size_t k, take;

	for (k = 0; k < 3; k++) {
		if (off >= len[k]) {
			off -= len[k];
			continue;
		}
		take = len[k] - off;
		memcpy(dst, seg[k] + off, take);
		dst += take;
		off = 0;
	}
}

/*
 * out_cut - a write stopped inside the batch after n bytes: keep the
 * rest of a record it cut, and point the cursor at the first record
 * not yet begun. Returns the number of whole records sent, or -1.
 */
static long
out_cut(struct worker *w, struct conn *c, const struct out_batch *b, size_t n)
{
	uint32_t i;
	size_t len;
	uint64_t owed = 0;

	for (i = 0; i < b->nrec && n >= (len = out_rec_len(b, i)); i++)
		n -= len;
	if (i == b->nrec)
		return i;
	out_behind(w, c, b->recs[i].seq);
	c->cursor = b->recs[i].seq;
	if (n > 0) {
		len = out_rec_len(b, i) - n;
		if ((c->part = malloc(len)) == NULL) {
			conn_close(w, c, "out of memory for a message");
			return -1;
		}
		out_copy_from(b, i, n, c->part);
		c->part_len = (uint32_t)len;
		c->part_off = 0;
		c->cursor++;
		owed = len;
	}
	for (len = i + (n > 0); len < b->nrec; len++)
		owed += out_rec_len(b, (uint32_t)len);
	c->owed = owed;
	return i;
}

/*
 * out_send_batch - write a batch of records to c in one call. Returns
 * 1 if all went, 0 if the socket filled (c is now behind, with its
 * cursor at the first record not yet begun), -1 if c was closed.
 */
int
out_send_batch(struct worker *w, struct conn *c, const struct out_batch *b)
{
	ssize_t n;
	long whole;

	n = out_sendv(c, b);
	if ((n = out_result(w, c, n, b->total)) < 0)
		return -1;
	whole = out_cut(w, c, b, (size_t)n);
	if (whole < 0)
		return -1;
	if (!ring_intact(&w->shm->ring, b->recs[0].off)) {
		conn_close(w, c, "a message was overwritten in the ring while being sent");
		return -1;
	}
	if (whole > 0) {
		stat_add(&w->stats->delivered, (uint64_t)whole);
		timer_sent(w, c);
	}
	return (uint32_t)whole == b->nrec ? 1 : 0;
}

/* out_room - whether the socket surely takes n more bytes now (never a partial frame). */
static int
out_room(int fd, size_t n)
{
	int queued, sndbuf;
	socklen_t len = sizeof(sndbuf);

	if (ioctl(fd, SIOCOUTQ, &queued) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) < 0)
		return 0;
	/* SO_SNDBUF counts kernel overhead too: keep a generous margin */
	return sndbuf - queued > (int)n + 8192;
}

/*
 * out_slow_close - a client that cannot keep up and cannot be skipped.
 * A version 2 client is told why if the frame fits whole; a Part 1
 * client never sees an error frame it did not ask for.
 */
static void
out_slow_close(struct worker *w, struct conn *c, const char *why)
{
	char buf[256], reason[160];
	long n;

	if ((c->flags & CONN_V2) && c->part == NULL && c->nctl == 0) {
		n = render_error(buf, sizeof(buf), ERR_SLOW_CONSUMER, why);
		if (n > 0 && out_room(c->fd, (size_t)n) && write(c->fd, buf, (size_t)n) < 0)
			log_debug("write() of slow_consumer failed: %s", strerror(errno));
	}
	snprintf(reason, sizeof(reason), "slow consumer: %s", why);
	conn_close(w, c, reason);
}

/*
 * out_lost - c fell too far behind: records it is owed are gone or over
 * max_backlog. Returns 0 if it was skipped forward, -1 if closed.
 */
static int
out_lost(struct worker *w, struct conn *c, const char *why)
{
	char name[64];

	stat_add(&w->stats->slow, 1);
	if (!(c->flags & CONN_V2) || w->conf.slow_policy == SLOW_DISCONNECT) {
		out_slow_close(w, c, why);
		return -1;
	}
	if (c->gap_to == 0)
		c->gap_from = c->cursor;
	c->gap_to = w->done;
	c->gap_idx = 0;
	c->cursor = w->done + 1;
	c->owed = 0;
	log_info("client %s: %s; skipped to sequence %llu", conn_name(c, name, sizeof(name)),
	    why, (unsigned long long)c->cursor);
	return 0;
}

void
out_check_lag(struct worker *w, struct conn *c)
{
	struct ring_rec r;

	if (c->cursor > w->done)
		return;
	if (ring_get(&w->shm->ring, c->cursor, &r) < 0)
		out_lost(w, c, "messages it was owed left the ring");
	else if (c->owed > w->conf.max_backlog)
		out_lost(w, c, "more than max_backlog bytes behind");
}

/* out_flush_part - finish the record a full socket cut short. */
static int
out_flush_part(struct worker *w, struct conn *c)
{
	ssize_t n;

	if (c->part == NULL)
		return 1;
	n = out_write(w, c, c->part + c->part_off, c->part_len - c->part_off);
	if (n < 0)
		return -1;
	c->part_off += (uint32_t)n;
	if (c->part_off < c->part_len)
		return 0;
	free(c->part);
	c->part = NULL;
	c->part_len = c->part_off = 0;
	stat_add(&w->stats->delivered, 1);
	timer_sent(w, c);
	return 1;
}

/* out_flush_ctl - queued replies, each in a write of its own. */
static int
out_flush_ctl(struct worker *w, struct conn *c)
{
	struct cctl *q;
	ssize_t n;

	while (c->nctl > 0) {
		q = &c->ctl[0];
		n = out_write(w, c, q->buf + q->off, q->len - q->off);
		if (n < 0)
			return -1;
		q->off += (uint32_t)n;
		if (q->off < q->len)
			return 0;
		free(q->buf);
		memmove(c->ctl, c->ctl + 1, (c->nctl - 1) * sizeof(*c->ctl));
		c->nctl--;
	}
	return 1;
}

/* out_flush_gap - tell a skipped version 2 client, topic by topic, what it missed. */
static int
out_flush_gap(struct worker *w, struct conn *c)
{
	const struct ltopic *lt;
	char buf[2048];
	long n;

	while (c->gap_to != 0 && c->gap_idx < c->nsubs) {
		if (c->flags & CONN_BLOCKED)
			return 0;
		lt = w->topics[c->subs[c->gap_idx++].topic];
		n = render_gap(buf, sizeof(buf), lt->name, lt->len, c->gap_from, c->gap_to);
		if (n > 0 && out_reply(w, c, buf, (size_t)n) < 0)
			return -1;
	}
	c->gap_from = c->gap_to = 0;
	c->gap_idx = 0;
	return c->flags & CONN_BLOCKED ? 0 : 1;
}

/* out_wants - whether c is owed record rec. */
static int
out_wants(struct conn *c, const struct ring_rec *rec)
{
	const struct csub *s = subs_find(c, rec->topic);

	return s != NULL && rec->seq > s->after;
}

/* out_gather - c's records from its cursor on, up to a batch; *next is where the scan stopped. */
static long
out_gather(struct worker *w, struct conn *c, uint64_t *next)
{
	uint32_t n = 0;
	uint64_t s;

	for (s = c->cursor; s <= w->done && n < OUT_BATCH_RECS; s++) {
		if (ring_get(&w->shm->ring, s, &w->curecs[n]) < 0)
			return -1;
		if (out_wants(c, &w->curecs[n]))
			n++;
	}
	*next = s;
	return n;
}

/* out_catchup - send c its records from its cursor up to what the worker fanned out. */
static void
out_catchup(struct worker *w, struct conn *c)
{
	uint64_t next;
	long n;

	while (c->cursor <= w->done) {
		n = out_gather(w, c, &next);
		if (n < 0) {
			if (out_lost(w, c, "messages it was owed left the ring") < 0 ||
			    out_flush_gap(w, c) <= 0)
				return;
			continue;
		}
		if (n > 0) {
			out_batch_build(w->cu, w->curecs, (uint32_t)n, (c->flags & CONN_V2) != 0);
			if (out_send_batch(w, c, w->cu) <= 0)
				return;
			c->owed = c->owed > w->cu->total ? c->owed - w->cu->total : 0;
		}
		c->cursor = next;
	}
	out_ahead(w, c);
}

void
out_flush(struct worker *w, struct conn *c)
{
	if (c->flags & (CONN_CLOSING | CONN_WDEAD))
		return;
	c->flags &= ~(uint32_t)CONN_BLOCKED;
	if (out_flush_part(w, c) <= 0 || out_flush_ctl(w, c) <= 0 ||
	    out_flush_gap(w, c) <= 0)
		return;
	if (c->flags & CONN_BEHIND)
		out_catchup(w, c);
}
