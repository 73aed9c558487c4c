/*
 * worker/http.c - HTTP/1.1 on the second listener (PROTOCOL.md Part 3).
 *
 * Owns: transport_http and struct http_in, the request head a
 * connection has sent so far. Each head is parsed as it grows
 * (proto/http.c), answered, and the next one pipelined behind it parsed
 * from the same bytes. /ws with a valid upgrade turns the connection
 * into a WebSocket session (worker/ws.c): 101, then the greeting as its
 * first message; whatever the client sent after the head is its first
 * WebSocket bytes. The page, /stats and /metrics answer only clients in
 * stats_allow; an upgrade with an Origin outside ws_origins is refused.
 * A head over http_head_max is 431; one not finished within
 * http_timeout is closed (worker/session.c's deadline).
 * Must not know about subscriptions, cursors or the ring.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "proto/http.h"
#include "shm/stats.h"
#include "ui/page.h"
#include "worker/conn.h"
#include "worker/deliver.h"
#include "worker/transport.h"

#define HTTP_HEAD_ROOM 1024          /* an answer's head */

/* The request head so far. */
struct http_in {
	struct http_req req;
	uint32_t len, cap;
	char buf[];
};

/* http_keep - append bytes to c's head buffer; -1 if out of memory. */
static int
http_keep(struct conn *c, const char *data, size_t len)
{
	struct http_in *h = c->in.http, *n;
	size_t want = (h != NULL ? h->len : 0) + len, cap;

	if (h == NULL || want > h->cap) {
		cap = h != NULL && h->cap * 2 > want ? h->cap * 2 : want < 512 ? 512 : want;
		if ((n = realloc(h, sizeof(*n) + cap)) == NULL)
			return -1;
		if (h == NULL)
			memset(n, 0, sizeof(*n));
		n->cap = (uint32_t)cap;
		c->in.http = h = n;
	}
	memcpy(h->buf + h->len, data, len);
	h->len += (uint32_t)len;
	return 0;
}

/* http_consume - the head of n bytes is answered: what follows it starts the next request. */
static void
http_consume(struct conn *c, size_t n)
{
	struct http_in *h = c->in.http;

	memmove(h->buf, h->buf + n, h->len - n);
	h->len -= (uint32_t)n;
	memset(&h->req, 0, sizeof(h->req));
	if (h->len == 0) {
		free(h);
		c->in.http = NULL;
	}
}

/* http_healthy - 200 while the master and every worker slot are live, else 503 (why says). */
static int
http_healthy(const struct worker *w, char *why, size_t cap)
{
	unsigned i;

	if (getppid() != w->master) {
		snprintf(why, cap, "the master is gone\n");
		return 0;
	}
	for (i = 0; i < w->nworkers; i++) {
		if (atomic_load_explicit(&w->shm->hdr->workers[i].pid, memory_order_relaxed) == 0) {
			snprintf(why, cap, "worker %u is not running\n", i);
			return 0;
		}
	}
	snprintf(why, cap, "ok\n");
	return 1;
}

/* http_body - the body of a's route into w's scratch; its type in *type; -1 if it does not fit. */
static long
http_body(struct worker *w, struct http_answer *a, const char **type)
{
	char *dst = w->http_out + HTTP_HEAD_ROOM;
	size_t cap = w->http_out_cap - HTTP_HEAD_ROOM, len;
	const char *page;

	*type = HTTP_TEXT;
	switch (a->route) {
	case HTTP_R_PAGE:
		*type = PAGE_TYPE;
		page = page_html(&len);
		if (len > cap)
			return -1;
		memcpy(dst, page, len);
		return (long)len;
	case HTTP_R_STATS:
		*type = STATS_JSON_TYPE;
		stats_snap_take(w->http_snap, w->shm, clock_wall_usec() / 1000);
		return stats_json(w->http_snap, dst, cap);
	case HTTP_R_METRICS:
		*type = STATS_METRICS_TYPE;
		stats_snap_take(w->http_snap, w->shm, clock_wall_usec() / 1000);
		return stats_metrics(w->http_snap, dst, cap);
	case HTTP_R_HEALTHZ:
		if (!http_healthy(w, dst, cap))
			http_answer_error(a, 503);
		return (long)strlen(dst);
	default:
		len = strlen(a->body);
		memcpy(dst, a->body, len < cap ? len : cap);
		return (long)(len < cap ? len : cap);
	}
}

/* http_scratch - room for an answer; -1 if none. */
static int
http_scratch(struct worker *w)
{
	if (w->http_out != NULL)
		return 0;
	w->http_out_cap = HTTP_HEAD_ROOM + WORKER_HTTP_BODY;
	w->http_out = malloc(w->http_out_cap);
	w->http_snap = malloc(sizeof(*w->http_snap));
	return w->http_out != NULL && w->http_snap != NULL ? 0 : -1;
}

