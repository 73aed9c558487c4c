/*
 * worker/publish.c - messages from this worker's publishers into the ring.
 *
 * Owns: what worker/publish.h says. The message's body was validated and
 * rendered while its frame was parsed (proto/request.c); under the lock
 * shm/publish.c interns the topic, renders the timestamp prefix straight
 * into the ring record and copies the body after it, so the lock is held
 * for a copy, not a JSON walk. The workers with subscribers to the topic,
 * and the cluster bridge if there is one, are noted for waking at the end
 * of the loop pass; so is the bridge when any topic's interest changed.
 * A publish that would give up a record a worker's reading subscribers
 * still need (shm_worker.need) waits, unless forced (worker/session.c
 * decides, by pace_timeout).
 * Must not deliver anything: fan-out reads the ring like every worker.
 */
#include "config.h"

#include "lib/clock.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "proto/render.h"
#include "shm/publish.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/publish.h"

int
publish_allowed(const struct worker *w, const struct conn *c)
{
	return (c->flags & CONN_NET_PUB) ||
	    (w->conf.publish_key[0] != '\0' && (c->flags & CONN_AUTHED));
}

static const char publish_wait[] = "reading subscribers still need the room";

/*
 * publish_locked - r's message into the ring; NULL or an error text
 * (table_full: every topic pinned; publish_wait: it must wait, unless
 * forced).
 */
static const char *
publish_locked(struct worker *w, const struct request *r, int force, uint64_t *seq,
    int *table_full)
{
	struct shm_msg m = {
		.topic = r->topic, .topic_len = r->topic_len,
		.rest = r->members, .rest_len = r->members_len - 1,  /* without its \1 */
		.may_wait = !force,
	};
	uint32_t workers = 0;

	switch (shm_publish_locked(w->shm, &m, seq, &workers)) {
	case SHM_PUB_WAIT:
		return publish_wait;
	case SHM_PUB_TOO_LARGE:
		return "message too large for the ring (ring_size must be 4 x max_frame)";
	case SHM_PUB_TABLE_FULL:
		*table_full = 1;
		return "too many topics (max_topics): every one has subscribers";
	case SHM_PUB_OK:
		break;
	}
	w->wake_mask |= workers;
	if (w->efds[w->nworkers] >= 0)
		w->wake_mask |= shm_wake_bridge(w->nworkers);
	return NULL;
}

void
publish_interest(struct worker *w)
{
	uint64_t head = pinlog_head(&w->shm->hdr->pinlog);

	if (head == w->pinlog_seen)
		return;
	w->pinlog_seen = head;
	if (w->efds[w->nworkers] >= 0)
		w->wake_mask |= shm_wake_bridge(w->nworkers);
}

int
publish_message(struct worker *w, struct conn *c, const struct request *r, int force)
{
	const char *err;
	char buf[64];
	uint64_t seq = 0;
	int table_full = 0;
	long n;

	fault_context(r->topic, r->topic_len);
	shm_lock_or_exit(w->shm);
	err = publish_locked(w, r, force, &seq, &table_full);
	shm_unlock(w->shm);
	if (err == publish_wait)
		return PUBLISH_WAIT;
	if (err != NULL) {
		if (table_full)
			conn_refused(w, c, REFUSE_TABLE_FULL, "publish: every topic of the table has subscribers");
		return deliver_error(w, c, ERR_LIMIT, err);
	}
	stat_add(&w->stats->published, 1);
	if (!r->ack)
		return 0;
	n = render_published(buf, sizeof(buf), seq);
	return deliver_reply(w, c, buf, (size_t)n);
}
