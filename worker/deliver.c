/*
 * worker/deliver.c - everything a worker writes to its clients.
 *
 * Owns: struct out of every connection, the heartbeat and behind lists,
 * and the scratch for serving cursors. worker/deliver.h states the
 * invariants; this file keeps them. Bytes are framed by the connection's
 * transport (worker/transport.h): replies here, records in worker/batch.c.
 * Bytes reach the socket through the worker's write path (worker/wpath.h):
 * whatever it is, each write's result comes back here and goes through
 * the same accounting (deliver_result, then deliver_took for records).
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

#include "lib/clock.h"
#include "lib/log.h"
#include "proto/render.h"
#include "proto/request.h"
#include "proto/topic.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/wild.h"
#include "worker/wpath.h"

#define DELIVER_WIRE_STACK 2048      /* replies framed on the stack up to this size */

/* The records a cursor is served from, one batch at a time. */
struct catchup {
	struct batch b;
	struct ring_rec recs[BATCH_RECS];
};

int
deliver_init(struct worker *w)
{
	w->cu = malloc(sizeof(*w->cu));
	if (w->cu == NULL) {
		log_error("out of memory for the cursor scratch");
		return -1;
	}
	list_init(&w->hb);
	list_init(&w->behind);
	return 0;
}

int
deliver_pending(const struct conn *c)
{
	const struct out *o = &c->out;

	return o->part != NULL || o->nctl > 0 || o->gap_to != 0 || o->replay != NULL ||
	    (o->flags & OUT_BEHIND);
}

int
deliver_dead(const struct conn *c)
{
	return (c->out.flags & OUT_DEAD) != 0;
}

int
deliver_ready(const struct conn *c)
{
	return !(c->flags & CONN_CLOSING) && !(c->out.flags & (OUT_BEHIND | OUT_DEAD | OUT_LINGER));
}

int
deliver_finishing(const struct conn *c)
{
	return (c->out.flags & OUT_LINGER) != 0;
}

/* deliver_linger_done - a finishing c whose last bytes went out is closed. */
static void
deliver_linger_done(struct worker *w, struct conn *c)
{
	if ((c->out.flags & OUT_LINGER) && c->out.part == NULL && c->out.nctl == 0)
		conn_close(w, c, c->out.linger_why);
}

void
deliver_finish(struct worker *w, struct conn *c, const char *why)
{
	if (c->flags & CONN_CLOSING)
		return;
	c->out.flags |= OUT_LINGER;
	c->out.linger_why = why;
	deliver_linger_done(w, c);
}

void
deliver_free(struct conn *c)
{
	struct out *o = &c->out;
	uint32_t i;

	free(o->part);
	for (i = 0; i < o->nctl; i++)
		free(o->ctl[i].buf);
	free(o->ctl);
	while (o->replay != NULL) {
		struct replay *r = o->replay;

		o->replay = r->next;
		free(r);
	}
	o->part = NULL;
	o->ctl = NULL;
	o->nctl = o->ctlcap = 0;
	list_remove(&o->hb);
	list_remove(&o->behind);
}

/* deliver_sent - a message went out whole: the heartbeat silence starts again. */
static void
deliver_sent(struct worker *w, struct conn *c)
{
	c->out.last_tx = w->now;
	list_remove(&c->out.hb);
	list_append(&w->hb, &c->out.hb);
}

void
deliver_heartbeat_start(struct worker *w, struct conn *c)
{
	deliver_sent(w, c);
}

/* deliver_fail - writes fail: the input side reads what the client sent before it went, then closes. */
static void
deliver_fail(struct worker *w, struct conn *c, int err)
{
	char name[64];

	c->out.flags |= OUT_DEAD;
	log_debug("client %s: write failed: %s", conn_name(c, name, sizeof(name)), strerror(err));
	if (!list_linked(&c->readable))
		list_append(&w->readable, &c->readable);
}

/*
 * deliver_result - account a write's result (n bytes, or -1 with err as
 * send(2) sets errno), whichever write path brought it: bytes written, 0
 * if full, -1 if dead.
 */
static ssize_t
deliver_result(struct worker *w, struct conn *c, ssize_t n, int err, size_t want)
{
	if (n >= 0) {
		stat_add(&w->stats->bytes_out, (uint64_t)n);
		if (n > 0)
			c->out.progress = w->now;
		if ((size_t)n < want)
			c->out.flags |= OUT_BLOCKED;
		return n;
	}
	if (err == EAGAIN || err == EWOULDBLOCK) {
		c->out.flags |= OUT_BLOCKED;
		return 0;
	}
	deliver_fail(w, c, err);
	return -1;
}

/* deliver_write - send bytes at once; the result accounted. */
static ssize_t
deliver_write(struct worker *w, struct conn *c, const char *p, size_t n)
{
	ssize_t r = w->wp->write(c->fd, p, n);

	return deliver_result(w, c, r, r < 0 ? errno : 0, n);
}

