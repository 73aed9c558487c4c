/*
 * bots/floor.c - --floor: the machine's own fan-out floor, no server at all.
 *
 * Owns: the listeners (one per writer, so each writer gets exactly the
 * clients I with I % W == its number), the writer processes and the frame
 * the parent hands them. A writer keeps every frame of the run in one log
 * and, per socket, how far into the log that socket has been written, so a
 * slow socket costs 16 bytes and never a copy. With --floor-uring a frame
 * goes to every socket as one io_uring SEND each, FLOOR_URING_ENTRIES
 * submitted at a time and reaped right after (the batching janusd's
 * io_uring write path does); what a full socket leaves goes out with
 * send(2) on EPOLLOUT, as without.
 * Must not count deliveries: the clients do.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bots/floor.h"
#include "bots/ipc.h"
#include "bots/util.h"
#include "worker/uring.h"

#define FLOOR_EVENTS 512
#define FLOOR_LISTEN UINT32_MAX
#define FLOOR_CTL (UINT32_MAX - 1)
#define FLOOR_BACKLOG 4096
/* after the parent's own deadline, how long a writer waits for STOP */
#define FLOOR_GRACE_NS (30 * 1000000000LL)
#define FLOOR_URING_ENTRIES 2048

struct wconn {
	int fd;           /* -1 once closed */
	int waiting;      /* registered for EPOLLOUT */
	uint64_t off;     /* bytes of the log already written to it */
};

struct writer {
	const struct bots_opts *o;
	unsigned id;
	int ep, lfd, in_fd, out_fd;
	struct wconn *c;
	unsigned n, cap;
	char *log;
	size_t len, logcap;
	struct ipc_in in;
	uint32_t accepted;
	int stop;
	int uring;        /* --floor-uring: ring is open */
	struct uring ring;
};

