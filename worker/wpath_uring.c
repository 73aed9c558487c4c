/*
 * worker/wpath_uring.c - the io_uring write path.
 *
 * Owns: the worker's io_uring instance (worker/uring.h) and the batches
 * posted to it. A fan-out batch posted for a subscriber becomes one SEND
 * or SENDMSG entry pointing at the batch's iovecs, the same ring bytes
 * and per-topic heads every subscriber of the chunk shares; settle
 * submits them, WPATH_URING_ENTRIES at a time, and reaps every
 * completion right after its submit, handing each result on to done
 * exactly as send(2) would have returned it. Replies and cursors go
 * through send(2) (wpath_send.c): they are one write for one connection,
 * and measured they gain nothing from a ring.
 * On a kernel that cannot be trusted with the ring any more (a submit
 * that keeps failing, completions dropped) the worker switches to
 * send(2): entries the kernel never took are written with send(2), one it
 * took without a completion is reported failed (its bytes are unknown).
 * Must not read or change a connection's output state.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "worker/uring.h"
#include "worker/wpath.h"

#define WPATH_URING_ENTRIES 2048   /* the SQ; posts beyond it settle what came before */
#define WPATH_URING_TRIES 8        /* submits after -EAGAIN or -EBUSY before giving up the ring */

/* One posted batch: c is NULL once its completion was handed on. */
struct wpath_post {
	struct conn *c;
	const struct batch *b;
};

struct wpath_ring {
	struct uring u;
	struct worker *w;            /* during settle: what completions are handed to */
	wpath_done_fn *done;
	unsigned n;                  /* posted since the last settle */
	unsigned taken;              /* of them, taken by the kernel (it takes entries in order) */
	struct wpath_post post[WPATH_URING_ENTRIES];
};

/* wpath_uring_open - the instance, in the worker process (SINGLE_ISSUER); why says what was set up, or why not. */
static int
wpath_uring_open(struct worker *w, char *why, size_t whylen)
{
	struct wpath_ring *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		snprintf(why, whylen, "out of memory for the io_uring state");
		return -1;
	}
	if (uring_open(&r->u, WPATH_URING_ENTRIES, why, whylen) < 0) {
		free(r);
		return -1;
	}
	snprintf(why, whylen, "%u entries, setup flags 0x%x", r->u.sq_entries, r->u.flags);
	w->wring = r;
	return 0;
}

/* wpath_uring_close - the instance goes; nothing is posted. */
static void
wpath_uring_close(struct worker *w)
{
	if (w->wring == NULL)
		return;
	uring_close(&w->wring->u);
	free(w->wring);
	w->wring = NULL;
}

/* wpath_uring_one - a completion: its result to done, as send(2) would have said it. */
static void
wpath_uring_one(void *ctx, void *data, int res)
{
	struct wpath_ring *r = ctx;
	struct wpath_post *p = data;
	struct conn *c = p->c;

	p->c = NULL;
	r->done(r->w, c, res < 0 ? -1 : res, res < 0 ? -res : 0);
}

/* wpath_uring_reap - hand on every completion, waiting for those the kernel took and has not finished; 0 or -1 with why. */
static int
wpath_uring_reap(struct wpath_ring *r, char *why, size_t whylen)
{
	int k;

	for (;;) {
		if (uring_reap(&r->u, wpath_uring_one, r) == -EBADR) {
			snprintf(why, whylen, "the kernel dropped completions");
			return -1;
		}
		if (r->u.inflight == 0)
			return 0;
		if ((k = uring_wait(&r->u, r->u.inflight)) < 0 && k != -EBUSY) {
			snprintf(why, whylen, "waiting for completions: %s", strerror(-k));
			return -1;
		}
	}
}

/* wpath_uring_run - submit every posted entry and reap each submit's completions; 0 or -1 with why. */
static int
wpath_uring_run(struct wpath_ring *r, char *why, size_t whylen)
{
	unsigned tries = 0;
	int k;

	while (r->taken < r->n) {
		k = uring_submit(&r->u);
		if (k > 0) {
			r->taken += (unsigned)k;
			tries = 0;
		}
		if (wpath_uring_reap(r, why, whylen) < 0)
			return -1;
		if (k > 0)
			continue;
		/* -EAGAIN, -EBUSY: the kernel is short of memory or of completion room; reaped, try again */
		if ((k == 0 || k == -EAGAIN || k == -EBUSY) && ++tries < WPATH_URING_TRIES)
			continue;
		snprintf(why, whylen, "io_uring_enter: %s", k < 0 ? strerror(-k) : "took no entries");
		return -1;
	}
	return 0;
}

/*
 * wpath_uring_give_up - the ring cannot be trusted: close it (entries it
 * never took die with it, so none runs twice), write those with send(2),
 * fail those it took without completing, and use send(2) from now on.
 */
static void
wpath_uring_give_up(struct worker *w, struct wpath_ring *r, const char *why)
{
	char text[192];
	unsigned i;

	log_error("io_uring failed (%s): writing with send() from now on", why);
	uring_close(&r->u);
	w->wring = NULL;
	snprintf(text, sizeof(text), "io_uring failed: %s", why);
	wpath_use(w, &wpath_send, text);
	for (i = 0; i < r->n; i++) {
		if (r->post[i].c == NULL)
			continue;
		if (i >= r->taken)
			wpath_send.post(w, r->post[i].c, r->post[i].b, r->done);
		else
			r->done(w, r->post[i].c, -1, EIO);
	}
	free(r);
}

/* wpath_uring_settle - every posted batch submitted, its completion reaped and handed to done. */
static void
wpath_uring_settle(struct worker *w, wpath_done_fn *done)
{
	struct wpath_ring *r = w->wring;
	char why[128];

	if (r == NULL || r->n == 0)
		return;
	r->w = w;
	r->done = done;
	if (wpath_uring_run(r, why, sizeof(why)) < 0) {
		wpath_uring_give_up(w, r, why);
		return;
	}
	r->n = r->taken = 0;
}

/* wpath_uring_post - queue c's batch as one entry; a full SQ settles what came before it first. */
static void
wpath_uring_post(struct worker *w, struct conn *c, const struct batch *b, wpath_done_fn *done)
{
	struct wpath_ring *r = w->wring;
	struct wpath_post *p;
	int rc;

	if (r != NULL && r->n == WPATH_URING_ENTRIES) {
		wpath_uring_settle(w, done);
		r = w->wring;
	}
	if (r == NULL) {
		wpath_send.post(w, c, b, done);
		return;
	}
	p = &r->post[r->n];
	rc = b->niov == 1 ?
	    uring_prep_send(&r->u, c->fd, b->iov[0].iov_base, b->iov[0].iov_len, p) :
	    uring_prep_sendmsg(&r->u, c->fd, &b->mh, p);
	if (rc < 0) {
		/* only a full SQ refuses an entry, and settling emptied it: be safe all the same */
		wpath_send.post(w, c, b, done);
		return;
	}
	*p = (struct wpath_post){ c, b };
	r->n++;
}

const struct wpath wpath_uring = {
	.name = "io_uring",
	.id = SHM_WPATH_URING,
	.open = wpath_uring_open,
	.close = wpath_uring_close,
	.write = wpath_send_write,
	.writev = wpath_send_writev,
	.post = wpath_uring_post,
	.settle = wpath_uring_settle,
};
