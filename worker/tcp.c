/*
 * worker/tcp.c - the Janus byte stream of 2009 as a transport.
 *
 * Owns: transport_tcp. Server frames go out exactly as the ring and the
 * renderers hold them (ending with \1), so nothing goes before a frame;
 * client frames end with \0 and proto/frame.c splits them.
 * Must not know about subscriptions, cursors or the ring.
 */
#include "config.h"

#include "proto/render.h"
#include "worker/transport.h"

static enum frame_result
tcp_feed(struct worker *w, struct conn *c, char *data, size_t len, frame_fn fn, void *ctx)
{
	return framer_feed(&c->in.frames, data, len, w->conf.max_frame, fn, ctx);
}

static size_t
tcp_pending(const struct conn *c)
{
	return framer_pending(&c->in.frames);
}

static size_t
tcp_held(const struct conn *c)
{
	return c->in.frames.cap;
}

static const char *
tcp_eof_frame(const struct conn *c, size_t *len)
{
	*len = framer_pending(&c->in.frames);
	return *len > 0 ? c->in.frames.part : NULL;
}

static void
tcp_release(struct conn *c)
{
	framer_free(&c->in.frames);
}

const struct transport transport_tcp = {
	.name = "tcp",
	.head = NULL,
	.keep_end = 1,
	.ping = RENDER_PING,
	.ping_len = sizeof(RENDER_PING) - 1,
	.feed = tcp_feed,
	.pending = tcp_pending,
	.held = tcp_held,
	.eof_frame = tcp_eof_frame,
	.release = tcp_release,
	.end = NULL,
	.deadline = TRANSPORT_FRAME_TIMEOUT,
	.json_only = 0,
	.speaks_first = 1,
};
