/*
 * bots/progress.h - the parent's progress line on standard error.
 *
 * Owns: when the line is due and what it says: clients connected (greeted)
 * out of the target, subscribed (ACK), messages delivered, time elapsed.
 * On a terminal it is one line rewritten in place a few times a second,
 * otherwise a line of its own every PROGRESS_LINES_NS; -q turns it off.
 * Must not gather the counts (bots/run.c sums what the children report)
 * and never writes to standard output, where the report goes.
 */
#ifndef JANUS_BOTS_PROGRESS_H
#define JANUS_BOTS_PROGRESS_H

#include <stdint.h>

#include "bots/bots.h"

#define PROGRESS_TTY_NS 250000000LL
#define PROGRESS_LINES_NS 5000000000LL

struct progress_counts {
	uint64_t connected, subscribed, delivered;
};

struct progress {
	enum bots_progress mode;
	unsigned target;          /* clients the run sets up */
	int64_t t0;               /* when the run began (CLOCK_MONOTONIC) */
	int64_t next;             /* when the next line is due */
	int shown;                /* a terminal line is on the screen */
};

void progress_init(struct progress *p, enum bots_progress mode,
    unsigned target, int64_t t0);
/* progress_due - when the next line is due; INT64_MAX when it is off. */
int64_t progress_due(const struct progress *p);
/* progress_show - the line for C, if it is due at NOW. */
void progress_show(struct progress *p, int64_t now, const struct progress_counts *c);
/* progress_clear - take a terminal line off the screen before other output. */
void progress_clear(struct progress *p);

#endif
