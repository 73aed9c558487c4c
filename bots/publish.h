/*
 * bots/publish.h - publishing the run's messages to a server.
 *
 * Owns: the Part 1 publish (a new connection per message, one write of
 * "<regular-socket/>\0PUBLISH\0{...}" with no trailing \0, closed at once,
 * as the 2009 bots did) and the Part 2 persistent publishers
 * ({"action":"publish",...}\0 on kept-open connections, with optional
 * "ack":true and its {"published":{"seq":N}} replies). A persistent
 * connection is non-blocking with an output buffer: frames are queued,
 * then written in as few send() calls as the socket takes, so one
 * connection carries hundreds of thousands of publishes a second and a
 * server that stops reading never blocks the parent.
 * Must not know about clients or the floor.
 */
#ifndef JANUS_BOTS_PUBLISH_H
#define JANUS_BOTS_PUBLISH_H

#include <netinet/in.h>
#include <stdint.h>

#include "bots/bots.h"
#include "bots/ipc.h"
#include "bots/msg.h"

struct pubconn {
	int fd;
	int greeted;      /* the greeting has been read */
	char *rb;         /* a reply split over reads */
	size_t rlen;
	char *out;        /* queued frames: out[ooff..olen) not written yet */
	size_t ooff, olen, ocap;
};

struct publisher {
	const struct bots_opts *o;
	struct msg_spec spec;
	struct sockaddr_in dst;
	char *buf;
	struct pubconn c[BOTS_MAX_PUBLISHERS];
	unsigned n;             /* persistent connections */
	uint64_t sent;          /* publishes written whole or queued */
	uint64_t failed;        /* publishes that could not be written */
	uint64_t acks;          /* {"published":...} replies */
	uint64_t refused;       /* {"error":...} replies */
	char first_err[IPC_ERRLEN];
};

int pub_init(struct publisher *p, const struct bots_opts *o);
/* pub_open - persistent mode: connect and register with EP as TAG + i. */
int pub_open(struct publisher *p, int ep, uint64_t tag);
/* pub_send - publish message SEQ now; sets *SEND_NS; 0, or -1 (counted). */
int pub_send(struct publisher *p, uint32_t seq, int64_t *send_ns);
/*
 * pub_queue - persistent mode: queue message SEQ, stamped SEND_NS, on
 * connection SEQ % P; pub_flush writes it. 0, or -1 (counted).
 */
int pub_queue(struct publisher *p, uint32_t seq, int64_t send_ns);
/* pub_flush - write what the sockets take; the bytes still queued. */
size_t pub_flush(struct publisher *p);
/* pub_event - epoll EVENTS on persistent connection I: replies, room to write. */
void pub_event(struct publisher *p, unsigned i, uint32_t events);
void pub_free(struct publisher *p);

#endif
