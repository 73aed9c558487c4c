/*
 * worker/fanout.h - from the shared ring to this worker's subscribers.
 *
 * Owns: the worker's position in the ring (w->done), the per-pass
 * scratch (struct fanout, private to fanout.c) and waking other workers
 * after this worker published. Must not parse client input, change
 * subscriptions or write to sockets itself: worker/deliver.c does.
 */
#ifndef JANUSD_WORKER_FANOUT_H
#define JANUSD_WORKER_FANOUT_H

#include "worker/state.h"

/* fanout_init - the per-pass scratch; 0 or -1. */
int fanout_init(struct worker *w);

/* fanout_run - hand every new ring record to its subscribers here. */
void fanout_run(struct worker *w);

/* fanout_wake - tell the workers (and the bridge) this pass published to that they have records. */
void fanout_wake(struct worker *w);

#endif
