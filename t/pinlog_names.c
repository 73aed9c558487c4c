/*
 * t/pinlog_names.c - unit test for what the cluster bridge reads of the
 * topic table: the pin log (shm/pinlog.c) and topics_name_copy, on a real
 * shared segment.
 *
 * Owns: the checks that a topic's first pin on the node appends one "on"
 * event with its id and gen and further pins by other workers none; that
 * the last unpin, and a dead worker's clearing, append "off"; that take
 * hands them out oldest first and in parts; that a full log drops events
 * and says so once; that names are copied for the right gen only, never
 * for an id evicted and reused, and not into too small a buffer; and
 * shm_publish_locked's result: the record, its flags, its prefix, the
 * workers to wake.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "shm/publish.h"
#include "t/tap.h"
#include "t/tseg.h"

static struct topics *tt;
static struct shm_pinlog *q;

static long
intern(const char *name)
{
	return seg_intern(name, (uint32_t)strlen(name));
}

/* take - up to cap events into ev; *lost from the log. */
static size_t
take(struct shm_pin_event *ev, size_t cap, int *lost)
{
	size_t n;

	seg_lock();
	n = pinlog_take_locked(q, ev, cap, lost);
	shm_unlock(&seg);
	return n;
}

static void
events_checks(void)
{
	struct shm_pin_event ev[8];
	long a = intern("alpha"), b = intern("beta");
	size_t n;
	int lost;

	n = take(ev, 8, &lost);
	tap_ok(n == 0 && lost, "a new log: nothing in it, and the reader is told to read the table");
	take(ev, 8, &lost);
	tap_ok(!lost, "told once");
	seg_pin(a, 0, SHM_NONE, 0);
	seg_pin(a, 1, SHM_NONE, 0);
	seg_pin(b, 1, SHM_NONE, 0);
	seg_unpin(a, 0);
	seg_unpin(a, 1);
	tap_is_int((long long)pinlog_head(q) - (long long)q->taken, 3,
	    "first pin of alpha, first of beta, last unpin of alpha: 3 events; other pins none");
	n = take(ev, 2, &lost);
	tap_ok(n == 2 && ev[0].id == (uint32_t)a && ev[0].on && ev[0].gen == topics_gen(tt, (uint32_t)a) &&
	    ev[1].id == (uint32_t)b && ev[1].on, "taken oldest first, with id, gen and on");
	n = take(ev, 8, &lost);
	tap_ok(n == 1 && ev[0].id == (uint32_t)a && !ev[0].on && !lost, "the rest next time: alpha off");
	seg_lock();
	topics_clear_worker_locked(tt, 1);
	shm_unlock(&seg);
	n = take(ev, 8, &lost);
	tap_ok(n == 1 && ev[0].id == (uint32_t)b && !ev[0].on, "a dead worker's topics go off");
}

static void
overflow_checks(void)
{
	struct shm_pin_event ev[8];
	long a = intern("gamma");
	size_t n;
	int i, lost;

	for (i = 0; i < SHM_PINLOG_EVENTS / 2 + 1; i++) {
		seg_pin(a, 0, SHM_NONE, 0);
		seg_unpin(a, 0);
	}
	tap_is_int((long long)(pinlog_head(q) - q->taken), SHM_PINLOG_EVENTS, "a full log takes no more");
	n = take(ev, 8, &lost);
	tap_ok(n == 8 && lost, "what overflowed is reported as lost");
	while (take(ev, 8, &lost) > 0)
		;
	seg_pin(a, 0, SHM_NONE, 0);
	n = take(ev, 8, &lost);
	tap_ok(n == 1 && ev[0].on && !lost, "then it works again");
	seg_unpin(a, 0);
	take(ev, 8, &lost);
}

static void
name_checks(void)
{
	char buf[64], big[CONF_TOPIC_MAX + 1];
	long id = intern("delta.topic"), other;
	uint32_t gen = topics_gen(tt, (uint32_t)id);
	int i, reused = 0;

	tap_is_int(topics_name_copy(tt, (uint32_t)id, gen, buf, sizeof(buf)), 11, "the name of a live topic");
	tap_is_mem(buf, 11, "delta.topic", 11, "its bytes");
	tap_is_int(topics_name_copy(tt, (uint32_t)id, gen + 1, buf, sizeof(buf)), -1, "not for another gen");
	tap_is_int(topics_name_copy(tt, (uint32_t)id, gen, buf, 4), -1, "not into a buffer too small");
	tap_is_int(topics_name_copy(tt, UINT32_MAX, gen, buf, sizeof(buf)), -1, "not for an id out of range");
	/* 16 topics: new names evict the unpinned ones, delta.topic among them */
	for (i = 0; i < 40; i++) {
		snprintf(big, sizeof(big), "filler-%d", i);
		other = intern(big);
		reused += other == id;
	}
	tap_ok(reused > 0, "delta.topic's id was evicted and reused");
	tap_is_int(topics_name_copy(tt, (uint32_t)id, gen, buf, sizeof(buf)), -1,
	    "the old gen of the reused id has no name any more");
}

static void
publish_checks(void)
{
	static const char remote[] = "{\"timestamp\":[1,2,3],\"topic\":\"eps\",\"x\":1}";
	struct shm_msg m = { .topic = "eps", .topic_len = 3, .prefix = remote, .pfx = 21,
	    .rest = remote + 21, .rest_len = sizeof(remote) - 1 - 21, .flags = RING_REMOTE };
	struct ring_rec rec;
	uint32_t workers = 0;
	uint64_t seq = 0;
	long id = intern("eps");

	seg_pin(id, 1, SHM_NONE, 0);
	seg_lock();
	tap_is_int(shm_publish_locked(&seg, &m, &seq, &workers), SHM_PUB_OK, "a remote message is published");
	shm_unlock(&seg);
	tap_ok(ring_get(&seg.ring, seq, &rec) == 0 && rec.len == sizeof(remote) &&
	    memcmp(rec.bytes, remote, sizeof(remote) - 1) == 0 && rec.bytes[rec.len - 1] == '\1',
	    "its record: the bytes as they came, then \\1");
	tap_ok(rec.flags == RING_REMOTE && rec.pfx == 21 && rec.topic == (uint32_t)id,
	    "flagged remote, with the prefix length given, under its topic");
	tap_is_int(workers, 2, "worker 1, which subscribes, is to be woken");
	m.prefix = NULL;
	m.flags = 0;
	seg_lock();
	shm_publish_locked(&seg, &m, &seq, &workers);
	shm_unlock(&seg);
	tap_ok(ring_get(&seg.ring, seq, &rec) == 0 && rec.flags == 0 &&
	    strncmp(rec.bytes, "{\"timestamp\":[", 14) == 0 && rec.bytes[rec.pfx - 1] == ',' &&
	    memcmp(rec.bytes + rec.pfx, remote + 21, sizeof(remote) - 1 - 21) == 0,
	    "a local one is stamped now");
	m.rest_len = seg.ring.size / 4;
	seg_lock();
	tap_is_int(shm_publish_locked(&seg, &m, &seq, &workers), SHM_PUB_TOO_LARGE,
	    "a quarter of the ring is too large");
	shm_unlock(&seg);
	seg_unpin(id, 1);
}

int
main(void)
{
	tap_plan(6 + 3 + 7 + 6);
	seg_create();
	tt = &seg.topics;
	q = &seg.hdr->pinlog;
	events_checks();
	overflow_checks();
	name_checks();
	publish_checks();
	return tap_done();
}
