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

/* seg_record_fill - test record bytes: "#SEQ:", a pattern of seq, a final \1. */
void seg_record_fill(char *dst, uint64_t seq, uint32_t len);

#endif
