/*
 * t/uring_basic.c - unit test for worker/uring.c, the raw io_uring layer.
 *
 * Owns: batches of SEND and SENDMSG entries to Unix socketpairs and
 * loopback TCP pairs, checked byte for byte on the far side; a batch far
 * larger than the submission ring and than the completion ring (the
 * kernel holds the overflow); short completions from a socket with tiny
 * buffers whose peer does not read, whose bytes must arrive as the prefix
 * of what was asked, in order; -EAGAIN, -EPIPE and -EBADF completions;
 * and the failure reports of uring_open. Skips when the kernel offers no
 * io_uring, saying why.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "t/tap.h"
#include "t/tlib.h"
#include "worker/uring.h"

#define NPAIRS 1200            /* Unix pairs: many times the small ring's SQ and CQ */
#define NTCP 300               /* loopback TCP pairs */
#define SMALL_ENTRIES 32
#define MSG_MAX 256
#define BIG (4u << 20)         /* a send no tiny socket takes whole */
#define WAIT_MS 5000

/* One entry's completion as the test saw it. */
struct slot {
	int res;
	int seen;
};

static struct slot slots[NPAIRS];
static int unix_fds[NPAIRS][2];
static int tcp_fds[NTCP][2];
static char msgs[NPAIRS][MSG_MAX];
static char big[BIG], got[BIG];

/* on_done - the completion callback: note the result in the entry's slot. */
static void
on_done(void *ctx, void *data, int res)
{
	struct slot *s = data;

	s->res = res;
	s->seen++;
	(*(unsigned *)ctx)++;
}

/* pattern - len bytes of a pattern that differs by seed and by position. */
static void
pattern(char *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (char)('a' + (seed * 7 + i * 13 + i / 26) % 26);
}

/* msg_len - the length of message i: varied, 10 to MSG_MAX bytes. */
static size_t
msg_len(unsigned i)
{
	return 10 + (i * 37) % (MSG_MAX - 10);
}

/* slots_clear - forget the completions of n slots. */
static void
slots_clear(unsigned n)
{
	memset(slots, 0, n * sizeof(slots[0]));
}

/* read_all - read want bytes from fd (non-blocking) into buf, waiting up to WAIT_MS; the bytes read. */
static size_t
read_all(int fd, char *buf, size_t want)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t end = tlib_ms() + WAIT_MS;
	size_t have = 0;
	ssize_t n;

	while (have < want && tlib_ms() < end) {
		n = read(fd, buf + have, want - have);
		if (n > 0)
			have += (size_t)n;
		else if (n == 0)
			break;
		else if (errno == EAGAIN)
			poll(&pfd, 1, 100);
		else if (errno != EINTR)
			break;
	}
	return have;
}

/* quiet - whether nothing more is readable on fd: the far side got no extra bytes. */
static int
quiet(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

/*
 * check_sends - after n entries with slots[i] and messages msgs[i] to
 * fds[i][0]: each completed once with its whole length, and fds[i][1]
 * holds exactly those bytes. Returns how many did not.
 */
static unsigned
check_sends(int (*fds)[2], unsigned n, size_t (*len_of)(unsigned))
{
	char buf[MSG_MAX];
	unsigned i, bad = 0;
	size_t len;

	for (i = 0; i < n; i++) {
		len = len_of(i);
		if (slots[i].seen != 1 || slots[i].res != (int)len ||
		    read_all(fds[i][1], buf, len) != len || memcmp(buf, msgs[i], len) != 0 ||
		    !quiet(fds[i][1])) {
			if (bad++ < 3)
				tap_diag("entry %u: seen %d, res %d, want %zu bytes", i, slots[i].seen,
				    slots[i].res, len);
		}
	}
	return bad;
}

/* fd_room - the descriptors the test needs, raising the soft limit if it must. */
static int
fd_room(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < need && rl.rlim_max >= need) {
		rl.rlim_cur = need;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur >= need;
}

/* open_pairs - the Unix and TCP pairs; bails out if the system will not make them. */
static void
open_pairs(void)
{
	unsigned i, port;
	int lfd;

	for (i = 0; i < NPAIRS; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, unix_fds[i]) < 0)
			tap_bail("socketpair() failed: %s", strerror(errno));
	if ((lfd = tc_listen(&port)) < 0)
		tap_bail("no loopback listener");
	for (i = 0; i < NTCP; i++)
		if (tc_pair(lfd, port, tcp_fds[i], 0, 0) < 0)
			tap_bail("no loopback TCP pair %u", i);
	close(lfd);
	for (i = 0; i < NPAIRS; i++)
		pattern(msgs[i], MSG_MAX, i);
}