/* deliver_sendv - send a batch's iovecs at once; the result accounted. */
static ssize_t
deliver_sendv(struct worker *w, struct conn *c, const struct batch *b)
{
	ssize_t r = w->wp->writev(c->fd, b);

	return deliver_result(w, c, r, r < 0 ? errno : 0, b->total);
}

/* deliver_queue - keep wire bytes (or their unwritten rest) until the socket has room. */
static int
deliver_queue(struct worker *w, struct conn *c, const char *p, size_t n)
{
	struct out *o = &c->out;
	struct cctl *q;
	uint32_t cap;

	if (o->nctl >= DELIVER_MAX_CTL) {
		conn_close(w, c, "slow consumer: too many replies unread");
		stat_add(&w->stats->slow, 1);
		return -1;
	}
	if (o->nctl == o->ctlcap) {
		cap = o->ctlcap ? o->ctlcap * 2 : 4;
		q = realloc(o->ctl, cap * sizeof(*q));
		if (q == NULL) {
			conn_close(w, c, "out of memory for a reply");
			return -1;
		}
		o->ctl = q;
		o->ctlcap = cap;
	}
	q = &o->ctl[o->nctl];
	if ((q->buf = malloc(n)) == NULL) {
		conn_close(w, c, "out of memory for a reply");
		return -1;
	}
	memcpy(q->buf, p, n);
	q->len = (uint32_t)n;
	q->off = 0;
	o->nctl++;
	return 0;
}

/* deliver_raw - wire bytes in a write of their own, or queued behind what waits. */
static int
deliver_raw(struct worker *w, struct conn *c, const char *p, size_t n)
{
	ssize_t k = 0;

	if (c->out.flags & OUT_POSTED)
		deliver_settle(w);  /* a posted batch is on its way: these bytes go after it */
	if ((c->flags & CONN_CLOSING) || (c->out.flags & (OUT_DEAD | OUT_LINGER)))
		return 0;
	if (!(c->out.flags & OUT_BLOCKED) && c->out.part == NULL && c->out.nctl == 0) {
		k = deliver_write(w, c, p, n);
		if (k < 0 || (size_t)k == n)
			return 0;
	}
	return deliver_queue(w, c, p + k, n - (size_t)k);
}

/* deliver_wire - a Janus frame as c's transport puts it on the wire, into buf (len + TRANSPORT_HEAD_MAX bytes). */
static size_t
deliver_wire(const struct conn *c, const char *frame, size_t len, char *buf)
{
	size_t payload = transport_payload(c->tp, len), h;

	h = c->tp->head != NULL ? c->tp->head(buf, payload) : 0;
	memcpy(buf + h, frame, payload);
	return h + payload;
}

int
deliver_bytes(struct worker *w, struct conn *c, const char *p, size_t n)
{
	return deliver_raw(w, c, p, n);
}

/* deliver_token - 32 hex digits unique to the connection: a keyed counter. */
static void
deliver_token(struct worker *w, char out[RENDER_TOKEN_LEN])
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

int
deliver_greet(struct worker *w, struct conn *c)
{
	char buf[128], token[RENDER_TOKEN_LEN];
	size_t n;

	deliver_token(w, token);
	n = render_greeting(buf, clock_wall_usec(), token);
	return deliver_reply(w, c, buf, n);
}

int
deliver_reply(struct worker *w, struct conn *c, const char *frame, size_t len)
{
	char stack[DELIVER_WIRE_STACK + TRANSPORT_HEAD_MAX], *buf = stack;
	size_t n;
	int rc;

	if (c->tp->head == NULL && c->tp->keep_end)
		return deliver_raw(w, c, frame, len);
	if (len > DELIVER_WIRE_STACK && (buf = malloc(len + TRANSPORT_HEAD_MAX)) == NULL) {
		conn_close(w, c, "out of memory for a reply");
		return -1;
	}
	n = deliver_wire(c, frame, len, buf);
	rc = deliver_raw(w, c, buf, n);
	if (buf != stack)
		free(buf);
	return rc;
}

int
deliver_error(struct worker *w, struct conn *c, const char *code, const char *text)
{
	char buf[320];
	long n = render_error(buf, sizeof(buf), code, text);

	stat_add(&w->stats->errors, 1);
	return n < 0 ? 0 : deliver_reply(w, c, buf, (size_t)n);
}

int
deliver_gap(struct worker *w, struct conn *c, const char *topic, size_t tlen,
    uint64_t from, uint64_t to)
{
	char buf[2048];
	long n = render_gap(buf, sizeof(buf), topic, tlen, from, to);

	return n > 0 ? deliver_reply(w, c, buf, (size_t)n) : 0;
}

void
deliver_from(struct worker *w, struct conn *c, uint64_t seq)
{
	struct out *o = &c->out;

	if (o->flags & OUT_BEHIND) {
		if (seq < o->cursor)
			o->cursor = seq;
		return;
	}
	o->flags |= OUT_BEHIND;
	o->cursor = seq;
	o->owed = 0;
	o->progress = w->now;    /* a lag starts reading: it has stall_timeout to take bytes */
	list_append(&w->behind, &o->behind);
}

