/*
 * worker/fanout.c - from the shared ring to this worker's subscribers.
 *
 * Owns: w->done and struct fanout. Each pass takes up to FANOUT_PASS new
 * records and groups them by topic; for each topic, batches of its
 * records are built once per kind of connection (transport and protocol
 * version) and handed unchanged to every subscriber that is up to date:
 * one write per subscriber, straight from the ring, no copy, which the
 * write path may queue (io_uring: every subscriber's entry of a chunk,
 * submitted together); a chunk's writes are settled before its batches
 * are built over. Who is up to date, and what happens to the others, is
 * worker/deliver.c's call.
 * Must not parse client input or change subscriptions.
 */
#include "config.h"

#include <stdlib.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "shm/stats.h"
#include "shm/publish.h"
#include "worker/batch.h"
#include "worker/deliver.h"
#include "worker/fanout.h"
#include "worker/transport.h"
#include "worker/wild.h"

#define FANOUT_PASS  1024              /* ring records per pass */
#define FANOUT_HASH  (2 * FANOUT_PASS) /* open addressing over topic ids, half full at most */
#define FANOUT_KINDS 4                 /* batches built per chunk: transports x versions */

/* One topic's records of this pass: a chain through rec_next, then a run of sorted. */
struct fanout_topic {
	uint32_t id;
	struct ltopic *lt;                 /* its exact subscribers here, or NULL */
	const struct wcache *wc;           /* those its patterns reach, or NULL */
	uint32_t first, last;              /* chain ends in recs (collect), then sorted's run */
	uint32_t n;
	uint64_t bytes;
};

struct fanout {
	struct ring_rec recs[FANOUT_PASS];       /* this pass's records in ring order */
	uint32_t rec_next[FANOUT_PASS];          /* next record of the same topic, or UINT32_MAX */
	struct ring_rec sorted[FANOUT_PASS];     /* the same, grouped by topic */
	struct fanout_topic topics[FANOUT_PASS]; /* the topics touched, in order of first record */
	uint32_t ntopics;
	uint32_t nrecs;                          /* records in recs (those with recipients here) */
	uint32_t hash[FANOUT_HASH];              /* topic id -> index in topics + 1; 0 empty */
	uint32_t pass;                           /* numbers the passes, for the conns' fan_* stamps */
	struct batch *kind[FANOUT_KINDS];        /* this chunk's batches, built when first needed */
	uint32_t nkinds;
};

int
fanout_init(struct worker *w)
{
	struct fanout *f = calloc(1, sizeof(*f));
	unsigned i;

	if (f == NULL)
		goto fail;
	w->fan = f;
	for (i = 0; i < FANOUT_KINDS; i++)
		if ((f->kind[i] = malloc(sizeof(*f->kind[i]))) == NULL)
			goto fail;
	return 0;
fail:
	log_error("out of memory for the fan-out scratch");
	return -1;
}

/* fanout_slot - the hash slot for topic id: where it is, or the empty slot where it goes. */
static uint32_t *
fanout_slot(struct fanout *f, uint32_t id)
{
	uint32_t i = (id * 0x9e3779b1u) & (FANOUT_HASH - 1), *s;

	for (;; i = (i + 1) & (FANOUT_HASH - 1)) {
		s = &f->hash[i];
		if (*s == 0 || f->topics[*s - 1].id == id)
			return s;
	}
}

/* fanout_clear - forget this pass's topics (only the slots that were used). */
static void
fanout_clear(struct fanout *f)
{
	uint32_t t;

	for (t = 0; t < f->ntopics; t++)
		*fanout_slot(f, f->topics[t].id) = 0;
	f->ntopics = 0;
}

/* fanout_note - record k of this pass goes to lt's subscribers and those wc reaches. */
static void
fanout_note(struct fanout *f, uint32_t id, struct ltopic *lt, const struct wcache *wc, uint32_t k)
{
	uint32_t *slot = fanout_slot(f, id);
	struct fanout_topic *t;

	f->rec_next[k] = UINT32_MAX;
	if (*slot == 0) {
		t = &f->topics[f->ntopics++];
		*t = (struct fanout_topic){ .id = id, .lt = lt, .wc = wc, .first = k, .last = k };
		*slot = f->ntopics;
	} else {
		t = &f->topics[*slot - 1];
		f->rec_next[t->last] = k;
		t->last = k;
	}
	t->n++;
	t->bytes += f->recs[k].len;
}

/* fanout_collect - records from..to grouped by local topic; -1 if one is gone. */
static int
fanout_collect(struct worker *w, uint64_t from, uint64_t to)
{
	struct fanout *f = w->fan;
	const struct wcache *wc;
	struct ltopic *lt;
	struct ring_rec *r;
	uint32_t n = 0, k = 0, i, t;
	uint64_t s;

	for (s = from; s <= to; s++) {
		r = &f->recs[n];
		if (ring_get(&w->shm->ring, s, r) < 0)
			return -1;
		if (r->topic >= w->shm->hdr->max_topics)
			continue;
		lt = w->topics[r->topic];
		/* an id's earlier life (evicted, then reused) is not this topic */
		if (lt != NULL && lt->gen != r->gen)
			lt = NULL;
		wc = wild_topic(w, r->topic, r->gen);
		if (lt != NULL || wc != NULL)
			fanout_note(f, r->topic, lt, wc, n++);
	}
	for (t = 0; t < f->ntopics; t++) {
		i = f->topics[t].first;
		f->topics[t].first = k;
		for (; i != UINT32_MAX; i = f->rec_next[i])
			f->sorted[k++] = f->recs[i];
	}
	f->nrecs = n;
	return 0;
}

