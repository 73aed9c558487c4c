/*
 * shm/ring.c - the ring of recent messages in the shared segment.
 *
 * Owns: the ring control block, the slot index and the data area. The
 * order of stores is the whole design: a writer first raises `low` over
 * the bytes it is about to reuse, then writes the bytes, then the slot
 * (seq last), then `head`. A reader checks a slot's seq before and after
 * reading it, and checks `low` after it used the bytes. So a writer that
 * dies anywhere leaves nothing a reader could take for a whole record.
 * Must not take the lock itself: callers hold it for the _locked calls.
 */
#include "config.h"

#include <string.h>

#include "lib/clock.h"
#include "lib/fault.h"
#include "shm/ring.h"

void
ring_bind(struct ring *r, struct shm_header *h)
{
	r->ctl = &h->ring;
	r->slots = (struct shm_ring_slot *)((char *)h + h->slots_off);
	r->data = (char *)h + h->data_off;
	r->size = h->data_size;
	r->mask = h->nslots - 1;
	r->reserved = 0;
}

/* ring_format - an empty ring: the first record will be sequence 1. */
void
ring_format(struct ring *r)
{
	atomic_store(&r->ctl->head, 0);
	atomic_store(&r->ctl->tail, 1);
	atomic_store(&r->ctl->next_off, 0);
	atomic_store(&r->ctl->low, 0);
}

/* ring_slot_off - a slot's data offset, read by the lock holder. */
static uint64_t
ring_slot_off(const struct ring *r, uint64_t seq)
{
	return atomic_load_explicit(&r->slots[seq & r->mask].off, memory_order_relaxed);
}

/* ring_place - where a record of up to maxlen bytes goes: its monotonic offset. */
static uint64_t
ring_place(const struct ring *r, uint32_t maxlen)
{
	uint64_t w = atomic_load_explicit(&r->ctl->next_off, memory_order_relaxed);
	uint64_t phys = w % r->size;

	if (phys + maxlen > r->size)
		w += r->size - phys;    /* a record never wraps: skip to the next lap */
	return w;
}

/* ring_low_for - the low a record placed at w with maxlen bytes needs. */
static uint64_t
ring_low_for(const struct ring *r, uint64_t w, uint32_t maxlen)
{
	return w + maxlen > r->size ? w + maxlen - r->size : 0;
}

/*
 * ring_tail_for - the tail once low is new_low: past every record whose
 * bytes start below it or whose slot the next record takes.
 */
static uint64_t
ring_tail_for(const struct ring *r, uint64_t new_low)
{
	uint64_t head = atomic_load_explicit(&r->ctl->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->ctl->tail, memory_order_relaxed);

	while (tail <= head && (ring_slot_off(r, tail) < new_low ||
	    tail + r->mask + 1 <= head + 1))
		tail++;
	return tail;
}

/* ring_give_up_locked - raise low to new_low and move tail past what it gives up. */
static void
ring_give_up_locked(struct ring *r, uint64_t new_low)
{
	if (new_low > atomic_load_explicit(&r->ctl->low, memory_order_relaxed))
		atomic_store_explicit(&r->ctl->low, new_low, memory_order_relaxed);
	atomic_store_explicit(&r->ctl->tail, ring_tail_for(r, new_low), memory_order_release);
	/*
	 * The new low must be visible before any byte below it changes: a
	 * reader that copied those bytes checks low afterwards (ring_intact).
	 */
	atomic_thread_fence(memory_order_seq_cst);
}

uint64_t
ring_tail_after_locked(const struct ring *r, uint32_t maxlen)
{
	uint64_t w = ring_place(r, maxlen);

	return ring_tail_for(r, ring_low_for(r, w, maxlen));
}

char *
ring_reserve_locked(struct ring *r, uint32_t maxlen)
{
	uint64_t w = ring_place(r, maxlen);

	ring_give_up_locked(r, ring_low_for(r, w, maxlen));
	r->reserved = w;
	return r->data + w % r->size;
}

/* ring_link_locked - record seq follows prev of the same topic, if prev is still held. */
static void
ring_link_locked(struct ring *r, uint64_t prev, uint64_t seq)
{
	struct shm_ring_slot *p = &r->slots[prev & r->mask];

	if (prev != 0 && atomic_load_explicit(&p->seq, memory_order_relaxed) == prev)
		atomic_store_explicit(&p->next, seq, memory_order_release);
}

