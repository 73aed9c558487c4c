/*
 * shm/addrs.c - client addresses in the shared segment, for per-address limits.
 *
 * Owns: the address entries, their hash chains and free list. Entries
 * never move, so an id stays valid while the entry counts something.
 * Must not block or take the lock: callers hold it.
 */
#include "config.h"

#include <string.h>

#include "shm/addrs.h"

#define ADDRS_KEY_FORGET_MS 600000   /* wrong keys longer ago than this no longer count */
#include "lib/clock.h"
#include "lib/hash.h"

void
addrs_bind(struct addrs *a, struct shm_header *h)
{
	a->ctl = &h->addrs;
	a->bucket = (_Atomic uint32_t *)((char *)h + h->abuckets_off);
	a->tab = (struct shm_addr *)((char *)h + h->addrs_off);
	a->mask = h->naddr_buckets - 1;
	a->max = h->max_addrs;
}

void
addrs_format(struct addrs *a, uint64_t seed)
{
	uint32_t i;

	for (i = 0; i <= a->mask; i++)
		atomic_store_explicit(&a->bucket[i], SHM_NONE, memory_order_relaxed);
	a->ctl->used = 0;
	a->ctl->live = 0;
	a->ctl->free_head = SHM_NONE;
	a->ctl->seed = seed;
}

/* addrs_key - the bytes an address counts by: IPv4 whole, IPv6 its /64. */
static size_t
addrs_key(int family, const uint8_t *addr, uint8_t key[16])
{
	size_t n = family == 4 ? 4 : 8;

	memset(key, 0, 16);
	memcpy(key, addr, n);
	return n;
}

static _Atomic uint32_t *
addrs_bucket(const struct addrs *a, uint32_t hash)
{
	return &a->bucket[hash & a->mask];
}

uint32_t
addrs_conns(const struct addrs *a, uint32_t id)
{
	uint32_t n = 0;
	unsigned w;

	for (w = 0; w < CONF_MAX_WORKERS; w++)
		n += a->tab[id].conns[w];
	return n;
}

uint32_t
addrs_topics(const struct addrs *a, uint32_t id)
{
	return a->tab[id].topics;
}

/* addrs_release_locked - an entry that counts nothing and waits for nothing goes back to the free list. */
static void
addrs_release_locked(struct addrs *a, uint32_t id)
{
	struct shm_addr *e = &a->tab[id];
	_Atomic uint32_t *b;
	uint32_t *link, cur;

	if (e->family == 0 || e->topics != 0 || addrs_conns(a, id) != 0 ||
	    e->key_until > clock_mono_ms())
		return;
	b = addrs_bucket(a, e->hash);
	if ((cur = atomic_load_explicit(b, memory_order_relaxed)) == id) {
		atomic_store_explicit(b, e->hnext, memory_order_relaxed);
	} else {
		for (link = &a->tab[cur].hnext; *link != id && *link != SHM_NONE; link = &a->tab[*link].hnext)
			;
		if (*link == id)
			*link = e->hnext;
	}
	e->family = 0;
	e->hnext = a->ctl->free_head;
	a->ctl->free_head = id;
	a->ctl->live--;
}

/* addrs_sweep_locked - the table is full: release the entries whose wait after wrong keys is over. */
static void
addrs_sweep_locked(struct addrs *a)
{
	uint32_t id;

	for (id = 0; id < a->ctl->used; id++)
		addrs_release_locked(a, id);
}

