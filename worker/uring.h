/*
 * worker/uring.h - a worker's io_uring instance, driven through the raw
 * kernel interface (io_uring_setup, io_uring_enter, mmapped rings).
 *
 * Owns: one instance: its setup, the mmapped submission and completion
 * rings and the SQE array, preparing SEND and SENDMSG entries, submitting
 * them in batches and reaping their completions, with the memory ordering
 * the kernel's ring protocol asks for. Must not know about connections:
 * an entry carries the caller's pointer, a completion hands back that
 * pointer and the kernel's result, and nothing else.
 *
 * What callers must keep to:
 * - Open the instance in the process that uses it (after fork): it may be
 *   set up for a single issuer, and a forked child would share its rings.
 * - The buffer of a send, and the msghdr, its iovec array and the bytes
 *   they point at of a sendmsg, belong to the caller until the entry's
 *   completion has been reaped: until then the kernel may read them.
 * - Every send goes with MSG_DONTWAIT | MSG_NOSIGNAL: a full socket
 *   completes at once with -EAGAIN instead of the kernel parking the
 *   entry until the socket drains, and a gone peer gives -EPIPE, not
 *   SIGPIPE. A completion's result is what send(2) would have returned:
 *   the bytes written (possibly fewer than asked: a short write) or
 *   -errno. It is passed on exactly as the kernel gave it.
 * - Keep at most one entry per socket between submit and reap: if a first
 *   send is cut short and the peer reads before the second runs, the
 *   second's bytes would follow a hole. Several pieces for one socket go
 *   in one SENDMSG.
 * - Keep fewer entries in flight than the completion ring holds (twice
 *   the entries asked for): beyond that the kernel keeps the extra
 *   completions on a list (IORING_FEAT_NODROP) until uring_reap fetches
 *   them, which works but costs a system call and memory.
 */
#ifndef JANUSD_WORKER_URING_H
#define JANUSD_WORKER_URING_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>
#include <linux/io_uring.h>

/* Setup flags newer than the 5.6 headers configure requires (values from the kernel's uapi). */
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)       /* 5.18: a failed entry does not stop the batch */
/*
 * uring_wait - wait until at least want completions are in the ring (or
 * held by the kernel) without submitting anything: for entries the
 * kernel took but has not completed yet. Returns 0 or -errno.
 */
int uring_wait(struct uring *u, unsigned want);

#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)     /* 5.19: no interrupt to run completion work */
/*
 * uring_wait - wait until at least want completions are in the ring (or
 * held by the kernel) without submitting anything: for entries the
 * kernel took but has not completed yet. Returns 0 or -errno.
 */
int uring_wait(struct uring *u, unsigned want);

#endif
#ifndef IORING_SETUP_TASKRUN_FLAG
#define IORING_SETUP_TASKRUN_FLAG (1U << 9)     /* 5.19: with COOP_TASKRUN: IORING_SQ_TASKRUN says work waits */
/*
 * uring_wait - wait until at least want completions are in the ring (or
 * held by the kernel) without submitting anything: for entries the
 * kernel took but has not completed yet. Returns 0 or -errno.
 */
int uring_wait(struct uring *u, unsigned want);

#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)   /* 6.0: only the creating task submits */
/*
 * uring_wait - wait until at least want completions are in the ring (or
 * held by the kernel) without submitting anything: for entries the
 * kernel took but has not completed yet. Returns 0 or -errno.
 */
int uring_wait(struct uring *u, unsigned want);

#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)   /* 6.1: completion work only inside io_uring_enter */
/*
 * uring_wait - wait until at least want completions are in the ring (or
 * held by the kernel) without submitting anything: for entries the
 * kernel took but has not completed yet. Returns 0 or -errno.
 */
int uring_wait(struct uring *u, unsigned want);

#endif
#ifndef IORING_SQ_TASKRUN
#define IORING_SQ_TASKRUN (1U << 2)             /* 5.19 */
/*
 * uring_wait - wait until at least want completions are in the ring (or
 * held by the kernel) without submitting anything: for entries the
 * kernel took but has not completed yet. Returns 0 or -errno.
 */
int uring_wait(struct uring *u, unsigned want);

#endif

