/*
 * shm/pinlog.h - the pin log: changes of interest, for the cluster bridge.
 *
 * Owns: appending an event when a topic's worker mask goes from 0 to
 * non-0 (on) or back (off), and taking the events out. Both happen under
 * the segment lock; pinlog_head tells without it whether there are new
 * ones. The log is bounded: events that do not fit are dropped and the
 * reader is told to read the whole topic table instead.
 * Must not know what a topic is beyond its id and gen.
 */
#ifndef JANUSD_SHM_PINLOG_H
#define JANUSD_SHM_PINLOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

void pinlog_format(struct shm_pinlog *q);

/* pinlog_append_locked - topic (id, gen) got its first subscriber on this node (on) or lost its last. */
void pinlog_append_locked(struct shm_pinlog *q, uint32_t id, uint32_t gen, int on);

/*
 * pinlog_take_locked - up to cap events into out, oldest first; returns
 * how many. *lost is set (and the log's overflow cleared) when events
 * were dropped since the last take: the reader must look at every topic.
 */
size_t pinlog_take_locked(struct shm_pinlog *q, struct shm_pin_event *out, size_t cap,
    int *lost);

/* pinlog_head - events appended so far (no lock): more than were taken means news. */
static inline uint64_t
pinlog_head(const struct shm_pinlog *q)
{
	return atomic_load_explicit(&q->head, memory_order_acquire);
}

#endif
