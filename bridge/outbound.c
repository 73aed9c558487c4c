/*
 * bridge/outbound.c - this node's messages, from the ring to NATS.
 *
 * Owns: b->done and struct outbound. A batch is up to OUTBOUND_RECS
 * records: each a PUB line (built here), the payload (pointing into the
 * ring) and \r\n, in one sendmsg. What a full socket leaves is copied to
 * the link's output buffer; the next batch waits until that is written,
 * so at most one batch is ever buffered. The ring is asked after each
 * write whether the bytes were still whole; records in the older half of
 * the ring (which a burst could overwrite during the write) are copied
 * and checked first instead, so no torn message goes out. A record whose
 * topic id was evicted before the bridge named it, or larger than the
 * server's max_payload, is counted as dropped.
 * Must not read from NATS or change subscriptions.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "bridge/link.h"
#include "bridge/outbound.h"

#define OUTBOUND_RECS     340                /* records per sendmsg: three iovecs each, under IOV_MAX */
#define OUTBOUND_BYTES    (256 << 10)        /* payload bytes per batch: what a cut write may leave */
#define OUTBOUND_HEADS    (64 << 10)         /* PUB lines of a batch */
#define OUTBOUND_HEAD_MAX (SUBJECT_MAX + 32) /* one PUB line */
#define OUTBOUND_BATCHES  64                 /* per loop pass, so NATS's input is read in between */

struct outbound {
	struct iovec iov[3 * OUTBOUND_RECS];
	char heads[OUTBOUND_HEADS];
	int niov;
	size_t hused;              /* bytes of heads in use */
	size_t bytes;              /* payload bytes of the batch */
	size_t total;              /* wire bytes of the batch's iovecs */
	uint32_t nrec;             /* records the batch publishes */
	uint64_t first_off;        /* the first of them, for ring_intact */
	uint64_t last;             /* the newest record the batch handled, published or not */
	int copy;                  /* the batch is copied to the output buffer: its records are old */
	uint64_t lost;             /* records the ring gave up in this episode */
	char name[CONF_TOPIC_MAX];
	char subject[SUBJECT_MAX];
};

int
outbound_init(struct bridge *b)
{
	uint64_t head = ring_head(&b->shm->ring);

	if ((b->out = calloc(1, sizeof(*b->out))) == NULL) {
		log_error("out of memory for the bridge's output scratch");
		return -1;
	}
	b->done = atomic_load(&b->me->done);
	if (b->done > head)
		b->done = head;
	return 0;
}

/* outbound_keep - the position, also in the segment for the next bridge. */
static void
outbound_keep(struct bridge *b, uint64_t done)
{
	b->done = done;
	atomic_store_explicit(&b->me->done, done, memory_order_relaxed);
}

/* outbound_lost - the ring gave up record seq (and maybe more) before it went out. */
static void
outbound_lost(struct bridge *b, uint64_t seq)
{
	uint64_t tail = ring_tail(&b->shm->ring);

	if (tail <= seq)
		tail = seq + 1;
	bridge_stat_add(&b->st->dropped_out, tail - seq);
	if (b->out->lost == 0)
		log_warn("records %llu to %llu left the ring before they were forwarded to NATS (%s); "
		    "counting the loss until forwarding goes on", (unsigned long long)seq,
		    (unsigned long long)tail - 1, link_up(b) ? "NATS takes them too slowly" : "no link");
	b->out->lost += tail - seq;
	outbound_keep(b, tail - 1);
}

/* outbound_drop - one record that cannot be forwarded (rate-limited log). */
static void
outbound_drop(struct bridge *b, const struct ring_rec *rec, const char *why)
{
	uint64_t held;

	bridge_stat_add(&b->st->dropped_out, 1);
	if (!bridge_quiet_due(&b->quiet_out, b->now, &held))
		return;
	if (held == 0)
		log_warn("record %llu not forwarded to NATS: %s", (unsigned long long)rec->seq, why);
	else
		log_warn("record %llu not forwarded to NATS: %s (and %llu more since the last report)",
		    (unsigned long long)rec->seq, why, (unsigned long long)held);
}

/* outbound_copy - a record of the older half into the output buffer, kept only if still whole after. */
static void
outbound_copy(struct bridge *b, const struct ring_rec *rec, const char *head, size_t hlen, size_t plen)
{
	struct outbound *o = b->out;
	size_t mark = link_queued(b);

	if (link_queue(b, head, hlen) < 0 || link_queue(b, rec->bytes, plen) < 0 ||
	    link_queue(b, NATS_CRLF, 2) < 0)
		return;
	if (!ring_intact(&b->shm->ring, rec->off)) {
		link_unqueue(b, mark);
		outbound_drop(b, rec, "the ring overwrote it while it was copied");
		return;
	}
	o->nrec++;
	o->bytes += plen;
}