/* deliver_stalled - c is behind and its socket took nothing for stall_timeout. */
static int
deliver_stalled(const struct worker *w, const struct conn *c)
{
	return (c->out.flags & OUT_BEHIND) && w->now - c->out.progress >= w->conf.stall_timeout_ms;
}

uint64_t
deliver_next(const struct worker *w, const struct conn *c)
{
	return (c->out.flags & OUT_BEHIND) ? c->out.cursor : w->done + 1;
}

/* deliver_ahead - c's cursor reached the fan-out: it takes shared batches again. */
static void
deliver_ahead(struct conn *c)
{
	c->out.flags &= ~(uint32_t)OUT_BEHIND;
	c->out.owed = 0;
	list_remove(&c->out.behind);
}

/*
 * deliver_cut - a write stopped inside the batch after n bytes: keep the
 * rest of a record it cut, and point the cursor at the first record not
 * yet begun, or, for a batch of resume r (not NULL), r: the cursor stays
 * where it is, since the replay's records are older than everything it
 * covers. Returns the number of whole records sent, or -1.
 */
static long
deliver_cut(struct worker *w, struct conn *c, const struct batch *b, size_t n, struct replay *r)
{
	struct out *o = &c->out;
	uint32_t i;
	size_t len;
	uint64_t owed = 0;

	for (i = 0; i < b->nrec && n >= (len = batch_rec_len(b, i)); i++)
		n -= len;
	if (i == b->nrec)
		return i;
	if (r == NULL) {
		/* behind now if it was not; the records before i went out, so the cursor moves on */
		deliver_from(w, c, b->recs[i].seq);
		o->cursor = b->recs[i].seq;
	}
	if (n > 0) {
		len = batch_rec_len(b, i) - n;
		if ((o->part = malloc(len)) == NULL) {
			conn_close(w, c, "out of memory for a message");
			return -1;
		}
		batch_copy_rest(b, i, n, o->part);
		o->part_len = (uint32_t)len;
		o->part_off = 0;
		if (r == NULL)
			o->cursor = b->recs[i].seq + 1;
		owed = len;
	}
	/* a resume goes on at its first record not begun (else where gathering left it) */
	if (r != NULL && i + (n > 0) < b->nrec)
		r->pos = b->recs[i + (n > 0)].seq;
	for (len = i + (n > 0); len < b->nrec; len++)
		owed += batch_rec_len(b, (uint32_t)len);
	o->owed = owed;
	return i;
}

/*
 * deliver_took - the socket took n bytes of batch b, a batch of resume r
 * or (NULL) of the cursor or the fan-out (n as deliver_result returns
 * it). Returns 1 if all went, 0 if the socket filled (c is now behind,
 * its cursor, or r, at the first record not yet begun), -1 if c was
 * closed.
 */
static int
deliver_took(struct worker *w, struct conn *c, const struct batch *b, ssize_t n, struct replay *r)
{
	long whole;

	if (n < 0)
		return -1;
	whole = deliver_cut(w, c, b, (size_t)n, r);
	if (whole < 0)
		return -1;
	/*
	 * One check covers the whole batch, the rest of a cut record copied
	 * aside included (which is why it comes after the cut): a batch's
	 * records are in ring order, so its first record has the lowest
	 * offset, and the ring only ever raises the offset below which it may
	 * overwrite. If the first was still whole after the write and the
	 * copy, every later one was too.
	 */
	if (!ring_intact(&w->shm->ring, b->recs[0].off)) {
		conn_close(w, c, "a message was overwritten in the ring while being sent");
		return -1;
	}
	if (whole > 0) {
		stat_add(&w->stats->delivered, (uint64_t)whole);
		deliver_sent(w, c);
	}
	return (uint32_t)whole == b->nrec ? 1 : 0;
}

/* deliver_send - write a batch of records (of resume r, or NULL) to c at once; as deliver_took. */
static int
deliver_send(struct worker *w, struct conn *c, const struct batch *b, struct replay *r)
{
	return deliver_took(w, c, b, deliver_sendv(w, c, b), r);
}

int
deliver_offer(struct worker *w, struct conn *c, const struct ring_rec *first,
    uint64_t pass_from, uint64_t bytes, uint64_t after, int single)
{
	const struct out *o = &c->out;

	if ((c->flags & CONN_CLOSING) || (o->flags & (OUT_DEAD | OUT_LINGER)))
		return 0;
	/*
	 * Shared batches fit only a connection with nothing else to send
	 * first that gets this one topic in this pass and wants all of its
	 * records; anything else is served from a cursor at the pass's start,
	 * which picks out what each of its subscriptions wants.
	 */
	if ((o->flags & (OUT_BEHIND | OUT_BLOCKED)) || o->part != NULL || o->nctl > 0 ||
	    o->replay != NULL || !single || after >= first->seq) {
		deliver_from(w, c, pass_from);
		c->out.owed += bytes;
		return 0;
	}
	return 1;
}

