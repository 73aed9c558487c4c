/*
 * worker/uring.c - a worker's io_uring instance through the raw kernel
 * interface.
 *
 * Owns: the instance's file descriptor, its three mappings and the ring
 * indexes. The ordering follows the kernel's ring protocol (io_uring(7),
 * and liburing's barrier.h): an SQE is written in full before the SQ tail
 * is stored with release, so the kernel never reads half an entry; the
 * CQ tail is loaded with acquire before the CQEs up to it are read, and
 * the CQ head is stored with release after they were read, so the kernel
 * never reuses a slot we still read. The kernel writes the SQ head and
 * we only compare against it, so a relaxed load does there. Must not
 * know what the sends carry or to whom.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/fault.h"
#include "lib/log.h"
#include "worker/uring.h"

#define URING_SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL)
#define URING_PROBE_OPS 256

/* uring_sysctl_disabled - the value of kernel.io_uring_disabled (6.6), or -1 where there is none. */
static int
uring_sysctl_disabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	int v = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* uring_hint - the likely cause of io_uring_setup failing with err. */
static void
uring_hint(int err, char *hint, size_t len)
{
	struct rlimit rl;
	int disabled;

	hint[0] = '\0';
	switch (err) {
	case ENOSYS:
		snprintf(hint, len, " (a kernel without io_uring, or a seccomp filter)");
		break;
	case EPERM:
		disabled = uring_sysctl_disabled();
		if (disabled > 0)
			snprintf(hint, len, " (kernel.io_uring_disabled=%d)", disabled);
		else
			snprintf(hint, len, " (a seccomp filter or security module)");
		break;
	case ENOMEM:
		if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
			snprintf(hint, len, " (RLIMIT_MEMLOCK is %llu bytes; kernels before 5.12 charge the rings to it)",
			    (unsigned long long)rl.rlim_cur);
		break;
	case EINVAL:
		snprintf(hint, len, " (entries must be 1 to 32768)");
		break;
	}
}

/* uring_setup - io_uring_setup(2), retried without flags the kernel does not know. */
static int
uring_setup(unsigned entries, unsigned flags, struct io_uring_params *p)
{
	int fd;

	if (fault_fail("uring_setup", NULL)) {
		errno = EPERM;
		return -1;
	}
	memset(p, 0, sizeof(*p));
	p->flags = flags;
	fd = (int)syscall(__NR_io_uring_setup, entries, p);
	if (fd < 0 && errno == EINVAL && flags != 0) {
		memset(p, 0, sizeof(*p));
		fd = (int)syscall(__NR_io_uring_setup, entries, p);
	}
	return fd;
}

/* uring_map - mmap one region of the instance; NULL (errno set) on failure. */
static void *
uring_map(int fd, size_t len, off_t off)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off);

	return m == MAP_FAILED ? NULL : m;
}

/*
 * uring_mmap - map the SQ ring, the CQ ring (the same mapping where the
 * kernel offers IORING_FEAT_SINGLE_MMAP, 5.4) and the SQE array, and
 * point the indexes into them. 0, or -1 with errno set.
 */
static int
uring_mmap(struct uring *u, const struct io_uring_params *p)
{
	char *sq, *cq;
	unsigned i;

	u->ring_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
	u->cq_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
	if (p->features & IORING_FEAT_SINGLE_MMAP) {
		if (u->cq_len > u->ring_len)
			u->ring_len = u->cq_len;
		u->cq_len = 0;
	}
	if ((u->ring_map = uring_map(u->fd, u->ring_len, IORING_OFF_SQ_RING)) == NULL)
		return -1;
	if (u->cq_len != 0 && (u->cq_map = uring_map(u->fd, u->cq_len, IORING_OFF_CQ_RING)) == NULL)
		return -1;
	u->sqe_len = p->sq_entries * sizeof(struct io_uring_sqe);
	if ((u->sqe_map = uring_map(u->fd, u->sqe_len, IORING_OFF_SQES)) == NULL)
		return -1;
	sq = u->ring_map;
	cq = u->cq_map != NULL ? u->cq_map : u->ring_map;
	u->sq_head = (_Atomic unsigned *)(sq + p->sq_off.head);
	u->sq_tail = (_Atomic unsigned *)(sq + p->sq_off.tail);
	u->sq_flags = (_Atomic unsigned *)(sq + p->sq_off.flags);
	u->sq_array = (unsigned *)(sq + p->sq_off.array);
	u->sq_mask = *(unsigned *)(sq + p->sq_off.ring_mask);
	u->sq_entries = *(unsigned *)(sq + p->sq_off.ring_entries);
	u->sqes = u->sqe_map;
	u->cq_head = (_Atomic unsigned *)(cq + p->cq_off.head);
	u->cq_tail = (_Atomic unsigned *)(cq + p->cq_off.tail);
	u->cq_mask = *(unsigned *)(cq + p->cq_off.ring_mask);
	u->cq_entries = *(unsigned *)(cq + p->cq_off.ring_entries);
	u->cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
	/* SQ slot i always names SQE i: entries are used in ring order. */
	for (i = 0; i < u->sq_entries; i++)
		u->sq_array[i] = i;
	u->sq_next = atomic_load_explicit(u->sq_tail, memory_order_relaxed);
	return 0;
}