/* test_batch - one batch smaller than the ring: one submit takes it all. */
static void
test_batch(struct uring *u)
{
	unsigned i, n = u->sq_entries < 200 ? u->sq_entries : 200, done = 0;
	int fails = 0;

	slots_clear(n);
	for (i = 0; i < n; i++)
		fails += uring_prep_send(u, unix_fds[i][0], msgs[i], msg_len(i), &slots[i]) != 0;
	tap_is_int(uring_queued(u), n, "%u sends queued", n);
	tap_is_int(uring_submit(u), n, "one submit takes all %u", n);
	tap_is_int(uring_reap(u, on_done, &done), n, "reaping right after the submit finds every completion");
	tap_is_int(check_sends(unix_fds, n, msg_len) + (unsigned)fails, 0,
	    "each Unix socket got exactly its bytes; each completion came once with the length");
	tap_ok(done == n && u->inflight == 0 && uring_queued(u) == 0, "nothing left in flight or queued");
}

/*
 * test_overflow - NPAIRS sends into a ring of SMALL_ENTRIES, reaped only at
 * the end: preparing submits each time the SQ is full, and the kernel must
 * hold the completions the CQ has no room for until uring_reap asks.
 * Kernels before 5.19 may refuse a submit with -EBUSY meanwhile; the
 * caller then reaps and tries again, as uring.h says.
 */
static void
test_overflow(void)
{
	struct uring s;
	char why[256];
	unsigned i, done = 0, peak = 0, busy = 0;
	int fails = 0, r;

	if (uring_open(&s, SMALL_ENTRIES, why, sizeof(why)) < 0) {
		tap_diag("%s", why);
		tap_bail("a second, small instance cannot be set up");
	}
	tap_diag("small ring: %u SQ entries, %u CQ entries", s.sq_entries, s.cq_entries);
	slots_clear(NPAIRS);
	for (i = 0; i < NPAIRS; i++) {
		while ((r = uring_prep_send(&s, unix_fds[i][0], msgs[i], msg_len(i), &slots[i])) == -EBUSY &&
		    busy++ < NPAIRS)
			uring_reap(&s, on_done, &done);
		if (r != 0 && fails++ < 3)
			tap_diag("prep %u: %s", i, strerror(-r));
		peak = s.inflight > peak ? s.inflight : peak;
	}
	tap_is_int(fails, 0, "%u sends prepared on a ring of %u, submitting whenever it is full", NPAIRS, s.sq_entries);
	r = uring_submit(&s);
	tap_ok(r > 0 && r <= (int)s.sq_entries, "the last submit takes the rest (%d)", r);
	peak = s.inflight > peak ? s.inflight : peak;
	tap_ok(peak > s.cq_entries, "up to %u in flight, more than the CQ holds (%u submits refused with -EBUSY)",
	    peak, busy);
	uring_reap(&s, on_done, &done);
	tap_is_int(done, NPAIRS, "reaping gets every completion, overflowed ones too");
	tap_ok(s.flushes > 0, "it had the kernel flush its overflow (%lu times)", s.flushes);
	tap_is_int(check_sends(unix_fds, NPAIRS, msg_len), 0, "each socket got exactly its bytes; each completion once");
	tap_is_int(uring_reap(&s, on_done, &done), 0, "a second reap finds nothing");
	uring_close(&s);
}

/* msg_100 - the floor's message size. */
static size_t
msg_100(unsigned i)
{
	return 100;
}

