/*
 * shm/ring.h - the ring of recent messages in the shared segment.
 *
 * Owns: placing each published message once, already rendered as the
 * bytes its subscribers receive, under a global sequence number; and
 * telling readers, without a lock, whether a record is (still) whole.
 * Writers hold the segment lock (the _locked functions); readers never
 * lock. Must not know what the bytes mean or who subscribes.
 *
 * A record's bytes are contiguous in the data area, and consecutive
 * records are adjacent unless the data area wrapped between them, so a
 * run of records can go to a socket in one write.
 */
#ifndef JANUSD_SHM_RING_H
#define JANUSD_SHM_RING_H

#include <stdatomic.h>
#include <stdint.h>

#include "shm/layout.h"

struct ring {
	struct shm_ring_ctl *ctl;
	struct shm_ring_slot *slots;
	char *data;
	uint64_t size;        /* data bytes */
	uint32_t mask;        /* slots - 1 */
	uint64_t reserved;    /* offset handed out by ring_reserve_locked */
};

/* A record as a reader sees it; bytes point into the shared segment. */
struct ring_rec {
	uint64_t seq;
	uint64_t off;
	const char *bytes;
	uint32_t len;
	uint32_t topic;
	uint32_t pfx;
};

void ring_bind(struct ring *r, struct shm_header *h);
void ring_format(struct ring *r);

/*
 * ring_reserve_locked - room for up to maxlen contiguous bytes; returns
 * where to render the record. Data older records held there is given up
 * first (low and tail move), so readers can tell.
 */
char *ring_reserve_locked(struct ring *r, uint32_t maxlen);

/*
 * ring_commit_locked - publish the record rendered at the reserved place
 * (len <= the reserved maxlen). Returns its sequence number.
 */
uint64_t ring_commit_locked(struct ring *r, uint32_t len, uint32_t topic,
    uint32_t pfx);

/*
 * ring_repair_locked - after a writer died holding the lock: keep its
 * record if it was whole (its slot carries the next sequence number);
 * anything unfinished was never visible and is simply written over.
 * Returns 1 if a record was rolled forward, 0 otherwise.
 */
int ring_repair_locked(struct ring *r);

/* ring_head - the newest committed sequence number (0 if none yet). */
static inline uint64_t
ring_head(const struct ring *r)
{
	return atomic_load_explicit(&r->ctl->head, memory_order_acquire);
}

/* ring_tail - the oldest sequence number the ring may still hold. */
static inline uint64_t
ring_tail(const struct ring *r)
{
	return atomic_load_explicit(&r->ctl->tail, memory_order_acquire);
}

/*
 * ring_get - record seq: 0 and *rec filled, or -1 if it is not written
 * yet or already given up.
 */
int ring_get(const struct ring *r, uint64_t seq, struct ring_rec *rec);

/*
 * ring_intact - after using a record's bytes (e.g. writing them to a
 * socket): whether they were still unchanged, i.e. no writer has given up
 * the data at monotonic offset off in the meantime.
 */
int ring_intact(const struct ring *r, uint64_t off);

#endif
