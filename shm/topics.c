/*
 * shm/topics.c - the topic table in the shared segment.
 *
 * Owns: the entries (ids below the high-water mark `used`, a free list
 * through hnext), their hash chains, the eviction list of unpinned
 * topics, and the name heap: chunks of 1 to SHM_NAME_CLASSES units, one
 * free list per size; an empty size takes a bigger free chunk and gives
 * the rest back, and when nothing is left the oldest unpinned topic is
 * evicted. An entry becomes LIVE only after its name is written and
 * joins its chain only after that, so a writer dying half-way leaves an
 * entry that topics_repair_locked recognises; every list is rebuilt
 * from the entries then.
 * Must not block or take the lock: callers hold it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "shm/topics.h"

#define TOPICS_EVICT_TRIES 32      /* evictions one intern may make for its name */

void
topics_bind(struct topics *t, struct shm_header *h, struct addrs *a)
{
	t->ctl = &h->topics;
	t->bucket = (_Atomic uint32_t *)((char *)h + h->buckets_off);
	t->tab = (struct shm_topic *)((char *)h + h->topics_off);
	t->names = (char *)h + h->names_off;
	t->mask = h->nbuckets - 1;
	t->max = h->max_topics;
	t->name_units = h->name_units;
	t->addrs = a;
	t->pinlog = &h->pinlog;
}

void
topics_format(struct topics *t, uint64_t seed)
{
	uint32_t i;

	for (i = 0; i <= t->mask; i++)
		atomic_store_explicit(&t->bucket[i], SHM_NONE, memory_order_relaxed);
	for (i = 0; i < SHM_NAME_CLASSES; i++)
		t->ctl->name_free[i] = SHM_NONE;
	t->ctl->used = 0;
	t->ctl->live = 0;
	t->ctl->free_head = SHM_NONE;
	t->ctl->lru_head = t->ctl->lru_tail = SHM_NONE;
	t->ctl->name_bump = 0;
	t->ctl->seed = seed;
	t->ctl->evicted_upto = 0;
}

/* topics_name - the bytes of entry e's name. */
static char *
topics_name_bytes(const struct topics *t, const struct shm_topic *e)
{
	return t->names + (size_t)e->name * SHM_NAME_UNIT;
}

static _Atomic uint32_t *
topics_bucket(const struct topics *t, uint32_t hash)
{
	return &t->bucket[hash & t->mask];
}

long
topics_find_locked(const struct topics *t, const char *name, uint32_t len)
{
	uint32_t hash = hash_bytes(t->ctl->seed, name, len), id;
	const struct shm_topic *e;

	for (id = atomic_load_explicit(topics_bucket(t, hash), memory_order_relaxed);
	    id != SHM_NONE; id = e->hnext) {
		e = &t->tab[id];
		if (e->hash == hash && e->len == len && memcmp(topics_name_bytes(t, e), name, len) == 0)
			return id;
	}
	return -1;
}

/* --- the eviction list: unpinned topics, least recently published first --- */

static void
topics_lru_append(struct topics *t, uint32_t id)
{
	struct shm_topic *e = &t->tab[id];

	e->lru_next = SHM_NONE;
	e->lru_prev = t->ctl->lru_tail;
	if (t->ctl->lru_tail != SHM_NONE)
		t->tab[t->ctl->lru_tail].lru_next = id;
	else
		t->ctl->lru_head = id;
	t->ctl->lru_tail = id;
}

static void
topics_lru_remove(struct topics *t, uint32_t id)
{
	struct shm_topic *e = &t->tab[id];

	if (e->lru_prev != SHM_NONE)
		t->tab[e->lru_prev].lru_next = e->lru_next;
	else
		t->ctl->lru_head = e->lru_next;
	if (e->lru_next != SHM_NONE)
		t->tab[e->lru_next].lru_prev = e->lru_prev;
	else
		t->ctl->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = SHM_NONE;
}

/* --- the name heap --- */