/*
 * deliver_posted - the write path's result for c's posted batch: the
 * same accounting as a send(2) of it, in the same order (bytes, a cut
 * and the cursor, the ring check after the kernel took the bytes,
 * delivered, the heartbeat).
 */
static void
deliver_posted(struct worker *w, struct conn *c, ssize_t n, int err)
{
	const struct batch *b = c->out.posted;

	c->out.flags &= ~(uint32_t)OUT_POSTED;
	c->out.posted = NULL;
	deliver_took(w, c, b, deliver_result(w, c, n, err, b->total), NULL);
}

void
deliver_batch(struct worker *w, struct conn *c, const struct batch *b)
{
	if (c->out.flags & OUT_POSTED)
		deliver_settle(w);  /* one batch per socket on its way at a time */
	if (!deliver_ready(c))
		return;
	c->out.flags |= OUT_POSTED;
	c->out.posted = b;
	w->wp->post(w, c, b, deliver_posted);
}

void
deliver_settle(struct worker *w)
{
	w->wp->settle(w, deliver_posted);
}

/* deliver_room - whether the socket surely takes n more bytes now (never a partial frame). */
static int
deliver_room(int fd, size_t n)
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
 * deliver_slow_close - a client that cannot keep up and cannot be
 * skipped. A version 2 client is told why if the frame fits whole; a
 * Part 1 client never sees an error frame it did not ask for.
 */
static void
deliver_slow_close(struct worker *w, struct conn *c, const char *why)
{
	char buf[256], wire[256 + TRANSPORT_HEAD_MAX], reason[160];
	long n;
	size_t k;

	if ((c->flags & CONN_V2) && c->out.part == NULL && c->out.nctl == 0) {
		n = render_error(buf, sizeof(buf), ERR_SLOW_CONSUMER, why);
		if (n > 0) {
			k = deliver_wire(c, buf, (size_t)n, wire);
			if (deliver_room(c->fd, k) && write(c->fd, wire, k) < 0)
				log_debug("write() of slow_consumer failed: %s", strerror(errno));
		}
	}
	snprintf(reason, sizeof(reason), "slow consumer: %s", why);
	conn_close(w, c, reason);
}

/*
 * deliver_lost - c fell too far behind: records it is owed are gone or
 * over max_backlog. Returns 0 if it was skipped forward, -1 if closed.
 */
static int
deliver_lost(struct worker *w, struct conn *c, const char *why)
{
	struct out *o = &c->out;
	char name[64];

	int stalled = deliver_stalled(w, c);

	stat_add(&w->stats->slow, 1);
	if (!(c->flags & CONN_V2) || w->conf.slow_policy == SLOW_DISCONNECT) {
		if (stalled)
			stat_add(&w->stats->stall_cut, 1);
		deliver_slow_close(w, c, why);
		return -1;
	}
	if (stalled)
		stat_add(&w->stats->stall_skip, 1);
	if (o->gap_to == 0)
		o->gap_from = o->cursor;
	o->gap_to = w->done;
	o->gap_idx = 0;
	o->cursor = w->done + 1;
	o->owed = 0;
	log_info("client %s: %s; skipped to sequence %llu", conn_name(c, name, sizeof(name)),
	    why, (unsigned long long)o->cursor);
	return 0;
}

/* deliver_lag - a blocked c: close or skip it if it is too far behind. */
static void
deliver_lag(struct worker *w, struct conn *c)
{
	struct ring_rec r;

	if (c->out.cursor > w->done)
		return;
	if (ring_get(&w->shm->ring, c->out.cursor, &r) < 0)
		deliver_lost(w, c, "messages it was owed left the ring");
	else if (deliver_stalled(w, c) && c->out.owed > (w->conf.max_backlog != 0 ?
	    w->conf.max_backlog : w->shm->ring.size))
		deliver_lost(w, c, "stalled for stall_timeout, more than max_backlog bytes behind");
}

/* deliver_needs - the oldest record c still needs (a reading c), or UINT64_MAX. */
static uint64_t
deliver_needs(const struct worker *w, const struct conn *c)
{
	const struct replay *r;
	uint64_t need = c->out.cursor;

	if ((c->flags & CONN_CLOSING) || (c->out.flags & OUT_DEAD) || deliver_stalled(w, c))
		return UINT64_MAX;
	for (r = c->out.replay; r != NULL; r = r->next) {
		if (r->finding && r->start < need)
			need = r->start;
		else if (!r->finding && r->pos != 0 && r->pos < need)
			need = r->pos;
	}
	return need;
}

/* deliver_wake_paced - let the workers whose publishers wait look again. */
static void
deliver_wake_paced(struct worker *w)
{
	unsigned i;

	for (i = 0; i < w->nworkers; i++)
		if (i != w->slot && atomic_load_explicit(&w->shm->hdr->workers[i].paced, memory_order_relaxed))
			w->wake_mask |= UINT64_C(1) << i;
}

