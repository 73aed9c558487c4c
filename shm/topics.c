/*
 * shm/topics.c - the topic table in the shared segment.
 *
 * Owns: the entries (dense ids, a free list through FREE entries), the
 * open-addressing hash index of ids (linear probing, tombstones) and its
 * rebuilding. An entry becomes LIVE only after its name is written and
 * enters the index only after that, so a writer dying half-way leaves an
 * entry that topics_repair_locked can recognise and give back.
 * Must not block or take the lock: callers hold it.
 */
#include "config.h"

#include <string.h>

#include "shm/topics.h"

void
topics_bind(struct topics *t, struct shm_header *h)
{
	t->ctl = &h->topics;
	t->index = (_Atomic uint32_t *)((char *)h + h->index_off);
	t->tab = (struct shm_topic *)((char *)h + h->topics_off);
	t->mask = h->index_size - 1;
	t->max = h->max_topics;
}

void
topics_format(struct topics *t, uint64_t seed)
{
	uint32_t i;

	for (i = 0; i <= t->mask; i++)
		atomic_store_explicit(&t->index[i], SHM_INDEX_EMPTY, memory_order_relaxed);
	t->ctl->used = 0;
	t->ctl->live = 0;
	t->ctl->tombstones = 0;
	t->ctl->free_head = UINT32_MAX;
	t->ctl->seed = seed;
}

