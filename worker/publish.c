/*
 * worker/publish.c - messages from this worker's publishers into the ring.
 *
 * Owns: the publish policy check and the one write of each message: the
 * message is rendered, timestamp and all, directly into its ring record
 * under the lock, and the workers with subscribers to its topic are
 * noted for waking at the end of the loop pass.
 * Must not deliver anything: fan-out reads the ring like every worker.
 */
#include "config.h"

#include "lib/clock.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "proto/render.h"
#include "worker/worker.h"

int
publish_allowed(const struct worker *w, const struct conn *c)
{
	return (c->flags & CONN_NET_PUB) ||
	    (w->conf.publish_key[0] != '\0' && (c->flags & CONN_AUTHED));
}

/* publish_wake_mask - the workers with subscribers to topic id. */
static uint64_t
publish_wake_mask(const struct worker *w, uint32_t id)
{
	uint64_t mask = 0;
	unsigned i;

	for (i = 0; i < w->nworkers; i++)
		if (topics_has_subs(&w->shm->topics, id, i))
			mask |= UINT64_C(1) << i;
	return mask;
}

/* publish_locked - intern, render into the ring, commit; 0 or an error text. */
static const char *
publish_locked(struct worker *w, const struct request *r, uint64_t *seq)
{
	struct shm *s = w->shm;
	uint32_t maxlen = (uint32_t)(RENDER_PREFIX_MAX + r->body_len + 2), pfx;
	long id, n;
	char *dst;

	if (maxlen > s->ring.size / 4)
		return "message too large for the ring (ring_size must be 4 x max_frame)";
	id = topics_intern_locked(&s->topics, r->topic, r->topic_len, ring_tail(&s->ring));
	if (id < 0)
		return "too many topics (max_topics)";
	dst = ring_reserve_locked(&s->ring, maxlen);
	n = render_message(dst, maxlen, clock_wall_usec(), r->body, r->body_len,
	    r->part1 ? NULL : request_control_members, &pfx);
	if (n < 0)
		return "message has no members to deliver";
	/* last_seq before the commit: a topic must never look older than its records */
	topics_published_locked(&s->topics, (uint32_t)id, ring_head(&s->ring) + 1);
	*seq = ring_commit_locked(&s->ring, (uint32_t)n, (uint32_t)id, pfx);
	w->wake_mask |= publish_wake_mask(w, (uint32_t)id);
	return NULL;
}

/* publish_message - put r's message in the ring; reply if asked. Returns -1 if c closed. */
int
publish_message(struct worker *w, struct conn *c, const struct request *r)
{
	const char *err;
	char buf[64];
	uint64_t seq = 0;
	long n;

	fault_context(r->topic, r->topic_len);
	if (shm_lock(w->shm) < 0)
		return out_error(w, c, ERR_LIMIT, "the ring cannot take messages (lock failed)");
	err = publish_locked(w, r, &seq);
	shm_unlock(w->shm);
	if (err != NULL)
		return out_error(w, c, ERR_LIMIT, err);
	stat_add(&w->stats->published, 1);
	if (!r->ack)
		return 0;
	n = render_published(buf, sizeof(buf), seq);
	return out_reply(w, c, buf, (size_t)n);
}
