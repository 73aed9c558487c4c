/*
 * bridge/inbound.c - messages from NATS into this node's ring.
 *
 * Owns: what bridge/inbound.h says. Each message takes the lock once,
 * for the copy into the ring; the workers are woken once per loop pass
 * for all that came in (the loop calls shm_wake with b->wake_mask).
 * Must not write to NATS.
 */
#include "config.h"

#include "lib/log.h"
#include "proto/render.h"
#include "shm/publish.h"
#include "bridge/inbound.h"
#include "bridge/interest.h"

/* inbound_log - a dropped message, and how many more were dropped without a line of their own. */
static void
inbound_log(const char *subject, size_t len, const char *why, uint64_t held)
{
	if (held == 0)
		log_warn("a message from NATS on '%.*s' was dropped: %s", (int)(len < 200 ? len : 200),
		    subject, why);
	else
		log_warn("a message from NATS on '%.*s' was dropped: %s (and %llu more since the last report)",
		    (int)(len < 200 ? len : 200), subject, why, (unsigned long long)held);
}

/* inbound_refuse - count a message that is not a node's, and say so at most once a second. */
static void
inbound_refuse(struct bridge *b, const struct nats_op *op, const char *why)
{
	uint64_t held;

	bridge_stat_add(&b->st->malformed, 1);
	if (bridge_quiet_due(&b->quiet_in, b->now, &held))
		inbound_log(op->subject, op->subject_len, why, held);
}

/* inbound_publish - the checked message into the ring; the workers that read its topic are to be woken. */
static void
inbound_publish(struct bridge *b, const char *topic, size_t tlen, const struct nats_op *op,
    uint32_t pfx)
{
	struct shm_msg m = {
		.topic = topic, .topic_len = (uint32_t)tlen,
		.prefix = op->data, .pfx = pfx,
		.rest = op->data + pfx, .rest_len = op->len - pfx,
		.flags = RING_REMOTE,
	};
	enum shm_pub_result r;
	uint32_t workers = 0;
	uint64_t seq, held;

	shm_lock_or_exit(b->shm);
	r = shm_publish_locked(b->shm, &m, &seq, &workers);
	shm_unlock(b->shm);
	if (r != SHM_PUB_OK) {
		bridge_stat_add(&b->st->dropped_in, 1);
		if (bridge_quiet_due(&b->quiet_in, b->now, &held))
			inbound_log(op->subject, op->subject_len, r == SHM_PUB_TOO_LARGE ?
			    "larger than a quarter of ring_size" :
			    "the topic table is full of topics with subscribers", held);
		return;
	}
	b->wake_mask |= workers;
	bridge_stat_add(&b->st->msgs_in, 1);
	bridge_stat_add(&b->st->bytes_in, op->len);
}

int
inbound_msg(void *ctx, const struct nats_op *op)
{
	struct bridge *b = ctx;
	char topic[CONF_TOPIC_MAX];
	const char *why;
	enum subject_err e;
	size_t tlen;
	long pfx;

	e = subject_decode(&b->map, op->subject, op->subject_len, topic, sizeof(topic), &tlen);
	if (e != SUBJECT_OK || tlen == 0) {
		inbound_refuse(b, op, e != SUBJECT_OK ? subject_strerror(e) : "an empty topic");
		return 0;
	}
	if (!interest_accepts(b, op->subject, op->subject_len, topic, tlen, op->sid))
		return 0;
	if (op->len == 0 || (pfx = render_check_message(op->data, op->len, &why)) < 0) {
		inbound_refuse(b, op, op->len == 0 ? "an empty payload" : why);
		return 0;
	}
	inbound_publish(b, topic, tlen, op, (uint32_t)pfx);
	return 0;
}