/* fanout_delays - the pass is done: how long each of its records took from commit to here. */
static void
fanout_delays(struct worker *w)
{
	uint64_t now = clock_mono_usec();
	uint32_t i;

	for (i = 0; i < w->fan->nrecs; i++)
		stats_delay_note(w->stats, now > w->fan->recs[i].commit_us ? now - w->fan->recs[i].commit_us : 0);
}

/* fanout_batch - this chunk's batch for c's kind of connection, built on first use. */
static const struct batch *
fanout_batch(struct fanout *f, const struct conn *c, const struct ring_rec *recs, uint32_t n)
{
	int v2 = (c->flags & CONN_V2) != 0;
	struct batch *b;
	uint32_t i;

	for (i = 0; i < f->nkinds; i++)
		if (f->kind[i]->tp == c->tp && f->kind[i]->v2 == v2)
			return f->kind[i];
	b = f->kind[f->nkinds++];
	batch_build(b, c->tp, v2, recs, n);
	return b;
}

/* fanout_count_one - c gets topic k of this pass: count it once per topic. */
static void
fanout_count_one(struct fanout *f, struct conn *c, uint32_t k)
{
	if (c->fan_pass != f->pass) {
		c->fan_pass = f->pass;
		c->fan_topics = 0;
		c->fan_last = UINT32_MAX;
	}
	if (c->fan_last != k) {
		c->fan_last = k;
		c->fan_topics++;
	}
}

/*
 * fanout_count - how many of this pass's topics each recipient gets. Only
 * one that gets a single topic can take that topic's batches as they are:
 * a write cut short in one topic's batch puts the connection on a cursor
 * there, which must not pass over another topic's records it has not had.
 */
static void
fanout_count(struct fanout *f)
{
	const struct fanout_topic *t;
	uint32_t k, i;

	f->pass++;
	for (k = 0; k < f->ntopics; k++) {
		t = &f->topics[k];
		for (i = 0; t->lt != NULL && i < t->lt->n; i++)
			fanout_count_one(f, t->lt->subs[i], k);
		for (i = 0; t->wc != NULL && i < t->wc->n; i++)
			fanout_count_one(f, t->wc->m[i].c, k);
	}
}

/* fanout_chunk - one chunk of topic k's records to each of its recipients. */
static void
fanout_chunk(struct worker *w, const struct fanout_topic *t, uint32_t off, uint32_t n,
    uint64_t pass_from)
{
	struct fanout *f = w->fan;
	const struct ring_rec *recs = &f->sorted[t->first + off];
	uint32_t nlt = t->lt != NULL ? t->lt->n : 0, all = nlt + (t->wc != NULL ? t->wc->n : 0), i;
	struct conn *c;
	uint64_t after;
	int take;

	f->nkinds = 0;
	for (i = 0; i < all; i++) {
		if (i < nlt) {
			c = t->lt->subs[i];
			after = conn_sub(c, t->id)->after;
		} else {
			c = t->wc->m[i - nlt].c;
			after = t->wc->m[i - nlt].after;
			if (nlt > 0 && conn_sub(c, t->id) != NULL)
				continue;  /* its exact subscription brought it the topic already */
		}
		take = off == 0 ? deliver_offer(w, c, &f->sorted[t->first], pass_from, t->bytes, after,
		    c->fan_topics == 1) : deliver_ready(c);
		if (take)
			deliver_batch(w, c, fanout_batch(f, c, recs, n));
	}
	deliver_settle(w);
}

/*
 * fanout_topic - one topic's records of this pass to each of its
 * recipients, in chunks of BATCH_RECS. Whether a recipient can share the
 * batches is asked once, at the first chunk (off == 0): one that cannot
 * is put on its cursor there and gets all of this pass's records from
 * it; one that can stays able for the later chunks unless a write cut it
 * short, which makes it behind (deliver_ready says so).
 */
static void
fanout_topic(struct worker *w, const struct fanout_topic *t, uint64_t pass_from)
{
	uint32_t off, n;

	for (off = 0; off < t->n; off += n) {
		n = t->n - off < BATCH_RECS ? t->n - off : BATCH_RECS;
		fanout_chunk(w, t, off, n, pass_from);
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
		if (c != NULL && (c->nsubs > 0 || c->pats != NULL))
			deliver_from(w, c, w->done + 1);
	}
}

void
fanout_run(struct worker *w)
{
	uint64_t head = ring_head(&w->shm->ring), end;
	uint32_t t;

	while (w->done < head) {
		end = head - w->done > FANOUT_PASS ? w->done + FANOUT_PASS : head;
		if (fanout_collect(w, w->done + 1, end) < 0) {
			fanout_lost(w);
			w->done = head;
		} else {
			fanout_count(w->fan);
			for (t = 0; t < w->fan->ntopics; t++)
				fanout_topic(w, &w->fan->topics[t], w->done + 1);
			fanout_delays(w);
			w->done = end;
		}
		fanout_clear(w->fan);
		deliver_behind(w);
	}
	wild_report(w);
}

void
fanout_wake(struct worker *w)
{
	shm_wake(w->shm, w->efds, w->nworkers, w->wake_mask, w->slot);
	w->wake_mask = 0;
}