uint64_t
ring_commit_locked(struct ring *r, uint32_t len, const struct ring_meta *m)
{
	uint64_t seq = atomic_load_explicit(&r->ctl->head, memory_order_relaxed) + 1;
	struct shm_ring_slot *s = &r->slots[seq & r->mask];

	atomic_store_explicit(&s->seq, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->off, r->reserved, memory_order_relaxed);
	atomic_store_explicit(&s->len, len, memory_order_relaxed);
	fault_point("ring_commit", NULL);
	atomic_store_explicit(&s->topic, m->topic, memory_order_relaxed);
	atomic_store_explicit(&s->pfx, m->pfx, memory_order_relaxed);
	atomic_store_explicit(&s->gen, m->gen, memory_order_relaxed);
	atomic_store_explicit(&s->flags, m->flags, memory_order_relaxed);
	atomic_store_explicit(&s->commit_us, clock_mono_usec(), memory_order_relaxed);
	atomic_store_explicit(&s->prev, m->prev, memory_order_relaxed);
	atomic_store_explicit(&s->next, 0, memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq, memory_order_release);
	atomic_store_explicit(&r->ctl->next_off, r->reserved + len, memory_order_relaxed);
	/* before head: a reader that sees the new head finds the link set */
	ring_link_locked(r, m->prev, seq);
	atomic_store_explicit(&r->ctl->head, seq, memory_order_release);
	return seq;
}

int
ring_repair_locked(struct ring *r)
{
	uint64_t seq = atomic_load_explicit(&r->ctl->head, memory_order_relaxed) + 1;
	struct shm_ring_slot *s = &r->slots[seq & r->mask];
	uint64_t off;

	/*
	 * Anything short of a slot carrying seq is harmless as it is: a commit
	 * stores seq 0 before it changes a field, and the space a reserve took
	 * was given up before it was written. The slot may also still hold the
	 * oldest record, which must stay readable.
	 */
	if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
		return 0;
	/* seq is stored after every other field: the record is whole */
	off = atomic_load_explicit(&s->off, memory_order_relaxed);
	atomic_store_explicit(&r->ctl->next_off,
	    off + atomic_load_explicit(&s->len, memory_order_relaxed), memory_order_relaxed);
	ring_link_locked(r, atomic_load_explicit(&s->prev, memory_order_relaxed), seq);
	atomic_store_explicit(&r->ctl->head, seq, memory_order_release);
	return 1;
}

int
ring_get(const struct ring *r, uint64_t seq, struct ring_rec *rec)
{
	const struct shm_ring_slot *s = &r->slots[seq & r->mask];

	if (seq == 0 || atomic_load_explicit(&s->seq, memory_order_acquire) != seq)
		return -1;
	rec->off = atomic_load_explicit(&s->off, memory_order_relaxed);
	rec->len = atomic_load_explicit(&s->len, memory_order_relaxed);
	rec->topic = atomic_load_explicit(&s->topic, memory_order_relaxed);
	rec->pfx = atomic_load_explicit(&s->pfx, memory_order_relaxed);
	rec->gen = atomic_load_explicit(&s->gen, memory_order_relaxed);
	rec->flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
	rec->commit_us = atomic_load_explicit(&s->commit_us, memory_order_relaxed);
	rec->prev = atomic_load_explicit(&s->prev, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq ||
	    rec->off < atomic_load_explicit(&r->ctl->low, memory_order_acquire))
		return -1;
	rec->seq = seq;
	rec->bytes = r->data + rec->off % r->size;
	return 0;
}

int
ring_next(const struct ring *r, const struct ring_rec *rec, struct ring_rec *next)
{
	const struct shm_ring_slot *s = &r->slots[rec->seq & r->mask];
	uint64_t n = atomic_load_explicit(&s->next, memory_order_acquire);

	/* the slot must still hold rec, or n is another record's link */
	atomic_thread_fence(memory_order_acquire);
	if (n == 0 || atomic_load_explicit(&s->seq, memory_order_relaxed) != rec->seq ||
	    ring_get(r, n, next) < 0)
		return -1;
	return next->topic == rec->topic && next->gen == rec->gen ? 0 : -1;
}

int
ring_intact(const struct ring *r, uint64_t off)
{
	atomic_thread_fence(memory_order_seq_cst);
	return off >= atomic_load_explicit(&r->ctl->low, memory_order_relaxed);
}