int
floor_listen(struct in_addr addr, uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		util_err("socket() failed: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr = addr;
	sa.sin_port = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		util_err("setsockopt() on the floor listener failed: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, FLOOR_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		util_err("bind()/listen() of the floor listener failed: %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* writer_fatal - tell the parent why this writer gives up; exit status. */
static int
writer_fatal(struct writer *w, const char *what, int err)
{
	char text[IPC_ERRLEN];

	snprintf(text, sizeof(text), "floor writer %u: %s: %s", w->id, what,
	    strerror(err));
	ipc_send(w->out_fd, IPC_ERROR, text, strlen(text) + 1);
	return BOTS_EXIT_SETUP;
}

/* writer_greet - the greeting and, in a write of its own, the ACK. */
static int
writer_greet(struct writer *w, int fd)
{
	char g[128];
	int64_t now = util_wall_us();
	long long sec = now / 1000000;
	int n;

	n = snprintf(g, sizeof(g), "{\"timestamp\":[%lld,%lld,%lld],\"token\":\"",
	    sec / 1000000, sec % 1000000, (long long)(now % 1000000));
	util_hex32(g + n, w->o->nonce);
	util_hex32(g + n + 8, w->id);
	util_hex32(g + n + 16, w->accepted);
	util_hex32(g + n + 24, util_hash(w->o->nonce, &w->accepted, 4));
	n += 32;
	memcpy(g + n, "\"}\1", 3);
	n += 3;
	/* the floor has no subscribe to wait for: the ACK says "you are in" */
	if (send(fd, g, (size_t)n, MSG_NOSIGNAL) != n ||
	    send(fd, "ACK\1", 4, MSG_NOSIGNAL) != 4)
		return -1;
	return 0;
}

/* writer_add - a new client socket joins at the end of the log. */
static int
writer_add(struct writer *w, int fd)
{
	struct epoll_event ev;
	struct wconn *nc;
	int one = 1;

	if (w->n == w->cap) {
		nc = realloc(w->c, (w->cap * 2 + 1024) * sizeof(*nc));
		if (nc == NULL)
			return -1;
		w->c = nc;
		w->cap = w->cap * 2 + 1024;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    writer_greet(w, fd) < 0) {
		/* the client sees its set-up fail and counts it */
		close(fd);
		return 0;
	}
	ev.events = 0;
	ev.data.u32 = w->n;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	w->c[w->n].fd = fd;
	w->c[w->n].waiting = 0;
	w->c[w->n].off = w->len;
	w->n++;
	w->accepted++;
	return 0;
}

/* writer_accept - accept everything queued; -1 on a fatal error. */
static int
writer_accept(struct writer *w)
{
	int fd;

	for (;;) {
		fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return 0;
			return -1;
		}
		if (writer_add(w, fd) < 0)
			return -1;
	}
}

/* writer_drop - a client went away: stop writing to it. */
static void
writer_drop(struct wconn *c)
{
	close(c->fd);
	c->fd = -1;
}

/* writer_flush - write what socket I has not got yet; the floor's hot loop. */
static void
writer_flush(struct writer *w, unsigned i)
{
	struct wconn *c = &w->c[i];
	struct epoll_event ev;
	ssize_t n;
	int want;

	while (c->off < w->len) {
		n = send(c->fd, w->log + c->off, w->len - c->off, MSG_NOSIGNAL);
		if (n > 0) {
			c->off += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		writer_drop(c);
		return;
	}
	want = c->off < w->len;
	if (want == c->waiting)
		return;
	ev.events = want ? EPOLLOUT : 0;
	ev.data.u32 = i;
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		writer_drop(c);
		return;
	}
	c->waiting = want;
}

/* writer_reaped - one SEND's completion: what it wrote, the rest with send(2) or on EPOLLOUT. */
static void
writer_reaped(void *ctx, void *data, int res)
{
	struct writer *w = ctx;
	unsigned i = (unsigned)(uintptr_t)data;

	if (w->c[i].fd < 0)
		return;
	if (res < 0 && res != -EAGAIN) {
		writer_drop(&w->c[i]);
		return;
	}
	if (res > 0)
		w->c[i].off += (uint64_t)res;
	writer_flush(w, i);
}

/* writer_ring_flush - submit what is queued and hand on every completion; -1 if the ring failed. */
static int
writer_ring_flush(struct writer *w)
{
	if (uring_queued(&w->ring) > 0 && uring_submit(&w->ring) < 0)
		return -1;
	while (w->ring.inflight > 0) {
		if (uring_reap(&w->ring, writer_reaped, w) < 0)
			return -1;
		if (w->ring.inflight > 0 && uring_wait(&w->ring, w->ring.inflight) < 0)
			return -1;
	}
	return 0;
}

/* writer_ring_frame - the new frame at OLD to every socket that had all before it, through the ring. */
static int
writer_ring_frame(struct writer *w, size_t old)
{
	unsigned i;

	for (i = 0; i < w->n; i++) {
		if (w->c[i].fd < 0 || w->c[i].off != old)
			continue;
		if (uring_queued(&w->ring) == FLOOR_URING_ENTRIES && writer_ring_flush(w) < 0)
			return -1;
		if (uring_prep_send(&w->ring, w->c[i].fd, w->log + old, w->len - old,
		    (void *)(uintptr_t)i) < 0)
			return -1;
	}
	return writer_ring_flush(w);
}

/* writer_frame - append a frame to the log and write it to every socket. */
static int
writer_frame(struct writer *w, const char *p, size_t len)
{
	size_t old = w->len;
	char *nl;
	unsigned i;

	if (w->len + len > w->logcap) {
		nl = realloc(w->log, (w->len + len) * 2);
		if (nl == NULL)
			return -1;
		w->log = nl;
		w->logcap = (w->len + len) * 2;
	}
	memcpy(w->log + w->len, p, len);
	w->len += len;
	if (w->uring)
		return writer_ring_frame(w, old);
	for (i = 0; i < w->n; i++)
		if (w->c[i].fd >= 0 && w->c[i].off == old)
			writer_flush(w, i);
	return 0;
}

/* writer_ctl - frames and STOP from the parent. */
static int
writer_ctl(struct writer *w)
{
	const char *p;
	uint32_t type;
	size_t len;
	long n;

	n = ipc_fill(w->in_fd, &w->in);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		w->stop = 1;
		return 0;
	}
	while (ipc_next(&w->in, &type, &p, &len)) {
		if (type == IPC_STOP)
			w->stop = 1;
		else if (type == IPC_MSG && writer_frame(w, p, len) < 0)
			return -1;
	}
	return 0;
}

/* writer_loop - until STOP: accept, take frames, finish slow sockets. */
static int
writer_loop(struct writer *w)
{
	struct epoll_event ev[FLOOR_EVENTS];
	int64_t hard_deadline = util_mono_ns() +
	    (int64_t)(w->o->timeout_s * 1e9) + FLOOR_GRACE_NS;
	struct wconn *c;
	int n, k;

	while (!w->stop && util_mono_ns() < hard_deadline) {
		n = epoll_wait(w->ep, ev, FLOOR_EVENTS, 1000);
		if (n < 0 && errno != EINTR)
			return writer_fatal(w, "epoll_wait() failed", errno);
		for (k = 0; k < n; k++) {
			if (ev[k].data.u32 == FLOOR_LISTEN) {
				if (writer_accept(w) < 0)
					return writer_fatal(w, "accept4() failed", errno);
			} else if (ev[k].data.u32 == FLOOR_CTL) {
				if (writer_ctl(w) < 0)
					return writer_fatal(w, w->uring ? "out of memory or io_uring failed" :
					    "out of memory", errno);
			} else {
				c = &w->c[ev[k].data.u32];
				if (c->fd < 0)
					continue;
				if (ev[k].events & (EPOLLERR | EPOLLHUP))
					writer_drop(c);
				else
					writer_flush(w, ev[k].data.u32);
			}
		}
	}
	return BOTS_EXIT_OK;
}

int
floor_main(const struct bots_opts *o, unsigned id, int lfd, int in_fd,
    int out_fd)
{
	struct epoll_event ev;
	struct writer w;
	char why[IPC_ERRLEN - 32], text[IPC_ERRLEN];

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.id = id;
	w.lfd = lfd;
	w.in_fd = in_fd;
	w.out_fd = out_fd;
	/* after fork: the ring may be for a single issuer */
	if (o->floor_uring) {
		if (uring_open(&w.ring, FLOOR_URING_ENTRIES, why, sizeof(why)) < 0) {
			snprintf(text, sizeof(text), "floor writer %u: %s", id, why);
			ipc_send(out_fd, IPC_ERROR, text, strlen(text) + 1);
			return BOTS_EXIT_SETUP;
		}
		w.uring = 1;
	}
	if ((w.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return writer_fatal(&w, "epoll_create1() failed", errno);
	ev.events = EPOLLIN;
	ev.data.u32 = FLOOR_LISTEN;
	if (epoll_ctl(w.ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return writer_fatal(&w, "epoll_ctl() failed", errno);
	ev.data.u32 = FLOOR_CTL;
	if (epoll_ctl(w.ep, EPOLL_CTL_ADD, in_fd, &ev) < 0)
		return writer_fatal(&w, "epoll_ctl() failed", errno);
	/* the process exits next; the kernel closes the sockets */
	return writer_loop(&w);
}

int
floor_publish(const struct msg_spec *s, char *buf, const int *fds,
    unsigned n, uint32_t seq, int64_t *send_ns)
{
	size_t cap = msg_cap(s), olen, flen;
	unsigned i;

	*send_ns = util_mono_ns();
	olen = msg_build(s, seq, *send_ns, buf);
	/* one timestamp per message, as a server stamps it when it accepts it */
	flen = msg_deliver(buf, olen, util_wall_us(), buf + cap);
	for (i = 0; i < n; i++) {
		if (ipc_send(fds[i], IPC_MSG, buf + cap, flen) < 0) {
			util_err("write() to floor writer %u failed: %s", i,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}
