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

enum ring_flag {
	RING_REMOTE = 1 << 0        /* came from another node (the cluster bridge): never forwarded again */
};

/* A record as a reader sees it; bytes point into the shared segment. */
struct ring_rec {
	uint64_t seq;
	uint64_t off;
	const char *bytes;
	uint32_t len;
	uint32_t topic;
	uint32_t pfx;
	uint32_t gen;
	uint32_t flags;             /* enum ring_flag */
	uint64_t commit_us;         /* CLOCK_MONOTONIC, when ring_commit_locked placed it */
	uint64_t prev;              /* the same topic's record before it, or 0 */
};

/* What a record is besides its bytes, as its publisher commits it. */
struct ring_meta {
	uint32_t topic, gen;        /* topic id and its generation */
	uint32_t pfx;               /* the prefix length */
	uint32_t flags;             /* enum ring_flag */
	uint64_t prev;              /* the topic's newest record before this one, or 0 */
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
 * ring_tail_after_locked - what the tail would be if a record of up to
 * maxlen bytes were reserved now: records before it would be given up.
 */
uint64_t ring_tail_after_locked(const struct ring *r, uint32_t maxlen);

/*
 * ring_commit_locked - publish the record rendered at the reserved place
 * (len <= the reserved maxlen), and link it after m->prev, so a topic's
 * records can be walked both ways. Returns its sequence number.
 */
uint64_t ring_commit_locked(struct ring *r, uint32_t len, const struct ring_meta *m);

/*
 * ring_repair_locked - after a writer died holding the lock: keep its
 * record if it was whole (its slot carries the next sequence number) and
 * make sure it is linked after its topic's previous record; anything
 * unfinished was never visible and is simply written over. Returns 1 if
 * a record was rolled forward, 0 otherwise.
 */
int ring_repair_locked(struct ring *r);

/*
 * ring_next - the record after rec of the same topic (0 and *next
 * filled), or -1 if none is known or it is gone. Only for records before
 * a head the caller has read.
 */
int ring_next(const struct ring *r, const struct ring_rec *rec, struct ring_rec *next);

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
 * ring_lag - bytes committed after monotonic offset off: at r->size, a
 * record there is being overwritten. A reader far behind can tell how
 * soon its records go.
 */
static inline uint64_t
ring_lag(const struct ring *r, uint64_t off)
{
	return atomic_load_explicit(&r->ctl->next_off, memory_order_relaxed) - off;
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
