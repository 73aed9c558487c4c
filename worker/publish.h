/*
 * worker/publish.h - messages from this worker's publishers into the ring.
 *
 * Owns: the publish policy check and the one write of each message into
 * its ring record, and telling the cluster bridge (when there is one) of
 * new records and new interest. Must not deliver anything: fan-out reads
 * the ring like every worker.
 */
#ifndef JANUSD_WORKER_PUBLISH_H
#define JANUSD_WORKER_PUBLISH_H

#include "proto/request.h"
#include "worker/state.h"

/* publish_allowed - whether c may publish (its network, or the key). */
int publish_allowed(const struct worker *w, const struct conn *c);

#define PUBLISH_WAIT 1

/*
 * publish_message - put r's message in the ring; reply if asked. Returns
 * 0, -1 if c was closed, or PUBLISH_WAIT: the room is still needed by
 * reading subscribers (force: publish all the same), nothing was done.
 */
int publish_message(struct worker *w, struct conn *c, const struct request *r, int force);

/*
 * publish_interest - once per loop pass: if topics gained their first or
 * lost their last subscriber on this node since the last pass (shm's pin
 * log grew), the bridge is to be woken with the others.
 */
void publish_interest(struct worker *w);

#endif