/* uring_probe - whether the kernel supports SEND and SENDMSG; 0, or -1 with why set. */
static int
uring_probe(struct uring *u, char *why, size_t whylen)
{
	static const struct { unsigned op; const char *name; } need[] = {
		{ IORING_OP_SENDMSG, "IORING_OP_SENDMSG" }, { IORING_OP_SEND, "IORING_OP_SEND" },
	};
	struct io_uring_probe *pr;
	size_t i;
	int r = 0;

	pr = calloc(1, sizeof(*pr) + URING_PROBE_OPS * sizeof(pr->ops[0]));
	if (pr == NULL) {
		snprintf(why, whylen, "no memory for the io_uring probe");
		return -1;
	}
	if (syscall(__NR_io_uring_register, u->fd, IORING_REGISTER_PROBE, pr, URING_PROBE_OPS) < 0) {
		snprintf(why, whylen, "io_uring_register(IORING_REGISTER_PROBE) failed: %s%s", strerror(errno),
		    errno == EINVAL ? " (a kernel before 5.6)" : "");
		r = -1;
	}
	for (i = 0; r == 0 && i < sizeof(need) / sizeof(need[0]); i++) {
		if (need[i].op > pr->last_op || !(pr->ops[need[i].op].flags & IO_URING_OP_SUPPORTED)) {
			snprintf(why, whylen, "the kernel's io_uring does not support %s", need[i].name);
			r = -1;
		}
	}
	free(pr);
	return r;
}

int
uring_open(struct uring *u, unsigned entries, char *why, size_t whylen)
{
	return uring_open_flags(u, entries, URING_FLAGS, why, whylen);
}

int
uring_open_flags(struct uring *u, unsigned entries, unsigned flags, char *why, size_t whylen)
{
	struct io_uring_params p;
	char hint[128];

	memset(u, 0, sizeof(*u));
	if ((u->fd = uring_setup(entries, flags, &p)) < 0) {
		uring_hint(errno, hint, sizeof(hint));
		snprintf(why, whylen, "io_uring_setup(%u entries) failed: %s%s", entries, strerror(errno), hint);
		return -1;
	}
	u->flags = p.flags;
	u->features = p.features;
	if (!(p.features & IORING_FEAT_NODROP)) {
		snprintf(why, whylen, "the kernel's io_uring may drop completions (no IORING_FEAT_NODROP: before 5.5)");
		uring_close(u);
		return -1;
	}
	if (uring_mmap(u, &p) < 0) {
		snprintf(why, whylen, "mmap of the io_uring rings failed: %s", strerror(errno));
		uring_close(u);
		return -1;
	}
	if (uring_probe(u, why, whylen) < 0) {
		uring_close(u);
		return -1;
	}
	return 0;
}