/* topics_chunk_free - give a chunk of units back to its size's free list. */
static void
topics_chunk_free(struct topics *t, uint32_t off, uint32_t units)
{
	uint32_t *link = (uint32_t *)(void *)(t->names + (size_t)off * SHM_NAME_UNIT);

	*link = t->ctl->name_free[units - 1];
	t->ctl->name_free[units - 1] = off;
}

/* topics_chunk_pop - a free chunk of exactly units, or SHM_NONE. */
static uint32_t
topics_chunk_pop(struct topics *t, uint32_t units)
{
	uint32_t off = t->ctl->name_free[units - 1];

	if (off != SHM_NONE)
		t->ctl->name_free[units - 1] = *(uint32_t *)(void *)(t->names + (size_t)off * SHM_NAME_UNIT);
	return off;
}

/* topics_chunk_alloc - a chunk of units: a free one, new heap, or the front of a bigger one. */
static uint32_t
topics_chunk_alloc(struct topics *t, uint32_t units)
{
	uint32_t off, big;

	if ((off = topics_chunk_pop(t, units)) != SHM_NONE)
		return off;
	if (t->ctl->name_bump + units <= t->name_units) {
		off = t->ctl->name_bump;
		t->ctl->name_bump += units;
		return off;
	}
	for (big = units + 1; big <= SHM_NAME_CLASSES; big++) {
		if ((off = topics_chunk_pop(t, big)) != SHM_NONE) {
			topics_chunk_free(t, off + units, big - units);
			return off;
		}
	}
	return SHM_NONE;
}

/* topics_rebuild_names - the free chunks are the heap's units no live topic uses. */
static void
topics_rebuild_names(struct topics *t)
{
	uint32_t bump = t->ctl->name_bump, u, run, id, i;
	uint8_t *used = calloc(bump / 8 + 1, 1);
	const struct shm_topic *e;

	for (i = 0; i < SHM_NAME_CLASSES; i++)
		t->ctl->name_free[i] = SHM_NONE;
	if (used == NULL)
		return;  /* no memory to find the holes: they stay unused */
	for (id = 0; id < t->ctl->used; id++) {
		e = &t->tab[id];
		if (atomic_load_explicit(&e->state, memory_order_relaxed) != TOPIC_LIVE)
			continue;
		for (u = e->name; u < e->name + e->units && u < bump; u++)
			used[u / 8] |= (uint8_t)(1u << (u % 8));
	}
	for (u = 0; u < bump; u += run) {
		for (run = 0; u + run < bump && run < SHM_NAME_CLASSES &&
		    !(used[(u + run) / 8] & (1u << ((u + run) % 8))); run++)
			;
		if (run > 0)
			topics_chunk_free(t, u, run);
		else
			run = 1;
	}
	free(used);
}

/* --- entries --- */

/* topics_unchain_locked - take id off its hash chain. */
static void
topics_unchain_locked(struct topics *t, uint32_t id)
{
	struct shm_topic *e = &t->tab[id];
	_Atomic uint32_t *b = topics_bucket(t, e->hash);
	uint32_t cur = atomic_load_explicit(b, memory_order_relaxed), *link;

	if (cur == id) {
		atomic_store_explicit(b, e->hnext, memory_order_relaxed);
		return;
	}
	for (link = &t->tab[cur].hnext; *link != SHM_NONE && *link != id; link = &t->tab[*link].hnext)
		;
	if (*link == id)
		*link = e->hnext;
}

/*
 * topics_evict_locked - forget the least recently published unpinned
 * topic. Its records may still be in the ring: readers tell them from
 * the id's next life by the gen they carry, and a resume of the name
 * learns from lost_upto that they may be missing. Returns 0, or -1 if
 * every topic is pinned.
 */
