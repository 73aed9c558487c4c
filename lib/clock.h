/*
 * lib/clock.h - the two clocks janusd reads.
 *
 * Owns: wall-clock time for timestamps clients see, and monotonic time
 * for every deadline (heartbeats, frame timeouts, respawn throttling),
 * which must not jump when someone sets the date.
 */
#ifndef JANUSD_LIB_CLOCK_H
#define JANUSD_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
clock_wall_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* clock_mono_usec - for intervals between processes (the fan-out delay). */
static inline uint64_t
clock_mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static inline uint64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
