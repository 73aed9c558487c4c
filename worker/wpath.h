/*
 * worker/wpath.h - how a worker's bytes reach its sockets: the write path.
 *
 * Owns: the table of functions a write path offers, chosen once per
 * worker (worker/worker.c, at start and when the io_uring setting
 * changes), and which one the worker uses now. Two exist:
 *   wpath_send.c   send(2) and sendmsg(2), one call per write, at once
 *   wpath_uring.c  fan-out batches as io_uring SENDMSG entries, queued for
 *                  every subscriber of a chunk, submitted and reaped in
 *                  batches; everything else through send(2)
 * A write path only moves bytes: worker/deliver.c owns the output state,
 * decides what to write, and accounts every result, whichever path
 * brought it, through the same code. Adding a path adds a file and a
 * table, not branches in deliver.c.
 * Must not read or change a connection's output state.
 */
#ifndef JANUSD_WORKER_WPATH_H
#define JANUSD_WORKER_WPATH_H

#include <stddef.h>
#include <sys/types.h>

#include "worker/batch.h"
#include "worker/state.h"

/*
 * What a write path calls with a posted batch's result: n bytes written
 * (possibly fewer than asked), or -1 with err as send(2) would set errno.
 */
typedef void wpath_done_fn(struct worker *w, struct conn *c, ssize_t n, int err);

struct wpath {
	const char *name;            /* "send" or "io_uring": the log and janusd -s */
	enum shm_write_path id;      /* what the worker's slot shows */
	/* open - set up in the worker process; 0, or -1 with why (logged beside "using send()") */
	int (*open)(struct worker *w, char *why, size_t whylen);
	/* close - release what open took; nothing may be posted */
	void (*close)(struct worker *w);
	/* write - n bytes to fd at once: send(2)'s result, errno set on -1 */
	ssize_t (*write)(int fd, const void *p, size_t n);
	/* writev - a batch's bytes to fd at once, the same */
	ssize_t (*writev)(int fd, const struct batch *b);
	/*
	 * post - a fan-out batch to c, written now or queued: done gets its
	 * result before post returns or at the latest in settle. b, its
	 * msghdr and the bytes it points at stay as they are until then. At
	 * most one batch per connection between post and done.
	 */
	void (*post)(struct worker *w, struct conn *c, const struct batch *b, wpath_done_fn *done);
	/* settle - every posted batch written and its done called */
	void (*settle)(struct worker *w, wpath_done_fn *done);
};

extern const struct wpath wpath_send;
extern const struct wpath wpath_uring;

/* wpath_send_write, wpath_send_writev - the send(2) path's writes, for other paths' replies and cursors. */
ssize_t wpath_send_write(int fd, const void *p, size_t n);
ssize_t wpath_send_writev(int fd, const struct batch *b);

/* wpath_use - the worker writes through wp from now on: the slot says so, the log says why. */
void wpath_use(struct worker *w, const struct wpath *wp, const char *why);

#endif
