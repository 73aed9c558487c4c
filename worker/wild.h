/*
 * worker/wild.h - where a topic's records go through wildcard patterns.
 *
 * Owns: this worker's cache, per topic id, of the connections whose
 * patterns match the topic (each once, with an `after` that lets through
 * the records its matching patterns want; none is an answer kept too),
 * built from the trie (worker/patterns.c) the first
 * time a record of the topic is fanned out and valid until the worker's
 * patterns change (patterns_gen): so fanning out a topic is the same list
 * walk for patterns as for exact subscriptions, whatever the number of
 * patterns that do not match. It also tells the shared table, once per
 * pass, what it found, so publishers wake this worker only for topics
 * its patterns match (shm/topics.h).
 * Must not write to sockets or change subscriptions.
 */
#ifndef JANUSD_WORKER_WILD_H
#define JANUSD_WORKER_WILD_H

#include <stdint.h>

#include "worker/state.h"

/* One connection a topic reaches through its patterns. */
struct wmatch {
	struct conn *c;
	uint64_t after;              /* the least after of its matching patterns (or any older record) */
};

/* The connections one topic id (of one generation) reaches through patterns. */
struct wcache {
	struct link all;             /* w->wcache_list */
	uint32_t id, gen;
	uint32_t n, cap;
	struct wmatch m[];
};

/* What a pass learned about one topic, for the shared table. */
struct wild_result {
	uint32_t id, gen;
	int match;
};

/* wild_init - the worker's pattern trie and caches; 0 or -1. */
int wild_init(struct worker *w);

/*
 * wild_topic - the connections topic (id, gen) reaches through patterns,
 * or NULL if none (or the worker holds no pattern). Valid until the
 * worker's patterns change or the loop pass ends, whichever is first.
 */
const struct wcache *wild_topic(struct worker *w, uint32_t id, uint32_t gen);

/*
 * wild_wants - whether c's patterns bring it rec: one that matches rec's
 * topic was there before rec (its after is less). For serving a cursor;
 * the answer for the topic is kept, and the cache build of the topic
 * gives it to every connection it finds.
 */
int wild_wants(struct worker *w, struct conn *c, const struct ring_rec *rec);

/*
 * wild_from - the first record of topic (id, gen) that c's patterns, but
 * the one of entry except, bring it (the least cpat.from of those that
 * match), or UINT64_MAX. For a resume to leave out what c gets another way.
 */
uint64_t wild_from(struct worker *w, const struct conn *c, uint32_t id, uint32_t gen,
    uint32_t except);

/* wild_resumed - a resume of c's pattern of entry, from start, was served: it brought c those records. */
void wild_resumed(struct conn *c, uint32_t entry, uint64_t start);

/* wild_changed - the worker's patterns changed: every cache is stale. */
void wild_changed(struct worker *w);

/* wild_report - after a pass: tell the shared table which topics the worker's patterns match. */
void wild_report(struct worker *w);

#endif