uint32_t
addrs_get_locked(struct addrs *a, int family, const uint8_t *addr)
{
	uint8_t key[16];
	size_t n = addrs_key(family, addr, key);
	uint32_t hash = hash_bytes(a->ctl->seed ^ (uint64_t)family, key, n), id;
	_Atomic uint32_t *b = addrs_bucket(a, hash);
	struct shm_addr *e;

	for (id = atomic_load_explicit(b, memory_order_relaxed); id != SHM_NONE; id = a->tab[id].hnext) {
		e = &a->tab[id];
		if (e->hash == hash && e->family == family && memcmp(e->addr, key, 16) == 0)
			return id;
	}
	if (a->ctl->free_head == SHM_NONE && a->ctl->used == a->max)
		addrs_sweep_locked(a);
	if (a->ctl->free_head != SHM_NONE) {
		id = a->ctl->free_head;
		a->ctl->free_head = a->tab[id].hnext;
	} else if (a->ctl->used < a->max) {
		id = a->ctl->used++;
	} else {
		atomic_fetch_add_explicit(&a->ctl->overflow, 1, memory_order_relaxed);
		return SHM_NONE;
	}
	e = &a->tab[id];
	memset(e, 0, sizeof(*e));
	e->hash = hash;
	e->family = (uint8_t)family;
	memcpy(e->addr, key, 16);
	e->hnext = atomic_load_explicit(b, memory_order_relaxed);
	atomic_store_explicit(b, id, memory_order_relaxed);
	a->ctl->live++;
	return id;
}

void
addrs_conn_locked(struct addrs *a, uint32_t id, unsigned worker, int delta)
{
	uint16_t *n = &a->tab[id].conns[worker];

	/* saturating, like every count here: a slip must not pin an entry for good */
	if (delta > 0 && *n < UINT16_MAX)
		(*n)++;
	else if (delta < 0 && *n > 0)
		(*n)--;
	addrs_release_locked(a, id);
}

void
addrs_charge_locked(struct addrs *a, uint32_t id, int delta)
{
	uint32_t *n = &a->tab[id].topics;

	if (delta > 0)
		(*n)++;
	else if (*n > 0)
		(*n)--;
	addrs_release_locked(a, id);
}

uint64_t
addrs_key_wait(const struct addrs *a, uint32_t id, uint64_t now)
{
	return a->tab[id].key_until > now ? a->tab[id].key_until - now : 0;
}

void
addrs_key_failed_locked(struct addrs *a, uint32_t id, uint64_t now, uint64_t wait_ms,
    uint64_t max_ms)
{
	struct shm_addr *e = &a->tab[id];
	uint64_t wait = wait_ms;
	uint32_t i;

	if (e->key_until + ADDRS_KEY_FORGET_MS < now)
		e->key_fails = 0;
	for (i = 1; i < e->key_fails + 1 && wait < max_ms; i++)
		wait *= 2;
	e->key_fails++;
	e->key_until = now + (wait < max_ms ? wait : max_ms);
}

void
addrs_key_ok_locked(struct addrs *a, uint32_t id)
{
	a->tab[id].key_fails = 0;
	a->tab[id].key_until = 0;
}

void
addrs_clear_worker_locked(struct addrs *a, unsigned worker)
{
	uint32_t id;

	for (id = 0; id < a->ctl->used; id++) {
		if (a->tab[id].family == 0 || a->tab[id].conns[worker] == 0)
			continue;
		a->tab[id].conns[worker] = 0;
		addrs_release_locked(a, id);
	}
}

void
addrs_repair_locked(struct addrs *a)
{
	uint32_t i, id;
	struct shm_addr *e;
	_Atomic uint32_t *b;

	for (i = 0; i <= a->mask; i++)
		atomic_store_explicit(&a->bucket[i], SHM_NONE, memory_order_relaxed);
	a->ctl->free_head = SHM_NONE;
	a->ctl->live = 0;
	for (id = a->ctl->used; id-- > 0;) {
		e = &a->tab[id];
		e->topics = 0;
		if (e->family == 0 || (addrs_conns(a, id) == 0 && e->key_until <= clock_mono_ms())) {
			e->family = 0;
			e->hnext = a->ctl->free_head;
			a->ctl->free_head = id;
			continue;
		}
		b = addrs_bucket(a, e->hash);
		e->hnext = atomic_load_explicit(b, memory_order_relaxed);
		atomic_store_explicit(b, id, memory_order_relaxed);
		a->ctl->live++;
	}
}