/* topics_hash - seeded FNV-1a, folded to 32 bits; the seed is per segment. */
static uint32_t
topics_hash(const struct topics *t, const char *name, uint32_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ t->ctl->seed;
	uint32_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t
topics_index_get(const struct topics *t, uint32_t i)
{
	return atomic_load_explicit(&t->index[i & t->mask], memory_order_relaxed);
}

static void
topics_index_set(struct topics *t, uint32_t i, uint32_t v)
{
	atomic_store_explicit(&t->index[i & t->mask], v, memory_order_relaxed);
}

/*
 * topics_probe - the index slot holding name, or (negated, minus one) the
 * slot where it should go: the first tombstone on its chain, else the
 * empty slot that ends the chain.
 */
static long
topics_probe(const struct topics *t, const char *name, uint32_t len, uint32_t hash)
{
	uint32_t i, v, n;
	long grave = -1;
	const struct shm_topic *e;

	for (i = hash, n = 0; n <= t->mask; i++, n++) {
		v = topics_index_get(t, i);
		if (v == SHM_INDEX_EMPTY)
			return -(grave >= 0 ? grave : (long)(i & t->mask)) - 1;
		if (v == SHM_INDEX_TOMBSTONE) {
			if (grave < 0)
				grave = (long)(i & t->mask);
			continue;
		}
		e = &t->tab[v];
		if (e->hash == hash && e->len == len && memcmp(e->name, name, len) == 0)
			return (long)(i & t->mask);
	}
	return grave >= 0 ? -grave - 1 : -(long)t->mask - 2;
}

long
topics_find_locked(const struct topics *t, const char *name, uint32_t len)
{
	long slot = topics_probe(t, name, len, topics_hash(t, name, len));

	return slot >= 0 ? (long)topics_index_get(t, (uint32_t)slot) : -1;
}

/* topics_unused - no subscribers anywhere and no record left in the ring. */
static int
topics_unused(const struct shm_topic *e, uint64_t tail)
{
	unsigned w;

	for (w = 0; w < CONF_MAX_WORKERS; w++)
		if (atomic_load_explicit(&e->subs[w], memory_order_relaxed) != 0)
			return 0;
	return atomic_load_explicit(&e->last_seq, memory_order_relaxed) < tail;
}

/* topics_free_locked - give entry id back: out of the index, onto the free list. */
static void
topics_free_locked(struct topics *t, uint32_t id)
{
	struct shm_topic *e = &t->tab[id];
	long slot = topics_probe(t, e->name, e->len, e->hash);

	if (slot >= 0) {
		topics_index_set(t, (uint32_t)slot, SHM_INDEX_TOMBSTONE);
		t->ctl->tombstones++;
	}
	atomic_store_explicit(&e->state, TOPIC_FREE, memory_order_relaxed);
	e->next_free = t->ctl->free_head;
	t->ctl->free_head = id;
	t->ctl->live--;
}

/* topics_reclaim_locked - give back every unused topic; returns how many. */
static uint32_t
topics_reclaim_locked(struct topics *t, uint64_t tail)
{
	uint32_t id, n = 0;

	for (id = 0; id < t->ctl->used; id++) {
		if (atomic_load_explicit(&t->tab[id].state, memory_order_relaxed) == TOPIC_LIVE &&
		    topics_unused(&t->tab[id], tail)) {
			topics_free_locked(t, id);
			n++;
		}
	}
	return n;
}

/* topics_reindex_locked - rebuild the index from the LIVE entries. */
static void
topics_reindex_locked(struct topics *t)
{
	uint32_t i, id;
	long slot;
	struct shm_topic *e;

	for (i = 0; i <= t->mask; i++)
		topics_index_set(t, i, SHM_INDEX_EMPTY);
	t->ctl->tombstones = 0;
	for (id = 0; id < t->ctl->used; id++) {
		e = &t->tab[id];
		if (atomic_load_explicit(&e->state, memory_order_relaxed) != TOPIC_LIVE)
			continue;
		slot = topics_probe(t, e->name, e->len, e->hash);
		if (slot < 0)
			topics_index_set(t, (uint32_t)(-slot - 1), id);
	}
}

/* topics_alloc_locked - a free entry id, or -1. */
static long
topics_alloc_locked(struct topics *t, uint64_t tail)
{
	uint32_t id;

	if (t->ctl->free_head == UINT32_MAX && t->ctl->used == t->max &&
	    topics_reclaim_locked(t, tail) == 0)
		return -1;
	if (t->ctl->free_head != UINT32_MAX) {
		id = t->ctl->free_head;
		t->ctl->free_head = t->tab[id].next_free;
		return id;
	}
	return t->ctl->used++;
}

long
topics_intern_locked(struct topics *t, const char *name, uint32_t len, uint64_t tail)
{
	uint32_t hash = topics_hash(t, name, len);
	long slot = topics_probe(t, name, len, hash), id;
	struct shm_topic *e;
	unsigned w;

	if (slot >= 0)
		return (long)topics_index_get(t, (uint32_t)slot);
	if (len > CONF_TOPIC_MAX || (id = topics_alloc_locked(t, tail)) < 0)
		return -1;
	if (t->ctl->tombstones > (t->mask + 1) / 4) {
		topics_reindex_locked(t);
		slot = topics_probe(t, name, len, hash);
	}
	e = &t->tab[id];
	atomic_store_explicit(&e->state, TOPIC_WRITING, memory_order_relaxed);
	e->hash = hash;
	e->len = len;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	atomic_store_explicit(&e->last_seq, 0, memory_order_relaxed);
	for (w = 0; w < CONF_MAX_WORKERS; w++)
		atomic_store_explicit(&e->subs[w], 0, memory_order_relaxed);
	atomic_store_explicit(&e->state, TOPIC_LIVE, memory_order_release);
	if (topics_index_get(t, (uint32_t)(-slot - 1)) == SHM_INDEX_TOMBSTONE)
		t->ctl->tombstones--;
	topics_index_set(t, (uint32_t)(-slot - 1), (uint32_t)id);
	t->ctl->live++;
	return id;
}

uint32_t
topics_sub_locked(struct topics *t, uint32_t id, unsigned worker, int delta)
{
	_Atomic uint32_t *c = &t->tab[id].subs[worker];
	uint32_t v = atomic_load_explicit(c, memory_order_relaxed);

	v = delta < 0 && v < (uint32_t)-delta ? 0 : v + (uint32_t)delta;
	atomic_store_explicit(c, v, memory_order_release);
	return v;
}

void
topics_published_locked(struct topics *t, uint32_t id, uint64_t seq)
{
	atomic_store_explicit(&t->tab[id].last_seq, seq, memory_order_relaxed);
}

void
topics_clear_worker_locked(struct topics *t, unsigned worker)
{
	uint32_t id;

	for (id = 0; id < t->ctl->used; id++)
		atomic_store_explicit(&t->tab[id].subs[worker], 0, memory_order_relaxed);
}

unsigned
topics_repair_locked(struct topics *t)
{
	uint32_t id, live = 0;
	unsigned freed = 0;
	struct shm_topic *e;

	t->ctl->free_head = UINT32_MAX;
	for (id = t->ctl->used; id-- > 0;) {
		e = &t->tab[id];
		if (atomic_load_explicit(&e->state, memory_order_relaxed) == TOPIC_LIVE) {
			live++;
			continue;
		}
		if (atomic_load_explicit(&e->state, memory_order_relaxed) == TOPIC_WRITING)
			freed++;
		atomic_store_explicit(&e->state, TOPIC_FREE, memory_order_relaxed);
		e->next_free = t->ctl->free_head;
		t->ctl->free_head = id;
	}
	t->ctl->live = live;
	topics_reindex_locked(t);
	return freed;
}
