/*
 * shm/topics.h - the topic table in the shared segment.
 *
 * Owns: interning topic names to small ids (with a generation, since ids
 * are reused), which workers have subscribers to a topic (a bit per
 * worker: publishers wake only those), charging the address that pins a
 * topic, the least-recently-published list of unpinned topics that are
 * evicted when room is needed, and the name heap. 64 bytes a topic,
 * plus a hash chain head and the name rounded up to SHM_NAME_UNIT.
 * Changes happen under the segment lock (the _locked functions); the
 * worker bits, gens and last records are read without it.
 * Must not know about connections or the ring's bytes.
 */
#ifndef JANUSD_SHM_TOPICS_H
#define JANUSD_SHM_TOPICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "shm/addrs.h"
#include "shm/layout.h"
#include "shm/pinlog.h"

struct topics {
	struct shm_topics_ctl *ctl;
	_Atomic uint32_t *bucket;
	struct shm_topic *tab;
	char *names;
	uint32_t mask;             /* buckets - 1 */
	uint32_t max;              /* entries */
	uint32_t name_units;       /* heap size, in SHM_NAME_UNITs */
	struct addrs *addrs;       /* where pinning is charged */
	struct shm_pinlog *pinlog; /* where pins and unpins are told to the bridge */
};

void topics_bind(struct topics *t, struct shm_header *h, struct addrs *a);
void topics_format(struct topics *t, uint64_t seed);

/* topics_find_locked - the id of an existing topic, or -1. */
long topics_find_locked(const struct topics *t, const char *name, uint32_t len);

/*
 * topics_intern_locked - the id of a topic name, created if new. When
 * there is no room, the least recently published unpinned topic is
 * evicted (at once, however new its records: they are recognised by
 * their gen). Returns -1 only when every topic is pinned, in O(1).
 */
long topics_intern_locked(struct topics *t, const char *name, uint32_t len);

/*
 * topics_published_locked - seq, about to be committed, is id's newest
 * record; returns the record before it (0 if none), for the ring's links.
 * An unpinned topic moves to the recent end of the eviction list.
 */
uint64_t topics_published_locked(struct topics *t, uint32_t id, uint64_t seq);

/*
 * topics_pin_locked - worker has its first subscriber to id. If nobody
 * else had one, the topic is pinned and the address entry owner (or
 * SHM_NONE) is charged for it, unless that would be more than quota
 * topics (0: no quota): then nothing changes and -1 is returned.
 */
int topics_pin_locked(struct topics *t, uint32_t id, unsigned worker, uint32_t owner,
    uint32_t quota);

/* topics_would_charge_locked - whether pinning id on worker would charge its owner (it is new or unpinned). */
int topics_would_charge_locked(const struct topics *t, long id);

/* topics_unpin_locked - worker's last subscriber to id left. */
void topics_unpin_locked(struct topics *t, uint32_t id, unsigned worker);

/* topics_clear_worker_locked - a worker died: it has no subscribers any more. */
void topics_clear_worker_locked(struct topics *t, unsigned worker);

/*
 * topics_repair_locked - after a writer died holding the lock: give back
 * half-interned entries and rebuild the chains, the eviction list, the
 * free lists and the address charges from the entries. Returns the
 * number of entries given back.
 */
unsigned topics_repair_locked(struct topics *t);

/*
 * Patterns (PROTOCOL.md Part 4). A pattern is interned and pinned like a
 * topic, flagged TOPIC_F_PATTERN, so quotas, eviction and the cluster's
 * interest treat it alike; matching is each worker's own (its trie). For
 * publishers to wake only the workers whose patterns match a topic, each
 * topic caches, per worker, whether that worker's patterns were matched
 * against it and whether one matched; the cache belongs to one pattern
 * epoch, which moves whenever any worker's patterns change.
 */

/* topics_mark_pattern_locked - id (just interned) names a pattern. */
void topics_mark_pattern_locked(struct topics *t, uint32_t id);

/* topics_is_pattern - whether id names a pattern (no lock). */
static inline int
topics_is_pattern(const struct topics *t, uint32_t id)
{
	return (t->tab[id].flags & TOPIC_F_PATTERN) != 0;
}

/* topics_patterns_changed_locked - worker's patterns changed; has: it holds any now. */
void topics_patterns_changed_locked(struct topics *t, unsigned worker, int has);

/* topics_pattern_result_locked - worker matched its patterns against (id, gen) of epoch: match or not. */
void topics_pattern_result_locked(struct topics *t, uint32_t id, uint32_t gen, uint32_t epoch,
    unsigned worker, int match);

/* topics_pattern_epoch - the epoch a worker's results are for (read under the lock). */
static inline uint32_t
topics_pattern_epoch(const struct topics *t)
{
	return t->ctl->pat_epoch;
}

/*
 * topics_wake_locked - the workers a record of id must wake: those with
 * subscribers to it, those whose patterns matched it, and those with
 * patterns that were not matched against it yet.
 */
uint32_t topics_wake_locked(const struct topics *t, uint32_t id);

/*
 * topics_name_copy - the name of topic (id, gen) into buf (cap bytes), without
 * the lock: its length, or -1 if id is not that topic any more (evicted,
 * reused) or the name does not fit. The name is checked again after the
 * copy, so an id evicted meanwhile is never given a wrong name.
 */
long topics_name_copy(const struct topics *t, uint32_t id, uint32_t gen, char *buf,
    size_t cap);

/* topics_live - whether id is a live entry now (no lock); *gen gets its generation. */
static inline int
topics_live(const struct topics *t, uint32_t id, uint32_t *gen)
{
	if (id >= t->max || atomic_load_explicit(&t->tab[id].state, memory_order_acquire) != TOPIC_LIVE)
		return 0;
	*gen = t->tab[id].gen;
	return 1;
}

/* topics_workers - the workers with subscribers to id (no lock). */
static inline uint32_t
topics_workers(const struct topics *t, uint32_t id)
{
	return atomic_load_explicit(&t->tab[id].workers, memory_order_relaxed);
}

/* topics_gen - id's generation; stable while id is pinned or the lock is held. */
static inline uint32_t
topics_gen(const struct topics *t, uint32_t id)
{
	return t->tab[id].gen;
}

/* topics_last - id's newest record (0 if none). */
static inline uint64_t
topics_last(const struct topics *t, uint32_t id)
{
	return atomic_load_explicit(&t->tab[id].last_seq, memory_order_acquire);
}

/* topics_lost_upto - records up to here may have belonged to this name under an evicted id. */
static inline uint64_t
topics_lost_upto(const struct topics *t, uint32_t id)
{
	return t->tab[id].lost_upto;
}

#endif
