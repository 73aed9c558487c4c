/*
 * worker/conn.h - a connection's identity, rights and end.
 *
 * Owns: naming a connection for logs, what its address may do, and
 * closing it. Closing is deferred: conn_close marks the connection,
 * closes its descriptor at once and puts it on the worker's dead list;
 * its memory is freed at the end of the loop pass (session_reap), so
 * code that walks subscriber arrays never sees them change under it,
 * and any file may close a connection without calling up the stack.
 * Must not call other worker files: everything above may call this.
 */
#ifndef JANUSD_WORKER_CONN_H
#define JANUSD_WORKER_CONN_H

#include <stddef.h>

#include "worker/state.h"

/* conn_name - "ADDR:PORT" (or "[ADDR]:PORT") for logs. */
const char *conn_name(const struct conn *c, char *buf, size_t cap);

/* conn_acl - what the client's address may do, from the live settings. */
void conn_acl(const struct worker *w, struct conn *c);

/* conn_close - close c now (logging why) and free it at the end of the pass; once only. */
void conn_close(struct worker *w, struct conn *c, const char *why);

/* What a client can be refused, each with its counter in struct shm_stats. */
enum refusal {
	REFUSE_CONNS_ADDR,         /* max_conns_per_ip */
	REFUSE_QUOTA,              /* max_topics_per_ip */
	REFUSE_TABLE_FULL,         /* every topic pinned */
	REFUSE_BAD_KEY,            /* a wrong publish_key */
	REFUSE_KEY_DELAY,          /* a key from an address still waiting after wrong ones */
	REFUSE_FRAME_MEMORY,       /* max_frame_memory */
	REFUSE_MEMBERS,            /* a publish repeating a member or writing a server's one */
	REFUSE_KINDS
};

/*
 * conn_refused - count a refusal of c and log it at notice: at most once
 * per CONN_LOG_EVERY_MS per reason and address, the next line saying how
 * many were not logged, so a flood of refusals cannot flood the log.
 */
void conn_refused(struct worker *w, const struct conn *c, enum refusal why, const char *text);

#define CONN_LOG_EVERY_MS 10000

#endif
