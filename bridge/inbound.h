/*
 * bridge/inbound.h - messages from NATS into this node's ring.
 *
 * Owns: taking a MSG: its subject decoded back to a topic, the copy that
 * counts (bridge/interest.c), its payload checked to be a message a node
 * renders (proto/render.h), then published under the lock through
 * shm/publish.c like any worker's publish, flagged RING_REMOTE so that it
 * is never forwarded again, and the workers with subscribers noted in
 * b->wake_mask. What is not a node's message is counted as malformed and
 * dropped (logged at most once a second); the link stays.
 * Must not write to NATS.
 */
#ifndef JANUSD_BRIDGE_INBOUND_H
#define JANUSD_BRIDGE_INBOUND_H

#include "proto/nats.h"

/* inbound_msg - a nats_op_fn for MSG (ctx: the bridge). Returns 0: a bad message never stops the link. */
int inbound_msg(void *ctx, const struct nats_op *op);

#endif
