/*
 * shm/publish.h - one message into the ring, and waking those who read it.
 *
 * Owns: the one sequence every publisher follows under the segment lock
 * (intern the topic, reserve, write the record, link it after the topic's
 * last one, commit) and the wake-up through eventfds afterwards. Workers
 * publish what their clients send, stamped now; the cluster bridge
 * publishes what other nodes stamped, flagged RING_REMOTE. Must not
 * deliver anything or decide who may publish.
 *
 * Wake-up bits: bit i < nworkers is worker i; bit nworkers is the bridge
 * (whose eventfd is efds[nworkers], -1 when there is none).
 */
#ifndef JANUSD_SHM_PUBLISH_H
#define JANUSD_SHM_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "shm/segment.h"

/* A message to publish: its record is the prefix, then rest, then \1. */
struct shm_msg {
	const char *topic;
	uint32_t topic_len;
	const char *prefix;        /* `{"timestamp":[...],` as another node wrote it, or NULL: stamp it now */
	uint32_t pfx;              /* prefix's length */
	const char *rest;          /* the members and the final `}`, without \1 */
	size_t rest_len;
	uint32_t flags;            /* enum ring_flag */
	int may_wait;              /* a worker's client: wait rather than give up what readers need */
};

enum shm_pub_result {
	SHM_PUB_OK = 0,
	SHM_PUB_WAIT,              /* may_wait, and it would give up a record a worker still needs */
	SHM_PUB_TOO_LARGE,         /* more than a quarter of the ring */
	SHM_PUB_TABLE_FULL         /* no topic id: every topic has subscribers */
};

/*
 * shm_publish_locked - put m in the ring. *seq gets its sequence number,
 * *workers the workers it must wake: those with subscribers to its topic
 * or patterns that may match it (shm/topics.h topics_wake_locked).
 */
enum shm_pub_result shm_publish_locked(struct shm *s, const struct shm_msg *m,
    uint64_t *seq, uint32_t *workers);

/* shm_wake_bridge - the wake-up bit of the bridge. */
static inline uint64_t
shm_wake_bridge(unsigned nworkers)
{
	return UINT64_C(1) << nworkers;
}

/*
 * shm_wake - signal the eventfd of each reader in mask whose wake flag
 * was clear (self, the caller's own bit, is skipped; a caller with none
 * passes a larger number). Call after the records are committed and the
 * lock released.
 */
void shm_wake(struct shm *s, const int *efds, unsigned nworkers, uint64_t mask,
    unsigned self);

#endif