void
deliver_pace(struct worker *w)
{
	uint64_t need = w->done + 1, old = atomic_load_explicit(&w->me->need, memory_order_relaxed), n;
	struct link *l, *next;
	struct conn *c;

	for (l = w->behind.next; l != &w->behind; l = next) {
		next = l->next;
		c = list_entry(l, struct conn, out.behind);
		/* a stall is found by time, not only when new records arrive */
		if ((c->out.flags & OUT_BLOCKED) && !(c->flags & CONN_CLOSING) && deliver_stalled(w, c))
			deliver_lag(w, c);
		if ((n = deliver_needs(w, c)) < need)
			need = n;
	}
	atomic_store_explicit(&w->me->need, need, memory_order_release);
	if (need > old)
		deliver_wake_paced(w);
}

/* deliver_flush_part - finish the record a full socket cut short. */
static int
deliver_flush_part(struct worker *w, struct conn *c)
{
	struct out *o = &c->out;
	ssize_t n;

	if (o->part == NULL)
		return 1;
	n = deliver_write(w, c, o->part + o->part_off, o->part_len - o->part_off);
	if (n < 0)
		return -1;
	o->part_off += (uint32_t)n;
	if (o->part_off < o->part_len)
		return 0;
	free(o->part);
	o->part = NULL;
	o->part_len = o->part_off = 0;
	stat_add(&w->stats->delivered, 1);
	deliver_sent(w, c);
	return 1;
}

/* deliver_flush_ctl - queued replies, each in a write of its own. */
static int
deliver_flush_ctl(struct worker *w, struct conn *c)
{
	struct out *o = &c->out;
	struct cctl *q;
	ssize_t n;

	while (o->nctl > 0) {
		q = &o->ctl[0];
		n = deliver_write(w, c, q->buf + q->off, q->len - q->off);
		if (n < 0)
			return -1;
		q->off += (uint32_t)n;
		if (q->off < q->len)
			return 0;
		free(q->buf);
		memmove(o->ctl, o->ctl + 1, (o->nctl - 1) * sizeof(*o->ctl));
		o->nctl--;
	}
	return 1;
}

/* deliver_flush_gap - tell a skipped version 2 client, subscription by subscription, what it missed. */
static int
deliver_flush_gap(struct worker *w, struct conn *c)
{
	struct out *o = &c->out;
	const struct ltopic *lt;

	while (o->gap_to != 0 && o->gap_idx < c->nsubs) {
		if (o->flags & OUT_BLOCKED)
			return 0;
		lt = w->topics[c->subs[o->gap_idx++].topic];
		if (deliver_gap(w, c, lt->name, lt->len, o->gap_from, o->gap_to) < 0)
			return -1;
	}
	o->gap_from = o->gap_to = 0;
	o->gap_idx = 0;
	return o->flags & OUT_BLOCKED ? 0 : 1;
}

/* deliver_wants - whether c is owed record rec, by a subscription or by a pattern. */
static int
deliver_wants(struct worker *w, struct conn *c, const struct ring_rec *rec)
{
	const struct csub *s = conn_sub(c, rec->topic);

	if (s != NULL && rec->seq > s->after)
		return 1;
	return c->pats != NULL && wild_wants(w, c, rec);
}

/*
 * deliver_gather - c's records from its cursor on, up to a batch, looking
 * at no more than DELIVER_SCAN records; *next is where the scan stopped.
 */
static long
deliver_gather(struct worker *w, struct conn *c, uint64_t *next)
{
	struct ring_rec *recs = w->cu->recs;
	uint64_t s, end = c->out.cursor + DELIVER_SCAN;
	uint32_t n = 0;

	for (s = c->out.cursor; s <= w->done && s < end && n < BATCH_RECS; s++) {
		if (ring_get(&w->shm->ring, s, &recs[n]) < 0)
			return -1;
		if (deliver_wants(w, c, &recs[n]))
			n++;
	}
	*next = s;
	return n;
}

/* deliver_records - send n gathered records (of resume r, or NULL); 1 if all went, 0 if the socket filled, -1 if closed. */
static int
deliver_records(struct worker *w, struct conn *c, uint32_t n, struct replay *r)
{
	struct batch *b = &w->cu->b;
	int rc;

	batch_build(b, c->tp, (c->flags & CONN_V2) != 0, w->cu->recs, n);
	rc = deliver_send(w, c, b, r);
	if (rc > 0)
		c->out.owed = c->out.owed > b->total ? c->out.owed - b->total : 0;
	return rc;
}

