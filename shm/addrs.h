/*
 * shm/addrs.h - client addresses in the shared segment, for per-address limits.
 *
 * Owns: one entry per client address that has connections or is charged
 * for pinned topics (an IPv6 address counts by its /64, which is what one
 * client usually holds), found by a hash chain. Connections are counted
 * per worker, so that a dead worker's connections can be dropped without
 * knowing which addresses they came from. An entry goes back to the free
 * list as soon as it counts nothing and is not waiting after wrong keys
 * (those are swept when the table is full). Changes happen under the segment
 * lock (the _locked functions).
 * Must not know about sockets or topics' names.
 */
#ifndef JANUSD_SHM_ADDRS_H
#define JANUSD_SHM_ADDRS_H

#include <stdint.h>

#include "shm/layout.h"

struct addrs {
	struct shm_addrs_ctl *ctl;
	_Atomic uint32_t *bucket;
	struct shm_addr *tab;
	uint32_t mask;             /* buckets - 1 */
	uint32_t max;              /* entries */
};

void addrs_bind(struct addrs *a, struct shm_header *h);
void addrs_format(struct addrs *a, uint64_t seed);

/*
 * addrs_get_locked - the entry of an address (family 4 or 6, 4 or 16
 * bytes), created if new. SHM_NONE if the table is full (counted; the
 * caller decides what an untracked address may do).
 */
uint32_t addrs_get_locked(struct addrs *a, int family, const uint8_t *addr);

/* addrs_conns - the entry's connections on every worker. */
uint32_t addrs_conns(const struct addrs *a, uint32_t id);

/* addrs_conn_locked - one connection more (+1) or less (-1) on worker. */
void addrs_conn_locked(struct addrs *a, uint32_t id, unsigned worker, int delta);

/* addrs_topics - the topics the entry is charged for. */
uint32_t addrs_topics(const struct addrs *a, uint32_t id);

/* addrs_charge_locked - charge the entry for one more (+1) or one less (-1) pinned topic. */
void addrs_charge_locked(struct addrs *a, uint32_t id, int delta);

/*
 * addrs_key_wait - ms the entry must still wait before a publish key of
 * it is read (0: none). addrs_key_failed_locked: it sent a wrong one;
 * the wait doubles from wait_ms per wrong key in a row (wrong keys ten
 * minutes past no longer count), up to max_ms, and a wait outlives the
 * address's connections. addrs_key_ok_locked:
 * a right one; it is forgiven.
 */
uint64_t addrs_key_wait(const struct addrs *a, uint32_t id, uint64_t now);
void addrs_key_failed_locked(struct addrs *a, uint32_t id, uint64_t now, uint64_t wait_ms,
    uint64_t max_ms);
void addrs_key_ok_locked(struct addrs *a, uint32_t id);

/* addrs_clear_worker_locked - a worker died: its connections are gone. */
void addrs_clear_worker_locked(struct addrs *a, unsigned worker);

/*
 * addrs_repair_locked - after a writer died holding the lock: rebuild
 * the chains and the free list from the entries, with every topic charge
 * at 0 (the topic table charges them again).
 */
void addrs_repair_locked(struct addrs *a);

#endif
