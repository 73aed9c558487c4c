/*
 * shm/topics.h - the topic table in the shared segment.
 *
 * Owns: interning topic names to small dense ids, the per-topic
 * per-worker subscriber counts that decide which workers a publish
 * wakes, and giving ids back when nobody needs them. Changes happen
 * under the segment lock (the _locked functions); counts are read
 * without it. Must not know about connections or the ring's bytes.
 */
#ifndef JANUSD_SHM_TOPICS_H
#define JANUSD_SHM_TOPICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "shm/layout.h"

struct topics {
	struct shm_topics_ctl *ctl;
	_Atomic uint32_t *index;
	struct shm_topic *tab;
	uint32_t mask;         /* index slots - 1 */
	uint32_t max;          /* entries */
};

void topics_bind(struct topics *t, struct shm_header *h);
void topics_format(struct topics *t, uint64_t seed);

/*
 * topics_intern_locked - the id of a topic name, created if new. When the
 * table is full, first gives back topics with no subscribers whose
 * records have all left the ring (last_seq < tail). Returns -1 if it is
 * still full.
 */
long topics_intern_locked(struct topics *t, const char *name, uint32_t len,
    uint64_t tail);

/* topics_find_locked - the id of an existing topic, or -1. */
long topics_find_locked(const struct topics *t, const char *name, uint32_t len);

/* topics_sub_locked - add delta to a worker's subscriber count; returns the new count. */
uint32_t topics_sub_locked(struct topics *t, uint32_t id, unsigned worker, int delta);

/* topics_published_locked - note that seq (about to be committed) is id's newest record. */
void topics_published_locked(struct topics *t, uint32_t id, uint64_t seq);

/* topics_clear_worker_locked - a worker died: drop all its subscriptions. */
void topics_clear_worker_locked(struct topics *t, unsigned worker);

/*
 * topics_repair_locked - after a writer died holding the lock: give back
 * half-interned entries and rebuild the index and free list from the
 * entries. Returns the number of entries given back.
 */
unsigned topics_repair_locked(struct topics *t);

/* topics_has_subs - whether worker has subscribers to id (no lock). */
static inline int
topics_has_subs(const struct topics *t, uint32_t id, unsigned worker)
{
	return atomic_load_explicit(&t->tab[id].subs[worker], memory_order_relaxed) != 0;
}

#endif
