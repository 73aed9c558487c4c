/*
 * bots/seen.h - which messages one client has settled, in a sliding window.
 *
 * Owns: per-client delivery bookkeeping: every message below NEXT has
 * settled (arrived, or given up); of the SEEN_WINDOW messages from NEXT on,
 * two bitmaps say which arrived and which were given up. A message is given
 * up when a later message of the same publishing stream arrives first, or
 * when it falls more than SEEN_WINDOW behind the newest arrival.
 * Must not count or time anything: bots/client.c does.
 *
 * Streams: messages published on one connection must arrive in that order;
 * messages published on different connections may arrive in any order.
 * STRIDE says how messages map to connections: 1, one ordered stream (each
 * lockstep message waits for the one before); P, message k went out on
 * persistent connection k % P; 0, every message had its own connection.
 */
#ifndef JANUS_BOTS_SEEN_H
#define JANUS_BOTS_SEEN_H

#include <stdint.h>

#define SEEN_WINDOW 128u

struct seen {
	uint32_t next;
	uint64_t got[SEEN_WINDOW / 64];    /* bit i: message next + i arrived */
	uint64_t lost[SEEN_WINDOW / 64];   /* bit i: message next + i given up */
};

/*
 * seen_take - message S (>= next) arrived. Returns 1 if this is its first
 * arrival and it was not given up (a good delivery), 0 if not (a duplicate,
 * or too late for its stream). NEXT may move on.
 */
int seen_take(struct seen *w, uint32_t s, uint32_t stride);
/* seen_close - nothing more will arrive: settle everything below UPTO. */
void seen_close(struct seen *w, uint32_t upto);

#endif