static int
topics_evict_locked(struct topics *t)
{
	uint32_t id = t->ctl->lru_head;
	struct shm_topic *e;
	uint64_t last;

	if (id == SHM_NONE)
		return -1;
	e = &t->tab[id];
	topics_lru_remove(t, id);
	topics_unchain_locked(t, id);
	/* FREE before the name's bytes change: topics_name_copy checks it after copying */
	atomic_store_explicit(&e->state, TOPIC_FREE, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	topics_chunk_free(t, e->name, e->units);
	last = atomic_load_explicit(&e->last_seq, memory_order_relaxed);
	if (last > t->ctl->evicted_upto)
		t->ctl->evicted_upto = last;
	e->hnext = t->ctl->free_head;
	t->ctl->free_head = id;
	t->ctl->live--;
	atomic_fetch_add_explicit(&t->ctl->evictions, 1, memory_order_relaxed);
	return 0;
}

/* topics_alloc_locked - a free entry id, evicting if need be; -1 if none. */
static long
topics_alloc_locked(struct topics *t)
{
	uint32_t id;

	if (t->ctl->free_head == SHM_NONE && t->ctl->used == t->max && topics_evict_locked(t) < 0)
		return -1;
	if (t->ctl->free_head != SHM_NONE) {
		id = t->ctl->free_head;
		t->ctl->free_head = t->tab[id].hnext;
		return id;
	}
	return t->ctl->used++;
}

/*
 * topics_name_alloc - a name chunk of units. Free chunks are never merged
 * as they are freed, so a long name may find only short ones: then the
 * free runs are merged (a scan of the table, allowed once per max/4
 * interns, so it costs O(1) per intern however it is provoked), and
 * failing that, up to TOPICS_EVICT_TRIES unpinned topics are evicted.
 */
static uint32_t
topics_name_alloc(struct topics *t, uint32_t units)
{
	uint32_t off;
	int coalesced = 0;
	unsigned tries = 0;

	while ((off = topics_chunk_alloc(t, units)) == SHM_NONE) {
		if (!coalesced && t->ctl->since_coalesce >= t->max / 4) {
			topics_rebuild_names(t);
			t->ctl->since_coalesce = 0;
			coalesced = 1;
		} else if (tries++ == TOPICS_EVICT_TRIES || topics_evict_locked(t) < 0) {
			return SHM_NONE;
		}
	}
	return off;
}

long
topics_intern_locked(struct topics *t, const char *name, uint32_t len)
{
	uint32_t hash, units = (len + SHM_NAME_UNIT - 1) / SHM_NAME_UNIT, off = SHM_NONE;
	_Atomic uint32_t *b;
	struct shm_topic *e;
	long id = topics_find_locked(t, name, len);

	if (id >= 0)
		return id;
	t->ctl->since_coalesce++;
	if (len == 0 || len > CONF_TOPIC_MAX || (off = topics_name_alloc(t, units)) == SHM_NONE ||
	    (id = topics_alloc_locked(t)) < 0) {
		if (off != SHM_NONE)
			topics_chunk_free(t, off, units);
		atomic_fetch_add_explicit(&t->ctl->refused, 1, memory_order_relaxed);
		return -1;
	}
	hash = hash_bytes(t->ctl->seed, name, len);
	e = &t->tab[id];
	atomic_store_explicit(&e->state, TOPIC_WRITING, memory_order_relaxed);
	e->hash = hash;
	e->len = (uint8_t)len;
	e->units = (uint8_t)units;
	e->flags = 0;
	e->name = off;
	memcpy(topics_name_bytes(t, e), name, len);
	e->gen++;
	e->owner = SHM_NONE;
	atomic_store_explicit(&e->last_seq, 0, memory_order_relaxed);
	e->lost_upto = t->ctl->evicted_upto;
	atomic_store_explicit(&e->workers, 0, memory_order_relaxed);
	e->pat_epoch = t->ctl->pat_epoch - 1;
	atomic_store_explicit(&e->state, TOPIC_LIVE, memory_order_release);
	b = topics_bucket(t, hash);
	e->hnext = atomic_load_explicit(b, memory_order_relaxed);
	atomic_store_explicit(b, (uint32_t)id, memory_order_relaxed);
	topics_lru_append(t, (uint32_t)id);
	t->ctl->live++;
	return id;
}

long
topics_name_copy(const struct topics *t, uint32_t id, uint32_t gen, char *buf, size_t cap)
{
	const struct shm_topic *e;
	uint32_t len, name;

	if (id >= t->max)
		return -1;
	e = &t->tab[id];
	if (atomic_load_explicit(&e->state, memory_order_acquire) != TOPIC_LIVE || e->gen != gen)
		return -1;
	len = e->len;
	name = e->name;
	if (len > cap || (uint64_t)name * SHM_NAME_UNIT + len > (uint64_t)t->name_units * SHM_NAME_UNIT)
		return -1;
	memcpy(buf, t->names + (size_t)name * SHM_NAME_UNIT, len);
	/* pairs with the release fence of topics_evict_locked */
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&e->state, memory_order_relaxed) != TOPIC_LIVE || e->gen != gen)
		return -1;
	return len;
}