/* test_tcp - SEND to each TCP pair, SENDMSG of four pieces to each, then one msghdr for all. */
static void
test_tcp(struct uring *u)
{
	static struct iovec iov[NTCP][4];
	static struct msghdr mh[NTCP];
	static const size_t cut[4] = { 0, 7, 40, 41 };  /* a 1-byte piece, and ragged ends */
	char buf[MSG_MAX];
	unsigned i, k, done = 0, bad = 0, sent;
	size_t total = 77;

	slots_clear(NTCP);
	for (i = 0; i < NTCP; i++)
		uring_prep_send(u, tcp_fds[i][0], msgs[i], 100, &slots[i]);
	sent = (unsigned)uring_submit(u);
	while (done < sent && uring_reap(u, on_done, &done) > 0)
		;
	tap_is_int(check_sends(tcp_fds, NTCP, msg_100), 0, "%u TCP sockets got exactly their 100 bytes", NTCP);

	slots_clear(NTCP);
	memset(mh, 0, sizeof(mh));
	for (i = 0; i < NTCP; i++) {
		for (k = 0; k < 4; k++) {
			iov[i][k].iov_base = msgs[i] + cut[k];
			iov[i][k].iov_len = (k < 3 ? cut[k + 1] : total) - cut[k];
		}
		mh[i].msg_iov = iov[i];
		mh[i].msg_iovlen = 4;
		uring_prep_sendmsg(u, tcp_fds[i][0], &mh[i], &slots[i]);
	}
	done = 0;
	sent = (unsigned)uring_submit(u);
	while (done < sent && uring_reap(u, on_done, &done) > 0)
		;
	for (i = 0; i < NTCP; i++)
		if (slots[i].seen != 1 || slots[i].res != (int)total ||
		    read_all(tcp_fds[i][1], buf, total) != total || memcmp(buf, msgs[i], total) != 0)
			bad++;
	tap_is_int(bad, 0, "SENDMSG of 4 iovecs: each TCP socket got the %zu bytes joined, in order", total);

	/* As a fan-out pass would: one msghdr for every subscriber at the same place. */
	slots_clear(NTCP);
	for (i = 0; i < NTCP; i++)
		uring_prep_sendmsg(u, tcp_fds[i][0], &mh[0], &slots[i]);
	done = 0;
	sent = (unsigned)uring_submit(u);
	while (done < sent && uring_reap(u, on_done, &done) > 0)
		;
	for (i = 0, bad = 0; i < NTCP; i++)
		if (slots[i].seen != 1 || slots[i].res != (int)total ||
		    read_all(tcp_fds[i][1], buf, total) != total || memcmp(buf, msgs[0], total) != 0 ||
		    !quiet(tcp_fds[i][1]))
			bad++;
	tap_is_int(bad, 0, "one msghdr shared by %u SENDMSG entries: each socket got the same %zu bytes", NTCP, total);
}

/* send1 - submit one entry and reap it at once; its result, or a marker if it did not complete. */
static int
send1(struct uring *u, int fd, const void *buf, size_t len, const struct msghdr *mh)
{
	unsigned done = 0;

	slots_clear(1);
	if (mh != NULL)
		uring_prep_sendmsg(u, fd, mh, &slots[0]);
	else
		uring_prep_send(u, fd, buf, len, &slots[0]);
	if (uring_submit(u) != 1 || uring_reap(u, on_done, &done) != 1 || slots[0].seen != 1)
		return -100000;
	return slots[0].res;
}

/* sendmsg3 - send1 of buf as a SENDMSG of three iovecs. */
static int
sendmsg3(struct uring *u, int fd, const char *buf, size_t len)
{
	struct iovec iov[3] = {
		{ (void *)buf, len / 3 }, { (void *)(buf + len / 3), len / 3 },
		{ (void *)(buf + 2 * (len / 3)), len - 2 * (len / 3) },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };

	return send1(u, fd, NULL, 0, &mh);
}

/*
 * fill_short - send from big + *off until the socket refuses: every
 * result must be short, the last -EAGAIN. Returns the number of short
 * writes, or -1 on a result that was neither.
 */
static int
fill_short(struct uring *u, int fd, size_t *off, int use_msg)
{
	int res, shorts = 0;

	for (;;) {
		res = use_msg ? sendmsg3(u, fd, big + *off, BIG - *off) : send1(u, fd, big + *off, BIG - *off, NULL);
		if (res == -EAGAIN)
			return shorts;
		if (res <= 0 || (size_t)res >= BIG - *off || shorts > 10000) {
			tap_diag("%s at %zu: res %d", use_msg ? "sendmsg" : "send", *off, res);
			return -1;
		}
		*off += (size_t)res;
		shorts++;
	}
}

/* writable - wait up to 10 s until fd has room again (the peer's window update may come late). */
static void
writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	if (poll(&p, 1, 10000) != 1)
		tap_diag("the socket did not become writable in 10 s");
}

/* test_short - tiny buffers, a peer that does not read: short writes, then -EAGAIN; bytes a prefix, in order. */
static void
test_short(struct uring *u)
{
	unsigned port;
	int lfd, fds[2], shorts;
	size_t off = 0, first, have;

	pattern(big, BIG, 99);
	if ((lfd = tc_listen(&port)) < 0 || tc_pair(lfd, port, fds, 4096, 4096) < 0)
		tap_bail("no loopback TCP pair with small buffers");
	close(lfd);
	shorts = fill_short(u, fds[0], &off, 0);
	tap_ok(shorts >= 1, "SEND of %u bytes to a tiny socket: %d short completions, then -EAGAIN", BIG, shorts);
	/* the peer's delayed ACKs may free room meanwhile: what is taken then is counted too */
	shorts = fill_short(u, fds[0], &off, 1);
	tap_ok(shorts >= 0, "SENDMSG to the full socket: -EAGAIN (after %d short writes as ACKs came in)", shorts);
	have = read_all(fds[1], got, off);
	tap_ok(have == off && memcmp(got, big, off) == 0 && quiet(fds[1]),
	    "the peer reads exactly the %zu bytes reported (got %zu), the prefix of what was asked, in order", off, have);
	first = off;
	writable(fds[0]);
	shorts = fill_short(u, fds[0], &off, 1);
	tap_ok(shorts >= 1, "SENDMSG of the rest in 3 iovecs: %d short completions, then -EAGAIN", shorts);
	have = read_all(fds[1], got, off - first);
	tap_ok(have == off - first && memcmp(got, big + first, have) == 0 && quiet(fds[1]),
	    "the peer then reads exactly the next %zu bytes (got %zu), in order", off - first, have);
	close(fds[0]);
	close(fds[1]);
}

