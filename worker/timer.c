/*
 * worker/timer.c - heartbeats and unfinished-frame deadlines.
 *
 * Owns: two lists in deadline order (every deadline is now plus a fixed
 * interval, so appending keeps them sorted and each check is O(1) per
 * expired connection). Heartbeat rules: a Part 1 connection gets PING
 * once per silence of one interval, and only after it has received a
 * message (the original bots crash on an earlier PING); a version 2
 * connection gets PING after every silent interval from hello on, and is
 * closed after two intervals with nothing from it.
 * Must not read sockets.
 */
#include "config.h"

#include <stdio.h>

#include "proto/render.h"
#include "worker/worker.h"

#define TIMER_MAX_WAIT_MS 1000     /* settings and drain are checked at least this often */

void
timer_sent(struct worker *w, struct conn *c)
{
	c->last_tx = w->now;
	list_remove(&c->hb);
	list_append(&w->hb, &c->hb);
}

/*
 * timer_frame - after a read: the clock runs while a frame is unfinished,
 * and starts again for each new frame (finished says one was completed).
 */
void
timer_frame(struct worker *w, struct conn *c, int finished)
{
	if (framer_pending(&c->in) == 0 || finished)
		list_remove(&c->timeo);
	if (framer_pending(&c->in) > 0 && !list_linked(&c->timeo)) {
		c->in_since = w->now;
		list_append(&w->timeo, &c->timeo);
	}
}

/* timer_heartbeat - one connection's interval has passed in silence. */
static void
timer_heartbeat(struct worker *w, struct conn *c)
{
	list_remove(&c->hb);
	if (c->flags & (CONN_CLOSING | CONN_WDEAD))
		return;
	if (c->flags & (CONN_BEHIND | CONN_BLOCKED)) {
		timer_sent(w, c);  /* output is pending: not silent */
		return;
	}
	if (c->flags & CONN_V2) {
		if (w->now - c->last_rx >= 2 * (uint64_t)w->conf.heartbeat_ms) {
			conn_close(w, c, "version 2 client silent for two heartbeat intervals");
			return;
		}
		c->last_tx = w->now;
		list_append(&w->hb, &c->hb);
	}
	out_reply(w, c, RENDER_PING, sizeof(RENDER_PING) - 1);
}

void
timer_run(struct worker *w)
{
	struct conn *c;
	char text[96];

	while (!list_empty(&w->hb)) {
		c = list_entry(w->hb.next, struct conn, hb);
		if (c->last_tx + w->conf.heartbeat_ms > w->now)
			break;
		timer_heartbeat(w, c);
	}
	while (!list_empty(&w->timeo)) {
		c = list_entry(w->timeo.next, struct conn, timeo);
		if (c->in_since + w->conf.frame_timeout_ms > w->now)
			break;
		list_remove(&c->timeo);
		snprintf(text, sizeof(text), "frame not finished within %u ms", w->conf.frame_timeout_ms);
		out_error(w, c, ERR_BAD_FRAME, text);
		conn_close(w, c, "stalled in the middle of a frame");
	}
}

/* timer_due - ms until deadline (0 if past), capped. */
static int
timer_due(const struct worker *w, uint64_t deadline, int cap)
{
	if (deadline <= w->now)
		return 0;
	return deadline - w->now < (uint64_t)cap ? (int)(deadline - w->now) : cap;
}

int
timer_next(const struct worker *w)
{
	int t = TIMER_MAX_WAIT_MS;
	const struct conn *c;

	if (!list_empty(&w->hb)) {
		c = list_entry(w->hb.next, struct conn, hb);
		t = timer_due(w, c->last_tx + w->conf.heartbeat_ms, t);
	}
	if (!list_empty(&w->timeo)) {
		c = list_entry(w->timeo.next, struct conn, timeo);
		t = timer_due(w, c->in_since + w->conf.frame_timeout_ms, t);
	}
	if (w->drain_until != 0)
		t = timer_due(w, w->drain_until, t);
	return t;
}
