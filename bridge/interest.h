/*
 * bridge/interest.h - which subjects the bridge subscribes to on NATS.
 *
 * Owns: struct interest: one NATS subscription per subject, for each
 * topic (and each Part 4 pattern the table holds) that a worker of this
 * node pins in the shared topic table. Nothing is subscribed for a topic
 * nobody here reads, so NATS carries a topic's traffic only to the nodes
 * that want it. The pin log (shm/pinlog.h) says which ids changed; each
 * is then compared with the table as it is now, so a lost event costs a
 * scan of the table, never a wrong subscription. A subject nobody wants
 * any more is unsubscribed only after cluster_linger, so churn does not
 * flap. NATS delivers one copy of a message per matching subscription;
 * interest_accepts picks the one that counts.
 * Must not put anything into the ring or write to the socket except
 * through bridge/link.h.
 */
#ifndef JANUSD_BRIDGE_INTEREST_H
#define JANUSD_BRIDGE_INTEREST_H

#include <stddef.h>
#include <stdint.h>

#include "bridge/state.h"

/* interest_init - empty tables; the first interest_poll reads the whole topic table. 0 or -1. */
int interest_init(struct bridge *b);

/* interest_poll - take the pin log's news (or scan the table) and SUB what became wanted. */
void interest_poll(struct bridge *b);

/* interest_timers - UNSUB what nobody has wanted for cluster_linger. */
void interest_timers(struct bridge *b);

/* interest_next_ms - ms until the next UNSUB is due (at most cap). */
int interest_next_ms(const struct bridge *b, int cap);

/* interest_resend - the link is up (again): SUB every wanted subject; what only lingered is forgotten. */
void interest_resend(struct bridge *b);

/*
 * interest_accepts - whether a MSG on subject (for topic) that came
 * through subscription sid is the copy to take: sid is the lowest of the
 * current subscriptions matching it (the subject's own, and patterns).
 * A MSG through a subscription already dropped is not taken.
 */
int interest_accepts(struct bridge *b, const char *subject, size_t slen, const char *topic,
    size_t tlen, uint64_t sid);

#endif