uint64_t
topics_published_locked(struct topics *t, uint32_t id, uint64_t seq)
{
	struct shm_topic *e = &t->tab[id];
	uint64_t prev = atomic_load_explicit(&e->last_seq, memory_order_relaxed);

	/* last_seq before the commit: a topic must never look older than its records */
	atomic_store_explicit(&e->last_seq, seq, memory_order_release);
	if (atomic_load_explicit(&e->workers, memory_order_relaxed) == 0) {
		topics_lru_remove(t, id);
		topics_lru_append(t, id);
	}
	return prev;
}

int
topics_would_charge_locked(const struct topics *t, long id)
{
	return id < 0 || atomic_load_explicit(&t->tab[id].workers, memory_order_relaxed) == 0;
}

int
topics_pin_locked(struct topics *t, uint32_t id, unsigned worker, uint32_t owner,
    uint32_t quota)
{
	struct shm_topic *e = &t->tab[id];
	uint32_t was = atomic_load_explicit(&e->workers, memory_order_relaxed);

	if (was == 0) {
		if (owner != SHM_NONE && quota != 0 && addrs_topics(t->addrs, owner) >= quota)
			return -1;
		topics_lru_remove(t, id);
		e->owner = owner;
		if (owner != SHM_NONE)
			addrs_charge_locked(t->addrs, owner, 1);
		pinlog_append_locked(t->pinlog, id, e->gen, 1);
	}
	atomic_store_explicit(&e->workers, was | UINT32_C(1) << worker, memory_order_release);
	return 0;
}

/* topics_unpinned_locked - nobody subscribes to id any more: it may be evicted, and its owner is not charged. */
static void
topics_unpinned_locked(struct topics *t, uint32_t id)
{
	struct shm_topic *e = &t->tab[id];

	topics_lru_append(t, id);
	if (e->owner != SHM_NONE)
		addrs_charge_locked(t->addrs, e->owner, -1);
	e->owner = SHM_NONE;
	pinlog_append_locked(t->pinlog, id, e->gen, 0);
}

void
topics_unpin_locked(struct topics *t, uint32_t id, unsigned worker)
{
	struct shm_topic *e = &t->tab[id];
	uint32_t was = atomic_load_explicit(&e->workers, memory_order_relaxed);
	uint32_t now = was & ~(UINT32_C(1) << worker);

	atomic_store_explicit(&e->workers, now, memory_order_release);
	if (was != 0 && now == 0)
		topics_unpinned_locked(t, id);
}

void
topics_mark_pattern_locked(struct topics *t, uint32_t id)
{
	t->tab[id].flags |= TOPIC_F_PATTERN;
}

void
topics_patterns_changed_locked(struct topics *t, unsigned worker, int has)
{
	uint32_t bit = UINT32_C(1) << worker, was = atomic_load_explicit(&t->ctl->pat_workers,
	    memory_order_relaxed);

	t->ctl->pat_epoch++;
	atomic_store_explicit(&t->ctl->pat_workers, has ? was | bit : was & ~bit, memory_order_relaxed);
}