/* http_send - head and body of an answer; then the connection ends unless it is kept. */
static void
http_send(struct worker *w, struct conn *c, struct http_answer *a)
{
	const char *type;
	long body, head;

	if (http_scratch(w) < 0) {
		conn_close(w, c, "out of memory for an HTTP answer");
		return;
	}
	body = http_body(w, a, &type);
	if (body < 0) {
		log_error("an HTTP answer does not fit %zu bytes", w->http_out_cap);
		http_answer_error(a, 503);
		body = http_body(w, a, &type);
	}
	head = http_render(w->http_out, HTTP_HEAD_ROOM, a, type, (size_t)body);
	if (head < 0 || deliver_bytes(w, c, w->http_out, (size_t)head) < 0 ||
	    (!a->head_only && body > 0 &&
	    deliver_bytes(w, c, w->http_out + HTTP_HEAD_ROOM, (size_t)body) < 0))
		return;
	stat_add(&w->stats->http_requests, 1);
	if (!a->keep_alive)
		deliver_finish(w, c, a->status >= 400 ? "HTTP error answered" : "HTTP answered, not kept alive");
}

/*
 * http_upgrade - 101, then the connection is a WebSocket session: its
 * heartbeats start and the greeting is its first message. rest holds
 * the n bytes the client sent after the head (its first frames).
 */
static enum frame_result
http_upgrade(struct worker *w, struct conn *c, struct http_answer *a, frame_fn fn, void *ctx)
{
	struct http_in *h = c->in.http;
	char head[HTTP_HEAD_ROOM];
	long n = http_render(head, sizeof(head), a, NULL, 0);
	uint32_t skip = h->req.head_len;
	enum frame_result r = FRAME_MORE;

	if (n < 0 || deliver_bytes(w, c, head, (size_t)n) < 0)
		return FRAME_STOP;
	c->in.http = NULL;
	memset(&c->in.ws, 0, sizeof(c->in.ws));
	c->tp = &transport_ws;
	c->flags |= CONN_HB_EVERY;
	stat_add(&w->stats->upgrades, 1);
	stat_add(&w->stats->conns_http, (uint64_t)-1);
	stat_add(&w->stats->conns_ws, 1);
	deliver_heartbeat_start(w, c);
	if (deliver_greet(w, c) < 0)
		r = FRAME_STOP;
	else if (h->len > skip)
		r = transport_ws.feed(w, c, h->buf + skip, h->len - skip, fn, ctx);
	free(h);
	return r;
}

/* http_answer - what the request in c's buffer gets; FRAME_STOP once c stops taking requests. */
static enum frame_result
http_answer(struct worker *w, struct conn *c, frame_fn fn, void *ctx)
{
	struct http_in *h = c->in.http;
	struct http_answer a;
	char name[64];

	http_decide(&h->req, h->buf, &a);
	if ((a.route == HTTP_R_PAGE || a.route == HTTP_R_STATS || a.route == HTTP_R_METRICS) &&
	    !conf_nets_match(&w->conf.stats_allow, c->family, c->addr))
		http_answer_error(&a, 403);
	if (a.route == HTTP_R_UPGRADE && (h->req.flags & HTTP_F_ORIGIN) &&
	    !conf_origin_allowed(&w->conf, h->buf + h->req.origin.off, h->req.origin.len))
		http_answer_error(&a, 403);
	if (a.status >= 400)
		log_info("client %s: HTTP %u%s%s", conn_name(c, name, sizeof(name)), a.status,
		    h->req.why != NULL ? ": " : "", h->req.why != NULL ? h->req.why : "");
	if (a.route == HTTP_R_UPGRADE)
		return http_upgrade(w, c, &a, fn, ctx);
	http_send(w, c, &a);
	if (deliver_finishing(c) || (c->flags & CONN_CLOSING))
		return FRAME_STOP;
	http_consume(c, h->req.head_len);
	return FRAME_MORE;
}

static enum frame_result
http_feed(struct worker *w, struct conn *c, char *data, size_t len, frame_fn fn, void *ctx)
{
	enum http_result r;

	if (http_keep(c, data, len) < 0) {
		conn_close(w, c, "out of memory for an HTTP head");
		return FRAME_STOP;
	}
	while (c->in.http != NULL) {
		r = http_parse(&c->in.http->req, c->in.http->buf, c->in.http->len, w->conf.http_head_max);
		if (r == HTTP_MORE)
			return FRAME_MORE;
		if (http_answer(w, c, fn, ctx) == FRAME_STOP || c->tp != &transport_http)
			return (c->flags & CONN_CLOSING) || deliver_finishing(c) ? FRAME_STOP : FRAME_MORE;
	}
	return FRAME_MORE;
}

static size_t
http_pending(const struct conn *c)
{
	return c->in.http != NULL ? c->in.http->len : 0;
}

static size_t
http_held(const struct conn *c)
{
	return c->in.http != NULL ? sizeof(*c->in.http) + c->in.http->cap : 0;
}

static const char *
http_eof_frame(const struct conn *c, size_t *len)
{
	*len = 0;
	return NULL;
}

static void
http_release(struct conn *c)
{
	free(c->in.http);
	c->in.http = NULL;
}

const struct transport transport_http = {
	.name = "http",
	.head = NULL,
	.keep_end = 1,
	.ping = NULL,
	.ping_len = 0,
	.feed = http_feed,
	.pending = http_pending,
	.held = http_held,
	.eof_frame = http_eof_frame,
	.release = http_release,
	.end = NULL,
	.deadline = TRANSPORT_HEAD_TIMEOUT,
	.json_only = 1,
};
