/*
 * worker/fanout.c - from the shared ring to this worker's subscribers.
 *
 * Owns: the worker's position in the ring (w->done) and waking other
 * workers. Each pass takes up to WORKER_BATCH new records, groups them by
 * topic, builds the iovecs for a topic once, and hands the same iovecs to
 * every subscriber of that topic that is up to date: one writev per
 * subscriber, straight from the ring, no copy. A subscriber that is not
 * up to date (socket full, several topics, or a subscription newer than
 * the records) is left to its cursor, which worker/out.c serves.
 * Must not parse client input or change subscriptions.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "worker/worker.h"

/* fanout_collect - records from..to grouped by local topic; -1 if one is gone. */
static int
fanout_collect(struct worker *w, uint64_t from, uint64_t to)
{
	struct ltopic *lt;
	struct batch_rec *b;
	uint32_t n = 0, k = 0, i, t;
	uint64_t s;

	w->ntouched = 0;
	for (s = from; s <= to; s++) {
		b = &w->batch[n];
		if (ring_get(&w->shm->ring, s, &b->rec) < 0)
			return -1;
		lt = b->rec.topic < w->shm->hdr->max_topics ? w->topics[b->rec.topic] : NULL;
		if (lt == NULL)
			continue;
		b->next = UINT32_MAX;
		if (lt->bn == 0) {
			w->touched[w->ntouched++] = lt;
			lt->bfirst = n;
			lt->bbytes = 0;
		} else {
			w->batch[lt->blast].next = n;
		}
		lt->blast = n;
		lt->bn++;
		lt->bbytes += b->rec.len;
		n++;
	}
	for (t = 0; t < w->ntouched; t++) {
		lt = w->touched[t];
		i = lt->bfirst;
		lt->bfirst = k;
		for (; i != UINT32_MAX; i = w->batch[i].next)
			w->sorted[k++] = w->batch[i].rec;
	}
	return 0;
}

/* fanout_needs_cursor - c cannot take this topic's records as they are. */
static int
fanout_needs_cursor(const struct conn *c, uint64_t first)
{
	return (c->flags & (CONN_BEHIND | CONN_BLOCKED)) || c->nsubs > 1 ||
	    c->subs[0].after >= first || c->part != NULL || c->nctl > 0;
}

/* fanout_topic - one topic's records of this pass to each of its subscribers. */
static void
fanout_topic(struct worker *w, struct ltopic *lt, uint64_t first_seq)
{
	const struct ring_rec *recs = &w->sorted[lt->bfirst];
	struct out_batch *b;
	uint32_t off, n, i;
	struct conn *c;
	int built[2];

	for (off = 0; off < lt->bn; off += n) {
		n = lt->bn - off < OUT_BATCH_RECS ? lt->bn - off : OUT_BATCH_RECS;
		built[0] = built[1] = 0;
		for (i = 0; i < lt->n; i++) {
			c = lt->subs[i];
			if (c->flags & (CONN_CLOSING | CONN_WDEAD))
				continue;
			if (off == 0 && fanout_needs_cursor(c, recs[0].seq)) {
				out_behind(w, c, first_seq);
				c->owed += lt->bbytes;
				continue;
			}
			if (c->flags & CONN_BEHIND)
				continue;
			b = w->fan[(c->flags & CONN_V2) != 0];
			if (!built[b == w->fan[1]]) {
				out_batch_build(b, recs + off, n, b == w->fan[1]);
				built[b == w->fan[1]] = 1;
			}
			out_send_batch(w, c, b);
		}
	}
	lt->bn = 0;
}

/* fanout_behind - serve connections left to their cursors, or check how far behind they are. */
static void
fanout_behind(struct worker *w)
{
	struct link *l, *next;
	struct conn *c;

	for (l = w->behind.next; l != &w->behind; l = next) {
		next = l->next;
		c = list_entry(l, struct conn, behind);
		if (c->flags & (CONN_CLOSING | CONN_WDEAD))
			continue;
		if (c->flags & CONN_BLOCKED)
			out_check_lag(w, c);
		else
			out_flush(w, c);
	}
}

/*
 * fanout_lost - this worker itself fell behind the ring (records left it
 * before it fanned them out): every subscriber goes to its cursor, which
 * reports or closes per the slow-consumer policy.
 */
static void
fanout_lost(struct worker *w)
{
	struct conn *c;
	uint32_t fd;

	log_warn("fell behind the ring at sequence %llu; subscribers will be told or closed",
	    (unsigned long long)w->done + 1);
	for (fd = 0; fd < w->nfd; fd++) {
		c = w->byfd[fd];
		if (c != NULL && c->nsubs > 0)
			out_behind(w, c, w->done + 1);
	}
}

void
fanout_run(struct worker *w)
{
	uint64_t head = ring_head(&w->shm->ring), end;
	uint32_t t;

	while (w->done < head) {
		end = head - w->done > WORKER_BATCH ? w->done + WORKER_BATCH : head;
		if (fanout_collect(w, w->done + 1, end) < 0) {
			for (t = 0; t < w->ntouched; t++)
				w->touched[t]->bn = 0;
			fanout_lost(w);
			w->done = head;
		} else {
			for (t = 0; t < w->ntouched; t++)
				fanout_topic(w, w->touched[t], w->done + 1);
			w->done = end;
		}
		fanout_behind(w);
	}
}

/* fanout_wake - tell the workers this pass published to that they have records. */
void
fanout_wake(struct worker *w)
{
	static const uint64_t one = 1;
	unsigned i;

	if (w->wake_mask == 0)
		return;
	/*
	 * Pairs with the fence in worker_wake: our committed records are seen
	 * by a worker that clears its flag, or we see the flag still set.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < w->nworkers && w->wake_mask != 0; i++) {
		if (!(w->wake_mask & (UINT64_C(1) << i)))
			continue;
		w->wake_mask &= ~(UINT64_C(1) << i);
		if (i == w->slot || atomic_exchange(&w->shm->hdr->workers[i].wake, 1) != 0)
			continue;
		if (write(w->efds[i], &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_error("write() to worker %u's eventfd failed: %s", i, strerror(errno));
	}
}