/* outbound_add - one local record into the batch: PUB line, payload, \r\n. */
static void
outbound_add(struct bridge *b, const struct ring_rec *rec)
{
	struct outbound *o = b->out;
	size_t slen, plen = rec->len - 1;
	char *head = o->heads + o->hused;
	long n, h;

	n = topics_name_copy(&b->shm->topics, rec->topic, rec->gen, o->name, sizeof(o->name));
	if (n < 0) {
		outbound_drop(b, rec, "its topic left the topic table before the bridge read its name");
		return;
	}
	if (subject_encode(&b->map, o->name, (size_t)n, o->subject, sizeof(o->subject), &slen) != SUBJECT_OK ||
	    (h = nats_put_pub(head, OUTBOUND_HEAD_MAX, o->subject, slen, plen)) < 0) {
		outbound_drop(b, rec, "its topic makes no NATS subject");
		return;
	}
	if (plen > b->link.max_payload) {
		outbound_drop(b, rec, "it is larger than the NATS server's max_payload");
		return;
	}
	if (o->nrec == 0)
		o->first_off = rec->off;
	if (o->copy) {
		outbound_copy(b, rec, head, (size_t)h, plen);
		return;
	}
	nats_pub_iov(&o->iov[o->niov], head, (size_t)h, rec->bytes, plen);
	o->niov += 3;
	o->hused += (size_t)h;
	o->bytes += plen;
	o->total += (size_t)h + plen + 2;
	o->nrec++;
}

/* outbound_gather - the next batch from b->done + 1, up to head; stops at a lost record after others. */
static void
outbound_gather(struct bridge *b, uint64_t head)
{
	struct outbound *o = b->out;
	struct ring *r = &b->shm->ring;
	struct ring_rec rec;
	uint64_t seq;

	o->niov = 0;
	o->hused = o->bytes = o->total = 0;
	o->nrec = 0;
	o->last = b->done;
	for (seq = b->done + 1; seq <= head; seq++) {
		if (o->nrec == OUTBOUND_RECS || o->bytes >= OUTBOUND_BYTES ||
		    o->hused + OUTBOUND_HEAD_MAX > OUTBOUND_HEADS)
			break;
		if (ring_get(r, seq, &rec) < 0) {
			if (o->nrec > 0)
				break;
			outbound_lost(b, seq);
			seq = o->last = b->done;
			continue;
		}
		o->last = seq;
		if (rec.flags & RING_REMOTE)
			continue;
		if (o->nrec == 0)
			o->copy = ring_lag(r, rec.off) > r->size / 2;
		outbound_add(b, &rec);
	}
}

/* outbound_queue_rest - what the socket did not take of the batch, from byte k on, to the output buffer. */
static void
outbound_queue_rest(struct bridge *b, size_t k)
{
	struct outbound *o = b->out;
	int i;

	for (i = 0; i < o->niov; i++) {
		if (k >= o->iov[i].iov_len) {
			k -= o->iov[i].iov_len;
			continue;
		}
		if (link_queue(b, (const char *)o->iov[i].iov_base + k, o->iov[i].iov_len - k) < 0)
			return;
		k = 0;
	}
}

/*
 * outbound_send - write the batch straight from the ring. -1 if the link
 * failed before anything was written (the batch is sent again on the next
 * link), 0 otherwise.
 */
static int
outbound_send(struct bridge *b)
{
	struct outbound *o = b->out;
	long k;

	if (o->copy || o->niov == 0)
		return 0;
	if ((k = link_writev(b, o->iov, o->niov)) < 0)
		return -1;
	if ((size_t)k < o->total)
		outbound_queue_rest(b, (size_t)k);
	if (!ring_intact(&b->shm->ring, o->first_off)) {
		bridge_stat_add(&b->st->dropped_out, o->nrec);
		o->nrec = 0;
		o->bytes = 0;
		link_fail(b, "the ring overwrote records while they were being sent; "
		    "closing the link so that no torn message goes on");
	}
	return 0;
}

void
outbound_run(struct bridge *b)
{
	struct outbound *o = b->out;
	uint64_t head = ring_head(&b->shm->ring);
	unsigned i;

	b->more = 0;
	for (i = 0; b->done < head; i++) {
		/*
		 * Flush here rather than stop on what is queued: if the socket
		 * took the rest by now, nothing else would wake the loop (no
		 * EPOLLOUT is watched for an empty buffer). Stopping only on a
		 * full socket leaves EPOLLOUT watched.
		 */
		if (!link_writable(b))
			link_flush(b);
		if (!link_writable(b)) {
			if (b->done + 1 < ring_tail(&b->shm->ring))
				outbound_lost(b, b->done + 1);
			return;
		}
		if (i == OUTBOUND_BATCHES) {
			b->more = 1;
			return;
		}
		outbound_gather(b, head);
		if (outbound_send(b) < 0)
			return;
		bridge_stat_add(&b->st->msgs_out, o->nrec);
		bridge_stat_add(&b->st->bytes_out, o->bytes);
		if (o->nrec > 0 && o->lost > 0) {
			log_notice("forwarding to NATS again; %llu records were lost",
			    (unsigned long long)o->lost);
			o->lost = 0;
		}
		outbound_keep(b, o->last);
	}
}
