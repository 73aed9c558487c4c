/*
 * worker/ws.c - WebSocket (RFC 6455, PROTOCOL.md Part 3) as a transport.
 *
 * Owns: transport_ws. A server frame is one unmasked text message: a
 * header, then the Janus frame without its \1, so every subscriber of a
 * record gets the same bytes (worker/batch.c builds the header once per
 * record per pass). Client text messages are Janus JSON actions; Pings
 * are answered with Pongs, a Close is echoed and ends the connection, a
 * broken rule (proto/ws.c says which) ends it with its close code.
 * Heartbeats are Pings (CONN_HB_EVERY, set at the upgrade).
 * Must not know about subscriptions, cursors or the ring.
 */
#include "config.h"

#include <string.h>

#include "lib/log.h"
#include "proto/ws.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/transport.h"

/* What a message handler needs besides the message. */
struct ws_call {
	struct worker *w;
	struct conn *c;
	frame_fn fn;
	void *ctx;
};

static size_t
ws_head(char *dst, size_t len)
{
	return ws_header(dst, WS_OP_TEXT, 1, len);
}

/* ws_end - close frame with code and why, then the connection once it is out. */
static void
ws_end(struct worker *w, struct conn *c, uint16_t code, const char *why)
{
	char frame[TRANSPORT_CLOSE_MAX];
	size_t n = ws_close_frame(frame, code, why, strlen(why));

	deliver_bytes(w, c, frame, n);
	deliver_finish(w, c, why);
}

/* ws_message - one message or control frame from the client; -1 once c is ending. */
static int
ws_message(void *arg, const struct ws_msg *m)
{
	struct ws_call *x = arg;
	char frame[WS_CONTROL_FRAME_MAX];
	size_t n;

	switch (m->op) {
	case WS_OP_TEXT:
		return x->fn(x->ctx, m->data, m->len);
	case WS_OP_PING:
		n = ws_control_frame(frame, WS_OP_PONG, m->data, m->len);
		return deliver_bytes(x->w, x->c, frame, n);
	case WS_OP_CLOSE:
		/* echo the code (none if it sent none), then the TCP connection ends */
		n = ws_close_frame(frame, m->code, NULL, 0);
		deliver_bytes(x->w, x->c, frame, n);
		deliver_finish(x->w, x->c, "WebSocket closed by the client");
		return -1;
	default:
		return 0;      /* a Pong: the read itself counted as life */
	}
}

static enum frame_result
ws_feed_in(struct worker *w, struct conn *c, char *data, size_t len, frame_fn fn, void *ctx)
{
	struct ws_call x = { w, c, fn, ctx };
	char name[64];

	switch (ws_feed(&c->in.ws, data, len, w->conf.max_frame, ws_message, &x)) {
	case WS_MORE:
		return FRAME_MORE;
	case WS_FAIL:
		log_info("client %s: WebSocket: %s (close %u)", conn_name(c, name, sizeof(name)),
		    ws_fail_text(&c->in.ws), ws_fail_code(&c->in.ws));
		ws_end(w, c, ws_fail_code(&c->in.ws), ws_fail_text(&c->in.ws));
		return FRAME_STOP;
	default:
		return FRAME_STOP;
	}
}

static size_t
ws_pending_in(const struct conn *c)
{
	return ws_pending(&c->in.ws);
}

static const char *
ws_eof_frame(const struct conn *c, size_t *len)
{
	*len = 0;
	return NULL;     /* a message is whole or it is nothing: no Part 1 publish by closing */
}

static void
ws_release(struct conn *c)
{
	ws_free(&c->in.ws);
}

const struct transport transport_ws = {
	.name = "websocket",
	.head = ws_head,
	.keep_end = 0,
	.ping = "\x89\x00",
	.ping_len = 2,
	.feed = ws_feed_in,
	.pending = ws_pending_in,
	.held = ws_pending_in,
	.eof_frame = ws_eof_frame,
	.release = ws_release,
	.end = ws_end,
	.deadline = TRANSPORT_FRAME_TIMEOUT,
	.json_only = 1,
};