/* deliver_cursor - send c its records from its cursor on, within budget; 1 if it caught up. */
static int
deliver_cursor(struct worker *w, struct conn *c, unsigned *budget)
{
	struct out *o = &c->out;
	uint64_t next;
	long n;

	while (o->cursor <= w->done) {
		if (*budget == 0)
			return 0;
		n = deliver_gather(w, c, &next);
		if (n < 0) {
			if (deliver_lost(w, c, "messages it was owed left the ring") < 0 ||
			    deliver_flush_gap(w, c) <= 0)
				return 0;
			continue;
		}
		if (n > 0) {
			(*budget)--;
			if (deliver_records(w, c, (uint32_t)n, NULL) <= 0)
				return 0;
		}
		o->cursor = next;
	}
	deliver_ahead(c);
	return 1;
}

/*
 * deliver_replay_queue - r joins c's resumes, and c waits for them before
 * anything newer. They are served at the end of this loop pass, within
 * c's budget for the pass like any cursor, not here: a read of many
 * resumes would otherwise get a budget for each.
 */
static void
deliver_replay_queue(struct worker *w, struct conn *c, struct replay *r)
{
	struct replay **tail;

	for (tail = &c->out.replay; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = r;
	deliver_from(w, c, deliver_next(w, c));
	w->deliver_more = 1;
}

/* deliver_replay_new - a replay of topic (a pattern: its entry) with room for plen bytes; NULL, c closed, if none. */
static struct replay *
deliver_replay_new(struct worker *w, struct conn *c, uint32_t topic, uint64_t start, uint64_t until,
    size_t plen)
{
	struct replay *r = calloc(1, sizeof(*r) + plen);

	if (r == NULL) {
		conn_close(w, c, "out of memory for a resume");
		return NULL;
	}
	r->topic = topic;
	r->start = start;
	r->until = until;
	r->memo_topic = UINT32_MAX;
	r->plen = (uint32_t)plen;
	return r;
}

int
deliver_replay(struct worker *w, struct conn *c, uint32_t topic, uint32_t gen,
    uint64_t start, uint64_t until)
{
	struct replay *r;
	uint64_t last = topics_last(&w->shm->topics, topic);

	if (start > until || last < start)
		return 0;
	if ((r = deliver_replay_new(w, c, topic, start, until, 0)) == NULL)
		return -1;
	r->gen = gen;
	r->pos = last;
	r->finding = 1;
	deliver_replay_queue(w, c, r);
	return 0;
}

int
deliver_replay_pattern(struct worker *w, struct conn *c, uint32_t entry, const char *pattern,
    size_t len, uint64_t start, uint64_t until)
{
	struct replay *r;

	if (start > until)
		return 0;
	if ((r = deliver_replay_new(w, c, entry, start, until, len)) == NULL)
		return -1;
	r->pos = start;
	memcpy(r->pattern, pattern, len);
	deliver_replay_queue(w, c, r);
	return 0;
}

/* deliver_replay_lost - records from to to left the ring before r replayed them: a gap for r to report. */
static void
deliver_replay_lost(struct replay *r, uint64_t from, uint64_t to)
{
	if (r->lost_to == 0)
		r->lost_from = from;
	if (to > r->lost_to)
		r->lost_to = to;
}

/*
 * deliver_replay_check - a blocked c may let the ring overwrite what r
 * has still to replay (a stalled c paces nobody). Note that as r's gap
 * and go on from the ring's oldest record: a pattern scans on from there,
 * a topic is found again from its newest record back.
 */
static void
deliver_replay_check(struct worker *w, struct replay *r)
{
	uint64_t tail = ring_tail(&w->shm->ring);

	if (r->finding || r->pos == 0 || r->pos >= tail)
		return;
	deliver_replay_lost(r, r->pos, tail - 1);
	if (r->plen > 0) {
		r->pos = tail;
		return;
	}
	r->start = tail;
	r->pos = topics_last(&w->shm->topics, r->topic);
	r->finding = 1;
}

/* deliver_replay_gap - report r's lost records: 1 when done and c is not blocked, 0 if it is, -1 if c closed. */
static int
deliver_replay_gap(struct worker *w, struct conn *c, struct replay *r)
{
	const struct ltopic *lt = w->topics[r->topic];   /* the topic's, or the pattern's entry */
	int rc = 0;

	if (lt != NULL)   /* none: c left it meanwhile, and nothing of it is owed */
		rc = deliver_gap(w, c, lt->name, lt->len, r->lost_from, r->lost_to);
	r->lost_from = r->lost_to = 0;
	if (rc < 0 || (c->flags & CONN_CLOSING))
		return -1;
	return (c->out.flags & OUT_BLOCKED) ? 0 : 1;
}

/*
 * deliver_replay_find - walk r's topic back from r->pos to its first
 * record at or after start, a bounded number of steps. Returns 1 when
 * found (r->pos is it, or 0 if nothing is left to replay), 0 to go on
 * next time.
 */
static int
deliver_replay_find(struct worker *w, struct replay *r)
{
	struct ring_rec rec;
	unsigned steps;
	uint64_t last;

	for (steps = 0; steps < DELIVER_SCAN; steps++) {
		if (ring_get(&w->shm->ring, r->pos, &rec) < 0) {
			/* overwritten while walked to: what is older is gone, what is newer is found again */
			deliver_replay_lost(r, r->start, r->pos);
			last = topics_last(&w->shm->topics, r->topic);
			if (last <= r->pos) {
				r->pos = 0;     /* the newest is gone too: nothing is left */
				return 1;
			}
			r->start = r->pos + 1;
			r->pos = last;
			continue;
		}
		if (rec.topic != r->topic || rec.gen != r->gen) {
			r->pos = 0;             /* the id went to another topic: none of r's is left */
			return 1;
		}
		if (rec.prev < r->start)
			return 1;       /* r->pos is the oldest record to replay */
		if (ring_get(&w->shm->ring, rec.prev, &rec) < 0) {
			deliver_replay_lost(r, r->start, r->pos - 1);
			return 1;       /* the ring gave up the older ones meanwhile */
		}
		if (rec.topic != r->topic || rec.gen != r->gen)
			return 1;
		r->pos = rec.seq;
	}
	return 0;
}

/*
 * deliver_replay_memo - r's answers for rec's topic, kept while the topic
 * and the worker's patterns stay the same: whether r's pattern matches
 * it, and from where c's other patterns bring its records (cpat.from).
 */
static void
deliver_replay_memo(struct worker *w, struct conn *c, struct replay *r, const struct ring_rec *rec)
{
	char name[CONF_TOPIC_MAX + 1];
	long len;

	if (rec->topic == r->memo_topic && rec->gen == r->memo_gen &&
	    r->memo_pgen == patterns_gen(&w->patterns))
		return;
	r->memo_topic = rec->topic;
	r->memo_gen = rec->gen;
	r->memo_pgen = patterns_gen(&w->patterns);
	r->memo_match = 1;
	if (r->plen > 0) {
		len = topics_name_copy(&w->shm->topics, rec->topic, rec->gen, name, sizeof(name));
		r->memo_match = len >= 0 && topic_match(r->pattern, r->plen, name, (size_t)len);
	}
	r->memo_from = r->memo_match ? wild_from(w, c, rec->topic, rec->gen, r->topic) : UINT64_MAX;
}

/*
 * deliver_replay_wants - whether r is to send rec: r's pattern matches it
 * and no other subscription of c brings it (an exact one, or another
 * pattern: live, or by a resume served before r).
 */
static int
deliver_replay_wants(struct worker *w, struct conn *c, struct replay *r, const struct ring_rec *rec)
{
	const struct csub *s;

	deliver_replay_memo(w, c, r, rec);
	if (!r->memo_match || rec->seq >= r->memo_from)
		return 0;
	s = r->plen > 0 ? conn_sub(c, rec->topic) : NULL;
	return s == NULL || rec->seq < s->from;
}

/*
 * deliver_replay_follow - up to a batch of r's records from r->pos on,
 * following the links and looking at no more than DELIVER_SCAN; r->pos
 * becomes the next one, or 0 when the replay reached until (or a record
 * it needs is no longer held).
 */
static uint32_t
deliver_replay_follow(struct worker *w, struct conn *c, struct replay *r)
{
	const struct ring *ring = &w->shm->ring;
	struct ring_rec *recs = w->cu->recs, rec, nx;
	uint32_t n = 0, steps;

	if (ring_get(ring, r->pos, &rec) < 0)
		return 0;       /* gone since the check: r->pos is below the tail, the next check reports it */
	if (rec.topic != r->topic || rec.gen != r->gen || rec.seq > r->until) {
		r->pos = 0;
		return 0;
	}
	r->pos = 0;
	for (steps = 1;; steps++) {
		if (deliver_replay_wants(w, c, r, &rec))
			recs[n++] = rec;
		if (ring_next(ring, &rec, &nx) < 0) {
			if (ring_get(ring, rec.seq, &nx) < 0)
				r->pos = rec.seq;   /* overwritten under us, not the topic's end: the check reports it */
			break;
		}
		if (nx.seq > r->until)
			break;
		if (n == BATCH_RECS || steps == DELIVER_SCAN) {
			r->pos = nx.seq;
			break;
		}
		rec = nx;
	}
	return n;
}

/*
 * deliver_replay_scan - up to a batch of the records from r->pos on that
 * r's pattern matches, looking at no more than DELIVER_SCAN records;
 * r->pos becomes the next to look at, or 0 past until.
 */
static uint32_t
deliver_replay_scan(struct worker *w, struct conn *c, struct replay *r)
{
	struct ring_rec *recs = w->cu->recs;
	uint64_t s, end = r->pos + DELIVER_SCAN;
	uint32_t n = 0;

	for (s = r->pos; s <= r->until && s < end && n < BATCH_RECS; s++) {
		if (ring_get(&w->shm->ring, s, &recs[n]) < 0)
			break;  /* overwritten under us: the next check reports it */
		if (deliver_replay_wants(w, c, r, &recs[n]))
			n++;
	}
	r->pos = s > r->until ? 0 : s;
	return n;
}

/* deliver_replay_gather - up to a batch of r's records, by its topic's links or its pattern. */
static uint32_t
deliver_replay_gather(struct worker *w, struct conn *c, struct replay *r)
{
	return r->plen > 0 ? deliver_replay_scan(w, c, r) : deliver_replay_follow(w, c, r);
}

/* deliver_replay_done - r was served: its subscription brought c its records from r->start on. */
static void
deliver_replay_done(struct conn *c, const struct replay *r)
{
	struct csub *s;

	if (r->plen > 0)
		wild_resumed(c, r->topic, r->start);
	else if ((s = conn_sub(c, r->topic)) != NULL && r->start < s->from)
		s->from = r->start;
}

/* deliver_replays - serve c's resumes in order, within budget; 1 when none is left. */
static int
deliver_replays(struct worker *w, struct conn *c, unsigned *budget)
{
	struct out *o = &c->out;
	struct replay *r;
	uint32_t n;

	while ((r = o->replay) != NULL) {
		if (*budget == 0)
			return 0;
		deliver_replay_check(w, r);
		if (r->finding) {
			(*budget)--;
			if (!deliver_replay_find(w, r))
				continue;
			r->finding = 0;
		}
		/* after the records before the loss went, before those after it */
		if (r->lost_to != 0 && deliver_replay_gap(w, c, r) <= 0)
			return 0;
		if (r->pos != 0) {
			(*budget)--;
			if ((n = deliver_replay_gather(w, c, r)) > 0 && deliver_records(w, c, n, r) <= 0)
				return 0;
			if (r->pos != 0)
				continue;
		}
		deliver_replay_done(c, r);
		o->replay = r->next;
		free(r);
	}
	return 1;
}

/* deliver_serve - write what c is owed, in order, until done or the socket is full. */
static void
deliver_serve(struct worker *w, struct conn *c)
{
	if ((c->flags & CONN_CLOSING) || (c->out.flags & OUT_DEAD))
		return;
	c->out.flags &= ~(uint32_t)OUT_BLOCKED;
	unsigned budget = DELIVER_BUDGET;

	if (deliver_flush_part(w, c) <= 0 || deliver_flush_ctl(w, c) <= 0)
		return;
	if (c->out.flags & OUT_LINGER) {
		deliver_linger_done(w, c);
		return;
	}
	if (deliver_flush_gap(w, c) <= 0)
		return;
	if (!deliver_replays(w, c, &budget) ||
	    ((c->out.flags & OUT_BEHIND) && !deliver_cursor(w, c, &budget))) {
		if (budget == 0 && !(c->out.flags & OUT_BLOCKED) && !(c->flags & CONN_CLOSING))
			w->deliver_more = 1;
	}
}

void
deliver_flush(struct worker *w, struct conn *c)
{
	if (c->out.flags & OUT_BLOCKED)
		deliver_serve(w, c);
}

void
deliver_behind(struct worker *w)
{
	struct link *l, *next;
	struct conn *c;

	w->deliver_more = 0;
	for (l = w->behind.next; l != &w->behind; l = next) {
		next = l->next;
		c = list_entry(l, struct conn, out.behind);
		if ((c->flags & CONN_CLOSING) || (c->out.flags & OUT_DEAD))
			continue;
		if (c->out.flags & OUT_BLOCKED)
			deliver_lag(w, c);
		else
			deliver_serve(w, c);
	}
}

/* deliver_heartbeat - one connection's interval has passed in silence. */
static void
deliver_heartbeat(struct worker *w, struct conn *c)
{
	list_remove(&c->out.hb);
	if ((c->flags & CONN_CLOSING) || (c->out.flags & OUT_DEAD))
		return;
	if (c->out.flags & (OUT_BEHIND | OUT_BLOCKED)) {
		deliver_sent(w, c);  /* output is pending: not silent */
		return;
	}
	if (c->flags & CONN_HB_EVERY) {
		if (w->now - c->last_rx >= 2 * (uint64_t)w->conf.heartbeat_ms) {
			conn_close(w, c, "silent for two heartbeat intervals (version 2 or WebSocket)");
			return;
		}
		c->out.last_tx = w->now;
		list_append(&w->hb, &c->out.hb);
	}
	deliver_raw(w, c, c->tp->ping, c->tp->ping_len);
}

void
deliver_heartbeats(struct worker *w)
{
	struct conn *c;

	while (!list_empty(&w->hb)) {
		c = list_entry(w->hb.next, struct conn, out.hb);
		if (c->out.last_tx + w->conf.heartbeat_ms > w->now)
			break;
		deliver_heartbeat(w, c);
	}
}

int
deliver_next_ms(const struct worker *w, int cap)
{
	const struct conn *c;

	if (w->deliver_more)
		return 0;
	if (list_empty(&w->hb))
		return cap;
	c = list_entry(w->hb.next, struct conn, out.hb);
	return worker_ms_until(w, c->out.last_tx + w->conf.heartbeat_ms, cap);
}
