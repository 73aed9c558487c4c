/*
 * worker/wpath_send.c - the send(2) write path, and switching paths.
 *
 * Owns: the plain write path, every write one send(2) or sendmsg(2) at
 * once (a posted batch too: its result goes to done before post
 * returns), and wpath_use, which every path reaches when it starts and
 * io_uring's when it gives up. send(2) and sendmsg(2), not write(2) and
 * writev(2): they find the socket directly, without the file layer's
 * position handling, which is measurable at one call per subscriber.
 * Must not read or change a connection's output state.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "worker/wpath.h"

ssize_t
wpath_send_write(int fd, const void *p, size_t n)
{
	ssize_t r;

	do
		r = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

ssize_t
wpath_send_writev(int fd, const struct batch *b)
{
	ssize_t r;

	if (b->niov == 1)
		return wpath_send_write(fd, b->iov[0].iov_base, b->iov[0].iov_len);
	do
		r = sendmsg(fd, &b->mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

/* wpath_send_open - nothing to set up. */
static int
wpath_send_open(struct worker *w, char *why, size_t whylen)
{
	(void)w;
	(void)why;
	(void)whylen;
	return 0;
}

/* wpath_send_close - nothing to release. */
static void
wpath_send_close(struct worker *w)
{
	(void)w;
}

/* wpath_send_post - the batch goes out now, its result straight to done. */
static void
wpath_send_post(struct worker *w, struct conn *c, const struct batch *b, wpath_done_fn *done)
{
	ssize_t n = wpath_send_writev(c->fd, b);

	done(w, c, n, n < 0 ? errno : 0);
}

/* wpath_send_settle - nothing is ever left posted. */
static void
wpath_send_settle(struct worker *w, wpath_done_fn *done)
{
	(void)w;
	(void)done;
}

const struct wpath wpath_send = {
	.name = "send",
	.id = SHM_WPATH_SEND,
	.open = wpath_send_open,
	.close = wpath_send_close,
	.write = wpath_send_write,
	.writev = wpath_send_writev,
	.post = wpath_send_post,
	.settle = wpath_send_settle,
};

void
wpath_use(struct worker *w, const struct wpath *wp, const char *why)
{
	w->wp = wp;
	atomic_store(&w->me->write_path, wp->id);
	log_notice("write path: %s (%s)", wp == &wpath_send ? "send()" : wp->name, why);
}
