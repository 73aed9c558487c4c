/*
 * bridge/outbound.h - this node's messages, from the ring to NATS.
 *
 * Owns: the bridge's position in the ring (b->done, mirrored in the
 * segment so that a respawned bridge goes on where the last one stopped)
 * and publishing every record not flagged RING_REMOTE: subject
 * cluster_prefix + the encoded topic (proto/subject.h), payload the
 * record's bytes without the final \1, which is what a subscriber on
 * this node receives before its \1. The ring is read like a worker reads
 * it: no lock, nothing asked of any worker. What the ring gives up
 * before it is forwarded (the link is down or NATS is slow) is counted
 * and logged once per episode.
 * Must not read from NATS or change subscriptions.
 */
#ifndef JANUSD_BRIDGE_OUTBOUND_H
#define JANUSD_BRIDGE_OUTBOUND_H

#include "bridge/state.h"

/* outbound_init - the scratch, and the position the last bridge left. 0 or -1. */
int outbound_init(struct bridge *b);

/*
 * outbound_run - forward new records while the link takes them, up to a
 * budget per loop pass (b->more is set when the budget stopped it).
 */
void outbound_run(struct bridge *b);

#endif
