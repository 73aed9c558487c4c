/*
 * bridge/link.h - the bridge's connection to a NATS server.
 *
 * Owns: struct bridge_link: which server of `cluster` is in use, the
 * non-blocking connect, the handshake (the server's INFO, then CONNECT
 * with echo false, verbose false and the node's name, and a PING whose
 * PONG makes the link up), reading and parsing (proto/nats.c), PING and
 * PONG both ways, -ERR, the output buffer, and failing over: on any
 * failure the link closes and the next server is tried, at once the
 * first time, then after a wait that doubles up to cluster_reconnect.
 * Must not know what messages mean: each MSG goes to on_msg.
 *
 * The output buffer holds what could not be written at once: control
 * lines (SUB, UNSUB, PONG, ...) and the rest of a publish a full socket
 * cut short. Publishes go straight from the ring (link_writev) only when
 * it is empty (link_writable), so it never holds more than one batch of
 * them: a slow server makes the bridge stop reading the ring, not buffer.
 */
#ifndef JANUSD_BRIDGE_LINK_H
#define JANUSD_BRIDGE_LINK_H

#include <stddef.h>
#include <sys/uio.h>

#include "bridge/state.h"

/*
 * link_servers_parse - `cluster`: nats://HOST[:PORT] entries separated by
 * commas or blanks (HOST a name, an IPv4 address or [IPv6]; PORT 4222 by
 * default). 0, or -1 with a one-line reason in err.
 */
int link_servers_parse(const char *list, struct link_server *out, unsigned max,
    unsigned *n, char *err, size_t errlen);

/* link_init - the first connection is tried at once; each MSG will go to on_msg(b, op). 0 or -1. */
int link_init(struct bridge *b, nats_op_fn on_msg);

/* link_due - timers: connect when due, give up on a connection that does not come up, PING. */
void link_due(struct bridge *b);

/* link_event - epoll reported events on the link's descriptor. */
void link_event(struct bridge *b, uint32_t events);

/* link_take_up - whether the link came up since the last call (then everything must be subscribed again). */
int link_take_up(struct bridge *b);

/* link_up - whether the link is up: CONNECT was accepted. */
static inline int
link_up(const struct bridge *b)
{
	return b->link.state == SHM_LINK_UP;
}

/* link_writable - up, and nothing waits in the output buffer. */
static inline int
link_writable(const struct bridge *b)
{
	return link_up(b) && b->link.ooff == b->link.olen;
}

/* link_queue - append bytes to the output buffer (written by link_flush). 0, or -1 if the link failed. */
int link_queue(struct bridge *b, const void *p, size_t n);

/* link_queued - bytes in the output buffer, a mark for link_unqueue. */
static inline size_t
link_queued(const struct bridge *b)
{
	return b->link.olen;
}

/* link_unqueue - drop what was queued after mark (not yet written: it was queued since). */
void link_unqueue(struct bridge *b, size_t mark);

/*
 * link_writev - write iov straight to the socket (only when
 * link_writable). Returns the bytes written (maybe fewer than all, even
 * 0: the caller queues the rest), or -1 if the link failed.
 */
long link_writev(struct bridge *b, const struct iovec *iov, int n);

/* link_flush - write what the output buffer holds, as far as the socket takes it. */
void link_flush(struct bridge *b);

/* link_fail - close the link (saying why, in the log) and schedule the next attempt. */
void link_fail(struct bridge *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* link_next_ms - ms until the link's next timer (at most cap). */
int link_next_ms(const struct bridge *b, int cap);

/* link_server_name - "HOST:PORT" ("[HOST]:PORT" for IPv6) of an entry. */
const char *link_server_name(const struct link_server *s, char *buf, size_t cap);

/* link_name - the name of the server in use or next to try. */
const char *link_name(const struct bridge *b, char *buf, size_t cap);

/* link_close - at exit: close without scheduling anything. */
void link_close(struct bridge *b);

#endif
