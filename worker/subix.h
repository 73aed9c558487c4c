/*
 * worker/subix.h - a connection's subscriptions indexed by topic id.
 *
 * Owns: c->subix and c->subix_mask (worker/state.h): open addressing with
 * linear probing over topic ids, each slot 0 (empty) or 1 + an index into
 * c->subs, kept at most half full, so that conn_sub finds a subscription
 * in O(1) however many a connection holds (thousands, with patterns).
 * worker/subs.c decides when a connection has enough to be indexed and
 * keeps the index in step with c->subs; nothing else writes it.
 * Must not change c->subs itself.
 */
#ifndef JANUSD_WORKER_SUBIX_H
#define JANUSD_WORKER_SUBIX_H

#include <stdint.h>

#include "worker/state.h"

/* subix_build - index c->subs[0 .. nsubs) in cap slots (a power of two, at least 2 * nsubs); 0, or -1 if out of memory (the old index kept). */
int subix_build(struct conn *c, uint32_t cap);

/* subix_add - c->subs[i] is new (its topic set); there is room for it. */
void subix_add(struct conn *c, uint32_t i);

/* subix_remove - c->subs[i] goes, and c->subs[nsubs - 1] is about to move to i (before nsubs drops). */
void subix_remove(struct conn *c, uint32_t i);

/* subix_drop - c keeps no index (it has few subscriptions, or is going). */
void subix_drop(struct conn *c);

#endif