void
uring_close(struct uring *u)
{
	if (u->sqe_map != NULL && munmap(u->sqe_map, u->sqe_len) < 0)
		log_warn("munmap(io_uring SQEs) failed: %s", strerror(errno));
	if (u->cq_map != NULL && munmap(u->cq_map, u->cq_len) < 0)
		log_warn("munmap(io_uring CQ ring) failed: %s", strerror(errno));
	if (u->ring_map != NULL && munmap(u->ring_map, u->ring_len) < 0)
		log_warn("munmap(io_uring SQ ring) failed: %s", strerror(errno));
	if (u->fd >= 0 && close(u->fd) < 0)
		log_warn("close(io_uring) failed: %s", strerror(errno));
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

unsigned
uring_queued(const struct uring *u)
{
	return u->sq_next - atomic_load_explicit(u->sq_head, memory_order_relaxed);
}

/*
 * uring_enter_min - io_uring_enter(2), waiting for min completions (0: not
 * at all), retried when a signal interrupts it. Returns what the kernel
 * returns, -errno on failure.
 */
static int
uring_enter_min(struct uring *u, unsigned submit, unsigned min, unsigned flags)
{
	long r;

	do
		r = syscall(__NR_io_uring_enter, u->fd, submit, min, flags, NULL, 0);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : (int)r;
}

/* uring_enter - io_uring_enter(2) without waiting. */
static int
uring_enter(struct uring *u, unsigned submit, unsigned flags)
{
	return uring_enter_min(u, submit, 0, flags);
}

int
uring_wait(struct uring *u, unsigned want)
{
	int r = uring_enter_min(u, 0, want, IORING_ENTER_GETEVENTS);

	if (r < 0 && r != -EBUSY)
		log_error("io_uring_enter(GETEVENTS, %u) failed: %s", want, strerror(-r));
	return r < 0 ? r : 0;
}

int
uring_submit(struct uring *u)
{
	unsigned left, done = 0;
	int r;

	/*
	 * The entries are complete: publish them to the kernel at once. What
	 * it does not take stays between its head and our tail, for the
	 * next submit.
	 */
	atomic_store_explicit(u->sq_tail, u->sq_next, memory_order_release);
	left = u->sq_next - atomic_load_explicit(u->sq_head, memory_order_relaxed);
	while (left > 0) {
		r = uring_enter(u, left, 0);
		if (r < 0) {
			if (r != -EAGAIN && r != -EBUSY)
				log_error("io_uring_enter(%u entries) failed: %s", left, strerror(-r));
			return done > 0 ? (int)done : r;
		}
		if (r == 0)
			break;
		done += (unsigned)r;
		left -= (unsigned)r;
		u->inflight += (unsigned)r;
	}
	return (int)done;
}

/*
 * uring_sqe - the next free SQE, zeroed, after submitting what is queued
 * if the ring is full. NULL with *err set if that submission failed.
 */
static struct io_uring_sqe *
uring_sqe(struct uring *u, int *err)
{
	struct io_uring_sqe *sqe;
	int r;

	if (uring_queued(u) >= u->sq_entries) {
		r = uring_submit(u);
		if (uring_queued(u) >= u->sq_entries) {
			*err = r < 0 ? r : -EBUSY;
			return NULL;
		}
	}
	sqe = &u->sqes[u->sq_next & u->sq_mask];
	memset(sqe, 0, sizeof(*sqe));
	u->sq_next++;
	return sqe;
}

/* uring_prep - queue one send entry; 0 or -errno. */
static int
uring_prep(struct uring *u, unsigned op, int fd, const void *addr, unsigned len, void *data)
{
	struct io_uring_sqe *sqe;
	int err = 0;

	if ((sqe = uring_sqe(u, &err)) == NULL)
		return err;
	sqe->opcode = (__u8)op;
	sqe->fd = fd;
	sqe->addr = (uintptr_t)addr;
	sqe->len = len;
	sqe->msg_flags = URING_SEND_FLAGS;
	sqe->user_data = (uintptr_t)data;
	return 0;
}

int
uring_prep_send(struct uring *u, int fd, const void *buf, size_t len, void *data)
{
	return uring_prep(u, IORING_OP_SEND, fd, buf, len > INT_MAX ? INT_MAX : (unsigned)len, data);
}

int
uring_prep_sendmsg(struct uring *u, int fd, const struct msghdr *msg, void *data)
{
	/* len is the number of msghdrs: one */
	return uring_prep(u, IORING_OP_SENDMSG, fd, msg, 1, data);
}

/* uring_drain - hand on every completion now in the CQ ring; how many. */
static unsigned
uring_drain(struct uring *u, uring_done_fn *done, void *ctx)
{
	unsigned head = atomic_load_explicit(u->cq_head, memory_order_relaxed);
	unsigned tail = atomic_load_explicit(u->cq_tail, memory_order_acquire);
	unsigned n = 0;
	struct io_uring_cqe *cqe;
	void *data;
	int res;

	while (head != tail) {
		cqe = &u->cqes[head & u->cq_mask];
		data = (void *)(uintptr_t)cqe->user_data;
		res = cqe->res;
		atomic_store_explicit(u->cq_head, ++head, memory_order_release);
		u->inflight--;
		n++;
		done(ctx, data, res);
	}
	return n;
}

int
uring_reap(struct uring *u, uring_done_fn *done, void *ctx)
{
	unsigned n = 0, got;
	int r;

	for (;;) {
		n += uring_drain(u, done, ctx);
		if (!(atomic_load_explicit(u->sq_flags, memory_order_relaxed) &
		    (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)))
			break;
		/* Completions wait in the kernel: have it move them into the emptied ring. */
		r = uring_enter(u, 0, IORING_ENTER_GETEVENTS);
		if (r == -EBADR) {
			uring_drain(u, done, ctx);
			log_error("io_uring dropped completions: the kernel is out of memory");
			return -EBADR;
		}
		if (r < 0 && r != -EBUSY) {
			log_error("io_uring_enter(GETEVENTS) failed: %s", strerror(-r));
			break;
		}
		u->flushes++;
		if ((got = uring_drain(u, done, ctx)) == 0)
			break;
		n += got;
	}
	return (int)n;
}
