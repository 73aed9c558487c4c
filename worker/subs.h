/*
 * worker/subs.h - subscriptions: the worker's topics and who reads them.
 *
 * Owns: each connection's subscription list (c->subs), each local
 * topic's array of subscribers (w->topics, which the fan-out walks), and
 * the shared per-worker subscriber counts, so publishers wake only
 * workers that care. Resume (since/epoch) is here too.
 * Must not write to sockets except through worker/deliver.h.
 */
#ifndef JANUSD_WORKER_SUBS_H
#define JANUSD_WORKER_SUBS_H

#include "proto/request.h"
#include "worker/state.h"

/* subs_subscribe - r's subscribe: ACK (and the replay for since), or an error reply. -1 if c closed. */
int subs_subscribe(struct worker *w, struct conn *c, const struct request *r);

/* subs_unsubscribe - r's unsubscribe; takes effect at once. */
void subs_unsubscribe(struct worker *w, struct conn *c, const struct request *r);

/* subs_drop_all - c is being freed: take every subscription off it. */
void subs_drop_all(struct worker *w, struct conn *c);

#endif
