/*
 * worker/transport.h - how Janus frames look on one kind of connection.
 *
 * Owns: the table of functions a transport offers. The server side of
 * the protocol is written once, in Janus frames (PROTOCOL.md: each ends
 * with \1; ring records are stored that way); a transport says what goes
 * before a frame on its wire and whether the final \1 goes out, and how
 * its input splits into client frames. worker/deliver.c and worker/batch.c
 * frame every byte through this table, and worker/session.c feeds input
 * through it, so adding a transport adds a file (tcp.c for the 2009
 * byte stream) and a table, not branches across worker/.
 * Must not know about subscriptions, cursors or the ring.
 */
#ifndef JANUSD_WORKER_TRANSPORT_H
#define JANUSD_WORKER_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/frame.h"
#include "worker/state.h"

#define TRANSPORT_HEAD_MAX 16      /* the most bytes head() writes */
#define TRANSPORT_CLOSE_MAX 128    /* the most bytes of a transport's closing frame */

enum transport_deadline {
	TRANSPORT_FRAME_TIMEOUT = 0, /* frame_timeout */
	TRANSPORT_HEAD_TIMEOUT       /* http_timeout */
};

struct transport {
	const char *name;
	/*
	 * head - the bytes before a frame whose payload (the Janus frame,
	 * without its \1 unless keep_end) is len bytes; returns how many.
	 * NULL: nothing goes before a frame.
	 */
	size_t (*head)(char *dst, size_t len);
	int keep_end;              /* the frame's final \1 goes out too */
	const char *ping;          /* the heartbeat probe, as wire bytes */
	size_t ping_len;
	/*
	 * feed - split input into client frames for fn (proto/frame.h's
	 * contract, max_frame the limit); data may be written to. A
	 * transport that answers by itself (WebSocket control frames, HTTP)
	 * does so here, through worker/deliver.h.
	 */
	enum frame_result (*feed)(struct worker *w, struct conn *c, char *data, size_t len,
	    frame_fn fn, void *ctx);
	/* pending - bytes of an unfinished client frame held */
	size_t (*pending)(const struct conn *c);
	/* held - bytes of memory the input state holds (what max_frame_memory bounds) */
	size_t (*held)(const struct conn *c);
	/*
	 * eof_frame - the frame the end of the stream completes, or NULL
	 * (the 2009 publishers end their message by closing: PROTOCOL.md)
	 */
	const char *(*eof_frame)(const struct conn *c, size_t *len);
	/* release - free the input state (the connection is being freed) */
	void (*release)(struct conn *c);
	/*
	 * end - end the connection in the transport's own words (a WebSocket
	 * Close with a code and why), once that is out. NULL: the transport
	 * has none; the caller sends a Janus error and closes.
	 */
	void (*end)(struct worker *w, struct conn *c, uint16_t code, const char *why);
	enum transport_deadline deadline;  /* which timeout an unfinished input has */
	int json_only;             /* client frames are JSON actions only (no Part 1 words) */
	int speaks_first;          /* the server greets as soon as the connection is up (Part 1) */
};


/* transport_payload - a Janus frame's length on the wire, without any head. */
static inline size_t
transport_payload(const struct transport *tp, size_t frame_len)
{
	return tp->keep_end ? frame_len : frame_len - 1;
}

/* The 2009 protocol: client frames end with \0, server frames with \1. */
extern const struct transport transport_tcp;

/* RFC 6455: one text message per frame (worker/ws.c). */
extern const struct transport transport_ws;

/* HTTP/1.1 requests until an upgrade to transport_ws (worker/http.c). */
extern const struct transport transport_http;

#endif
