/*
 * t/tseg.h - a real shared segment for the shm unit tests, always removed.
 */
#ifndef JANUSD_T_TSEG_H
#define JANUSD_T_TSEG_H

#include <stdint.h>

#include "shm/segment.h"

/* The test's segment, valid after seg_create. */
extern struct shm seg;

/* seg_create - create it (bails out on failure) and arm a 30 s alarm. */
void seg_create(void);

/* seg_lock - take the segment lock (bails out if it cannot be taken). */
void seg_lock(void);

/* seg_intern - topics_intern_locked under the lock. */
long seg_intern(const char *name, uint32_t len);

/* seg_pin - topics_pin_locked under the lock; its result. */
int seg_pin(long id, unsigned worker, uint32_t owner, uint32_t quota);

/* seg_unpin - topics_unpin_locked under the lock. */
void seg_unpin(long id, unsigned worker);

/* seg_record_fill - test record bytes: "#SEQ:", a pattern of seq, a final \1. */
void seg_record_fill(char *dst, uint64_t seq, uint32_t len);

#endif