void
topics_pattern_result_locked(struct topics *t, uint32_t id, uint32_t gen, uint32_t epoch,
    unsigned worker, int match)
{
	struct shm_topic *e = &t->tab[id];
	uint32_t bit = UINT32_C(1) << worker;

	if (epoch != t->ctl->pat_epoch || e->gen != gen ||
	    atomic_load_explicit(&e->state, memory_order_relaxed) != TOPIC_LIVE)
		return;
	if (e->pat_epoch != epoch) {
		e->pat_epoch = epoch;
		atomic_store_explicit(&e->pat_known, 0, memory_order_relaxed);
		atomic_store_explicit(&e->pat_match, 0, memory_order_relaxed);
	}
	atomic_store_explicit(&e->pat_known, atomic_load_explicit(&e->pat_known, memory_order_relaxed) | bit,
	    memory_order_relaxed);
	atomic_store_explicit(&e->pat_match, match ?
	    atomic_load_explicit(&e->pat_match, memory_order_relaxed) | bit :
	    atomic_load_explicit(&e->pat_match, memory_order_relaxed) & ~bit, memory_order_relaxed);
}

uint32_t
topics_wake_locked(const struct topics *t, uint32_t id)
{
	const struct shm_topic *e = &t->tab[id];
	uint32_t pat = atomic_load_explicit(&t->ctl->pat_workers, memory_order_relaxed);

	if (pat != 0 && e->pat_epoch == t->ctl->pat_epoch)
		pat = (pat & ~atomic_load_explicit(&e->pat_known, memory_order_relaxed)) |
		    (pat & atomic_load_explicit(&e->pat_match, memory_order_relaxed));
	return topics_workers(t, id) | pat;
}


void
topics_clear_worker_locked(struct topics *t, unsigned worker)
{
	uint32_t id;

	topics_patterns_changed_locked(t, worker, 0);

	for (id = 0; id < t->ctl->used; id++)
		if (atomic_load_explicit(&t->tab[id].state, memory_order_relaxed) == TOPIC_LIVE &&
		    (topics_workers(t, id) & (UINT32_C(1) << worker)))
			topics_unpin_locked(t, id, worker);
}

unsigned
topics_repair_locked(struct topics *t)
{
	uint32_t id, i;
	unsigned freed = 0;
	struct shm_topic *e;
	_Atomic uint32_t *b;

	for (i = 0; i <= t->mask; i++)
		atomic_store_explicit(&t->bucket[i], SHM_NONE, memory_order_relaxed);
	t->ctl->free_head = SHM_NONE;
	t->ctl->lru_head = t->ctl->lru_tail = SHM_NONE;
	t->ctl->live = 0;
	addrs_repair_locked(t->addrs);
	for (id = t->ctl->used; id-- > 0;) {
		e = &t->tab[id];
		if (atomic_load_explicit(&e->state, memory_order_relaxed) != TOPIC_LIVE) {
			freed += atomic_load_explicit(&e->state, memory_order_relaxed) == TOPIC_WRITING;
			atomic_store_explicit(&e->state, TOPIC_FREE, memory_order_relaxed);
			e->hnext = t->ctl->free_head;
			t->ctl->free_head = id;
			continue;
		}
		b = topics_bucket(t, e->hash);
		e->hnext = atomic_load_explicit(b, memory_order_relaxed);
		atomic_store_explicit(b, id, memory_order_relaxed);
		t->ctl->live++;
		if (topics_workers(t, id) == 0) {
			e->owner = SHM_NONE;
			topics_lru_append(t, id);
		} else if (e->owner != SHM_NONE && t->addrs->tab[e->owner].family != 0) {
			addrs_charge_locked(t->addrs, e->owner, 1);
		} else {
			e->owner = SHM_NONE;
		}
	}
	topics_rebuild_names(t);
	return freed;
}