/*
 * The setup flags uring_open asks for; a kernel that refuses them (before
 * 6.0) gets a plain instance. On 6.18 they save or cost nothing beyond
 * the noise (t/uring_measure); they are asked for what they mean: a batch
 * is taken whole even past a bad entry, completion work needs no
 * interrupt, only this process submits. Not DEFER_TASKRUN: the work it
 * defers would wait for a GETEVENTS that uring_reap makes only when the
 * kernel flags one.
 */
#define URING_FLAGS (IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | \
	IORING_SETUP_SINGLE_ISSUER)

struct uring {
	int fd;
	unsigned flags;              /* setup flags the kernel accepted */
	unsigned features;           /* IORING_FEAT_* it offers */
	/* submission ring: the kernel moves head, we move tail */
	_Atomic unsigned *sq_head, *sq_tail, *sq_flags;
	unsigned *sq_array;
	unsigned sq_mask, sq_entries;
	struct io_uring_sqe *sqes;
	unsigned sq_next;            /* tail of prepared entries; *sq_tail trails it until submit */
	/* completion ring: the kernel moves tail, we move head */
	_Atomic unsigned *cq_head, *cq_tail;
	struct io_uring_cqe *cqes;
	unsigned cq_mask, cq_entries;
	unsigned inflight;           /* submitted, completion not yet reaped */
	unsigned long flushes;       /* times uring_reap fetched completions the CQ had no room for */
	void *ring_map, *cq_map, *sqe_map;
	size_t ring_len, cq_len, sqe_len;
};

/*
 * uring_open - set up an instance with room for entries submissions at a
 * time (rounded up to a power of two by the kernel; 1 to 32768) and the
 * setup flags URING_FLAGS. Returns 0, or -1 with why saying which call
 * failed and the likely reason (io_uring missing, disabled by
 * kernel.io_uring_disabled, refused by a seccomp filter, the locked-memory
 * limit, SEND or SENDMSG not supported), for the caller to log beside
 * "using send()".
 */
int uring_open(struct uring *u, unsigned entries, char *why, size_t whylen);

/*
 * uring_open_flags - the same with the given IORING_SETUP_* flags; a
 * kernel that refuses them (EINVAL) gets a second try without any.
 * u->flags says what was accepted.
 */
int uring_open_flags(struct uring *u, unsigned entries, unsigned flags,
    char *why, size_t whylen);

/* uring_close - unmap the rings and close the instance; safe to call twice. */
void uring_close(struct uring *u);

/*
 * uring_prep_send - queue a send of len bytes (capped at INT_MAX, so a
 * completion's result always fits) from buf to fd, completing with data.
 * uring_prep_sendmsg - the same for sendmsg with msg.
 * When the submission ring is full they submit what is queued first.
 * Return 0, or -errno from that submission (nothing was queued then).
 */
int uring_prep_send(struct uring *u, int fd, const void *buf, size_t len, void *data);
int uring_prep_sendmsg(struct uring *u, int fd, const struct msghdr *msg, void *data);

/* uring_queued - entries prepared and not yet submitted. */
unsigned uring_queued(const struct uring *u);

/*
 * uring_submit - hand every queued entry to the kernel, in one
 * io_uring_enter unless the kernel takes fewer. Returns how many it took,
 * or -errno: -EAGAIN or -EBUSY (the kernel is short of memory or holds
 * completions it has no room for: reap, then submit again), anything else
 * logged. Entries not taken stay queued.
 */
int uring_submit(struct uring *u);

/* What uring_reap calls for each completion: the entry's data and result. */
typedef void uring_done_fn(void *ctx, void *data, int res);

/*
 * uring_reap - call done for every completion there is, including those
 * the kernel held back because the completion ring was full. Never waits.
 * Each completion leaves the ring before done is called, so done may
 * prepare and submit. Returns the number reaped, or -EBADR if the kernel
 * had to drop completions (it was out of memory): the sends of those are
 * unknown, and the instance should no longer be used.
 */
int uring_reap(struct uring *u, uring_done_fn *done, void *ctx);

/*
 * uring_wait - wait until at least want completions are in the ring (or
 * held by the kernel) without submitting anything: for entries the
 * kernel took but has not completed yet. Returns 0 or -errno.
 */
int uring_wait(struct uring *u, unsigned want);

#endif
