/*
 * shm/pinlog.c - the pin log: changes of interest, for the cluster bridge.
 *
 * Owns: the log's ring of events. head is stored last, so a writer that
 * dies mid-append leaves the log as it was. The writers (topic pins and
 * unpins) never wait for the reader: when the log is full they set
 * overflow instead, which costs the reader one scan of the table.
 * Must not take the lock itself: callers hold it.
 */
#include "config.h"

#include "shm/pinlog.h"

void
pinlog_format(struct shm_pinlog *q)
{
	atomic_store(&q->head, 0);
	q->taken = 0;
	q->overflow = 1;   /* a new reader starts from the table anyway */
}

void
pinlog_append_locked(struct shm_pinlog *q, uint32_t id, uint32_t gen, int on)
{
	uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	struct shm_pin_event *e;

	if (head - q->taken >= SHM_PINLOG_EVENTS) {
		q->overflow = 1;
		return;
	}
	e = &q->ev[head % SHM_PINLOG_EVENTS];
	e->id = id;
	e->gen = gen;
	e->on = on != 0;
	atomic_store_explicit(&q->head, head + 1, memory_order_release);
}

size_t
pinlog_take_locked(struct shm_pinlog *q, struct shm_pin_event *out, size_t cap,
    int *lost)
{
	uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	size_t n = 0;

	for (; q->taken < head && n < cap; q->taken++)
		out[n++] = q->ev[q->taken % SHM_PINLOG_EVENTS];
	*lost = q->overflow != 0;
	q->overflow = 0;
	return n;
}