/* test_errors - -EAGAIN on a full Unix socket, -EPIPE without SIGPIPE, -EBADF in a batch. */
static void
test_errors(struct uring *u)
{
	char chunk[4096];
	int fds[2], gone, bad = 0;
	unsigned i, done = 0;

	memset(chunk, 'x', sizeof(chunk));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
		tap_bail("socketpair() failed: %s", strerror(errno));
	while (send(fds[0], chunk, sizeof(chunk), MSG_DONTWAIT) > 0)
		;
	tap_is_int(send1(u, fds[0], "y", 1, NULL), -EAGAIN, "a full Unix socket completes at once with -EAGAIN");
	close(fds[1]);
	tap_is_int(send1(u, fds[0], "y", 1, NULL), -EPIPE, "a gone peer: -EPIPE, and no SIGPIPE");
	close(fds[0]);

	gone = dup(unix_fds[0][0]);
	close(gone);
	slots_clear(9);
	for (i = 0; i < 9; i++)
		uring_prep_send(u, i == 4 ? gone : unix_fds[i][0], msgs[i], msg_len(i), &slots[i]);
	tap_is_int(uring_submit(u), 9, "a batch with a closed descriptor in the middle is taken whole");
	uring_reap(u, on_done, &done);
	for (i = 0; i < 9; i++) {
		char buf[MSG_MAX];

		if (i == 4)
			bad += slots[i].seen != 1 || slots[i].res != -EBADF;
		else
			bad += slots[i].seen != 1 || slots[i].res != (int)msg_len(i) ||
			    read_all(unix_fds[i][1], buf, msg_len(i)) != msg_len(i) ||
			    memcmp(buf, msgs[i], msg_len(i)) != 0;
	}
	tap_is_int(bad, 0, "it completes with -EBADF; the 8 around it are sent");
}

/* test_open_fail - uring_open's failure reports, and the flag fallback. */
static void
test_open_fail(void)
{
	struct uring b;
	char why[256] = "";

	tap_ok(uring_open(&b, 1u << 20, why, sizeof(why)) < 0 && b.fd == -1, "an absurd entry count is refused");
	tap_ok(strstr(why, "io_uring_setup") != NULL && strstr(why, strerror(EINVAL)) != NULL &&
	    strstr(why, "32768") != NULL, "with the call, the error and the limit: %s", why);
	uring_close(&b);
	tap_ok(uring_open_flags(&b, 8, 1u << 31, why, sizeof(why)) == 0 && b.flags == 0,
	    "setup flags the kernel does not know: a plain instance instead");
	uring_close(&b);
	tap_is_int(b.fd, -1, "closed, twice, safely");
	uring_close(&b);
	if (getenv("JANUSD_FAULTS_BUILT") == NULL || strcmp(getenv("JANUSD_FAULTS_BUILT"), "yes") != 0) {
		tap_skip(1, "fault injection not built (configure --enable-fault-injection)");
		return;
	}
	setenv("JANUSD_FAULT", "uring_setup", 1);
	why[0] = '\0';
	tap_ok(uring_open(&b, 8, why, sizeof(why)) < 0 && strstr(why, strerror(EPERM)) != NULL,
	    "refused, as kernel.io_uring_disabled or seccomp would: %s", why);
	unsetenv("JANUSD_FAULT");
}

int
main(void)
{
	struct uring u;
	char why[256];

	alarm(120);
	if (uring_open(&u, 256, why, sizeof(why)) < 0)
		tap_skip_all(why);
	if (!fd_room(2 * NPAIRS + 2 * NTCP + 64))
		tap_skip_all("needs 3064 descriptors (ulimit -n)");
	tap_plan(30);
	tap_ok(u.sq_entries == 256 && u.cq_entries >= 2 * u.sq_entries,
	    "set up: %u SQ entries, %u CQ entries, setup flags %#x", u.sq_entries, u.cq_entries, u.flags);
	open_pairs();
	test_batch(&u);
	test_overflow();
	test_tcp(&u);
	test_short(&u);
	test_errors(&u);
	test_open_fail();
	uring_close(&u);
	return tap_done();
}
