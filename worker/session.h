/*
 * worker/session.h - a client's session: from accept to free.
 *
 * Owns: accepting connections, the input side (reading, splitting into
 * frames through the connection's transport, acting on each request),
 * the unfinished-frame deadlines, and freeing closed connections at the
 * end of each loop pass. A client's error closes that client only;
 * nothing here may end the worker.
 * Must not write to a socket itself: worker/deliver.h does all output.
 */
#ifndef JANUSD_WORKER_SESSION_H
#define JANUSD_WORKER_SESSION_H

#include "worker/state.h"
#include "worker/transport.h"

/* session_init - the worker's session lists and buffers; 0 or -1. */
int session_init(struct worker *w);

/*
 * session_accept - take the connections queued on listening socket lfd
 * (a bounded number per pass), each speaking transport tp.
 */
void session_accept(struct worker *w, int lfd, const struct transport *tp);

/* session_readable - read and act on what c sent; hup: the peer hung up (EOF waits behind the data). */
void session_readable(struct worker *w, struct conn *c, int hup);

/* session_read_more - the connections that had more input than one pass reads. */
void session_read_more(struct worker *w);

/* session_discard - while draining: read and drop input, so that close() does not reset. */
void session_discard(struct worker *w, struct conn *c);

/* session_deadlines - close connections whose unfinished frame is overdue. */
void session_deadlines(struct worker *w);

/* session_next_ms - ms until the next frame deadline (at most cap); 0 while input waits on the read budget. */
int session_next_ms(const struct worker *w, int cap);

/*
 * session_paced - after a pass: the publishes that waited for reading
 * subscribers are tried again, and what their connections sent after
 * them follows in order; past pace_timeout they go all the same.
 */
void session_paced(struct worker *w);

/* session_reap - free the connections closed during this pass. */
void session_reap(struct worker *w);

/* session_close_all - the worker stops: close and free every connection. */
void session_close_all(struct worker *w);

#endif
